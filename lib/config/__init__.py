"""The configuration: ``budgets.yaml`` models, units, loading from a path or COS, and its CLI commands.

The names below are imported on first use: ``lib.config.models`` alone (all a run that is handed a
``Config`` needs) then costs no YAML parser, loader or checks at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lib.config.loader import load_config, parse_config
    from lib.config.models import Budget, Channel, Config, Spike

_HOMES = {
    "Budget": "lib.config.models",
    "Channel": "lib.config.models",
    "Config": "lib.config.models",
    "Spike": "lib.config.models",
    "load_config": "lib.config.loader",
    "parse_config": "lib.config.loader",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'lib.config' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = ["Budget", "Channel", "Config", "Spike", "load_config", "parse_config"]
