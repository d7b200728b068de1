"""The EdgeOne request planner: sharing, zone batching, interval choice, windows across DST, splitting."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.config.models import Budget
from lib.sources import teo_plan
from lib.sources.metrics import aggregate, metric_info, p95
from lib.sources.teo_plan import Query, plan, windows

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")


def budget(name: str, **fields: Any) -> Budget:
    return Budget.model_validate({"name": name, "source": "teo", "metric": "acc_flux", **fields})


def zones(n: int, start: int = 0) -> list[str]:
    return [f"zone-{i:04d}" for i in range(start, start + n)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


NOW = at("2026-11-22T10:00:00.123456+08:00")


def test_budgets_asking_the_same_question_share_one_request() -> None:
    p = plan(
        [budget("a", thresholds=[50], limit="1TB"), budget("b", limit="2TB"), budget("c", metric="smt_flux")],
        NOW,
        SH,
    )
    assert len(p.fetches) == 2
    assert [bp.fetch for bp in p.budgets] == [0, 0, 1]
    assert [q.params() for q in p.queries] == [
        {
            "StartTime": "2026-11-01T00:00:00+08:00",
            "EndTime": "2026-11-22T10:00:00+08:00",
            "ZoneIds": ["*"],
            "MetricName": "acc_flux",
            "Interval": "day",
        },
        {
            "StartTime": "2026-11-01T00:00:00+08:00",
            "EndTime": "2026-11-22T10:00:00+08:00",
            "ZoneIds": ["*"],
            "MetricName": "smt_flux",
            "Interval": "day",
        },
    ]


def test_filters_group_by_and_period_make_different_questions() -> None:
    p = plan(
        [
            budget("a"),
            budget("b", filters={"region-id": ["CH"]}),
            budget("c", group_by=["region-id"]),
            budget("d", period="day"),
            budget("e", filters={"region-id": ["CH"]}),
        ],
        NOW,
        SH,
    )
    assert [bp.fetch for bp in p.budgets] == [0, 1, 2, 3, 1]
    assert len(p.queries) == 4


def test_group_by_order_does_not_matter_and_filters_become_one_entry_per_value() -> None:
    p = plan(
        [
            budget("a", group_by=["region-id", "zone-id"], filters={"region-id": ["EU", "CH"], "host": ["a.com"]}),
            budget("b", group_by=["zone-id", "region-id"], filters={"host": ["a.com"], "region-id": ["CH", "EU"]}),
        ],
        NOW,
        SH,
    )
    (query,) = p.queries
    params = query.params()
    assert params["GroupBy"] == ["region-id", "zone-id"]
    assert params["Filters"] == [
        {"Type": "host", "Value": "a.com"},
        {"Type": "region-id", "Value": "CH"},
        {"Type": "region-id", "Value": "EU"},
    ]


def test_zone_lists_merge_when_grouped_by_zone_and_go_100_per_request() -> None:
    p = plan(
        [
            budget("a", zones=zones(100), group_by=["zone-id"]),
            budget("b", zones=zones(100, 50), group_by=["zone-id"]),
            budget("c", zones=zones(100, 150), group_by=["zone-id"]),
        ],
        NOW,
        SH,
    )
    assert len(p.fetches) == 1
    assert [len(q.zones) for q in p.queries] == [100, 100, 50]
    assert sorted(z for q in p.queries for z in q.zones) == zones(250)


def test_zone_lists_stay_apart_without_zone_grouping() -> None:
    p = plan([budget("a", zones=zones(3)), budget("b", zones=zones(3, 1)), budget("c", zones=zones(3)[::-1])], NOW, SH)
    assert [bp.fetch for bp in p.budgets] == [0, 1, 0]
    assert [q.zones for q in p.queries] == [tuple(zones(3)), tuple(zones(3, 1))]


def test_star_is_passed_through_and_kept_apart_from_listed_zones() -> None:
    p = plan(
        [
            budget("a", group_by=["zone-id"]),
            budget("b", zones=zones(5), group_by=["zone-id"]),
            budget("c", group_by=["zone-id"], limit="plan"),
        ],
        NOW,
        SH,
    )
    assert [bp.fetch for bp in p.budgets] == [0, 1, 0]
    assert [q.zones for q in p.queries] == [("*",), tuple(zones(5))]


def test_thousand_zones_six_metrics_is_sixty_requests() -> None:
    metrics = ["acc_flux", "smt_flux", "l4_flux", "sec_request_clean", "smt_request_clean", "acc_bandwidth"]
    budgets = [
        budget(f"{m}-{k}", metric=m, zones=zones(100, 100 * k), group_by=["zone-id"])
        for m in metrics
        for k in range(10)
    ]
    p = plan(budgets, NOW, SH)
    assert len(p.queries) == 60
    assert {q.interval for q in p.queries} == {"day"}


@pytest.mark.parametrize(
    ("metric", "period", "how", "interval"),
    [
        ("acc_flux", "month", None, "day"),
        ("acc_flux", "day", None, "hour"),
        ("sec_request_clean", "month", "max", "day"),
        ("edgefunction_cpu_time", "day", None, "hour"),
        ("acc_bandwidth", "month", None, "day"),
        ("acc_bandwidth", "month", "max", "day"),
        ("acc_bandwidth", "month", "p95", "5min"),
        ("acc_bandwidth", "month", "avg", "5min"),
        ("acc_bandwidth", "month", "sum", "5min"),
        ("acc_bandwidth", "day", None, "5min"),
        ("l4_bandwidth", "day", "max", "5min"),
    ],
)
def test_the_coarsest_interval_that_answers(metric: str, period: str, how: str | None, interval: str) -> None:
    fields: dict[str, Any] = {"metric": metric, "period": period}
    if how:
        fields["aggregate"] = how
    (query,) = plan([budget("a", **fields)], NOW, SH).queries
    assert query.interval == interval


def test_peaks_of_zone_requests_that_must_be_added_use_5min_samples() -> None:
    # Config caps a budget at 100 zones, but the planner's rule holds for any list: peaks of two zone
    # sets do not add up, 5-minute samples do.
    wide = Budget.model_construct(**{**budget("a", metric="acc_bandwidth").__dict__, "zones": tuple(zones(150))})
    p = plan([wide], NOW, SH)
    assert [q.interval for q in p.queries] == ["5min", "5min"]


def test_day_period_window_and_hour_buckets() -> None:
    (query,) = plan([budget("a", period="day")], at("2026-11-22T00:30:59+08:00"), SH).queries
    assert (query.params()["StartTime"], query.params()["EndTime"]) == (
        "2026-11-22T00:00:00+08:00",
        "2026-11-22T00:30:59+08:00",
    )


def test_month_across_spring_forward_is_one_request_in_the_offset_of_its_start() -> None:
    (query,) = plan([budget("a")], at("2026-03-30T12:00:00+02:00"), BERLIN).queries
    assert (query.params()["StartTime"], query.params()["EndTime"]) == (
        "2026-03-01T00:00:00+01:00",
        "2026-03-30T11:00:00+01:00",
    )


def test_day_across_fall_back_is_one_request_in_the_offset_of_its_start() -> None:
    (query,) = plan([budget("a", period="day")], at("2026-11-01T12:00:00-05:00"), NY).queries
    assert (query.params()["StartTime"], query.params()["EndTime"], query.interval) == (
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T13:00:00-04:00",
        "hour",
    )


def test_a_month_after_the_change_starts_in_the_new_offset() -> None:
    (query,) = plan([budget("a")], at("2026-04-02T00:00:00+00:00"), BERLIN).queries
    assert query.params()["StartTime"] == "2026-04-01T00:00:00+02:00"


def test_a_month_longer_than_31_days_is_cut_on_a_bucket_boundary_times_zone_chunks() -> None:
    # October 2026 in Berlin is 31 days and one hour long; in its last hour the window is longer than
    # the API allows. The cut falls on midnight in the offset the whole window uses.
    p = plan(
        [budget("a", zones=zones(100), group_by=["zone-id"]), budget("b", zones=zones(50, 100), group_by=["zone-id"])],
        at("2026-10-31T23:30:00+01:00"),
        BERLIN,
    )
    assert [(q.start.isoformat(), q.end.isoformat(), len(q.zones)) for q in p.queries] == [
        ("2026-10-01T00:00:00+02:00", "2026-10-31T23:59:59+02:00", 100),
        ("2026-10-01T00:00:00+02:00", "2026-10-31T23:59:59+02:00", 50),
        ("2026-11-01T00:00:00+02:00", "2026-11-01T00:30:00+02:00", 100),
        ("2026-11-01T00:00:00+02:00", "2026-11-01T00:30:00+02:00", 50),
    ]
    assert all(q.end - q.start <= timedelta(days=31) for q in p.queries)


def test_windows_longer_than_31_days_are_cut() -> None:
    start = at("2026-01-01T00:00:00+08:00")
    pieces = windows(start, start + timedelta(days=70), SH)
    assert [(a.isoformat(), b.isoformat()) for a, b in pieces] == [
        ("2026-01-01T00:00:00+08:00", "2026-01-31T23:59:59+08:00"),
        ("2026-02-01T00:00:00+08:00", "2026-03-03T23:59:59+08:00"),
        ("2026-03-04T00:00:00+08:00", "2026-03-12T00:00:00+08:00"),
    ]


def test_zero_length_window_at_midnight() -> None:
    (query,) = plan([budget("a", period="day")], at("2026-11-22T00:00:00+08:00"), SH).queries
    assert query.start == query.end


def test_5min_months_grouped_by_zone_use_fewer_zones_per_request() -> None:
    p = plan([budget("a", metric="acc_bandwidth", aggregate="p95", zones=zones(100), group_by=["zone-id"])], NOW, SH)
    per = teo_plan.zones_per_request(("zone-id",), "5min", int((p.queries[0].end - p.queries[0].start).total_seconds()))
    assert per == teo_plan.MAX_RECORDS // (21 * 288 + 10 * 12 + 1)
    assert [len(q.zones) for q in p.queries[:-1]] == [per] * (len(p.queries) - 1)
    assert sum(len(q.zones) for q in p.queries) == 100


def query(zone_ids: tuple[str, ...], group_by: tuple[str, ...] = ("zone-id",)) -> Query:
    start = at("2026-11-01T00:00:00+08:00")
    return Query("acc_flux", zone_ids, (), group_by, "day", start, start + timedelta(days=3))


def test_split_halves_zone_lists_and_gives_up_on_one_zone_or_star() -> None:
    halves = teo_plan.split(query(tuple(zones(5))))
    assert [h.zones for h in halves] == [tuple(zones(2)), tuple(zones(3, 2))]
    assert all(h.start == query(()).start and h.interval == "day" for h in halves)
    assert teo_plan.split(query(("zone-1",))) == []
    assert teo_plan.split(query(("*",))) == []


def test_expand_resolves_star_into_chunks() -> None:
    parts = teo_plan.expand(query(("*",)), zones(250)[::-1])
    assert [len(p.zones) for p in parts] == [100, 100, 50]
    assert parts[0].zones[0] == "zone-0000"
    assert teo_plan.expand(query(("*",)), []) == []


def test_day_buckets_map_to_the_local_day_they_start_in_the_offset_of_the_request() -> None:
    (query,) = plan([budget("a")], at("2026-03-31T12:00:00+02:00"), BERLIN).queries
    assert teo_plan.day_of_bucket(at("2026-02-28T23:00:00+00:00"), query, BERLIN) == at("2026-02-28T23:00:00+00:00")
    # After the change a +01:00 midnight is 01:00 local: the bucket is that local day's.
    assert teo_plan.day_of_bucket(at("2026-03-30T23:00:00+00:00"), query, BERLIN) == at("2026-03-30T22:00:00+00:00")


def test_floor_step_follows_local_hours_and_days() -> None:
    kathmandu = ZoneInfo("Asia/Kathmandu")  # +05:45
    assert teo_plan.floor_step(at("2026-01-01T00:20:00+00:00"), "hour", kathmandu) == at("2026-01-01T00:15:00+00:00")
    assert teo_plan.floor_step(at("2026-11-01T06:30:00+00:00"), "hour", NY) == at("2026-11-01T06:00:00+00:00")
    assert teo_plan.floor_step(at("2026-11-01T05:30:00+00:00"), "hour", NY) == at("2026-11-01T05:00:00+00:00")
    assert teo_plan.floor_step(at("2026-11-01T03:59:59+00:00"), "day", NY) == at("2026-10-31T04:00:00+00:00")


ZONES = [ZoneInfo(n) for n in ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe")]


@settings(max_examples=200, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)),
    seconds=st.integers(min_value=0, max_value=100 * 86400),
)
def test_windows_cover_the_range_exactly_in_the_offset_of_the_start(
    tz: ZoneInfo, start: datetime, seconds: int
) -> None:
    lo = start.replace(microsecond=0, tzinfo=timezone.utc)
    hi = lo + timedelta(seconds=seconds)
    pieces = windows(lo, hi, tz)
    offset = lo.astimezone(tz).utcoffset()
    assert pieces[0][0] == lo
    assert pieces[-1][1] == hi
    for (_, end), (nxt, _) in itertools.pairwise(pieces):
        assert nxt - end == timedelta(seconds=1)
    for a, b in pieces:
        assert a <= b
        assert b - a <= timedelta(days=31)
        assert a.utcoffset() == b.utcoffset() == offset
        assert a.microsecond == 0
        assert (a - pieces[0][0]) % timedelta(days=1) == timedelta(0)  # pieces start on day buckets


def test_metric_families_and_units() -> None:
    assert (metric_info("acc_flux").unit, metric_info("acc_flux").additive) == ("B", True)
    assert (metric_info("acc_bandwidth").unit, metric_info("acc_bandwidth").additive) == ("bps", False)
    assert metric_info("acc_bandwidth").default_aggregate() == "max"
    assert metric_info("sec_request_clean").unit == "count"
    assert metric_info("edgefunction_cpu_time").unit == "ms"
    assert metric_info("transcode_H264_2K").unit == "s"
    assert metric_info("acc_flux").plan_quota == "AccTrafficCapacity"
    assert metric_info("new_flux").unit == "B"  # not in the table yet: classified by name
    assert metric_info("future_thing").unit == ""


def test_p95_is_nearest_rank() -> None:
    assert p95([Decimal(i) for i in range(1, 101)]) == 95
    assert p95([Decimal(i) for i in range(20, 0, -1)]) == 19  # 0.95 * 20 is exactly 19
    assert p95([Decimal(7)]) == 7
    assert aggregate("avg", [Decimal(1), Decimal(2)]) == Decimal("1.5")
    assert aggregate("max", []) == 0
    assert aggregate("sum", [Decimal(1), Decimal(2)]) == 3
