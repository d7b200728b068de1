"""Pure planner: the fewest ``DescribeBillingData`` requests that answer every EdgeOne budget.

Rules, from the API's limits (reference §3.1):

- Budgets that ask the same question share it: same metric, filters, group-by, interval and period.
  When the group-by includes ``zone-id`` their zone lists are merged (each budget later keeps its own
  zones' groups; ``*`` stays apart from listed zones); otherwise a different zone list is a different
  question.
- ``ZoneIds`` go 100 per request; ``*`` is passed through as is (one request for every zone). It is
  only resolved into zone ids, with ``DescribeZones``, when the API answers that the result has too
  many groups, or when grouped by zone at 5 minutes over a month (``too_big_for_star``); see
  ``split``/``expand``, used by the executor.
- Interval: the coarsest that answers the question. Additive metrics: ``day`` buckets for a month,
  ``hour`` for a day. Bandwidth: ``5min`` for a day (exact and only 288 samples); for a month the
  ``day`` bucket (the day's peak) for the default ``max``, and ``5min`` samples for ``p95``/``avg``/
  ``sum``, or when several zone requests must be added bucket by bucket (peaks of different zone sets
  do not add up; 5-minute samples do).
- Windows: [period start, now] in whole seconds, both ends in the UTC offset valid at the period's
  start (the API wants one offset and aligns buckets to it; see ``windows`` for daylight saving), in
  pieces of at most 31 days that meet on bucket boundaries. The window starts on a bucket boundary
  (local midnight), so whether the API clips buckets to the window or reports them whole, the sum
  of the buckets is the period so far.
- Lookback: a budget with a ``spike`` rule also needs buckets from before its period (``lookback``):
  the bucket judged right after the period starts is the previous period's last, and its baseline
  lies ``window`` buckets (median) or one local day (yesterday) before that. A shared request starts
  at the earliest lookback of its budgets, still in the offset of the period's start (so the period's
  own buckets are the same as without it) and on a bucket boundary; each budget keeps its own part.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from lib.model import Period
from lib.periods import current_period
from lib.sources.catalogue import Aggregate
from lib.sources.metrics import MetricInfo, metric_info

if TYPE_CHECKING:
    from lib.config.models import Budget

Interval = Literal["5min", "hour", "day"]
Step = Literal["day", "hour"]
Filters = tuple[tuple[str, tuple[str, ...]], ...]

MAX_ZONES = 100  # ZoneIds per request (API limit)
MAX_WINDOW = timedelta(days=31)  # EndTime - StartTime (API limit)
# Records one response may carry before we use fewer zones per request: 5-minute samples of a month
# are 8,929 per group, and a parsed record costs a few hundred bytes of memory.
MAX_RECORDS = 50_000
INTERVAL_SECONDS: dict[str, int] = {"5min": 300, "hour": 3600, "day": 86400}
# GroupBy dimension -> field of a BillingData record.
GROUP_FIELDS: dict[str, str] = {"zone-id": "ZoneId", "host": "Host", "proxy-id": "ProxyId", "region-id": "RegionId"}
# Dimensions whose groups never span two zones, so zone requests never add up into one group.
_ZONE_BOUND = frozenset({"zone-id", "host", "proxy-id"})
ALL_ZONES = ("*",)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Query:
    """One ``DescribeBillingData`` request; ``start`` and ``end`` share one fixed UTC offset."""

    metric: str
    zones: tuple[str, ...]
    filters: Filters
    group_by: tuple[str, ...]
    interval: Interval
    start: datetime
    end: datetime

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "StartTime": self.start.isoformat(timespec="seconds"),
            "EndTime": self.end.isoformat(timespec="seconds"),
            "ZoneIds": list(self.zones),
            "MetricName": self.metric,
            "Interval": self.interval,
        }
        if self.filters:
            # One BillingDataFilter per value: same Type ORs, different Types AND.
            out["Filters"] = [{"Type": kind, "Value": value} for kind, values in self.filters for value in values]
        if self.group_by:
            out["GroupBy"] = list(self.group_by)
        return out


@dataclass(frozen=True)
class Fetch:
    """A question shared by one or more budgets, answered by ``queries`` together."""

    metric: str
    zones: tuple[str, ...]
    filters: Filters
    group_by: tuple[str, ...]
    interval: Interval
    period: Period
    end: datetime  # the instant the data is "as of": now, in whole seconds
    tz: tzinfo
    queries: tuple[Query, ...]
    start: datetime | None = None  # where the requests start, before the period for a lookback (UTC)


@dataclass(frozen=True)
class BudgetPlan:
    """Where one budget's answer comes from and how it is reduced to a value."""

    budget: Budget
    fetch: int  # index into Plan.fetches
    info: MetricInfo
    aggregate: Aggregate
    step: Step  # series granularity: day points for a month, hour points for a day
    period: Period
    since: datetime | None = None  # start (UTC) of the oldest step of history a spike rule needs


@dataclass(frozen=True)
class Plan:
    fetches: tuple[Fetch, ...]
    budgets: tuple[BudgetPlan, ...]

    @property
    def queries(self) -> list[Query]:
        return [q for f in self.fetches for q in f.queries]


