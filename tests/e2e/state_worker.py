"""A child process for the state end-to-end tests: simulated check runs on a shared local store.

A simulated run does what ``lib.app.pipeline`` does with the state, in the same order — load the
ledger, claim each delivery (with its outbox intent), POST it to a receiver, mark it sent, retry due
outbox entries, save the ledger, record the run — without collectors, rules or channels.

    python -m tests.e2e.state_worker --store DIR --receiver URL --ids a,b,c [--runs N] [--start-at T]
        [--now EPOCH] [--pause POINT:INDEX] [--announce] [--decide-all]

``--pause`` stops at a checkpoint (``after_claim``, ``after_send``, ``after_mark``, ``before_ledger``) and
prints ``PAUSED …`` so the parent can kill -9 it there; ``--announce`` prints ``READY`` just before the
run starts so the parent can kill it after a random delay.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from lib.state.local import LocalStore
from lib.state.repo import OutboxEntry, StateRepository

Checkpoint = Callable[[str, int, str], None]


def _nothing(_point: str, _index: int, _did: str) -> None:
    return


def _deliver(
    repo: StateRepository,
    session: requests.Session,
    url: str,
    did: str,
    *,
    run_id: str,
    now: datetime,
    attempts: int,
    checkpoint: Checkpoint,
    index: int,
) -> str:
    resp = session.post(url, json={"id": did}, headers={"webhook-id": did, "x-run-id": run_id}, timeout=10)
    if resp.status_code == 200:
        checkpoint("after_send", index, did)
        repo.claims.mark_sent(did, run_id=run_id, now=now, detail={"status": 200})
        checkpoint("after_mark", index, did)
        repo.outbox.remove(did)
        return "sent"
    retry = OutboxEntry(did, "hook", {"id": did}, attempts + 1, now, f"HTTP {resp.status_code}", "pending")
    repo.outbox.put(retry)
    repo.claims.release(did, run_id=run_id)
    return "retry"


def simulate_run(
    repo: StateRepository,
    session: requests.Session,
    url: str,
    crossings: Sequence[str],
    now: datetime,
    *,
    run_id: str | None = None,
    checkpoint: Checkpoint = _nothing,
    decide_all: bool = False,
) -> dict[str, Any]:
    """One run that decides to send every crossing the ledger does not list as told (or all of them)."""
    run_id = run_id or uuid.uuid4().hex
    ledger = repo.ledger.load()
    told = set(ledger.value.get("told", [])) if ledger.value else set()
    if decide_all:  # as if every run had loaded an old ledger: only the markers stand between it and a resend
        told = set()
    outcomes: dict[str, str] = {}
    for index, did in enumerate(crossings):
        if did in told:
            continue
        if repo.claims.is_sent(did):
            outcomes[did] = "skipped"
            continue
        intent = OutboxEntry(did, "hook", {"id": did}, 0, now, "", "pending")
        repo.outbox.add(intent)  # the intent first, as lib.deliveries does
        if not repo.claims.claim(did, run_id=run_id, now=now, intent=intent):
            outcomes[did] = "skipped"
            continue
        checkpoint("after_claim", index, did)
        outcomes[did] = _deliver(
            repo, session, url, did, run_id=run_id, now=now, attempts=0, checkpoint=checkpoint, index=index
        )
    for entry in repo.outbox.due(now):
        did = entry.delivery_id
        if did in outcomes and outcomes[did] != "skipped":
            continue  # this run just tried it
        if repo.claims.is_sent(did):
            repo.outbox.remove(did)
            continue
        if not repo.claims.claim(did, run_id=run_id, now=now):
            continue
        outcomes[did] = _deliver(
            repo, session, url, did, run_id=run_id, now=now, attempts=entry.attempts, checkpoint=checkpoint, index=-1
        )
    checkpoint("before_ledger", len(crossings), "")
    repo.ledger.save({"told": sorted(told | set(crossings))})
    result = {"run_id": run_id, "at": now.isoformat(), "outcomes": outcomes, "problems": list(repo.problems)}
    repo.runs.record(result)
    return result


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--receiver", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--now", type=float, default=None)
    parser.add_argument("--pause", default="")
    parser.add_argument("--announce", action="store_true")
    parser.add_argument("--fsync", type=int, default=1)
    parser.add_argument("--decide-all", action="store_true")
    args = parser.parse_args(argv)
    crossings = args.ids.split(",")
    pause_point, _, pause_index = args.pause.partition(":")

    def checkpoint(point: str, index: int, did: str) -> None:
        if point == pause_point and (pause_index == "*" or index == int(pause_index)):
            print(f"PAUSED {point} {index} {did}", flush=True)
            time.sleep(3600)  # the parent kills us here

    store = LocalStore(args.store, fsync=bool(args.fsync))
    delay = args.start_at - time.time()
    if delay > 0:
        time.sleep(delay)  # line the processes up so their runs overlap
    with requests.Session() as session:
        for _ in range(args.runs):
            now = datetime.fromtimestamp(args.now, timezone.utc) if args.now is not None else datetime.now(timezone.utc)
            if args.announce:
                print("READY", flush=True)
            repo = StateRepository(store, lease=timedelta(minutes=5))
            result = simulate_run(
                repo, session, args.receiver, crossings, now, checkpoint=checkpoint, decide_all=args.decide_all
            )
            if result["problems"]:
                print("PROBLEMS " + " | ".join(result["problems"]), flush=True)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
