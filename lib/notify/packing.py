"""The steps every chat robot shares, written once: compose, batch, pack under the byte limit, number the parts.

A robot supplies only its ``ChatFormat`` (``lib.notify.channel``); ``ChatChannel`` turns one into a
``Channel``: one batch per run, as few messages as the limit allows, each titled ``… (i/n)`` when split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

import requests

from lib.messages import Message, batch_title, compose
from lib.model import Notification
from lib.notify import http
from lib.notify.batch import Block, clip, ids_of, pack
from lib.notify.channel import ChatFormat, Part
from lib.notify.http import JSON_HEADERS, json_body
from lib.notify.limits import Window
from lib.notify.links import NO_OFFERS, Offer, Offers, compact, essential, every
from lib.notify.types import DeliveryResult, Request

if TYPE_CHECKING:
    from lib.config.models import Channel as ChannelConfig


_TONE_ORDER = {"critical": 0, "warning": 1, "info": 2, "ok": 3}


def messages(notifications: Sequence[Notification], language: str, tz: tzinfo) -> list[Message]:
    """Composed messages, the most urgent first (stable within a tone)."""
    composed = [compose(n, language, tz) for n in notifications]
    return sorted(composed, key=lambda m: _TONE_ORDER[m.tone])


def part_number(index: int, total: int) -> str:
    """`` (index/total)`` for a batch split over several messages; nothing for a single message."""
    return f" ({index}/{total})" if total > 1 else ""


def render_chat(
    fmt: ChatFormat,
    notifications: Sequence[Notification],
    *,
    language: str,
    tz: tzinfo,
    channel: ChannelConfig,
    now: datetime,
    links: Offers = NO_OFFERS,
) -> list[Request]:
    """The messages that carry every notification, the most urgent first, in ``fmt``'s format.

    Each notification carries its ``links``; links are long (about 280 bytes each), so when every link
    makes the batch take more messages than the compact set (approve, undo, silence 1 day) that is sent
    instead, and when even that costs messages, only approve and undo links.
    """
    composed = messages(notifications, language, tz)
    if not composed:
        return []
    single = len(composed) == 1
    title = composed[0].title if single else batch_title(composed, language)
    if fmt.title_bytes is not None:
        title = clip(title, fmt.title_bytes)  # a title is one line; a huge group value must not eat the message
    spec = fmt.packing(title, channel)

    def packed(keep: Callable[[Sequence[Offer]], Sequence[Offer]]) -> list[list[Block]]:
        blocks = [Block(m.id, fmt.block(m, single, keep(links.get(m.id, ())))) for m in composed]
        return pack(
            blocks,
            max_bytes=spec.max_bytes,
            overhead=spec.overhead,
            separator=spec.separator,
            size=spec.size,
            max_piece=spec.max_piece,
            max_count=spec.max_count,
        )

    groups = packed(every)
    if any(links.get(m.id) for m in composed):
        for keep in (compact, essential):  # fewer links only where that saves messages
            shorter = packed(keep)
            if len(shorter) < len(groups):
                groups = shorter
    out = []
    for index, group in enumerate(groups, 1):
        part = Part(title, part_number(index, len(groups)), tuple(group), composed[0].tone, single)
        url, document = fmt.document(part, channel, now)
        out.append(
            Request("POST", url, JSON_HEADERS, json_body(document), ids_of(group), fmt.kind, limit_key=channel.url)
        )
    return out


class ChatChannel:
    """A ``Channel`` made of a robot's ``ChatFormat`` and the shared steps."""

    def __init__(self, fmt: ChatFormat) -> None:
        self.format = fmt
        self.kind = fmt.kind
        self.limits: Sequence[Window] = fmt.limits

    def render(
        self,
        notifications: Sequence[Notification],
        language: str,
        tz: tzinfo,
        channel: ChannelConfig,
        now: datetime,
        *,
        links: Offers = NO_OFFERS,
    ) -> list[Request]:
        return render_chat(self.format, notifications, language=language, tz=tz, channel=channel, now=now, links=links)

    def send(self, request: Request, session: requests.Session) -> DeliveryResult:
        return http.send(request, session, self.format.classify)
