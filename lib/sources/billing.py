"""Billing: month-to-date cost with its per-product breakdown, and the available account balance.

- ``cost``: ``DescribeBillSummaryByProduct`` with ``BeginTime = EndTime = "YYYY-MM"``, the bill month
  in UTC+8 (Tencent's billing clock), whatever the configured time zone. The value is
  ``SummaryTotal.RealTotalCost`` (after discounts, before vouchers: what the month costs); the
  breakdown is ``SummaryOverview[].RealTotalCost`` by product, largest first. ``Ready=0`` (the first
  bill of the month is still being generated) gives ``ready=False`` and no value: not ready, not zero.
- ``balance``: ``DescribeAccountBalance``'s ``RealBalance``, in fen, divided by 100. RealBalance is
  cash + income + gift accounts minus frozen amounts and arrears: what can still pay for postpaid
  usage. ``Balance`` is a compatibility alias of it (used only when RealBalance is absent);
  ``CashAccountBalance`` alone ignores freezes and arrears and would overstate what is left.

Money is Decimal from end to end: amounts arrive as strings of yuan or integers of fen, and
``Decimal(str(x))`` is exact for anything the JSON parser produced from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from lib.errors import BudgetError, CollectError
from lib.model import Observation, Period
from lib.periods import current_period
from lib.sources.catalogue import Metric, Problem
from lib.sources.failures import Caller, failed
from lib.sources.source import PlannedCall

if TYPE_CHECKING:
    from lib.config.models import Budget

NAME = "billing"
SERVICE, VERSION = "billing", "2018-07-09"
BILLING_TZ = timezone(timedelta(hours=8), "UTC+8")
FEN = Decimal(100)
COST_ACTION, BALANCE_ACTION = "DescribeBillSummaryByProduct", "DescribeAccountBalance"
_T = TypeVar("_T")

BILLING_METRICS: dict[str, Metric] = {
    "cost": Metric(NAME, "cost", "CNY", True, "month-to-date cost in the account's currency", periods=("month",)),
    "balance": Metric(NAME, "balance", "CNY", False, "available balance in the account's currency", remaining=True),
}


def currency(client: object) -> str:
    """The account currency: CNY on the China site, USD on the international site."""
    return "USD" if getattr(client, "site", "cn") == "intl" else "CNY"


def bill_month(now: datetime) -> str:
    return now.astimezone(BILLING_TZ).strftime("%Y-%m")


def bill_period(now: datetime, tz: tzinfo) -> Period:
    """The UTC+8 bill month containing ``now``, expressed in the configured zone."""
    month = current_period("month", now, BILLING_TZ)
    return Period(month.start.astimezone(tz), month.end.astimezone(tz))


def money(raw: Any, what: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise CollectError(f"{what} is not an amount: {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise CollectError(f"{what} is not an amount: {raw!r}") from exc
    if not value.is_finite():
        raise CollectError(f"{what} is not an amount: {raw!r}")
    return value


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


def plan(budgets: Sequence[Budget], now: datetime) -> list[PlannedCall]:
    """The (at most two) requests that answer every billing budget: one bill summary, one balance."""
    mine = [b for b in budgets if b.source == NAME]
    calls: list[PlannedCall] = []
    if any(b.metric == "cost" and b.period == "month" for b in mine):
        month = bill_month(now)
        calls.append(PlannedCall(SERVICE, VERSION, COST_ACTION, {"BeginTime": month, "EndTime": month}))
    if any(b.metric == "balance" for b in mine):
        calls.append(PlannedCall(SERVICE, VERSION, BALANCE_ACTION, {}))
    return calls


class BillingFetch:
    """Starts the (at most two) billing requests on ``pool`` at once; ``observations`` waits for them."""

    def __init__(self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor) -> None:
        self.budgets = [b for b in budgets if b.source == NAME]
        self.now = now
        self.tz = tz
        self.unit = currency(client)
        self._cost: Future[dict[str, Any]] | None = None
        self._balance: Future[dict[str, Any]] | None = None
        for call in plan(self.budgets, now):
            future = pool.submit(client.call, call.service, call.version, call.action, dict(call.params))
            if call.action == COST_ACTION:
                self._cost = future
            else:
                self._balance = future

    def observations(self) -> list[Observation]:
        cost = _settle(self._cost, parse_cost)
        balance = _settle(self._balance, parse_balance)
        out: list[Observation] = []
        for budget in self.budgets:
            if budget.metric == "cost":
                out.extend(self._cost_observation(budget, cost))
            elif budget.metric == "balance":
                out.extend(self._balance_observation(budget, balance))
            else:
                period = current_period(budget.period, self.now, self.tz)
                error = CollectError(f"unknown billing metric {budget.metric!r} (cost, balance)")
                out.extend(failed(budget.name, [()], period, self.unit, error=error, as_of=self.now))
        return out

    def _cost_observation(
        self, budget: Budget, cost: tuple[bool, Decimal | None, tuple[tuple[str, Decimal], ...]] | BudgetError | None
    ) -> list[Observation]:
        period = bill_period(self.now, self.tz)
        if budget.period != "month":
            period = current_period(budget.period, self.now, self.tz)
            error = CollectError("cost is billed by month; use period: month")
            return failed(budget.name, [()], period, self.unit, error=error, as_of=self.now)
        if cost is None:  # not planned: only a month budget asks for the bill
            cost = CollectError("the bill summary was not requested")
        if isinstance(cost, BudgetError):
            return failed(budget.name, [()], period, self.unit, error=cost, as_of=self.now)
        ready, value, breakdown = cost
        limit = budget.limit if isinstance(budget.limit, Decimal) else None
        return [
            Observation(
                budget=budget.name,
                group=(),
                period=period,
                value=value,
                unit=self.unit,
                breakdown=breakdown,
                limit=limit,
                ready=ready,
                as_of=self.now,
            )
        ]

    def _balance_observation(self, budget: Budget, balance: Decimal | BudgetError | None) -> list[Observation]:
        period = current_period(budget.period, self.now, self.tz)
        if balance is None:
            balance = CollectError("the balance was not requested")
        if isinstance(balance, BudgetError):
            return failed(budget.name, [()], period, self.unit, error=balance, as_of=self.now)
        return [Observation(budget.name, (), period, balance, self.unit, as_of=self.now)]


def _settle(future: Future[dict[str, Any]] | None, parse: Callable[[dict[str, Any]], _T]) -> _T | BudgetError | None:
    """The parsed answer, or the error it met (typed: the caller turns it into the Observation's failure)."""
    if future is None:
        return None
    try:
        return parse(future.result())
    except BudgetError as exc:
        return exc


class BillingSource:
    """``source: billing``: month-to-date cost and the account balance, as of now only."""

    name = NAME
    description = "billing: cost and balance"
    metrics: Mapping[str, Metric] = BILLING_METRICS
    supports_backtest = False
    backtest_note = "billing reports cost and balance only as of now, not for a past instant"

    def check(self, budget: Budget) -> Iterator[Problem]:
        explicit = budget.model_fields_set
        for name in ("zones", "filters", "group_by"):
            if name in explicit:
                yield (name,), f"{name} applies to source teo only; billing figures are for the whole account"

    def plan(self, budgets: Sequence[Budget], now: datetime, tz: tzinfo) -> list[PlannedCall]:
        del tz  # the bill month follows Tencent's billing clock (UTC+8), not the configured zone
        return plan(budgets, now)

    def start(
        self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor
    ) -> BillingFetch:
        return BillingFetch(budgets, client, now, tz, pool)


SOURCE = BillingSource()
