"""``source: teo``: EdgeOne usage from ``DescribeBillingData``, the ``Source`` plug-in over the teo modules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from lib.model import Observation
from lib.sources import teo, teo_plan
from lib.sources.catalogue import Metric, Problem
from lib.sources.failures import Caller
from lib.sources.source import PlannedCall
from lib.sources.teo_catalogue import SOURCE as NAME
from lib.sources.teo_catalogue import TEO_METRICS

if TYPE_CHECKING:
    from lib.config.models import Budget


class TeoFetch:
    """EdgeOne requests run on the caller's thread when asked for (they fill the pool themselves), while
    the other sources' requests, started first, are already in flight."""

    def __init__(self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor) -> None:
        self.budgets, self.client, self.now, self.tz, self.pool = budgets, client, now, tz, pool

    def observations(self) -> list[Observation]:
        return teo.collect(self.budgets, self.client, self.now, self.tz, self.pool)


class TeoSource:
    """EdgeOne usage: history by the day, hour or five minutes, so it backtests."""

    name = NAME
    description = "teo: EdgeOne usage"
    metrics: Mapping[str, Metric] = TEO_METRICS
    supports_backtest = True
    backtest_note = ""

    def check(self, budget: Budget) -> Iterator[Problem]:
        del budget  # zones, filters and group_by are checked by their models
        return iter(())

    def plan(self, budgets: Sequence[Budget], now: datetime, tz: tzinfo) -> list[PlannedCall]:
        return [
            PlannedCall(teo.SERVICE, teo.VERSION, teo.ACTION, q.params())
            for q in teo_plan.plan(budgets, now, tz).queries
        ]

    def start(self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor) -> TeoFetch:
        return TeoFetch(budgets, client, now, tz, pool)


SOURCE = TeoSource()
