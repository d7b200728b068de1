"""Forecast: projected period total by median step rate, with its waiting time and fallbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from lib.model import Point
from lib.periods import current_period, zone
from lib.rules.forecast import data_end, project
from tests.unit.rules_support import Runner, at, budget, config, hourly_series, observation

UTC = zone("UTC")


def _days(start: str, amounts: dict[int, int | Decimal]) -> tuple[Point, ...]:
    """Day buckets at local midnights: {day index from ``start``: amount}; missing days have no bucket."""
    first = at(start)
    return tuple(Point((first + timedelta(days=i)).astimezone(UTC), Decimal(a)) for i, a in sorted(amounts.items()))


def _hourly(tz: str, kind: str, now: datetime, per_hour: int) -> tuple[Point, ...]:
    start = current_period(kind, now, zone(tz)).start  # type: ignore[arg-type]
    return hourly_series(start, now, Decimal(per_hour))


@pytest.mark.parametrize(
    ("tz", "kind", "now", "series", "want"),
    [
        # A month waits for 3 complete local days.
        ("Asia/Shanghai", "month", "2026-11-03T23:59:59+08:00", "hourly10", (720, None, "too-early")),
        # 3 days x 240: the median day is 240, 27 days remain.
        ("Asia/Shanghai", "month", "2026-11-04T00:00:00+08:00", "hourly10", (720, 720 + 240 * 27, "median-rate")),
        # One noisy day does not move the median (the run rate would say 100300 x 30 / 4 = 752250).
        ("Asia/Shanghai", "month", "2026-11-05T00:00:00+08:00", "noisy", (100300, 100300 + 100 * 26, "median-rate")),
        # Missing days are left out, not read as zero (zeros would make the median 0).
        ("Asia/Shanghai", "month", "2026-11-08T00:00:00+08:00", "gappy", (300, 300 + 100 * 23, "median-rate")),
        # The first hour of a month, however large its bucket, projects nothing.
        ("Asia/Shanghai", "month", "2026-11-01T01:00:00+08:00", "first-hour", (10**12, None, "too-early")),
        # A day waits for 6 complete hours.
        ("Asia/Shanghai", "day", "2026-11-22T05:59:59+08:00", "hourly10", (59, None, "too-early")),
        ("Asia/Shanghai", "day", "2026-11-22T06:00:00+08:00", "hourly10", (60, 60 + 10 * 18, "median-rate")),
        # DST: 2026-10-25 in Berlin has 25 hours, 2026-03-08 in New York 23; six hours after midnight:
        ("Europe/Berlin", "day", "2026-10-25T05:00:00+01:00", "hourly10", (60, 250, "median-rate")),
        ("America/New_York", "day", "2026-03-08T07:00:00-04:00", "hourly10", (60, 230, "median-rate")),
        # Day buckets (as the collector sends for a month) in a month with a 23-hour day still split by day.
        ("America/New_York", "month", "2026-03-11T00:00:00-04:00", "ny-days", (1000, 1000 + 100 * 21, "median-rate")),
        # No series (billing cost): the run rate, 10 of 30 days gone.
        ("Asia/Shanghai", "month", "2026-11-11T00:00:00+08:00", "none", (2000, 6000, "run-rate")),
        # Buckets wider than a step (a day bucket for a day budget) cannot be split: run rate (12 of 24 h).
        ("Asia/Shanghai", "day", "2026-11-22T12:00:00+08:00", "daybucket", (50, 100, "run-rate")),
    ],
)
def test_projection(tz: str, kind: str, now: str, series: str, want: tuple[int, int | None, str]) -> None:
    value, expected, method = want  # the value so far, the projection, the method
    instant = at(now)
    series_makers: dict[str, Callable[[], tuple[Point, ...]]] = {
        "hourly10": lambda: _hourly(tz, kind, instant, 10),
        "noisy": lambda: _days("2026-11-01T00:00:00+08:00", {0: 100, 1: 100, 2: 100000, 3: 100}),
        "gappy": lambda: _days("2026-11-01T00:00:00+08:00", {0: 100, 1: 100, 2: 100}),
        "first-hour": lambda: (Point(at("2026-10-31T16:00:00+00:00"), Decimal(10**12)),),
        "none": lambda: (),
        "ny-days": lambda: tuple(
            Point(at(day).astimezone(UTC), Decimal(100))
            for day in [
                "2026-03-02T00:00:00-05:00",
                "2026-03-03T00:00:00-05:00",
                "2026-03-04T00:00:00-05:00",
                "2026-03-05T00:00:00-05:00",
            ]
        ),
        "daybucket": lambda: (Point(at("2026-11-21T16:00:00+00:00"), Decimal(50)),),
    }
    points = series_makers[series]()
    period = current_period(kind, instant, zone(tz))  # type: ignore[arg-type]
    result = project(kind, period, Decimal(value), points, now=instant, tz=zone(tz))
    assert result.method == method
    assert result.value == (None if expected is None else Decimal(expected))


def test_forecast_fires_once_per_period_and_again_in_the_next() -> None:
    cfg = config(budget(limit=1000, thresholds=[100], forecast=True))
    runner = Runner(cfg)
    told: list[tuple[str, str]] = []
    for now in ["2026-11-03T12:00:00+08:00", "2026-11-04T00:00:00+08:00", "2026-11-05T00:00:00+08:00",
                "2026-12-03T23:50:00+08:00", "2026-12-04T00:00:00+08:00"]:  # fmt: skip
        instant = at(now)
        series = _hourly("Asia/Shanghai", "month", instant, 1)  # 24 a day: 720 in a 30-day month
        value = sum((p.value for p in series), Decimal(0))
        outcome = runner.step(instant, [observation(cfg, "traffic", value, instant, series=series)])
        assert outcome.evaluations[0].status == "ok"
        told += [(n.at.isoformat(), n.kind) for n in outcome.notifications]
    # 24/day projects 720 for November and 744 for December: under 1000, so nothing yet.
    assert told == []

    cfg = config(budget(limit=700, thresholds=[100], forecast=True))
    runner = Runner(cfg)
    told_forecasts: list[tuple[str, str, Decimal | None]] = []
    for now in ["2026-11-03T12:00:00+08:00", "2026-11-04T00:00:00+08:00", "2026-11-05T00:00:00+08:00",
                "2026-12-03T23:50:00+08:00", "2026-12-04T00:00:00+08:00"]:  # fmt: skip
        instant = at(now)
        series = _hourly("Asia/Shanghai", "month", instant, 1)
        value = sum((p.value for p in series), Decimal(0))
        outcome = runner.step(instant, [observation(cfg, "traffic", value, instant, series=series)])
        told_forecasts += [(n.at.isoformat(), n.kind, n.forecast) for n in outcome.notifications]
    assert told_forecasts == [
        ("2026-11-04T00:00:00+08:00", "forecast", Decimal(720)),
        ("2026-12-04T00:00:00+08:00", "forecast", Decimal(744)),
    ]


def test_no_forecast_once_the_limit_itself_is_crossed() -> None:
    cfg = config(budget(limit=100, thresholds=[100], forecast=True))
    now = at("2026-11-11T00:00:00+08:00")
    runner = Runner(cfg)
    outcome = runner.step(now, [observation(cfg, "traffic", 150, now)])
    assert [n.kind for n in outcome.notifications] == ["threshold"]
    assert outcome.evaluations[0].forecast == Decimal(450)  # still reported: 150 x 30 / 10


def test_forecast_off_reports_but_does_not_tell() -> None:
    cfg = config(budget(limit=100, thresholds=[100]))
    now = at("2026-11-11T00:00:00+08:00")
    outcome = Runner(cfg).step(now, [observation(cfg, "traffic", 50, now)])
    assert outcome.notifications == []
    (row,) = outcome.evaluations
    assert (row.status, row.forecast) == ("ok", Decimal(150))


def test_bandwidth_has_no_forecast() -> None:
    cfg = config(budget(metric="acc_bandwidth", limit="1Gbps", thresholds=[80]))
    now = at("2026-11-10T00:00:00+08:00")
    outcome = Runner(cfg).step(now, [observation(cfg, "traffic", 10**8, now, unit="bps")])
    assert outcome.evaluations[0].forecast is None


def _late(cfg_budget: dict[str, object], value: str, now: str, until: str, series: tuple[Point, ...]) -> Decimal | None:
    """The forecast the engine reports for an observation whose data ends at ``until``, short of ``now``."""
    cfg = config(cfg_budget)
    instant = at(now)
    obs = replace(observation(cfg, "traffic", value, instant, series=series), data_until=at(until))
    (row,) = Runner(cfg).step(instant, [obs]).evaluations
    return row.forecast


def test_late_data_is_projected_from_where_it_ends_not_from_now() -> None:
    # 100 a day, 30 days: 3,000. The data ends at midnight, now is noon: half a day not yet reported.
    days = _days("2026-11-01T00:00:00+08:00", dict.fromkeys(range(9), 100))
    forecast = _late(
        budget(limit=5000, forecast=True), "900", "2026-11-10T12:00:00+08:00", "2026-11-10T00:00:00+08:00", days
    )
    assert forecast == Decimal(3000)  # from now it would be 900 + 100 x 20.5 = 2950
    period = current_period("month", at("2026-11-10T12:00:00+08:00"), zone("Asia/Shanghai"))
    from_now = project(
        "month", period, Decimal(900), days, now=at("2026-11-10T12:00:00+08:00"), tz=zone("Asia/Shanghai")
    )
    assert from_now.value == Decimal(2950)


def test_a_day_the_data_only_partly_covers_is_not_a_complete_step() -> None:
    # Data to 21:00 on the 9th, now 03:00 on the 10th: the 9th holds 21 hours (87.5), not a whole day.
    days = _days("2026-11-01T00:00:00+08:00", {**dict.fromkeys(range(8), 100), 8: Decimal("87.5")})
    forecast = _late(
        budget(limit=5000, forecast=True), "887.5", "2026-11-10T03:00:00+08:00", "2026-11-09T21:00:00+08:00", days
    )
    assert forecast == Decimal(3000)  # 887.5 + 100 x (3/24 of the 9th + 21 days)


def test_late_data_without_a_series_runs_its_rate_to_where_it_ends() -> None:
    # Billing-like: no series, the run rate. 900 over the 9 days the data covers, not the 9.5 since the month began.
    forecast = _late(
        budget(limit=5000, forecast=True), "900", "2026-11-10T12:00:00+08:00", "2026-11-10T00:00:00+08:00", ()
    )
    assert forecast == Decimal(3000)


def test_data_end_is_data_until_else_as_of_else_now_and_never_later_than_now() -> None:
    cfg = config(budget())
    now = at("2026-11-10T12:00:00+08:00")
    obs = observation(cfg, "traffic", 1, now)
    assert data_end(replace(obs, as_of=None), now) == now
    assert data_end(replace(obs, as_of=at("2026-11-10T11:50:00+08:00")), now) == at("2026-11-10T11:50:00+08:00")
    late = replace(obs, data_until=at("2026-11-10T09:35:00+08:00"))
    assert data_end(late, now) == at("2026-11-10T09:35:00+08:00")
    assert data_end(replace(obs, as_of=at("2026-11-10T13:00:00+08:00")), now) == now
