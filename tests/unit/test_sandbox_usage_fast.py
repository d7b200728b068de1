"""The usage engine's shortcuts (shared factor rows, cancelled constant factors, silent zones) give the
numbers of the formula in sandbox/usage.py's docstring, recomputed here bucket by bucket with fractions."""

from __future__ import annotations

import functools
import hashlib
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from math import floor
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandbox.api3 import Context
from sandbox.catalogue import METRICS
from sandbox.scenario import Scenario
from sandbox.teo import describe_billing_data
from sandbox.verify import Caller

EPOCH = "2026-11-01T00:00:00"
PATTERN = {
    "daily": [0.45, 0.35, 0.3, 0.28, 0.3, 0.4, 0.6, 0.85, 1, 1.05, 1.1, 1.1]  # noqa: RUF005 - two half-days
    + [1.15, 1.1, 1.05, 1.05, 1.1, 1.2, 1.35, 1.55, 1.7, 1.6, 1.2, 0.75],
    "weekly": [0.95, 0.95, 0.97, 1, 1.05, 1.1, 0.98],
}


@functools.lru_cache(maxsize=4096)
def _ppm(x: Any) -> int:
    return int((Decimal(str(x)) * 10**6).to_integral_value(ROUND_HALF_EVEN))


def reference(  # noqa: PLR0917 - one argument per part of a series key
    data: dict[str, Any], metric: str, zone: dict[str, Any], host: str, region: str, t: int
) -> int:
    """One 5-minute value, read straight from the docstring (L7 metrics, amounts and levels)."""
    usage = zone.get("usage", {})
    if metric not in usage:
        flux = {"acc_bandwidth": "acc_flux"}.get(metric)
        return reference(data, flux, zone, host, region, t) * 8 // 300 if flux is not None and flux in usage else 0
    spec = usage[metric]
    peak = "mean" in spec
    base = Fraction(spec["mean"] if peak else spec["daily"])
    hosts, regions = zone["hosts"], zone["regions"]
    share = Fraction(_ppm(hosts[host]), sum(_ppm(w) for w in hosts.values()))
    share *= Fraction(_ppm(regions[region]), sum(_ppm(w) for w in regions.values()))
    tz = ZoneInfo(data["timezone"])
    moment = datetime.fromtimestamp(t, timezone.utc).astimezone(tz)
    pattern = PATTERN if spec.get("pattern") == "p" else {"daily": [1] * 24, "weekly": [1] * 7}
    hourly, weekly = [_ppm(x) for x in pattern["daily"]], [_ppm(x) for x in pattern["weekly"]]
    h, mm = moment.hour, moment.minute
    daily = Fraction((hourly[h] * 60 + (hourly[(h + 1) % 24] - hourly[h]) * mm) * 24, 60 * sum(hourly))
    week = Fraction(weekly[moment.weekday()] * 7, sum(weekly))
    growth = _growth(str(spec.get("growth", 0)), (moment.date() - date(2026, 11, 1)).days)
    day = t // 86400
    digest = _digest(f"{data['seed']}/{metric}/{zone['id']}/{host}//{region}/{day}")
    i = (t - day * 86400) // 300
    u = int.from_bytes(digest[4 * i : 4 * i + 4], "big")
    noise = 1 + Fraction(_ppm(spec.get("noise", 0)) * (2 * u + 1 - 2**32), 2**32 * 10**6)
    factor = Decimal(1)
    for sp in data["spikes"]:
        start = datetime.fromisoformat(sp["start"]).replace(tzinfo=tz).timestamp()
        end = datetime.fromisoformat(sp["end"]).replace(tzinfo=tz).timestamp()
        if sp["zone"] == zone["id"] and start <= t < end and metric in sp["metrics"]:
            factor *= Decimal(sp["factor"])
    spike = Fraction(_ppm(factor), 10**6)
    if "created" in zone and t < datetime.fromisoformat(zone["created"]).replace(tzinfo=tz).timestamp():
        return 0
    return floor(base * share * daily * week * growth * noise * spike / (1 if peak else 288))


@functools.lru_cache(maxsize=4096)
def _growth(rate: str, k: int) -> Fraction:
    with localcontext() as ctx:
        ctx.prec = 40
        return Fraction(_ppm((1 + Decimal(rate)) ** k), 10**6)


@functools.lru_cache(maxsize=4096)
def _digest(key: str) -> bytes:
    return hashlib.shake_256(key.encode()).digest(1152)


metric_spec = st.fixed_dictionaries(
    {
        "daily": st.sampled_from([0, 7, 10**9, 123_456_789_012]),
        "noise": st.sampled_from([0, 0.2, 0.35]),
        "growth": st.sampled_from([0, 0.01, -0.02]),
        "pattern": st.sampled_from(["flat", "p"]),
    },
)
usage_spec = st.fixed_dictionaries(
    {},
    optional={
        "acc_flux": metric_spec,
        "smt_request_clean": metric_spec,
        "acc_bandwidth": st.fixed_dictionaries({"mean": st.sampled_from([0, 5 * 10**6])}),
    },
)


