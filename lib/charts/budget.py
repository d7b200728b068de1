"""A configured budget's chart: picks the chart kind and the series shape from the budget and its metric.

Pure: the series (``SeriesStore.load_budget``), ``now`` and the zone are arguments. ``remaining`` metrics
(the balance) get the balance chart; ``billing`` cost is stored as readings of the month-to-date total;
level metrics (bandwidth) as levels; everything else as amounts per bucket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from lib.charts.balance import balance_chart
from lib.charts.data import SeriesShape, usage_chart
from lib.charts.spec import ChartSpec
from lib.config.metrics import find_metric
from lib.config.models import Budget
from lib.model import Point
from lib.periods import current_period


def budget_chart(
    budget: Budget,
    series: Mapping[str, Sequence[Point]],
    *,
    unit: str,
    now: datetime,
    tz: tzinfo,
    language: str,
    group: str | None = None,
    limit: Decimal | None = None,
    runway: timedelta | None = None,
) -> ChartSpec:
    """The chart of ``budget`` now. ``limit`` is the one the run used (``limit: plan`` resolves to the
    plan's quota only at run time); ``runway`` draws the runway alert line of a balance budget."""
    metric = find_metric(budget.source, budget.metric)
    if metric is not None and metric.remaining:
        return balance_chart(
            budget.name,
            unit=unit,
            readings=series.get(group or "", ()),
            now=now,
            tz=tz,
            language=language,
            below=budget.below,
            runway=runway,
        )
    shape: SeriesShape = "amounts"
    if budget.source == "billing":
        shape = "readings"
    elif metric is not None and not metric.cumulative:
        shape = "levels"
    return usage_chart(
        budget.name,
        period_kind=budget.period,
        period=current_period(budget.period, now, tz),
        unit=unit,
        series=series,
        now=now,
        tz=tz,
        language=language,
        group=group,
        limit=budget.limit if isinstance(budget.limit, Decimal) else limit,
        thresholds=budget.thresholds,
        absolute=budget.absolute,
        shape=shape,
    )
