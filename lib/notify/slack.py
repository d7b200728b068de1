"""Slack incoming webhooks: Block Kit sections with a plain ``text`` fallback for notifications.

Success is HTTP 200 with body ``ok``; errors are real HTTP statuses with a string body: 429 (with
``Retry-After``) and 5xx are retried; 400 ``invalid_payload``/``no_text``, 403 ``action_prohibited``,
404 ``no_service``/``channel_not_found`` and 410 ``channel_is_archived`` reject.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

import requests

from lib.config.models import Channel
from lib.messages import Message, batch_title
from lib.model import Notification
from lib.notify import http
from lib.notify.batch import Block, ids_of, pack
from lib.notify.common import JSON_HEADERS, json_body, messages
from lib.notify.http import Answer, Verdict, classify_status, excerpt
from lib.notify.types import DeliveryResult, Request

KIND = "slack"
MAX_BLOCKS = 50  # per message
MAX_SECTION_CHARS = 3000  # per section text
MAX_HEADER_CHARS = 150
MAX_FALLBACK_CHARS = 3000
MAX_TEXT_CHARS = 40000  # all section text of one message
LIMITS = ((1, 1.0), (20, 60.0))  # about one message a second, short bursts tolerated
_FOOTER = "\x1f"
_BLOCKS_PER_NOTIFICATION = 3  # section, context, divider


def escape(text: str) -> str:
    """Slack mrkdwn control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _facts(m: Message) -> str:
    lines = []
    for fact in m.facts:
        line = f"{escape(fact.label)}{m.colon}{escape(fact.value)}"
        lines.append(f"*{line}*" if fact.strong else line)
    return "\n".join(lines)


def _mentions(channel: Channel) -> str:
    specials = {"all": "<!channel>", "channel": "<!channel>", "here": "<!here>"}
    return " ".join(specials.get(w.lstrip("@").lower(), f"<@{w.lstrip('@')}>") for w in channel.mentions)


def _blocks(text: str) -> list[dict[str, Any]]:
    content, _, footer = text.partition(_FOOTER)
    out: list[dict[str, Any]] = []
    if content:
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": content}})
    if footer:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(footer)}]})
    return out


def render(
    notifications: Sequence[Notification], language: str, tz: tzinfo, channel: Channel, now: datetime
) -> list[Request]:
    """Messages of at most 50 blocks; each notification is a section plus a context line with its id."""
    del now  # Slack webhooks are not signed by the sender
    composed = messages(notifications, language, tz)
    if not composed:
        return []
    single = len(composed) == 1
    title = composed[0].title if single else batch_title(composed, language)
    blocks = [
        Block(m.id, (_facts(m) if single else f"*{escape(m.title)}*\n{_facts(m)}") + _FOOTER + m.footer)
        for m in composed
    ]
    # A section holds 3000 characters: longer text becomes several pieces, each its own section.
    groups = pack(
        blocks,
        max_bytes=MAX_TEXT_CHARS,
        overhead=len(title) + 16,
        separator="",
        size=len,
        max_piece=MAX_SECTION_CHARS,
        max_count=(MAX_BLOCKS - 2) // _BLOCKS_PER_NOTIFICATION,
    )
    mentions = _mentions(channel)
    out = []
    for index, group in enumerate(groups, 1):
        part = f" ({index}/{len(groups)})" if len(groups) > 1 else ""
        header = (title + part)[:MAX_HEADER_CHARS]
        body_blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
        for position, block in enumerate(group):
            if position:
                body_blocks.append({"type": "divider"})
            body_blocks.extend(_blocks(block.text))
        if mentions:
            body_blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": mentions}})
        fallback = "\n".join([title + part, *(_first_line(b.text) for b in group if not single)])
        document = {"text": fallback[:MAX_FALLBACK_CHARS], "blocks": body_blocks[:MAX_BLOCKS]}
        out.append(
            Request("POST", channel.url, JSON_HEADERS, json_body(document), ids_of(group), KIND, limit_key=channel.url)
        )
    return out


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].strip("*")


def classify(answer: Answer) -> Verdict:
    body = answer.text.strip()
    if answer.status == 200:
        if body == "ok":
            return "sent", "ok", None
        return "retry", f"unexpected answer (HTTP 200): {excerpt(body)}", None
    verdict = classify_status(answer)
    if verdict is None:  # another 2xx: Slack answers 200 "ok"; take any 2xx as accepted
        return "sent", f"HTTP {answer.status}", None
    outcome, reason, retry_after = verdict
    if outcome == "rejected" and body in ("invalid_token", "no_service", "channel_not_found", "channel_is_archived"):
        reason = f"{reason} (the webhook was removed or its channel is gone)"
    return outcome, reason, retry_after


def send(request: Request, session: requests.Session) -> DeliveryResult:
    return http.send(request, session, classify)
