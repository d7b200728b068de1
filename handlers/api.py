"""SCF HTTP trigger (Function URL, or a gateway's integrated request): route it, answer in the integrated form.

Synchronous invocations are not retried by SCF, and a raised exception would reach the caller with no
body we control, so ``lib.api.handle`` turns every failure into a JSON answer.
"""

from __future__ import annotations

from typing import Any


def main_handler(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    from lib.startup import load_run_modules

    load_run_modules()  # on a cold start: once, with the collector paused
    from lib.api import handle

    return handle(event, context)
