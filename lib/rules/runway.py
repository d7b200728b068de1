"""Balance runway: the day the balance runs out at the recent daily burn, and whether that is within the horizon.

The input is the balances earlier runs recorded (the balance budget's series: at most one point an hour)
and the balance now. The estimator:

1. **Burn per day.** Between two consecutive balances, a fall is spending and a rise is a top-up or a
   refund, which is not spending: it counts as no burn (so a top-up never reads as negative burn; a
   top-up and spending between the same two runs under-count that day a little). A fall is spread over
   the local days the interval covers, in proportion to time, so runs missed for hours do not put a
   day's spending on the next day.
2. **Complete days only.** A day counts when it has ended and the recorded balances cover it from
   start to end: today, still running, and the first partial day of a new budget would read low.
3. **Median of the last** ``RECENT_DAYS`` **complete days** (at least ``MIN_DAYS``). The median is
   why one spiky day (a scraped site burning ten times the usual in a night, a monthly prepaid
   renewal) does not move the estimate at all: it is one value on one side of the middle. A mean of a
   week with one 10x day would read about 2.3x the usual burn and page people for a runway that is
   not short. A lasting change moves the median once it holds for half the window (about 4 days);
   spending that sharp and sudden is what spike rules and cost budgets watch.

``runs_out = now + balance / burn``; it fires while that instant is within ``horizon`` seconds of now
(a balance at or below zero has run out already). No burn (a flat or rising balance) never runs out.
Too few complete days: not evaluated (neither firing nor resolved), like a spike without history.
Pure: ``now`` and the zone are arguments.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

from lib.model import Point
from lib.periods import current_period

RECENT_DAYS = 7
MIN_DAYS = 3
DAY_SECONDS = Decimal(86400)
FEN = Decimal("0.01")


@dataclass(frozen=True)
class Runway:
    """The runway check's answer for one balance."""

    evaluated: bool
    firing: bool = False
    reason: str = ""
    burn: Decimal | None = None  # per day: the median of ``days``
    days: tuple[tuple[date, Decimal], ...] = ()  # the complete days' burn the median is taken over
    runs_out: datetime | None = None

    def detail(self, horizon: float, tz: tzinfo) -> dict[str, object]:
        return {
            "runs_out": None if self.runs_out is None else self.runs_out.astimezone(tz).isoformat(),
            "burn_per_day": None if self.burn is None else str(self.burn),
            "burn_days": [[d.isoformat(), str(b)] for d, b in self.days],
            "horizon_days": round(horizon / 86400, 2),
            "reason": self.reason,
        }


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def daily_burn(points: Sequence[Point], now: datetime, tz: tzinfo) -> list[tuple[date, Decimal]]:
    """Spending per complete local day that the points cover from start to end, oldest first."""
    by_time = {p.time.timestamp(): p.value for p in points}
    times = sorted(by_time)
    if len(times) < 2:
        return []
    burn: dict[date, Decimal] = {}
    for a, b in itertools.pairwise(times):
        fall = by_time[a] - by_time[b]
        if fall <= 0:
            continue
        span = Decimal(str(b - a))
        start = a
        while start < b:
            day = current_period("day", datetime.fromtimestamp(start, timezone.utc), tz)
            end = min(b, day.end.timestamp())
            local = day.start.astimezone(tz).date()
            burn[local] = burn.get(local, Decimal(0)) + fall * Decimal(str(end - start)) / span
            start = end
    first, last = times[0], min(times[-1], now.timestamp())
    out: list[tuple[date, Decimal]] = []
    day = current_period("day", datetime.fromtimestamp(first, timezone.utc), tz)
    while day.end.timestamp() <= last:
        if day.start.timestamp() >= first:  # covered from its start: a complete day
            local = day.start.astimezone(tz).date()
            out.append((local, burn.get(local, Decimal(0)).quantize(FEN)))  # money is exact to the fen
        day = current_period("day", day.end, tz)
    return out


def estimate(recorded: Sequence[Point], balance: Decimal, now: datetime, tz: tzinfo, horizon: float) -> Runway:
    """When ``balance`` (now) runs out at the median burn of the recent complete days of ``recorded``."""
    points = [p for p in recorded if p.time < now] + [Point(now, balance)]
    days = tuple(daily_burn(points, now, tz)[-RECENT_DAYS:])
    if len(days) < MIN_DAYS:
        return Runway(False, reason=f"{len(days)} complete days of balances recorded; {MIN_DAYS} needed", days=days)
    burn = _median([b for _, b in days])
    if balance <= 0:
        return Runway(True, True, "the balance has run out", burn, days, now)
    if burn <= 0:
        return Runway(True, False, "the balance is not falling", burn, days)
    runs_out = now + timedelta(seconds=float(balance / burn * DAY_SECONDS))
    firing = runs_out <= now + timedelta(seconds=horizon)
    reason = "runs out within the horizon" if firing else "lasts beyond the horizon"
    return Runway(True, firing, reason, burn, days, runs_out)
