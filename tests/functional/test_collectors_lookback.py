"""EdgeOne collector, spike lookback over ``responses``: the exact request windows that reach back before the
period for a spike baseline (median and yesterday, month and day budgets, DST zones, 31-day pieces),
and that values and series stay the period's own while ``history`` carries the points before it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lib.client import ApiClient
from lib.model import Observation
from lib.sources import collect
from tests.functional.teo_support import STEP, FakeTeo, at, config, serve, slots

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
ZONE = ["zone-0000"]  # rate 1 per 5-minute slot: a whole day bucket is 288, an hour 12


def run(
    client: ApiClient, tz: str, now: str, *budgets: dict[str, Any], clip: bool = False
) -> tuple[FakeTeo, list[Observation]]:
    moment = at(now)
    fake = FakeTeo(ZONE, now=moment, clip=clip)
    with serve(fake):
        found = collect(config(tz, *({"zones": ZONE, **b} for b in budgets)), client, moment)
    return fake, found


def windows(fake: FakeTeo) -> list[tuple[str, str, str]]:
    return sorted((p["StartTime"], p["EndTime"], p["Interval"]) for p in fake.of("DescribeBillingData"))


def local(obs_points: tuple[Any, ...], tz: ZoneInfo, fmt: str = "%m-%d %H:%M") -> list[str]:
    return [p.time.astimezone(tz).strftime(fmt) for p in obs_points]


@pytest.mark.parametrize("clip", [False, True], ids=["whole-buckets", "clipped-buckets"])
def test_month_median_on_day_2_reaches_back_window_plus_one_days_and_shares_the_request(
    client: ApiClient, clip: bool
) -> None:
    fake, (spiky, plain) = run(
        client,
        "Asia/Shanghai",
        "2026-11-02T10:00:00+08:00",
        {"name": "spiky", "spike": {"window": 7}},
        {"name": "plain", "limit": "1TB"},  # same question, no spike: shares the widened request
        clip=clip,
    )
    assert windows(fake) == [("2026-10-24T00:00:00+08:00", "2026-11-02T10:00:00+08:00", "day")]
    # The judged bucket right after midnight is 31 October; its median needs the 7 days before it.
    assert local(spiky.history, SH) == [f"10-{d} 00:00" for d in range(24, 32)]
    assert [p.value for p in spiky.history] == [288] * 8
    assert plain.history == ()
    month = slots(at("2026-11-01T00:00:00+08:00"), at("2026-11-02T10:00:00+08:00"))
    for obs in (spiky, plain):
        assert obs.value == Decimal(month)  # the period so far, never the lookback
        assert local(obs.series, SH) == ["11-01 00:00", "11-02 00:00"]
        assert sum(p.value for p in obs.series) == obs.value


def test_month_yesterday_reaches_back_two_days(client: ApiClient) -> None:
    fake, (obs,) = run(
        client, "Asia/Shanghai", "2026-11-02T10:00:00+08:00", {"name": "y", "spike": {"baseline": "yesterday"}}
    )
    assert windows(fake) == [("2026-10-30T00:00:00+08:00", "2026-11-02T10:00:00+08:00", "day")]
    assert local(obs.history, SH) == ["10-30 00:00", "10-31 00:00"]


def test_day_budgets_at_01_00_yesterday_and_median_share_the_widest_hour_request(client: ApiClient) -> None:
    fake, (yesterday, median, plain) = run(
        client,
        "Asia/Shanghai",
        "2026-11-22T01:00:00+08:00",
        {"name": "yesterday", "period": "day", "spike": {"baseline": "yesterday"}},
        {"name": "median", "period": "day", "spike": {"window": 5}},
        {"name": "plain", "period": "day"},
    )
    # 23:00 on the 21st is judged at 00:30 on the 22nd; its baseline is 23:00 on the 20th.
    assert windows(fake) == [("2026-11-20T23:00:00+08:00", "2026-11-22T01:00:00+08:00", "hour")]
    assert len(yesterday.history) == 25
    assert local(yesterday.history, SH)[:2] == ["11-20 23:00", "11-21 00:00"]
    assert local(median.history, SH) == [f"11-21 {h}:00" for h in range(18, 24)]
    assert plain.history == ()
    assert {p.value for p in yesterday.history} == {12}
    for obs in (yesterday, median, plain):
        assert obs.value == 12  # 00:00-01:00 only
        assert local(obs.series, SH) == ["11-22 00:00"]


def test_month_in_a_dst_zone_reaches_back_across_the_change_in_the_periods_offset(client: ApiClient) -> None:
    # November in Berlin is +01:00; the lookback into October (+02:00 until the 25th) is asked in +01:00,
    # from that offset's midnight of 24 October, so November's own buckets are the same as without it.
    now = "2026-11-03T10:00:00+01:00"
    fake, (obs,) = run(client, "Europe/Berlin", now, {"name": "m", "spike": {}})
    assert windows(fake) == [("2026-10-24T00:00:00+01:00", "2026-11-03T10:00:00+01:00", "day")]
    assert local(obs.history, BERLIN, "%m-%d %H:%M%z") == [f"10-{d} 00:00+0200" for d in range(24, 26)] + [
        f"10-{d} 00:00+0100" for d in range(26, 32)
    ]
    assert obs.value == Decimal(slots(at("2026-11-01T00:00:00+01:00"), at(now)))
    _, (without,) = run(client, "Europe/Berlin", now, {"name": "m"})
    assert (obs.value, obs.series) == (without.value, without.series)


def test_month_in_a_dst_zone_after_spring_forward(client: ApiClient) -> None:
    fake, (obs,) = run(client, "Europe/Berlin", "2026-04-03T10:00:00+02:00", {"name": "m", "spike": {}})
    assert windows(fake) == [("2026-03-24T00:00:00+02:00", "2026-04-03T10:00:00+02:00", "day")]
    assert local(obs.history, BERLIN) == [f"03-{d} 00:00" for d in range(24, 32)]


@pytest.mark.parametrize(
    ("now", "start", "hours"),
    [
        # 25 October was 25 hours long: 23:00 on the 24th (+02:00) is 22:00 in the period's +01:00,
        # 1 + 25 hours before the 26th's midnight.
        ("2026-10-26T01:00:00+01:00", "2026-10-24T22:00:00+01:00", 26),
        # 29 March was 23 hours long: 23:00 on the 28th (+01:00) is midnight in +02:00, 1 + 23 hours.
        ("2026-03-30T01:00:00+02:00", "2026-03-29T00:00:00+02:00", 24),
    ],
    ids=["after-fall-back", "after-spring-forward"],
)
def test_day_yesterday_in_a_dst_zone_reaches_the_same_wall_time(
    client: ApiClient, now: str, start: str, hours: int
) -> None:
    fake, (obs,) = run(client, "Europe/Berlin", now, {"name": "d", "period": "day", "spike": {"baseline": "yesterday"}})
    assert windows(fake) == [(start, now, "hour")]
    assert len(obs.history) == hours  # every hour from the start up to the period's midnight
    assert local(obs.history, BERLIN)[0] == at(start).astimezone(BERLIN).strftime("%m-%d %H:%M")
    assert local(obs.history, BERLIN)[0].endswith("23:00")
    assert obs.value == 12


def test_a_long_median_window_is_cut_into_31_day_pieces_and_the_value_is_exact(client: ApiClient) -> None:
    now = "2026-11-22T10:00:00+08:00"
    fake, (obs,) = run(client, "Asia/Shanghai", now, {"name": "long", "spike": {"window": 40}})
    assert windows(fake) == [
        ("2026-09-21T00:00:00+08:00", "2026-10-21T23:59:59+08:00", "day"),
        ("2026-10-22T00:00:00+08:00", "2026-11-21T23:59:59+08:00", "day"),
        ("2026-11-22T00:00:00+08:00", now, "day"),
    ]
    assert len(obs.history) == 41 and local(obs.history, SH)[0] == "09-21 00:00"
    assert obs.value == Decimal(slots(at("2026-11-01T00:00:00+08:00"), at(now)))
    assert len(obs.series) == 22


def test_bandwidth_p95_month_value_and_series_are_unchanged_by_the_lookback(client: ApiClient) -> None:
    def level(zone: str, t: int) -> int:
        return (t // STEP) % 97 * 1000  # no two days alike

    now = at("2026-11-05T10:00:00+08:00")
    found: dict[bool, Observation] = {}
    requests: dict[bool, list[tuple[str, str, str]]] = {}
    for spike in (False, True):
        fake = FakeTeo(ZONE, now=now, level=level)
        extra = {"spike": {"window": 3}} if spike else {}
        budget = {"name": "bw", "metric": "acc_bandwidth", "aggregate": "p95", "zones": ZONE, **extra}
        with serve(fake):
            (found[spike],) = collect(config("Asia/Shanghai", budget), client, now)
        requests[spike] = windows(fake)
    assert requests[True] == [("2026-10-28T00:00:00+08:00", "2026-11-05T10:00:00+08:00", "5min")]
    assert requests[False] == [("2026-11-01T00:00:00+08:00", "2026-11-05T10:00:00+08:00", "5min")]
    with_lookback, without = found[True], found[False]
    assert with_lookback.value == without.value and with_lookback.value is not None
    assert with_lookback.series == without.series and len(without.series) == 5
    assert local(with_lookback.history, SH) == [f"10-{d} 00:00" for d in range(28, 32)]
    # Each history point is that day's p95 of its 288 samples, like the series points.
    day0 = int(at("2026-10-28T00:00:00+08:00").timestamp())
    samples = sorted(level("", t) for t in range(day0, day0 + 86400, STEP))
    assert with_lookback.history[0].value == samples[-(-95 * len(samples) // 100) - 1]


def test_a_failed_lookback_request_fails_the_budget_as_before(client: ApiClient) -> None:
    moment = at("2026-11-02T10:00:00+08:00")

    def fail(p: dict[str, Any]) -> tuple[str, str] | None:
        return ("InternalError", "backend") if p["StartTime"].startswith("2026-10") else None

    fake = FakeTeo(ZONE, now=moment, fail=fail)
    cfg = config(
        "Asia/Shanghai", {"name": "s", "zones": ZONE, "spike": {}}, {"name": "p", "zones": ZONE, "period": "day"}
    )
    with serve(fake):
        spiky, plain = collect(cfg, client, moment)
    assert (spiky.value, spiky.history, spiky.error) == (None, (), "InternalError: backend")
    assert plain.ok  # another question, another request
