"""Properties of DescribeBillingData: intervals agree, groupings agree, same question -> same answer."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.catalogue import PEAK_METRICS
from tests.unit.sandbox_support import billing_data, small

SC = small()
METRICS = ["acc_flux", "acc_bandwidth", "l4_flux", "l4_bandwidth", "sec_request_clean", "ddos_bandwidth", "smt_flux"]
OFFSETS = [-5 * 60, 0, 5 * 60 + 30, 8 * 60, 9 * 60]
FILTERS = [
    {"Type": "host", "Value": "www.a.example.com"},
    {"Type": "host", "Value": "b.example.org"},
    {"Type": "region-id", "Value": "CH"},
    {"Type": "region-id", "Value": "NA"},
    {"Type": "proxy-id", "Value": "sid-a1"},
]
GROUPINGS = [["zone-id"], ["host"], ["region-id"], ["proxy-id"], ["zone-id", "region-id"], ["host", "region-id"]]

windows = st.tuples(
    st.dates(min_value=date(2026, 10, 28), max_value=date(2026, 11, 12)),
    st.sampled_from(OFFSETS),
    st.integers(min_value=1, max_value=2),
)


def _iso(day: date, offset_minutes: int, plus_days: int = 0) -> str:
    tz = timezone(timedelta(minutes=offset_minutes))
    return (datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(days=plus_days)).isoformat()


def _query(metric: str, window: tuple[date, int, int], interval: str, **extra: Any) -> dict[str, Any]:
    day, offset, days = window
    return {
        "StartTime": _iso(day, offset),
        "EndTime": _iso(day, offset, days),
        "ZoneIds": ["*"],
        "MetricName": metric,
        "Interval": interval,
        **extra,
    }


def _values(data: list[dict[str, Any]]) -> list[int]:
    return [row["Value"] for row in data]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(METRICS), windows, st.lists(st.sampled_from(FILTERS), max_size=3, unique_by=str))
def test_five_minutes_add_up_to_hours_and_hours_to_days(
    metric: str, window: tuple[date, int, int], filters: list[dict[str, str]]
) -> None:
    five = _values(billing_data(SC, **_query(metric, window, "5min", Filters=filters)))
    hours = _values(billing_data(SC, **_query(metric, window, "hour", Filters=filters)))
    days = _values(billing_data(SC, **_query(metric, window, "day", Filters=filters)))
    assert len(five) == 12 * len(hours) == 288 * len(days)
    combine = max if metric in PEAK_METRICS else sum
    assert hours == [combine(five[12 * i : 12 * i + 12]) for i in range(len(hours))]
    assert days == [combine(hours[24 * i : 24 * i + 24]) for i in range(len(days))]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(METRICS),
    windows,
    st.sampled_from(["5min", "hour", "day"]),
    st.sampled_from(GROUPINGS),
    st.lists(st.sampled_from(FILTERS), max_size=2, unique_by=str),
)
def test_groups_add_up_to_the_whole(
    metric: str, window: tuple[date, int, int], interval: str, group_by: list[str], filters: list[dict[str, str]]
) -> None:
    whole = _values(billing_data(SC, **_query(metric, window, interval, Filters=filters)))
    grouped = billing_data(SC, **_query(metric, window, interval, Filters=filters, GroupBy=group_by))
    by_time: dict[str, list[int]] = defaultdict(list)
    for row in grouped:
        by_time[row["Time"]].append(row["Value"])
    times = [row["Time"] for row in billing_data(SC, **_query(metric, window, interval, Filters=filters))]
    parts = [by_time.get(t, []) for t in times]
    if metric in PEAK_METRICS and interval != "5min":
        # Peak of the sum: no more than the sum of the peaks, no less than the largest peak.
        for total, members in zip(whole, parts, strict=True):
            assert max(members, default=0) <= total <= sum(members)
    else:
        assert whole == [sum(members) for members in parts]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(METRICS), windows, st.sampled_from(["5min", "hour", "day"]), st.sampled_from([[], *GROUPINGS]))
def test_same_scenario_and_query_give_the_same_numbers(
    metric: str, window: tuple[date, int, int], interval: str, group_by: list[str]
) -> None:
    query = _query(metric, window, interval, GroupBy=group_by)
    assert billing_data(small(), **query) == billing_data(SC, **query)
