"""CDN usage: run the plan's requests on the shared pool under a pace, fold answers, reduce to Observations.

Requests go out on the collect pool as soon as the fetch starts, paced at 90 % of the client's limit
per action (20/s documented; the client's own bucket stays the backstop, see ``teo.pacer``). Identical
requests of different budgets are sent once. ``*`` grouped by domain waits for ``DescribeDomains``
(paged, once per run) and then asks per domain. A request that fails fails every budget that needed
it, never reads as zero.

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
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
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
from lib.sources.teo import number
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
                    rows.append((when, number(point["Value"])))
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

    def add(self, query: Query, parsed: Parsed) -> None:
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
    """Sends each distinct request once on ``pool``; the answers wait, parsed, for ``Fetcher.observations``."""

    def __init__(self, client: Caller, pool: Executor) -> None:
        self.client, self.pool = client, pool
        self._pace = pacers(client)
        self._futures: dict[str, Future[Parsed]] = {}
        self._times: dict[str, dict[str, datetime]] = {}
        self._domains: Future[list[str]] | None = None
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

    def ask(self, query: Query) -> Future[Parsed]:
        params = query.params()
        key = f"{query.action} {json.dumps(params, sort_keys=True)}"
        found = self._futures.get(key)
        if found is None:
            times = self._times.setdefault(params["TimeZone"], {})
            found = self._futures[key] = self.pool.submit(self._ask, query, params, times)
        return found

    def _ask(self, query: Query, params: dict[str, Any], times: dict[str, datetime]) -> Parsed:
        return parse_answer(query, self._call(query.action, params), times)

    def forget(self) -> None:
        """Drop the answers kept for sharing: every request of the run has been asked."""
        self._futures.clear()

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
    """The requests of every cdn budget, started at once; ``observations`` folds and reduces them."""

    def __init__(self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor) -> None:
        self.tz = tz
        self.plan: Plan = cdn_plan.plan(budgets, now, tz)
        self.runner = Runner(client, pool)
        self.asked: list[list[tuple[Query, Future[Parsed]]]] = []
        for fetch in self.plan.fetches:
            if fetch.needs_domains:
                self.runner.domains()
            self.asked.append([(q, self.runner.ask(q)) for q in fetch.queries])

    def observations(self) -> list[Observation]:
        if not self.plan.budgets:
            return []
        results = [Result(f) for f in self.plan.fetches]
        self._resolve(results)
        self._fold(results)
        out = [obs for bp in self.plan.budgets for obs in observe(bp, results[bp.fetch], self.tz)]
        log.info(
            "cdn: %d budgets, %d planned requests; calls: %s",
            len(self.plan.budgets),
            len(self.plan.queries),
            ", ".join(f"{n} {action}" for action, n in sorted(self.runner.calls.items())) or "nothing",
        )
        return out

    def _resolve(self, results: list[Result]) -> None:
        """Ask the per-domain requests of ``*`` fetches once the domain list is in."""
        for index, fetch in enumerate(self.plan.fetches):
            if fetch.needs_domains:
                try:
                    names = self.runner.domains().result()
                except BudgetError as exc:
                    results[index].error = exc
                    continue
                self.asked[index] = [(q, self.runner.ask(q)) for q in fetch.expand(names)]
                for name in names:  # asked and answered: a domain without records used nothing
                    results[index].groups.setdefault(name, {})

    def _fold(self, results: list[Result]) -> None:
        # Fold each answer into every fetch that asked it as soon as it arrives, then let it go: held
        # until the end, 600 parsed month answers would take more memory than an SCF instance has.
        waiting: dict[Future[Parsed], list[tuple[Result, Query]]] = {}
        for result, asked in zip(results, self.asked, strict=True):
            for query, future in asked:
                waiting.setdefault(future, []).append((result, query))
        self.asked = []
        self.runner.forget()
        while waiting:
            done, _ = wait(list(waiting), return_when=FIRST_COMPLETED)
            for future in done:
                users = waiting.pop(future)
                try:
                    parsed = future.result()
                except BudgetError as exc:
                    for result, _ in users:
                        result.error = result.error or exc
                    continue
                for result, query in users:
                    if result.error is None:
                        result.add(query, parsed)
            for future, users in waiting.items():
                if all(result.error is not None for result, _ in users):
                    future.cancel()  # not started yet: spend no requests on a lost cause


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
