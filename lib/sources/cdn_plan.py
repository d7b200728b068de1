"""Pure planner: the requests that answer every ``source: cdn`` budget, within the API's limits.

Rules, from the cdn 2018-06-06 reference (``DescribeBillingData``, ``DescribeCdnData``):

- ``flux``, ``bandwidth``, ``https`` come from ``DescribeBillingData``: one ``Domain`` per request,
  or none for the whole account (``domains: ["*"]`` without grouping). ``request`` comes from
  ``DescribeCdnData``: up to 30 ``Domains`` per request, ``Detail: true`` when grouped by domain (one
  series per domain), none for the whole account.
- ``Area`` defaults to mainland in the API, so it is always sent; ``area: all`` asks both areas and
  adds them up.
- ``domains: ["*"]`` grouped by domain needs the domain names: ``DescribeDomains`` (paged) resolves
  them at fetch time (``Fetch.expand``). Without grouping, ``*`` is the account and needs no list.
- Times are ``YYYY-MM-DD HH:MM:SS`` with ``TimeZone`` set to the UTC offset in force at the period's
  start (one offset for the whole window, as EdgeOne's planner does, so buckets meet at local
  midnight); buckets are aligned to that offset.
- Interval: ``5min`` and ``hour`` cover at most 31 days a request, ``day`` at most 90. Amounts use
  ``hour`` for a month and ``5min`` for a day: the value and the day/hour series need no finer, and
  billing data is hours late, so a bucket finer than a day is what tells how far the data goes
  ("data up to 13:00") at no extra request. Bandwidth takes ``hour`` (each hour's peak) for the
  default ``max``, and ``5min`` samples for ``p95``/``avg``/``sum`` or when requests are added bucket
  by bucket (two areas, or several domains in one group: peaks do not add up, samples do). A window
  longer than 31 days (a spike rule's lookback) switches ``hour`` to ``day``, in ≤ 90-day pieces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from lib.model import Period
from lib.periods import current_period
from lib.sources.catalogue import Aggregate
from lib.sources.cdn_catalogue import ACTIONS, AREAS, BILLING_ACTION, CDN_METRICS, DOMAINS_ACTION, SOURCE
from lib.sources.teo_plan import bucket_start, fixed_offset, lookback

if TYPE_CHECKING:
    from lib.config.models import Budget

Interval = Literal["5min", "hour", "day"]
Step = Literal["day", "hour"]
INTERVAL_SECONDS: dict[str, int] = {"5min": 300, "hour": 3600, "day": 86400}
MAX_SPAN: dict[str, timedelta] = {"5min": timedelta(days=31), "hour": timedelta(days=31), "day": timedelta(days=90)}
MAX_DOMAINS = 30  # DescribeCdnData Domains per request
DOMAIN_PAGE = 1000  # DescribeDomains' largest Limit
ALL = ("*",)
_SECOND = timedelta(seconds=1)


def time_text(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M:%S")


def zone_text(offset: timedelta) -> str:
    """``UTC+08:00`` / ``UTC-03:30``: the API's ``TimeZone``."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


@dataclass(frozen=True)
class Query:
    """One request; ``start`` and ``end`` share one fixed UTC offset (sent as ``TimeZone``)."""

    action: str
    metric: str
    area: str
    interval: Interval
    start: datetime
    end: datetime
    domains: tuple[str, ...] = ()  # billing: one domain or none (the account); data: up to 30 or none
    detail: bool = False

    def params(self) -> dict[str, Any]:
        offset = self.start.utcoffset() or timedelta(0)
        out: dict[str, Any] = {
            "StartTime": time_text(self.start),
            "EndTime": time_text(self.end),
            "Interval": self.interval,
            "Metric": self.metric,
            "Area": self.area,
            "TimeZone": zone_text(offset),
        }
        if self.action == BILLING_ACTION:
            if self.domains:
                out["Domain"] = self.domains[0]
        elif self.domains:
            out["Domains"] = list(self.domains)
            if self.detail:
                out["Detail"] = True
        return out


@dataclass(frozen=True)
class Fetch:
    """A question shared by budgets: one metric over some domains and areas, answered by ``queries``."""

    action: str
    metric: str
    domains: tuple[str, ...]  # sorted names, or ALL
    grouped: bool  # one series per domain
    areas: tuple[str, ...]
    interval: Interval
    period: Period
    start: datetime  # UTC, on a bucket boundary (before the period for a lookback)
    end: datetime  # now, whole seconds (UTC)
    tz: tzinfo
    step: Step  # series granularity: day points for a month, hour points for a day
    queries: tuple[Query, ...]  # empty while ``*`` still has to be resolved

    @property
    def needs_domains(self) -> bool:
        return self.domains == ALL and self.grouped

    @property
    def raw(self) -> bool:
        """Bandwidth samples kept bucket by bucket (p95/avg/sum, or added across requests)."""
        return self.metric == "bandwidth" and self.interval == "5min"

    def expand(self, names: Iterable[str]) -> tuple[Query, ...]:
        """The queries of a ``*`` fetch once the account's domain names are known."""
        return _queries(self, tuple(sorted(set(names))))


