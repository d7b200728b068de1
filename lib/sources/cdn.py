"""CDN usage: run the plan's requests on the shared pool under a pace, fold answers, reduce to Observations.

Requests go out on the collect pool as soon as the fetch starts, paced at 90 % of the client's limit
per action (20/s documented; the client's own bucket stays the backstop, see ``teo.pacer``). Identical
requests of different budgets are sent once. The worker that fetched an answer folds it into the
day/hour steps of every fetch that asked it and drops it, so memory holds steps, not answers. ``*``
grouped by domain waits for ``DescribeDomains`` (paged, once per run) and then asks per domain. A
request that fails fails every budget that needed it, never reads as zero.

Freshness: billing data is hours late and a late bucket is answered as 0. A bucket is never read as
"nothing used" because it is 0 near the end of the window: the zeros after the last bucket with data
add nothing to the value, they are left out of the series, and the Observation says how far the data
goes (``data_until``, "data up to 13:35") unless it reaches the running bucket. A run of zeros older
than the action's longest documented lag (``LAG``) is real: the domain served nothing.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from datetime import time as clock_time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from lib.client.ratelimit import TokenBucket
from lib.errors import BudgetError, CollectError
from lib.model import GroupKey, Observation, Point, group_key
from lib.sources import cdn_plan
from lib.sources.catalogue import Aggregate
from lib.sources.cdn_catalogue import BILLING_ACTION, DATA_ACTION, DOMAINS_ACTION, SERVICE, VERSION
from lib.sources.cdn_plan import ALL, INTERVAL_SECONDS, BudgetPlan, Fetch, Plan, Query
from lib.sources.failures import Caller, failed
from lib.sources.metrics import aggregate
from lib.sources.numbers import number
from lib.sources.teo_plan import floor_step, local_day_start

if TYPE_CHECKING:
    from lib.config.models import Budget

log = logging.getLogger("lib.sources")

# Share of the client's per-action limit sent at (teo.pacer says why not all of it). At 20/s, 95 % left
# one request a second for jitter and the sandbox still refused about one in 90 (bench_cdn); 90 % none.
PACE = 0.90
# Longest documented delay of each action's data: billing data of monthly-settled accounts is up to
# 28 hours late (hourly-settled: 3-5 hours); access monitoring data minutes. Zeros older than this
# are real, not late.
LAG: dict[str, timedelta] = {BILLING_ACTION: timedelta(hours=28), DATA_ACTION: timedelta(hours=1)}
Series = dict[datetime, Decimal]
Parsed = list[tuple[str, list[tuple[datetime, Decimal]]]]


def pacers(client: object) -> dict[str, TokenBucket]:
    """A bucket per action at ``PACE`` of the client's limit (none for a client without a finite one)."""
    limit_for = getattr(getattr(client, "rate_limiter", None), "limit_for", None)
    out: dict[str, TokenBucket] = {}
    if limit_for is None:
        return out
    for action in (BILLING_ACTION, DATA_ACTION, DOMAINS_ACTION):
        limit = float(limit_for(SERVICE, action))
        if math.isfinite(limit) and limit > 0:
            out[action] = TokenBucket(limit * PACE)
    return out


def parse_answer(query: Query, data: dict[str, Any], times: dict[str, datetime]) -> Parsed:
    """``[(resource, [(bucket start UTC, value)])]`` from a DescribeBillingData/DescribeCdnData answer."""
    member = "BillingData" if query.action == BILLING_ACTION else "CdnData"
    resources = data.get("Data")
    if resources is None:
        return []
    if not isinstance(resources, list):
        raise CollectError(f"{query.action}: Data is not a list")
    offset = query.start.tzinfo
    values: dict[int, Decimal] = {}  # zeros and repeats share one Decimal
    out: Parsed = []
    for resource in resources:
        try:
            name = str(resource["Resource"])
            rows: list[tuple[datetime, Decimal]] = []
            for item in resource.get(member) or []:
                if item.get("Metric") not in (None, query.metric):
                    continue
                for point in item.get("DetailData") or []:
                    raw = str(point["Time"])
                    when = times.get(raw)
                    if when is None:
                        local = datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=offset)
                        when = times[raw] = local.astimezone(timezone.utc)
                    raw_value = point["Value"]
                    value = values.get(raw_value) if type(raw_value) is int else None
                    if value is None:
                        value = number(raw_value)
                        if type(raw_value) is int:
                            values[raw_value] = value
                    rows.append((when, value))
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
            raise CollectError(f"{query.action}: unexpected answer {str(resource)[:200]}") from exc
        out.append((name, rows))
    return out


