"""Webhook faults end to end: a channel down for N runs then back, one down for good, one that rejects.

Counts are taken at the receiver: every notification id once per channel, late but exactly once; what
the channel refuses as wrong is recorded (outbox ``failed``, /status) and never tried again.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lib.notify import MAX_ATTEMPTS
from sandbox.receivers import Receiver
from tests.e2e.fault_support import (
    FIRST_RUN,
    api_status,
    base_config,
    chat_ids,
    hook_ids,
    outcomes,
    report,
    rig,
    tally,
)

pytestmark = pytest.mark.e2e


def _posts(receiver: Receiver, kind: str) -> int:
    return sum(1 for r in receiver.received if r.kind == kind)


def test_webhooks_down_for_three_runs_deliver_exactly_once_late(tmp_path: Path) -> None:
    config = base_config(ops={"type": "wecom", "url": "${WECOM_URL}"})
    for budget in config["budgets"]:
        budget["channels"] = ["hook", "ops"]
    with rig(tmp_path, config=config) as r:
        r.receiver.fail("webhook", times=3, error="unavailable")  # HTTP 503
        r.receiver.fail("wecom", times=3, error="busy")  # errcode -1 in an HTTP 200
        app = r.app()
        first = app.run_check(trigger="timer").to_dict()
        ids = {d["id"] for d in first["notifications"]}
        assert len(ids) == 3
        assert outcomes(first) == {"retry": 6}  # 3 notifications x 2 channels
        assert len(app.repo.outbox.pending()) == 6

        # 30 s later: inside the 1-minute backoff, nothing is due and nothing is sent.
        r.clock.tick(timedelta(seconds=30))
        early = app.run_check(trigger="timer").to_dict()
        assert early["notifications"] == []
        assert (_posts(r.receiver, "webhook"), _posts(r.receiver, "wecom")) == (1, 1)

        runs = 2
        delivered_at = None
        for _ in range(4):  # every 10 minutes: past each backoff (1, 2, 4 min)
            r.clock.tick()
            result = app.run_check(trigger="timer").to_dict()
            runs += 1
            if outcomes(result).get("sent"):
                assert delivered_at is None, "delivered twice"
                delivered_at = runs
                assert outcomes(result) == {"sent": 6}
                assert {d["id"] for d in result["notifications"]} == ids  # the same ids, late
        assert delivered_at == 5  # 3 failed attempts (runs 1, 3, 4), then run 5
        assert app.repo.outbox.pending() == [] and app.repo.outbox.failed() == []
        # The webhook was tried once per run (the rest of a failed channel waits), the robot once per run.
        assert (_posts(r.receiver, "webhook"), _posts(r.receiver, "wecom")) == (3 + 3, 3 + 1)
        assert hook_ids(r.receiver) == dict.fromkeys(ids, 1)
        assert chat_ids(r.receiver, "wecom") == dict.fromkeys(ids, 1)
        counted = tally(r.receiver, FIRST_RUN)
        report("webhook (503) and WeCom (busy) down for 3 runs, then back", runs, counted, "delivered once, late")
        assert counted.exact, counted


@pytest.mark.slow
def test_webhook_down_for_good_gives_up_after_max_attempts(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        r.receiver.fail("webhook", times=1000, error="unavailable")
        app = r.app()
        runs = 0
        states = []
        while runs < MAX_ATTEMPTS + 3:
            result = app.run_check(at=r.clock.current, trigger="timer").to_dict()
            runs += 1
            states.append(outcomes(result))
            r.clock.skip(timedelta(hours=1))  # past any backoff (capped at 1 hour)
        assert states[0] == {"retry": 3}
        assert states[MAX_ATTEMPTS - 1] == {"failed": 3}  # the last attempt gives up
        assert all(s == {} for s in states[MAX_ATTEMPTS:])  # and nothing is tried again
        assert _posts(r.receiver, "webhook") == MAX_ATTEMPTS  # one POST per run: the rest of the batch waits
        failed = app.repo.outbox.failed()
        assert sorted(e.attempts for e in failed) == [MAX_ATTEMPTS] * 3
        assert all("503" in e.last_error for e in failed)
        assert {d["delivery_id"] for d in api_status(app)["failed_deliveries"]} == {e.delivery_id for e in failed}
        counted = tally(r.receiver, FIRST_RUN)
        report(
            "webhook down for good (503 every time)", runs, counted, f"recorded failed after {MAX_ATTEMPTS} attempts"
        )
        assert (counted.sent, counted.doubled, counted.lost) == (0, 0, 3)


def test_channel_that_rejects_is_recorded_and_not_retried(tmp_path: Path) -> None:
    config = base_config(ding={"type": "dingtalk", "url": "${DINGTALK_URL}", "secret": "SEC" + "0" * 64})
    config["budgets"][2]["channels"] = ["hook", "ding"]  # balance also goes to DingTalk, with the wrong secret
    with rig(tmp_path, config=config) as r:
        app = r.app()
        first = app.run_check(trigger="timer").to_dict()
        ding = [d for d in first["notifications"] if d["channel"] == "ding"]
        assert [(d["budget"], d["outcome"]) for d in ding] == [("balance", "rejected")]
        assert "310000" in ding[0]["reason"]
        assert outcomes(first) == {"sent": 3, "rejected": 1}
        refused = [x for x in r.receiver.received if x.kind == "dingtalk"]
        assert [(x.verified, x.accepted) for x in refused] == [(False, False)]

        for _ in range(3):  # hours later: a rejected delivery is never tried again
            r.clock.skip(timedelta(hours=2))
            later = app.run_check(at=r.clock.current, trigger="timer").to_dict()
            assert later["notifications"] == []
        assert _posts(r.receiver, "dingtalk") == 1

        failed = app.repo.outbox.failed()
        assert [(e.channel, e.attempts, e.status) for e in failed] == [("ding", 1, "failed")]
        assert "310000" in failed[0].last_error
        assert app.repo.outbox.due(r.clock() + timedelta(days=30)) == []
        status = api_status(app)
        assert [(d["channel"], d["notification"]["budget"], d["status"]) for d in status["failed_deliveries"]] == [
            ("ding", "balance", "failed")
        ]
        assert "310000" in status["failed_deliveries"][0]["last_error"]
        assert "SEC" + "0" * 64 not in str(status)  # the secret never shows
        counted = tally(r.receiver, FIRST_RUN)
        report("DingTalk rejects (310000 sign mismatch)", 4, counted, "hook: 3 sent; ding: 1 rejected, 1 POST")
        assert counted.exact, counted
