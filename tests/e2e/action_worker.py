"""A run of the product's action machine in its own process (``python -m tests.e2e.action_worker``), so a test can
kill it with SIGKILL mid-execution. Prints the action record as JSON.

    python -m tests.e2e.action_worker record|approve|undo|resume --state DIR --endpoint URL --zone ZONE
        [--automatic] [--now ISO8601] [--by WHO]

Credentials come from ``TENCENTCLOUD_SECRET_ID`` / ``TENCENTCLOUD_SECRET_KEY``; the budget is
``traffic`` grouped by zone-id over the month of ``--now``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from lib.actions import ACTIONS, Scope, action_for
from lib.actions.machine import Machine, action_id, intent_doc
from lib.client import ApiClient, Credentials
from lib.model import Period, group_key
from lib.state.local import LocalStore
from lib.state.repo import StateRepository

TZ = ZoneInfo("Asia/Shanghai")


def month(now: datetime) -> Period:
    start = now.astimezone(TZ).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start.replace(day=28) + (start.replace(day=28) - start.replace(day=20))).replace(day=1)
    return Period(start, end)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="action_worker")
    parser.add_argument("command", choices=["record", "approve", "undo", "resume"])
    parser.add_argument("--state", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--zone", required=True)
    parser.add_argument("--automatic", action="store_true")
    parser.add_argument("--now", default=None)
    parser.add_argument("--by", default=f"run:{os.getpid()}")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(timezone.utc)
    group = group_key({"zone-id": args.zone})
    period = month(now)
    aid = action_id("traffic", group, period, "pause-zone")
    credentials = Credentials(os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"])
    with ApiClient(credentials, endpoint=args.endpoint) as client:
        repo = StateRepository(LocalStore(args.state))
        machine = Machine(repo.actions, lambda target: client, ACTIONS)
        if args.command == "record":
            intent = action_for("pause-zone").plan(Scope(dict(group), budget="traffic"))
            approval = "automatic" if args.automatic else "manual"
            doc = intent_doc(intent, budget="traffic", group=group, period=period, approval=approval, undo="manual")
            outcome = machine.record(aid, doc, by=args.by, now=now)
        elif args.command == "approve":
            outcome = machine.approve(aid, by=args.by, now=now)
        elif args.command == "undo":
            outcome = machine.undo(aid, by=args.by, now=now)
        else:
            record = repo.actions.get(aid)
            assert record is not None, f"no action {aid}"
            outcome = machine.resume(record, by=args.by, now=now)
    record = outcome.record
    print(
        json.dumps({"id": aid, "acted": outcome.acted, "reason": outcome.reason, "record": record and record.to_dict()})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
