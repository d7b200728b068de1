"""DingTalk (钉钉) custom robot: markdown with a title; ``timestamp`` + ``sign`` query when a secret is set.

Sign (加签): base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}")), URL-encoded. Errors come
inside HTTP 200 bodies: 130101 (sending too fast; DingTalk then throttles for 10 minutes) is retried,
310000 (keyword, signature or IP whitelist check failed) and 300001 (no such token) reject.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

from lib.config.models import Channel
from lib.messages import Message
from lib.notify.channel import Packing, Part
from lib.notify.http import Answer, Verdict, classify_code
from lib.notify.limits import Window
from lib.notify.links import Offer, markdown
from lib.notify.packing import ChatChannel

KIND = "dingtalk"
# DingTalk documents no markdown size limit we could confirm; 20,000 bytes is what users report, so
# stay well under it.
MAX_BYTES = 18000
LIMITS: tuple[Window, ...] = ((20, 60.0),)
RETRY_CODES: dict[int, float | None] = {130101: 600.0, -1: None}
REJECT_CODES = {
    310000: "security check failed: keyword, signature (加签) or IP whitelist",
    300001: "access_token does not exist",
}
_PART_ROOM = 16
MAX_TITLE_BYTES = 512  # a title is one line; a huge group value must not eat the message
SEPARATOR = "\n\n---\n\n"


def sign(secret: str, timestamp_ms: int) -> str:
    """The URL-encoded ``sign`` query value for ``timestamp_ms``."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str | None, now: datetime) -> str:
    """``url`` with fresh ``timestamp``/``sign`` parameters (replacing any already there)."""
    if not secret:
        return url
    timestamp_ms = int(now.timestamp() * 1000)
    parts = urlsplit(url)
    kept = [
        f"{quote_plus(k)}={quote_plus(v)}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("timestamp", "sign")
    ]
    kept += [f"timestamp={timestamp_ms}", f"sign={sign(secret, timestamp_ms)}"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))


def _facts(m: Message) -> list[str]:
    lines = [f"- **{f.label}{m.colon}{f.value}**" if f.strong else f"- {f.label}{m.colon}{f.value}" for f in m.facts]
    lines.append(f"\n<font color=#8c8c8c>{m.footer}</font>")
    return lines


def _at(channel: Channel) -> tuple[dict[str, object], str]:
    mobiles = [m for m in channel.mentions if m.lstrip("+").isdigit()]
    users = [m for m in channel.mentions if m not in mobiles and m.lstrip("@").lower() != "all"]
    everyone = any(m.lstrip("@").lower() == "all" for m in channel.mentions)
    at: dict[str, object] = {"atMobiles": mobiles, "atUserIds": users, "isAtAll": everyone}
    # DingTalk only highlights a mention that also appears in the text.
    text = " ".join([*(f"@{m}" for m in mobiles), *(f"@{u}" for u in users), *(["@所有人"] if everyone else [])])
    return at, text


def classify(answer: Answer) -> Verdict:
    return classify_code(answer, field="errcode", message_field="errmsg", retry=RETRY_CODES, reject=REJECT_CODES)


class DingtalkFormat:
    """Markdown with a title and ``at`` mentions; the URL is signed with the sending time when a secret is set."""

    kind = KIND
    limits: Sequence[Window] = LIMITS
    title_bytes: int | None = MAX_TITLE_BYTES

    def block(self, message: Message, single: bool, offers: Sequence[Offer]) -> str:
        lines = _facts(message) if single else [f"##### {message.title}", *_facts(message)]
        if offers:
            lines.append("\n" + markdown(offers, message.language))
        return "\n".join(lines)

    def packing(self, title: str, channel: Channel) -> Packing:
        _, tail = _at(channel)
        overhead = len(f"#### {title}".encode()) + 2 + _PART_ROOM + len(tail.encode()) + 2
        return Packing(MAX_BYTES, overhead, SEPARATOR)

    def document(self, part: Part, channel: Channel, now: datetime) -> tuple[str, Mapping[str, Any]]:
        at, tail = _at(channel)
        text = f"#### {part.title}{part.number}\n\n" + SEPARATOR.join(b.text for b in part.blocks)
        text += f"\n\n{tail}" if tail else ""
        document = {"msgtype": "markdown", "markdown": {"title": part.title + part.number, "text": text}, "at": at}
        return signed_url(channel.url, channel.secret, now), document

    def classify(self, answer: Answer) -> Verdict:
        return classify(answer)


CHANNEL = ChatChannel(DingtalkFormat())
