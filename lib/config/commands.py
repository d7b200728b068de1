"""``validate`` and ``schema``: the command-line faces of the configuration."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from lib.config.loader import load_config
from lib.config.models import NO_BUDGETS, Config
from lib.errors import ConfigError, ConfigErrors
from lib.notify import CHANNELS
from lib.sources import SOURCES


def warn_if_empty(config: Config) -> None:
    """A warning line on stderr when ``config`` has no budgets (``validate`` and ``check``; exit status unchanged)."""
    if not config.budgets:
        print(f"warning: {NO_BUDGETS}", file=sys.stderr)


def validate(args: argparse.Namespace) -> int:
    """Print ``ok: N budgets, M channels``, or every problem (budget, field, line) and return 2.

    No budgets is valid (exit 0) but warned about on stderr.
    """
    try:
        config = load_config(getattr(args, "config", None), environ=os.environ)
    except ConfigErrors as exc:
        source = exc.source or "configuration"
        print(f"{source}: {len(exc.errors)} problem{'s' if len(exc.errors) != 1 else ''}", file=sys.stderr)
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Fixed wording (always plural): scripts match on it.
    print(f"ok: {len(config.budgets)} budgets, {len(config.channels)} channels")
    warn_if_empty(config)
    return 0


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``budgets.yaml`` (draft 2020-12), for editors that complete YAML."""
    schema = Config.model_json_schema(mode="validation")
    _catalogue(schema["$defs"]["Budget"])
    schema["$defs"]["Channel"]["properties"]["type"]["enum"] = list(CHANNELS)  # the channel registry
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "budgets.yaml"
    schema["description"] = (
        "Budget alerts for Tencent Cloud: channels and budgets. ${VAR} expands from the environment."
    )
    return schema


def _catalogue(budget: dict[str, Any]) -> None:
    """Sources and their metrics from the source registry: each source allows its own metrics only."""
    source = budget["properties"]["source"]
    source["enum"] = list(SOURCES)
    source["description"] = "; ".join(s.description for s in SOURCES.values())
    budget["allOf"] = [
        {
            "if": {"properties": {"source": {"const": name}}, "required": ["source"]},
            "then": {
                "properties": {
                    "metric": {
                        "enum": list(plugin.metrics),
                        "description": "; ".join(
                            f"{m.name}: {m.description} ({m.unit})" for m in plugin.metrics.values()
                        ),
                    }
                }
            },
        }
        for name, plugin in SOURCES.items()
    ]


def schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema."""
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    return 0