@dataclass
class Result:
    """What one Fetch produced: per group (domain, or "" for one figure) per step or per bucket."""

    fetch: Fetch
    groups: dict[str, Series] = field(default_factory=dict)
    last: datetime | None = None  # end of the latest bucket with data (UTC)
    error: BudgetError | None = None
    _steps: dict[datetime, datetime] = field(default_factory=dict)
    _last_step: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # A bucket in the offset the period started with can begin after its last local step (the
        # last hour of a month that ended daylight saving): it counts in that last step.
        self._last_step = floor_step(self.fetch.period.end - timedelta(seconds=1), self.fetch.step, self.fetch.tz)

    def step_of(self, when: datetime, query: Query) -> datetime:
        found = self._steps.get(when)
        if found is None:
            tz = self.fetch.tz
            if query.interval == "day":  # labelled midnight in the query's offset: that date's local day
                day = when.astimezone(query.start.tzinfo).date()
                found = local_day_start(datetime.combine(day, clock_time(12), tzinfo=tz), tz)
            else:
                found = floor_step(when, self.fetch.step, tz)
            assert self._last_step is not None
            found = self._steps[when] = min(found, self._last_step)
        return found

    def fail(self, error: BudgetError) -> None:
        with self._lock:
            self.error = self.error or error

    def add(self, query: Query, parsed: Parsed) -> None:
        """Fold one answer in (workers call this concurrently)."""
        with self._lock:
            if self.error is None:
                self._add(query, parsed)

    def _add(self, query: Query, parsed: Parsed) -> None:
        fetch = self.fetch
        wanted = None if fetch.domains == ALL else set(fetch.domains)
        width = timedelta(seconds=INTERVAL_SECONDS[query.interval])
        peak = fetch.metric == "bandwidth"
        for resource, rows in parsed:
            if not fetch.grouped:
                group = ""
            elif query.action == BILLING_ACTION and query.domains:
                group = query.domains[0]  # one domain asked: its answer, whatever the label
            else:
                group = resource
            if wanted is not None and group and group not in wanted:
                continue
            slot = self.groups.setdefault(group, {})
            for when, value in rows:
                if value and query.interval != "day" and (self.last is None or when + width > self.last):
                    self.last = when + width
                key = when if fetch.raw else self.step_of(when, query)
                old = slot.get(key)
                if old is None:
                    slot[key] = value
                elif peak and not fetch.raw:
                    slot[key] = max(old, value)  # hourly peaks of one series: the step's peak
                else:
                    slot[key] = old + value  # amounts, and 5-minute samples of several requests


def data_until(result: Result) -> datetime | None:
    """How far the data goes when that is short of now (see the module docstring); None when current."""
    fetch = result.fetch
    if result.last is None:
        return None
    until = max(result.last, fetch.end - LAG[fetch.action])
    bucket = timedelta(seconds=INTERVAL_SECONDS[fetch.interval])
    return None if until > fetch.end - bucket else until


class Runner:
    """Sends each distinct request once on ``pool`` and folds its answer, in the worker, into every Result
    that asked it; nothing but the folded buckets outlives an answer."""

    def __init__(self, client: Caller, pool: Executor) -> None:
        self.client, self.pool = client, pool
        self._pace = pacers(client)
        self._users: dict[str, list[Result]] = {}
        self._done: set[str] = set()
        self._times: dict[str, dict[str, datetime]] = {}
        self._domains: Future[list[str]] | None = None
        self.futures: list[Future[None]] = []
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def _call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self._pace.get(action)
        if bucket is not None:
            wait = bucket.reserve()
            if wait > 0:
                time.sleep(wait)
        with self._lock:
            self.calls[action] = self.calls.get(action, 0) + 1
        return self.client.call(SERVICE, VERSION, action, params)

    def ask(self, wanted: Sequence[tuple[Query, Result]]) -> None:
        """Have each query answered into its Result; identical queries share one request (all of
        ``wanted`` are registered before any is sent, so sharing among them never races an answer)."""
        new: list[tuple[str, Query, dict[str, Any], dict[str, datetime]]] = []
        with self._lock:
            for query, result in wanted:
                params = query.params()
                key = f"{query.action} {json.dumps(params, sort_keys=True)}"
                users = self._users.get(key)
                if users is not None and key not in self._done:
                    users.append(result)
                    continue
                self._users[key] = [result]  # new, or answered already: ask again rather than keep answers
                self._done.discard(key)
                new.append((key, query, params, self._times.setdefault(params["TimeZone"], {})))
        self.futures.extend(self.pool.submit(self._ask, *item) for item in new)

    def _ask(self, key: str, query: Query, params: dict[str, Any], times: dict[str, datetime]) -> None:
        with self._lock:
            users = self._users[key]
            if all(r.error is not None for r in users):
                self._done.add(key)
                return  # every budget that needed it has failed: spend no request on a lost cause
        try:
            parsed = parse_answer(query, self._call(query.action, params), times)
        except BudgetError as exc:
            with self._lock:
                self._done.add(key)
            for result in users:
                result.fail(exc)
            return
        with self._lock:
            self._done.add(key)  # no one joins from here on: the list below is final
        for result in users:
            result.add(query, parsed)

    def domains(self) -> Future[list[str]]:
        if self._domains is None:
            self._domains = self.pool.submit(self._list_domains)
        return self._domains

    def _list_domains(self) -> list[str]:
        names: list[str] = []
        offset = 0
        while True:
            answer = self._call(DOMAINS_ACTION, cdn_plan.domain_page(offset))
            page = answer.get("Domains") or []
            if not isinstance(page, list):
                raise CollectError(f"{DOMAINS_ACTION}: Domains is not a list")
            for item in page:
                if not isinstance(item, dict) or not item.get("Domain"):
                    raise CollectError(f"{DOMAINS_ACTION}: unexpected domain {str(item)[:200]}")
                # ecdn domains are another product's; deleted ones have no data left to budget.
                if item.get("Product", "cdn") == "cdn" and item.get("Status") != "deleted":
                    names.append(str(item["Domain"]))
            offset += cdn_plan.DOMAIN_PAGE
            if not page or offset >= int(answer.get("TotalNumber") or 0):
                return names


