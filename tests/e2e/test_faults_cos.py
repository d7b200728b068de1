"""COS faults on the state store end to end: 5xx and slow answers are retried by the store; a run that
cannot reach its state raises a retryable StateError from the timer handler (SCF retries it) and
nothing is ever sent twice. State lives in the sandbox's COS (``cos://`` + ``BUDGET_COS_ENDPOINT``).
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from lib.errors import StateError
from tests.e2e.fault_support import FIRST_RUN, fired, outcomes, report, rig, tally, timer_app

pytestmark = pytest.mark.e2e


@pytest.mark.slow
def test_cos_5xx_answers_are_retried_by_the_store(tmp_path: Path) -> None:
    faults = [
        {"product": "cos", "action": "GetObject", "http_status": 500, "count": 2},
        {"product": "cos", "action": "PutObject", "http_status": 503, "skip": 1, "count": 2},
        {"product": "cos", "action": "GetBucket", "http_status": 503, "count": 2},
        {"product": "cos", "action": "DeleteObject", "http_status": 503, "count": 2},
        {"product": "cos", "action": "HeadObject", "code": "SlowDown", "http_status": 503, "count": 2},
    ]
    with rig(tmp_path, faults=faults, state="cos") as r:
        app = r.app()  # open_store("cos://…") with its default retries (3, with backoff)
        first = app.run_check(trigger="timer").to_dict()
        assert first["errors"] == []
        assert outcomes(first) == {"sent": 3}
        r.clock.tick()
        second = app.run_check(trigger="timer").to_dict()
        assert second["errors"] == [] and outcomes(second) == {}
        assert fired(r.sandbox) == [2, 2, 2, 2, 2]  # every fault did happen
        assert len(app.repo.runs.list()) == 2
        counted = tally(r.receiver, FIRST_RUN)
        report("COS 5xx on every action (2 in a row each)", 2, counted, "retried by the store")
        assert counted.exact, counted


@pytest.mark.slow
def test_cos_slow_answers_time_out_and_are_retried(tmp_path: Path) -> None:
    faults = [
        # Beyond the store's 0.5 s read timeout: the client gives up and retries; a PUT still lands late.
        {"product": "cos", "action": "GetObject", "latency": "1s", "count": 2},
        {"product": "cos", "action": "PutObject", "latency": "1s", "skip": 1, "count": 2},
        # Slow but within the timeout: just slow.
        {"product": "cos", "action": "GetBucket", "latency": "200ms", "count": 4},
    ]
    with rig(tmp_path, faults=faults, state="cos") as r:
        app = r.app(store=r.store(timeout=(1.0, 0.5), retries=2, backoff=0.01))
        first = app.run_check(trigger="timer").to_dict()
        assert first["errors"] == []
        assert outcomes(first) == {"sent": 3}
        for _ in range(2):
            r.clock.tick()
            later = app.run_check(trigger="timer").to_dict()
            assert later["errors"] == [] and outcomes(later) == {}
        r.clock.skip(timedelta(minutes=6))  # past every claim's lease
        r.clock.tick()
        assert outcomes(app.run_check(trigger="timer").to_dict()) == {}
        assert fired(r.sandbox) == [2, 2, 4]
        counted = tally(r.receiver, FIRST_RUN)
        report("COS answers 1 s late (timeouts) or 200 ms late", 4, counted, "retried by the store")
        assert counted.exact, counted


def test_cos_unreachable_timer_raises_retryable_and_scf_retry_sends_once(tmp_path: Path) -> None:
    # Two failed runs' worth of GETs: each run gives up on ledger.json after 2 attempts.
    faults = [{"product": "cos", "action": "GetObject", "http_status": 503, "count": 4}]
    with rig(tmp_path, faults=faults, state="cos") as r:
        app = r.app(store=r.store(retries=1, backoff=0.01))
        with timer_app(app) as invoke:
            for _ in range(2):  # the invocation and SCF's first retry
                with pytest.raises(StateError) as raised:
                    invoke()
                assert raised.value.retryable
                assert "ledger.json" in str(raised.value)
            assert r.receiver.received == []  # nothing claimed, nothing sent
            third = invoke()  # SCF's second retry: COS is back
            assert third["errors"] == [] and outcomes(third) == {"sent": 3}
            r.clock.tick()
            assert outcomes(invoke()) == {}
        counted = tally(r.receiver, FIRST_RUN)
        report("COS unreachable (503) for 2 timer invocations", 4, counted, "handler raised, SCF retried")
        assert counted.exact, counted


@pytest.mark.parametrize(("skew", "code"), [(-3600.0, "Request has expired"), (3600.0, "RequestTimeTooSkewed")])
def test_cos_signature_from_a_skewed_clock_is_a_clear_error_not_a_retry(tmp_path: Path, skew: float, code: str) -> None:
    with rig(tmp_path, state="cos") as r:
        skewed = r.store(clock=lambda: time.time() + skew, retries=1, backoff=0.01)
        with timer_app(r.app(store=skewed)) as invoke:
            result = invoke()  # returned, not raised: SCF's retries would fail the same way
        assert result["run_id"] is None
        message = result["errors"][0]["message"]
        assert code in message and "check the machine's clock" in message
        assert r.receiver.received == []
        assert r.store().list("") == []  # nothing written under the prefix
