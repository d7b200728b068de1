"""Sandbox scenario files: the YAML model, the data clock, injected faults; usage comes from ``usage``.

A scenario says what the local Tencent Cloud contains (zones, hosts, plans, money) and how usage
behaves over time. The format is documented in ``lib/sandbox/scenarios/README.md``; the usage formula
in ``lib/sandbox/usage.py``. Two clocks are kept apart on purpose: the *data clock* (``Clock``, what
"now" means for usage, bills and the balance; fixed or real) and the *signature clock* (always the real
wall time, because real clients sign with it); only the data clock lives here.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lib.errors import ConfigError

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
DEMO_SCENARIO = SCENARIO_DIR / "demo.yaml"

# --- the metric catalogue of teo DescribeBillingData (2022-09-01) ---------------------------------

METRIC_UNITS: dict[str, str] = {
    "acc_flux": "bytes",
    "smt_flux": "bytes",
    "l4_flux": "bytes",
    "sec_flux": "bytes",
    "zxctg_flux": "bytes",
    "acc_bandwidth": "bps",
    "smt_bandwidth": "bps",
    "l4_bandwidth": "bps",
    "sec_bandwidth": "bps",
    "zxctg_bandwidth": "bps",
    "sec_request_clean": "count",
    "smt_request_clean": "count",
    "quic_request": "count",
    "bot_request_clean": "count",
    "cls_count": "count",
    "ddos_bandwidth": "bps",
    "edgefunction_request": "count",
    "edgefunction_cpu_time": "ms",
    "total_transcode": "s",
    "remux": "s",
    "transcode_audio": "s",
    "transcode_H264_SD": "s",
    "transcode_H264_HD": "s",
    "transcode_H264_FHD": "s",
    "transcode_H264_2K": "s",
}
METRICS = tuple(METRIC_UNITS)
# Bandwidth is a level (bps), not an amount: hour and day buckets report the peak 5-minute value.
PEAK_METRICS = frozenset(m for m, unit in METRIC_UNITS.items() if unit == "bps")
# L4 metrics belong to L4 proxy instances; every other metric belongs to hosts (domains).
PROXY_METRICS = frozenset({"l4_flux", "l4_bandwidth"})
# A bandwidth metric without its own shape is derived from its traffic: bps = bytes * 8 / 300.
BANDWIDTH_OF_FLUX: dict[str, str] = {
    "acc_bandwidth": "acc_flux",
    "smt_bandwidth": "smt_flux",
    "l4_bandwidth": "l4_flux",
    "sec_bandwidth": "sec_flux",
    "zxctg_bandwidth": "zxctg_flux",
}
REGIONS = ("CH", "AF", "AS1", "AS2", "AS3", "EU", "MidEast", "NA", "SA")
PLAN_CAPACITIES = (
    "AccTrafficCapacity",
    "SmartTrafficCapacity",
    "DDoSTrafficCapacity",
    "SecTrafficCapacity",
    "SecRequestCapacity",
    "L4TrafficCapacity",
    "CrossMLCTrafficCapacity",
    "SmartRequestCapacity",
    "VAUCapacity",
)
# Default per-credential, per-action rate limits (requests per second) from the API documentation.
DEFAULT_RATE_LIMITS: dict[str, int] = {
    "DescribeBillingData": 50,
    "DescribeZones": 20,
    "DescribePlans": 20,
    "DescribeAccountBalance": 20,
    "DescribeBillSummaryByProduct": 20,
    "DescribeBillSummaryByPayMode": 20,
}

# --- quantities and durations -----------------------------------------------------------------------

_UNITS: dict[str, dict[str, int]] = {
    "bytes": {
        "B": 1,
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
        "TB": 10**12,
        "PB": 10**15,
        "KiB": 2**10,
        "MiB": 2**20,
        "GiB": 2**30,
        "TiB": 2**40,
        "PiB": 2**50,
    },
    "bps": {"bps": 1, "Kbps": 10**3, "Mbps": 10**6, "Gbps": 10**9, "Tbps": 10**12},
    "count": {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9},
    "ms": {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000},
    "s": {"s": 1, "min": 60, "h": 3600},
}
_QUANTITY = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|min|h|d)?\s*$")
_DURATION_SECONDS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "min": Decimal(60), "h": Decimal(3600)}
_DURATION_SECONDS["d"] = Decimal(86400)


def parse_quantity(value: object, unit: str) -> int:
    """``"290 GB"`` -> 290000000000 for a metric whose base unit is ``unit`` (decimal KB/MB/GB/TB,
    binary KiB/MiB/GiB/TiB, Kbps/Mbps/Gbps, k/M/G for counts); plain numbers are in the base unit.
    Rounded half-even to an integer."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int):
        number, factor = Decimal(value), 1
    elif isinstance(value, (float, Decimal)):
        number, factor = Decimal(str(value)), 1
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        if not match:
            raise ValueError(f"not a quantity: {value!r}")
        number = Decimal(match.group(1).replace("_", ""))
        suffix = match.group(2)
        if suffix:
            table = _UNITS.get(unit, {})
            if suffix not in table:
                raise ValueError(f"unit {suffix!r} does not fit a {unit} quantity (use one of {sorted(table)})")
            factor = table[suffix]
        else:
            factor = 1
    else:
        raise ValueError(f"not a quantity: {value!r}")
    if number < 0:
        raise ValueError(f"quantity must not be negative: {value!r}")
    return int((number * factor).to_integral_value(ROUND_HALF_EVEN))


