"""Sandbox scenario files: the YAML model, the data clock, injected faults; usage comes from ``usage``.

A scenario says what the local Tencent Cloud contains (zones, hosts, plans, money) and how usage
behaves over time. The format is documented in ``sandbox/scenarios/README.md``; the usage formula
in ``sandbox/usage.py``. Two clocks are kept apart on purpose: the *data clock* (``Clock``, what
"now" means for usage, bills and the balance; fixed or real) and the *signature clock* (always the real
wall time, because real clients sign with it); only the data clock lives here.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError

from lib.errors import ConfigError
from sandbox.catalogue import (
    CDN_TABLE,
    DEFAULT_RATE_LIMITS,
    PEAK_METRICS,
    parse_duration,
    parse_instant,
    parse_quantity,
)
from sandbox.scenario_spec import (
    CdnDomainSpec,
    FaultSpec,
    MetricSpec,
    PatternSpec,
    PlanSpec,
    ScenarioSpec,
    SpikeSpec,
    ZoneSpec,
    weights,
)
from sandbox.switches import CDN_DOMAIN, HOST, ZONE, Key, Switches
from sandbox.usage import Series, UsageEngine

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
DEMO_SCENARIO = SCENARIO_DIR / "demo.yaml"


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

    @property
    def usage(self) -> Mapping[str, MetricSpec]:
        return self.spec.usage


@dataclass(frozen=True)
class CdnDomain:
    """A CDN domain for the usage formula: one host (itself) in the areas it serves (``mainland``/``overseas``)."""

    id: str  # the domain name
    resource_id: str
    spec: CdnDomainSpec
    created_ts: float | None
    host_weights: dict[str, int]
    proxy_weights: dict[str, int]
    region_weights: dict[str, int]

    @property
    def usage(self) -> Mapping[str, MetricSpec]:
        return self.spec.usage


def cdn_switches(s: Series) -> tuple[Key, ...]:
    return ((CDN_DOMAIN, s.zone),)


@dataclass(frozen=True)
class Plan:
    id: str
    spec: PlanSpec
    capacity: dict[str, int]
    enabled: datetime
    expires: datetime


@dataclass(frozen=True)
class Spike:
    zone: str | None  # for a CDN spike: the domain
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
            self.cdn_domains: dict[str, CdnDomain] = {d.domain: self._cdn_domain(d) for d in spec.cdn.domains}
            self.spikes = tuple(self._spike(s) for s in spec.spikes if s.domain is None)
            self.cdn_spikes = tuple(self._spike(s) for s in spec.spikes if s.domain is not None)
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
        self.switches = Switches()
        for z in spec.zones:
            if z.paused:
                self.switches.start_off((ZONE, z.id))
            for host in z.offline_hosts:
                self.switches.start_off((HOST, host))
        for d in spec.cdn.domains:
            if d.status == "offline":
                self.switches.start_off((CDN_DOMAIN, d.domain))
        self.usage_engine = UsageEngine(self)
        self.cdn_engine = UsageEngine(
            self, self.cdn_domains, table=CDN_TABLE, spikes=self.cdn_spikes, switch_keys=cdn_switches
        )

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
            host_weights=weights(z.hosts),
            proxy_weights=weights(z.proxies),
            region_weights=weights(z.regions),
        )

    def _cdn_domain(self, d: CdnDomainSpec) -> CdnDomain:
        created = parse_instant(d.created, self.tz).timestamp() if d.created is not None else None
        resource_id = d.resource_id or "cdn-" + hashlib.sha256(d.domain.encode()).hexdigest()[:8]
        return CdnDomain(d.domain, resource_id, d, created, {d.domain: 1}, {}, weights(d.area_shares()))

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
        zone = s.domain if s.domain is not None else s.zone
        return Spike(zone, s.host, s.proxy, s.region, frozenset(s.metrics), start, end, s.factor)

    # -- the data clock --

    def now(self) -> datetime:
        """The data clock's current instant, in the scenario's time zone."""
        return self.clock.now()

    def set_now(self, moment: datetime) -> None:
        """Move the data clock to ``moment`` (aware): usage, bills, balance and fault windows follow it."""
        self.clock.set(moment)

    def scale_for(self, account: str | None) -> int:
        """How many times the scenario account's usage and cost the caller's account has (1: the account itself)."""
        organization = self.spec.organization
        for position, member in enumerate(organization.members if organization and account else (), start=1):
            if str(member.uin) == account:
                return position if member.scale is None else member.scale
        return 1

    def visible_until(self) -> float:
        """5-minute buckets ending at or before this timestamp have been reported (``now - data_delay``)."""
        return self.clock.timestamp() - self.data_delay

    # -- zones --

    def zone(self, zone_id: str) -> Zone:
        return self.zones[zone_id]

    def bound_zones(self) -> list[Zone]:
        """Zones bound to a plan: what ``ZoneIds: ["*"]`` means."""
        return [z for z in self.zones.values() if z.plan is not None]

    def zone_paused(self, zone_id: str) -> bool:
        return not self.switches.is_on((ZONE, zone_id))

    def host_online(self, host: str) -> bool:
        return self.switches.is_on((HOST, host))

    def cdn_status(self, domain: str) -> str:
        """``offline`` while stopped, else the scenario's status (``online`` once started again)."""
        if not self.switches.is_on((CDN_DOMAIN, domain)):
            return "offline"
        status = self.cdn_domains[domain].spec.status
        return "online" if status == "offline" else status

    # -- usage (see sandbox/usage.py for the formula) --

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
