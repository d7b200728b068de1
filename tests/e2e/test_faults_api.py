"""Tencent Cloud API faults end to end: 5xx, timeouts, throttling, malformed answers, clock skew.

A failed fetch is never a zero: the budget's row is ``error`` with no value, nothing resolves on it, the
other budgets are still evaluated and alerted, ``no-data`` fires after ``no_data_after`` (3) failed runs
and resolves when data returns. Counts are taken at the receiver.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.fault_support import (
    FIRST_RUN,
    at,
    fast_client,
    fired,
    outcomes,
    report,
    rig,
    rows,
    tally,
)

pytestmark = pytest.mark.e2e

NO_DATA = {
    (budget, status): (budget, "", "no-data", status, None)
    for budget in ("traffic", "spend", "balance")
    for status in ("firing", "resolved")
}


def _assert_failed_rows(result: dict[str, Any], budget: str, needle: str) -> None:
    failed = rows(result, budget)
    assert failed, f"no row for {budget}"
    for row in failed:
        assert row["status"] in ("error", "no-data"), row
        assert row["value"] is None, row  # never a zero
        assert needle in row["error"], row
    assert any(e["source"] == "collect" and e["budget"] == budget for e in result["errors"])


def _resolved(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in result["evaluations"] if e["status"] == "resolved"]


def test_api_5xx_errors_then_no_data_then_data_returns(tmp_path: Path) -> None:
    faults = [{"product": "teo", "action": "DescribeBillingData", "http_status": 503, "start": at(0), "end": at(25)}]
    with rig(tmp_path, faults=faults) as r:
        app = r.app()
        results = []
        for _ in range(4):  # T0, +10, +20 (all 503), +30 (back)
            results.append(app.run_check(trigger="timer").to_dict())
            r.clock.tick()
        first, second, third, fourth = results
        for result in (first, second, third):
            _assert_failed_rows(result, "traffic", "HTTP 503")
            assert _resolved(result) == []
        assert [row["status"] for row in rows(first, "traffic")] == ["error"]
        assert [row["status"] for row in rows(third, "traffic")] == ["no-data"]
        # The other budgets are evaluated and alerted while teo is down.
        assert {(e["budget"], e["status"]) for e in first["evaluations"]} >= {
            ("spend", "firing"),
            ("balance", "firing"),
        }
        assert outcomes(first) == {"sent": 2}
        assert outcomes(second) == {}
        assert [(d["budget"], d["outcome"]) for d in third["notifications"]] == [("traffic", "sent")]
        # Data returns: the crossing that happened meanwhile is told, and no-data resolves.
        assert fourth["errors"] == []
        assert [(e["budget"], e["group"], e["status"]) for e in _resolved(fourth)] == [("traffic", {}, "resolved")]
        assert outcomes(fourth) == {"sent": 2}
        expected = [*FIRST_RUN, NO_DATA["traffic", "firing"], NO_DATA["traffic", "resolved"]]
        counted = tally(r.receiver, expected)
        report("API HTTP 503 on DescribeBillingData for 3 runs", 4, counted)
        assert counted.exact, counted


@pytest.mark.slow
def test_api_timeouts_after_a_healthy_run_never_resolve_falsely(tmp_path: Path) -> None:
    # Billing answers 1.5 s late (the client gives up after 0.4 s) from the 2nd to the 4th run.
    faults = [{"product": "billing", "action": "*", "latency": "1500ms", "start": at(5), "end": at(35)}]
    with rig(tmp_path, faults=faults) as r:
        app = r.app()
        results = []
        for _ in range(5):
            started = time.monotonic()
            results.append(app.run_check(trigger="timer").to_dict())
            assert time.monotonic() - started < 3.0  # the short read timeout bounds a run
            r.clock.tick()
        healthy, slow = results[0], results[1:4]
        assert outcomes(healthy) == {"sent": 3}
        for result in slow:
            for budget in ("spend", "balance"):
                _assert_failed_rows(result, budget, "Timeout")
            assert _resolved(result) == []
            # teo still answers: the traffic rows carry on as before.
            assert [row["status"] for row in rows(result, "traffic")] == ["firing", "ok"]
        assert outcomes(slow[0]) == outcomes(slow[1]) == {}
        assert sorted(d["budget"] for d in slow[2]["notifications"]) == ["balance", "spend"]  # no-data, 3rd failure
        back = results[4]
        assert back["errors"] == []
        # Each row shows its budget's main condition again; the no-data clearings go out as notifications.
        assert [(e["budget"], e["status"]) for e in back["evaluations"] if e["budget"] != "traffic"] == [
            ("spend", "firing"),
            ("balance", "firing"),
        ]
        assert sorted(d["budget"] for d in back["notifications"]) == ["balance", "spend"]
        expected = [
            *FIRST_RUN,
            NO_DATA["spend", "firing"],
            NO_DATA["balance", "firing"],
            NO_DATA["spend", "resolved"],
            NO_DATA["balance", "resolved"],
        ]
        counted = tally(r.receiver, expected)
        report("API read timeouts on billing for 3 runs after a healthy run", 5, counted)
        assert counted.exact, counted


def test_api_throttling_is_retried_and_persistent_throttling_is_an_error(tmp_path: Path) -> None:
    faults: list[dict[str, Any]] = [
        # One throttled answer: the client's retry absorbs it.
        {"product": "teo", "action": "DescribeBillingData", "code": "RequestLimitExceeded", "count": 1},
        # Throttled for the whole first run: the balance row fails, the others go on.
        {"product": "billing", "action": "DescribeAccountBalance", "code": "RequestLimitExceeded", "end": at(5)},
    ]
    with rig(tmp_path, faults=faults) as r:
        app = r.app()
        first = app.run_check(trigger="timer").to_dict()
        assert fired(r.sandbox)[0] == 1  # the one-off throttle did happen
        assert rows(first, "traffic")[0]["status"] == "firing"
        _assert_failed_rows(first, "balance", "RequestLimitExceeded")
        assert sorted(d["budget"] for d in first["notifications"]) == ["spend", "traffic"]
        r.clock.tick()
        second = app.run_check(trigger="timer").to_dict()
        assert second["errors"] == []
        assert [(d["budget"], d["outcome"]) for d in second["notifications"]] == [("balance", "sent")]
        counted = tally(r.receiver, FIRST_RUN)
        report("API RequestLimitExceeded: once (retried) and for a whole run", 2, counted)
        assert counted.exact, counted


@pytest.mark.parametrize(
    ("mode", "times", "needle"),
    [
        ("html", 1, "not JSON"),
        ("truncated", 1, "not JSON"),
        ("empty", 1, "not JSON"),
        ("no-response", 1, "no Response object"),
        ("cut", 2, "network error"),
    ],
)
def test_api_malformed_and_truncated_answers(tmp_path: Path, mode: str, times: int, needle: str) -> None:
    with rig(tmp_path, proxy=True) as r:
        assert r.proxy is not None
        app = r.app()
        r.proxy.spoil("DescribeAccountBalance", mode, times)
        first = app.run_check(trigger="timer").to_dict()
        assert r.proxy.spoiled["DescribeAccountBalance"] == times
        _assert_failed_rows(first, "balance", needle)
        assert sorted(d["budget"] for d in first["notifications"]) == ["spend", "traffic"]
        r.clock.tick()
        second = app.run_check(trigger="timer").to_dict()
        assert second["errors"] == []
        assert [(d["budget"], d["outcome"]) for d in second["notifications"]] == [("balance", "sent")]
        counted = tally(r.receiver, FIRST_RUN)
        report(f"API answer spoiled: {mode} (x{times})", 2, counted)
        assert counted.exact, counted


def test_api_connection_cut_once_is_retried_within_the_run(tmp_path: Path) -> None:
    with rig(tmp_path, proxy=True) as r:
        assert r.proxy is not None
        app = r.app()
        for action in ("DescribeBillingData", "DescribeAccountBalance", "DescribeBillSummaryByProduct"):
            r.proxy.spoil(action, "cut", 1)
        result = app.run_check(trigger="timer").to_dict()
        assert sum(r.proxy.spoiled.values()) == 3
        assert result["errors"] == []
        assert outcomes(result) == {"sent": 3}
        counted = tally(r.receiver, FIRST_RUN)
        report("API answer cut mid-body once per action (retried)", 1, counted)
        assert counted.exact, counted


@pytest.mark.parametrize("skew", [-3600.0, 3600.0])
def test_api_expired_signature_from_clock_skew_is_recovered(tmp_path: Path, skew: float) -> None:
    with rig(tmp_path) as r:
        client = fast_client(r.api_url, r.sandbox, clock=lambda: time.time() + skew)
        app = r.app(client=client)
        result = app.run_check(trigger="timer").to_dict()
        assert result["errors"] == []
        assert outcomes(result) == {"sent": 3}
        # The client learnt the server's clock from the Date header of AuthFailure.SignatureExpire.
        assert abs(client.skew + skew) < 5
        r.clock.tick()
        assert outcomes(app.run_check(trigger="timer").to_dict()) == {}
        counted = tally(r.receiver, FIRST_RUN)
        report(f"client clock {skew:+.0f} s off (SignatureExpire, re-signed)", 2, counted)
        assert counted.exact, counted
