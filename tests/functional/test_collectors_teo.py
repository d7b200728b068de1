"""EdgeOne collector over ``responses``: the exact requests (batching, windows, intervals, DST offsets,
200-group splitting, pagination) and what comes back (values, series, errors, plan limits)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import responses

from lib.client import ApiClient, Credentials
from lib.client.ratelimit import unlimited
from lib.sources import collect
from tests.functional.teo_support import NOW, STEP, TEO_URL, FakeTeo, at, config, serve, slots, zones


def test_zone_batches_one_request_per_100_zones_and_values_per_zone(client: ApiClient) -> None:
    fake = FakeTeo(zones(250))
    cfg = config(
        "Asia/Shanghai",
        {"name": "a", "zones": zones(100), "group_by": ["zone-id"]},
        {"name": "b", "zones": zones(100, 100), "group_by": ["zone-id"]},
        {"name": "c", "zones": zones(50, 200), "group_by": ["zone-id"], "limit": "1GB"},
    )
    now = at("2026-11-22T10:00:00+08:00")
    with serve(fake):
        obs = collect(cfg, client, now)
    requests = fake.of("DescribeBillingData")
    assert sorted(len(p["ZoneIds"]) for p in requests) == [50, 100, 100]
    assert {(p["StartTime"], p["EndTime"], p["Interval"]) for p in requests} == {
        ("2026-11-01T00:00:00+08:00", "2026-11-22T10:00:00+08:00", "day")
    }
    assert sorted(z for p in requests for z in p["ZoneIds"]) == zones(250)
    assert [o.budget for o in obs] == ["a"] * 100 + ["b"] * 100 + ["c"] * 50
    n = slots(at("2026-11-01T00:00:00+08:00"), now)
    for o in obs:
        zone_id = dict(o.group)["zone-id"]
        assert o.value == Decimal((int(zone_id[-4:]) + 1) * n)
        assert o.unit == "B" and o.error is None and o.ready
        assert len(o.series) == 22  # one point per local day so far
        assert o.series[0].time == at("2026-10-31T16:00:00+00:00")
    assert {o.limit for o in obs if o.budget == "c"} == {Decimal(10**9)}


def test_star_is_sent_as_is_and_an_ungrouped_budget_gets_one_total(client: ApiClient) -> None:
    fake = FakeTeo(zones(3))
    now = at("2026-11-22T10:00:00+08:00")
    with serve(fake):
        (obs,) = collect(config("Asia/Shanghai", {"name": "all"}), client, now)
    assert [p["ZoneIds"] for p in fake.of("DescribeBillingData")] == [["*"]]
    assert obs.group == ()
    assert obs.value == Decimal((1 + 2 + 3) * slots(at("2026-11-01T00:00:00+08:00"), now))


@pytest.mark.parametrize("clip", [False, True], ids=["whole-buckets", "clipped-buckets"])
def test_month_across_spring_forward_is_one_request_in_one_offset_and_exact(client: ApiClient, clip: bool) -> None:
    now = at("2026-03-30T12:00:00+02:00")
    fake = FakeTeo(["zone-0000"], now=now, clip=clip)
    with serve(fake):
        (obs,) = collect(config("Europe/Berlin", {"name": "m", "zones": ["zone-0000"]}), client, now)
    assert [(p["StartTime"], p["EndTime"], p["Interval"]) for p in fake.of("DescribeBillingData")] == [
        ("2026-03-01T00:00:00+01:00", "2026-03-30T11:00:00+01:00", "day"),
    ]
    assert obs.value == Decimal(slots(at("2026-03-01T00:00:00+01:00"), now))
    berlin = ZoneInfo("Europe/Berlin")
    assert len(obs.series) == 30
    assert [p.time.astimezone(berlin).strftime("%d %H:%M") for p in obs.series[-3:]] == [
        "28 00:00",
        "29 00:00",
        "30 00:00",
    ]
    # The change day's bucket runs from its midnight in +01:00 to 01:00 local the next day: 24 hours.
    assert [p.value for p in obs.series[-3:]] == [288, 288, 11 * 12]
    assert sum(p.value for p in obs.series) == obs.value


@pytest.mark.parametrize("clip", [False, True], ids=["whole-buckets", "clipped-buckets"])
def test_day_across_fall_back_is_one_request_and_counts_the_25th_hour(client: ApiClient, clip: bool) -> None:
    now = at("2026-11-01T12:00:00-05:00")
    fake = FakeTeo(["zone-0000"], now=now, clip=clip)
    with serve(fake):
        (obs,) = collect(
            config("America/New_York", {"name": "d", "zones": ["zone-0000"], "period": "day"}), client, now
        )
    assert [(p["StartTime"], p["EndTime"], p["Interval"]) for p in fake.of("DescribeBillingData")] == [
        ("2026-11-01T00:00:00-04:00", "2026-11-01T13:00:00-04:00", "hour"),
    ]
    assert obs.value == Decimal(13 * 12)  # 00:00-12:00 local is 13 hours today
    ny = ZoneInfo("America/New_York")
    assert [p.time.astimezone(ny).strftime("%H%z") for p in obs.series[:4]] == [
        "00-0400",
        "01-0400",
        "01-0500",
        "02-0500",
    ]
    assert len(obs.series) == 13
    assert obs.period.start == at("2026-11-01T00:00:00-04:00")


def test_month_longer_than_31_days_is_two_pieces_without_double_counting(client: ApiClient) -> None:
    now = at("2026-10-31T23:30:00+01:00")
    fake = FakeTeo(["zone-0000"], now=now)
    with serve(fake):
        (obs,) = collect(config("Europe/Berlin", {"name": "m", "zones": ["zone-0000"]}), client, now)
    assert sorted((p["StartTime"], p["EndTime"]) for p in fake.of("DescribeBillingData")) == [
        ("2026-10-01T00:00:00+02:00", "2026-10-31T23:59:59+02:00"),
        ("2026-11-01T00:00:00+02:00", "2026-11-01T00:30:00+02:00"),
    ]
    assert obs.value == Decimal(slots(at("2026-10-01T00:00:00+02:00"), now))
    assert len(obs.series) == 31  # the last hour of October counts in 31 October


def test_bandwidth_peak_p95_and_avg(client: ApiClient) -> None:
    def level(zone: str, t: int) -> int:
        return (t // STEP) % 100 * 1000

    now = NOW
    fake = FakeTeo(["zone-0000"], level=level)
    cfg = config(
        "Asia/Shanghai",
        {"name": "peak-month", "metric": "acc_bandwidth", "zones": ["zone-0000"]},
        {"name": "peak-day", "metric": "acc_bandwidth", "zones": ["zone-0000"], "period": "day"},
        {"name": "p95-day", "metric": "acc_bandwidth", "zones": ["zone-0000"], "period": "day", "aggregate": "p95"},
        {"name": "avg-day", "metric": "acc_bandwidth", "zones": ["zone-0000"], "period": "day", "aggregate": "avg"},
    )
    with serve(fake):
        month, day, p95, avg = collect(cfg, client, now)
    # day budgets share one 5-minute request whatever their aggregate; the month peak uses day buckets.
    assert sorted((p["Interval"], p["StartTime"]) for p in fake.of("DescribeBillingData")) == [
        ("5min", "2026-11-22T00:00:00+08:00"),
        ("day", "2026-11-01T00:00:00+08:00"),
    ]
    start = int(at("2026-11-22T00:00:00+08:00").timestamp())
    samples = sorted(level("", t) for t in range(start, int(now.timestamp()) - STEP + 1, STEP))
    assert month.value == day.value == Decimal(99_000)
    assert p95.value == Decimal(samples[-(-95 * len(samples) // 100) - 1])
    assert avg.value == Decimal(sum(samples)) / len(samples)
    assert month.unit == "bps"
    assert len(day.series) == 10 and len(month.series) == 22


def test_group_limit_answers_are_split_in_halves_until_they_fit(client: ApiClient) -> None:
    fake = FakeTeo(zones(100), group_limit=30)
    cfg = config("Asia/Shanghai", {"name": "z", "zones": zones(100), "group_by": ["zone-id"]})
    with serve(fake):
        obs = collect(cfg, client, at("2026-11-22T10:00:00+08:00"))
    sizes = [len(p["ZoneIds"]) for p in fake.of("DescribeBillingData")]
    assert sizes[0] == 100
    assert sorted(sizes[1:]) == sorted([50, 50] + [25] * 4)
    assert len(obs) == 100 and all(o.ok for o in obs)
    assert len({dict(o.group)["zone-id"] for o in obs}) == 100


def test_star_grouped_by_zone_over_the_limit_is_resolved_with_paginated_describe_zones(client: ApiClient) -> None:
    everything = zones(260)
    fake = FakeTeo(everything, deleted=frozenset({"zone-0007"}), planless=frozenset({"zone-0008", "zone-0009"}))
    with serve(fake):
        obs = collect(
            config("Asia/Shanghai", {"name": "z", "group_by": ["zone-id"]}), client, at("2026-11-22T10:00:00+08:00")
        )
    assert fake.of("DescribeZones") == [
        {"Offset": 0, "Limit": 100},
        {"Offset": 100, "Limit": 100},
        {"Offset": 200, "Limit": 100},
    ]
    data = fake.of("DescribeBillingData")
    assert data[0]["ZoneIds"] == ["*"]
    assert sorted(len(p["ZoneIds"]) for p in data[1:]) == [57, 100, 100]
    assert {"zone-0007", "zone-0008", "zone-0009"}.isdisjoint(z for p in data[1:] for z in p["ZoneIds"])
    assert len(obs) == 257 and all(o.ok for o in obs)


def test_star_by_zone_at_5_minutes_over_a_month_is_resolved_first(client: ApiClient) -> None:
    fake = FakeTeo(zones(12), level=lambda z, t: 7)
    cfg = config("Asia/Shanghai", {"name": "p", "metric": "acc_bandwidth", "aggregate": "p95", "group_by": ["zone-id"]})
    with serve(fake):
        obs = collect(cfg, client, NOW)
    assert fake.of("DescribeZones") == [{"Offset": 0, "Limit": 100}]
    data = fake.of("DescribeBillingData")
    assert all(p["ZoneIds"] != ["*"] and p["Interval"] == "5min" for p in data)
    assert sorted(len(p["ZoneIds"]) for p in data) == [4, 8]  # 50,000 records // 6,169 samples = 8 zones
    assert [o.value for o in obs] == [7] * 12


def test_one_zone_over_the_limit_is_an_error_not_an_endless_split(client: ApiClient) -> None:
    fake = FakeTeo(zones(2), group_limit=0)
    cfg = config("Asia/Shanghai", {"name": "z", "zones": zones(2), "group_by": ["zone-id"]})
    with serve(fake):
        obs = collect(cfg, client, at("2026-11-22T10:00:00+08:00"))
    assert [len(p["ZoneIds"]) for p in fake.of("DescribeBillingData")] == [2, 1, 1]
    assert [(o.value, o.error) for o in obs] == [(None, "InvalidParameter.GroupByLimitExceeded: too many groups")] * 2


def test_a_failed_request_fails_only_the_budgets_that_needed_it(client: ApiClient) -> None:
    def fail(p: dict[str, Any]) -> tuple[str, str] | None:
        if p.get("MetricName") == "smt_flux":
            return ("InvalidParameter.ZoneHasNotBeenBoundToPlan", "zone has no plan")
        return None

    fake = FakeTeo(zones(3), fail=fail)
    cfg = config(
        "Asia/Shanghai",
        {"name": "ok"},
        {"name": "bad", "metric": "smt_flux", "zones": zones(3), "group_by": ["zone-id"]},
        {"name": "also-ok", "metric": "sec_request_clean"},
    )
    with serve(fake):
        ok, *bad, also = collect(cfg, client, at("2026-11-22T10:00:00+08:00"))
    assert ok.ok and also.ok and also.unit == "count"
    assert [(o.budget, dict(o.group), o.value, o.error) for o in bad] == [
        ("bad", {"zone-id": z}, None, "InvalidParameter.ZoneHasNotBeenBoundToPlan: zone has no plan") for z in zones(3)
    ]


def test_transport_failure_is_an_error_never_a_zero(client: ApiClient) -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TEO_URL, status=502, body="bad gateway")
        (obs,) = collect(config("Asia/Shanghai", {"name": "a"}), client, at("2026-11-22T10:00:00+08:00"))
    assert obs.value is None
    assert obs.error is not None and obs.error.startswith("TransportError: DescribeBillingData: HTTP 502")
    assert obs.failure is not None and (obs.failure.error, obs.failure.retryable) == ("TransportError", True)


def test_null_data_is_no_usage(client: ApiClient) -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TEO_URL, json={"Response": {"Data": None, "RequestId": "r"}})
        (obs,) = collect(config("Asia/Shanghai", {"name": "a"}), client, at("2026-11-22T10:00:00+08:00"))
    assert (obs.value, obs.series, obs.error) == (Decimal(0), (), None)


def test_a_malformed_record_is_an_error(client: ApiClient) -> None:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TEO_URL, json={"Response": {"Data": [{"Time": "x", "Value": 1}], "RequestId": "r"}})
        (obs,) = collect(config("Asia/Shanghai", {"name": "a"}), client, at("2026-11-22T10:00:00+08:00"))
    assert obs.value is None and obs.error is not None and obs.error.startswith("CollectError: DescribeBillingData")


PLANS = [
    {"PlanId": f"edgeone-{i}", "AccTrafficCapacity": (i + 1) * 10**12, "ZonesInfo": [{"ZoneId": z} for z in zs]}
    for i, zs in enumerate([zones(1), zones(2, 1)] + [[] for _ in range(250)])
]


def test_plan_limits_come_from_paginated_describe_plans(client: ApiClient) -> None:
    fake = FakeTeo(zones(4), plans=PLANS)
    cfg = config(
        "Asia/Shanghai",
        {"name": "per-zone", "zones": zones(4), "group_by": ["zone-id"], "limit": "plan"},
        {"name": "total", "limit": "plan"},
        {"name": "no-quota", "metric": "quic_request", "limit": "plan"},
    )
    with serve(fake):
        obs = collect(cfg, client, at("2026-11-22T10:00:00+08:00"))
    assert fake.of("DescribePlans") == [{"Offset": 0, "Limit": 200}, {"Offset": 200, "Limit": 200}]
    per_zone = {dict(o.group)["zone-id"]: (o.limit, o.error) for o in obs if o.budget == "per-zone"}
    assert per_zone["zone-0000"] == (Decimal(10**12), None)
    assert per_zone["zone-0001"] == per_zone["zone-0002"] == (Decimal(2 * 10**12), None)
    assert per_zone["zone-0003"][0] is None
    assert per_zone["zone-0003"][1] == "CollectError: limit: plan: no EdgeOne plan is bound to zone-0003"
    (total,) = (o for o in obs if o.budget == "total")
    assert total.limit == Decimal(3 * 10**12) and total.value is not None
    (no_quota,) = (o for o in obs if o.budget == "no-quota")
    assert no_quota.value is None and no_quota.error is not None and "no quota for quic_request" in no_quota.error


def test_failed_describe_plans_fails_only_plan_budgets(client: ApiClient) -> None:
    def fail(p: dict[str, Any]) -> tuple[str, str] | None:
        return ("UnauthorizedOperation.CamUnauthorized", "no teo:DescribePlans") if "Offset" in p else None

    fake = FakeTeo(zones(1), fail=fail)
    cfg = config("Asia/Shanghai", {"name": "plan", "limit": "plan"}, {"name": "fixed", "limit": "1TB"})
    with serve(fake):
        plan, fixed = collect(cfg, client, at("2026-11-22T10:00:00+08:00"))
    assert plan.value is None and plan.error == "UnauthorizedOperation.CamUnauthorized: no teo:DescribePlans"
    assert fixed.ok and fixed.limit == Decimal(10**12)


def test_the_collector_paces_at_the_clients_limit_counted_until_after_each_answer() -> None:
    from lib.sources.teo import pacer

    with ApiClient(Credentials("AKIDcollectors", "collectors-secret")) as product:
        window = pacer(product)
        assert window is not None and (window.limit, window.period) == (50, 1.0)
    with ApiClient(Credentials("AKIDcollectors", "collectors-secret"), rate_limiter=unlimited()) as free:
        assert pacer(free) is None
    assert pacer(object()) is None
