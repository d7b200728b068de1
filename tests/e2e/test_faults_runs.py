"""Retried and overlapping runs end to end: SCF retrying a failed timer run with the same event, and several
runs at once on one store (local folder and COS). Every notification reaches the receiver exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lib.app.runtime import App
from lib.errors import StateError
from lib.notify import delivery_id
from tests.e2e.fault_support import FIRST_RUN, hook_ids, outcomes, report, rig, tally, timer_app

pytestmark = pytest.mark.e2e

# PutObject calls before the first sent marker: the rig's bucket-creating PUT, then an outbox intent and a
# claim for each of the 3 deliveries. The next PUT is sent/<first delivery>.
PUTS_BEFORE_FIRST_MARKER = 1 + 2 * 3


@pytest.mark.parametrize("which", [0, 2], ids=["first-marker", "last-marker"])
def test_scf_retry_after_state_fails_between_send_and_marker_sends_nothing_twice(tmp_path: Path, which: int) -> None:
    # The webhook accepts, then COS refuses the sent marker's PUT twice (every attempt of that PUT).
    fault = {"product": "cos", "action": "PutObject", "http_status": 503, "count": 2}
    fault["skip"] = PUTS_BEFORE_FIRST_MARKER + which
    with rig(tmp_path, faults=[fault], state="cos") as r:
        app = r.app(store=r.store(retries=1, backoff=0.01))
        with timer_app(app) as invoke:
            with pytest.raises(StateError) as raised:
                invoke()
            assert raised.value.retryable
            assert "/sent/" in str(raised.value)
            assert sum(hook_ids(r.receiver).values()) == 3  # all three went out before the failure
            for _ in range(2):  # SCF's two retries, same event, same instant
                retried = invoke()
                assert retried["errors"] == []
                assert "sent" not in outcomes(retried)
            r.clock.skip(timedelta(minutes=6))  # every claim's lease is over
            r.clock.tick()
            assert "sent" not in outcomes(invoke())
        repo = r.repo()
        assert all(repo.claims.is_sent(delivery_id(nid, "hook")) for nid in hook_ids(r.receiver))
        assert repo.outbox.pending() == [] and repo.outbox.failed() == []
        counted = tally(r.receiver, FIRST_RUN)
        report(
            f"COS refuses the {'first' if which == 0 else 'last'} sent marker after the webhook accepted",
            4,
            counted,
            "timer raised; SCF retried twice",
        )
        assert counted.exact, counted


def test_scf_retry_after_state_fails_while_claiming_delivers_once_after_the_lease(tmp_path: Path) -> None:
    # COS refuses the third delivery's claim: the run raises before sending anything. The two claims it
    # holds keep their deliveries back until the lease ends; the third goes out with SCF's retry.
    fault = {"product": "cos", "action": "PutObject", "http_status": 503, "count": 2}
    fault["skip"] = PUTS_BEFORE_FIRST_MARKER - 1
    with rig(tmp_path, faults=[fault], state="cos") as r:
        app = r.app(store=r.store(retries=1, backoff=0.01))
        with timer_app(app) as invoke:
            with pytest.raises(StateError) as raised:
                invoke()
            assert raised.value.retryable and "/claims/" in str(raised.value)
            assert r.receiver.received == []
            retried = [outcomes(invoke()) for _ in range(2)]
            assert [c["sent"] for c in retried] == [1, 0]
            r.clock.skip(timedelta(minutes=6))
            r.clock.tick()
            assert outcomes(invoke()) == {"sent": 2}  # taken over from the outbox intents
        counted = tally(r.receiver, FIRST_RUN)
        report("COS refuses a claim (run raises before sending)", 4, counted, "2 of 3 late by the 5-min lease")
        assert counted.exact, counted


def test_scf_retry_on_a_fresh_instance_repeats_at_most_the_unmarked_send(tmp_path: Path) -> None:
    # As above, but SCF's retry lands on a cold instance: only the one send whose marker failed is unknown
    # to the state. It goes out again once its claim's lease is over, under the same webhook-id.
    fault = {"product": "cos", "action": "PutObject", "http_status": 503, "count": 2}
    fault["skip"] = PUTS_BEFORE_FIRST_MARKER
    with rig(tmp_path, faults=[fault], state="cos") as r:
        with timer_app(r.app(store=r.store(retries=1, backoff=0.01))) as invoke, pytest.raises(StateError):
            invoke()
        runs = 1
        with timer_app(r.app(store=r.store(retries=1, backoff=0.01))) as invoke:
            for _ in range(2):
                assert "sent" not in outcomes(invoke())  # the lease still holds it back
                runs += 1
            r.clock.skip(timedelta(minutes=6))
            r.clock.tick()
            assert outcomes(invoke()) == {"sent": 1}  # taken over from the outbox intent
            runs += 1
        ids = hook_ids(r.receiver)
        assert sorted(ids.values()) == [1, 1, 2]  # the repeat carries the same webhook-id: receivers can drop it
        counted = tally(r.receiver, FIRST_RUN)
        report(
            "as above, SCF retry on a cold instance",
            runs,
            counted,
            "known gap: the unmarked send repeats after the 5-min lease, same webhook-id",
        )
        assert (counted.sent, counted.doubled, counted.lost) == (3, 1, 0)


def _overlap(apps: list[App], at: Any) -> list[dict[str, Any]]:
    barrier = threading.Barrier(len(apps))
    results: list[dict[str, Any]] = [{} for _ in apps]
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = apps[index].run_check(at=at, trigger="timer").to_dict()
        except BaseException as exc:  # reported to the test below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(apps))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    return results


@pytest.mark.parametrize("state", ["file", "cos"])
@pytest.mark.parametrize("sharing", ["instances", "one-app"])
def test_overlapping_runs_send_each_notification_once(tmp_path: Path, state: str, sharing: str) -> None:
    runs = 4
    with rig(tmp_path, state=state) as r:
        r.receiver.fail("webhook", times=1, error="unavailable")  # one retry path races too
        # Separate function instances on one store, or one warm instance serving overlapping invocations.
        apps = [r.app() for _ in range(runs)] if sharing == "instances" else [r.app()] * runs
        per_round = []
        for _ in range(3):
            results = _overlap(apps, r.clock.current)
            per_round.append(sum((outcomes(res) for res in results), Counter()))
            for res in results:
                assert [e for e in res["errors"] if e["source"] == "state"] == [], res["errors"]
            r.clock.tick()
        # Round 1: the first POST fails (its run keeps the rest for later); all three are out by round 2.
        assert per_round[0]["retry"] >= 1
        assert per_round[0]["sent"] + per_round[1]["sent"] == 3
        assert per_round[2]["sent"] == 0
        assert all(n == 1 for n in hook_ids(r.receiver).values())
        counted = tally(r.receiver, FIRST_RUN)
        report(f"{runs} overlapping runs x 3 rounds ({state}, {sharing}), first POST 503", runs * 3, counted)
        assert counted.exact, counted
