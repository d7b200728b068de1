"""What a notification says, in zh or en: a title and labelled facts that every channel can mark up.

Pure: time comes from the notification (``at``, ``period``) and the zone is an argument. The first line
answers "which budget, how much, of what limit"; the facts add "by when" (period end in the configured
zone), the threshold, the forecast and the largest contributors; the stable id closes the message.
The words live in ``words`` (shared phrases) and ``kinds`` (one composer per kind of notification).
"""

from __future__ import annotations

from datetime import tzinfo

from lib.messages.actions import crossing_facts
from lib.messages.digest import KIND as DIGEST
from lib.messages.digest import digest_message
from lib.messages.kinds import WORDS, episode_facts, is_reminder, threshold_words
from lib.messages.words import (
    BATCH_NAMES,
    EMOJI,
    Fact,
    Message,
    forecast_fact,
    group_text,
    language_of,
    local_time,
    period_fact,
    shown_group,
    top_fact,
)
from lib.model import Notification


def compose(n: Notification, language: str, tz: tzinfo) -> Message:
    """The notification in words, for channels to mark up."""
    if n.kind == DIGEST:
        return digest_message(n, language, tz)
    lang = language_of(language)
    words = WORDS.get(n.kind)
    if words is not None:
        tone, title, facts = words(n, tz, lang)
    else:
        tone, title, facts = threshold_words(n, tz, lang)
        if n.status == "resolved":
            tone = "ok"
            title = title.replace("预算告警", "预算已恢复", 1).replace("Budget alert", "Budget resolved", 1)
    if n.kind == "threshold":
        forecast = forecast_fact(n, lang)
        if forecast:
            facts.append(forecast)
    if n.kind in ("threshold", "forecast"):
        # "By when" right after "how much": the period end in the configured zone.
        facts.insert(1, period_fact(n, tz, lang))
    elif n.kind not in ("below", "runway"):  # a balance has no period to speak of
        facts.append(period_fact(n, tz, lang))
    if n.group:
        facts.append(Fact("分组" if lang == "zh" else "Group", group_text(shown_group(n), lang)))
    top = top_fact(n, lang)
    if top:
        facts.append(top)
    facts.extend(episode_facts(n, tz, lang))
    facts.extend(crossing_facts(n, lang))  # the actions this crossing set off (issue 16)
    if n.status == "firing" and is_reminder(n):
        title += "（持续提醒）" if lang == "zh" else " (reminder)"
    stamp = local_time(n.at, tz)
    footer = f"{n.id} · 数据时间 {stamp}" if lang == "zh" else f"{n.id} · as of {stamp}"
    return Message(
        id=n.id,
        budget=n.budget,
        tone=tone,
        title=f"{EMOJI[tone]} {title}",
        facts=tuple(facts),
        footer=footer,
        language=lang,
    )


def plain_body(message: Message) -> str:
    """Facts as ``label: value`` lines, then the footer."""
    lines = [f"{fact.label}{message.colon}{fact.value}" for fact in message.facts]
    lines.append(message.footer)
    return "\n".join(lines)


def render_text(n: Notification, language: str, tz: tzinfo) -> tuple[str, str]:
    """``(title, body)`` in plain text: the title says which budget, how much, of what limit."""
    message = compose(n, language, tz)
    return message.title, plain_body(message)


def batch_title(messages: list[Message] | tuple[Message, ...], language: str) -> str:
    """The title of a message that carries several notifications: counts, then the budgets named."""
    if len(messages) == 1:
        return messages[0].title
    firing = sum(1 for m in messages if m.tone != "ok")
    resolved = len(messages) - firing
    budgets = list(dict.fromkeys(m.budget for m in messages))
    shown = budgets[:BATCH_NAMES]
    if language_of(language) == "zh":
        parts = [f"{firing} 条告警"] if firing else []
        parts += [f"{resolved} 条恢复"] if resolved else []
        names = "、".join(shown) + (" 等" if len(budgets) > len(shown) else "")
        return f"预算通知：{'，'.join(parts)}（{names}）"
    parts = [f"{firing} firing"] if firing else []
    parts += [f"{resolved} resolved"] if resolved else []
    names = ", ".join(shown) + (" and more" if len(budgets) > len(shown) else "")
    return f"Budget alerts: {', '.join(parts)} ({names})"
