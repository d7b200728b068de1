"""The scenario file's YAML model (pydantic, strict): what a scenario may say, checked on load."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sandbox.catalogue import (
    CDN_METRIC_UNITS,
    CDN_METRICS,
    METRICS,
    PEAK_METRICS,
    PLAN_CAPACITIES,
    PROXY_METRICS,
    REGIONS,
)


def weights(values: Mapping[str, Decimal]) -> dict[str, int]:
    # Weights are kept to 6 decimals as integers so every share is an exact ratio of integers.
    return {k: int((v * 1_000_000).to_integral_value(ROUND_HALF_EVEN)) for k, v in values.items()}


# --- the YAML model ----------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


Instant = datetime | date | str


class ClockSpec(_Strict):
    """``now``: a fixed ISO 8601 instant or ``real``; ``advance``: start at ``now``, then tick in real time."""

    now: Instant = "real"
    advance: bool = False


class PatternSpec(_Strict):
    """Relative shape: 24 hourly weights (local time) and 7 weekday weights (Monday first)."""

    daily: tuple[Decimal, ...] = (Decimal(1),) * 24
    weekly: tuple[Decimal, ...] = (Decimal(1),) * 7

    @field_validator("daily")
    @classmethod
    def _day(cls, v: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if len(v) != 24 or any(x < 0 for x in v) or sum(v) <= 0:
            raise ValueError("daily needs 24 non-negative hourly weights, not all zero")
        return v

    @field_validator("weekly")
    @classmethod
    def _week(cls, v: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if len(v) != 7 or any(x < 0 for x in v) or sum(v) <= 0:
            raise ValueError("weekly needs 7 non-negative weekday weights (Monday first), not all zero")
        return v


class MetricSpec(_Strict):
    """One metric of one zone: ``daily`` (mean daily total) for amounts, ``mean`` (mean bps) for levels."""

    daily: int | str | Decimal | None = None
    mean: int | str | Decimal | None = None
    pattern: str | PatternSpec = "flat"
    growth: Decimal = Decimal(0)
    noise: Decimal = Decimal(0)

    @field_validator("noise")
    @classmethod
    def _noise(cls, v: Decimal) -> Decimal:
        if not Decimal(0) <= v < Decimal(1):
            raise ValueError("noise is a fraction in [0, 1)")
        return v

    @field_validator("growth")
    @classmethod
    def _growth(cls, v: Decimal) -> Decimal:
        if v <= Decimal(-1):
            raise ValueError("growth is a daily rate above -1 (0.01 = +1% a day)")
        return v


class ZoneSpec(_Strict):
    id: str = Field(pattern=r"^zone-[0-9a-z]+$")
    name: str
    plan: str | None = None
    area: Literal["global", "mainland", "overseas"] = "global"
    type: str = "full"
    status: str = "active"
    paused: bool = False
    alias: str = ""
    created: Instant | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    regions: dict[str, Decimal] = Field(default_factory=lambda: {"CH": Decimal(1)})
    hosts: dict[str, Decimal] = Field(default_factory=dict)
    # Hosts offline from the start (they serve nothing), and hosts with linked resources (alias domains,
    # traffic scheduling) that ModifyAccelerationDomainStatuses takes offline only with Force.
    offline_hosts: tuple[str, ...] = ()
    linked_hosts: tuple[str, ...] = ()
    proxies: dict[str, Decimal] = Field(default_factory=dict)
    usage: dict[str, MetricSpec] = Field(default_factory=dict)

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        unknown = sorted(set(v) - set(REGIONS))
        if unknown:
            raise ValueError(f"unknown billing regions {unknown}; use {list(REGIONS)}")
        if not v or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("regions need non-negative weights, not all zero")
        return v

    @field_validator("usage")
    @classmethod
    def _usage(cls, v: dict[str, MetricSpec]) -> dict[str, MetricSpec]:
        unknown = sorted(set(v) - set(METRICS))
        if unknown:
            raise ValueError(f"unknown metrics {unknown}")
        return v

    @model_validator(mode="after")
    def _members(self) -> ZoneSpec:
        for label, weights in (("hosts", self.hosts), ("proxies", self.proxies)):
            if any(w < 0 for w in weights.values()):
                raise ValueError(f"{label} weights must not be negative")
        needs_hosts = [m for m in self.usage if m not in PROXY_METRICS]
        needs_proxies = [m for m in self.usage if m in PROXY_METRICS]
        if needs_hosts and sum(self.hosts.values(), Decimal(0)) <= 0:
            raise ValueError(f"usage of {needs_hosts} needs hosts with positive weights")
        if needs_proxies and sum(self.proxies.values(), Decimal(0)) <= 0:
            raise ValueError(f"usage of {needs_proxies} needs proxies with positive weights")
        strangers = sorted((set(self.offline_hosts) | set(self.linked_hosts)) - set(self.hosts))
        if strangers:
            raise ValueError(f"offline_hosts/linked_hosts name hosts not among hosts: {strangers}")
        return self


class PlanSpec(_Strict):
    id: str = Field(pattern=r"^edgeone-[0-9a-z]+$")
    type: str = "plan-standard"
    area: Literal["global", "mainland", "overseas"] = "global"
    status: str = "normal"
    pay_mode: Literal[0, 1] = 1
    auto_renewal: bool = False
    bindable: bool = True
    enabled: Instant = "2026-01-01T00:00:00+08:00"
    expires: Instant = "2027-01-01T00:00:00+08:00"
    capacity: dict[str, int | str] = Field(default_factory=dict)

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, v: dict[str, int | str]) -> dict[str, int | str]:
        unknown = sorted(set(v) - set(PLAN_CAPACITIES))
        if unknown:
            raise ValueError(f"unknown plan capacities {unknown}; use {list(PLAN_CAPACITIES)}")
        return v


class CdnDomainSpec(_Strict):
    """One CDN acceleration domain: where it serves (``areas`` shares), its project, status and usage."""

    domain: str = Field(pattern=r"^[*A-Za-z0-9.-]+$")
    resource_id: str | None = None  # default: cdn-<8 hex of the name>
    project: int = Field(default=0, ge=0)
    status: Literal["online", "offline", "processing", "rejected"] = "online"
    service_type: Literal["web", "download", "media", "hybrid", "dynamic"] = "web"
    area: Literal["mainland", "overseas", "global"] = "mainland"
    areas: dict[Literal["mainland", "overseas"], Decimal] | None = None  # default: from `area`
    product: Literal["cdn", "ecdn"] = "cdn"
    origin: str = "origin.example.com"
    origin_type: str = "domain"
    https: Literal["on", "off"] = "off"
    hit_ratio: Decimal = Decimal("0.9")  # hitFlux / flux and hitRequest / request
    created: Instant | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    usage: dict[str, MetricSpec] = Field(default_factory=dict)

    @field_validator("usage")
    @classmethod
    def _usage(cls, v: dict[str, MetricSpec]) -> dict[str, MetricSpec]:
        unknown = sorted(set(v) - set(CDN_METRICS))
        if unknown:
            raise ValueError(f"unknown CDN metrics {unknown}; use {list(CDN_METRICS)}")
        return v

    @field_validator("hit_ratio")
    @classmethod
    def _hit(cls, v: Decimal) -> Decimal:
        if not Decimal(0) <= v <= Decimal(1):
            raise ValueError("hit_ratio is a fraction in [0, 1]")
        return v

    @model_validator(mode="after")
    def _areas(self) -> CdnDomainSpec:
        shares = self.area_shares()
        if any(w < 0 for w in shares.values()) or sum(shares.values()) <= 0:
            raise ValueError(f"domain {self.domain}: areas need non-negative shares, not all zero")
        if self.area != "global" and set(shares) != {self.area}:
            raise ValueError(f"domain {self.domain}: a {self.area} domain serves {self.area} only")
        return self

    def area_shares(self) -> dict[str, Decimal]:
        if self.areas is not None:
            return {str(k): v for k, v in self.areas.items()}
        if self.area == "global":
            return {"mainland": Decimal(1), "overseas": Decimal(1)}
        return {self.area: Decimal(1)}


class CdnPayTypeSpec(_Strict):
    """What DescribePayType answers."""

    pay_type: Literal["flux", "bandwidth", "request", "flux_sep", "bandwidth_sep"] = "flux"
    billing_cycle: Literal["day", "month", "hour"] = "day"
    stat_type: Literal["monthMax", "day95", "month95", "sum", "max"] = "sum"
    region_type: Literal["all", "multiple"] = "all"


class CdnSpec(_Strict):
    domains: tuple[CdnDomainSpec, ...] = ()
    pay_type: CdnPayTypeSpec = Field(default_factory=CdnPayTypeSpec)

    @model_validator(mode="after")
    def _unique(self) -> CdnSpec:
        names = [d.domain for d in self.domains]
        if len(set(names)) != len(names):
            raise ValueError("CDN domain names must be unique")
        return self


class SpikeSpec(_Strict):
    """Multiply usage by ``factor`` during [start, end) for the matching zone/host/proxy/region/metrics,
    or, with ``domain``, for that CDN domain (``region``: mainland | overseas)."""

    domain: str | None = None
    zone: str | None = None
    host: str | None = None
    proxy: str | None = None
    region: str | None = None
    metrics: tuple[str, ...] = ()
    start: Instant
    end: Instant
    factor: Decimal

    @field_validator("factor")
    @classmethod
    def _factor(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("factor must not be negative")
        return v


class FaultSpec(_Strict):
    """Inject errors or latency into matching calls (product teo/billing/cos, action glob)."""

    product: str = "*"
    action: str = "*"
    start: Instant | None = None
    end: Instant | None = None
    rate: Decimal = Decimal(1)
    skip: int = Field(default=0, ge=0)
    count: int | None = Field(default=None, ge=0)
    code: str | None = None
    message: str | None = None
    http_status: int | None = Field(default=None, ge=100, le=599)
    latency: float | str = 0

    @field_validator("rate")
    @classmethod
    def _rate(cls, v: Decimal) -> Decimal:
        if not Decimal(0) <= v <= Decimal(1):
            raise ValueError("rate is a probability in [0, 1]")
        return v


class CredentialSpec(_Strict):
    secret_id: str
    secret_key: str
    token: str | None = None


class TopUpSpec(_Strict):
    at: Instant
    amount: Decimal


class PriceSpec(_Strict):
    per: int | str = 1
    yuan: Decimal


class ProductSpec(_Strict):
    """A billed product: fixed ``daily`` yuan, and/or ``prices`` applied to EdgeOne usage of all zones
    (``cdn:<metric>`` keys: CDN usage of all domains); billed in one project and region, with tags."""

    code: str
    name: str
    pay_mode: Literal["postPay", "prePay"] = "postPay"
    daily: Decimal | None = None
    prices: dict[str, PriceSpec] = Field(default_factory=dict)
    project: int = Field(default=0, ge=0)
    project_name: str = "默认项目"
    region: str = "ap-guangzhou"
    region_name: str = "华南地区（广州）"
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("prices")
    @classmethod
    def _prices(cls, v: dict[str, PriceSpec]) -> dict[str, PriceSpec]:
        bad = sorted(m for m in v if not is_priced_amount(m))
        if bad:
            raise ValueError(f"prices apply to amount metrics only (not bandwidth), not {bad}")
        return v


def is_priced_amount(key: str) -> bool:
    """A teo amount metric, or ``cdn:`` and a CDN amount metric."""
    if key.startswith("cdn:"):
        return CDN_METRIC_UNITS.get(key[4:], "bps") != "bps"
    return key in METRICS and key not in PEAK_METRICS


class BillingSpec(_Strict):
    currency: Literal["CNY", "USD"] = "CNY"
    as_of: Instant = "2026-01-01T00:00:00+08:00"
    cash: Decimal = Decimal(0)
    present: Decimal = Decimal(0)
    income: Decimal = Decimal(0)
    freeze: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    allow_arrears: bool = True
    credit_limited: bool = False
    temp_credit: Decimal = Decimal(0)
    ready: bool = True
    not_ready: tuple[str, ...] = ()  # months (YYYY-MM) whose bills answer Ready=0
    topups: tuple[TopUpSpec, ...] = ()
    products: tuple[ProductSpec, ...] = ()


class AccountSpec(_Strict):
    uin: int = 100000000001
    app_id: int = 1250000000


class MemberSpec(_Strict):
    """An organization member: its uin, name, and the roles the organization's account may assume in it.

    Its data is the scenario account's zones, usage and bills multiplied by ``scale`` (default: its
    1-based position in ``members``), so a test computes any member's truth from the account's.
    """

    uin: int = Field(gt=0)
    name: str
    roles: tuple[str, ...] = ("OrganizationAccessControlRole",)
    scale: int | None = Field(default=None, ge=0)
    type: Literal["Create", "Invite"] = "Create"
    joined: Instant = "2026-01-01T00:00:00+08:00"


class OrganizationSpec(_Strict):
    """The organization the scenario's account manages (``account`` is its host)."""

    id: int = Field(default=10001, gt=0)
    members: tuple[MemberSpec, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> OrganizationSpec:
        uins = [m.uin for m in self.members]
        if len(set(uins)) != len(uins):
            raise ValueError("organization member uins must be unique")
        return self


class ScenarioSpec(_Strict):
    version: Literal[1] = 1
    name: str = "scenario"
    description: str = ""
    seed: int = 0
    timezone: str = "Asia/Shanghai"
    epoch: Instant = "2026-01-01"
    clock: ClockSpec = Field(default_factory=ClockSpec)
    data_delay: float | str = 0
    account: AccountSpec = Field(default_factory=AccountSpec)
    credentials: tuple[CredentialSpec, ...] = ()
    organization: OrganizationSpec | None = None  # None: the account belongs to no organization
    rate_limits: dict[str, int] = Field(default_factory=dict)
    patterns: dict[str, PatternSpec] = Field(default_factory=dict)
    plans: tuple[PlanSpec, ...] = ()
    zones: tuple[ZoneSpec, ...] = ()
    cdn: CdnSpec = Field(default_factory=CdnSpec)
    spikes: tuple[SpikeSpec, ...] = ()
    billing: BillingSpec = Field(default_factory=BillingSpec)
    faults: tuple[FaultSpec, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> ScenarioSpec:
        plans = {p.id for p in self.plans}
        zone_ids = [z.id for z in self.zones]
        if len(set(zone_ids)) != len(zone_ids):
            raise ValueError("zone ids must be unique")
        hosts = [h for z in self.zones for h in z.hosts]
        if len(set(hosts)) != len(hosts):
            raise ValueError("a host belongs to one zone only")
        for z in self.zones:
            if z.plan is not None and z.plan not in plans:
                raise ValueError(f"zone {z.id}: plan {z.plan!r} is not among plans")
            for metric, spec in z.usage.items():
                if isinstance(spec.pattern, str) and spec.pattern != "flat" and spec.pattern not in self.patterns:
                    raise ValueError(f"zone {z.id} metric {metric}: unknown pattern {spec.pattern!r}")
                peak = metric in PEAK_METRICS
                if peak and (spec.mean is None or spec.daily is not None):
                    raise ValueError(f"zone {z.id} metric {metric}: a bandwidth metric takes `mean` (bps)")
                if not peak and (spec.daily is None or spec.mean is not None):
                    raise ValueError(f"zone {z.id} metric {metric}: an amount metric takes `daily`")
        for d in self.cdn.domains:
            for metric, spec in d.usage.items():
                if isinstance(spec.pattern, str) and spec.pattern != "flat" and spec.pattern not in self.patterns:
                    raise ValueError(f"CDN domain {d.domain} metric {metric}: unknown pattern {spec.pattern!r}")
                peak = CDN_METRIC_UNITS[metric] == "bps"
                if peak != (spec.mean is not None) or peak == (spec.daily is not None):
                    kind = "a bandwidth metric takes `mean` (bps)" if peak else "an amount metric takes `daily`"
                    raise ValueError(f"CDN domain {d.domain} metric {metric}: {kind}")
        domains = {d.domain for d in self.cdn.domains}
        for spike in self.spikes:
            if spike.zone is not None and spike.zone not in zone_ids:
                raise ValueError(f"spike: unknown zone {spike.zone!r}")
            if spike.domain is not None:
                if spike.domain not in domains:
                    raise ValueError(f"spike: unknown CDN domain {spike.domain!r}")
                if spike.zone is not None or spike.host is not None or spike.proxy is not None:
                    raise ValueError("spike: a CDN domain spike takes no zone, host or proxy")
                if spike.region not in (None, "mainland", "overseas"):
                    raise ValueError(f"spike: a CDN domain's region is mainland or overseas, not {spike.region!r}")
                bad = sorted(set(spike.metrics) - set(CDN_METRICS))
                if bad:
                    raise ValueError(f"spike: unknown CDN metrics {bad}")
                continue
            bad = sorted(set(spike.metrics) - set(METRICS))
            if bad:
                raise ValueError(f"spike: unknown metrics {bad}")
        bad_limits = sorted(k for k, v in self.rate_limits.items() if v < 0)
        if bad_limits:
            raise ValueError(f"rate_limits must be >= 0 (0 = unlimited): {bad_limits}")
        return self


# --- runtime objects ---------------------------------------------------------------------------------
