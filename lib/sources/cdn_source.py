"""``source: cdn``: classic CDN usage (cdn 2018-06-06), the ``Source`` plug-in over the cdn modules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from lib.sources import cdn, cdn_plan
from lib.sources.catalogue import Metric, Problem
from lib.sources.cdn_catalogue import CDN_METRICS, DOMAINS_ACTION, SERVICE, VERSION
from lib.sources.cdn_catalogue import SOURCE as NAME
from lib.sources.failures import Caller
from lib.sources.source import PlannedCall

if TYPE_CHECKING:
    from lib.config.models import Budget


class CdnSource:
    """CDN usage: billing data by the hour or five minutes, so it backtests; monitoring data for requests."""

    name = NAME
    description = "cdn: classic CDN usage"
    metrics: Mapping[str, Metric] = CDN_METRICS
    supports_backtest = True
    backtest_note = ""

    def check(self, budget: Budget) -> Iterator[Problem]:
        explicit = budget.model_fields_set
        if "zones" in explicit:
            yield ("zones",), "zones are EdgeOne's (source teo); a cdn budget names domains: and area:"
        if "filters" in explicit:
            yield ("filters",), "a cdn budget takes no filters; it names domains: and area:"

    def plan(self, budgets: Sequence[Budget], now: datetime, tz: tzinfo) -> list[PlannedCall]:
        planned = cdn_plan.plan(budgets, now, tz)
        calls = [PlannedCall(SERVICE, VERSION, q.action, q.params()) for q in planned.queries]
        if any(f.needs_domains for f in planned.fetches):  # then a request per domain of the answer
            calls.insert(0, PlannedCall(SERVICE, VERSION, DOMAINS_ACTION, cdn_plan.domain_page(0)))
        unique = {(c.action, repr(sorted(c.params.items()))): c for c in calls}
        return list(unique.values())

    def start(
        self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor
    ) -> cdn.CdnFetch:
        return cdn.CdnFetch(budgets, client, now, tz, pool)


SOURCE = CdnSource()
