"""The bundled demo scenario tells the story its comments tell: 80 % then 100 % of 10 TB, balance < 1,000."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sandbox.billing import ledger_of, yuan
from sandbox.scenario import DEMO_SCENARIO, Scenario, month_start

SHOP = "zone-2qtuhspy7hmq"
TB = 10**12


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return Scenario.load()


@pytest.fixture(scope="module")
def comments() -> str:
    return "\n".join(line for line in DEMO_SCENARIO.read_text(encoding="utf-8").splitlines() if line.startswith("#"))


def _crossing(sc: Scenario, level: float) -> datetime | None:
    start = month_start(sc.now(), sc.tz)
    total = 0
    for i, value in enumerate(sc.values("acc_flux", SHOP, start, sc.now())):
        total += value
        if total >= level:
            return (start + timedelta(minutes=5 * (i + 1))).astimezone(sc.tz)
    return None


def test_the_clock_is_fixed_inside_november(demo: Scenario) -> None:
    assert demo.now().isoformat() == "2026-11-22T10:00:00+08:00"
    assert demo.plans[demo.zones[SHOP].plan or ""].capacity["AccTrafficCapacity"] == 10 * TB


@pytest.mark.parametrize(
    ("label", "level"), [("80", 8 * TB), ("100", 10 * TB), ("80b", 0.8 * 10 * 2**40), ("100b", 10 * 2**40)]
)
def test_budget_crossings_happen_when_the_comments_say(demo: Scenario, comments: str, label: str, level: float) -> None:
    moment = _crossing(demo, level)
    assert moment is not None, f"{label}% is never reached"
    assert moment < demo.now()
    assert moment.strftime("%Y-%m-%d %H:%M") in comments


def test_80_comes_before_100_and_the_month_ends_above_it(demo: Scenario, comments: str) -> None:
    eighty, hundred = _crossing(demo, 8 * TB), _crossing(demo, 10 * TB)
    assert eighty is not None
    assert hundred is not None
    assert eighty.date() < hundred.date()
    month = demo.usage("acc_flux", SHOP)
    assert month > 10 * 2**40
    assert f"{month:,} B" in comments
    assert demo.usage("acc_flux", "zone-2qtuhsrnbl9w") < 500 * 10**9  # the blog stays inside its plan


def test_balance_drops_below_1000_yuan(demo: Scenario, comments: str) -> None:
    ledger = ledger_of(demo)
    now = demo.now()
    balance = ledger.balance(now.timestamp())["RealBalance"]
    assert balance < 100_000
    assert f"{balance} fen" in comments
    start = month_start(now, demo.tz)
    first_below = next(
        start + timedelta(hours=h)
        for h in range(24 * 31)
        if ledger.balance((start + timedelta(hours=h)).timestamp())["RealBalance"] < 100_000
    )
    assert first_below.strftime("%Y-%m-%d %H:%M") in comments
    assert ledger.balance(start.timestamp())["RealBalance"] == 950_000
    bill = dict(zip([p.code for p in ledger.products], ledger.month(2026, 11, now.timestamp()), strict=True))
    for code, fen in bill.items():
        assert f"{code} {yuan(fen)[:-6]}" in comments


def test_the_unbound_zone_is_left_out(demo: Scenario) -> None:
    assert "zone-2qtuhszk3w8d" in demo.zones
    assert "zone-2qtuhszk3w8d" not in {z.id for z in demo.bound_zones()}


def test_a_spike_is_in_progress_at_the_clock(demo: Scenario) -> None:
    now = demo.now()
    hour = demo.usage("sec_request_clean", SHOP, "api.shop.example.com", None, now - timedelta(hours=1), now)
    same_hour_before = demo.usage(
        "sec_request_clean",
        SHOP,
        "api.shop.example.com",
        None,
        now - timedelta(days=1, hours=1),
        now - timedelta(days=1),
    )
    assert hour > 8 * same_hour_before
