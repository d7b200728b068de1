"""EdgeOne (teo 2022-09-01) in the sandbox: DescribeBillingData, DescribeZones, DescribePlans.

(The actions that pause sites and take domains offline live in ``sandbox/teo_switches.py``.)

DescribeBillingData follows the documented rules: one metric of 25, ``5min``/``hour``/``day`` buckets
aligned to the time zone of ``StartTime`` and returned as UTC ``Z`` instants, at most 31 days, at most
100 zones or ``*`` (every zone bound to a plan), filters (same type OR, different types AND), at most 2
GroupBy dimensions and 200 groups. A bucket is listed when it overlaps [StartTime, EndTime) (at least
one bucket); its value covers the whole bucket. Amount metrics add up; bandwidth metrics (bps) report,
per group, the peak over the bucket of the group's 5-minute level (the 5-minute level itself is the sum
of the group's series). Choices where the documentation is silent are listed in the scenarios README.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta, timezone
from typing import Any

from sandbox.api3 import Action, ApiFailure, Context, Product
from sandbox.catalogue import METRICS, PEAK_METRICS, PLAN_CAPACITIES, REGIONS
from sandbox.scenario import Scenario, Zone
from sandbox.switches import ZONE
from sandbox.teo_switches import ACTIONS as SWITCH_ACTIONS
from sandbox.usage import STEP, Series

VERSION = "2022-09-01"
INTERVALS = {"5min": 300, "hour": 3600, "day": 86400}
DIMENSIONS = {"zone-id": "ZoneId", "host": "Host", "proxy-id": "ProxyId", "region-id": "RegionId"}
FILTER_TYPES = ("host", "proxy-id", "region-id")
MAX_ZONES = 100
MAX_GROUP_BY = 2
MAX_GROUPS = 200
MAX_RANGE = timedelta(days=31)
DEFAULT_OFFSET = timezone(timedelta(hours=8))
GroupKey = tuple[
    tuple[str, str], ...
]  # ((dimension, value), ...)  # a timestamp without an offset is read as Beijing time


def _required(params: dict[str, Any], *names: str) -> None:
    for name in names:
        value = params.get(name)
        if value is None or value in ("", []):
            raise ApiFailure("MissingParameter", f"The request is missing a required parameter `{name}`.")


def _instant(text: str, name: str) -> datetime:
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ApiFailure(
            "InvalidParameter", f"`{name}` must be an ISO 8601 time such as 2026-11-01T00:00:00+08:00, not {text!r}."
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=DEFAULT_OFFSET)


@functools.lru_cache(maxsize=65536)
def _utc(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zones(scenario: Scenario, ids: list[str]) -> list[Zone]:
    if len(ids) > MAX_ZONES:
        raise ApiFailure("InvalidParameter", f"`ZoneIds` accepts at most {MAX_ZONES} zone IDs, got {len(ids)}.")
    if "*" in ids:
        return scenario.bound_zones()
    out: list[Zone] = []
    for zone_id in dict.fromkeys(ids):
        zone = scenario.zones.get(zone_id)
        if zone is None:
            raise ApiFailure("InvalidParameter.ZoneNotFound", f"The zone `{zone_id}` does not exist.")
        if zone.plan is None:
            raise ApiFailure(
                "InvalidParameter.ZoneHasNotBeenBoundToPlan", f"The zone `{zone_id}` is not bound to a plan."
            )
        out.append(zone)
    return out


def describe_billing_data(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    _required(params, "StartTime", "EndTime", "ZoneIds", "MetricName", "Interval")
    metric = params["MetricName"]
    if metric not in METRICS:
        raise ApiFailure("InvalidParameter.InvalidMetric", f"The metric `{metric}` is invalid.")
    interval = params["Interval"]
    if interval not in INTERVALS:
        raise ApiFailure(
            "InvalidParameter.InvalidInterval",
            f"Invalid interval `{interval}`. The value should be one of [5min hour day].",
        )
    start, end = _instant(params["StartTime"], "StartTime"), _instant(params["EndTime"], "EndTime")
    if start.utcoffset() != end.utcoffset():
        raise ApiFailure("InvalidParameter", "The time zone of `EndTime` must be the same as that of `StartTime`.")
    if end < start:
        raise ApiFailure("InvalidParameter", "`EndTime` must not be earlier than `StartTime`.")
    if end - start > MAX_RANGE:
        raise ApiFailure(
            "LimitExceeded.QueryTimeLimitExceeded",
            "The query time range (EndTime - StartTime) must not exceed 31 days.",
        )
    offset_delta = start.utcoffset()
    offset = int(offset_delta.total_seconds()) if offset_delta is not None else 0
    if offset % STEP:
        raise ApiFailure("InvalidParameter", "The UTC offset of `StartTime` must be a multiple of 5 minutes.")
    zones = _zones(ctx.scenario, params["ZoneIds"])
    wanted = _filters(params.get("Filters") or [])
    group_by = _group_by(params.get("GroupBy") or [])

    step = INTERVALS[interval]
    start_ts, end_ts = int(start.timestamp()), end.timestamp()
    local = start_ts + offset
    first = local - local % step - offset
    count = max(1, math.ceil((end_ts - first) / step))

    groups: dict[GroupKey, list[Series]] = {}
    if group_by == ["zone-id"]:
        for zone in zones:
            groups[(("zone-id", zone.id),)] = []
    elif not group_by:
        groups[()] = []
    engine = ctx.scenario.usage_engine
    for zone in zones:
        # A silent zone's series are exact zeros: they still make their groups, but add nothing.
        silent = engine.silent(metric, zone)
        for s in engine.series(metric, zone):
            if not _matches(s, wanted):
                continue
            members = groups.setdefault(_key(s, group_by), [])
            if not silent:
                members.append(s)
    if len(groups) > MAX_GROUPS:
        raise ApiFailure(
            "InvalidParameter.GroupByLimitExceeded",
            f"The query would return {len(groups)} groups; at most {MAX_GROUPS} are allowed. Narrow ZoneIds or "
            "Filters, or group by fewer dimensions.",
        )
    cutoff = ctx.scenario.visible_until()
    per_bucket = step // STEP
    peak = metric in PEAK_METRICS
    times = [_utc(first + i * step) for i in range(count)]
    data: list[dict[str, Any]] = []
    for key in sorted(groups):
        labels = {DIMENSIONS[dim]: value for dim, value in key}
        members = groups[key]
        if not members:  # every bucket is 0: no series to add up
            data.extend([{"Time": t, "Value": 0, **labels} for t in times])
            continue
        values = engine.summed(metric, members, first, first + count * step, cutoff)
        fold = max if peak else sum
        buckets = [fold(values[i : i + per_bucket]) for i in range(0, count * per_bucket, per_bucket)]
        scale = ctx.scenario.scale_for(ctx.caller.account)  # a member's data: the account's, scaled
        data.extend([{"Time": t, "Value": v * scale, **labels} for t, v in zip(times, buckets, strict=True)])
    return {"Data": data}


def _filters(filters: list[dict[str, Any]]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for i, item in enumerate(filters):
        kind, value = item.get("Type"), item.get("Value")
        if not kind or value is None:
            raise ApiFailure("MissingParameter", f"`Filters.{i}` needs both `Type` and `Value`.")
        if kind not in FILTER_TYPES:
            raise ApiFailure(
                "InvalidParameter", f"`Filters.{i}.Type` must be one of {', '.join(FILTER_TYPES)}, not `{kind}`."
            )
        if kind == "region-id" and value not in REGIONS:
            raise ApiFailure("InvalidParameter", f"`Filters.{i}.Value` is not a billing region: `{value}`.")
        wanted.setdefault(kind, set()).add(value)
    return wanted


def _group_by(group_by: list[str]) -> list[str]:
    if len(group_by) > MAX_GROUP_BY:
        raise ApiFailure("InvalidParameter.GroupByLimitExceeded", f"GroupBy accepts at most {MAX_GROUP_BY} dimensions.")
    for dim in group_by:
        if dim not in DIMENSIONS:
            raise ApiFailure("InvalidParameter", f"`GroupBy` must use {', '.join(DIMENSIONS)}, not `{dim}`.")
    if len(set(group_by)) != len(group_by):
        raise ApiFailure("InvalidParameter", "`GroupBy` lists a dimension twice.")
    return list(group_by)


def _matches(s: Series, wanted: dict[str, set[str]]) -> bool:
    return (
        ("host" not in wanted or s.host in wanted["host"])
        and ("proxy-id" not in wanted or s.proxy in wanted["proxy-id"])
        and ("region-id" not in wanted or s.region in wanted["region-id"])
    )


def _key(s: Series, group_by: list[str]) -> GroupKey:
    # Hosts and proxies belong to one zone, and their rows carry ZoneId too (as the API examples show).
    dims = list(group_by)
    if ("host" in dims or "proxy-id" in dims) and "zone-id" not in dims:
        dims.append("zone-id")
    value = {"zone-id": s.zone, "host": s.host, "proxy-id": s.proxy, "region-id": s.region}
    return tuple((d, value[d]) for d in dims)


# --- DescribeZones -------------------------------------------------------------------------------

ZONE_FILTERS = ("zone-name", "zone-type", "zone-id", "status", "tag-key", "tag-value", "alias-zone-name")
ZONE_ORDERS = ("type", "area", "create-time", "zone-name", "use-time", "active-status")


def _page(params: dict[str, Any], default: int, maximum: int) -> tuple[int, int]:
    offset = params.get("Offset")
    limit = params.get("Limit")
    offset = 0 if offset is None else offset
    limit = default if limit is None else limit
    if offset < 0:
        raise ApiFailure("InvalidParameter", "`Offset` must not be negative.")
    if not 0 <= limit <= maximum:
        raise ApiFailure("InvalidParameter", f"`Limit` must be between 0 and {maximum}, not {limit}.")
    return offset, limit


def _direction(params: dict[str, Any]) -> bool:
    direction = params.get("Direction") or "desc"
    if direction not in ("asc", "desc"):
        raise ApiFailure("InvalidParameter", f"`Direction` must be asc or desc, not `{direction}`.")
    return direction == "desc"


def describe_zones(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    offset, limit = _page(params, 20, 100)
    zones = list(ctx.scenario.zones.values())
    for i, flt in enumerate(params.get("Filters") or []):
        name, values, fuzzy = flt.get("Name"), flt.get("Values") or [], bool(flt.get("Fuzzy"))
        if name not in ZONE_FILTERS:
            raise ApiFailure("InvalidParameter", f"`Filters.{i}.Name` must be one of {', '.join(ZONE_FILTERS)}.")
        if not values or len(values) > 20:
            raise ApiFailure("InvalidParameter", f"`Filters.{i}.Values` needs 1 to 20 values.")
        if fuzzy and name not in ("zone-name", "alias-zone-name"):
            raise ApiFailure("InvalidParameter", f"`Filters.{i}.Fuzzy` only applies to zone-name and alias-zone-name.")
        zones = [z for z in zones if _zone_matches(z, name, values, fuzzy)]
    order = params.get("Order") or "create-time"
    if order not in ZONE_ORDERS:
        raise ApiFailure("InvalidParameter", f"`Order` must be one of {', '.join(ZONE_ORDERS)}.")
    scenario = ctx.scenario
    zones.sort(key=lambda z: (_zone_sort_key(z, order, scenario), z.id), reverse=_direction(params))
    return {"TotalCount": len(zones), "Zones": [_zone_out(z, scenario) for z in zones[offset : offset + limit]]}


def _zone_matches(zone: Zone, name: str, values: list[str], fuzzy: bool) -> bool:
    spec = zone.spec
    field = {
        "zone-name": [zone.name],
        "alias-zone-name": [spec.alias],
        "zone-type": [spec.type],
        "zone-id": [zone.id],
        "status": [spec.status],
        "tag-key": list(spec.tags),
        "tag-value": list(spec.tags.values()),
    }[name]
    if fuzzy:
        return any(v in f for v in values for f in field)
    return any(v in field for v in values)


def _created(zone: Zone, scenario: Scenario) -> str:
    ts = zone.created_ts if zone.created_ts is not None else scenario.epoch.timestamp()
    return _utc(int(ts))


def _zone_sort_key(zone: Zone, order: str, scenario: Scenario) -> str:
    spec = zone.spec
    return {
        "type": spec.type,
        "area": spec.area,
        "create-time": _created(zone, scenario),
        "zone-name": zone.name,
        "use-time": _created(zone, scenario),
        "active-status": "paused" if scenario.zone_paused(zone.id) else "active",
    }[order]


def _zone_out(zone: Zone, scenario: Scenario) -> dict[str, Any]:
    spec = zone.spec
    created = _created(zone, scenario)
    changed = scenario.switches.last_change((ZONE, zone.id))
    modified = _utc(int(changed)) if changed is not None else created
    paused = scenario.zone_paused(zone.id)
    resources: list[dict[str, Any]] = []
    if zone.plan is not None:
        plan = scenario.plans[zone.plan]
        resources.append(
            {
                "Id": plan.id,
                "PayMode": plan.spec.pay_mode,
                "CreateTime": _utc(int(plan.enabled.timestamp())),
                "EnableTime": _utc(int(plan.enabled.timestamp())),
                "ExpireTime": _utc(int(plan.expires.timestamp())),
                "Status": plan.spec.status,
                "Sv": [],
                "AutoRenewFlag": 1 if plan.spec.auto_renewal else 0,
                "PlanId": plan.id,
                "Area": plan.spec.area,
                "Group": "plan",
                "ZoneNumber": sum(1 for z in scenario.zones.values() if z.plan == plan.id),
                "Type": "",
            }
        )
    return {
        "ZoneId": zone.id,
        "ZoneName": zone.name,
        "OriginalNameServers": [],
        "NameServers": ["ns1.teodns.com.", "ns2.teodns.com."],
        "Status": spec.status,
        "Type": spec.type,
        "Paused": paused,
        "CnameSpeedUp": "enabled",
        "CnameStatus": "finished",
        "Tags": [{"TagKey": k, "TagValue": v} for k, v in spec.tags.items()],
        "Resources": resources,
        "CreatedOn": created,
        "ModifiedOn": modified,
        "Area": spec.area,
        "VanityNameServers": None,
        "VanityNameServersIps": [],
        "ActiveStatus": "paused" if paused else ("active" if spec.status == "active" else "inactive"),
        "AliasZoneName": spec.alias,
        "IsFake": 0,
        "LockStatus": "enable",
        "OwnershipVerification": None,
    }


# --- DescribePlans -------------------------------------------------------------------------------

PLAN_FILTERS = ("plan-type", "plan-id", "area", "status")


def describe_plans(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    offset, limit = _page(params, 20, 200)
    scenario = ctx.scenario
    plans = list(scenario.plans.values())
    for i, flt in enumerate(params.get("Filters") or []):
        name, values = flt.get("Name"), flt.get("Values") or []
        if name not in PLAN_FILTERS:
            raise ApiFailure("InvalidParameter", f"`Filters.{i}.Name` must be one of {', '.join(PLAN_FILTERS)}.")
        if not values or len(values) > 20:
            raise ApiFailure("InvalidParameter", f"`Filters.{i}.Values` needs 1 to 20 values.")
        field = {"plan-type": "type", "plan-id": "id", "area": "area", "status": "status"}[name]
        plans = [p for p in plans if getattr(p.spec, field) in values]
    order = params.get("Order") or "enable-time"
    if order not in ("enable-time", "expire-time"):
        raise ApiFailure("InvalidParameter", "`Order` must be enable-time or expire-time.")
    plans.sort(
        key=lambda p: ((p.enabled if order == "enable-time" else p.expires).timestamp(), p.id),
        reverse=_direction(params),
    )
    out = []
    for plan in plans[offset : offset + limit]:
        zones = [z for z in scenario.zones.values() if z.plan == plan.id]
        item: dict[str, Any] = {
            "PlanType": plan.spec.type,
            "PlanId": plan.id,
            "Area": plan.spec.area,
            "AutoRenewal": plan.spec.auto_renewal,
            "Status": plan.spec.status,
            "PayMode": plan.spec.pay_mode,
            "ZonesInfo": [{"ZoneId": z.id, "ZoneName": z.name, "Paused": scenario.zone_paused(z.id)} for z in zones],
        }
        for capacity in PLAN_CAPACITIES:
            item[capacity] = plan.capacity.get(capacity, 0)
        item["Bindable"] = "true" if plan.spec.bindable else "false"
        item["EnabledTime"] = _utc(int(plan.enabled.timestamp()))
        item["ExpiredTime"] = _utc(int(plan.expires.timestamp()))
        item["Features"] = []
        out.append(item)
    return {"TotalCount": len(plans), "Plans": out}


FILTER = {"Type": str, "Value": str}
ADVANCED_FILTER = {"Name": str, "Values": [str], "Fuzzy": bool}
PLAN_FILTER = {"Name": str, "Values": [str]}

PRODUCT = Product(
    name="teo",
    version=VERSION,
    actions={
        "DescribeBillingData": Action(
            describe_billing_data,
            {
                "StartTime": str,
                "EndTime": str,
                "ZoneIds": [str],
                "MetricName": str,
                "Interval": str,
                "Filters": [FILTER],
                "GroupBy": [str],
            },
        ),
        "DescribeZones": Action(
            describe_zones,
            {"Offset": int, "Limit": int, "Filters": [ADVANCED_FILTER], "Order": str, "Direction": str},
        ),
        "DescribePlans": Action(
            describe_plans,
            {"Filters": [PLAN_FILTER], "Order": str, "Direction": str, "Limit": int, "Offset": int},
        ),
        **SWITCH_ACTIONS,
    },
)
