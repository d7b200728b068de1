"""``make soak``: the month soak -- 4,320 ten-minute timer runs of November 2026 -- and its table of figures.

Runs ``App.run_check`` against the in-process sandbox, two webhook receivers and a local state folder, with
the clocks on each step's instant (tests/soak_support.py), and compares every accepted delivery with the
hand-worked table. Exit status 0 when everything matched within the time limit, 1 otherwise.

    python scripts/soak.py            # the whole month (must finish in under 2 minutes)
    python scripts/soak.py --fast     # the five days that `make test` runs
    python scripts/soak.py --list     # also print every delivery with the step it arrived in
    python scripts/soak.py --store cos  # state in the sandbox's COS, with COS blips (slower: ~3 min)
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.soak_support import FAST, MONTH, run_soak  # noqa: E402 - needs the path above


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], prog="scripts/soak.py")
    parser.add_argument("--fast", action="store_true", help="run the five-day window of make test")
    parser.add_argument(
        "--state-dir", help="folder to hold the state folder (default: /dev/shm when writable, else the temp dir)"
    )
    parser.add_argument(
        "--store",
        choices=("file", "cos"),
        default="file",
        help="state in a local folder (default) or the sandbox's COS",
    )
    parser.add_argument("--no-overlap", action="store_true", help="never run two function instances at once")
    parser.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds the month may take (0: no limit; default 120)"
    )
    parser.add_argument("--list", action="store_true", help="print every delivery the receivers got")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the product's log (warnings and up)")
    args = parser.parse_args(argv)
    # The faults make the product log a warning per failed call and delivery; the table says how many.
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL, format="%(name)s: %(message)s")

    start, end = FAST if args.fast else MONTH
    print(f"soak: {start:%Y-%m-%d} .. {end:%Y-%m-%d}, a timer run every 10 minutes ...", flush=True)
    report = run_soak(start, end, state_dir=args.state_dir, overlap=not args.no_overlap, store=args.store)
    if args.list:
        for d in report.deliveries:
            p = d.payload
            zone = (p.get("group") or {}).get("zone-id", "")
            level = f" {p['level']}%" if p.get("level") is not None else ""
            mark = "ok " if d.accepted else "503"
            print(f"  {d.step:%m-%d %H:%M} {mark} {d.channel:<5} {p.get('budget')} {zone} {p.get('kind')}{level} "
                  f"{p.get('status')}  {d.webhook_id}")  # fmt: skip
    print(report.table())
    problems = list(report.problems)
    # The 2-minute promise is for the month on a local folder; COS adds a dozen HTTP requests to every run.
    if not args.fast and args.store == "file" and args.time_limit and report.wall > args.time_limit:
        problems.append(f"the month took {report.wall:.1f} s, over the {args.time_limit:g} s limit")
    for problem in problems:
        print(f"  - {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
