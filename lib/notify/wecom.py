"""WeCom (企业微信) group robot: one markdown message per run, split under the 4096-byte limit.

Errors come inside HTTP 200 bodies as ``errcode``: 45009 (20 messages a minute per robot) and -1
(busy) are retried; 93000 (invalid webhook key), 40008 (bad message type), 45002 (too long) reject, and
so do an image message's 40009 (size), 301019 (MD5 mismatch) and 40005 (file type); see lib.notify.images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lib.config.models import Channel
from lib.messages import Message
from lib.notify.channel import Packing, Part
from lib.notify.http import Answer, Verdict, classify_code
from lib.notify.limits import Window
from lib.notify.links import Offer, markdown
from lib.notify.packing import ChatChannel

KIND = "wecom"
MAX_BYTES = 4096  # markdown content, UTF-8 bytes
LIMITS: tuple[Window, ...] = ((20, 60.0),)
RETRY_CODES: dict[int, float | None] = {45009: 60.0, -1: None}
REJECT_CODES = {
    93000: "invalid webhook URL: check the key",
    40008: "invalid message type",
    45002: "content too long",
    # Image messages (lib.notify.images): an image over 2 MB or empty, an MD5 that does not match, not JPG/PNG.
    40009: "image too large (2 MB at most before base64) or empty",
    301019: "image MD5 does not match its content",
    40005: "invalid image file type (JPG or PNG)",
}
_COLORS = {"critical": "warning", "warning": "warning", "ok": "info", "info": "comment"}
_PART_ROOM = 16  # bytes kept for " (12/34)" on split messages
MAX_TITLE_BYTES = 512  # a title is one line; a huge group value must not eat the message


def _facts(m: Message) -> list[str]:
    lines = []
    for fact in m.facts:
        value = f'<font color="{_COLORS[m.tone]}">**{fact.value}**</font>' if fact.strong else fact.value
        lines.append(f"> {fact.label}{m.colon}{value}")
    lines.append(f'<font color="comment">{m.footer}</font>')
    return lines


def _mentions(channel: Channel) -> str:
    return " ".join(f"<@{who.lstrip('@')}>" for who in channel.mentions)


def classify(answer: Answer) -> Verdict:
    return classify_code(answer, field="errcode", message_field="errmsg", retry=RETRY_CODES, reject=REJECT_CODES)


class WecomFormat:
    """Markdown: ``### title``, then the blocks, then the mentions; WeCom requests are not signed."""

    kind = KIND
    limits: Sequence[Window] = LIMITS
    title_bytes: int | None = MAX_TITLE_BYTES

    def block(self, message: Message, single: bool, offers: Sequence[Offer]) -> str:
        lines = _facts(message) if single else [f"**{message.title}**", *_facts(message)]
        if offers:
            lines.append(markdown(offers, message.language))
        return "\n".join(lines)

    def packing(self, title: str, channel: Channel) -> Packing:
        tail = _mentions(channel)
        overhead = len(f"### {title}".encode()) + 1 + _PART_ROOM + (len(tail.encode()) + 1 if tail else 0)
        return Packing(MAX_BYTES, overhead, "\n\n")

    def document(self, part: Part, channel: Channel, now: datetime) -> tuple[str, Mapping[str, Any]]:
        del now  # WeCom requests are not signed
        tail = _mentions(channel)
        text = "\n\n".join(b.text for b in part.blocks)
        content = f"### {part.title}{part.number}\n{text}" + (f"\n{tail}" if tail else "")
        return channel.url, {"msgtype": "markdown", "markdown": {"content": content}}

    def classify(self, answer: Answer) -> Verdict:
        return classify(answer)


CHANNEL = ChatChannel(WecomFormat())
