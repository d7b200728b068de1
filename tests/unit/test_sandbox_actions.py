"""teo in the sandbox: the switches budget actions use (ModifyZoneStatus, ModifyAccelerationDomainStatuses),
reading them back (DescribeZones, DescribeAccelerationDomains), and what they do to usage and bills."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest

from lib.errors import ConfigError
from sandbox import teo
from sandbox.api3 import ApiFailure
from sandbox.ledger import ledger_of
from sandbox.scenario import Scenario
from tests.unit.sandbox_support import SMALL, billing_data, context, local, small

ZONE_A = "zone-a"
HOSTS_A = ["www.a.example.com", "img.a.example.com"]
DAY = {"StartTime": "2026-11-05T00:00:00+08:00", "EndTime": "2026-11-05T23:59:59+08:00"}


def linked() -> Scenario:
    """SMALL with img.a.example.com carrying linked resources (offline only with Force)."""
    zones = copy.deepcopy(SMALL["zones"])
    zones[0]["linked_hosts"] = ["img.a.example.com"]
    return small(zones=zones)


def call(sc: Scenario, action: str, **params: Any) -> dict[str, Any]:
    return teo.PRODUCT.actions[action].handler(params, context(sc))


def code(sc: Scenario, action: str, **params: Any) -> str:
    with pytest.raises(ApiFailure) as info:
        call(sc, action, **params)
    return info.value.code


def at(sc: Scenario, moment: datetime, action: str, **params: Any) -> dict[str, Any]:
    sc.set_now(moment)
    return call(sc, action, **params)


def fives(sc: Scenario, metric: str = "acc_flux", **extra: Any) -> list[int]:
    rows = billing_data(sc, **DAY, ZoneIds=[ZONE_A], MetricName=metric, Interval="5min", **extra)
    return [row["Value"] for row in rows]


def zone_a(sc: Scenario) -> dict[str, Any]:
    out = call(sc, "DescribeZones", Filters=[{"Name": "zone-id", "Values": [ZONE_A]}])
    return out["Zones"][0]  # type: ignore[no-any-return]


# --- ModifyZoneStatus -----------------------------------------------------------------------------


def test_pausing_a_zone_shows_in_describe_zones_and_plans() -> None:
    sc = small()
    assert zone_a(sc)["Paused"] is False
    at(sc, local(2026, 11, 10, 9, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    zone = zone_a(sc)
    assert zone["Paused"] is True
    assert zone["ActiveStatus"] == "paused"
    assert zone["ModifiedOn"] == "2026-11-10T01:00:00Z"
    plans = call(sc, "DescribePlans", Filters=[{"Name": "plan-id", "Values": ["edgeone-p1"]}])["Plans"]
    assert plans[0]["ZonesInfo"][0]["Paused"] is True
    call(sc, "ModifyZoneStatus", ZoneId=ZONE_A, Paused=False)
    assert zone_a(sc)["Paused"] is False
    assert zone_a(sc)["ActiveStatus"] == "active"


def test_pausing_twice_is_accepted_and_keeps_the_first_instant() -> None:
    sc = small()
    at(sc, local(2026, 11, 10, 9, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    at(sc, local(2026, 11, 10, 10, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    assert zone_a(sc)["ModifiedOn"] == "2026-11-10T01:00:00Z"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"ZoneId": "zone-nope", "Paused": True}, "InvalidParameter.ZoneNotFound"),
        ({"Paused": True}, "MissingParameter"),
        ({"ZoneId": ZONE_A}, "MissingParameter"),
    ],
)
def test_modify_zone_status_errors(params: dict[str, Any], error: str) -> None:
    assert code(small(), "ModifyZoneStatus", **params) == error


def test_a_paused_zone_stops_accruing_from_that_instant_and_resumes() -> None:
    running, paused = small(), small()
    at(paused, local(2026, 11, 5, 10, 1), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    at(paused, local(2026, 11, 5, 14, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=False)
    for sc in (running, paused):
        sc.set_now(local(2026, 11, 10, 12, 0))
    for metric in ("acc_flux", "l4_flux", "acc_bandwidth", "sec_request_clean"):
        before, after = fives(running, metric), fives(paused, metric)
        i, j = 10 * 12, 14 * 12
        assert after[:i] == before[:i]
        # On for the first minute of the bucket: each of the zone's 4 series is floored on its own.
        assert before[i] * 60 // 300 - 4 < after[i] <= before[i] * 60 // 300
        assert after[i + 1 : j] == [0] * (j - i - 1)
        assert after[j:] == before[j:]
        assert any(before[i + 1 : j])


def test_a_zone_paused_in_the_scenario_has_no_usage() -> None:
    zones = copy.deepcopy(SMALL["zones"])
    zones[0]["paused"] = True
    sc = small(zones=zones)
    assert zone_a(sc)["Paused"] is True
    assert sum(fives(sc)) == 0


def test_bills_follow_a_pause() -> None:
    running, paused = small(), small()
    at(paused, local(2026, 11, 5, 0, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    for sc in (running, paused):
        sc.set_now(local(2026, 11, 10, 12, 0))
    later = local(2026, 11, 7, 0, 0).date()
    run, stop = (
        ledger_of(running).day(later, running.now().timestamp()),
        ledger_of(paused).day(later, paused.now().timestamp()),
    )
    zone_b_only = ledger_of(paused).day(later, paused.now().timestamp())[0]
    assert stop[0] == zone_b_only < run[0]  # p_teo: zone-b still serves
    assert stop[1:] == run[1:]  # fixed prices do not care


def test_the_ledger_recomputes_hours_it_had_cached_before_a_pause() -> None:
    sc = small()
    sc.set_now(local(2026, 11, 10, 12, 0))
    ledger = ledger_of(sc)
    day = local(2026, 11, 9, 0, 0).date()
    before = ledger.day(day, sc.now().timestamp())
    sc.set_now(local(2026, 11, 9, 0, 0))
    call(sc, "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    sc.set_now(local(2026, 11, 10, 12, 0))
    after = ledger.day(day, sc.now().timestamp())
    assert after[0] < before[0]


# --- ModifyAccelerationDomainStatuses -------------------------------------------------------------


def test_an_offline_host_stops_accruing_and_the_other_host_does_not() -> None:
    running, offline = small(), small()
    at(
        offline,
        local(2026, 11, 5, 8, 0),
        "ModifyAccelerationDomainStatuses",
        ZoneId=ZONE_A,
        DomainNames=["img.a.example.com"],
        Status="offline",
    )
    for sc in (running, offline):
        sc.set_now(local(2026, 11, 10, 12, 0))
    i = 8 * 12
    img_before, img_after = (
        fives(running, Filters=[{"Type": "host", "Value": "img.a.example.com"}]),
        fives(offline, Filters=[{"Type": "host", "Value": "img.a.example.com"}]),
    )
    www = [{"Type": "host", "Value": "www.a.example.com"}]
    assert img_after[:i] == img_before[:i]
    assert img_after[i:] == [0] * (288 - i)
    assert fives(offline, Filters=www) == fives(running, Filters=www)
    assert fives(offline, "l4_flux") == fives(running, "l4_flux")  # L4 proxies are not hosts


def test_hosts_read_back_with_describe_acceleration_domains() -> None:
    sc = small()
    at(
        sc,
        local(2026, 11, 10, 9, 0),
        "ModifyAccelerationDomainStatuses",
        ZoneId=ZONE_A,
        DomainNames=["img.a.example.com"],
        Status="offline",
    )
    out = call(sc, "DescribeAccelerationDomains", ZoneId=ZONE_A)
    assert out["TotalCount"] == 2
    by_name = {d["DomainName"]: d for d in out["AccelerationDomains"]}
    assert by_name["img.a.example.com"]["DomainStatus"] == "offline"
    assert by_name["img.a.example.com"]["ModifiedOn"] == "2026-11-10T01:00:00Z"
    assert by_name["www.a.example.com"]["DomainStatus"] == "online"
    call(sc, "ModifyAccelerationDomainStatuses", ZoneId=ZONE_A, DomainNames=["img.a.example.com"], Status="online")
    out = call(
        sc,
        "DescribeAccelerationDomains",
        ZoneId=ZONE_A,
        Filters=[{"Name": "domain-name", "Values": ["img.a.example.com"]}],
    )
    assert [d["DomainStatus"] for d in out["AccelerationDomains"]] == ["online"]


def test_linked_hosts_need_force() -> None:
    sc = linked()
    params = {"ZoneId": ZONE_A, "DomainNames": HOSTS_A, "Status": "offline"}
    assert code(sc, "ModifyAccelerationDomainStatuses", **params) == "InvalidParameter.DomainOnTrafficScheduling"
    statuses = {
        d["DomainName"]: d["DomainStatus"]
        for d in call(sc, "DescribeAccelerationDomains", ZoneId=ZONE_A)["AccelerationDomains"]
    }
    assert statuses == dict.fromkeys(HOSTS_A, "online")  # all or nothing
    call(sc, "ModifyAccelerationDomainStatuses", **params, Force=True)
    statuses = {
        d["DomainName"]: d["DomainStatus"]
        for d in call(sc, "DescribeAccelerationDomains", ZoneId=ZONE_A)["AccelerationDomains"]
    }
    assert statuses == dict.fromkeys(HOSTS_A, "offline")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"ZoneId": "zone-nope"}, "InvalidParameter.ZoneNotFound"),
        ({"DomainNames": ["nope.example.com"]}, "InvalidParameter.DomainNotFound"),
        ({"DomainNames": ["www.a.example.com", "b.example.org"]}, "InvalidParameterValue.DomainNotMatchZone"),
        ({"Status": "paused"}, "InvalidParameter"),
        ({"DomainNames": []}, "MissingParameter"),
    ],
)
def test_modify_domain_statuses_errors(params: dict[str, Any], error: str) -> None:
    sc = small()
    query = {"ZoneId": ZONE_A, "DomainNames": ["www.a.example.com"], "Status": "offline", **params}
    assert code(sc, "ModifyAccelerationDomainStatuses", **query) == error
    assert sc.host_online("www.a.example.com")


# --- DescribeAccelerationDomains ------------------------------------------------------------------


def test_acceleration_domains_page_sort_and_match() -> None:
    sc = small()
    names = [d["DomainName"] for d in call(sc, "DescribeAccelerationDomains", ZoneId=ZONE_A)["AccelerationDomains"]]
    assert names == sorted(HOSTS_A)
    desc = call(sc, "DescribeAccelerationDomains", ZoneId=ZONE_A, Direction="desc")["AccelerationDomains"]
    assert [d["DomainName"] for d in desc] == sorted(HOSTS_A, reverse=True)
    page = call(sc, "DescribeAccelerationDomains", ZoneId=ZONE_A, Offset=1, Limit=1)
    assert page["TotalCount"] == 2
    assert [d["DomainName"] for d in page["AccelerationDomains"]] == [sorted(HOSTS_A)[1]]
    filters = [
        {"Name": "domain-name", "Values": ["www."], "Fuzzy": True},
        {"Name": "domain-name", "Values": ["img.a.example.com"]},
    ]
    assert call(sc, "DescribeAccelerationDomains", ZoneId=ZONE_A, Filters=filters)["TotalCount"] == 0
    assert call(sc, "DescribeAccelerationDomains", ZoneId=ZONE_A, Filters=filters, Match="any")["TotalCount"] == 2


def test_hosts_of_a_zone_that_is_not_active_are_init() -> None:
    out = call(small(), "DescribeAccelerationDomains", ZoneId="zone-c")
    assert [d["DomainStatus"] for d in out["AccelerationDomains"]] == ["init"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"ZoneId": None}, "MissingParameter"),
        ({"ZoneId": "zone-nope"}, "InvalidParameter.ZoneNotFound"),
        ({"Limit": 201}, "InvalidParameter"),
        ({"Offset": -1}, "InvalidParameter"),
        ({"Order": "status"}, "InvalidParameter"),
        ({"Direction": "up"}, "InvalidParameter"),
        ({"Match": "most"}, "InvalidParameter"),
        ({"Filters": [{"Name": "zone-id", "Values": ["x"]}]}, "InvalidParameter"),
        ({"Filters": [{"Name": "domain-name", "Values": [str(i) for i in range(21)]}]}, "InvalidParameter"),
    ],
)
def test_describe_acceleration_domains_errors(params: dict[str, Any], error: str) -> None:
    query = {k: v for k, v in {"ZoneId": ZONE_A, **params}.items() if v is not None}
    assert code(small(), "DescribeAccelerationDomains", **query) == error


def test_moving_the_clock_back_forgets_later_changes() -> None:
    sc = small()
    at(sc, local(2026, 11, 6, 0, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    at(sc, local(2026, 11, 7, 0, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=False)
    at(sc, local(2026, 11, 5, 12, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    sc.set_now(local(2026, 11, 10, 12, 0))
    later = billing_data(
        sc,
        StartTime="2026-11-05T12:00:00+08:00",
        EndTime=(local(2026, 11, 9, 0, 0) - timedelta(seconds=1)).isoformat(),
        ZoneIds=[ZONE_A],
        MetricName="acc_flux",
        Interval="day",
    )
    assert [row["Value"] for row in later[1:]] == [0, 0, 0]


def test_a_host_offline_in_the_scenario_has_no_usage_until_put_online() -> None:
    zones = copy.deepcopy(SMALL["zones"])
    zones[0]["offline_hosts"] = ["img.a.example.com"]
    sc = small(zones=zones)
    img = [{"Type": "host", "Value": "img.a.example.com"}]
    assert sum(fives(sc, Filters=img)) == 0
    assert sum(fives(sc, Filters=[{"Type": "host", "Value": "www.a.example.com"}])) > 0
    at(
        sc,
        local(2026, 11, 5, 12, 0),
        "ModifyAccelerationDomainStatuses",
        ZoneId=ZONE_A,
        DomainNames=["img.a.example.com"],
        Status="online",
    )
    sc.set_now(local(2026, 11, 10, 12, 0))
    after = fives(sc, Filters=img)
    assert after[:144] == [0] * 144
    assert all(v > 0 for v in after[144:])


@pytest.mark.parametrize("field", ["offline_hosts", "linked_hosts"])
def test_switch_lists_name_hosts_of_the_zone(field: str) -> None:
    zones = copy.deepcopy(SMALL["zones"])
    zones[0][field] = ["b.example.org"]
    with pytest.raises(ConfigError) as info:
        small(zones=zones)
    assert "b.example.org" in str(info.value)


def test_pausing_again_earlier_than_a_pause_moves_it_earlier() -> None:
    sc = small()
    at(sc, local(2026, 11, 6, 0, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    at(sc, local(2026, 11, 5, 12, 0), "ModifyZoneStatus", ZoneId=ZONE_A, Paused=True)
    sc.set_now(local(2026, 11, 10, 12, 0))
    assert fives(sc)[144:] == [0] * 144
    assert zone_a(sc)["ModifiedOn"] == "2026-11-05T04:00:00Z"