def choose_interval(info: MetricInfo, how: Aggregate, period: str, bucket_sums: bool) -> Interval:
    """The coarsest interval that answers the budget (see the module docstring)."""
    if info.family == "bandwidth":
        if period == "day" or how != "max" or bucket_sums:
            return "5min"
        return "day"
    return "day" if period == "month" else "hour"


def normal_zones(zones: Iterable[str]) -> tuple[str, ...]:
    """``("*",)`` when ``*`` is among them, else the sorted distinct ids."""
    found = set(zones)
    if "*" in found or not found:
        return ALL_ZONES
    return tuple(sorted(found))


def normal_filters(filters: dict[str, tuple[str, ...]] | Any) -> Filters:
    return tuple(sorted((str(k), tuple(sorted({str(v) for v in vs}))) for k, vs in dict(filters).items() if vs))


def plan(budgets: Sequence[Budget], now: datetime, tz: tzinfo) -> Plan:
    """Plan the requests for every ``source: teo`` budget in ``budgets`` as of the aware instant ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    groups: dict[tuple[Any, ...], list[tuple[Budget, MetricInfo, Aggregate]]] = {}
    zones_of: dict[tuple[Any, ...], set[str]] = {}
    for budget in budgets:
        if budget.source != "teo":
            continue
        info = metric_info(budget.metric)
        how: Aggregate = budget.aggregate or info.default_aggregate()
        group_by = tuple(sorted(budget.group_by))
        filters = normal_filters(budget.filters)
        zones = normal_zones(budget.zones)
        if "zone-id" in group_by:
            interval = choose_interval(info, how, budget.period, bucket_sums=False)
            # Listed zones merge with listed zones only: sent explicitly, a wrong id is an API error
            # rather than a zone silently missing from a "*" answer.
            key: tuple[Any, ...] = (budget.metric, filters, group_by, budget.period, interval, zones == ALL_ZONES)
        else:
            overlap = not (_ZONE_BOUND & set(group_by)) and len(zones) > MAX_ZONES
            interval = choose_interval(info, how, budget.period, bucket_sums=overlap)
            key = (budget.metric, filters, group_by, budget.period, interval, zones)
        groups.setdefault(key, []).append((budget, info, how))
        zones_of.setdefault(key, set()).update(zones)

    end = now.replace(microsecond=0)
    fetches: list[Fetch] = []
    plans: list[BudgetPlan] = []
    for key, members in groups.items():
        metric, filters, group_by, period_kind, interval = key[:5]
        period = current_period(period_kind, now, tz)
        step: Step = "day" if period_kind == "month" else "hour"
        since = [lookback(b, period, step, tz) for b, _, _ in members]
        # Budgets differing only in lookback share the request: it reaches back as far as the widest.
        start = bucket_start(min([period.start, *(s for s in since if s is not None)]), interval, period.start, tz)
        zones = normal_zones(zones_of[key])
        queries = _queries(metric, zones, filters, group_by, interval, start, end, tz, anchor=period.start)
        fetches.append(Fetch(metric, zones, filters, group_by, interval, period, end, tz, tuple(queries), start))
        plans.extend(
            BudgetPlan(b, len(fetches) - 1, info, how, step, period, s)
            for (b, info, how), s in zip(members, since, strict=True)
        )
    order = {b.name: i for i, b in enumerate(budgets)}
    plans.sort(key=lambda p: order[p.budget.name])
    return Plan(tuple(fetches), tuple(plans))


def _queries(  # noqa: PLR0917 - the fields of one Fetch
    metric: str,
    zones: tuple[str, ...],
    filters: Filters,
    group_by: tuple[str, ...],
    interval: Interval,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    *,
    anchor: datetime | None = None,
) -> list[Query]:
    pieces = windows(start, end, tz, anchor=anchor)
    longest = max(int((b - a).total_seconds()) for a, b in pieces)
    size = zones_per_request(group_by, interval, longest)
    return [Query(metric, chunk, filters, group_by, interval, a, b) for a, b in pieces for chunk in chunks(zones, size)]


def zones_per_request(group_by: Sequence[str], interval: str, seconds: int) -> int:
    """100, or fewer when grouping by zone would make one response too large (5-minute months)."""
    if "zone-id" not in group_by:
        return MAX_ZONES
    buckets = seconds // INTERVAL_SECONDS[interval] + 1
    return max(1, min(MAX_ZONES, MAX_RECORDS // buckets))


def too_big_for_star(query: Query) -> bool:
    """True when ``*`` grouped by zone would answer more records than ``MAX_RECORDS`` allows for 100 zones."""
    seconds = int((query.end - query.start).total_seconds())
    return "zone-id" in query.group_by and zones_per_request(query.group_by, query.interval, seconds) < MAX_ZONES


def chunks(zones: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    if zones == ALL_ZONES:
        return [ALL_ZONES]
    return [zones[i : i + size] for i in range(0, len(zones), size)]


def windows(
    start: datetime, end: datetime, tz: tzinfo, *, anchor: datetime | None = None
) -> list[tuple[datetime, datetime]]:
    """[start, end] (whole seconds) in ≤ 31-day pieces, every piece in the UTC offset valid at ``anchor``
    (default ``start``; the period's start when the window reaches back before it for a lookback).

    One offset for the whole window, even across a daylight-saving change: buckets are aligned to the
    offset of ``StartTime``, and a bucket's value may cover the whole bucket even past the window, so
    pieces in two offsets would count the change day twice. In one offset the pieces meet on bucket
    boundaries and the total is exact; day buckets after the change start an hour off local midnight.
    A piece ends one second before the next begins.
    """
    if end < start:
        raise ValueError("window ends before it starts")
    fixed = fixed_offset(anchor if anchor is not None else start, tz)
    lo, hi = start.astimezone(fixed), end.astimezone(fixed)
    out: list[tuple[datetime, datetime]] = []
    while hi - lo > MAX_WINDOW:
        cut = lo + MAX_WINDOW  # whole days from a bucket boundary: still a bucket boundary
        out.append((lo, cut - _SECOND))
        lo = cut
    out.append((lo, hi))
    return out


def fixed_offset(instant: datetime, tz: tzinfo) -> timezone:
    """The UTC offset in force in ``tz`` at ``instant``, as a fixed zone (what a request is sent in)."""
    return timezone(instant.astimezone(tz).utcoffset() or timedelta(0))


def lookback(budget: Budget, period: Period, step: Step, tz: tzinfo) -> datetime | None:
    """The start (UTC) of the oldest step before ``period`` that the budget's spike rule can compare with.

    Right after the period starts, the latest complete step is the previous period's last one (the
    last day of a month only ends at midnight). Its baseline is the ``window`` steps before it
    (median), or the same local time one day earlier (yesterday, 23 to 25 hours on DST days). None
    without a spike rule: such a budget needs nothing before its period.
    """
    spec = budget.spike
    if spec is None:
        return None
    local = period.start.astimezone(tz)
    if step == "day":
        back = 2 if spec.baseline == "yesterday" else spec.window + 1
        day = local.date() - timedelta(days=back)
        return local_day_start(datetime.combine(day, time(12), tzinfo=tz), tz)
    judged = period.start.astimezone(timezone.utc) - timedelta(hours=1)
    if spec.baseline != "yesterday":
        return judged - timedelta(hours=spec.window)
    # The wall time a day earlier, as the spike rule computes it.
    wall = judged.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    return floor_step(wall.replace(tzinfo=tz), "hour", tz)


def bucket_start(instant: datetime, interval: Interval, anchor: datetime, tz: tzinfo) -> datetime:
    """Where a request that must cover ``instant`` starts, on a bucket of ``anchor``'s UTC offset.

    A lookback reaching across a daylight-saving change starts at a local midnight that is 23:00 or
    01:00 in the period's offset, and the request must start on one of that offset's buckets. Day
    buckets are taken by date (the bucket of the same date, as ``day_of_bucket`` maps them back);
    5-minute and hour buckets by time (the one containing ``instant``).
    """
    fixed = fixed_offset(anchor, tz)
    if interval == "day":
        day = instant.astimezone(tz).date()
        return datetime.combine(day, time(0), tzinfo=fixed).astimezone(timezone.utc)
    local = instant.astimezone(fixed)
    into = (local.hour * 3600 + local.minute * 60 + local.second) % INTERVAL_SECONDS[interval]
    return (local - timedelta(seconds=into, microseconds=local.microsecond)).astimezone(timezone.utc)


def split(query: Query) -> list[Query]:
    """Two halves of a query whose answer had too many groups; [] when its zones cannot be halved."""
    if query.zones == ALL_ZONES or len(query.zones) < 2:
        return []
    half = len(query.zones) // 2
    return [replace(query, zones=query.zones[:half]), replace(query, zones=query.zones[half:])]


def expand(query: Query, zones: Sequence[str]) -> list[Query]:
    """A ``*`` query as requests over the resolved zone ids, 100 (or fewer, see above) at a time."""
    ids = normal_zones(zones) if zones else ()
    if not ids or ids == ALL_ZONES:
        return []
    seconds = int((query.end - query.start).total_seconds())
    size = zones_per_request(query.group_by, query.interval, seconds)
    return [replace(query, zones=chunk) for chunk in chunks(ids, size)]


def day_of_bucket(bucket: datetime, query: Query, tz: tzinfo) -> datetime:
    """The local midnight (UTC) of a ``day`` bucket: the API starts it at midnight in the query's offset."""
    day = bucket.astimezone(query.start.tzinfo).date()
    return local_day_start(datetime.combine(day, time(12), tzinfo=tz), tz)


def local_day_start(instant: datetime, tz: tzinfo) -> datetime:
    return current_period("day", instant, tz).start.astimezone(timezone.utc)


def floor_step(instant: datetime, step: Step, tz: tzinfo) -> datetime:
    """The start (UTC) of the local day or local hour containing ``instant``."""
    if step == "day":
        return local_day_start(instant, tz)
    local = instant.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)
