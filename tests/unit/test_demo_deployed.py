"""The demo's deployed part, its pure pieces: the live scenario fires on any date, the result table."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sandbox.demo_deployed import result_table
from sandbox.ledger import ledger_of
from sandbox.live_scenario import CASH, HOURLY_YUAN, PER_BUCKET, TZ, ZONE, live_scenario
from sandbox.scenario import Scenario

TB = 10**12


@pytest.mark.parametrize(
    "now",
    [
        datetime(2027, 3, 1, 0, 3, tzinfo=TZ),  # before the month's first 5-minute bucket is complete
        datetime(2027, 2, 28, 23, 59, 50, tzinfo=TZ),
        datetime(2026, 12, 2, 14, 38, 19, tzinfo=TZ),
        datetime(2028, 2, 29, 12, 0, tzinfo=TZ),
    ],
)
def test_the_balance_is_under_1000_yuan_whatever_the_date(now: datetime) -> None:
    """low-balance (below 1,000 yuan) fires on every date, so the deployed timer's first run always alerts."""
    scenario = Scenario.from_dict(live_scenario(now))
    assert scenario.now() == now
    balance = ledger_of(scenario).balance(now.timestamp())["RealBalance"]
    assert balance == (CASH - 2 * HOURLY_YUAN) * 100  # fen
    assert balance < 1000 * 100


def test_traffic_passes_the_10_tb_budget_in_the_first_bucket() -> None:
    now = datetime(2027, 3, 1, 0, 5, tzinfo=TZ)
    scenario = Scenario.from_dict(live_scenario(now))
    used = scenario.usage("acc_flux", ZONE)
    assert used == PER_BUCKET
    assert used > 10 * TB
    assert scenario.usage("acc_flux", ZONE, end=now + timedelta(minutes=5)) == used  # nothing after the clock


def test_result_table_shows_each_evaluation_and_the_run_line() -> None:
    doc = {
        "run_id": "a" * 32,
        "at": "2026-12-02T14:38:21+08:00",
        "evaluations": [
            {"budget": "edgeone-traffic", "group": {"zone-id": ZONE}, "value": 9.65e15, "unit": "B",
             "limit": 1e13, "percent": 96458.31, "forecast": None, "status": "firing"},
            {"budget": "low-balance", "group": {}, "value": 500, "unit": "CNY", "limit": 1000, "percent": None,
             "forecast": None, "status": "firing"},
        ],
        "notifications": [{"outcome": "sent"}, {"outcome": "sent"}, {"outcome": "silenced"}],
        "errors": [],
    }  # fmt: skip
    lines = result_table(doc).splitlines()
    assert lines[0].split() == ["budget", "group", "value", "limit", "percent", "forecast", "status"]
    assert lines[2].split() == [
        "edgeone-traffic",
        f"zone-id={ZONE}",
        "9.65",
        "PB",
        "10",
        "TB",
        "96458.3%",
        "-",
        "firing",
    ]
    assert lines[3].split() == ["low-balance", "-", "¥500.00", "¥1,000.00", "-", "-", "firing"]
    assert lines[-1] == f"run {'a' * 32} at 2026-12-02T14:38:21+08:00: 2 sent, 1 other deliveries, 0 errors"
