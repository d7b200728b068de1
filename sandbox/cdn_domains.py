"""CDN (cdn 2018-06-06) domain actions in the sandbox: DescribeDomains, StopCdnDomain, StartCdnDomain,
DescribePayType.

Stopping a domain is stamped with the data clock: from that instant it serves nothing (the real CDN
answers 404, which is not billed), so its usage stops accruing; starting it again resumes it
(``sandbox/switches.py``). Stop needs an ``online`` domain, start an ``offline`` one, as documented.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sandbox.api3 import Action, ApiFailure, Context
from sandbox.catalogue import CDN_DOMAIN_FILTERS
from sandbox.scenario import CdnDomain, Scenario
from sandbox.switches import CDN_DOMAIN

BEIJING = timezone(timedelta(hours=8))
MAX_FILTER_VALUES = 5
FUZZY_FILTERS = ("origin", "domain")
DOMAIN_TYPES = {"cos": "cos", "third_party": "third_party", "igtm": "igtm"}  # anything else: cname


def _local(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def domain_of(scenario: Scenario, params: dict[str, Any]) -> CdnDomain:
    """The domain named by ``Domain`` (required), or the documented not-found error."""
    name = params.get("Domain")
    if not name:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `Domain`.")
    domain = scenario.cdn_domains.get(name)
    if domain is None:
        raise ApiFailure(
            "ResourceNotFound.CdnHostNotExists", f"The domain `{name}` is not a CDN domain of this account."
        )
    return domain


def stop_cdn_domain(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    domain = domain_of(ctx.scenario, params)
    status = ctx.scenario.cdn_status(domain.id)
    if status != "online":
        raise ApiFailure(
            "ResourceUnavailable.CdnHostIsNotOnline",
            f"The domain `{domain.id}` is {status}; only an online domain can be stopped.",
        )
    ctx.scenario.switches.set((CDN_DOMAIN, domain.id), False, ctx.now.timestamp())
    return {}


def start_cdn_domain(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    domain = domain_of(ctx.scenario, params)
    status = ctx.scenario.cdn_status(domain.id)
    if status != "offline":
        raise ApiFailure(
            "ResourceUnavailable.CdnHostIsNotOffline",
            f"The domain `{domain.id}` is {status}; only an offline (stopped) domain can be started.",
        )
    ctx.scenario.switches.set((CDN_DOMAIN, domain.id), True, ctx.now.timestamp())
    return {}


def describe_domains(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    offset = params.get("Offset") or 0
    limit = 100 if params.get("Limit") is None else params["Limit"]
    if offset < 0:
        raise ApiFailure("InvalidParameter.CdnParamError", "`Offset` must not be negative.")
    if not 1 <= limit <= 1000:
        raise ApiFailure("InvalidParameter.CdnParamError", f"`Limit` must be between 1 and 1000, not {limit}.")
    scenario = ctx.scenario
    domains = list(scenario.cdn_domains.values())
    for i, flt in enumerate(params.get("Filters") or []):
        name, values, fuzzy = flt.get("Name"), flt.get("Value") or [], bool(flt.get("Fuzzy"))
        if name not in CDN_DOMAIN_FILTERS:
            raise ApiFailure(
                "InvalidParameter.CdnParamError", f"`Filters.{i}.Name` must be one of {', '.join(CDN_DOMAIN_FILTERS)}."
            )
        if fuzzy and name not in FUZZY_FILTERS:
            raise ApiFailure(
                "InvalidParameter.CdnParamError", f"`Filters.{i}.Fuzzy` applies to origin and domain only."
            )
        most = 1 if fuzzy else MAX_FILTER_VALUES
        if not values or len(values) > most:
            raise ApiFailure("InvalidParameter.CdnParamError", f"`Filters.{i}.Value` needs 1 to {most} values.")
        domains = [d for d in domains if _matches(d, scenario, name, values, fuzzy)]
    page = domains[offset : offset + limit]
    return {"Domains": [_brief(d, scenario) for d in page], "TotalNumber": len(domains)}


def _matches(domain: CdnDomain, scenario: Scenario, name: str, values: list[str], fuzzy: bool) -> bool:
    spec = domain.spec
    table: dict[str, list[str]] = {
        "origin": [spec.origin],
        "domain": [domain.id],
        "resourceId": [domain.resource_id],
        "status": [scenario.cdn_status(domain.id)],
        "serviceType": [spec.service_type],
        "projectId": [str(spec.project)],
        "domainType": [DOMAIN_TYPES.get(spec.origin_type, "cname")],
        "fullUrlCache": ["on"],
        "https": [spec.https],
        "originPullProtocol": ["http"],
        "tagKey": list(spec.tags),
    }
    fields = table[name]
    if fuzzy:
        return any(v in f for v in values for f in fields)
    return any(v in fields for v in values)


def _brief(domain: CdnDomain, scenario: Scenario) -> dict[str, Any]:
    spec = domain.spec
    created = domain.created_ts if domain.created_ts is not None else scenario.epoch.timestamp()
    changed = scenario.switches.last_change((CDN_DOMAIN, domain.id))
    return {
        "ResourceId": domain.resource_id,
        "AppId": scenario.spec.account.app_id,
        "Domain": domain.id,
        "Cname": f"{domain.id}.cdn.dnsv1.com",
        "Status": scenario.cdn_status(domain.id),
        "ProjectId": spec.project,
        "ServiceType": spec.service_type,
        "CreateTime": _local(created),
        "UpdateTime": _local(changed if changed is not None else created),
        "Origin": {
            "Origins": [spec.origin],
            "OriginType": spec.origin_type,
            "ServerName": spec.origin,
            "CosPrivateAccess": "off",
            "OriginPullProtocol": "http",
            "BackupOrigins": [],
            "BackupOriginType": None,
            "BackupServerName": None,
            "BasePath": "",
            "PathRules": [],
            "PathBasedOrigin": [],
            "Sni": None,
            "AdvanceHttps": None,
            "OriginCompany": "",
        },
        "Disable": "normal",
        "Area": spec.area,
        "Readonly": "normal",
        "Product": spec.product,
        "ParentHost": ".".join(domain.id.split(".")[-2:]),
    }


def describe_pay_type(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    area = params.get("Area") or "mainland"
    if area not in ("mainland", "overseas", "global"):
        raise ApiFailure(
            "InvalidParameter.CdnParamError", f"`Area` must be mainland, overseas or global, not `{area}`."
        )
    product = params.get("Product") or "cdn"
    if product not in ("cdn", "ecdn"):
        raise ApiFailure("InvalidParameter.CdnParamError", f"`Product` must be cdn or ecdn, not `{product}`.")
    kind = params.get("Type") or "flux"
    if kind not in ("flux", "https"):
        raise ApiFailure("InvalidParameter.CdnParamError", f"`Type` must be flux or https, not `{kind}`.")
    pay = ctx.scenario.spec.cdn.pay_type
    return {
        "PayType": pay.pay_type,
        "BillingCycle": pay.billing_cycle,
        "StatType": pay.stat_type,
        "RegionType": pay.region_type,
        "CurrentPayType": pay.pay_type,
    }


ACTIONS: dict[str, Action] = {
    "DescribeDomains": Action(
        describe_domains, {"Offset": int, "Limit": int, "Filters": [{"Name": str, "Value": [str], "Fuzzy": bool}]}
    ),
    "StopCdnDomain": Action(stop_cdn_domain, {"Domain": str}),
    "StartCdnDomain": Action(start_cdn_domain, {"Domain": str}),
    "DescribePayType": Action(describe_pay_type, {"Area": str, "Product": str, "Type": str}),
}
