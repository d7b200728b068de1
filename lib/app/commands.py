"""``check``, ``invoke`` and ``serve``: the command-line faces of the timer and API handlers."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lib.errors import ConfigError


def _read_json(path: str, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path!r}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} file {path!r} is not UTF-8 text") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} file {path!r} is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{what} file {path!r} is nested too deeply") from exc
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ConfigError(f"{what} file {path!r} has a number too long to read") from exc


# Tencent Cloud has no billing data before EARLIEST (the API's bound too); LATEST is far enough from
# year 9999 that period and forecast arithmetic (next month, local midnight) cannot overflow.
EARLIEST = datetime(2010, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset (``--at``); a naive one is refused rather than guessed."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"--at {text!r} is not an ISO 8601 instant") from exc
    if value.tzinfo is None:
        raise ConfigError(f"--at {text!r} has no UTC offset; add one, e.g. +08:00 or Z")
    try:
        in_range = EARLIEST <= value < LATEST
    except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        in_range = False
    if not in_range:
        raise ConfigError(f"--at {text!r} is out of range: use an instant from 2010-01-01 to 9000-01-01")
    return value


def check(args: argparse.Namespace) -> int:
    from lib.app.runtime import App

    at = parse_instant(args.at) if args.at is not None else None  # --at '' is a mistake, not 'now'
    app = App.from_env(config_source=args.config)
    from lib.config.commands import warn_if_empty

    warn_if_empty(app.config)  # the result document keeps its shape: empty lists, exit 0
    result = app.run_check(at=at, dry_run=args.dry_run, trigger="cli")
    if args.json:
        # Written piece by piece: the whole text of 10,000 budgets' evaluations would be ~15 MB more at once.
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        from lib.app.report import status_table

        print(status_table(result))
    return 1 if result.failed else 0


def invoke(args: argparse.Namespace) -> int:
    event = _read_json(args.event, "event")
    context = _read_json(args.context, "context") if args.context else {}
    # The same functions the SCF entry files in handlers/ call.
    if args.handler == "timer":
        from lib.app.timer import run_timer as entry
    else:
        from lib.api import handle as entry
    result = entry(event, context)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def serve(args: argparse.Namespace) -> int:
    from lib.api.http_bridge import serve as serve_http

    return serve_http(args.host, args.port)