class CdnFetch:
    """The requests of every cdn budget, started at once; ``observations`` waits for them and reduces."""

    def __init__(self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor) -> None:
        self.tz = tz
        self.plan: Plan = cdn_plan.plan(budgets, now, tz)
        self.runner = Runner(client, pool)
        self.results = [Result(f) for f in self.plan.fetches]
        if any(f.needs_domains for f in self.plan.fetches):
            self.runner.domains()
        pairs = zip(self.plan.fetches, self.results, strict=True)
        self.runner.ask([(query, result) for fetch, result in pairs for query in fetch.queries])

    def observations(self) -> list[Observation]:
        if not self.plan.budgets:
            return []
        for fetch, result in zip(self.plan.fetches, self.results, strict=True):
            if fetch.needs_domains:
                self._resolve(fetch, result)
        for future in self.runner.futures:
            future.result()  # a BudgetError is in its Results already; anything else is a bug to raise
        out = [obs for bp in self.plan.budgets for obs in observe(bp, self.results[bp.fetch], self.tz)]
        log.info(
            "cdn: %d budgets, %d planned requests; calls: %s",
            len(self.plan.budgets),
            len(self.plan.queries),
            ", ".join(f"{n} {action}" for action, n in sorted(self.runner.calls.items())) or "nothing",
        )
        return out

    def _resolve(self, fetch: Fetch, result: Result) -> None:
        """Ask the per-domain requests of a ``*`` fetch once the domain list is in."""
        try:
            names = self.runner.domains().result()
        except BudgetError as exc:
            result.fail(exc)
            return
        for name in names:  # asked and answered: a domain without records used nothing
            result.groups.setdefault(name, {})
        self.runner.ask([(query, result) for query in fetch.expand(names)])


def observe(bp: BudgetPlan, result: Result, tz: tzinfo) -> list[Observation]:
    """The Observations of one budget from its fetch's result."""
    budget, fetch = bp.budget, result.fetch
    listed = None if fetch.domains == ALL else fetch.domains
    if result.error is not None:
        groups: list[GroupKey] = [group_key({"domain": d}) for d in listed] if fetch.grouped and listed else [()]
        return failed(budget.name, groups, bp.period, bp.unit, error=result.error, as_of=fetch.end)
    if fetch.grouped:
        names = set(result.groups) | set(listed or ())
        found = {group_key({"domain": n}): result.groups.get(n, {}) for n in names}
    else:
        found = {(): result.groups.get("", {})}
    until = data_until(result)
    start = bp.period.start
    out: list[Observation] = []
    for key in sorted(found):
        slot = found[key]
        period_values = [slot[t] for t in sorted(slot) if t >= start]
        if fetch.raw:
            value = aggregate(bp.aggregate, period_values)
            points = _steps(slot, bp, tz)
        else:
            how: Aggregate = "sum" if fetch.metric != "bandwidth" else "max"
            value = aggregate(how, period_values)
            points = tuple(Point(t, slot[t]) for t in sorted(slot))
        if until is not None:  # steps that only hold buckets not reported yet are missing, not zero
            points = tuple(p for p in points if p.time < until)
        out.append(
            Observation(
                budget=budget.name,
                group=key,
                period=bp.period,
                value=value,
                unit=bp.unit,
                series=tuple(p for p in points if p.time >= start),
                as_of=fetch.end,
                history=tuple(p for p in points if bp.since is not None and bp.since <= p.time < start),
                data_until=until,
            )
        )
    return out


def _steps(slot: Series, bp: BudgetPlan, tz: tzinfo) -> tuple[Point, ...]:
    """5-minute samples reduced per day/hour step with the budget's aggregate."""
    found: dict[datetime, list[Decimal]] = {}
    last = floor_step(bp.period.end - timedelta(seconds=1), bp.step, tz)
    for when in sorted(slot):
        found.setdefault(min(floor_step(when, bp.step, tz), last), []).append(slot[when])
    return tuple(Point(t, aggregate(bp.aggregate, values)) for t, values in sorted(found.items()))


def collect(budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor) -> list[Observation]:
    """One Observation per (cdn budget, group), in budget order."""
    return CdnFetch(budgets, client, now, tz, pool).observations()
