"""Feishu (飞书) and Lark custom bots: an interactive card; ``timestamp`` + ``sign`` in the body.

Works with both hosts (``open.feishu.cn`` and ``open.larksuite.com``): the URL decides. Sign:
base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")) with the timestamp in seconds, not
URL-encoded. Errors come as ``code`` in the body: 11232 (rate limit) and 9499 are retried (9499 is
"Bad Request" but also seen for transient failures), 19021 (signature or stale timestamp), 19022 (IP
not allowed) and 19024 (keyword missing) reject.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lib.config.models import Channel
from lib.messages import Message
from lib.notify.channel import Packing, Part
from lib.notify.http import Answer, Verdict, classify_code
from lib.notify.limits import Window
from lib.notify.links import Offer, embed, extract
from lib.notify.packing import ChatChannel

KIND = "feishu"
MAX_BODY_BYTES = 20 * 1024
# Card elements are packed to this many bytes of JSON; the rest of the 20 KB is header and signature.
MAX_ELEMENTS_BYTES = 18 * 1024
LIMITS: tuple[Window, ...] = ((5, 1.0), (100, 60.0))
RETRY_CODES: dict[int, float | None] = {11232: 60.0, 9499: None}
REJECT_CODES = {
    19001: "invalid webhook token (observed answer, not in the reference)",
    19021: "signature check failed or timestamp not within an hour",
    19022: "IP not allowed",
    19024: "keyword not found in the message",
}
_TEMPLATES = {"critical": "red", "warning": "orange", "ok": "green", "info": "grey"}
_FONT = {"critical": "red", "warning": "orange", "ok": "green", "info": "grey"}
MAX_TITLE_BYTES = 512
_FOOTER = "\x1f"  # separates a block's markdown from its footer note while packing


def sign(secret: str, timestamp_s: int) -> str:
    """The body ``sign`` for ``timestamp_s`` (seconds)."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def _md(text: str) -> str:
    # lark_md reads <tags>; keep a literal "<" in data from opening one.
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _facts(m: Message) -> str:
    lines = []
    for fact in m.facts:
        if fact.strong:
            lines.append(f"<font color='{_FONT[m.tone]}'>**{_md(fact.label)}{m.colon}{_md(fact.value)}**</font>")
        else:
            lines.append(f"**{_md(fact.label)}**{m.colon}{_md(fact.value)}")
    return "\n".join(lines)


def _block_text(m: Message, single: bool, offers: Sequence[Offer]) -> str:
    content = _facts(m) if single else f"**{_md(m.title)}**\n{_facts(m)}"
    return f"{content}{embed(offers, m.language)}{_FOOTER}{m.footer}"


def _elements(text: str) -> list[dict[str, Any]]:
    """A div for the markdown, the link buttons, a note for the footer (a split piece may lack any)."""
    body, _, footer = text.partition(_FOOTER)
    content, buttons = extract(body)
    elements: list[dict[str, Any]] = []
    if content:
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": content}})
    if buttons:
        actions = [
            {"tag": "button", "text": {"tag": "plain_text", "content": b.label}, "type": b.style, "url": b.url}
            for b in buttons
        ]
        elements.append({"tag": "action", "actions": actions})
    if footer:
        elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": footer}]})
    return elements


def _size(text: str) -> int:
    # The hr between blocks is counted with each block.
    return len(json.dumps([{"tag": "hr"}, *_elements(text)], ensure_ascii=False).encode("utf-8"))


def _mentions(channel: Channel) -> list[dict[str, Any]]:
    if not channel.mentions:
        return []
    ats = " ".join(
        "<at id=all></at>" if who.lstrip("@").lower() == "all" else f"<at id={who}></at>" for who in channel.mentions
    )
    return [{"tag": "div", "text": {"tag": "lark_md", "content": ats}}]


def classify(answer: Answer) -> Verdict:
    return classify_code(answer, field="code", message_field="msg", retry=RETRY_CODES, reject=REJECT_CODES)


class FeishuFormat:
    """An interactive card coloured by the most urgent tone; ``timestamp`` and ``sign`` in the body."""

    kind = KIND
    limits: Sequence[Window] = LIMITS
    title_bytes: int | None = MAX_TITLE_BYTES

    def block(self, message: Message, single: bool, offers: Sequence[Offer]) -> str:
        return _block_text(message, single, offers)

    def packing(self, title: str, channel: Channel) -> Packing:
        overhead = len(title.encode()) + 400 + len(json.dumps(_mentions(channel), ensure_ascii=False).encode())
        return Packing(MAX_ELEMENTS_BYTES, overhead, "", size=_size)

    def document(self, part: Part, channel: Channel, now: datetime) -> tuple[str, Mapping[str, Any]]:
        elements: list[dict[str, Any]] = []
        for position, block in enumerate(part.blocks):
            if position:
                elements.append({"tag": "hr"})
            elements.extend(_elements(block.text))
        elements.extend(_mentions(channel))
        document: dict[str, Any] = {}
        if channel.secret:
            timestamp = int(now.timestamp())
            document = {"timestamp": str(timestamp), "sign": sign(channel.secret, timestamp)}
        header = {
            "template": _TEMPLATES[part.tone],
            "title": {"tag": "plain_text", "content": part.title + part.number},
        }
        card = {"config": {"wide_screen_mode": True}, "header": header, "elements": elements}
        document.update({"msg_type": "interactive", "card": card})
        return channel.url, document

    def classify(self, answer: Answer) -> Verdict:
        return classify(answer)


CHANNEL = ChatChannel(FeishuFormat())
