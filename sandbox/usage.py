"""Deterministic usage generator: exact integers per 5-minute bucket, per (zone, host|proxy, region).

Everything coarser (hour, day, zone, region, account) is a sum of these integers, so intervals and
groupings agree exactly. For a series s = (zone z, member m, region r), metric M and the 5-minute bucket
starting at UTC timestamp t (a multiple of 300), the value is

    v = floor( B * (w_m / W_m) * (w_r / W_r) * daily(t) * weekly(t) * growth(t) * noise(s, t) * spike(s, t) / 288 )

with the division by 288 only for amount metrics (bytes, counts, ms, s); bandwidth metrics given their
own ``mean`` (bps) skip it. All factors are exact ratios of integers; the floor is taken once, at the end:

- ``B``: the zone's ``daily`` (mean daily total) or ``mean`` (mean bps level), parsed to an integer.
- ``w_m / W_m``: the member's weight over the sum of the zone's host weights (proxy weights for the L4
  metrics ``l4_flux``/``l4_bandwidth``); ``w_r / W_r`` the same for billing regions. Weights are kept to
  6 decimals: ``w = round_half_even(weight * 10**6)``.
- ``daily(t)``: local time (scenario time zone) hour ``h`` and minute ``mm`` of t; ``P`` the pattern's
  24 weights (each ``round_half_even(x * 10**6)``):
  ``(P[h]*60 + (P[(h+1) % 24] - P[h]) * mm) * 24 / (60 * sum(P))`` (linear between hours, mean 1).
- ``weekly(t)``: ``K[wd] * 7 / sum(K)`` for the local weekday ``wd`` (Monday = 0), weights likewise.
- ``growth(t)``: ``G / 10**6`` with ``G = round_half_even((1 + g) ** k * 10**6)`` computed with Python
  ``Decimal`` at 40 significant digits, ``k`` = local calendar days from the scenario ``epoch`` (may be
  negative).
- ``noise(s, t)``: ``1 + A * (2u + 1 - 2**32) / (2**32 * 10**6)`` with ``A = round_half_even(noise *
  10**6)`` and ``u`` the big-endian uint32 number ``i`` (i = bucket index within the UTC day) of
  ``SHAKE-256("{seed}/{metric}/{zone}/{host}/{proxy}/{region}/{utc_day}").digest(288 * 4)``,
  ``utc_day = t // 86400``; host or proxy is the empty string for the other kind of series.
- ``spike(s, t)``: ``S / 10**6`` with ``S = round_half_even(product of the factors of every spike whose
  [start, end) contains t and whose zone/host/proxy/region/metrics match s (None = any) * 10**6)``.
- Before the zone's ``created`` instant, v = 0. A zone without a spec for M has v = 0, except that a
  bandwidth metric with no spec of its own is derived from its traffic:
  ``v_bps = floor(v_bytes * 8 / 300)`` per series and bucket.

The query side (``summed``) adds series bucket by bucket and zeroes buckets not yet reported: a bucket
[t, t+300) is reported once ``t + 300 <= now - data_delay`` on the data clock. A series whose resource
was switched off (a paused zone, an offline host, a stopped CDN domain: ``sandbox/switches.py``) counts
``floor(v * seconds_on / 300)`` for each bucket, so it accrues nothing while off.

The same engine serves CDN domains (``Scenario.cdn_engine``): a domain is a resource with one host
(itself) whose regions are ``mainland`` and ``overseas``, with CDN metrics (``CDN_TABLE``).
"""

from __future__ import annotations

import hashlib
import struct
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from itertools import chain, islice
from typing import TYPE_CHECKING, Protocol

from sandbox.catalogue import TEO_TABLE, MetricTable, parse_quantity
from sandbox.switches import HOST, ZONE, Key

if TYPE_CHECKING:
    from sandbox.scenario import Scenario, Spike
    from sandbox.scenario_spec import MetricSpec

STEP = 300
PER_DAY = 288
DAY = 86400
PPM = 10**6
NOISE_SPAN = 2**32
_UINT32S = struct.Struct(f">{PER_DAY}I")  # a day of noise words
_CACHE_DAYS = 8192  # day arrays kept (about 2.3 KB each)


@dataclass(frozen=True)
class Series:
    """One elementary usage series: a zone's host (L7) or proxy (L4) in one billing region."""

    zone: str
    host: str
    proxy: str
    region: str


Row = Sequence[int]


