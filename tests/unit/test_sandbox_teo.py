"""teo in the sandbox: DescribeBillingData rules and numbers, DescribeZones, DescribePlans."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from sandbox import teo
from sandbox.api3 import ApiFailure
from sandbox.catalogue import METRICS
from sandbox.scenario import Scenario
from tests.unit.sandbox_support import SMALL, billing_data, context, local, small

DAY = {"StartTime": "2026-11-04T00:00:00+08:00", "EndTime": "2026-11-04T23:59:59+08:00", "Interval": "hour"}


def _query(**overrides: Any) -> dict[str, Any]:
    return {**DAY, "ZoneIds": ["*"], "MetricName": "acc_flux", **overrides}


def _code(scenario: Scenario, action: str = "DescribeBillingData", **params: Any) -> str:
    handler = teo.PRODUCT.actions[action].handler
    with pytest.raises(ApiFailure) as info:
        handler(params, context(scenario))
    return info.value.code


@pytest.mark.parametrize("metric", METRICS)
def test_every_metric_answers(metric: str) -> None:
    data = billing_data(small(), **_query(MetricName=metric))
    assert len(data) == 24
    assert all(isinstance(row["Value"], int) and row["Value"] >= 0 for row in data)
    assert {tuple(sorted(row)) for row in data} == {("Time", "Value")}


@pytest.mark.parametrize(
    "metric", ["acc_flux", "acc_bandwidth", "l4_flux", "l4_bandwidth", "sec_request_clean", "ddos_bandwidth"]
)
def test_metrics_with_usage_are_not_zero(metric: str) -> None:
    assert sum(row["Value"] for row in billing_data(small(), **_query(MetricName=metric))) > 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"MetricName": "acc_fluxx"}, "InvalidParameter.InvalidMetric"),
        ({"MetricName": "l7Flow_flux"}, "InvalidParameter.InvalidMetric"),
        ({"Interval": "min"}, "InvalidParameter.InvalidInterval"),
        ({"Interval": "1h"}, "InvalidParameter.InvalidInterval"),
        (
            {"EndTime": "2026-12-05T00:00:01+08:00", "StartTime": "2026-11-04T00:00:00+08:00"},
            "LimitExceeded.QueryTimeLimitExceeded",
        ),
        ({"EndTime": "2026-11-03T00:00:00+08:00"}, "InvalidParameter"),
        ({"EndTime": "2026-11-04T12:00:00+00:00"}, "InvalidParameter"),
        ({"StartTime": "yesterday"}, "InvalidParameter"),
        ({"StartTime": "2026-11-04T00:00:00+05:47", "EndTime": "2026-11-04T05:00:00+05:47"}, "InvalidParameter"),
        ({"ZoneIds": [f"zone-{i}" for i in range(101)]}, "InvalidParameter"),
        ({"ZoneIds": ["zone-nope"]}, "InvalidParameter.ZoneNotFound"),
        ({"ZoneIds": ["zone-a", "zone-c"]}, "InvalidParameter.ZoneHasNotBeenBoundToPlan"),
        ({"ZoneIds": []}, "MissingParameter"),
        ({"MetricName": None}, "MissingParameter"),
        ({"GroupBy": ["zone-id", "host", "region-id"]}, "InvalidParameter.GroupByLimitExceeded"),
        ({"GroupBy": ["domain"]}, "InvalidParameter"),
        ({"GroupBy": ["host", "host"]}, "InvalidParameter"),
        ({"Filters": [{"Type": "zone-id", "Value": "zone-a"}]}, "InvalidParameter"),
        ({"Filters": [{"Type": "region-id", "Value": "Mars"}]}, "InvalidParameter"),
        ({"Filters": [{"Type": "host"}]}, "MissingParameter"),
    ],
)
def test_documented_errors(params: dict[str, Any], code: str) -> None:
    query = {k: v for k, v in _query(**params).items() if v is not None}
    assert _code(small(), **query) == code


def test_exactly_31_days_is_allowed() -> None:
    data = billing_data(
        small(), **_query(StartTime="2026-10-05T00:00:00+08:00", EndTime="2026-11-05T00:00:00+08:00", Interval="day")
    )
    assert len(data) == 31


def test_day_buckets_follow_the_documented_example() -> None:
    # Reference example 1: 2024-01-01T00:00+08:00 .. 2024-01-24T03:20+08:00 -> 24 day buckets from 2023-12-31T16:00Z.
    data = billing_data(
        small(), **_query(StartTime="2026-11-01T00:00:00+08:00", EndTime="2026-11-24T03:20:00+08:00", Interval="day")
    )
    assert len(data) == 24
    assert data[0]["Time"] == "2026-10-31T16:00:00Z"
    assert data[-1]["Time"] == "2026-11-23T16:00:00Z"
    # Example 2: ending at 23:59:59 of the second day gives two buckets.
    two = billing_data(
        small(),
        **_query(
            StartTime="2026-11-01T00:00:00+08:00",
            EndTime="2026-11-02T23:59:59+08:00",
            Interval="day",
            GroupBy=["zone-id"],
        ),
    )
    assert [(r["ZoneId"], r["Time"]) for r in two] == [
        ("zone-a", "2026-10-31T16:00:00Z"),
        ("zone-a", "2026-11-01T16:00:00Z"),
        ("zone-b", "2026-10-31T16:00:00Z"),
        ("zone-b", "2026-11-01T16:00:00Z"),
    ]
    assert [r["Value"] for r in two if r["ZoneId"] == "zone-b"] == [0, 0]  # zone-b did not exist yet


@pytest.mark.parametrize(
    ("start", "end", "interval", "first"),
    [
        ("2026-11-04T00:00:00+00:00", "2026-11-05T00:00:00+00:00", "day", "2026-11-04T00:00:00Z"),
        ("2026-11-04T00:00:00-05:00", "2026-11-05T00:00:00-05:00", "day", "2026-11-04T05:00:00Z"),
        ("2026-11-04T10:00:00+05:30", "2026-11-04T12:00:00+05:30", "hour", "2026-11-04T04:30:00Z"),
        ("2026-11-04T10:07:00+08:00", "2026-11-04T10:20:00+08:00", "5min", "2026-11-04T02:05:00Z"),
        ("2026-11-04T10:00:00Z", "2026-11-04T10:00:00Z", "hour", "2026-11-04T10:00:00Z"),
        ("2026-11-04T10:00:00", "2026-11-04T11:00:00", "hour", "2026-11-04T02:00:00Z"),
    ],
)
def test_buckets_align_to_the_request_offset(start: str, end: str, interval: str, first: str) -> None:
    data = billing_data(small(), **_query(StartTime=start, EndTime=end, Interval=interval, ZoneIds=["zone-a"]))
    assert data[0]["Time"] == first
    assert all(row["Time"].endswith("Z") for row in data)
    step = {"5min": 300, "hour": 3600, "day": 86400}[interval]
    times = [datetime.fromisoformat(r["Time"][:-1] + "+00:00") for r in data]
    assert all(b - a == timedelta(seconds=step) for a, b in itertools.pairwise(times))
    end_time = datetime.fromisoformat(end.replace("Z", "+00:00"))
    if end_time.tzinfo is None:
        end_time = end_time.replace(tzinfo=timezone(timedelta(hours=8)))
    assert times[-1] <= end_time


def test_values_equal_the_scenario_truth() -> None:
    sc = small()
    data = billing_data(
        sc,
        **_query(
            ZoneIds=["zone-a"],
            StartTime="2026-11-04T00:00:00-05:00",
            EndTime="2026-11-05T00:00:00-05:00",
            Interval="day",
        ),
    )
    start = datetime(2026, 11, 4, tzinfo=timezone(timedelta(hours=-5)))
    assert data == [
        {
            "Time": "2026-11-04T05:00:00Z",
            "Value": sc.usage("acc_flux", "zone-a", start=start, end=start + timedelta(days=1)),
        }
    ]


def test_filters_same_type_or_different_types_and() -> None:
    sc = small()
    total = billing_data(sc, **_query(ZoneIds=["zone-a"]))
    both_hosts = billing_data(
        sc,
        **_query(
            ZoneIds=["zone-a"],
            Filters=[{"Type": "host", "Value": "www.a.example.com"}, {"Type": "host", "Value": "img.a.example.com"}],
        ),
    )
    assert both_hosts == total
    www_ch = billing_data(
        sc,
        **_query(
            ZoneIds=["zone-a"],
            Filters=[{"Type": "host", "Value": "www.a.example.com"}, {"Type": "region-id", "Value": "CH"}],
        ),
    )
    start = local(2026, 11, 4)
    for i, row in enumerate(www_ch):
        hour = start + timedelta(hours=i)
        expected = sc.usage("acc_flux", "zone-a", "www.a.example.com", "CH", hour, hour + timedelta(hours=1))
        assert row["Value"] == expected
    assert 0 < sum(r["Value"] for r in www_ch) < sum(r["Value"] for r in total)
    nobody = billing_data(sc, **_query(Filters=[{"Type": "host", "Value": "nobody.example.com"}]))
    assert {r["Value"] for r in nobody} == {0}
    assert len(nobody) == 24


def test_group_rows_carry_their_dimensions() -> None:
    sc = small()
    by_host = billing_data(sc, **_query(GroupBy=["host"]))
    assert {(r["ZoneId"], r["Host"]) for r in by_host} == {
        ("zone-a", "www.a.example.com"),
        ("zone-a", "img.a.example.com"),
        ("zone-b", "b.example.org"),
    }
    by_region = billing_data(sc, **_query(GroupBy=["region-id"]))
    assert {tuple(sorted(r)) for r in by_region} == {("RegionId", "Time", "Value")}
    assert {r["RegionId"] for r in by_region} == {"CH", "NA"}
    by_proxy = billing_data(sc, **_query(MetricName="l4_flux", GroupBy=["proxy-id", "region-id"]))
    assert {(r["ZoneId"], r["ProxyId"], r["RegionId"]) for r in by_proxy} == {
        ("zone-a", p, reg) for p in ("sid-a1", "sid-a2") for reg in ("CH", "NA")
    }


def _many_hosts(n: int) -> Scenario:
    data = copy.deepcopy(SMALL)
    data["zones"][1]["hosts"] = {f"h{i}.example.org": 1 for i in range(n)}
    return Scenario.from_dict(data)


def test_at_most_200_groups() -> None:
    ok = billing_data(_many_hosts(200), **_query(ZoneIds=["zone-b"], GroupBy=["host"], Interval="day"))
    assert len({r["Host"] for r in ok}) == 200
    assert _code(_many_hosts(201), **_query(ZoneIds=["zone-b"], GroupBy=["host"])) == (
        "InvalidParameter.GroupByLimitExceeded"
    )
    narrowed = billing_data(
        _many_hosts(201),
        **_query(
            ZoneIds=["zone-b"], GroupBy=["host"], Interval="day", Filters=[{"Type": "host", "Value": "h7.example.org"}]
        ),
    )
    assert {r["Host"] for r in narrowed} == {"h7.example.org"}


def test_bandwidth_hour_is_the_peak_of_its_five_minutes() -> None:
    sc = small()
    five = billing_data(sc, **_query(MetricName="acc_bandwidth", Interval="5min", ZoneIds=["zone-a"]))
    hours = billing_data(sc, **_query(MetricName="acc_bandwidth", Interval="hour", ZoneIds=["zone-a"]))
    assert [h["Value"] for h in hours] == [max(r["Value"] for r in five[12 * i : 12 * i + 12]) for i in range(24)]
    day = billing_data(sc, **_query(MetricName="acc_bandwidth", Interval="day", ZoneIds=["zone-a"]))
    assert day[0]["Value"] == max(r["Value"] for r in five)


# --- DescribeZones and DescribePlans ------------------------------------------------------------------


def _zones(**params: Any) -> dict[str, Any]:
    return teo.describe_zones(params, context(small()))


def test_zones_pagination_and_order() -> None:
    everything = _zones(Order="zone-name", Direction="asc")
    assert everything["TotalCount"] == 3
    assert [z["ZoneName"] for z in everything["Zones"]] == ["a.example.com", "b.example.org", "c.example.net"]
    pages = [_zones(Offset=o, Limit=2, Order="zone-name", Direction="asc")["Zones"] for o in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 1, 0]
    assert [z["ZoneId"] for p in pages for z in p] == ["zone-a", "zone-b", "zone-c"]
    assert len(_zones()["Zones"]) == 3  # default Limit 20


def test_zones_filters_and_fields() -> None:
    assert [
        z["ZoneId"] for z in _zones(Filters=[{"Name": "zone-name", "Values": ["example.o"], "Fuzzy": True}])["Zones"]
    ] == ["zone-b"]
    assert _zones(Filters=[{"Name": "zone-name", "Values": ["example.o"]}])["TotalCount"] == 0
    assert [z["ZoneId"] for z in _zones(Filters=[{"Name": "tag-key", "Values": ["env"]}])["Zones"]] == ["zone-a"]
    assert [z["ZoneId"] for z in _zones(Filters=[{"Name": "status", "Values": ["pending"]}])["Zones"]] == ["zone-c"]
    zone = _zones(Filters=[{"Name": "zone-id", "Values": ["zone-a"]}])["Zones"][0]
    assert zone["Resources"][0]["PlanId"] == "edgeone-p1"
    assert zone["Tags"] == [{"TagKey": "env", "TagValue": "prod"}]
    assert zone["CreatedOn"] == "2026-09-30T16:00:00Z"


@pytest.mark.parametrize(
    "params",
    [
        {"Limit": 101},
        {"Offset": -1},
        {"Order": "size"},
        {"Direction": "up"},
        {"Filters": [{"Name": "zone-id", "Values": ["zone-a"], "Fuzzy": True}]},
        {"Filters": [{"Name": "colour", "Values": ["red"]}]},
        {"Filters": [{"Name": "zone-id", "Values": [str(i) for i in range(21)]}]},
    ],
)
def test_zones_bad_parameters(params: dict[str, Any]) -> None:
    assert _code(small(), "DescribeZones", **params) == "InvalidParameter"


def test_plans_quota_fields() -> None:
    out = teo.describe_plans({}, context(small()))
    assert out["TotalCount"] == 2
    plan = next(p for p in out["Plans"] if p["PlanId"] == "edgeone-p1")
    assert plan["AccTrafficCapacity"] == 10**12
    assert plan["VAUCapacity"] == 5
    assert plan["SmartTrafficCapacity"] == 0
    assert plan["ZonesInfo"] == [{"ZoneId": "zone-a", "ZoneName": "a.example.com", "Paused": False}]
    assert plan["Bindable"] == "true"
    only = teo.describe_plans({"Filters": [{"Name": "plan-type", "Values": ["plan-basic"]}]}, context(small()))
    assert [p["PlanId"] for p in only["Plans"]] == ["edgeone-p2"]
    assert _code(small(), "DescribePlans", Limit=201) == "InvalidParameter"
