"""What a source says about each metric it offers: unit, aggregation, groupings; one entry type for all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Aggregate = Literal["max", "p95", "avg", "sum"]
PeriodKind = Literal["day", "month"]
# A configuration problem a source finds in a budget: the key path under the budget, and the message.
Problem = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class Metric:
    """One metric of a source's catalogue."""

    source: str
    name: str
    unit: str  # base unit: B, bps, count, s, ms, CNY
    cumulative: bool  # sums over the period (traffic, requests, cost) rather than a level (peak, balance)
    description: str
    plan_quota: str | None = None  # DescribePlans field usable as ``limit: plan``
    aggregates: tuple[Aggregate, ...] = ("sum",)  # how buckets reduce to the period's value; first = default
    dimensions: tuple[str, ...] = ()  # what ``group_by`` may name; empty: one figure for the whole account
    periods: tuple[PeriodKind, ...] = ("day", "month")
    remaining: bool = False  # an amount left (a balance): alerted on with ``below``, never with a limit

    @property
    def default_aggregate(self) -> Aggregate:
        return self.aggregates[0]
