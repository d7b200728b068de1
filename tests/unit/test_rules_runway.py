"""Balance runway: the daily-burn estimator (complete days, top-ups, one spiky day) and the rule's episodes."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from lib.messages import compose
from lib.model import Point
from lib.periods import zone
from lib.rules.runway import MIN_DAYS, daily_burn, estimate
from tests.unit.rules_support import Runner, at, budget, config, observation

TZ = zone("Asia/Shanghai")
DAY = 86400.0
START = at("2026-12-01T00:00:00+08:00")


def hourly(burns: list[float], start_balance: float = 10_000, *, start: datetime = START) -> list[Point]:
    """A balance read every hour from ``start``: day i spends burns[i] evenly over its 24 hours."""
    points, balance = [Point(start, Decimal(str(start_balance)))], Decimal(str(start_balance))
    for i, burn in enumerate(burns):
        for h in range(24):
            balance -= Decimal(str(burn)) / 24
            points.append(Point(start + timedelta(days=i, hours=h + 1), balance))
    return points


def test_burn_per_complete_day() -> None:
    points = hourly([100, 200, 300])
    now = START + timedelta(days=3, hours=5)
    got = daily_burn(points, now, TZ)
    assert [d for d, _ in got] == [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]
    assert [round(b, 6) for _, b in got] == [100, 200, 300]


def test_a_day_not_covered_from_its_start_does_not_count() -> None:
    points = hourly([100, 100, 100], start=START + timedelta(hours=3))  # first run at 03:00
    got = daily_burn(points, START + timedelta(days=4), TZ)
    assert [d for d, _ in got] == [date(2026, 12, 2), date(2026, 12, 3)]  # 1 December began unrecorded


def test_a_top_up_is_not_negative_burn() -> None:
    points = hourly([120, 120, 120, 120])
    # 5,000 arrives at 12:00 on 2 December: every later balance is 5,000 higher.
    topped = [Point(p.time, p.value + (5000 if p.time >= START + timedelta(days=1, hours=12) else 0)) for p in points]
    got = dict(daily_burn(topped, START + timedelta(days=4), TZ))
    assert round(got[date(2026, 12, 2)], 6) == 115  # the hour of the top-up (5 spent in it) counts as no burn
    assert round(got[date(2026, 12, 3)], 6) == 120


def test_a_gap_spreads_the_fall_over_the_days_it_covers() -> None:
    points = [Point(START, Decimal(1000)), Point(START + timedelta(days=2), Decimal(800))]
    got = daily_burn(points, START + timedelta(days=2), TZ)
    assert got == [(date(2026, 12, 1), Decimal(100)), (date(2026, 12, 2), Decimal(100))]


def test_one_spiky_day_does_not_move_the_estimate() -> None:
    calm = hourly([100] * 7)
    spiky = hourly([100, 100, 100, 1000, 100, 100, 100])
    now = START + timedelta(days=7)
    a = estimate(calm[:-1], calm[-1].value, now, TZ, 7 * DAY)
    b = estimate(spiky[:-1], spiky[-1].value, now, TZ, 7 * DAY)
    assert a.burn == b.burn == 100  # a mean would read 228.57 for the spiky week
    assert b.runs_out == now + timedelta(days=float(spiky[-1].value / 100))


@pytest.mark.parametrize(
    ("burns", "balance", "horizon_days", "firing", "runs_out_days"),
    [
        ([100, 100, 100], 650, 7, True, 6.5),
        ([100, 100, 100], 750, 7, False, 7.5),
        ([100, 100, 100], 700, 7, True, 7),  # exactly at the horizon counts
        ([0, 0, 0], 10, 7, False, None),  # a flat balance never runs out
        ([100, 100, 100], 0, 7, True, 0),  # run out already
        ([100, 300, 200, 50], 400, 3, True, 400 / 150),  # even count: the mean of the middle two
    ],
)
def test_estimate(
    burns: list[float], balance: float, horizon_days: float, firing: bool, runs_out_days: float | None
) -> None:
    points = hourly(burns, start_balance=balance + sum(burns))
    now = points[-1].time
    got = estimate(points[:-1], Decimal(str(balance)), now, TZ, horizon_days * DAY)
    assert got.evaluated and got.firing is firing
    if runs_out_days is None:
        assert got.runs_out is None
    else:
        assert got.runs_out is not None
        assert abs((got.runs_out - now).total_seconds() - runs_out_days * DAY) < 1


def test_too_few_days_is_not_evaluated() -> None:
    points = hourly([100] * (MIN_DAYS - 1))
    got = estimate(points[:-1], points[-1].value, points[-1].time, TZ, 7 * DAY)
    assert not got.evaluated and not got.firing and "needed" in got.reason


# -- the rule in the engine ----------------------------------------------------------------------------


def _runs(balances: list[Point], runway: str = "7d", **fields: Any) -> list[tuple[str, str, int] | None]:
    """One run per point after the first MIN_DAYS days, each seeing the earlier points as recorded history."""
    cfg = config(budget("low", source="billing", metric="balance", runway=runway, no_data_after=0, **fields))
    runner = Runner(cfg)
    told: list[tuple[str, str, int] | None] = []
    for i, point in enumerate(balances):
        obs = observation(cfg, "low", point.value, point.time, unit="CNY")
        obs = dataclasses.replace(obs, history=tuple(balances[:i]))
        outcome = runner.step(point.time, [obs])
        told.append(next(((n.kind, n.status, n.detail["repeat"]) for n in outcome.notifications), None))
        if outcome.notifications:
            assert outcome.evaluations[0].kind == "runway"
    return told


def test_fires_once_then_resolves_after_a_top_up() -> None:
    balances = hourly([120] * 4, start_balance=1320)  # 840 left at the end of the 4th day: 7 days
    later = balances[-1].time
    balances += [Point(later + timedelta(hours=1), Decimal("835")), Point(later + timedelta(hours=2), Decimal("830"))]
    balances += [Point(later + timedelta(hours=3), Decimal("5830"))]  # topped up: 48 days left
    told = _runs(balances)
    assert [t for t in told if t] == [("runway", "firing", 0), ("runway", "resolved", 0)]
    assert told[-1] == ("runway", "resolved", 0)
    first = told.index(("runway", "firing", 0))
    # 3 complete days are known from the 4th day on (960 left: 8 days); 7 days of 120 are 840.
    assert balances[first].value == 840 and balances[first - 1].value == 845


def test_repeat_like_below() -> None:
    balances = hourly([120] * 3, start_balance=1200)  # 840 left after 3 days: it fires at the 3rd day's end
    last = balances[-1]
    balances += [Point(last.time + timedelta(hours=h), last.value) for h in (1, 23, 24, 25)]
    told = _runs(balances, repeat="24h")
    assert told[-5:] == [("runway", "firing", 0), None, None, ("runway", "firing", 1), None]


def test_runway_messages_say_the_date() -> None:
    balances = hourly([100] * 4, start_balance=1000)
    cfg = config(budget("low", source="billing", metric="balance", runway="7d", no_data_after=0))
    now = balances[-1].time
    obs = dataclasses.replace(observation(cfg, "low", Decimal(600), now, unit="CNY"), history=tuple(balances[:-1]))
    (n,) = Runner(cfg).step(now, [obs]).notifications
    assert n.kind == "runway" and n.status == "firing"
    runs_out = (now + timedelta(days=6)).astimezone(TZ)  # 600 at 100 a day
    zh = compose(n, "zh", TZ).title
    en = compose(n, "en", TZ).title
    assert f"余额预计 {runs_out.month}月{runs_out.day}日 用完" in zh
    assert f"balance expected to run out on {runs_out.day} December" in en
