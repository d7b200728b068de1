"""SCF timer trigger: one check run per tick; returns the result document (DESIGN §3.4)."""

from __future__ import annotations

from typing import Any


def main_handler(event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    from lib.startup import load_run_modules

    load_run_modules()  # on a cold start: once, with the collector paused
    from lib.app.timer import run_timer

    return run_timer(event, context)
