"""Charts for messages, drawn when they are sent: a budget's stored series → PNG (``lib.charts`` loaded only here).

``chart_images(app)`` is the ``images=`` of ``lib.notify.deliver``: it draws the chart a chart item names
from ``app.repo.series``, in English (the PNG font has no Chinese; the message beside it carries the
words in the configured language), in the phone layout, at most once per budget per call. ``sender`` is
the send step of ``lib.deliveries`` with images on, for the deliveries this package starts (digests and
charts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lib.errors import ConfigError
from lib.messages.words import as_decimal
from lib.model import Notification
from lib.notify.images import CHART_KEY, ChartImages

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.deliveries import Send
    from lib.notify import DeliveryResult


def chart_images(app: App) -> ChartImages:
    """Draws chart items' PNGs from the stored series; one drawing per (budget, limit, unit) per sender."""
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
    from lib.charts.budget import budget_chart  # here, where drawn: the timer's start-up never pays for it
    from lib.charts.png import render_png
    from lib.charts.scene import PHONE_WIDTH

    if budget.group_by and not isinstance(budget.limit, Decimal):
        limit = None  # limit: plan differs per zone; one line for every group would mislead
    spec = budget_chart(
        budget,
        series,
        unit=unit,
        now=app.now(),
        tz=app.tz,
        language="en",
        limit=limit,
        runway=timedelta(seconds=budget.runway) if budget.runway else None,
    )
    # Chat groups are read on phones: the phone layout keeps the text large (800 px wide), and draws faster.
    return render_png(spec, PHONE_WIDTH)


def sender(app: App, now: datetime, *, images: ChartImages | None = None) -> Send:
    """The send step of ``lib.deliveries`` for one configured channel's batch, images drawn as they go."""
    from lib.notify import deliver

    images = images or chart_images(app)

    def send(channel_name: str, items: Sequence[Notification]) -> Iterable[DeliveryResult]:
        channel = app.config.channels.get(channel_name)
        if channel is None:
            raise ConfigError(f"channel {channel_name!r} is not configured")
        language = channel.language or app.config.language
        return deliver(
            channel_name,
            channel,
            list(items),
            language=language,
            tz=app.tz,
            session=app.session,
            now=now,
            images=images,
        )

    return send
