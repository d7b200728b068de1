"""Charts for messages, drawn when they are sent: a budget's stored series → PNG (``lib.charts`` loaded only here).

``chart_images(app)`` is the ``images=`` of ``lib.notify.deliver``: it draws the chart a chart item names
from ``app.repo.series``, in English (the PNG font has no Chinese; the message beside it carries the
words in the configured language), in the phone layout. A budget's chart is drawn at most once a run,
however many channels, messages, retries or digests carry it: ``budget_png`` keeps what it drew for the
same budget, series and minute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lib.messages.words import as_decimal
from lib.model import Notification, Point
from lib.notify.images import CHART_KEY, ChartImages

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.config.models import Config

__all__ = ["budget_png", "chart_images"]

# What budget_png drew this minute: (budget, limit, unit, minute, series fingerprint) → (the configuration
# it was drawn with, the PNG). A run's steps (alerts, retries, digest) draw within seconds of each other;
# a later run has a later minute, so it draws afresh (the chart says "as of" its time).
_DRAWN: dict[tuple[Any, ...], tuple[Config, bytes]] = {}


def chart_images(app: App) -> ChartImages:
    """Draws chart items' PNGs from the stored series: each (budget, limit, unit) once per call (and per run)."""
    drawn: dict[tuple[str, Any, str], bytes | None] = {}

    def draw(item: Notification) -> bytes | None:
        about = item.detail[CHART_KEY]
        key = (str(about.get("budget")), about.get("limit"), str(about.get("unit") or ""))
        if key not in drawn:
            drawn[key] = budget_png(app, key[0], limit=as_decimal(key[1]), unit=key[2])
        return drawn[key]

    return draw


def budget_png(app: App, name: str, *, limit: Decimal | None, unit: str) -> bytes | None:
    """``name``'s chart now, as PNG; None when the budget is gone from the configuration or has no series yet."""
    budget = app.config.budget(name)
    if budget is None:
        return None
    series = app.repo.series.load_budget(name)
    if not any(series.values()):
        return None
    now = app.now()
    minute = now.replace(second=0, microsecond=0)
    key = (name, None if limit is None else str(limit), unit, minute, _fingerprint(series))
    if _DRAWN and next(iter(_DRAWN))[3] != minute:
        _DRAWN.clear()  # drawn by an earlier run: its time and data are not this run's
    found = _DRAWN.get(key)
    if found is not None and found[0] is app.config:
        return found[1]
    from lib.charts.budget import budget_chart  # here, where drawn: the timer's start-up never pays for it
    from lib.charts.png import render_png
    from lib.charts.scene import PHONE_WIDTH

    if budget.group_by and not isinstance(budget.limit, Decimal):
        limit = None  # limit: plan differs per zone; one line for every group would mislead
    spec = budget_chart(
        budget,
        series,
        unit=unit,
        now=now,
        tz=app.tz,
        language="en",
        limit=limit,
        runway=timedelta(seconds=budget.runway) if budget.runway else None,
    )
    # Chat groups are read on phones: the phone layout keeps the text large (800 px wide), and the compact
    # one (the plot and its legend; bars and top groups are on the dashboard the message links) is about
    # square, so a chat's thumbnail shows the line against the limit legibly, where the whole chart, twice
    # as tall as wide, shrank to a strip. Half the pixels also draw in two thirds of the time.
    png = render_png(spec, PHONE_WIDTH, unknown="box", compact=True)  # English words; a tag may be Chinese
    _DRAWN[key] = (app.config, png)
    return png


def _fingerprint(series: Mapping[str, Sequence[Point]]) -> int:
    """A hash of every group's every point: equal for the same stored series, different once a run saved more."""
    return hash(tuple((group, tuple(points)) for group, points in sorted(series.items())))
