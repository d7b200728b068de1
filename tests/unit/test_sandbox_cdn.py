"""cdn in the sandbox: DescribeBillingData and DescribeCdnData rules, numbers, limits and error codes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from lib.errors import ConfigError
from lib.signing import tc3_headers
from sandbox import cdn
from sandbox.api3 import Api3, Request
from sandbox.scenario import Scenario
from sandbox.verify import Credential
from tests.unit.cdn_support import BJ, DAY, call, code, scenario
from tests.unit.sandbox_support import SECRET_ID, SECRET_KEY, WALL, error_code, reply_json


def billing(sc: Scenario, **params: Any) -> dict[str, Any]:
    out = call(sc, "DescribeBillingData", **params)
    [resource] = out["Data"]
    [data] = resource["BillingData"]
    return {"Interval": out["Interval"], "Resource": resource["Resource"], **data}


def values(doc: dict[str, Any]) -> list[int]:
    return [row["Value"] for row in doc["DetailData"]]


def truth(sc: Scenario, metric: str, domain: str, area: str, start: datetime) -> list[int]:
    """A day of 5-minute values straight from the usage engine (the oracle the API answers must agree with)."""
    end = start + timedelta(days=1)
    engine = sc.cdn_engine
    series = [s for s in engine.series(metric, sc.cdn_domains[domain]) if s.region == area]
    return engine.summed(metric, series, int(start.timestamp()), int(end.timestamp()), sc.visible_until())


# --- DescribeBillingData ---------------------------------------------------------------------------


def test_billing_data_shape_and_labels() -> None:
    doc = billing(scenario(), **DAY, Interval="hour", Metric="flux", Domain="img.example.com")
    assert doc["Interval"] == "hour"
    assert doc["Resource"] == "img.example.com"
    assert doc["Metric"] == "flux"
    assert [row["Time"] for row in doc["DetailData"]] == [f"2026-11-05 {h:02d}:00:00" for h in range(24)]
    assert doc["SummarizedData"] == {"Name": "sum", "Value": sum(values(doc))}


def test_intervals_add_up_to_the_engine_values() -> None:
    sc = scenario()
    start = datetime(2026, 11, 5, tzinfo=BJ)
    fives = truth(sc, "flux", "img.example.com", "mainland", start)
    by = {
        interval: values(billing(sc, **DAY, Interval=interval, Metric="flux", Domain="img.example.com"))
        for interval in ("5min", "hour", "day")
    }
    assert by["5min"] == fives
    assert by["hour"] == [sum(fives[i : i + 12]) for i in range(0, 288, 12)]
    assert by["day"] == [sum(fives)]


def test_bandwidth_is_derived_from_flux_and_peaks_in_coarser_buckets() -> None:
    sc = scenario()
    start = datetime(2026, 11, 5, tzinfo=BJ)
    fluxes = truth(sc, "flux", "img.example.com", "mainland", start)
    five = billing(sc, **DAY, Interval="5min", Domain="img.example.com")  # Metric defaults to bandwidth
    assert five["Metric"] == "bandwidth"
    assert values(five) == [v * 8 // 300 for v in fluxes]
    hour = billing(sc, **DAY, Interval="hour", Domain="img.example.com")
    assert values(hour) == [max(values(five)[i : i + 12]) for i in range(0, 288, 12)]
    assert hour["SummarizedData"] == {"Name": "max", "Value": max(values(five))}


def test_area_defaults_to_mainland_and_overseas_is_the_rest() -> None:
    sc = scenario()
    query = {**DAY, "Interval": "day", "Metric": "flux", "Domain": "img.example.com"}
    default = values(billing(sc, **query))
    mainland = values(billing(sc, **query, Area="mainland"))
    overseas = values(billing(sc, **query, Area="overseas"))
    assert default == mainland
    assert 0 < overseas[0] < mainland[0]
    start = datetime(2026, 11, 5, tzinfo=BJ)
    for area, answer in (("mainland", mainland), ("overseas", overseas)):
        assert answer == [sum(truth(sc, "flux", "img.example.com", area, start))]


def test_the_whole_account_project_and_product() -> None:
    sc = scenario()
    query = {**DAY, "Interval": "day", "Metric": "flux"}
    every = billing(sc, **query)
    img = billing(sc, **query, Domain="img.example.com")
    dl = billing(sc, **query, Domain="dl.example.org")
    assert every["Resource"] == "all"
    assert values(every) == [values(img)[0] + values(dl)[0]]  # the ecdn domain is not cdn
    project = billing(sc, **query, Project=8)
    assert project["Resource"] == "8"
    assert values(project) == values(dl)
    ecdn = billing(sc, **query, Product="ecdn")
    assert values(ecdn)[0] > 0
    assert values(billing(sc, **query, Project=99)) == [0]


def test_time_zone_labels_and_aligns_the_buckets() -> None:
    sc = scenario()
    local = billing(sc, **DAY, Interval="hour", Metric="flux")
    # The same instants asked in UTC: the same values, labelled in UTC.
    utc = billing(
        sc,
        StartTime="2026-11-04 16:00:00",
        EndTime="2026-11-05 15:59:59",
        Interval="hour",
        Metric="flux",
        TimeZone="UTC+00:00",
    )
    assert values(utc) == values(local)
    assert utc["DetailData"][0]["Time"] == "2026-11-04 16:00:00"
    # Day buckets follow the offset: UTC days are not Beijing days.
    utc_days = billing(
        sc,
        StartTime="2026-11-04 00:00:00",
        EndTime="2026-11-05 23:59:59",
        Interval="day",
        Metric="flux",
        TimeZone="UTC+00:00",
    )
    utc_hours = billing(
        sc,
        StartTime="2026-11-04 00:00:00",
        EndTime="2026-11-05 23:59:59",
        Interval="hour",
        Metric="flux",
        TimeZone="UTC+00:00",
    )
    hours = values(utc_hours)
    assert [row["Time"] for row in utc_days["DetailData"]] == ["2026-11-04 00:00:00", "2026-11-05 00:00:00"]
    assert values(utc_days) == [sum(hours[:24]), sum(hours[24:])]
    assert values(utc_days)[1] != sum(values(local))


def test_start_and_end_are_rounded_down_to_their_buckets() -> None:
    doc = billing(scenario(), StartTime="2026-11-05 10:40:00", EndTime="2026-11-05 12:40:00", Interval="hour")
    assert [row["Time"] for row in doc["DetailData"]] == [
        "2026-11-05 10:00:00",
        "2026-11-05 11:00:00",
        "2026-11-05 12:00:00",
    ]


def test_unreported_and_future_buckets_are_zero() -> None:
    sc = scenario(clock={"now": "2026-11-05T12:00:00+08:00"}, data_delay="1h")
    doc = billing(sc, **DAY, Interval="hour", Metric="flux")
    hours = values(doc)
    assert all(v > 0 for v in hours[:11])
    assert hours[11:] == [0] * 13


def test_before_a_domain_was_created_it_has_no_usage() -> None:
    sc = scenario()
    doc = billing(
        sc,
        StartTime="2026-11-03 00:00:00",
        EndTime="2026-11-03 23:59:59",
        Interval="hour",
        Metric="flux",
        Domain="dl.example.org",
    )
    hours = values(doc)
    assert hours[:6] == [0] * 6
    assert all(v > 0 for v in hours[7:])


def test_the_spike_multiplies_its_window_only() -> None:
    sc = scenario(spikes=[])
    spiked = scenario()
    query = {**DAY, "Interval": "hour", "Metric": "flux", "Domain": "img.example.com"}
    calm, hot = values(billing(sc, **query)), values(billing(spiked, **query))
    assert hot[:10] == calm[:10]
    assert hot[12:] == calm[12:]
    assert hot[10] > 5 * calm[10]
    overseas = {**query, "Area": "overseas"}
    assert values(billing(sc, **overseas)) == values(billing(spiked, **overseas))


def test_https_requests_are_a_billing_metric() -> None:
    doc = billing(scenario(), **DAY, Interval="day", Metric="https", Domain="img.example.com")
    assert doc["SummarizedData"]["Name"] == "sum"
    assert values(doc)[0] > 0


def test_ninety_days_by_day_is_allowed() -> None:
    doc = billing(scenario(), StartTime="2026-08-12 00:00:00", EndTime="2026-11-10 00:00:00", Interval="day")
    assert len(doc["DetailData"]) == 91


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"StartTime": "2026-11-05T00:00:00+08:00"}, "InvalidParameter.CdnStatInvalidDate"),
        ({"StartTime": "2026-02-30 00:00:00"}, "InvalidParameter.CdnStatInvalidDate"),
        ({"EndTime": "2026-11-04 00:00:00"}, "InvalidParameter.CdnStatInvalidDate"),
        ({"StartTime": "2026-08-01 00:00:00", "Interval": "day"}, "InvalidParameter.CdnStatInvalidDate"),
        ({"StartTime": "2026-10-04 00:00:00", "Interval": "hour"}, "InvalidParameter.CdnStatInvalidDate"),
        ({"StartTime": "2026-10-04 00:00:00", "Interval": "5min"}, "InvalidParameter.CdnStatInvalidDate"),
        ({"StartTime": "2026-11-04 00:00:00", "Interval": "min"}, "InvalidParameter.CdnStatInvalidDate"),
        ({"Interval": "min", "Area": "overseas"}, "InvalidParameter.CdnInvalidParamInterval"),
        ({"Interval": "1h"}, "InvalidParameter.CdnInvalidParamInterval"),
        ({"Metric": "request"}, "InvalidParameter.CdnInvalidParamMetric"),
        ({"Area": "global"}, "InvalidParameter.CdnParamError"),
        ({"Domain": "nope.example.com"}, "ResourceNotFound.CdnHostNotExists"),
        ({"Domain": "e.example.net"}, "ResourceNotFound.CdnHostNotExists"),
        ({"Product": "vod"}, "InvalidParameter.CdnParamError"),
        ({"TimeZone": "Asia/Shanghai"}, "InvalidParameter.CdnParamError"),
        ({"TimeZone": "UTC+05:47"}, "InvalidParameter.CdnParamError"),
        ({"District": 1}, "InvalidParameter.CdnParamError"),
        ({"StartTime": None}, "MissingParameter"),
    ],
)
def test_billing_data_errors(params: dict[str, Any], error: str) -> None:
    query = {k: v for k, v in {**DAY, "Interval": "hour", **params}.items() if v is not None}
    assert code(scenario(), "DescribeBillingData", **query) == error


# --- DescribeCdnData -------------------------------------------------------------------------------


def test_cdn_data_one_domain_many_domains_and_detail() -> None:
    sc = scenario()
    query = {**DAY, "Interval": "day", "Metric": "flux"}
    one = call(sc, "DescribeCdnData", **query, Domains=["img.example.com"])
    both = call(sc, "DescribeCdnData", **query, Domains=["img.example.com", "dl.example.org"])
    detail = call(sc, "DescribeCdnData", **query, Domains=["img.example.com", "dl.example.org"], Detail=True)
    every = call(sc, "DescribeCdnData", **query)
    assert [d["Resource"] for d in one["Data"]] == ["img.example.com"]
    assert [d["Resource"] for d in both["Data"]] == ["multiDomains"]
    assert [d["Resource"] for d in detail["Data"]] == ["img.example.com", "dl.example.org"]
    assert [d["Resource"] for d in every["Data"]] == ["all"]

    def total(doc: dict[str, Any], i: int = 0) -> int:
        return int(doc["Data"][i]["CdnData"][0]["SummarizedData"]["Value"])

    assert total(both) == total(detail, 0) + total(detail, 1) == total(every)
    assert total(one) == total(detail, 0)
    assert total(one) == values(billing(sc, **query, Domain="img.example.com"))[0]


def test_hit_metrics_follow_the_hit_ratio() -> None:
    sc = scenario()
    query = {**DAY, "Interval": "hour", "Domains": ["img.example.com"]}

    def series(metric: str) -> list[Any]:
        return [
            row["Value"]
            for row in call(sc, "DescribeCdnData", **query, Metric=metric)["Data"][0]["CdnData"][0]["DetailData"]
        ]

    requests, hits, rates = series("request"), series("hitRequest"), series("requestHitRate")
    assert all(0 < h <= r for h, r in zip(hits, requests, strict=True))
    assert all(abs(rate - 80) < 0.1 for rate in rates)
    assert series("hitFlux") < series("flux")


def test_minutes_split_five_minute_amounts_exactly() -> None:
    sc = scenario()
    window = {"StartTime": "2026-11-05 10:00:00", "EndTime": "2026-11-05 10:59:59", "Domains": ["img.example.com"]}
    minutes = call(sc, "DescribeCdnData", **window, Interval="min", Metric="flux")["Data"][0]["CdnData"][0]
    fives = call(sc, "DescribeCdnData", **window, Interval="5min", Metric="flux")["Data"][0]["CdnData"][0]
    per_minute = [row["Value"] for row in minutes["DetailData"]]
    assert len(per_minute) == 60
    assert [sum(per_minute[i : i + 5]) for i in range(0, 60, 5)] == [row["Value"] for row in fives["DetailData"]]
    assert minutes["DetailData"][1]["Time"] == "2026-11-05 10:01:00"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"Domains": [f"d{i}.example.com" for i in range(31)]}, "InvalidParameter.CdnStatTooManyDomains"),
        ({"Metric": "statusCode"}, "InvalidParameter.CdnStatInvalidMetric"),
        ({"Metric": "https"}, "InvalidParameter.CdnStatInvalidMetric"),
        ({"Metric": None}, "MissingParameter"),
        ({"Isp": 2}, "InvalidParameter.CdnParamError"),
        ({"Protocol": "https"}, "InvalidParameter.CdnParamError"),
        ({"Domains": ["nope.example.com"]}, "ResourceNotFound.CdnHostNotExists"),
        ({"Project": -1}, "InvalidParameter.CdnStatInvalidProjectId"),
    ],
)
def test_cdn_data_errors(params: dict[str, Any], error: str) -> None:
    query = {k: v for k, v in {**DAY, "Interval": "hour", "Metric": "flux", **params}.items() if v is not None}
    assert code(scenario(), "DescribeCdnData", **query) == error


def test_thirty_domains_are_allowed() -> None:
    domains = [{"domain": f"d{i}.example.com", "usage": {"flux": {"daily": "1 GB"}}} for i in range(30)]
    sc = scenario(cdn={"domains": domains}, spikes=[])
    out = call(sc, "DescribeCdnData", **DAY, Interval="day", Metric="flux", Domains=[d["domain"] for d in domains])
    assert out["Data"][0]["CdnData"][0]["SummarizedData"]["Value"] > 0


# --- through the front door: signature, service, rate limit ----------------------------------------


def _api(sc: Scenario) -> Api3:
    return Api3(
        sc, {SECRET_ID: Credential(SECRET_ID, SECRET_KEY, None)}, {"cdn": cdn.PRODUCT}, signature_clock=lambda: WALL
    )


def _signed(action: str, params: dict[str, Any]) -> Request:
    body = json.dumps(params).encode()
    headers = tc3_headers(
        SECRET_ID,
        SECRET_KEY,
        service="cdn",
        host="cdn.tencentcloudapi.com",
        action=action,
        version=cdn.VERSION,
        payload=body,
        timestamp=int(WALL),
    )
    return Request("POST", "/", "", {k.lower(): v for k, v in headers.items()}, body)


def test_signed_request_and_the_twenty_per_second_limit() -> None:
    api = _api(scenario())
    query = {**DAY, "Interval": "day", "Metric": "flux"}
    answers = [api.handle(_signed("DescribeBillingData", query)) for _ in range(21)]
    assert all(error_code(a) is None for a in answers[:20])
    assert reply_json(answers[0])["Data"][0]["Resource"] == "all"
    assert error_code(answers[20]) == "RequestLimitExceeded"
    assert error_code(api.handle(_signed("DescribeDomains", {}))) is None  # another action, its own window


# --- the scenario model ------------------------------------------------------------------------------


def _with_domain(**fields: Any) -> dict[str, Any]:
    return {"cdn": {"domains": [{"domain": "x.example.com", **fields}]}, "spikes": []}


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (_with_domain(usage={"acc_flux": {"daily": "1 GB"}}), "unknown CDN metrics"),
        (_with_domain(usage={"bandwidth": {"daily": "1 GB"}}), "takes `mean`"),
        (_with_domain(usage={"flux": {"mean": "1 Mbps"}}), "takes `daily`"),
        (_with_domain(area="mainland", areas={"overseas": 1}), "serves mainland only"),
        (_with_domain(areas={"mainland": 0}), "not all zero"),
        (_with_domain(hit_ratio="1.5"), "hit_ratio"),
        ({"cdn": {"domains": [{"domain": "x.example.com"}, {"domain": "x.example.com"}]}, "spikes": []}, "unique"),
        ({"spikes": [{"domain": "nope.example.com", "start": "2026-11-01", "end": "2026-11-02", "factor": 2}]}, "nope"),
        (
            {
                "spikes": [
                    {
                        "domain": "img.example.com",
                        "region": "CH",
                        "start": "2026-11-01",
                        "end": "2026-11-02",
                        "factor": 2,
                    }
                ]
            },
            "mainland or overseas",
        ),
    ],
)
def test_scenario_refuses_bad_cdn_data(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        scenario(**overrides)
    assert fragment in str(info.value)
