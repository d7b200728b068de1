"""One budget's chart from the stored state: its series, the last run's unit and limit, drawn as SVG or PNG.

The chart modules are imported inside the functions that draw (``lib.charts`` is never loaded by the
timer, and by the API only when a chart is drawn).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from lib.sources import find_metric

if TYPE_CHECKING:
    from lib.charts.spec import ChartSpec
    from lib.config.models import Budget, Config
    from lib.model import Point


def budget_spec(
    config: Config,
    budget: Budget,
    series: Mapping[str, Sequence[Point]],
    evaluations: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    language: str,
) -> ChartSpec:
    """The chart spec of ``budget`` as of ``now`` (pure): the unit and a ``limit: plan`` come from the
    last run's evaluations of the budget, else from the metric's catalogue."""
    from lib.charts.budget import budget_chart
    from lib.periods import zone

    own = [e for e in evaluations if e.get("budget") == budget.name]
    metric = find_metric(budget.source, budget.metric)
    unit = next((str(e["unit"]) for e in own if e.get("unit")), metric.unit if metric else "")
    limit = next((d for e in own if (d := _decimal(e.get("limit"))) is not None), None)
    return budget_chart(
        budget,
        series,
        unit=unit,
        now=now,
        tz=zone(config.timezone),
        language=language,
        limit=limit,
        runway=None if budget.runway is None else timedelta(seconds=budget.runway),
    )


def svg(spec: ChartSpec, *, phone: bool = False) -> str:
    from lib.charts.scene import PHONE_WIDTH, WIDTH
    from lib.charts.svg import render_svg

    return render_svg(spec, PHONE_WIDTH if phone else WIDTH)


def png(spec: ChartSpec, *, phone: bool = False) -> bytes:
    from lib.charts.png import render_png
    from lib.charts.scene import PHONE_WIDTH, WIDTH

    # Built in English (the font has no Chinese): only names from the user's data can hold a character
    # it lacks (a project, a tag value, a member), drawn as hollow boxes; the page's SVG shows them.
    return render_png(spec, PHONE_WIDTH if phone else WIDTH, unknown="box")


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
