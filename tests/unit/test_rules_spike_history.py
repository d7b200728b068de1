"""Spike rules with the collector's lookback (``Observation.history``): judged from the first buckets of a
period, the previous period's last bucket included; the forecast and the value never see the history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lib.config.models import Config, Spike
from lib.model import Notification, Observation, Point, notification_id
from lib.periods import current_period, zone
from lib.rules import evaluate
from lib.rules.spike import check_spike
from tests.unit.rules_support import Runner, at, budget, config

UTC = zone("UTC")
SH = zone("Asia/Shanghai")
BERLIN = zone("Europe/Berlin")


def days(first: str, values: Sequence[int], tz: Any = SH) -> tuple[Point, ...]:
    """One point per local day from the date ``first`` (local midnights, as the collector labels them)."""
    start = datetime.fromisoformat(first).date()
    return tuple(
        Point(
            current_period(
                "day", datetime.combine(start + timedelta(days=i), datetime.min.time(), tz), tz
            ).start.astimezone(UTC),
            Decimal(v),
        )
        for i, v in enumerate(values)
    )


def hours(first: str, values: Sequence[int]) -> tuple[Point, ...]:
    start = at(first).astimezone(UTC)
    return tuple(Point(start + timedelta(hours=i), Decimal(v)) for i, v in enumerate(values))


def observe(
    cfg: Config, now: datetime, series: tuple[Point, ...], history: tuple[Point, ...] = (), name: str = "traffic"
) -> Observation:
    b = cfg.budget(name)
    assert b is not None
    return Observation(
        budget=name,
        group=(),
        period=current_period(b.period, now, zone(cfg.timezone)),
        value=sum((p.value for p in series), Decimal(0)),
        unit="B",
        series=series,
        as_of=now,
        history=history,
    )


def spikes(notifications: Sequence[Notification]) -> list[tuple[str, datetime]]:
    """(status, judged bucket) of the spike notifications."""
    return [(n.status, bucket(n)) for n in notifications if n.kind == "spike"]


def bucket(n: Notification) -> datetime:
    return datetime.fromisoformat(str(n.detail["bucket"]))


def same_id_scheme(n: Notification) -> bool:
    return n.id == notification_id(n.budget, "", "spike", n.status, n.detail["episode"], str(n.detail["repeat"]))


MONTH = config(budget(spike={"window": 7, "factor": 3}))


def test_a_spike_on_the_1st_is_told_on_day_2_of_the_month() -> None:
    now = at("2026-11-02T10:00:00+08:00")
    history = days("2026-10-24", [1000] * 8)  # 24..31 October: the collector's lookback
    series = days("2026-11-01", [5000, 400])  # 1 November complete, 2 November filling
    runner = Runner(MONTH)
    outcome = runner.step(now, [observe(MONTH, now, series, history)])
    (told,) = outcome.notifications
    assert (told.kind, told.status, told.value) == ("spike", "firing", Decimal(5000))
    assert bucket(told) == at("2026-11-01T00:00:00+08:00")
    assert told.detail["baseline"] == "1000"
    assert same_id_scheme(told)
    assert told.period.start == at("2026-11-01T00:00:00+08:00")  # the period is November's all the same
    (row,) = outcome.evaluations
    assert (row.status, row.kind, row.value) == ("firing", "spike", Decimal(5400))  # value: the period so far
    # Without the lookback the same data has no baseline on day 2: nothing is judged.
    assert evaluate(MONTH, [observe(MONTH, now, series)], None, now).notifications == []
    # Next day, 2 November complete and normal: resolved, under the same id scheme.
    later = at("2026-11-03T10:00:00+08:00")
    outcome = runner.step(later, [observe(MONTH, later, days("2026-11-01", [5000, 1000, 300]), history[1:])])
    assert spikes(outcome.notifications) == [("resolved", at("2026-11-02T00:00:00+08:00"))]
    assert same_id_scheme(outcome.notifications[0])


def test_the_last_day_of_the_previous_month_is_judged_just_after_midnight() -> None:
    runner = Runner(MONTH)
    now = at("2026-11-01T00:30:00+08:00")
    history = days("2026-10-23", [1000] * 8 + [9000])  # 31 October spiked
    outcome = runner.step(now, [observe(MONTH, now, days("2026-11-01", [20]), history)])
    assert spikes(outcome.notifications) == [("firing", at("2026-10-31T00:00:00+08:00"))]
    later = at("2026-11-02T00:30:00+08:00")
    outcome = runner.step(later, [observe(MONTH, later, days("2026-11-01", [1000, 20]), history[1:])])
    assert spikes(outcome.notifications) == [("resolved", at("2026-11-01T00:00:00+08:00"))]


def test_yesterday_baseline_at_01_00_of_a_day() -> None:
    cfg = config(budget(period="day", spike={"baseline": "yesterday", "factor": 3}))
    runner = Runner(cfg)
    now = at("2026-11-22T01:00:00+08:00")
    history = hours("2026-11-20T23:00:00+08:00", [100] * 25)  # 23:00 on the 20th .. 23:00 on the 21st
    outcome = runner.step(now, [observe(cfg, now, hours("2026-11-22T00:00:00+08:00", [500]), history)])
    (told,) = outcome.notifications
    assert (told.kind, told.status, told.value, told.detail["baseline"]) == ("spike", "firing", Decimal(500), "100")
    assert bucket(told) == at("2026-11-22T00:00:00+08:00")
    assert told.detail["bucket_seconds"] == 3600
    assert same_id_scheme(told)
    # A day budget could never compare with yesterday before: its series starts at midnight.
    assert evaluate(cfg, [observe(cfg, now, hours("2026-11-22T00:00:00+08:00", [500]))], None, now).notifications == []
    later = at("2026-11-22T02:00:00+08:00")
    outcome = runner.step(later, [observe(cfg, later, hours("2026-11-22T00:00:00+08:00", [500, 100]), history)])
    assert spikes(outcome.notifications) == [("resolved", at("2026-11-22T01:00:00+08:00"))]


def test_history_never_reaches_the_forecast() -> None:
    cfg = config(budget(limit="100KB", forecast=True, spike={"window": 7}))
    now = at("2026-11-10T12:00:00+08:00")
    series = days("2026-11-01", [1000] * 9 + [500])
    plain = evaluate(cfg, [observe(cfg, now, series)], None, now)
    huge = evaluate(cfg, [observe(cfg, now, series, days("2026-10-24", [10**9] * 8))], None, now)
    assert plain.evaluations[0].forecast is not None
    assert huge.evaluations[0].forecast == plain.evaluations[0].forecast
    assert huge.evaluations[0].value == plain.evaluations[0].value == Decimal(9500)
    assert [n.kind for n in huge.notifications] == [n.kind for n in plain.notifications] == []


def test_a_23_hour_day_in_the_history_does_not_make_today_complete_an_hour_early() -> None:
    # 29 March 2026 is 23 hours long in Berlin. At 23:30 on 2 April, 2 April is still filling: the judged
    # bucket is 1 April, even though the smallest gap between the points is 23 hours.
    points = (*days("2026-03-24", [1000] * 8, BERLIN), *days("2026-04-01", [1000, 5000], BERLIN))
    check = check_spike(Spike(window=7), points, at("2026-04-02T23:30:00+02:00"), BERLIN)
    assert (check.evaluated, check.firing) == (True, False)
    assert check.bucket == at("2026-04-01T00:00:00+02:00")
    assert check.bucket_seconds == 86400
    done = check_spike(Spike(window=7), points, at("2026-04-03T00:00:00+02:00"), BERLIN)
    assert (done.firing, done.bucket) == (True, at("2026-04-02T00:00:00+02:00"))
    short = check_spike(Spike(window=3), points[:8], at("2026-03-30T00:00:00+02:00"), BERLIN)
    assert (short.bucket, short.bucket_seconds) == (at("2026-03-29T00:00:00+01:00"), 23 * 3600)
