"""Spike rules: yesterday and trailing-median baselines, robust spread, floor, firing and resolved."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from lib.config.models import Spike
from lib.model import Point
from lib.periods import zone
from lib.rules.spike import check_spike
from tests.unit.rules_support import Runner, at, budget, config, observation

UTC = zone("UTC")
SH = zone("Asia/Shanghai")


def _hours(first: str, values: list[int]) -> tuple[Point, ...]:
    start = at(first).astimezone(UTC)
    return tuple(Point(start + timedelta(hours=i), Decimal(v)) for i, v in enumerate(values))


@pytest.mark.parametrize(
    ("spec", "values", "now", "want"),
    [
        # Trailing median of 7 flat hours (100): 3x is 300.
        ({}, [100] * 7 + [301], "2026-11-22T08:00:00+08:00", (True, True, 100)),
        ({}, [100] * 7 + [300], "2026-11-22T08:00:00+08:00", (True, False, 100)),
        # The bucket still filling (07:00-08:00 at 07:59) is not judged; the last complete one is.
        ({}, [100] * 7 + [900], "2026-11-22T07:59:00+08:00", (True, False, 100)),
        # A noisy history: median 120, MAD 70 → must exceed 120 + 3 x 1.4826 x 70 = 431.35, not just 360.
        ({}, [100, 300, 50, 280, 90, 310, 120, 400], "2026-11-22T08:00:00+08:00", (True, False, 120)),
        ({}, [100, 300, 50, 280, 90, 310, 120, 432], "2026-11-22T08:00:00+08:00", (True, True, 120)),
        # The floor: 10x a tiny baseline is still not worth a page.
        ({"min_value": 1000}, [1] * 7 + [10], "2026-11-22T08:00:00+08:00", (True, False, 1)),
        ({"min_value": 1000}, [1] * 7 + [1000], "2026-11-22T08:00:00+08:00", (True, True, 1)),
        # Not enough history: not judged at all (no false resolved either).
        ({}, [100, 100, 900], "2026-11-22T03:00:00+08:00", (False, False, None)),
        ({}, [100], "2026-11-22T03:00:00+08:00", (False, False, None)),
        ({"window": 3}, [100, 100, 100, 900], "2026-11-22T04:00:00+08:00", (True, True, 100)),
    ],
)
def test_median_baseline(
    spec: dict[str, Any], values: list[int], now: str, want: tuple[bool, bool, int | None]
) -> None:
    evaluated, firing, baseline = want
    check = check_spike(Spike(**spec), _hours("2026-11-22T00:00:00+08:00", values), at(now), SH)
    assert (check.evaluated, check.firing) == (evaluated, firing)
    assert check.baseline == (None if baseline is None else Decimal(baseline))


def test_yesterday_baseline_same_local_time() -> None:
    spec = Spike(baseline="yesterday", factor=5)
    day = [10] * 24
    series = _hours("2026-11-21T00:00:00+08:00", day + [10] * 9 + [51])  # 11-22 09:00 is 5.1x yesterday 09:00
    check = check_spike(spec, series, at("2026-11-22T10:00:00+08:00"), SH)
    assert (check.evaluated, check.firing, check.baseline) == (True, True, Decimal(10))
    assert check.bucket == at("2026-11-22T09:00:00+08:00")
    quiet = check_spike(spec, (*series[:-1], Point(series[-1].time, Decimal(50))), at("2026-11-22T10:00:00+08:00"), SH)
    assert (quiet.evaluated, quiet.firing) == (True, False)
    # Without yesterday's bucket there is nothing to compare with.
    assert not check_spike(spec, series[24:], at("2026-11-22T10:00:00+08:00"), SH).evaluated


def test_yesterday_across_a_dst_change_is_the_same_wall_time() -> None:
    berlin = zone("Europe/Berlin")
    spec = Spike(baseline="yesterday", factor=2)
    # 2026-03-29 is 23 hours long in Berlin: 10:00 on the 30th is 23 real hours after 10:00 on the 29th.
    series = (
        Point(at("2026-03-29T10:00:00+02:00").astimezone(UTC), Decimal(100)),
        Point(at("2026-03-30T09:00:00+02:00").astimezone(UTC), Decimal(100)),
        Point(at("2026-03-30T10:00:00+02:00").astimezone(UTC), Decimal(250)),
    )
    check = check_spike(spec, series, at("2026-03-30T11:00:00+02:00"), berlin)
    assert (check.evaluated, check.firing, check.baseline) == (True, True, Decimal(100))


def _run_spikes(values_per_run: list[list[int]]) -> list[tuple[str, str]]:
    cfg = config(budget(spike={"baseline": "median", "factor": 3, "min_value": "1KB"}, period="day"))
    runner = Runner(cfg)
    told: list[tuple[str, str]] = []
    for i, values in enumerate(values_per_run):
        now: datetime = at("2026-11-22T00:00:00+08:00") + timedelta(hours=len(values))
        series = _hours("2026-11-22T00:00:00+08:00", values)
        obs = observation(cfg, "traffic", sum(values), now, series=series)
        outcome = runner.step(now + timedelta(minutes=i), [obs])
        told += [(n.kind, n.status) for n in outcome.notifications]
        for n in outcome.notifications:
            assert n.value == Decimal(values[-1])  # the bucket's value, not the day's total
            assert n.detail["baseline"] == "1000"
    return told


def test_spike_fires_then_resolves_through_evaluate() -> None:
    flat = [1000] * 8
    told = _run_spikes([flat, [*flat, 5000], [*flat, 5000, 1000]])
    assert told == [("spike", "firing"), ("spike", "resolved")]


def test_spike_that_stays_is_told_once() -> None:
    flat = [1000] * 8
    assert _run_spikes([[*flat, 5000], [*flat, 5000, 6000], [*flat, 5000, 6000, 7000]]) == [("spike", "firing")]
