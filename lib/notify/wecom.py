"""WeCom (企业微信) group robot: one markdown message per run, split under the 4096-byte limit.

Errors come inside HTTP 200 bodies as ``errcode``: 45009 (20 messages a minute per robot) and -1
(busy) are retried; 93000 (invalid webhook key), 40008 (bad message type), 45002 (too long) reject.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

import requests

from lib.config.models import Channel
from lib.messages import Message, batch_title
from lib.model import Notification
from lib.notify import http
from lib.notify.batch import Block, clip, ids_of, pack
from lib.notify.common import JSON_HEADERS, classify_code, json_body, messages
from lib.notify.http import Answer, Verdict
from lib.notify.types import DeliveryResult, Request

KIND = "wecom"
MAX_BYTES = 4096  # markdown content, UTF-8 bytes
LIMITS = ((20, 60.0),)
RETRY_CODES: dict[int, float | None] = {45009: 60.0, -1: None}
REJECT_CODES = {
    93000: "invalid webhook URL: check the key",
    40008: "invalid message type",
    45002: "content too long",
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


def render(
    notifications: Sequence[Notification], language: str, tz: tzinfo, channel: Channel, now: datetime
) -> list[Request]:
    """Markdown messages (as few as the byte limit allows) carrying every notification."""
    del now  # WeCom requests are not signed
    composed = messages(notifications, language, tz)
    if not composed:
        return []
    single = len(composed) == 1
    header = "### " + clip(composed[0].title if single else batch_title(composed, language), MAX_TITLE_BYTES)
    blocks = [Block(m.id, "\n".join(_facts(m) if single else [f"**{m.title}**", *_facts(m)])) for m in composed]
    tail = _mentions(channel)
    overhead = len(header.encode()) + 1 + _PART_ROOM + (len(tail.encode()) + 1 if tail else 0)
    groups = pack(blocks, max_bytes=MAX_BYTES, overhead=overhead, separator="\n\n")
    out = []
    for index, group in enumerate(groups, 1):
        part = f" ({index}/{len(groups)})" if len(groups) > 1 else ""
        content = header + part + "\n" + "\n\n".join(b.text for b in group) + (f"\n{tail}" if tail else "")
        body = json_body({"msgtype": "markdown", "markdown": {"content": content}})
        out.append(Request("POST", channel.url, JSON_HEADERS, body, ids_of(group), KIND, limit_key=channel.url))
    return out


def classify(answer: Answer) -> Verdict:
    return classify_code(answer, field="errcode", message_field="errmsg", retry=RETRY_CODES, reject=REJECT_CODES)


def send(request: Request, session: requests.Session) -> DeliveryResult:
    return http.send(request, session, classify)
