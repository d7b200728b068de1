"""What a notification says, in zh or en: a title and labelled facts that every channel can mark up.

Pure: time comes from the notification (``at``, ``period``) and the zone is an argument. The first line
answers "which budget, how much, of what limit"; the facts add "by when" (period end in the configured
zone), the threshold, the forecast and the largest contributors; the stable id closes the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from lib.messages.units import format_percent, format_quantity, significant
from lib.model import Notification

Tone = Literal["critical", "warning", "ok", "info"]
TOP_ITEMS = 5
BATCH_NAMES = 3  # budgets named in a batch title
ERROR_CHARS = 200

_EMOJI = {"critical": "🔴", "warning": "🟠", "ok": "✅", "info": "⚠️"}
_DIMENSIONS = {
    "zh": {"zone-id": "站点", "host": "域名", "proxy-id": "四层代理", "region-id": "区域"},
    "en": {"zone-id": "zone", "host": "host", "proxy-id": "proxy", "region-id": "region"},
}
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Fact:
    """One labelled line; ``strong`` marks the line a reader must not miss (channels make it bold)."""

    label: str
    value: str
    strong: bool = False


@dataclass(frozen=True)
class Message:
    """A notification in words: ``title`` is one line, ``facts`` follow, ``footer`` is set small."""

    id: str
    budget: str
    tone: Tone
    title: str
    facts: tuple[Fact, ...]
    footer: str
    language: str

    @property
    def colon(self) -> str:
        return "：" if self.language == "zh" else ": "


def _lang(language: str) -> str:
    return "zh" if language == "zh" else "en"


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def utc_offset(instant: datetime) -> str:
    """``UTC+8``, ``UTC+5:30``, ``UTC-4``, ``UTC`` for the instant's own offset."""
    offset = instant.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(instant: datetime, tz: tzinfo) -> str:
    """``2026-11-22 10:00 UTC+8`` in the configured zone."""
    local = instant.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {utc_offset(local)}"


def _is_month(n: Notification) -> bool:
    return _elapsed(n.period.start, n.period.end) > timedelta(days=2)


def _period_name(n: Notification, tz: tzinfo, lang: str) -> str:
    start = n.period.start.astimezone(tz)
    if _is_month(n):
        return f"{start.year}年{start.month}月" if lang == "zh" else f"{_EN_MONTHS[start.month - 1]} {start.year}"
    if lang == "zh":
        return f"{start.year}年{start.month}月{start.day}日"
    return f"{start.day} {_EN_MONTHS[start.month - 1][:3]} {start.year}"


def _this_period(n: Notification, tz: tzinfo, lang: str) -> str:
    """``本月``/``this month`` while the notification is about the running period, else its name."""
    if n.period.contains(n.at):
        if lang == "zh":
            return "本月" if _is_month(n) else "今日"
        return "this month" if _is_month(n) else "today"
    return _period_name(n, tz, lang)


def _elapsed(start: datetime, end: datetime) -> timedelta:
    # Aware datetimes sharing a tzinfo subtract as wall clocks; through UTC a DST day has 23 hours.
    return end.astimezone(timezone.utc) - start.astimezone(timezone.utc)


