"""The words messages are made of: facts, the message shape, and phrases for periods, quantities and groups.

Pure: time comes from the notification (``at``, ``period``) and the zone is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from lib.messages.units import format_percent, format_quantity
from lib.model import Notification

Tone = Literal["critical", "warning", "ok", "info"]
TOP_ITEMS = 5
BATCH_NAMES = 3  # budgets named in a batch title
ERROR_CHARS = 200

EMOJI = {"critical": "🔴", "warning": "🟠", "ok": "✅", "info": "⚠️"}
DIMENSIONS = {
    "zh": {
        "zone-id": "站点",
        "host": "域名",
        "proxy-id": "四层代理",
        "region-id": "区域",
        "domain": "CDN 域名",
        "account": "账号",
    },
    "en": {
        "zone-id": "zone",
        "host": "host",
        "proxy-id": "proxy",
        "region-id": "region",
        "domain": "domain",
        "account": "account",
    },
}
ACCOUNT_NAME = "account_name"  # Notification.detail: the member account's name, shown instead of its uin
EN_MONTHS = (
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


def language_of(language: str) -> str:
    return "zh" if language == "zh" else "en"


def as_decimal(value: Any) -> Decimal | None:
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


def data_until_fact(n: Notification, tz: tzinfo, lang: str) -> Fact | None:
    """``数据截至 13:35`` / ``Data up to 13:35`` when the source's data ends short of the run (late billing
    data): the value covers usage up to then, not a quieter period. The date too when it is not today's."""
    raw = n.detail.get("data_until")
    if not raw:
        return None
    try:
        until = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    local, today = until.astimezone(tz), n.at.astimezone(tz)
    shown = f"{local:%H:%M}" if local.date() == today.date() else f"{local:%Y-%m-%d %H:%M}"
    return Fact("数据截至" if lang == "zh" else "Data up to", shown)


def is_month(n: Notification) -> bool:
    return elapsed_between(n.period.start, n.period.end) > timedelta(days=2)


def period_name(n: Notification, tz: tzinfo, lang: str) -> str:
    start = n.period.start.astimezone(tz)
    if is_month(n):
        return f"{start.year}年{start.month}月" if lang == "zh" else f"{EN_MONTHS[start.month - 1]} {start.year}"
    if lang == "zh":
        return f"{start.year}年{start.month}月{start.day}日"
    return f"{start.day} {EN_MONTHS[start.month - 1][:3]} {start.year}"


def this_period(n: Notification, tz: tzinfo, lang: str) -> str:
    """``本月``/``this month`` while the notification is about the running period, else its name."""
    if n.period.contains(n.at):
        if lang == "zh":
            return "本月" if is_month(n) else "今日"
        return "this month" if is_month(n) else "today"
    return period_name(n, tz, lang)


def elapsed_between(start: datetime, end: datetime) -> timedelta:
    # Aware datetimes sharing a tzinfo subtract as wall clocks; through UTC a DST day has 23 hours.
    return end.astimezone(timezone.utc) - start.astimezone(timezone.utc)


def time_left(n: Notification, lang: str) -> str:
    remaining = elapsed_between(n.at, n.period.end)
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


def period_fact(n: Notification, tz: tzinfo, lang: str) -> Fact:
    end = local_time(n.period.end, tz)
    name = period_name(n, tz, lang)
    if lang == "zh":
        return Fact("周期", f"{name}，{end} 结束（{time_left(n, lang)}）")
    return Fact("Period", f"{name}, ends {end} ({time_left(n, lang)})")


def group_text(group: tuple[tuple[str, str], ...], lang: str) -> str:
    """``站点 zone-1 · 域名 a.com`` / ``zone zone-1 · host a.com``."""
    names = DIMENSIONS[lang]
    return " · ".join(f"{names.get(key, key)} {value}" for key, value in group)


def shown_group(n: Notification) -> tuple[tuple[str, str], ...]:
    """``n.group`` as people read it: a member account by its name (issue 18), everything else as it is."""
    name = n.detail.get(ACCOUNT_NAME)
    if not isinstance(name, str) or not name:
        return n.group
    return tuple((key, name if key == "account" else value) for key, value in n.group)


def subject_of(n: Notification) -> str:
    """The budget and, when grouped, the group's values: ``edgeone-traffic · zone-1``."""
    if not n.group:
        return n.budget
    values = " / ".join(value for _, value in shown_group(n))
    return f"{n.budget} · {values}"


def top_fact(n: Notification, lang: str) -> Fact | None:
    if not n.breakdown:
        return None
    items = sorted(n.breakdown, key=lambda item: item[1], reverse=True)[:TOP_ITEMS]
    total = n.value if n.value and n.value > 0 else sum((amount for _, amount in n.breakdown), Decimal(0))
    parts = []
    for name, amount in items:
        share = in_parens(format_percent(amount / total * 100), lang) if total > 0 else ""
        parts.append(f"{name} {format_quantity(amount, n.unit, lang)}{share}")
    separator = "、" if lang == "zh" else ", "
    return Fact("占比最高" if lang == "zh" else "Largest", separator.join(parts))


def in_parens(text: str, lang: str) -> str:
    return f"（{text}）" if lang == "zh" else f" ({text})"


def quantity_text(value: Decimal | None, n: Notification, lang: str) -> str:
    return "-" if value is None else format_quantity(value, n.unit, lang)


def percent_of(value: Decimal | None, limit: Decimal | None) -> str | None:
    if value is None or not limit:
        return None
    return format_percent(value / limit * 100)


def is_absolute(n: Notification) -> bool:
    """Whether ``level`` is an amount rather than a percent (``lib.rules`` sets ``level_kind``)."""
    kind = n.detail.get("level_kind")
    if kind in ("percent", "absolute"):
        return bool(kind == "absolute")
    return n.detail.get("absolute") is True or n.limit is None


def level_words(n: Notification, lang: str) -> str | None:
    """The crossed level: ``80% (8 TB)`` of a limit, or an absolute amount."""
    if n.level is None:
        return None
    level = Decimal(str(n.level))
    if is_absolute(n):
        return format_quantity(level, n.unit, lang)
    if n.limit is None:
        return format_percent(level)
    return format_percent(level) + in_parens(quantity_text(n.limit * level / 100, n, lang), lang)


def usage_words(n: Notification, lang: str) -> str:
    """``8.1 TB / 10 TB（81%）`` or ``8.1 TB of 10 TB (81%)``; just the value without a limit."""
    value = quantity_text(n.value, n, lang)
    if n.limit is None:
        return value
    percent = format_percent(n.percent) if n.percent is not None else percent_of(n.value, n.limit)
    limit = quantity_text(n.limit, n, lang)
    if lang == "zh":
        return f"{value} / {limit}" + (f"（{percent}）" if percent else "")
    return f"{value} of {limit}" + (f" ({percent})" if percent else "")


def forecast_fact(n: Notification, lang: str) -> Fact | None:
    if n.forecast is None:
        return None
    amount = quantity_text(n.forecast, n, lang)
    share = percent_of(n.forecast, n.limit)
    if lang == "zh":
        return Fact("预测", f"周期结束时约 {amount}" + (f"（限额的 {share}）" if share else ""))
    return Fact("Forecast", f"about {amount} by period end" + (f" ({share} of limit)" if share else ""))
