"""Scenario files: parsing, validation, the data clock, faults, and the usage formula recomputed by hand."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any

import pytest

from lib.errors import ConfigError
from sandbox.catalogue import METRICS, parse_duration, parse_quantity
from sandbox.scenario import Scenario
from tests.unit.sandbox_support import SMALL, local, small

# --- an independent reading of the formula in sandbox/usage.py's docstring ----------------------


def _frac(x: Any) -> Fraction:
    return Fraction(Decimal(str(x)))


def expected_value(  # noqa: PLR0917 - one argument per part of a series key
    data: dict[str, Any], metric: str, zone_id: str, host: str, proxy: str, region: str, t: int
) -> int:
    zone = next(z for z in data["zones"] if z["id"] == zone_id)
    spec = zone["usage"][metric]
    units = {"GB": 10**9, "M": 10**6}
    raw = spec["daily"]
    if isinstance(raw, str):
        number, unit = raw.split()[0] if " " in raw else raw[:-1], raw.split()[1] if " " in raw else raw[-1]
        base = Fraction(int(Decimal(number) * units[unit]))
    else:
        base = Fraction(raw)
    members = zone["proxies"] if proxy else zone["hosts"]
    share_m = _frac(members[proxy or host]) / sum(_frac(v) for v in members.values())
    share_r = _frac(zone["regions"][region]) / sum(_frac(v) for v in zone["regions"].values())
    pattern = data["patterns"].get(spec.get("pattern", "flat"), {"daily": [1] * 24, "weekly": [1] * 7})
    hourly = [_frac(x) for x in pattern["daily"]]
    weekly = [_frac(x) for x in pattern["weekly"]]
    moment = datetime.fromtimestamp(t, timezone.utc).astimezone(local(2026, 1, 1).tzinfo)
    h, mm = moment.hour, moment.minute
    daily = (hourly[h] * 60 + (hourly[(h + 1) % 24] - hourly[h]) * mm) * 24 / (60 * sum(hourly))
    week = weekly[moment.weekday()] * 7 / sum(weekly)
    days = (moment.date() - local(2026, 11, 1).date()).days
    growth = Fraction(round((1 + _frac(spec.get("growth", 0))) ** days * 10**6), 10**6)
    amplitude = _frac(spec.get("noise", 0))
    day = t // 86400
    digest = hashlib.shake_256(f"{data['seed']}/{metric}/{zone_id}/{host}/{proxy}/{region}/{day}".encode()).digest(
        288 * 4
    )
    i = (t - day * 86400) // 300
    u = int.from_bytes(digest[4 * i : 4 * i + 4], "big")
    noise = 1 + amplitude * Fraction(2 * u + 1 - 2**32, 2**32)
    spike = Fraction(1)
    for sp in data.get("spikes", []):
        start = datetime.fromisoformat(sp["start"]).timestamp()
        end = datetime.fromisoformat(sp["end"]).timestamp()
        selected = sp.get("zone") in (None, zone_id) and sp.get("host") in (None, host)
        if selected and start <= t < end and (not sp.get("metrics") or metric in sp["metrics"]):
            spike *= _frac(sp["factor"])
    if "created" in zone and t < datetime.fromisoformat(zone["created"]).timestamp():
        return 0
    return floor(base * share_m * share_r * daily * week * growth * noise * spike / 288)


SAMPLES = [
    local(2026, 11, 1, 0, 0),
    local(2026, 11, 2, 7, 35),
    local(2026, 11, 5, 9, 55),  # just before the spike
    local(2026, 11, 5, 10, 0),  # spike
    local(2026, 11, 5, 11, 55),
    local(2026, 11, 5, 12, 0),  # spike over
    local(2026, 11, 7, 23, 50),  # Saturday
    local(2026, 10, 20, 13, 5),  # before the epoch: growth < 1
    local(2026, 9, 30, 23, 55),  # before the zone existed
]


@pytest.mark.parametrize("moment", SAMPLES, ids=lambda m: m.strftime("%m-%dT%H%M"))
@pytest.mark.parametrize(
    ("host", "region"), [("www.a.example.com", "CH"), ("img.a.example.com", "NA"), ("img.a.example.com", "CH")]
)
def test_generator_matches_the_documented_formula(moment: datetime, host: str, region: str) -> None:
    sc = small()
    t = int(moment.timestamp())
    got = sc.values("acc_flux", "zone-a", moment, moment + timedelta(minutes=5), host=host, region=region, as_of=1e12)
    assert got == [expected_value(SMALL, "acc_flux", "zone-a", host, "", region, t)]


def test_formula_for_proxies_and_counts() -> None:
    sc = small()
    moment = local(2026, 11, 3, 18, 20)
    t = int(moment.timestamp())
    end = moment + timedelta(minutes=5)
    l4 = sc.values("l4_flux", "zone-a", moment, end, proxy="sid-a2", region="NA", as_of=1e12)
    assert l4 == [expected_value(SMALL, "l4_flux", "zone-a", "", "sid-a2", "NA", t)]
    req = sc.values("sec_request_clean", "zone-a", moment, end, host="www.a.example.com", region="CH", as_of=1e12)
    assert req == [expected_value(SMALL, "sec_request_clean", "zone-a", "www.a.example.com", "", "CH", t)]
    assert l4[0] > 0
    assert req[0] > 0


def test_flat_day_adds_up_to_the_daily_total() -> None:
    sc = small()
    day = sc.values("acc_flux", "zone-b", local(2026, 11, 6), local(2026, 11, 7), as_of=1e12)
    assert len(day) == 288
    assert day == [100 * 10**9 // 288] * 288  # flat, no noise, no growth: the daily total, floored per bucket


def test_bandwidth_without_its_own_shape_is_derived_from_traffic() -> None:
    sc = small()
    start, end = local(2026, 11, 4, 20), local(2026, 11, 4, 22)
    for host in ("www.a.example.com", "img.a.example.com"):
        for region in ("CH", "NA"):
            flux = sc.values("acc_flux", "zone-a", start, end, host=host, region=region, as_of=1e12)
            bps = sc.values("acc_bandwidth", "zone-a", start, end, host=host, region=region, as_of=1e12)
            assert bps == [v * 8 // 300 for v in flux]
    assert sc.usage("smt_bandwidth", "zone-a", start=start, end=end) == 0  # no smt_flux either


def test_usage_is_zero_after_the_data_clock_and_before_creation() -> None:
    sc = small()
    now = sc.now()
    after = sc.values("acc_flux", "zone-a", now - timedelta(minutes=10), now + timedelta(minutes=10))
    assert after[0] > 0
    assert after[1] > 0
    assert after[2:] == [0, 0]
    delayed = small(data_delay="5m")
    assert delayed.values("acc_flux", "zone-a", now - timedelta(minutes=10), now)[1] == 0
    before = sc.values("acc_flux", "zone-b", local(2026, 11, 3, 6), local(2026, 11, 3, 6, 15))
    assert before[0] == 0  # 06:00 and 06:05 start before 06:07
    assert before[1] == 0
    assert before[2] > 0


def test_same_scenario_same_numbers_and_the_seed_matters() -> None:
    start, end = local(2026, 11, 2), local(2026, 11, 3)
    first = small().values("acc_flux", "zone-a", start, end)
    assert small().values("acc_flux", "zone-a", start, end) == first
    assert small(seed=8).values("acc_flux", "zone-a", start, end) != first


def test_usage_defaults_to_the_month_so_far() -> None:
    sc = small()
    month = sc.values("acc_flux", "zone-a", local(2026, 11, 1), local(2026, 11, 10, 12))
    assert sc.usage("acc_flux", "zone-a") == sum(month)
    peak = sc.values("ddos_bandwidth", "zone-a", local(2026, 11, 1), local(2026, 11, 10, 12))
    assert sc.usage("ddos_bandwidth", "zone-a") == max(peak)


# --- parsing and validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("290 GB", "bytes", 290 * 10**9),
        ("1.5 TiB", "bytes", 3 * 2**39),
        ("10TB", "bytes", 10**13),
        (1024, "bytes", 1024),
        ("40 Mbps", "bps", 40 * 10**6),
        ("24M", "count", 24 * 10**6),
        ("800k", "count", 800_000),
        ("1_000", "count", 1000),
        ("2 h", "ms", 7_200_000),
    ],
)
def test_quantities(value: object, unit: str, expected: int) -> None:
    assert parse_quantity(value, unit) == expected


@pytest.mark.parametrize(("value", "unit"), [("3 Mbps", "bytes"), ("-1", "count"), ("lots", "bytes"), (True, "count")])
def test_bad_quantities(value: object, unit: str) -> None:
    with pytest.raises(ValueError, match=r"quantity|unit"):
        parse_quantity(value, unit)


@pytest.mark.parametrize(
    ("value", "seconds"), [(30, 30.0), ("500ms", 0.5), ("10m", 600.0), ("2h", 7200.0), ("1d", 86400.0), ("90s", 90.0)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(SMALL)
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["zones", 0, "usage", "acc_fluxx"], {"daily": 1}, "unknown metrics"),
        (["zones", 0, "usage", "acc_bandwidth"], {"daily": 1}, "takes `mean`"),
        (["zones", 0, "usage", "acc_flux"], {"mean": 1}, "takes `daily`"),
        (["zones", 0, "regions"], {"XX": 1}, "unknown billing regions"),
        (["zones", 0, "plan"], "edgeone-nope", "not among plans"),
        (["zones", 1, "hosts"], {}, "needs hosts"),
        (["zones", 0, "usage", "acc_flux", "pattern"], "nope", "unknown pattern"),
        (["zones", 0, "usage", "acc_flux", "noise"], "1.5", "noise"),
        (["zones", 0, "colour"], "blue", "Extra inputs"),
        (["plans", 0, "capacity"], {"AccTraffic": 1}, "unknown plan capacities"),
        (["patterns", "p", "daily"], [1, 2, 3], "24"),
        (["timezone"], "Mars/Olympus", "unknown time zone"),
        (["clock", "now"], "yesterday", "ISO 8601"),
        (["billing", "products", 0, "prices"], {"acc_bandwidth": {"yuan": 1}}, "amount metrics"),
    ],
)
def test_validation_names_the_problem(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Scenario.from_dict(_broken(path, value))


def test_load_reports_missing_and_malformed_files(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Scenario.load(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("zones: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Scenario.load(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        Scenario.load(listed)


def test_every_metric_is_known_to_the_catalogue() -> None:
    assert len(METRICS) == 25
    assert len(set(METRICS)) == 25


# --- clock and faults ---------------------------------------------------------------------------------


def test_fixed_real_and_advancing_clocks() -> None:
    wall = [1_000_000.0]
    fixed = Scenario.from_dict({"clock": {"now": "2026-11-22T10:00:00+08:00"}}, wall=lambda: wall[0])
    real = Scenario.from_dict({"clock": {"now": "real"}}, wall=lambda: wall[0])
    moving = Scenario.from_dict({"clock": {"now": "2026-11-22T10:00:00+08:00", "advance": True}}, wall=lambda: wall[0])
    wall[0] += 90
    assert fixed.now() == local(2026, 11, 22, 10)
    assert real.now().timestamp() == 1_000_090.0
    assert moving.now() == local(2026, 11, 22, 10, 1, 30)
    assert fixed.now().tzinfo is not None


def test_set_now_moves_the_data_clock_usage_and_fault_windows() -> None:
    wall = [1_000_000.0]
    data = {**copy.deepcopy(SMALL), "faults": [{"product": "teo", "start": "2026-11-05T00:00:00+08:00", "code": "X"}]}
    sc = Scenario.from_dict(data, wall=lambda: wall[0])
    zone = next(iter(sc.zones))
    sc.set_now(local(2026, 11, 3))
    assert sc.now() == local(2026, 11, 3)
    early = sc.usage("acc_flux", zone)
    assert sc.fault_for("teo", "DescribeBillingData") is None
    sc.set_now(local(2026, 11, 6))
    wall[0] += 3600  # a fixed clock does not tick with the wall
    assert sc.now() == local(2026, 11, 6)
    assert sc.usage("acc_flux", zone) > early > 0
    assert sc.fault_for("teo", "DescribeBillingData") is not None
    with pytest.raises(ValueError, match="aware"):
        sc.set_now(datetime(2026, 11, 6))  # a naive instant is refused


def test_set_now_on_an_advancing_clock_ticks_on_from_there() -> None:
    wall = [1_000_000.0]
    moving = Scenario.from_dict({"clock": {"now": "2026-11-22T10:00:00+08:00", "advance": True}}, wall=lambda: wall[0])
    wall[0] += 600
    moving.set_now(local(2026, 11, 1))
    wall[0] += 90
    assert moving.now() == local(2026, 11, 1, 0, 1, 30)


def _with_faults(*faults: dict[str, Any]) -> Scenario:
    return small(faults=list(faults))


def test_faults_fire_deterministically_with_skip_count_and_rate() -> None:
    spec = {"product": "teo", "action": "Describe*", "rate": "0.5", "code": "InternalError.ProxyServer"}
    runs = []
    for _ in range(2):
        sc = _with_faults(spec)
        runs.append([sc.fault_for("teo", "DescribeBillingData") is not None for _ in range(200)])
    assert runs[0] == runs[1]
    assert 60 < sum(runs[0]) < 140
    sc = _with_faults({"action": "DescribeZones", "skip": 2, "count": 3, "code": "RequestLimitExceeded"})
    fired = [sc.fault_for("teo", "DescribeZones") for _ in range(8)]
    assert [f is not None for f in fired] == [False, False, True, True, True, False, False, False]
    assert fired[2] is not None
    assert fired[2].code == "RequestLimitExceeded"
    assert sc.fault_for("billing", "DescribeZones") is None or sc.fault_for("teo", "DescribePlans") is None
    assert sc.fault_counts() == [(9, 3)]  # 9 calls matched (product defaults to *), 3 fired (skip 2, count 3)


def test_fault_windows_latency_and_http_status() -> None:
    sc = _with_faults(
        {"product": "billing", "latency": "250ms"},
        {
            "product": "billing",
            "start": "2026-11-10T11:00:00+08:00",
            "end": "2026-11-10T13:00:00+08:00",
            "http_status": 503,
        },
        {"product": "cos", "action": "PutObject", "code": "SlowDown", "message": "slow"},
    )
    fault = sc.fault_for("billing", "DescribeAccountBalance")
    assert fault is not None
    assert fault.latency == 0.25
    assert fault.http_status == 503
    assert fault.is_error
    later = sc.fault_for("billing", "DescribeAccountBalance", local(2026, 11, 10, 13))
    assert later is not None
    assert not later.is_error
    assert later.latency == 0.25
    cos = sc.fault_for("cos", "PutObject")
    assert cos is not None
    assert (cos.code, cos.message) == ("SlowDown", "slow")
    assert sc.fault_for("cos", "GetObject") is None
    assert small().fault_for("teo", "DescribeBillingData") is None
