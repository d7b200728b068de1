"""The function instance's one ``App``: built on first use, kept warm, its configuration re-read per invocation.

Both handlers (timer and API) get their App here, so both follow one rule: the first invocation builds
it from the environment; every later one re-reads the configuration, so an edited ``budgets.yaml``
(file or COS) applies at once, and an invalid edit keeps the previous configuration in force and is
reported in the next run's errors. A build that fails is not cached: the next invocation tries again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.app.runtime import App

_lock = threading.Lock()


class _Slot:
    app: App | None = None


_slot = _Slot()


def set_app(app: App | None) -> None:
    """Use ``app`` for every following invocation (None: build one from the environment when needed)."""
    with _lock:
        _slot.app = app


def current_app() -> App | None:
    """The warm App, or None before the first invocation built one."""
    return _slot.app


def warm_app(*, reload: bool = True) -> App:
    """The instance's App: built from the environment on first use; later, its configuration re-read."""
    with _lock:
        app = _slot.app
        if app is None:
            from lib.app.runtime import App

            _slot.app = app = App.from_env()
            return app
    if reload:
        app.reload_config()
    return app


def environ() -> Mapping[str, str]:
    """The environment the App was built from (the demo's is not ``os.environ``), else the process's."""
    app = _slot.app
    return app.environ if app is not None and app.environ else os.environ
