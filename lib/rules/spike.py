"""Spikes: the latest complete bucket far above its baseline.

Baselines:
- ``yesterday``: the bucket at the same local time one day earlier;
- ``median``: the median of the ``window`` complete buckets before it, with a robust spread: the
  value must also exceed median + ``spread`` x 1.4826 x MAD (the median absolute deviation, scaled
  to a standard deviation), so a naturally noisy series does not page.

In both cases the value must exceed baseline x ``factor`` and be at least ``min_value``. Only
complete buckets count: a bucket still filling would read low. Bucket width is the smallest gap
between points; buckets of about a day (23 hours or more: a DST day is 23 or 25) are local days and
end at the next local midnight, others end at start + width. Without enough history the check is
not made (neither firing nor resolved). The points may reach back before the period (the
collector's lookback), so the first buckets of a period have a baseline too.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal

from lib.config.models import Spike
from lib.model import Point
from lib.periods import current_period

MAD_SCALE = Decimal("1.4826")
MIN_HISTORY = 3
DAY_LIKE = 23 * 3600  # the shortest local day: wider buckets are days, which end at local midnight


@dataclass(frozen=True)
class SpikeCheck:
    evaluated: bool
    firing: bool = False
    reason: str = ""
    bucket: datetime | None = None
    bucket_seconds: int | None = None
    value: Decimal | None = None
    baseline: Decimal | None = None
    threshold: Decimal | None = None  # the value it had to exceed
    mad: Decimal | None = None

    def detail(self, spec: Spike) -> dict[str, object]:
        ratio = None
        if self.value is not None and self.baseline:
            ratio = round(float(self.value / self.baseline), 2)
        return {
            "baseline_kind": spec.baseline,
            "bucket": None if self.bucket is None else self.bucket.isoformat(),
            "bucket_seconds": self.bucket_seconds,
            "baseline": None if self.baseline is None else str(self.baseline),
            "threshold": None if self.threshold is None else str(self.threshold),
            "mad": None if self.mad is None else str(self.mad),
            "factor": spec.factor,
            "ratio": ratio,
            "reason": self.reason,
        }


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _day_end(start: float, tz: tzinfo) -> float:
    """The next local midnight after the instant ``start`` (a day bucket's end)."""
    return current_period("day", datetime.fromtimestamp(start, timezone.utc), tz).end.timestamp()


def check_spike(spec: Spike, series: Sequence[Point], now: datetime, tz: tzinfo) -> SpikeCheck:
    by_time: dict[float, Point] = {}
    for point in series:
        by_time[point.time.timestamp()] = point  # a repeated bucket: the later one wins
    times = sorted(by_time)
    if len(times) < 2:
        return SpikeCheck(False, reason="not enough history")
    width = min(b - a for a, b in itertools.pairwise(times))
    # Day buckets by the calendar: with a 23-hour DST day among them, start + width would call a
    # normal day complete an hour early (and a 25-hour day two hours early), reading it low.
    daily = width >= DAY_LIKE
    now_ts = now.timestamp()
    complete = [t for t in times if (_day_end(t, tz) if daily else t + width) <= now_ts]
    if not complete:
        return SpikeCheck(False, reason="no complete bucket yet")
    current = by_time[complete[-1]]
    value = current.value
    width_seconds = int(_day_end(complete[-1], tz) - complete[-1]) if daily else int(width)

    def verdict(
        reason: str, baseline: Decimal | None = None, threshold: Decimal | None = None, mad: Decimal | None = None
    ) -> SpikeCheck:
        evaluated = threshold is not None
        firing = evaluated and threshold is not None and value > threshold and value >= spec.min_value
        if evaluated:
            reason = "above baseline" if firing else "within baseline"
        return SpikeCheck(evaluated, firing, reason, current.time, width_seconds, value, baseline, threshold, mad)

    factor = Decimal(str(spec.factor))
    if spec.baseline == "yesterday":
        # Same local wall time a day earlier (23 or 25 hours before on DST days).
        local = current.time.astimezone(tz)
        target = (local.replace(tzinfo=None) - timedelta(days=1)).replace(tzinfo=tz).timestamp()
        before = by_time.get(target)
        if before is None:
            return verdict("no bucket at the same time yesterday")
        return verdict("", before.value, before.value * factor)
    history = [by_time[t].value for t in complete[:-1]][-spec.window :]
    if len(history) < min(spec.window, MIN_HISTORY):
        return verdict("not enough history")
    baseline = _median(history)
    mad = _median([abs(v - baseline) for v in history])
    threshold = max(baseline * factor, baseline + Decimal(str(spec.spread)) * MAD_SCALE * mad)
    return verdict("", baseline, threshold, mad)