def parse_duration(value: object) -> float:
    """Seconds from ``30``, ``"500ms"``, ``"10m"``, ``"2h"``, ``"1d"``."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(Decimal(match.group(1)) * _DURATION_SECONDS[match.group(2) or "s"])
    else:
        raise ValueError(f"not a duration: {value!r} (use seconds or 500ms / 30s / 10m / 2h / 1d)")
    if seconds < 0:
        raise ValueError(f"duration must not be negative: {value!r}")
    return seconds


def parse_instant(value: object, tz: tzinfo | None = None) -> datetime:
    """An aware datetime from ISO 8601 (``Z`` allowed); a bare date is local midnight in ``tz``."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 instant: {value!r}") from exc
    else:
        raise ValueError(f"not an ISO 8601 instant: {value!r}")
    if moment.tzinfo is None:
        if tz is None:
            raise ValueError(f"instant {value!r} needs a UTC offset, e.g. +08:00")
        moment = moment.replace(tzinfo=tz)
    return moment


def _weights(values: Mapping[str, Decimal]) -> dict[str, int]:
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


class SpikeSpec(_Strict):
    """Multiply usage by ``factor`` during [start, end) for the matching zone/host/proxy/region/metrics."""

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
    """A billed product: fixed ``daily`` yuan, and/or ``prices`` applied to EdgeOne usage of all zones."""

    code: str
    name: str
    pay_mode: Literal["postPay", "prePay"] = "postPay"
    daily: Decimal | None = None
    prices: dict[str, PriceSpec] = Field(default_factory=dict)

    @field_validator("prices")
    @classmethod
    def _prices(cls, v: dict[str, PriceSpec]) -> dict[str, PriceSpec]:
        bad = sorted(m for m in v if m not in METRICS or m in PEAK_METRICS)
        if bad:
            raise ValueError(f"prices apply to amount metrics only (not bandwidth), not {bad}")
        return v


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
    topups: tuple[TopUpSpec, ...] = ()
    products: tuple[ProductSpec, ...] = ()


