"""EdgeOne (teo 2022-09-01) actions that switch sites and domains on and off, and read domains back.

``ModifyZoneStatus`` (``Paused=true`` closes the site, as the Chinese documentation and tccli say),
``ModifyAccelerationDomainStatuses`` (hosts ``online``/``offline``; a host with linked resources goes
offline only with ``Force``) and ``DescribeAccelerationDomains`` (paged, filtered, sorted). Every change
is stamped with the data clock, so usage stops accruing from that instant and resumes when undone
(``sandbox/switches.py``). Switching to the state a resource is already in succeeds and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sandbox.api3 import Action, ApiFailure, Context
from sandbox.scenario import Scenario, Zone
from sandbox.switches import HOST, ZONE

MAX_DOMAIN_FILTER_VALUES = 20
DOMAIN_FILTERS = ("domain-name", "origin-type", "origin", "backup-origin", "domain-cname", "share-cname")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(scenario: Scenario, params: dict[str, Any]) -> Zone:
    zone_id = params.get("ZoneId")
    if not zone_id:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `ZoneId`.")
    zone = scenario.zones.get(zone_id)
    if zone is None:
        raise ApiFailure("InvalidParameter.ZoneNotFound", f"The zone `{zone_id}` does not exist.")
    return zone


def modify_zone_status(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    zone = _zone(ctx.scenario, params)
    paused = params.get("Paused")
    if paused is None:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `Paused`.")
    ctx.scenario.switches.set((ZONE, zone.id), not paused, ctx.now.timestamp())
    return {}


def modify_acceleration_domain_statuses(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    zone = _zone(ctx.scenario, params)
    names = params.get("DomainNames") or []
    if not names:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `DomainNames`.")
    status = params.get("Status")
    if status not in ("online", "offline"):
        raise ApiFailure("InvalidParameter", f"`Status` must be online or offline, not {status!r}.")
    others = {h: z.id for z in ctx.scenario.zones.values() if z.id != zone.id for h in z.host_weights}
    for name in names:  # every name is checked before anything changes: all or nothing
        if name in zone.host_weights:
            continue
        if name in others:
            raise ApiFailure(
                "InvalidParameterValue.DomainNotMatchZone",
                f"The domain `{name}` belongs to zone `{others[name]}`, not `{zone.id}`.",
            )
        raise ApiFailure("InvalidParameter.DomainNotFound", f"The domain `{name}` does not exist in zone `{zone.id}`.")
    if status == "offline" and not params.get("Force"):
        linked = [n for n in names if n in zone.spec.linked_hosts and ctx.scenario.host_online(n)]
        if linked:
            raise ApiFailure(
                "InvalidParameter.DomainOnTrafficScheduling",
                f"The domains {', '.join(linked)} have linked resources (alias domains or traffic scheduling); "
                "set Force=true to take them offline with their linked resources.",
            )
    at = ctx.now.timestamp()
    for name in dict.fromkeys(names):
        ctx.scenario.switches.set((HOST, name), status == "online", at)
    return {}


def describe_acceleration_domains(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    scenario = ctx.scenario
    zone = _zone(scenario, params)
    offset = params.get("Offset") or 0
    limit = 20 if params.get("Limit") is None else params["Limit"]
    if offset < 0:
        raise ApiFailure("InvalidParameter", "`Offset` must not be negative.")
    if not 0 <= limit <= 200:
        raise ApiFailure("InvalidParameter", f"`Limit` must be between 0 and 200, not {limit}.")
    match = params.get("Match") or "all"
    if match not in ("all", "any"):
        raise ApiFailure("InvalidParameter", f"`Match` must be all or any, not `{match}`.")
    rows = [_domain_out(zone, host, scenario) for host in zone.host_weights]
    tests = [_domain_filter(i, flt) for i, flt in enumerate(params.get("Filters") or [])]
    if tests:
        combine = all if match == "all" else any
        rows = [r for r in rows if combine(t(r) for t in tests)]
    order = params.get("Order") or "domain-name"
    if order not in ("created_on", "domain-name"):
        raise ApiFailure("InvalidParameter", f"`Order` must be created_on or domain-name, not `{order}`.")
    direction = params.get("Direction") or "asc"
    if direction not in ("asc", "desc"):
        raise ApiFailure("InvalidParameter", f"`Direction` must be asc or desc, not `{direction}`.")
    field = "CreatedOn" if order == "created_on" else "DomainName"
    rows.sort(key=lambda r: (r[field], r["DomainName"]), reverse=direction == "desc")
    return {"TotalCount": len(rows), "AccelerationDomains": rows[offset : offset + limit]}


def _domain_filter(index: int, flt: dict[str, Any]) -> Any:
    name, values, fuzzy = flt.get("Name"), flt.get("Values") or [], bool(flt.get("Fuzzy"))
    if name not in DOMAIN_FILTERS:
        raise ApiFailure("InvalidParameter", f"`Filters.{index}.Name` must be one of {', '.join(DOMAIN_FILTERS)}.")
    if not values or len(values) > MAX_DOMAIN_FILTER_VALUES:
        raise ApiFailure("InvalidParameter", f"`Filters.{index}.Values` needs 1 to {MAX_DOMAIN_FILTER_VALUES} values.")

    def field(row: dict[str, Any]) -> str:
        origin = row["OriginDetail"]
        return str(
            {
                "domain-name": row["DomainName"],
                "origin-type": origin["OriginType"],
                "origin": origin["Origin"],
                "backup-origin": origin["BackupOrigin"],
                "domain-cname": row["Cname"],
                "share-cname": "",
            }[name]
        )

    if fuzzy:
        return lambda row: any(v in field(row) for v in values)
    return lambda row: field(row) in values


def _domain_out(zone: Zone, host: str, scenario: Scenario) -> dict[str, Any]:
    created = zone.created_ts if zone.created_ts is not None else scenario.epoch.timestamp()
    changed = scenario.switches.last_change((HOST, host))
    status = "online" if scenario.host_online(host) else "offline"
    if zone.spec.status != "active":
        status = "init"  # the site is not active yet: its domains wait for it
    return {
        "ZoneId": zone.id,
        "DomainName": host,
        "DomainStatus": status,
        "Cname": f"{host}.eo.dnse4.com",
        "IPv6Status": "follow",
        "IdentificationStatus": "finished",
        "OwnershipVerification": None,
        "OriginDetail": {
            "OriginType": "IP_DOMAIN",
            "Origin": f"origin.{zone.name}",
            "BackupOrigin": "",
            "OriginGroupName": "",
            "BackOriginGroupName": "",
            "PrivateAccess": "off",
            "PrivateParameters": [],
            "HostHeader": host,
        },
        "OriginProtocol": "FOLLOW",
        "HttpOriginPort": 80,
        "HttpsOriginPort": 443,
        "Certificate": None,
        "CreatedOn": _iso(created),
        "ModifiedOn": _iso(changed if changed is not None else created),
    }


ADVANCED_FILTER = {"Name": str, "Values": [str], "Fuzzy": bool}

ACTIONS: dict[str, Action] = {
    "ModifyZoneStatus": Action(modify_zone_status, {"ZoneId": str, "Paused": bool}),
    "ModifyAccelerationDomainStatuses": Action(
        modify_acceleration_domain_statuses, {"ZoneId": str, "DomainNames": [str], "Status": str, "Force": bool}
    ),
    "DescribeAccelerationDomains": Action(
        describe_acceleration_domains,
        {
            "ZoneId": str,
            "Offset": int,
            "Limit": int,
            "Filters": [ADVANCED_FILTER],
            "Order": str,
            "Direction": str,
            "Match": str,
        },
    ),
}
