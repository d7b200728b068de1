"""CDN source over ``responses``: the exact requests (domains, areas, intervals, 31/90-day windows,
TimeZone, paging, 30-domain batches) and what comes back (values, series, late data, errors)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from lib.client import ApiClient
from lib.sources import collect
from lib.sources.cdn_source import SOURCE
from tests.functional.cdn_support import NOW, FakeCdn, at, config, domains, rate, serve, slots

MONTH = at("2026-11-01T00:00:00+08:00")
TODAY = at("2026-11-22T00:00:00+08:00")
MONTH_TEXT = "2026-11-01 00:00:00"


def test_billing_metrics_ask_one_domain_per_request_for_each_area(client: ApiClient) -> None:
    names = domains(3)
    fake = FakeCdn(names)
    cfg = config("Asia/Shanghai", {"name": "cdn", "domains": names, "group_by": ["domain"]})
    with serve(fake):
        obs = collect(cfg, client, NOW)
    assert fake.problems == []
    requests = fake.of("DescribeBillingData")
    assert sorted((p["Domain"], p["Area"]) for p in requests) == sorted(
        (d, a) for d in names for a in ("mainland", "overseas")
    )
    assert {(p["StartTime"], p["EndTime"], p["Interval"], p["TimeZone"], p["Metric"]) for p in requests} == {
        ("2026-11-01 00:00:00", "2026-11-22 10:00:00", "hour", "UTC+08:00", "flux")
    }
    assert fake.of("DescribeDomains") == []
    n = slots(MONTH, NOW)
    assert {dict(o.group)["domain"]: o.value for o in obs} == {
        d: Decimal((rate(d, "mainland") + rate(d, "overseas")) * n) for d in names
    }
    for o in obs:
        assert o.unit == "B" and o.ok and o.data_until is None
        assert len(o.series) == 22 and o.series[0].time == MONTH


def test_star_without_grouping_is_the_account_in_each_area(client: ApiClient) -> None:
    names = domains(4)
    fake = FakeCdn(names)
    with serve(fake):
        (obs,) = collect(config("Asia/Shanghai", {"name": "all"}), client, NOW)
    assert sorted(p["Area"] for p in fake.of("DescribeBillingData")) == ["mainland", "overseas"]
    assert all("Domain" not in p for p in fake.of("DescribeBillingData"))
    assert fake.of("DescribeDomains") == []
    total = sum(rate(d, "mainland") + rate(d, "overseas") for d in names)
    assert obs.group == () and obs.value == Decimal(total * slots(MONTH, NOW))


def test_one_area_sends_that_area_only(client: ApiClient) -> None:
    fake = FakeCdn(domains(2))
    with serve(fake):
        (obs,) = collect(config("Asia/Shanghai", {"name": "abroad", "area": "overseas"}), client, NOW)
    assert [p["Area"] for p in fake.of("DescribeBillingData")] == ["overseas"]
    assert obs.value == Decimal((1 + 2) * slots(MONTH, NOW))


def test_listed_domains_without_grouping_add_up_in_one_figure(client: ApiClient) -> None:
    names = domains(3)
    fake = FakeCdn(names)
    with serve(fake):
        cfg = config("Asia/Shanghai", {"name": "two", "domains": names[:2], "area": "mainland"})
        (obs,) = collect(cfg, client, NOW)
    assert sorted(p["Domain"] for p in fake.of("DescribeBillingData")) == names[:2]
    assert obs.value == Decimal((3 + 6) * slots(MONTH, NOW))


def test_star_grouped_by_domain_pages_describe_domains_and_skips_other_products(client: ApiClient) -> None:
    names = domains(1203)
    listed = [{"Domain": d, "Status": "online", "Product": "cdn"} for d in names]
    listed += [{"Domain": "e.example.com", "Status": "online", "Product": "ecdn"}]
    listed += [{"Domain": "gone.example.com", "Status": "deleted", "Product": "cdn"}]
    fake = FakeCdn(names, listed=listed)
    cfg = config("Asia/Shanghai", {"name": "req", "metric": "request", "group_by": ["domain"], "area": "mainland"})
    with serve(fake):
        obs = collect(cfg, client, NOW)
    assert fake.problems == []
    assert [(p["Offset"], p["Limit"]) for p in fake.of("DescribeDomains")] == [(0, 1000), (1000, 1000)]
    requests = fake.of("DescribeCdnData")
    assert len(requests) == 41  # ceil(1203 / 30)
    assert all(p["Detail"] is True and len(p["Domains"]) <= 30 for p in requests)
    assert sorted(d for p in requests for d in p["Domains"]) == names
    n = slots(MONTH, NOW)
    got = {dict(o.group)["domain"]: o.value for o in obs}
    assert len(got) == 1203 and got["d0007.example.com"] == Decimal(rate("d0007.example.com", "mainland") * n)


def test_listed_domains_for_request_go_30_at_a_time(client: ApiClient) -> None:
    names = domains(65)
    fake = FakeCdn(names)
    cfg = config("Asia/Shanghai", {"name": "req", "metric": "request", "domains": names, "group_by": ["domain"]})
    with serve(fake):
        collect(cfg, client, NOW)
    requests = fake.of("DescribeCdnData")
    assert sorted((len(p["Domains"]), p["Area"]) for p in requests) == sorted(
        (size, area) for size in (30, 30, 5) for area in ("mainland", "overseas")
    )
    assert fake.of("DescribeDomains") == [] and fake.problems == []


@pytest.mark.parametrize(
    ("budget", "interval", "starts"),
    [
        ({"period": "day"}, "5min", ["2026-11-22 00:00:00"]),
        ({"metric": "bandwidth", "area": "mainland", "domains": ["d0000.example.com"]}, "hour", [MONTH_TEXT]),
        ({"metric": "bandwidth"}, "5min", ["2026-11-01 00:00:00"]),  # two areas add up sample by sample
        ({"metric": "bandwidth", "area": "mainland", "aggregate": "p95"}, "5min", ["2026-11-01 00:00:00"]),
        # A spike rule's median of 40 days reaches back to 21 September: 62 days, one day-interval request.
        ({"area": "mainland", "spike": {"window": 40}}, "day", ["2026-09-21 00:00:00"]),
        # The same lookback at 5 minutes: pieces of at most 31 days that meet on bucket boundaries.
        (
            {"metric": "bandwidth", "area": "mainland", "aggregate": "p95", "spike": {"window": 40}},
            "5min",
            ["2026-09-21 00:00:00", "2026-10-22 00:00:00", "2026-11-22 00:00:00"],
        ),
    ],
)
def test_interval_and_windows_follow_the_api_limits(
    client: ApiClient, budget: dict[str, object], interval: str, starts: list[str]
) -> None:
    fake = FakeCdn(domains(2))
    cfg = config("Asia/Shanghai", {"name": "b", "absolute": [1], "limit": None, "thresholds": [], **budget})
    with serve(fake):
        (obs, *_) = collect(cfg, client, NOW)
    assert obs.ok and fake.problems == []
    requests = [p for p in fake.of("DescribeBillingData") if p["Area"] == "mainland"]
    assert {p["Interval"] for p in requests} == {interval}
    assert sorted(p["StartTime"] for p in requests) == starts
    limit = timedelta(days=90 if interval == "day" else 31)
    for p in requests:
        span = at(p["EndTime"].replace(" ", "T") + "+08:00") - at(p["StartTime"].replace(" ", "T") + "+08:00")
        assert span <= limit


def test_bandwidth_is_the_peak_of_both_areas_added_sample_by_sample(client: ApiClient) -> None:
    def level(domain: str, area: str, t: int) -> int:
        # Mainland peaks at 10:00 on 20 November, overseas an hour later: the sum never has both.
        peak = {"mainland": at("2026-11-20T10:00:00+08:00"), "overseas": at("2026-11-20T11:00:00+08:00")}[area]
        return 5000 if t == int(peak.timestamp()) else 1000

    fake = FakeCdn(["d0000.example.com"], level=level)
    cfg = config("Asia/Shanghai", {"name": "bw", "metric": "bandwidth", "domains": ["d0000.example.com"]})
    with serve(fake):
        (obs,) = collect(cfg, client, NOW)
    assert obs.value == Decimal(5000 + 1000) and obs.unit == "bps"
    assert max(p.value for p in obs.series) == Decimal(6000) and len(obs.series) == 22


@pytest.mark.parametrize(
    ("tz", "now", "zone", "start"),
    [
        ("Asia/Kolkata", "2026-11-22T10:00:00+05:30", "UTC+05:30", "2026-11-01 00:00:00"),
        # A month that started in summer time keeps that offset after the clocks went back.
        ("America/New_York", "2026-11-22T10:00:00-05:00", "UTC-04:00", "2026-11-01 00:00:00"),
    ],
)
def test_time_zone_is_the_budget_offset_at_the_period_start(
    client: ApiClient, tz: str, now: str, zone: str, start: str
) -> None:
    fake = FakeCdn(domains(1), now=at(now))
    with serve(fake):
        (obs,) = collect(config(tz, {"name": "tz", "area": "mainland"}), client, at(now))
    (request,) = fake.of("DescribeBillingData")
    assert (request["TimeZone"], request["StartTime"]) == (zone, start)
    assert obs.value == Decimal(3 * slots(obs.period.start, at(now)))


def test_late_billing_data_is_missing_not_zero_and_says_how_far_it_goes(client: ApiClient) -> None:
    reported = at("2026-11-22T05:35:00+08:00")
    fake = FakeCdn(domains(2), reported=reported)
    cfg = config("Asia/Shanghai", {"name": "late", "period": "day"}, {"name": "month"})
    with serve(fake):
        day, month = collect(cfg, client, NOW)
    total = sum(rate(d, a) for d in domains(2) for a in ("mainland", "overseas"))
    assert day.value == Decimal(total * slots(TODAY, reported))  # what was reported, nothing read for the rest
    assert day.data_until == reported
    assert [p.time for p in day.series][-1] == at("2026-11-22T05:00:00+08:00")  # no zero hours after 05:35
    assert month.data_until == at("2026-11-22T06:00:00+08:00")  # hour buckets: the 05:00 one has data
    assert month.value == Decimal(total * slots(MONTH, reported))


def test_zeros_older_than_the_longest_lag_are_real(client: ApiClient) -> None:
    # A domain stopped two days ago serves nothing since: that is usage, not late data.
    fake = FakeCdn(domains(1), reported=at("2026-11-20T10:00:00+08:00"))
    with serve(fake):
        (obs,) = collect(config("Asia/Shanghai", {"name": "stopped", "area": "mainland"}), client, NOW)
    assert obs.data_until == NOW - timedelta(hours=28)


def test_identical_requests_of_two_budgets_go_once(client: ApiClient) -> None:
    names = domains(2)
    fake = FakeCdn(names)
    cfg = config(
        "Asia/Shanghai",
        {"name": "a", "domains": names, "group_by": ["domain"], "area": "mainland"},
        {"name": "b", "domains": names[:1], "group_by": ["domain"], "area": "mainland", "limit": 10**16},
    )
    with serve(fake):
        obs = collect(cfg, client, NOW)
    assert sorted(p["Domain"] for p in fake.of("DescribeBillingData")) == names
    assert [(o.budget, dict(o.group)["domain"]) for o in obs] == [("a", names[0]), ("a", names[1]), ("b", names[0])]


def test_a_failed_request_fails_its_budget_never_a_zero(client: ApiClient) -> None:
    names = domains(2)

    def fail(action: str, params: dict[str, object]) -> tuple[str, str] | None:
        if params.get("Domain") == names[1]:
            return "ResourceNotFound.CdnHostNotExists", "no such domain"
        return None

    fake = FakeCdn(names, fail=fail)
    cfg = config(
        "Asia/Shanghai",
        {"name": "bad", "domains": names, "group_by": ["domain"]},
        {"name": "good", "domains": names[:1]},
    )
    with serve(fake):
        obs = collect(cfg, client, NOW)
    bad = [o for o in obs if o.budget == "bad"]
    assert [(dict(o.group)["domain"], o.value) for o in bad] == [(names[0], None), (names[1], None)]
    assert all(o.failure is not None and o.failure.code == "ResourceNotFound.CdnHostNotExists" for o in bad)
    (good,) = [o for o in obs if o.budget == "good"]
    assert good.ok and good.value == Decimal(4 * slots(MONTH, NOW))


def test_plan_lists_the_requests_without_sending_them() -> None:
    cfg = config(
        "Asia/Shanghai",
        {"name": "a", "domains": domains(2), "group_by": ["domain"], "area": "mainland"},
        {"name": "b", "metric": "request", "group_by": ["domain"]},
    )
    calls = SOURCE.plan(cfg.budgets, NOW, ZoneInfo("Asia/Shanghai"))
    assert [c.action for c in calls] == ["DescribeDomains", "DescribeBillingData", "DescribeBillingData"]
    assert calls[0].params == {"Offset": 0, "Limit": 1000}