def _left(n: Notification, lang: str) -> str:
    remaining = _elapsed(n.at, n.period.end)
    if remaining <= timedelta(0):
        return "已结束" if lang == "zh" else "ended"
    if remaining >= timedelta(days=2):
        days = remaining.days
        return f"还剩 {days} 天" if lang == "zh" else f"{days} days left"
    if remaining >= timedelta(hours=1):
        hours = int(remaining.total_seconds() // 3600)
        return f"还剩 {hours} 小时" if lang == "zh" else f"{hours} h left"
    minutes = max(1, int(remaining.total_seconds() // 60))
    return f"还剩 {minutes} 分钟" if lang == "zh" else f"{minutes} min left"


def _period_fact(n: Notification, tz: tzinfo, lang: str) -> Fact:
    end = local_time(n.period.end, tz)
    name = _period_name(n, tz, lang)
    if lang == "zh":
        return Fact("周期", f"{name}，{end} 结束（{_left(n, lang)}）")
    return Fact("Period", f"{name}, ends {end} ({_left(n, lang)})")


def group_text(group: tuple[tuple[str, str], ...], lang: str) -> str:
    """``站点 zone-1 · 域名 a.com`` / ``zone zone-1 · host a.com``."""
    names = _DIMENSIONS[lang]
    return " · ".join(f"{names.get(key, key)} {value}" for key, value in group)


def _subject(n: Notification) -> str:
    """The budget and, when grouped, the group's values: ``edgeone-traffic · zone-1``."""
    if not n.group:
        return n.budget
    values = " / ".join(value for _, value in n.group)
    return f"{n.budget} · {values}"


def _top_fact(n: Notification, lang: str) -> Fact | None:
    if not n.breakdown:
        return None
    items = sorted(n.breakdown, key=lambda item: item[1], reverse=True)[:TOP_ITEMS]
    total = n.value if n.value and n.value > 0 else sum((amount for _, amount in n.breakdown), Decimal(0))
    parts = []
    for name, amount in items:
        share = _paren(format_percent(amount / total * 100), lang) if total > 0 else ""
        parts.append(f"{name} {format_quantity(amount, n.unit, lang)}{share}")
    separator = "、" if lang == "zh" else ", "
    return Fact("占比最高" if lang == "zh" else "Largest", separator.join(parts))


def _paren(text: str, lang: str) -> str:
    return f"（{text}）" if lang == "zh" else f" ({text})"


def _q(value: Decimal | None, n: Notification, lang: str) -> str:
    return "-" if value is None else format_quantity(value, n.unit, lang)


def _percent_of(value: Decimal | None, limit: Decimal | None) -> str | None:
    if value is None or not limit:
        return None
    return format_percent(value / limit * 100)


def _is_absolute(n: Notification) -> bool:
    """Whether ``level`` is an amount rather than a percent (``lib.rules`` sets ``level_kind``)."""
    kind = n.detail.get("level_kind")
    if kind in ("percent", "absolute"):
        return bool(kind == "absolute")
    return n.detail.get("absolute") is True or n.limit is None


def _level_text(n: Notification, lang: str) -> str | None:
    """The crossed level: ``80% (8 TB)`` of a limit, or an absolute amount."""
    if n.level is None:
        return None
    level = Decimal(str(n.level))
    if _is_absolute(n):
        return format_quantity(level, n.unit, lang)
    if n.limit is None:
        return format_percent(level)
    return format_percent(level) + _paren(_q(n.limit * level / 100, n, lang), lang)


def _usage(n: Notification, lang: str) -> str:
    """``8.1 TB / 10 TB（81%）`` or ``8.1 TB of 10 TB (81%)``; just the value without a limit."""
    value = _q(n.value, n, lang)
    if n.limit is None:
        return value
    percent = format_percent(n.percent) if n.percent is not None else _percent_of(n.value, n.limit)
    limit = _q(n.limit, n, lang)
    if lang == "zh":
        return f"{value} / {limit}" + (f"（{percent}）" if percent else "")
    return f"{value} of {limit}" + (f" ({percent})" if percent else "")


def _forecast_fact(n: Notification, lang: str) -> Fact | None:
    if n.forecast is None:
        return None
    amount = _q(n.forecast, n, lang)
    share = _percent_of(n.forecast, n.limit)
    if lang == "zh":
        return Fact("预测", f"周期结束时约 {amount}" + (f"（限额的 {share}）" if share else ""))
    return Fact("Forecast", f"about {amount} by period end" + (f" ({share} of limit)" if share else ""))


def _threshold(n: Notification, tz: tzinfo, lang: str) -> tuple[Tone, str, list[Fact]]:
    when = _this_period(n, tz, lang)
    over = n.value is not None and n.limit is not None and n.value >= n.limit
    tone: Tone = "critical" if over else "warning"
    subject = _subject(n)
    value = _q(n.value, n, lang)
    if _is_absolute(n) or n.limit is None:
        level = _level_text(n, lang) or "-"
        if lang == "zh":
            title = f"预算告警：{subject} {when}已用 {value}，超过 {level}"
        else:
            title = f"Budget alert: {subject} has used {value} {when}, past {level}"
    else:
        percent = format_percent(n.percent) if n.percent is not None else _percent_of(n.value, n.limit) or "-"
        limit = _q(n.limit, n, lang)
        if lang == "zh":
            over_text = "，已超出限额" if over else ""
            title = f"预算告警：{subject} {when}已用 {percent}{over_text}（{value} / {limit}）"
        else:
            over_text = ", over the limit" if over else ""
            title = f"Budget alert: {subject} at {percent} of its limit {when}{over_text} ({value} of {limit})"
    facts = [Fact("用量" if lang == "zh" else "Used", _usage(n, lang), strong=True)]
    level_text = _level_text(n, lang)
    if level_text:
        facts.append(Fact("阈值" if lang == "zh" else "Threshold", level_text))
    return tone, title, facts


def _forecast(n: Notification, tz: tzinfo, lang: str) -> tuple[Tone, str, list[Fact]]:
    when = _this_period(n, tz, lang)
    subject = _subject(n)
    amount = _q(n.forecast, n, lang)
    limit = _q(n.limit, n, lang)
    share = _percent_of(n.forecast, n.limit) or "-"
    if lang == "zh":
        title = f"预算预测：{subject} {when}预计超限，周期结束时约 {amount}（限额 {limit} 的 {share}）"
        facts = [Fact("目前已用", _usage(n, lang), strong=True)]
    else:
        title = f"Budget forecast: {subject} heading for {amount} {when}, {share} of its {limit} limit"
        facts = [Fact("Used so far", _usage(n, lang), strong=True)]
    return "warning", title, facts


def _below_threshold(n: Notification) -> Decimal | None:
    explicit = _dec(n.detail.get("below"))
    if explicit is not None:
        return explicit
    if n.limit is not None:
        return n.limit
    return _dec(n.level)


def _below(n: Notification, lang: str) -> tuple[Tone, str, list[Fact]]:
    subject = _subject(n)
    value = _q(n.value, n, lang)
    floor = _q(_below_threshold(n), n, lang)
    if n.status == "resolved":
        if lang == "zh":
            title = f"预算已恢复：{subject} 回到 {value}，高于下限 {floor}"
        else:
            title = f"Budget resolved: {subject} is back at {value}, above {floor}"
        tone: Tone = "ok"
    else:
        if lang == "zh":
            title = f"预算告警：{subject} 当前 {value}，低于下限 {floor}"
        else:
            title = f"Budget alert: {subject} is {value}, below {floor}"
        tone = "critical"
    facts = [
        Fact("当前" if lang == "zh" else "Now", value, strong=True),
        Fact("下限" if lang == "zh" else "Alert below", floor),
    ]
    return tone, title, facts


def _spike(n: Notification, lang: str) -> tuple[Tone, str, list[Fact]]:
    subject = _subject(n)
    value = _q(n.value, n, lang)
    baseline_value = _dec(n.detail.get("baseline"))
    baseline = _q(baseline_value, n, lang)
    ratio = _dec(n.detail.get("ratio"))
    if ratio is None and baseline_value and n.value is not None:
        ratio = n.value / baseline_value
    times = significant(ratio) if ratio is not None else None
    method = str(n.detail.get("method") or n.detail.get("baseline_kind") or "")
    if lang == "zh":
        basis = {"yesterday": "昨日同期", "median": "近期中位数"}.get(method, "基线")
    else:
        basis = {"yesterday": "same time yesterday", "median": "recent median"}.get(method, "baseline")
    if n.status == "resolved":
        tone: Tone = "ok"
        if lang == "zh":
            title = f"预算已恢复：{subject} 突增结束，回落至 {value}（{basis} {baseline}）"
        else:
            title = f"Budget resolved: {subject} spike is over, back to {value} ({basis} {baseline})"
    else:
        tone = "warning"
        if lang == "zh":
            title = f"预算·用量突增：{subject} {value}" + (f"，是{basis} {baseline} 的 {times} 倍" if times else "")
        else:
            title = f"Budget spike: {subject} at {value}" + (f", {times}× the {basis} of {baseline}" if times else "")
    facts = [
        Fact("当前" if lang == "zh" else "Now", value, strong=True),
        Fact(basis.capitalize() if lang == "en" else basis, baseline),
    ]
    factor = _dec(n.detail.get("factor"))
    if factor is not None:
        facts.append(Fact("告警倍数" if lang == "zh" else "Alert at", f"{significant(factor)}×"))
    return tone, title, facts


def _no_data(n: Notification, lang: str) -> tuple[Tone, str, list[Fact]]:
    subject = _subject(n)
    failures = n.detail.get("failures")
    facts: list[Fact] = []
    if n.status == "resolved":
        value = _q(n.value, n, lang)
        title = (
            f"预算已恢复：{subject} 数据恢复，当前 {value}"
            if lang == "zh"
            else f"Budget resolved: {subject} has data again, now {value}"
        )
        if n.value is not None:
            facts.append(Fact("当前" if lang == "zh" else "Now", value, strong=True))
        return "ok", title, facts
    if lang == "zh":
        title = f"预算·数据缺失：{subject} 无法获取用量" + (f"（连续 {failures} 次失败）" if failures else "")
    else:
        title = f"Budget no data: cannot read {subject}" + (
            f" ({failures} failed fetches in a row)" if failures else ""
        )
    error = n.detail.get("error")
    if error:
        text = str(error)
        text = text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"
        facts.append(Fact("最近错误" if lang == "zh" else "Last error", text, strong=True))
    return "info", title, facts


def _is_reminder(n: Notification) -> bool:
    """A repeat of a condition that is still firing (``lib.rules`` counts repeats in ``repeat``)."""
    repeat = n.detail.get("repeat")
    return repeat is True or (isinstance(repeat, int) and not isinstance(repeat, bool) and repeat > 0)


def _episode_facts(n: Notification, tz: tzinfo, lang: str) -> list[Fact]:
    """Since when a condition holds (below, spike, no-data), and whether a silence held the message."""
    facts = []
    since = n.detail.get("since")
    if since and n.kind in ("below", "spike", "no-data"):
        try:
            began = datetime.fromisoformat(str(since).replace("Z", "+00:00"))
        except ValueError:
            shown = str(since)
        else:
            shown = local_time(began if began.tzinfo else began.replace(tzinfo=timezone.utc), tz)
        facts.append(Fact("开始于" if lang == "zh" else "Since", shown))
    if n.detail.get("held"):
        note = "静默期间触发，静默结束后发出" if lang == "zh" else "held by a silence, sent now that it has ended"
        facts.append(Fact("说明" if lang == "zh" else "Note", note))
    return facts


def compose(n: Notification, language: str, tz: tzinfo) -> Message:
    """The notification in words, for channels to mark up."""
    lang = _lang(language)
    if n.kind == "forecast":
        tone, title, facts = _forecast(n, tz, lang)
    elif n.kind == "below":
        tone, title, facts = _below(n, lang)
    elif n.kind == "spike":
        tone, title, facts = _spike(n, lang)
    elif n.kind == "no-data":
        tone, title, facts = _no_data(n, lang)
    else:
        tone, title, facts = _threshold(n, tz, lang)
        if n.status == "resolved":
            tone = "ok"
            title = title.replace("预算告警", "预算已恢复", 1).replace("Budget alert", "Budget resolved", 1)
    if n.kind == "threshold":
        forecast = _forecast_fact(n, lang)
        if forecast:
            facts.append(forecast)
    if n.kind in ("threshold", "forecast"):
        # "By when" right after "how much": the period end in the configured zone.
        facts.insert(1, _period_fact(n, tz, lang))
    elif n.kind != "below":
        facts.append(_period_fact(n, tz, lang))
    if n.group:
        facts.append(Fact("分组" if lang == "zh" else "Group", group_text(n.group, lang)))
    top = _top_fact(n, lang)
    if top:
        facts.append(top)
    facts.extend(_episode_facts(n, tz, lang))
    if n.status == "firing" and _is_reminder(n):
        title += "（持续提醒）" if lang == "zh" else " (reminder)"
    stamp = local_time(n.at, tz)
    footer = f"{n.id} · 数据时间 {stamp}" if lang == "zh" else f"{n.id} · as of {stamp}"
    return Message(
        id=n.id,
        budget=n.budget,
        tone=tone,
        title=f"{_EMOJI[tone]} {title}",
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
    if _lang(language) == "zh":
        parts = [f"{firing} 条告警"] if firing else []
        parts += [f"{resolved} 条恢复"] if resolved else []
        names = "、".join(shown) + (" 等" if len(budgets) > len(shown) else "")
        return f"预算通知：{'，'.join(parts)}（{names}）"
    parts = [f"{firing} firing"] if firing else []
    parts += [f"{resolved} resolved"] if resolved else []
    names = ", ".join(shown) + (" and more" if len(budgets) > len(shown) else "")
    return f"Budget alerts: {', '.join(parts)} ({names})"