class Metered(Protocol):
    """What the formula needs of a resource: an EdgeOne zone, or a CDN domain (one host of its own)."""

    @property
    def id(self) -> str: ...
    @property
    def created_ts(self) -> float | None: ...
    @property
    def host_weights(self) -> dict[str, int]: ...
    @property
    def proxy_weights(self) -> dict[str, int]: ...
    @property
    def region_weights(self) -> dict[str, int]: ...
    @property
    def usage(self) -> Mapping[str, MetricSpec]: ...


def teo_switches(s: Series) -> tuple[Key, ...]:
    """A teo series stops when its zone is paused or its host is offline (L4 series: the zone only)."""
    return ((ZONE, s.zone), (HOST, s.host)) if s.host else ((ZONE, s.zone),)


class UsageEngine:
    """Computes and caches the 5-minute values of a scenario (thread-safe; caches are bounded).

    One engine per product: EdgeOne zones (the default) or CDN domains, each with its own metric table,
    spikes and switches (paused, offline or stopped resources accrue nothing; see ``sandbox/switches.py``).
    """

    def __init__(
        self,
        scenario: Scenario,
        resources: Mapping[str, Metered] | None = None,
        *,
        table: MetricTable = TEO_TABLE,
        spikes: Sequence[Spike] | None = None,
        switch_keys: Callable[[Series], tuple[Key, ...]] = teo_switches,
    ) -> None:
        self.scenario = scenario
        self.resources: Mapping[str, Metered] = scenario.zones if resources is None else resources
        self.table = table
        self.spikes = tuple(scenario.spikes if spikes is None else spikes)
        self.switch_keys = switch_keys
        self._lock = threading.Lock()
        self._days: OrderedDict[tuple[str, Series, int], Row] = OrderedDict()
        self._factors: OrderedDict[tuple[int, int], tuple[list[int], int]] = OrderedDict()
        self._shape_ids: dict[tuple[tuple[int, ...], tuple[int, ...], Decimal], int] = {}
        self._shapes: dict[int, tuple[tuple[int, ...], tuple[int, ...], Decimal]] = {}
        self._shape_of: dict[tuple[str, str], int] = {}
        self._growth: dict[tuple[Decimal, int], int] = {}
        self._series: dict[tuple[str, str], list[Series]] = {}
        self._silent: dict[tuple[str, str], bool] = {}
        epoch = scenario.epoch
        offset = epoch.utcoffset()
        self._epoch_local_day = (int(epoch.timestamp()) + int(offset.total_seconds() if offset else 0)) // DAY

    # -- series --

    def series(self, metric: str, zone: Metered) -> list[Series]:
        """Every series of ``zone`` for ``metric`` (members of the right kind x regions), in a stable order."""
        key = (metric, zone.id)
        cached = self._series.get(key)
        if cached is not None:
            return cached
        if metric in self.table.proxy:
            out = [Series(zone.id, "", p, r) for p in zone.proxy_weights for r in zone.region_weights]
        else:
            out = [Series(zone.id, h, "", r) for h in zone.host_weights for r in zone.region_weights]
        self._series[key] = out
        return out

    def silent(self, metric: str, zone: Metered) -> bool:
        """True when every series of ``zone`` is exactly 0 for ``metric`` at every instant (no spec of its
        own, and no traffic to derive a bandwidth from; or a zero base): queries may skip it."""
        key = (metric, zone.id)
        hit = self._silent.get(key)
        if hit is None:
            hit = self._silent[key] = self._is_silent(metric, zone)
        return hit

    def _is_silent(self, metric: str, zone: Metered) -> bool:
        spec = zone.usage.get(metric)
        if spec is None:
            flux = self.table.bandwidth_of.get(metric)
            return flux is None or self._is_silent(flux, zone)
        base = parse_quantity(spec.mean if metric in self.table.peak else spec.daily, self.table.units[metric])
        return base == 0

    # -- the formula --

    def day_row(self, metric: str, s: Series, day: int) -> Row:
        """The 288 raw values of series ``s`` on UTC day ``day`` (no reporting cut-off)."""
        key = (metric, s, day)
        row = self._days.get(key)  # a dict read is atomic; only inserts and evictions take the lock
        if row is not None:
            return row
        row = self._compute(metric, s, day)
        with self._lock:
            self._days[key] = row
            while len(self._days) > _CACHE_DAYS:
                self._days.popitem(last=False)  # oldest first
        return row

    def _compute(self, metric: str, s: Series, day: int) -> Row:
        zone = self.resources[s.zone]
        spec = zone.usage.get(metric)
        if spec is None:
            flux = self.table.bandwidth_of.get(metric)
            if flux is not None and flux in zone.usage:
                return _pack([v * 8 // STEP for v in self.day_row(flux, s, day)])
            return _zeros()
        if metric in self.table.proxy:
            w_m, big_w_m = zone.proxy_weights.get(s.proxy, 0), sum(zone.proxy_weights.values())
        else:
            w_m, big_w_m = zone.host_weights.get(s.host, 0), sum(zone.host_weights.values())
        w_r, big_w_r = zone.region_weights.get(s.region, 0), sum(zone.region_weights.values())
        peak = metric in self.table.peak
        base = parse_quantity(spec.mean if peak else spec.daily, self.table.units[metric])
        k_const = base * w_m * w_r
        if k_const == 0:
            return _zeros()
        factors, f_den = self._factor_row(zone, metric, spec, day)
        amplitude = int((spec.noise * PPM).to_integral_value(ROUND_HALF_EVEN))
        n_den = NOISE_SPAN * PPM
        den = (1 if peak else PER_DAY) * big_w_m * big_w_r * f_den
        spikes = self._spike_row(metric, s, day)
        # noise and spike are fractions over n_den and PPM; where one is constant (n_den / n_den, PPM / PPM)
        # it cancels exactly from numerator and denominator: the same floor with smaller integers.
        if amplitude:
            raw = hashlib.shake_256(
                f"{self.scenario.seed}/{metric}/{s.zone}/{s.host}/{s.proxy}/{s.region}/{day}".encode()
            ).digest(PER_DAY * 4)
            # n_den + A * (2u + 1 - 2**32) for each big-endian uint32 u
            lift, twice = n_den + amplitude * (1 - NOISE_SPAN), 2 * amplitude
            noise = [lift + twice * u for u in _UINT32S.unpack(raw)]
            if spikes is None:
                values = [k_const * f * n // (den * n_den) for f, n in zip(factors, noise, strict=True)]
            else:
                full = den * n_den * PPM
                values = [k_const * f * n * sp // full for f, n, sp in zip(factors, noise, spikes, strict=True)]
        elif spikes is None:
            values = [k_const * f // den for f in factors]
        else:
            values = [k_const * f * sp // (den * PPM) for f, sp in zip(factors, spikes, strict=True)]
        created = zone.created_ts
        if created is not None and created > day * DAY:
            first = -(-(int(created) - day * DAY) // STEP)  # buckets starting before `created` are 0
            for i in range(min(first, PER_DAY)):
                values[i] = 0
        return _pack(values)

    def _factor_row(self, zone: Metered, metric: str, spec: MetricSpec, day: int) -> tuple[list[int], int]:
        """daily(t) * weekly(t) * growth(t) numerators for the 288 buckets of a UTC day, and their denominator."""
        # The row depends only on the pattern's weights and the growth rate: zones sharing them share it.
        shape = self._shape(zone, metric, spec)
        key = (shape, day)
        hit = self._factors.get(key)  # a dict read is atomic; only inserts and evictions take the lock
        if hit is not None:
            return hit
        hourly, weekly, growth = self._shapes[shape]
        f_den = 60 * sum(hourly) * sum(weekly) * PPM
        tz = self.scenario.tz
        t0 = day * DAY
        first_offset = _offset(t0, tz)
        same_offset = first_offset == _offset(t0 + DAY - STEP, tz)
        per_day: dict[int, int] = {}  # local day -> weekly(t) * 7 * growth(t), at most two per UTC day
        row: list[int] = []
        for i in range(PER_DAY):
            t = t0 + i * STEP
            local = t + (first_offset if same_offset else _offset(t, tz))
            local_day, second = divmod(local, DAY)
            hour, minute = second // 3600, (second % 3600) // 60
            p_here, p_next = hourly[hour], hourly[(hour + 1) % 24]
            daily = (p_here * 60 + (p_next - p_here) * minute) * 24
            day_factor = per_day.get(local_day)
            if day_factor is None:
                weekday = (local_day + 3) % 7  # 1970-01-01 was a Thursday
                day_factor = weekly[weekday] * 7 * self._growth_ppm(growth, local_day - self._epoch_local_day)
                per_day[local_day] = day_factor
            row.append(daily * day_factor)
        result = (row, f_den)
        with self._lock:
            self._factors[key] = result
            if len(self._factors) > _CACHE_DAYS:
                self._factors.popitem(last=False)
        return result

    def _shape(self, zone: Metered, metric: str, spec: MetricSpec) -> int:
        """A small id for the (hourly weights, weekly weights, growth) of ``zone``'s ``metric``."""
        known = self._shape_of.get((zone.id, metric))
        if known is not None:
            return known
        pattern = spec.pattern if not isinstance(spec.pattern, str) else self.scenario.patterns[spec.pattern]
        hourly = tuple(int((x * PPM).to_integral_value(ROUND_HALF_EVEN)) for x in pattern.daily)
        weekly = tuple(int((x * PPM).to_integral_value(ROUND_HALF_EVEN)) for x in pattern.weekly)
        weights = (hourly, weekly, spec.growth)
        with self._lock:
            shape = self._shape_ids.setdefault(weights, len(self._shape_ids))
            self._shapes[shape] = weights
            self._shape_of[(zone.id, metric)] = shape
        return shape

    def _growth_ppm(self, rate: Decimal, days: int) -> int:
        if rate == 0:
            return PPM
        key = (rate, days)
        hit = self._growth.get(key)
        if hit is None:
            with localcontext() as ctx:
                ctx.prec = 40
                hit = int(((Decimal(1) + rate) ** days * PPM).to_integral_value(ROUND_HALF_EVEN))
            self._growth[key] = hit
        return hit

    def _spike_row(self, metric: str, s: Series, day: int) -> list[int] | None:
        t0, t1 = day * DAY, (day + 1) * DAY
        active = [
            sp
            for sp in self.spikes
            if sp.start_ts < t1
            and sp.end_ts > t0
            and (sp.zone is None or sp.zone == s.zone)
            and (sp.host is None or sp.host == s.host)
            and (sp.proxy is None or sp.proxy == s.proxy)
            and (sp.region is None or sp.region == s.region)
            and (not sp.metrics or metric in sp.metrics)
        ]
        if not active:
            return None  # the factor is 1 all day
        row = []
        for i in range(PER_DAY):
            t = t0 + i * STEP
            factor = Decimal(1)
            for sp in active:
                if sp.start_ts <= t < sp.end_ts:
                    factor *= sp.factor
            row.append(int((factor * PPM).to_integral_value(ROUND_HALF_EVEN)))
        return row

    # -- queries --

    def summed(self, metric: str, series: Sequence[Series], start: int, end: int, cutoff: float) -> list[int]:
        """5-minute values over [start, end) (multiples of 300), added over ``series``, unreported
        buckets (ending after ``cutoff``) set to 0."""
        if start % STEP or end % STEP:
            raise ValueError("start and end must be multiples of 300 seconds")
        n = max(0, (end - start) // STEP)
        visible = min(n, max(0, int((cutoff - start) // STEP)))
        if visible == 0 or not series:
            return [0] * n
        days = range(start // DAY, (start + visible * STEP - 1) // DAY + 1)
        first = (start % DAY) // STEP
        # Each series as one lazy stream of its 5-minute values over the window; columns summed in C.
        streams: list[Iterable[int]] = []
        for s in series:
            stream: Iterable[int] = islice(
                chain.from_iterable([self.day_row(metric, s, day) for day in days]), first, first + visible
            )
            on = self.scenario.switches.on_seconds(self.switch_keys(s), start, STEP, visible)
            if on is not None:  # switched off for part of the window: only the seconds it was on count
                stream = [v * secs // STEP for v, secs in zip(stream, on, strict=True)]
            streams.append(stream)
        if len(streams) == 1:  # nothing to add up: skip a tuple and a sum per bucket
            return list(streams[0]) + [0] * (n - visible)
        return list(map(sum, zip(*streams, strict=True))) + [0] * (n - visible)

    def hourly_totals(self, metric: str, day: int) -> list[int]:
        """24 UTC-hour totals of ``metric`` on UTC day ``day`` over every series of every zone (raw, for bills)."""
        totals = [0] * 24
        switches = self.scenario.switches
        for zone in self.resources.values():
            if self.silent(metric, zone):
                continue  # exact zeros: nothing to add (and nothing to crowd the day-row cache with)
            for s in self.series(metric, zone):
                row = self.day_row(metric, s, day)
                on = switches.on_seconds(self.switch_keys(s), day * DAY, STEP, PER_DAY)
                if on is not None:
                    row = [v * secs // STEP for v, secs in zip(row, on, strict=True)]
                for h in range(24):
                    totals[h] += sum(row[12 * h : 12 * h + 12])
        return totals


def _offset(ts: int, tz: object) -> int:
    moment = datetime.fromtimestamp(ts, timezone.utc).astimezone(tz)  # type: ignore[arg-type]
    off = moment.utcoffset()
    return int(off.total_seconds()) if off else 0


def _zeros() -> Row:
    return array("q", bytes(8 * PER_DAY))


def _pack(values: list[int]) -> Row:
    try:
        return array("q", values)
    except OverflowError:
        return values
