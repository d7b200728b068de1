"""EdgeOne usage: run the plan concurrently under the client's rate limiter, reduce answers to Observations.

Requests run on a bounded thread pool, paced by ``pacer``: as many at once as the client's per-action
limit allows, then each further one a second after an earlier one's answer (``teo_pace``; the client's
own window stays the backstop). Each answer is folded into compact per-group buckets as soon as it
arrives, and dropped; a fetch is reduced to Observations as soon as its last answer is in, while
others are still in flight.

An answer that says the result has too many groups (the API's 200-group cap) is split and asked
again: a zone list is halved, ``*`` is resolved into zone ids with paginated ``DescribeZones``. A
request that fails otherwise fails the budgets sharing it (and cancels their requests not yet
started); every other budget goes on.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from lib.errors import ApiError, BudgetError, CollectError
from lib.model import Observation
from lib.sources import teo_plan
from lib.sources.failures import Caller
from lib.sources.teo_pace import AnsweredWindow, window_for
from lib.sources.teo_plan import ALL_ZONES, Plan, Query
from lib.sources.teo_quota import Quotas, fetch_plans
from lib.sources.teo_reduce import Reduction

# Re-exported: callers and tests know them as teo.Result and teo.observe.
from lib.sources.teo_reduce import Result as Result  # noqa: PLC0414
from lib.sources.teo_reduce import observe as observe  # noqa: PLC0414

if TYPE_CHECKING:
    from lib.config.models import Budget

log = logging.getLogger("lib.sources")

SERVICE, VERSION = "teo", "2022-09-01"
ACTION = "DescribeBillingData"
MAX_WORKERS = 10  # 50 req/s x ~0.1 s per request leaves headroom; more only adds threads
ZONE_PAGE = 100  # DescribeZones' largest Limit

# Codes that mean "the answer would be too big": the documented 200-group cap has no code of its own
# in the reference; GroupByLimitExceeded is the only group-related one, and we never send more than
# the two dimensions it is documented for, so seeing it means too many groups.
_TOO_MANY = frozenset({"InvalidParameter.GroupByLimitExceeded", "ResponseSizeLimitExceeded"})


def too_many_groups(exc: ApiError) -> bool:
    if exc.code in _TOO_MANY:
        return True
    text = exc.api_message.lower()
    return exc.code.startswith(("LimitExceeded", "InvalidParameter")) and "200" in text and "group" in text


@dataclass
class _Answer:
    data: dict[str, Any] | None = None
    children: list[Query] = field(default_factory=list)


def pacer(client: object, action: str = ACTION) -> AnsweredWindow | None:
    """The client's limit for ``action`` as an ``AnsweredWindow`` (None without a finite limit).

    The client's own window counts send times: 50 at once, the 51st a second after the first was
    sent. A server counting a sliding second refuses that 51st whenever the first reached it later
    than it was sent (measured against the sandbox under load: about three a run), and a refused
    request costs a retry with backoff. Counting until a second after the answer, no jitter can
    bring 51 of this process's requests into one second; it costs, once a run, the time until the
    first answers are in (the 10th answer frees the 60th request's place).
    """
    limiter = getattr(client, "rate_limiter", None)
    limit_for = getattr(limiter, "limit_for", None)
    if limit_for is None:
        return None
    return window_for(float(limit_for(SERVICE, action)))


class Runner:
    """Runs a plan's queries on ``pool``, splitting what comes back too large; one per collect run."""

    def __init__(self, client: Caller, pool: Executor) -> None:
        self.client = client
        self.pool = pool
        self._pace = pacer(client)
        self._zones: list[str] | None = None
        self._zones_error: BudgetError | None = None
        self._zones_lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self._calls_lock = threading.Lock()

    def _call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._calls_lock:
            self.calls[action] = self.calls.get(action, 0) + 1
        return self.client.call(SERVICE, VERSION, action, params)

    def run(
        self,
        plan: Plan,
        on_done: Callable[[int, Result], None] | None = None,
        on_answer: Callable[[int, Query, dict[str, Any]], bool] | None = None,
    ) -> list[Result]:
        """Every fetch's Result; ``on_done(index, result)`` runs (on this thread) as soon as a fetch has
        all its answers, so reducing it overlaps the requests still in flight. ``on_answer(index, query,
        data)`` sees each answer first and returns True when it took the data (it is then not folded in)."""
        results = [Result(f) for f in plan.fetches]
        outstanding = [0] * len(plan.fetches)
        pending: dict[Future[_Answer], tuple[int, Query]] = {}

        def submit(index: int, query: Query) -> None:
            pending[self.pool.submit(self._ask, query)] = (index, query)
            outstanding[index] += 1

        for index, fetch in enumerate(plan.fetches):
            for query in fetch.queries:
                submit(index, query)
        try:
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    index, query = pending.pop(future)
                    outstanding[index] -= 1
                    take = functools.partial(on_answer, index) if on_answer is not None else None
                    self._take(future, query, results[index], submit=functools.partial(submit, index), take=take)
                    if results[index].error is not None:
                        for other, (i, _) in pending.items():
                            if i == index:
                                other.cancel()  # not started yet: spend no requests on a lost cause
                    if outstanding[index] == 0 and on_done is not None:
                        on_done(index, results[index])
        finally:
            for other in pending:
                other.cancel()
        return results

    @staticmethod
    def _take(
        future: Future[_Answer],
        query: Query,
        result: Result,
        *,
        submit: Callable[[Query], None],
        take: Callable[[Query, dict[str, Any]], bool] | None = None,
    ) -> None:
        """Fold one finished request into its fetch's result: data, follow-up requests, or the error."""
        if future.cancelled() or result.error is not None:
            return
        try:
            answer = future.result()
            if answer.children:
                for child in answer.children:
                    submit(child)
            elif answer.data is not None and (take is None or not take(query, answer.data)):
                result.add(query, answer.data)
        except BudgetError as exc:
            result.error = exc

    def _ask(self, query: Query) -> _Answer:
        if query.zones == ALL_ZONES and teo_plan.too_big_for_star(query):
            # "*" grouped by zone over 5-minute months could answer up to 200 x 8,929 records at once:
            # ask per zone list instead, in requests of a bounded size.
            return _Answer(children=teo_plan.expand(query, self.zone_ids()))
        try:
            if self._pace is None:
                return _Answer(data=self._call(ACTION, query.params()))
            with self._pace.slot():
                return _Answer(data=self._call(ACTION, query.params()))
        except ApiError as exc:
            if not too_many_groups(exc):
                raise
            children = teo_plan.split(query)
            if not children and query.zones == ALL_ZONES:
                children = teo_plan.expand(query, self.zone_ids())
            if not children:
                raise  # one zone alone has too many groups: narrow filters or group_by
            return _Answer(children=children)

    def zone_ids(self) -> list[str]:
        """Every zone id of the account (``DescribeZones``, 100 a page), fetched once per run."""
        with self._zones_lock:
            if self._zones_error is not None:
                raise self._zones_error
            if self._zones is None:
                try:
                    self._zones = self._list_zones()
                except BudgetError as exc:
                    self._zones_error = exc
                    raise
            return self._zones

    def _list_zones(self) -> list[str]:
        ids: list[str] = []
        offset = 0
        while True:
            answer = self._call("DescribeZones", {"Offset": offset, "Limit": ZONE_PAGE})
            page = answer.get("Zones") or []
            if not isinstance(page, list):
                raise CollectError("DescribeZones: Zones is not a list")
            for zone in page:
                zone_id = zone.get("ZoneId") if isinstance(zone, dict) else None
                # `*` means the zones bound to a plan: DescribeBillingData refuses a listed zone without
                # one (ZoneHasNotBeenBoundToPlan), and deleted zones have no billing data.
                bound = zone.get("Resources", True) if isinstance(zone, dict) else False
                if zone_id and bound and zone.get("Status") != "deleted":
                    ids.append(str(zone_id))
            offset += ZONE_PAGE
            if not page or offset >= int(answer.get("TotalCount") or 0):
                return ids


def collect(
    budgets: Sequence[Budget],
    client: Caller,
    now: datetime,
    tz: tzinfo,
    pool: Executor | None = None,
) -> list[Observation]:
    """One Observation per (teo budget, group), in budget order."""
    plan = teo_plan.plan(budgets, now, tz)
    if not plan.budgets:
        return []
    if pool is None:
        with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="teo") as own:
            return collect(budgets, client, now, tz, own)
    plans: Future[list[dict[str, Any]]] | None = None
    if any(bp.budget.limit == "plan" for bp in plan.budgets):
        plans = pool.submit(fetch_plans, client)  # in flight with the usage requests
    quotas: list[Quotas | BudgetError] = []

    def quota() -> Quotas | BudgetError | None:
        if plans is None:
            return None
        if not quotas:
            try:
                quotas.append(Quotas(plans.result()))
            except BudgetError as exc:
                quotas.append(exc)
        return quotas[0]

    reduction = Reduction(plan, tz, quota)
    runner = Runner(client, pool)
    runner.run(plan, on_done=reduction.done, on_answer=reduction.answer)
    log.info(
        "teo: %d budgets, %d planned requests; calls: %s",
        len(plan.budgets),
        len(plan.queries),
        ", ".join(f"{n} {action}" for action, n in sorted(runner.calls.items())) or "nothing",
    )
    return reduction.observations()
