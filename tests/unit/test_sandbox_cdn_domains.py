"""cdn in the sandbox: DescribeDomains, StopCdnDomain/StartCdnDomain (and what stopping does to usage and
bills), DescribePayType."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.ledger import ledger_of
from sandbox.scenario import Scenario
from tests.unit.cdn_support import BJ, CDN, DAY, call, code, scenario

DOMAINS = [d["domain"] for d in CDN["cdn"]["domains"]]


def _flux_fives(sc: Scenario, domain: str = "img.example.com") -> list[int]:
    out = call(sc, "DescribeBillingData", **DAY, Interval="5min", Metric="flux", Domain=domain)
    return [row["Value"] for row in out["Data"][0]["BillingData"][0]["DetailData"]]


def _stop_at(sc: Scenario, moment: datetime, domain: str = "img.example.com") -> None:
    sc.set_now(moment)
    call(sc, "StopCdnDomain", Domain=domain)


# --- DescribeDomains ------------------------------------------------------------------------------


def test_describe_domains_lists_every_domain_with_its_fields() -> None:
    out = call(scenario(), "DescribeDomains")
    assert out["TotalNumber"] == len(DOMAINS)
    assert [d["Domain"] for d in out["Domains"]] == DOMAINS
    img = out["Domains"][0]
    assert img["Status"] == "online"
    assert img["ProjectId"] == 7
    assert img["Area"] == "global"
    assert img["Product"] == "cdn"
    assert img["CreateTime"] == "2026-10-01 00:00:00"
    assert img["ResourceId"].startswith("cdn-")
    assert set(img["Origin"]) >= {"Origins", "OriginType", "ServerName", "OriginPullProtocol"}


def test_describe_domains_pages() -> None:
    sc = scenario()
    pages = [call(sc, "DescribeDomains", Offset=i, Limit=1) for i in range(len(DOMAINS) + 1)]
    assert [d["Domain"] for p in pages for d in p["Domains"]] == DOMAINS
    assert {p["TotalNumber"] for p in pages} == {len(DOMAINS)}
    assert pages[-1]["Domains"] == []


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"Name": "domain", "Value": ["dl.example.org"]}, ["dl.example.org"]),
        ({"Name": "domain", "Value": ["example.o"], "Fuzzy": True}, ["dl.example.org"]),
        ({"Name": "projectId", "Value": ["7", "8"]}, ["img.example.com", "dl.example.org"]),
        ({"Name": "serviceType", "Value": ["download"]}, ["dl.example.org"]),
        ({"Name": "tagKey", "Value": ["env"]}, ["img.example.com"]),
        ({"Name": "status", "Value": ["offline"]}, []),
    ],
)
def test_describe_domains_filters(flt: dict[str, Any], expected: list[str]) -> None:
    out = call(scenario(), "DescribeDomains", Filters=[flt])
    assert [d["Domain"] for d in out["Domains"]] == expected
    assert out["TotalNumber"] == len(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"Limit": 1001},
        {"Limit": 0},
        {"Offset": -1},
        {"Filters": [{"Name": "cname", "Value": ["x"]}]},
        {"Filters": [{"Name": "status", "Value": ["online"], "Fuzzy": True}]},
        {"Filters": [{"Name": "domain", "Value": ["a", "b"], "Fuzzy": True}]},
        {"Filters": [{"Name": "domain", "Value": ["a", "b", "c", "d", "e", "f"]}]},
        {"Filters": [{"Name": "domain", "Value": []}]},
    ],
)
def test_describe_domains_errors(params: dict[str, Any]) -> None:
    assert code(scenario(), "DescribeDomains", **params) == "InvalidParameter.CdnParamError"


def test_a_thousand_is_the_largest_page() -> None:
    assert call(scenario(), "DescribeDomains", Limit=1000)["TotalNumber"] == len(DOMAINS)


# --- StopCdnDomain / StartCdnDomain ---------------------------------------------------------------


def test_stop_and_start_change_the_status_and_its_time() -> None:
    sc = scenario()
    stop = datetime(2026, 11, 10, 11, 0, tzinfo=BJ)
    _stop_at(sc, stop)
    [img] = call(sc, "DescribeDomains", Filters=[{"Name": "domain", "Value": ["img.example.com"]}])["Domains"]
    assert img["Status"] == "offline"
    assert img["UpdateTime"] == "2026-11-10 11:00:00"
    offline = call(sc, "DescribeDomains", Filters=[{"Name": "status", "Value": ["offline"]}])
    assert [d["Domain"] for d in offline["Domains"]] == ["img.example.com"]
    sc.set_now(stop + timedelta(minutes=30))
    call(sc, "StartCdnDomain", Domain="img.example.com")
    [img] = call(sc, "DescribeDomains", Filters=[{"Name": "domain", "Value": ["img.example.com"]}])["Domains"]
    assert img["Status"] == "online"
    assert img["UpdateTime"] == "2026-11-10 11:30:00"


def test_documented_errors_of_stop_and_start() -> None:
    sc = scenario()
    assert code(sc, "StartCdnDomain", Domain="img.example.com") == "ResourceUnavailable.CdnHostIsNotOffline"
    call(sc, "StopCdnDomain", Domain="img.example.com")
    assert code(sc, "StopCdnDomain", Domain="img.example.com") == "ResourceUnavailable.CdnHostIsNotOnline"
    assert code(sc, "StopCdnDomain", Domain="nope.example.com") == "ResourceNotFound.CdnHostNotExists"
    assert code(sc, "StartCdnDomain") == "MissingParameter"


def test_a_domain_offline_in_the_scenario_serves_nothing_until_started() -> None:
    domains = [
        *CDN["cdn"]["domains"],
        {"domain": "v.example.net", "status": "offline", "usage": {"flux": {"daily": "9 GB"}}},
    ]
    sc = scenario(cdn={"domains": domains})
    assert sum(_flux_fives(sc, "v.example.net")) == 0
    sc.set_now(datetime(2026, 11, 5, 12, tzinfo=BJ))
    call(sc, "StartCdnDomain", Domain="v.example.net")
    sc.set_now(datetime(2026, 11, 6, tzinfo=BJ))
    fives = _flux_fives(sc, "v.example.net")
    assert fives[:144] == [0] * 144
    assert all(v > 0 for v in fives[144:])


def test_stopping_stops_accrual_from_that_instant_and_starting_resumes_it() -> None:
    running, stopped = scenario(), scenario()
    stop, start = datetime(2026, 11, 5, 9, 2, 30, tzinfo=BJ), datetime(2026, 11, 5, 15, 0, tzinfo=BJ)
    _stop_at(stopped, stop)
    stopped.set_now(start)
    call(stopped, "StartCdnDomain", Domain="img.example.com")
    for sc in (running, stopped):
        sc.set_now(datetime(2026, 11, 6, tzinfo=BJ))
    before, after = _flux_fives(running), _flux_fives(stopped)
    i, j = 9 * 12, 15 * 12  # the 5-minute buckets holding the stop and the start
    assert after[:i] == before[:i]
    assert after[i] == before[i] * 150 // 300  # on for 2.5 of its 5 minutes
    assert after[i + 1 : j] == [0] * (j - i - 1)
    assert after[j:] == before[j:]
    assert before[i + 1 : j] != [0] * (j - i - 1)


def test_a_stopped_domain_costs_nothing() -> None:
    billing = {
        "as_of": "2026-11-01T00:00:00+08:00",
        "products": [{"code": "p_cdn", "name": "CDN", "prices": {"cdn:flux": {"per": "1 GB", "yuan": "1"}}}],
    }
    running, stopped = scenario(billing=billing), scenario(billing=billing)
    for domain in DOMAINS:  # the priced usage is every domain's (cdn and ecdn)
        _stop_at(stopped, datetime(2026, 11, 5, tzinfo=BJ), domain)
    for sc in (running, stopped):
        sc.set_now(datetime(2026, 11, 10, tzinfo=BJ))
    day = datetime(2026, 11, 7, tzinfo=BJ).date()
    assert ledger_of(running).day(day, running.now().timestamp())[0] > 0
    assert ledger_of(stopped).day(day, stopped.now().timestamp()) == [0]
    early = datetime(2026, 11, 4, tzinfo=BJ).date()
    assert ledger_of(stopped).day(early, stopped.now().timestamp()) == ledger_of(running).day(
        early, running.now().timestamp()
    )


@settings(max_examples=25, deadline=None)
@given(minute=st.integers(min_value=0, max_value=24 * 60 - 1), second=st.integers(min_value=0, max_value=59))
def test_property_usage_of_a_stopped_domain_is_flat_after_the_stop(minute: int, second: int) -> None:
    sc = scenario()
    stop = datetime(2026, 11, 5, tzinfo=BJ) + timedelta(minutes=minute, seconds=second)
    _stop_at(sc, stop)
    sc.set_now(datetime(2026, 11, 6, 12, tzinfo=BJ))
    fives = _flux_fives(sc)
    first_after = (minute * 60 + second + 299) // 300  # the first bucket starting at or after the stop
    assert fives[first_after:] == [0] * (288 - first_after)
    # Cumulative usage never grows after the stop instant: the next day adds nothing.
    later = call(
        sc,
        "DescribeBillingData",
        StartTime="2026-11-05 00:00:00",
        EndTime="2026-11-06 11:59:59",
        Interval="day",
        Metric="flux",
        Domain="img.example.com",
    )
    day_values = [row["Value"] for row in later["Data"][0]["BillingData"][0]["DetailData"]]
    assert day_values[0] == sum(fives)
    assert day_values[1] == 0


# --- DescribePayType ------------------------------------------------------------------------------


def test_pay_type_comes_from_the_scenario() -> None:
    pay = {"pay_type": "bandwidth", "billing_cycle": "month", "stat_type": "month95", "region_type": "multiple"}
    out = call(scenario(cdn={**CDN["cdn"], "pay_type": pay}), "DescribePayType", Area="overseas")
    assert out == {
        "PayType": "bandwidth",
        "BillingCycle": "month",
        "StatType": "month95",
        "RegionType": "multiple",
        "CurrentPayType": "bandwidth",
    }


@pytest.mark.parametrize("params", [{"Area": "moon"}, {"Product": "vod"}, {"Type": "request"}])
def test_pay_type_errors(params: dict[str, Any]) -> None:
    assert code(scenario(), "DescribePayType", **params) == "InvalidParameter.CdnParamError"
