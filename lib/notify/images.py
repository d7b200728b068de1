"""Charts in messages: the image deliveries that follow a WeCom message, and the chart links other channels carry.

Why an image is its own delivery: a chart that fails to draw or to send must not take the message
down with it, nor make it be sent twice. So after a message went out, each budget it told of gets one
chart item (a copy of its first notification with ``detail["chart_of"]`` and an id of its own, ``chart_id``), which
goes through the same claim → outbox → send → mark steps as the message; it is drawn when it is sent
(``ChartImages``, from the stored series) and retried on its own. One chart per budget per message, at
most ``MAX_IMAGES``, in the message's order. Channels that show no image get a signed, expiring link
to ``/charts/{budget}.png`` instead (``chart_link``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from lib.errors import BudgetError
from lib.links import Link, sign
from lib.model import Notification, notification_id
from lib.notify.http import JSON_HEADERS, json_body
from lib.notify.types import DeliveryResult, Request
from lib.web.urls import chart_url

CHART_KEY = "chart_of"
MAX_IMAGES = 5  # robots take 20 messages a minute: a message and its charts stay well under that
MAX_IMAGE_BYTES = 2 * 1024 * 1024  # WeCom: the image before base64
IMAGE_KINDS = frozenset({"wecom"})  # the channel types that take an image message
CHART_LINK_TTL = 7 * 86400  # seconds a chart link in a message keeps working

# Draws the chart a chart item names: PNG bytes, or None when there is nothing to draw (no series yet).
ChartImages = Callable[[Notification], "bytes | None"]


def is_chart(n: Notification) -> bool:
    return CHART_KEY in n.detail


def takes_images(kind: str) -> bool:
    return kind in IMAGE_KINDS


def chart_item(
    n: Notification, channel: str, *, budget: str | None = None, limit: Decimal | None = None, unit: str | None = None
) -> Notification:
    """The delivery of ``budget``'s chart (by default ``n``'s budget, limit, unit) after ``n`` went to ``channel``."""
    name = budget or n.budget
    drawn_limit = limit if budget else n.limit
    about = {
        "of": n.id,
        "budget": name,
        "limit": None if drawn_limit is None else str(drawn_limit),
        "unit": n.unit if unit is None else unit,
    }
    return replace(n, id=chart_id(n.id, name), budget=name, channels=(channel,), detail={CHART_KEY: about})


def chart_id(message_id: str, budget: str) -> str:
    """The id of ``budget``'s chart after the message of notification ``message_id``: stable, an ``ntf_`` id."""
    return notification_id(message_id, "chart", budget)


def chart_items(
    sent: Sequence[Notification], channel: str, *, drawable: Callable[[Notification], bool] = lambda _: True
) -> list[Notification]:
    """One chart item per budget of a message's notifications, in their order, the first ``MAX_IMAGES`` that
    are ``drawable`` (a budget without a series yet has no chart and leaves its place to the next)."""
    firsts: dict[str, Notification] = {}
    for n in sent:
        if not is_chart(n):
            firsts.setdefault(n.budget, n)
    out: list[Notification] = []
    for n in firsts.values():
        item = chart_item(n, channel)
        if len(out) < MAX_IMAGES and drawable(item):
            out.append(item)
    return out


def image_document(png: bytes) -> dict[str, Any]:
    """WeCom's image message: the PNG in base64 (one line) and the MD5 of the raw bytes, in hex."""
    return {
        "msgtype": "image",
        "image": {
            "base64": base64.b64encode(png).decode("ascii"),
            "md5": hashlib.md5(png, usedforsecurity=False).hexdigest(),
        },
    }


def image_requests(
    kind: str, url: str, items: Sequence[Notification], images: ChartImages | None
) -> tuple[list[Request], list[DeliveryResult]]:
    """The image messages of ``items`` for a channel of type ``kind`` at ``url``, and the items that cannot go.

    An item that cannot be drawn or sent here is answered at once (rejected, or retry when reading the
    series failed for a reason that may pass), so it never waits in the outbox for nothing.
    """
    out: list[Request] = []
    refused: list[DeliveryResult] = []
    for item in items:
        reason, retry = "", False
        if not takes_images(kind):
            reason = f"a {kind} channel takes no image messages"
        elif images is None:
            reason = "no chart drawing was set up for this delivery"
        else:
            try:
                png = images(item)
            except BudgetError as exc:
                reason, retry = f"chart not drawn: {exc}", exc.retryable
            except ValueError as exc:
                reason = f"chart not drawn: {exc}"
            else:
                if png is None:
                    reason = "no chart to draw: no series stored for this budget"
                elif not 0 < len(png) <= MAX_IMAGE_BYTES:
                    reason = f"chart is {len(png)} bytes; an image message takes 1 to {MAX_IMAGE_BYTES}"
                else:
                    body = json_body(image_document(png))
                    out.append(Request("POST", url, JSON_HEADERS, body, (item.id,), kind, limit_key=url))
                    continue
        refused.append(DeliveryResult("", (item.id,), "retry" if retry else "rejected", reason, None, None))
    return out, refused


def chart_link(public_url: str, secret: str, budget: str, *, now: float, nonce: str, ttl: int = CHART_LINK_TTL) -> str:
    """A signed, expiring link to ``budget``'s chart: ``<public>/charts/<budget>.png?t=<view token>``."""
    token = sign(secret, Link("view", (budget,), int(now) + ttl, nonce))
    return chart_url(public_url, budget, token)


def chart_links(
    public_url: str | None, secret: str | None, budgets: Sequence[str], *, now: float, nonce: str
) -> Mapping[str, str]:
    """Budget → chart link, for channels without images; nothing unless both the URL and the secret are set."""
    if not public_url or not secret:
        return {}
    return {b: chart_link(public_url, secret, b, now=now, nonce=nonce) for b in budgets[:MAX_IMAGES]}
