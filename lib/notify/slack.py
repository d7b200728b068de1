"""Slack incoming webhooks: Block Kit sections with a plain ``text`` fallback for notifications.

Success is HTTP 200 with body ``ok``; errors are real HTTP statuses with a string body: 429 (with
``Retry-After``) and 5xx are retried; 400 ``invalid_payload``/``no_text``, 403 ``action_prohibited``,
404 ``no_service``/``channel_not_found`` and 410 ``channel_is_archived`` reject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lib.config.models import Channel
from lib.messages import Message
from lib.notify.channel import Packing, Part
from lib.notify.http import Answer, Verdict, classify_status, excerpt
from lib.notify.limits import Window
from lib.notify.links import MARK, Offer, embed, extract
from lib.notify.packing import ChatChannel

KIND = "slack"
MAX_BLOCKS = 50  # per message
MAX_SECTION_CHARS = 3000  # per section text
MAX_HEADER_CHARS = 150
MAX_FALLBACK_CHARS = 3000
MAX_TEXT_CHARS = 40000  # all section text of one message
LIMITS: tuple[Window, ...] = ((1, 1.0), (20, 60.0))  # about one message a second, short bursts tolerated
_FOOTER = "\x1f"
_BLOCKS_PER_NOTIFICATION = 4  # section, link buttons, context, divider
MAX_BUTTON_CHARS = 75  # a button's text


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


def _size(text: str) -> int:
    """Characters of section and context text: link buttons do not count against the text limits."""
    body, sep, footer = text.partition(_FOOTER)
    return len(body.partition(MARK)[0]) + len(sep) + len(footer)


def _blocks(text: str, position: int) -> list[dict[str, Any]]:
    body, _, footer = text.partition(_FOOTER)
    content, buttons = extract(body)
    out: list[dict[str, Any]] = []
    if content:
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": content}})
    if buttons:
        elements = []
        for index, b in enumerate(buttons):
            button: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": b.label[:MAX_BUTTON_CHARS]},
                "url": b.url,
                "action_id": f"link-{position}-{index}",  # unique within the message
            }
            if b.style in ("primary", "danger"):
                button["style"] = b.style
            elements.append(button)
        out.append({"type": "actions", "elements": elements})
    if footer:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(footer)}]})
    return out


def _first_line(text: str) -> str:
    return text.partition(MARK)[0].split("\n", 1)[0].strip("*")


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


class SlackFormat:
    """Block Kit: a header, a section and a context line per notification, a plain-text fallback."""

    kind = KIND
    limits: Sequence[Window] = LIMITS
    title_bytes: int | None = None  # the header block is cut to 150 characters instead

    def block(self, message: Message, single: bool, offers: Sequence[Offer]) -> str:
        content = _facts(message) if single else f"*{escape(message.title)}*\n{_facts(message)}"
        return content + embed(offers, message.language) + _FOOTER + message.footer

    def packing(self, title: str, channel: Channel) -> Packing:
        # A section holds 3000 characters: longer text becomes several pieces, each its own section.
        return Packing(
            MAX_TEXT_CHARS,
            len(title) + 16,
            "",
            size=_size,
            max_piece=MAX_SECTION_CHARS,
            max_count=(MAX_BLOCKS - 2) // _BLOCKS_PER_NOTIFICATION,
        )

    def document(self, part: Part, channel: Channel, now: datetime) -> tuple[str, Mapping[str, Any]]:
        del now  # Slack webhooks are not signed by the sender
        header = (part.title + part.number)[:MAX_HEADER_CHARS]
        body_blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
        for position, block in enumerate(part.blocks):
            if position:
                body_blocks.append({"type": "divider"})
            body_blocks.extend(_blocks(block.text, position))
        mentions = _mentions(channel)
        if mentions:
            body_blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": mentions}})
        lines = [part.title + part.number, *(_first_line(b.text) for b in part.blocks if not part.single)]
        return channel.url, {"text": "\n".join(lines)[:MAX_FALLBACK_CHARS], "blocks": body_blocks[:MAX_BLOCKS]}

    def classify(self, answer: Answer) -> Verdict:
        return classify(answer)


CHANNEL = ChatChannel(SlackFormat())
