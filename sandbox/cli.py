"""``python -m sandbox``: the development tools' command line (``cloud``, ``demo``); never shipped.

Exit status as for ``python -m lib``: 0 ok, 1 the run finished but something failed, 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from lib.cli import port_number, run_command

COMMANDS: dict[str, str] = {
    "cloud": "sandbox.server:main",
    "demo": "sandbox.demo:main",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="The local Tencent Cloud and the demo.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("cloud", help="run the local Tencent Cloud until stopped")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port_number, default=0, help="0 picks a free port")
    p.add_argument("--scenario", help="scenario YAML (default: the bundled demo.yaml)")
    p.add_argument("--secret-id", default="AKIDSANDBOX")
    p.add_argument("--secret-key", default="sandbox-secret-key")
    p.add_argument("--data-dir", help="keep COS objects in this folder instead of memory")

    sub.add_parser("demo", help="the whole product offline: sandbox, state, chat-robot receivers")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(COMMANDS, build_parser().parse_args(argv))
