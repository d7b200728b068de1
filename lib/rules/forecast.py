"""Projected period total: what the value will be at the end of the period at the recent typical rate.

Method ("median rate"): split the period into steps (local days for a month, hours for a day), sum
the series into them, and take the median of the last ``WINDOW`` complete steps that have data.
Projection = value so far + median step total x steps remaining (the current step counts by the
fraction left of it, so DST days and short months are exact).

It waits until ``MIN_STEPS`` steps are complete (3 days into a month, 6 hours into a day), so the
first hours of a period, or one noisy bucket, cannot trigger it; the median ignores a lone spike.
Without a usable series (billing cost has none, or buckets coarser than a step) it falls back to
the run rate, value x period length / elapsed, with the same waiting time. Missing steps are left
out, never read as zero.

Late data (``data_end``): a value that covers usage only up to some instant before now (CDN billing
data hours behind, ``Observation.data_until``) is projected from that instant: its steps are complete
when the data covers them, its elapsed time ends there, and the time from there to now is still to
come. Projected from now, the usage not yet reported would count as nothing used.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Literal

from lib.model import Observation, Period, Point
from lib.periods import current_period

WINDOW = 7
MIN_STEPS: dict[str, int] = {"month": 3, "day": 6}
STEP_NAME: dict[str, Literal["day", "hour"]] = {"month": "day", "day": "hour"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Forecast:
    value: Decimal | None  # None: not enough history yet
    method: Literal["median-rate", "run-rate", "too-early"]
    rate: Decimal | None = None  # per step (day or hour)
    per: Literal["day", "hour"] = "day"
    basis: int = 0  # complete steps the rate comes from

    def detail(self) -> dict[str, object]:
        return {
            "method": self.method,
            "rate": None if self.rate is None else str(self.rate),
            "per": self.per,
            "basis": self.basis,
        }


def steps(kind: str, period: Period, tz: tzinfo) -> tuple[tuple[datetime, datetime], ...]:
    """The period's steps as [start, end) pairs: local days of a month, hours of a day."""
    return _steps(kind, period, tz)


@functools.lru_cache(maxsize=64)
def _steps(kind: str, period: Period, tz: tzinfo) -> tuple[tuple[datetime, datetime], ...]:
    out: list[tuple[datetime, datetime]] = []
    if kind == "month":
        cursor = period.start
        while cursor < period.end:
            day = current_period("day", cursor, tz)
            out.append((day.start, day.end))
            cursor = day.end
    else:
        start_utc = period.start.timestamp()
        end_utc = period.end.timestamp()
        t = start_utc
        while t < end_utc:
            out.append((_at(t, period.start.tzinfo), _at(min(t + 3600, end_utc), period.start.tzinfo)))
            t += 3600
    return tuple(out)


def _at(timestamp: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(timestamp, tz)


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def data_end(obs: Observation, now: datetime) -> datetime:
    """The instant ``obs``'s value runs to: its ``data_until`` when the data is late, else its ``as_of``, else
    ``now``; never after ``now``. What ``project`` takes as its ``now``."""
    end = obs.data_until or obs.as_of or now
    return min(end, now)


def project(
    kind: str, period: Period, value: Decimal, series: Sequence[Point], *, now: datetime, tz: tzinfo
) -> Forecast:
    """The projected total of ``period`` from ``now``, the instant the value so far and the bucket series run
    to (``data_end`` of the observation: the data's own end, not the clock's, when it is late)."""
    per = STEP_NAME[kind]
    now_ts = now.timestamp()
    edges, complete, remaining = _frame(kind, period, tz, now_ts)
    if len(complete) < MIN_STEPS[kind]:
        return Forecast(None, "too-early", per=per)

    low, high = edges[0][0], edges[-1][1]
    stamped = ((p.time.timestamp(), p.value) for p in series)
    inside = sorted(item for item in stamped if low <= item[0] < high)
    totals: dict[int, Decimal] = {}
    if _fine_enough([t for t, _ in inside], edges):
        starts = [start for start, _ in edges]
        for t, amount in inside:
            index = bisect.bisect_right(starts, t) - 1
            totals[index] = totals.get(index, Decimal(0)) + amount
    recent = [totals[i] for i in complete if i in totals][-WINDOW:]
    if len(recent) >= MIN_STEPS[kind]:
        rate = _median(recent)
        projected = value + rate * remaining
        return Forecast(projected.quantize(CENT), "median-rate", rate.quantize(CENT), per, len(recent))

    elapsed = Decimal(now_ts - edges[0][0])
    total = Decimal(edges[-1][1] - edges[0][0])
    projected = value * total / elapsed if now_ts < edges[-1][1] else value
    rate = value * (total / len(edges)) / elapsed
    return Forecast(projected.quantize(CENT), "run-rate", rate.quantize(CENT), per, len(complete))


@functools.lru_cache(maxsize=64)
def _frame(
    kind: str, period: Period, tz: tzinfo, now_ts: float
) -> tuple[tuple[tuple[float, float], ...], tuple[int, ...], Decimal]:
    """The steps as timestamps, the complete ones and the steps left: the same for every group of a
    budget (and every budget with the same period) in one run, so worked out once."""
    # Timestamps, not datetime subtraction: within one tzinfo Python subtracts wall-clock times.
    edges = tuple((start.timestamp(), end.timestamp()) for start, end in steps(kind, period, tz))
    complete = tuple(i for i, (_, end) in enumerate(edges) if end <= now_ts)
    return edges, complete, _remaining_steps(list(edges), now_ts)


def _remaining_steps(edges: list[tuple[float, float]], now_ts: float) -> Decimal:
    """Steps left in the period: whole future steps plus the unexpired fraction of the current one."""
    left = Decimal(0)
    for start, end in edges:
        if start >= now_ts:
            left += 1
        elif end > now_ts:
            left += Decimal(int(end - now_ts)) / Decimal(int(end - start))
    return left


def _fine_enough(times: list[float], edges: Sequence[tuple[float, float]]) -> bool:
    """Buckets no wider than a step, so each falls inside one (a month's days are 23 to 25 hours long)."""
    if len(times) < 2:
        return bool(times)
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    return bool(gaps) and min(gaps) <= max(end - start for start, end in edges)