@settings(max_examples=100, deadline=None)
@given(
    usage=usage_spec,
    tz=st.sampled_from(["Asia/Shanghai", "America/New_York", "Asia/Kathmandu"]),
    regions=st.sampled_from([{"CH": 1}, {"CH": 0.7, "EU": 0.3}]),
    spiked=st.booleans(),
    created=st.booleans(),
    day=st.sampled_from(["2026-10-31", "2026-11-01", "2026-11-02", "2026-11-20"]),
    metric=st.sampled_from(["acc_flux", "smt_request_clean", "acc_bandwidth"]),
)
# every branch of the value computation: noise or not, times spikes (on zone-a) or not (zone-b)
@example(
    usage={"acc_flux": {"daily": 10**9, "noise": 0.2, "growth": 0.01, "pattern": "p"}},
    tz="America/New_York",
    regions={"CH": 0.7, "EU": 0.3},
    spiked=True,
    created=True,
    day="2026-11-01",
    metric="acc_bandwidth",
)
@example(
    usage={"smt_request_clean": {"daily": 123_456_789_012, "noise": 0, "growth": -0.02, "pattern": "flat"}},
    tz="Asia/Kathmandu",
    regions={"CH": 1},
    spiked=True,
    created=False,
    day="2026-10-31",
    metric="smt_request_clean",
)
def test_day_rows_follow_the_formula(  # noqa: PLR0917 - one argument per drawn part
    usage: dict[str, Any], tz: str, regions: dict[str, float], spiked: bool, created: bool, day: str, metric: str
) -> None:
    zones: list[dict[str, Any]] = [
        {"id": zid, "name": f"{zid}.example.com", "hosts": {f"a.{zid}.com": 1, f"b.{zid}.com": 3}}
        for zid in ("zone-a", "zone-b")
    ]
    for zone in zones:  # the same spec twice: the second zone reads the first one's shared factor rows
        zone.update(regions=regions, usage=usage)
    if created:
        zones[1]["created"] = f"{day}T09:17:00"
    spikes = [
        {"zone": "zone-a", "metrics": [metric, "acc_flux"], "start": f"{day}T10:00:00", "end": f"{day}T10:40:00"}
        | {"factor": "3.5"},
        {"zone": "zone-a", "metrics": [metric], "start": f"{day}T10:20:00", "end": f"{day}T23:00:00", "factor": "0.3"},
    ]
    data = {"name": "t", "seed": 7, "timezone": tz, "epoch": EPOCH, "patterns": {"p": PATTERN}, "zones": zones}
    data["spikes"] = spikes if spiked else []
    scenario = Scenario.from_dict(data)
    engine = scenario.usage_engine
    utc_day = int(datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp()) // 86400
    for zone in zones:
        z = scenario.zones[zone["id"]]
        for s in engine.series(metric, z):
            row = list(engine.day_row(metric, s, utc_day))
            want = [reference(data, metric, zone, s.host, s.region, utc_day * 86400 + 300 * i) for i in range(288)]
            assert row == want, (zone["id"], s)
            if engine.silent(metric, z):
                assert not any(row)


def test_silent_zones_answer_as_if_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    zones = [
        {"id": "zone-idle", "name": "idle.example.com", "plan": "edgeone-p1"},
        {"id": "zone-hosts", "name": "hosts.example.com", "plan": "edgeone-p1", "hosts": {"h.example.com": 1}},
        {"id": "zone-zero", "name": "zero.example.com", "plan": "edgeone-p1", "hosts": {"z.example.com": 1}}
        | {"usage": {"acc_flux": {"daily": 0}}},
        {"id": "zone-busy", "name": "busy.example.com", "plan": "edgeone-p1", "hosts": {"b.example.com": 1}}
        | {"regions": {"CH": 1, "EU": 1}, "usage": {"acc_flux": {"daily": "10 GB", "noise": 0.2}}},
    ]
    data = {
        "name": "t",
        "timezone": "Asia/Shanghai",
        "clock": {"now": "2026-11-03T10:00:00+08:00"},
        "plans": [{"id": "edgeone-p1", "type": "plan-enterprise"}],
        "zones": zones,
    }
    scenario = Scenario.from_dict(data)
    engine = scenario.usage_engine
    silent = {z: [m for m in METRICS if engine.silent(m, scenario.zones[z])] for z in scenario.zones}
    assert silent["zone-idle"] == silent["zone-hosts"] == silent["zone-zero"] == list(METRICS)
    assert "acc_flux" not in silent["zone-busy"] and "acc_bandwidth" not in silent["zone-busy"]
    caller = Caller("AKIDTESTUSAGE", "TC3-HMAC-SHA256", "teo")
    ctx = Context(scenario, scenario.now(), caller, region=None, language="zh-CN")
    queries = [
        {
            "StartTime": "2026-11-01T00:00:00+08:00",
            "EndTime": "2026-11-03T10:00:00+08:00",
            "ZoneIds": list(scenario.zones),
            "MetricName": metric,
            "Interval": interval,
            "GroupBy": group_by,
        }
        for metric in ("acc_flux", "acc_bandwidth", "smt_flux")
        for interval in ("5min", "day")
        for group_by in ([], ["zone-id"], ["host"], ["region-id"], ["zone-id", "region-id"])
    ]
    fast = [describe_billing_data(q, ctx) for q in queries]
    for q, answer in zip(queries, fast, strict=True):
        idle = [r for r in answer["Data"] if r.get("ZoneId") not in (None, "zone-busy")]
        assert all(r["Value"] == 0 for r in idle), q
        if q["MetricName"] != "smt_flux":
            assert any(r["Value"] for r in answer["Data"]), q
    monkeypatch.setattr(type(engine), "silent", lambda self, metric, zone: False)
    assert [describe_billing_data(q, ctx) for q in queries] == fast  # the long way: the same answers
