"""Billing: month-to-date cost (whole, or by dimension), cost per day, and the available account balance.

- ``cost``, month, no filters or group_by: ``DescribeBillSummaryByProduct`` with ``BeginTime = EndTime =
  "YYYY-MM"``, the bill month in UTC+8 (Tencent's billing clock), whatever the configured time zone. The
  value is ``SummaryTotal.RealTotalCost`` (after discounts, before vouchers: what the month costs); the
  breakdown is ``SummaryOverview[].RealTotalCost`` by product, largest first.
- ``cost``, month, with filters or group_by: ``DescribeBillSummary`` (``lib.sources.billing_dims``).
- ``cost``, day: ``DescribeCostExplorerSummary`` with ``PeriodType=day`` (``lib.sources.billing_daily``).
- ``Ready=0`` (the first bill of the month is still being generated) gives ``ready=False`` and no value:
  not ready, not zero.
- ``balance``: ``DescribeAccountBalance``'s ``RealBalance``, in fen, divided by 100. RealBalance is
  cash + income + gift accounts minus frozen amounts and arrears: what can still pay for postpaid
  usage. ``Balance`` is a compatibility alias of it (used only when RealBalance is absent);
  ``CashAccountBalance`` alone ignores freezes and arrears and would overstate what is left. The
  observation carries the balance as a one-point series stamped with the start of the hour, so the
  series store keeps the last balance each hour's runs saw: the runway rule reads them back.

No request carries ``PayerUin``: every bill asked for is the calling account's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from lib.errors import BudgetError, CollectError
from lib.model import Observation, Point
from lib.periods import current_period
from lib.sources import billing_daily, billing_dims
from lib.sources.billing_catalogue import BILLING_METRICS, NAME
from lib.sources.billing_money import FEN, bill_month, bill_period, currency, money
from lib.sources.catalogue import Metric, Problem
from lib.sources.failures import Caller, failed
from lib.sources.source import PlannedCall

if TYPE_CHECKING:
    from lib.config.models import Budget

SERVICE, VERSION = "billing", "2018-07-09"
COST_ACTION, BALANCE_ACTION = "DescribeBillSummaryByProduct", "DescribeAccountBalance"
_T = TypeVar("_T")

__all__ = ["BILLING_METRICS", "SOURCE", "bill_month", "bill_period", "currency", "money", "parse_balance"]


def parse_cost(answer: dict[str, Any]) -> tuple[bool, Decimal | None, tuple[tuple[str, Decimal], ...]]:
    """(ready, month-to-date cost, breakdown by product largest first) from DescribeBillSummaryByProduct."""
    if str(answer.get("Ready", "")) == "0":
        return False, None, ()
    items = answer.get("SummaryOverview") or []
    if not isinstance(items, list):
        raise CollectError("DescribeBillSummaryByProduct: SummaryOverview is not a list")
    breakdown: list[tuple[str, Decimal]] = []
    for item in items:
        name = str(item.get("BusinessCodeName") or item.get("BusinessCode") or "?")
        amount = money(item.get("RealTotalCost"), f"RealTotalCost of {name}")
        if amount != 0:
            breakdown.append((name, amount))
    breakdown.sort(key=lambda pair: (-pair[1], pair[0]))
    total = answer.get("SummaryTotal")
    if isinstance(total, dict) and total.get("RealTotalCost") is not None:
        value = money(total["RealTotalCost"], "SummaryTotal.RealTotalCost")
    else:  # older answers have no SummaryTotal: the products add up to it
        value = sum((amount for _, amount in breakdown), Decimal(0))
    return True, value, tuple(breakdown)


def parse_balance(answer: dict[str, Any]) -> Decimal:
    """The available balance in yuan from DescribeAccountBalance (fen)."""
    raw = answer.get("RealBalance")
    if raw is None:
        raw = answer.get("Balance")
    if raw is None:
        raise CollectError("DescribeAccountBalance: neither RealBalance nor Balance in the answer")
    return money(raw, "RealBalance") / FEN


def _kind(budget: Budget) -> str:
    """Which request answers a budget: whole-month cost, cost by dimension, cost per day, or balance."""
    if budget.metric == "balance":
        return "balance"
    if budget.period == "day":
        return "daily"
    return "dims" if billing_dims.by_dimension(budget) else "month"


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def plan(budgets: Sequence[Budget], now: datetime) -> list[PlannedCall]:
    """The requests that answer every billing budget: each distinct one once."""
    mine = [b for b in budgets if b.source == NAME and b.metric in BILLING_METRICS]
    kinds = {_kind(b) for b in mine}
    month = bill_month(now)
    calls: list[PlannedCall] = []
    if "month" in kinds:
        calls.append(PlannedCall(SERVICE, VERSION, COST_ACTION, {"BeginTime": month, "EndTime": month}))
    dims = [b for b in mine if _kind(b) == "dims"]
    calls += [PlannedCall(SERVICE, VERSION, billing_dims.ACTION, p) for p in billing_dims.plan(dims, month)]
    daily = {_key(p): p for p in (billing_daily.request(b, now) for b in mine if _kind(b) == "daily")}
    calls += [PlannedCall(SERVICE, VERSION, billing_daily.ACTION, daily[k]) for k in sorted(daily)]
    if "balance" in kinds:
        calls.append(PlannedCall(SERVICE, VERSION, BALANCE_ACTION, {}))
    return calls


class BillingFetch:
    """Starts every billing request on ``pool`` at once; ``observations`` waits for them."""

    def __init__(self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor) -> None:
        self.budgets = [b for b in budgets if b.source == NAME]
        self.now = now
        self.tz = tz
        self.unit = currency(client)
        self._answers: dict[str, Future[dict[str, Any]]] = {}
        for call in plan(self.budgets, now):
            params = dict(call.params)
            if call.action == billing_daily.ACTION:

                def pages(p: dict[str, Any] = params, action: str = call.action) -> dict[str, Any]:
                    return billing_daily.fetch(lambda q: client.call(SERVICE, VERSION, action, q), p)

                future = pool.submit(pages)
            else:
                future = pool.submit(client.call, call.service, call.version, call.action, params)
            self._answers[call.action + _key(params)] = future

    def _answer(
        self, action: str, params: Mapping[str, Any], parse: Callable[[dict[str, Any]], _T]
    ) -> _T | BudgetError:
        future = self._answers.get(action + _key(params))
        if future is None:
            return CollectError(f"{action} was not requested")
        try:
            return parse(future.result())
        except BudgetError as exc:
            return exc

    def observations(self) -> list[Observation]:
        out: list[Observation] = []
        month = bill_month(self.now)
        for budget in self.budgets:
            kind = _kind(budget) if budget.metric in BILLING_METRICS else "unknown"
            if kind == "balance":
                balance = self._answer(BALANCE_ACTION, {}, parse_balance)
                out.extend(self._balance_observation(budget, balance))
            elif kind == "month":
                cost = self._answer(COST_ACTION, {"BeginTime": month, "EndTime": month}, parse_cost)
                out.extend(self._cost_observation(budget, cost))
            elif kind == "dims":
                out.extend(self._dims_observations(budget, month))
            elif kind == "daily":
                out.extend(self._daily_observations(budget))
            else:
                period = current_period(budget.period, self.now, self.tz)
                error = CollectError(f"unknown billing metric {budget.metric!r} (cost, balance)")
                out.extend(failed(budget.name, [()], period, self.unit, error=error, as_of=self.now))
        return out

    def _limit(self, budget: Budget) -> Decimal | None:
        return budget.limit if isinstance(budget.limit, Decimal) else None

    def _cost_observation(
        self, budget: Budget, cost: tuple[bool, Decimal | None, tuple[tuple[str, Decimal], ...]] | BudgetError
    ) -> list[Observation]:
        period = bill_period("month", self.now, self.tz)
        if isinstance(cost, BudgetError):
            return failed(budget.name, [()], period, self.unit, error=cost, as_of=self.now)
        ready, value, breakdown = cost
        return [
            Observation(
                budget=budget.name,
                group=(),
                period=period,
                value=value,
                unit=self.unit,
                breakdown=breakdown,
                limit=self._limit(budget),
                ready=ready,
                as_of=self.now,
            )
        ]

    def _dims_observations(self, budget: Budget, month: str) -> list[Observation]:
        period = bill_period("month", self.now, self.tz)
        key = billing_dims.outer_key(budget)
        params = next(p for p in billing_dims.plan([budget], month) if p["GroupType"] == billing_dims.group_type(key))
        if params["GroupType"] == "tag":  # the one tag request carries every budget's tag keys
            params = next(
                (dict(c.params) for c in plan(self.budgets, self.now) if c.params.get("GroupType") == "tag"), params
            )
        found = self._answer(billing_dims.ACTION, params, billing_dims.parse)
        if isinstance(found, BudgetError):
            return failed(budget.name, [()], period, self.unit, error=found, as_of=self.now)
        ready, rows = found
        if not ready:
            return [Observation(budget.name, (), period, None, self.unit, ready=False, as_of=self.now)]
        limit = self._limit(budget)
        return [
            Observation(budget.name, group, period, value, self.unit, breakdown=top, limit=limit, as_of=self.now)
            for group, (value, top) in sorted(billing_dims.costs(budget, rows).items())
        ]

    def _daily_observations(self, budget: Budget) -> list[Observation]:
        period = bill_period("day", self.now, self.tz)
        params = billing_daily.request(budget, self.now)
        found = self._answer(billing_daily.ACTION, params, lambda answer: billing_daily.series(budget, answer))
        if isinstance(found, BudgetError):
            return failed(budget.name, [()], period, self.unit, error=found, as_of=self.now)
        out = []
        for group, points in sorted(found.items()):
            value, today, earlier = billing_daily.split(points, self.now)
            out.append(
                Observation(
                    budget.name,
                    group,
                    period,
                    value,
                    self.unit,
                    series=today,
                    limit=self._limit(budget),
                    as_of=self.now,
                    history=earlier,
                )
            )
        return out

    def _balance_observation(self, budget: Budget, balance: Decimal | BudgetError) -> list[Observation]:
        period = current_period(budget.period, self.now, self.tz)
        if isinstance(balance, BudgetError):
            return failed(budget.name, [()], period, self.unit, error=balance, as_of=self.now)
        # Recorded by the series store for the runway rule and the charts: one point an hour (a later run in
        # the hour overwrites it), as the balance changes when each hour's usage is charged.
        hour = self.now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        point = (Point(hour, balance),)
        return [Observation(budget.name, (), period, balance, self.unit, series=point, as_of=self.now)]


class BillingSource:
    """``source: billing``: cost (month to date or per day, whole or by dimension) and the account balance."""

    name = NAME
    description = "billing: cost and balance"
    metrics: Mapping[str, Metric] = BILLING_METRICS
    supports_backtest = False
    backtest_note = "billing reports cost and balance only as of now, not for a past instant"

    def check(self, budget: Budget) -> Iterator[Problem]:
        explicit = budget.model_fields_set
        if "zones" in explicit:
            yield ("zones",), "zones applies to source teo only; billing figures are for the whole account"
        if budget.metric == "balance":
            for name in ("filters", "group_by"):
                if name in explicit and getattr(budget, name):
                    yield (name,), f"{name} applies to metric cost; a balance is one figure for the account"
            return
        yield from (billing_daily.problems(budget) if budget.period == "day" else billing_dims.problems(budget))

    def plan(self, budgets: Sequence[Budget], now: datetime, tz: tzinfo) -> list[PlannedCall]:
        del tz  # the bill month and day follow Tencent's billing clock (UTC+8), not the configured zone
        return plan(budgets, now)

    def start(
        self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor
    ) -> BillingFetch:
        return BillingFetch(budgets, client, now, tz, pool)


SOURCE = BillingSource()
