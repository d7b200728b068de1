"""A simulated month: the timer runs every 10 minutes over a linear usage series.

The series: 3 GB (3e9 B) every 10 minutes from 2026-11-01 00:00 Asia/Shanghai, in hourly buckets
(1.8e10 B per full hour, 4.32e11 B per day). The budget: 10 TB a month, thresholds 50/80/100 %, forecast.
Step k is at 00:00 + 10k minutes and the month-to-date value is 3e9 x k. By hand:

- forecast: allowed once 3 days are complete, at k = 432 (11-04 00:00). The median daily total is
  4.32e11, so the projection is 3e9 k + 4.32e11 x (days left) = 3e9 x 4320 = 1.296e13 >= 1e13: fires.
- 50 %  = 5e12: 3e9 k >= 5e12  → k >= 1666.7 → k = 1667 = 11 d 13 h 50 m → 11-12 13:50
- 80 %  = 8e12: k >= 2666.7 → k = 2667 = 18 d 12 h 30 m → 11-19 12:30
- 100 % = 1e13: k >= 3333.4 → k = 3334 = 23 d 03 h 40 m → 11-24 03:40
- 12-01 00:00 starts December afresh (value 3e9 x steps since then); 31 days project 1.3392e13, so
  the December forecast fires when 3 December days are complete: 12-04 00:00.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from lib.model import Point, Silence, notification_id
from lib.periods import zone
from tests.unit.rules_support import Runner, at, budget, config, observation, summary

PER_STEP = Decimal(3 * 10**9)
PER_HOUR = PER_STEP * 6
START = at("2026-11-01T00:00:00+08:00")
DECEMBER = at("2026-12-01T00:00:00+08:00")
UTC = zone("UTC")


@functools.lru_cache(maxsize=2)
def _hours(month_start: datetime) -> tuple[Point, ...]:
    return tuple(Point((month_start + timedelta(hours=h)).astimezone(UTC), PER_HOUR) for h in range(31 * 24))


def _series(month_start: datetime, steps: int) -> tuple[Point, ...]:
    """Hourly buckets after ``steps`` 10-minute steps: full hours, then the current hour's share."""
    full, partial = divmod(steps, 6)
    points = _hours(month_start)[:full]
    if partial:
        points += (Point((month_start + timedelta(hours=full)).astimezone(UTC), PER_STEP * partial),)
    return points


def _simulate(until: datetime, silences: tuple[Silence, ...] = ()) -> Runner:
    cfg = config(budget(limit="10TB", thresholds=[50, 80, 100], forecast=True))
    runner = Runner(cfg)
    k = 0
    while (now := START + timedelta(minutes=10 * k)) < until:
        month_start = START if now < DECEMBER else DECEMBER
        steps = int((now - month_start).total_seconds()) // 600
        obs = observation(cfg, "traffic", PER_STEP * steps, now, series=_series(month_start, steps))
        runner.step(now, [obs], silences)
        k += 1
    return runner


@pytest.mark.slow
def test_a_month_every_ten_minutes() -> None:
    runner = _simulate(at("2026-12-05T00:00:00+08:00"))
    assert summary(runner.sent) == [
        ("2026-11-04T00:00:00+08:00", "forecast", "firing", None),
        ("2026-11-12T13:50:00+08:00", "threshold", "firing", 50.0),
        ("2026-11-19T12:30:00+08:00", "threshold", "firing", 80.0),
        ("2026-11-24T03:40:00+08:00", "threshold", "firing", 100.0),
        ("2026-12-04T00:00:00+08:00", "forecast", "firing", None),
    ]
    forecast = runner.sent[0]
    assert forecast.forecast == Decimal("12960000000000")
    assert forecast.value == Decimal("1296000000000")
    assert forecast.detail["forecast"]["method"] == "median-rate"
    assert runner.sent[-1].forecast == Decimal("13392000000000")
    # Every id is distinct and is the documented identity of the crossing.
    assert len({n.id for n in runner.sent}) == 5
    assert runner.sent[2].id == notification_id("traffic", "", "2026-11-01T00:00:00+08:00", "threshold", "80%")
    # The row shown at the step before 50 % is the forecast; at the step itself, the threshold.
    rows = {o.evaluations[0].to_dict()["period"]["start"] for o in runner.outcomes}
    assert rows == {"2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00"}
    before, crossing = runner.outcomes[1666].evaluations[0], runner.outcomes[1667].evaluations[0]
    assert (before.status, before.kind, before.level) == ("firing", "forecast", None)
    assert (crossing.status, crossing.kind, crossing.level, crossing.percent) == ("firing", "threshold", 50.0, 50.01)


@pytest.mark.slow
def test_a_silence_over_the_80_percent_crossing_holds_it_until_it_ends() -> None:
    quiet = Silence(
        id="sil-1",
        matchers={"budget": "traffic"},
        starts_at=at("2026-11-19T12:00:00+08:00"),
        ends_at=at("2026-11-19T15:00:00+08:00"),
    )
    runner = _simulate(at("2026-11-25T00:00:00+08:00"), (quiet,))
    assert summary(runner.sent) == [
        ("2026-11-04T00:00:00+08:00", "forecast", "firing", None),
        ("2026-11-12T13:50:00+08:00", "threshold", "firing", 50.0),
        ("2026-11-19T15:00:00+08:00", "threshold", "firing", 80.0),  # held from 12:30, told as the silence ends
        ("2026-11-24T03:40:00+08:00", "threshold", "firing", 100.0),
    ]
    released = runner.sent[2]
    assert released.id == notification_id("traffic", "", "2026-11-01T00:00:00+08:00", "threshold", "80%")
    assert released.detail["held"] is True
    crossing = runner.outcomes[2667]  # 11-19 12:30, inside the silence
    assert crossing.evaluations[0].silenced is True
    assert crossing.notifications == []
    assert crossing.ledger["entries"]["traffic|"]["held"] == {"threshold": released.id}