class AccountSpec(_Strict):
    uin: int = 100000000001
    app_id: int = 1250000000


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
    rate_limits: dict[str, int] = Field(default_factory=dict)
    patterns: dict[str, PatternSpec] = Field(default_factory=dict)
    plans: tuple[PlanSpec, ...] = ()
    zones: tuple[ZoneSpec, ...] = ()
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
        for spike in self.spikes:
            if spike.zone is not None and spike.zone not in zone_ids:
                raise ValueError(f"spike: unknown zone {spike.zone!r}")
            bad = sorted(set(spike.metrics) - set(METRICS))
            if bad:
                raise ValueError(f"spike: unknown metrics {bad}")
        bad_limits = sorted(k for k, v in self.rate_limits.items() if v < 0)
        if bad_limits:
            raise ValueError(f"rate_limits must be >= 0 (0 = unlimited): {bad_limits}")
        return self


# --- runtime objects ---------------------------------------------------------------------------------


class Clock:
    """The data clock: a fixed instant, real time, or a fixed start that advances in real time."""

    def __init__(
        self, fixed: datetime | None, tz: tzinfo, *, advance: bool = False, wall: Callable[[], float] = time.time
    ) -> None:
        self.fixed = fixed
        self.tz = tz
        self.advance = advance
        self._wall = wall
        self._started = wall()

    def timestamp(self) -> float:
        if self.fixed is None:
            return self._wall()
        if self.advance:
            return self.fixed.timestamp() + (self._wall() - self._started)
        return self.fixed.timestamp()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), self.tz)

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment`` (aware); an advancing clock ticks on from there (soak tests step it)."""
        if moment.tzinfo is None:
            raise ValueError("the data clock needs an aware datetime")
        self.fixed = moment
        self._started = self._wall()


@dataclass(frozen=True)
class Fault:
    """What to do to one call: wait ``latency`` seconds, then answer ``code`` (API error) or
    ``http_status`` (a non-200 answer), or carry on normally when both are None."""

    latency: float = 0.0
    code: str | None = None
    message: str = ""
    http_status: int | None = None

    @property
    def is_error(self) -> bool:
        return self.code is not None or self.http_status is not None


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    plan: str | None
    spec: ZoneSpec
    created_ts: float | None
    host_weights: dict[str, int]
    proxy_weights: dict[str, int]
    region_weights: dict[str, int]


@dataclass(frozen=True)
class Plan:
    id: str
    spec: PlanSpec
    capacity: dict[str, int]
    enabled: datetime
    expires: datetime


@dataclass(frozen=True)
class Spike:
    zone: str | None
    host: str | None
    proxy: str | None
    region: str | None
    metrics: frozenset[str]
    start_ts: float
    end_ts: float
    factor: Decimal


class Scenario:
    """A loaded scenario: zones, plans, money, faults, the data clock and the usage generator."""

    def __init__(self, spec: ScenarioSpec, *, source: str = "<dict>", wall: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.source = source
        self.name = spec.name
        self.seed = spec.seed
        try:
            self.tz: tzinfo = ZoneInfo(spec.timezone)
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {spec.timezone!r}", field="timezone") from exc
        try:
            self.epoch = parse_instant(spec.epoch, self.tz)
            fixed = None if spec.clock.now == "real" else parse_instant(spec.clock.now, self.tz)
            self.data_delay = parse_duration(spec.data_delay)
            self.zones: dict[str, Zone] = {z.id: self._zone(z) for z in spec.zones}
            self.plans: dict[str, Plan] = {p.id: self._plan(p) for p in spec.plans}
            self.spikes = tuple(self._spike(s) for s in spec.spikes)
            self._fault_latency = tuple(parse_duration(f.latency) for f in spec.faults)
            self._fault_windows = tuple(
                (
                    parse_instant(f.start, self.tz).timestamp() if f.start is not None else None,
                    parse_instant(f.end, self.tz).timestamp() if f.end is not None else None,
                )
                for f in spec.faults
            )
        except ValueError as exc:
            raise ConfigError(f"scenario {source}: {exc}") from exc
        self.clock = Clock(fixed, self.tz, advance=spec.clock.advance, wall=wall)
        self.patterns: dict[str, PatternSpec] = {"flat": PatternSpec(), **spec.patterns}
        self.rate_limits = {**DEFAULT_RATE_LIMITS, **spec.rate_limits}
        self._fault_seen = [0] * len(spec.faults)
        self._fault_fired = [0] * len(spec.faults)
        self._fault_lock = threading.Lock()
        from lib.sandbox.usage import UsageEngine

        self.usage_engine = UsageEngine(self)

    # -- loading --

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "<dict>", wall: Callable[[], float] = time.time
    ) -> Scenario:
        try:
            spec = ScenarioSpec.model_validate(dict(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"scenario {source}: {problems}") from exc
        return cls(spec, source=source, wall=wall)

    @classmethod
    def load(cls, path: str | Path | None = None, *, wall: Callable[[], float] = time.time) -> Scenario:
        """Load a scenario YAML file (the bundled demo when ``path`` is None)."""
        file = Path(path) if path is not None else DEMO_SCENARIO
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read scenario {file}: {exc.strerror or exc}") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"scenario {file} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"scenario {file}: the top level must be a mapping")
        return cls.from_dict(data, source=str(file), wall=wall)

    def _zone(self, z: ZoneSpec) -> Zone:
        created = parse_instant(z.created, self.tz).timestamp() if z.created is not None else None
        return Zone(
            id=z.id,
            name=z.name,
            plan=z.plan,
            spec=z,
            created_ts=created,
            host_weights=_weights(z.hosts),
            proxy_weights=_weights(z.proxies),
            region_weights=_weights(z.regions),
        )

    def _plan(self, p: PlanSpec) -> Plan:
        capacity = {}
        for name, value in p.capacity.items():
            unit = "count" if name in ("SecRequestCapacity", "SmartRequestCapacity", "VAUCapacity") else "bytes"
            capacity[name] = parse_quantity(value, unit)
        return Plan(p.id, p, capacity, parse_instant(p.enabled, self.tz), parse_instant(p.expires, self.tz))

    def _spike(self, s: SpikeSpec) -> Spike:
        start, end = parse_instant(s.start, self.tz).timestamp(), parse_instant(s.end, self.tz).timestamp()
        if end <= start:
            raise ValueError(f"spike ends before it starts: {s.start} .. {s.end}")
        return Spike(s.zone, s.host, s.proxy, s.region, frozenset(s.metrics), start, end, s.factor)

    # -- the data clock --

    def now(self) -> datetime:
        """The data clock's current instant, in the scenario's time zone."""
        return self.clock.now()

    def set_now(self, moment: datetime) -> None:
        """Move the data clock to ``moment`` (aware): usage, bills, balance and fault windows follow it."""
        self.clock.set(moment)

    def visible_until(self) -> float:
        """5-minute buckets ending at or before this timestamp have been reported (``now - data_delay``)."""
        return self.clock.timestamp() - self.data_delay

    # -- zones --

    def zone(self, zone_id: str) -> Zone:
        return self.zones[zone_id]

    def bound_zones(self) -> list[Zone]:
        """Zones bound to a plan: what ``ZoneIds: ["*"]`` means."""
        return [z for z in self.zones.values() if z.plan is not None]

    # -- usage (see lib/sandbox/usage.py for the formula) --

    def values(
        self,
        metric: str,
        zone: str,
        start: datetime,
        end: datetime,
        *,
        host: str | None = None,
        proxy: str | None = None,
        region: str | None = None,
        as_of: float | None = None,
    ) -> list[int]:
        """5-minute values over [start, end) (5-minute aligned), summed over the zone's matching series;
        buckets not yet reported at ``as_of`` (default: the data clock) are 0."""
        engine = self.usage_engine
        series = [
            s
            for s in engine.series(metric, self.zones[zone])
            if (host is None or s.host == host)
            and (proxy is None or s.proxy == proxy)
            and (region is None or s.region == region)
        ]
        cutoff = self.visible_until() if as_of is None else as_of
        return engine.summed(metric, series, int(start.timestamp()), int(end.timestamp()), cutoff)

    def usage(  # noqa: PLR0917 - (metric, zone, host, region, start, end) reads like the question
        self,
        metric: str,
        zone: str,
        host: str | None = None,
        region: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        proxy: str | None = None,
        as_of: float | None = None,
    ) -> int:
        """Usage of ``metric`` over [start, end): the sum of 5-minute amounts, or for bandwidth the peak
        5-minute level. ``start``/``end`` default to the current month (scenario time zone) up to now."""
        if start is None or end is None:
            now = self.now()
            start = start or month_start(now, self.tz)
            end = end or now
        end = _align_up(end)
        start = _align_down(start)
        vals = self.values(metric, zone, start, end, host=host, proxy=proxy, region=region, as_of=as_of)
        if metric in PEAK_METRICS:
            return max(vals, default=0)
        return sum(vals)

    # -- faults --

    def fault_for(self, product: str, action: str, now: datetime | float | None = None) -> Fault | None:
        """The fault to apply to one call of ``product``/``action`` at data-clock instant ``now``, or None.

        Deterministic: each fault counts the calls it matches; call number n (after ``skip``) fires when
        SHA-256(seed/fault index/n) falls under ``rate``, until ``count`` have fired. Latencies of all
        matching faults add up; the first firing error wins. COS actions are named like the COS API
        (GetObject, PutObject, HeadObject, DeleteObject, GetBucket).
        """
        if not self.spec.faults:
            return None
        if now is None:
            ts = self.clock.timestamp()
        elif isinstance(now, datetime):
            ts = now.timestamp()
        else:
            ts = float(now)
        latency = 0.0
        error: FaultSpec | None = None
        fired_any = False
        with self._fault_lock:
            for index, spec in enumerate(self.spec.faults):
                if not (fnmatchcase(product, spec.product) and fnmatchcase(action, spec.action)):
                    continue
                lo, hi = self._fault_windows[index]
                if (lo is not None and ts < lo) or (hi is not None and ts >= hi):
                    continue
                self._fault_seen[index] += 1
                n = self._fault_seen[index]
                if n <= spec.skip or (spec.count is not None and self._fault_fired[index] >= spec.count):
                    continue
                if not _chance(self.seed, index, n, spec.rate):
                    continue
                self._fault_fired[index] += 1
                fired_any = True
                latency += self._fault_latency[index]
                if error is None and (spec.code is not None or spec.http_status is not None):
                    error = spec
        if not fired_any:
            return None
        if error is None:
            return Fault(latency=latency)
        message = error.message or f"injected fault ({error.code or error.http_status})"
        return Fault(latency=latency, code=error.code, message=message, http_status=error.http_status)

    def fault_counts(self) -> list[tuple[int, int]]:
        """(calls matched, faults fired) per entry of ``faults``, in file order (soak reports count them)."""
        with self._fault_lock:
            return list(zip(self._fault_seen, self._fault_fired, strict=True))


def _chance(seed: int, index: int, n: int, rate: Decimal) -> bool:
    if rate >= 1:
        return True
    if rate <= 0:
        return False
    digest = hashlib.sha256(f"{seed}/fault/{index}/{n}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) < rate * Decimal(2**64)


def _align_down(moment: datetime) -> datetime:
    ts = int(moment.timestamp())
    return datetime.fromtimestamp(ts - ts % 300, timezone.utc)


def _align_up(moment: datetime) -> datetime:
    ts = moment.timestamp()
    whole = int(ts)
    if whole != ts:
        whole += 1
    rest = whole % 300
    return datetime.fromtimestamp(whole + (300 - rest if rest else 0), timezone.utc)


def month_start(moment: datetime, tz: tzinfo) -> datetime:
    """Local midnight of the first day of ``moment``'s month in ``tz``."""
    local = moment.astimezone(tz)
    return datetime(local.year, local.month, 1).replace(tzinfo=tz).astimezone(tz)


def next_month_start(moment: datetime, tz: tzinfo) -> datetime:
    local = moment.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1).replace(tzinfo=tz).astimezone(tz)
