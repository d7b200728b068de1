"""Command-line parser for ``python -m lib``; each command's work lives in the module it names.

Exit status: 0 ok, 1 the run finished but something failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from lib.errors import BudgetError, ConfigError

# command -> "module:function"; imported only when the command runs, to keep startup small.
COMMANDS: dict[str, str] = {
    "check": "lib.app.commands:check",
    "invoke": "lib.app.commands:invoke",
    "serve": "lib.app.commands:serve",
    "validate": "lib.config.commands:validate",
    "schema": "lib.config.commands:schema",
    "deploy": "lib.deploy.commands:deploy",
    "undeploy": "lib.deploy.commands:undeploy",
}


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535; anything else is a usage error."""
    try:
        if not text.isascii():  # int() would read '８０' as 80
            raise ValueError(text)
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from exc
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is not in 0-65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib", description="Budget alerts for Tencent Cloud.")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only warnings and errors on stderr (default: progress too)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check", help="run one evaluation (the timer's code path)")
    p.add_argument("--config", help="configuration file or cos:// URL (default: $BUDGET_CONFIG)")
    p.add_argument("--at", help="evaluate as of this ISO 8601 instant (backtest)")
    p.add_argument("--json", action="store_true", help="print the result document")
    p.add_argument("--dry-run", action="store_true", help="send nothing and write no state")

    p = sub.add_parser("invoke", help="SCF-style local invocation of a handler")
    p.add_argument("handler", choices=["timer", "api"])
    p.add_argument("--event", required=True, help="event JSON file")
    p.add_argument("--context", help="context JSON file")

    p = sub.add_parser("serve", help="serve the API handler over local HTTP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port_number, default=8080)

    p = sub.add_parser("validate", help="check a configuration")
    p.add_argument("--config", help="configuration file or cos:// URL (default: $BUDGET_CONFIG)")

    sub.add_parser("schema", help="print the JSON Schema of the configuration")

    p = sub.add_parser("deploy", help="create or update the SCF functions, the timer and the Function URL")
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    _add_target_arguments(p)
    p.add_argument("--role", help="the functions' execution role (carrier scf.qcloud.com); default: none")
    p.add_argument("--code-bucket", metavar="BUCKET-APPID", help="COS bucket for a package too large to send inline")

    p = sub.add_parser("undeploy", help="remove what deploy created (triggers and functions)")
    _add_target_arguments(p)
    return parser


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="SCF region (default: $TENCENTCLOUD_REGION, else ap-guangzhou)")
    parser.add_argument("--namespace", default="default", help="SCF namespace (default: default)")
    parser.add_argument(
        "--stage", default="prod", help="stage: functions budget-alerts-<stage>-timer|api (default: prod)"
    )


def configure_logging(*, quiet: bool) -> None:
    """Progress and problems go to stderr, so stdout stays the command's output (JSON with --json)."""
    level = logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("lib").setLevel(level)


def run_command(commands: dict[str, str], args: argparse.Namespace) -> int:
    """Import the command's module, run it, and turn the error tree into the exit status (§3.1)."""
    configure_logging(quiet=args.quiet)
    module_name, func_name = commands[args.command].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(func(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BudgetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(COMMANDS, build_parser().parse_args(argv))