@dataclass(frozen=True)
class BudgetPlan:
    """Where one budget's answer comes from and how it is reduced to a value."""

    budget: Budget
    fetch: int  # index into Plan.fetches
    unit: str
    aggregate: Aggregate
    step: Step
    period: Period
    since: datetime | None = None  # start (UTC) of the oldest step a spike rule needs


@dataclass(frozen=True)
class Plan:
    fetches: tuple[Fetch, ...]
    budgets: tuple[BudgetPlan, ...]

    @property
    def queries(self) -> list[Query]:
        return [q for f in self.fetches for q in f.queries]


def normal_domains(domains: Iterable[str]) -> tuple[str, ...]:
    found = set(domains)
    return ALL if "*" in found or not found else tuple(sorted(found))


def areas_of(area: str) -> tuple[str, ...]:
    return tuple(AREAS) if area == "all" else (area,)


def choose_interval(metric: str, how: Aggregate, period: str, bucket_sums: bool, span: timedelta) -> Interval:
    """The coarsest interval that answers the budget and says how far its data goes (module docstring)."""
    if metric == "bandwidth":
        interval: Interval = "5min" if how != "max" or bucket_sums else "hour"
    else:
        interval = "hour" if period == "month" else "5min"
    if interval == "hour" and span > MAX_SPAN["hour"]:
        return "day"
    return interval


def plan(budgets: Sequence[Budget], now: datetime, tz: tzinfo) -> Plan:
    """Plan the requests for every ``source: cdn`` budget in ``budgets`` as of the aware instant ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    end = now.replace(microsecond=0).astimezone(timezone.utc)
    keys: dict[tuple[Any, ...], int] = {}
    fetches: list[Fetch] = []
    plans: list[BudgetPlan] = []
    for budget in budgets:
        if budget.source != SOURCE:
            continue
        metric = CDN_METRICS[budget.metric]
        how: Aggregate = budget.aggregate or metric.default_aggregate
        period = current_period(budget.period, now, tz)
        step: Step = "day" if budget.period == "month" else "hour"
        since = lookback(budget, period, step, tz)
        earliest = min(period.start, since) if since is not None else period.start
        domains = normal_domains(budget.domains)
        grouped = "domain" in budget.group_by
        areas = areas_of(budget.area)
        sums = len(areas) > 1 or (not grouped and domains != ALL and len(domains) > 1)
        span = end - earliest.astimezone(timezone.utc)
        interval = choose_interval(budget.metric, how, budget.period, sums, span)
        start = bucket_start(earliest, interval, period.start, tz)
        key = (budget.metric, domains, grouped, areas, interval, budget.period, start)
        index = keys.get(key)
        if index is None:
            index = keys[key] = len(fetches)
            action = ACTIONS[budget.metric]
            fetch = Fetch(action, budget.metric, domains, grouped, areas, interval, period, start, end, tz, step, ())
            fetches.append(fetch if fetch.needs_domains else replace(fetch, queries=_queries(fetch, domains)))
        plans.append(BudgetPlan(budget, index, metric.unit, how, step, period, since))
    return Plan(tuple(fetches), tuple(plans))


def _queries(fetch: Fetch, domains: tuple[str, ...]) -> tuple[Query, ...]:
    pieces = windows(fetch.start, fetch.end, fetch.interval, fetch.tz, anchor=fetch.period.start)
    if domains == ALL:
        batches: list[tuple[str, ...]] = [()]  # the whole account
    elif fetch.action == BILLING_ACTION:
        batches = [(d,) for d in domains]
    else:
        batches = [domains[i : i + MAX_DOMAINS] for i in range(0, len(domains), MAX_DOMAINS)]
    detail = fetch.grouped and fetch.action != BILLING_ACTION
    return tuple(
        Query(fetch.action, fetch.metric, area, fetch.interval, a, b, batch, detail)
        for batch in batches
        for area in fetch.areas
        for a, b in pieces
    )


def windows(
    start: datetime, end: datetime, interval: Interval, tz: tzinfo, *, anchor: datetime
) -> list[tuple[datetime, datetime]]:
    """[start, end] in pieces the interval allows (31 or 90 days), all in the UTC offset of ``anchor``;
    a piece ends one second before the next begins, and pieces meet on bucket boundaries."""
    if end < start:
        raise ValueError("window ends before it starts")
    fixed = fixed_offset(anchor, tz)
    lo, hi = start.astimezone(fixed), end.astimezone(fixed)
    most = MAX_SPAN[interval]
    out: list[tuple[datetime, datetime]] = []
    while hi - lo > most:
        out.append((lo, lo + most - _SECOND))
        lo += most
    out.append((lo, hi))
    return out


def domain_page(offset: int) -> dict[str, Any]:
    """One ``DescribeDomains`` page request."""
    return {"Offset": offset, "Limit": DOMAIN_PAGE}


__all__ = ["DOMAINS_ACTION", "Fetch", "Plan", "Query", "plan"]
