"""Chart axes and words: round value ticks, local-time ticks, and the zh/en phrases charts show.

Pure: the zone and the language are arguments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_CEILING, Decimal

from lib.charts.spec import TimeTick, ValueTick
from lib.messages.units import format_quantity
from lib.messages.words import EN_MONTHS, utc_offset

_NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
TICKS = 4  # value ticks above zero, about

WORDS = {
    "zh": {
        "usage": "累计用量",
        "cost": "累计费用",
        "peak": "峰值",
        "balance": "余额",
        "limit": "限额",
        "forecast": "预测期末",
        "range": "预测区间",
        "daily": "每日",
        "hourly": "每小时",
        "daily_peak": "每日峰值",
        "hourly_peak": "每小时峰值",
        "spend": "每日消耗",
        "groups": "用量最高",
        "other": "其他",
        "as_of": "截至",
        "below": "低于此值告警",
        "runs_out": "预计用尽",
        "runway": "可用天数告警",
        "too_early": "预测需至少 {n} 个完整{step}",
        "no_burn": "近期无消耗，无法预测用尽日期",
        "used_up": "余额已用尽",
        "far": "按近期消耗，{years} 年内不会用尽",
        "no_data": "暂无数据",
        "day": "天",
        "days": "天",
        "hour": "小时",
    },
    "en": {
        "usage": "Usage to date",
        "cost": "Cost to date",
        "peak": "Peak",
        "balance": "Balance",
        "limit": "Limit",
        "forecast": "Forecast at period end",
        "range": "forecast range",
        "daily": "Per day",
        "hourly": "Per hour",
        "daily_peak": "Peak per day",
        "hourly_peak": "Peak per hour",
        "spend": "Spent per day",
        "groups": "Top groups",
        "other": "other",
        "as_of": "as of",
        "below": "alert below",
        "runs_out": "runs out",
        "runway": "runway alert",
        "too_early": "forecast after {n} complete {step}s",
        "no_burn": "no recent spending: no run-out date",
        "used_up": "the balance is used up",
        "far": "at the recent rate it lasts over {years} years",
        "no_data": "no data yet",
        "day": "day",
        "days": "days",
        "hour": "hour",
    },
}


def words(language: str) -> dict[str, str]:
    return WORDS["zh" if language == "zh" else "en"]


def nice_top(value: Decimal, ticks: int = TICKS) -> tuple[Decimal, Decimal]:
    """(top, step): the smallest round step (1, 2, 2.5, 5 x 10^n) whose ``ticks`` multiples reach ``value``."""
    if value <= 0:
        return Decimal(ticks), Decimal(1)
    raw = value / ticks
    magnitude = Decimal(1).scaleb(raw.adjusted())
    step = next(m * magnitude for m in _NICE if m * magnitude >= raw)
    count = (value / step).to_integral_value(rounding=ROUND_CEILING)
    return plain(step * count), plain(step)


def plain(value: Decimal) -> Decimal:
    """The same amount without an exponent: ``1.5E+13`` → ``15000000000000``, ``2.50`` → ``2.5``."""
    return Decimal(format(value.normalize(), "f"))


def value_ticks(top: Decimal, step: Decimal, unit: str, language: str) -> tuple[ValueTick, ...]:
    count = int((top / step).to_integral_value())
    return tuple(ValueTick(plain(step * i), format_quantity(step * i, unit, language)) for i in range(count + 1))


def day_label(instant: datetime, tz: tzinfo, language: str) -> str:
    """``11月8日`` / ``8 Nov`` in the configured zone."""
    local = instant.astimezone(tz)
    if language == "zh":
        return f"{local.month}月{local.day}日"
    return f"{local.day} {EN_MONTHS[local.month - 1][:3]}"


def moment_label(instant: datetime, tz: tzinfo, language: str) -> str:
    """``11月22日 10:00 UTC+8`` / ``22 Nov 10:00 UTC+8``."""
    local = instant.astimezone(tz)
    return f"{day_label(local, tz, language)} {local:%H:%M} {utc_offset(local)}"


def period_title(kind: str, start: datetime, tz: tzinfo, language: str) -> str:
    """``2026年11月`` / ``November 2026`` for a month; ``2026年11月22日`` / ``22 Nov 2026`` for a day."""
    local = start.astimezone(tz)
    if kind == "month":
        return f"{local.year}年{local.month}月" if language == "zh" else f"{EN_MONTHS[local.month - 1]} {local.year}"
    return (
        f"{local.year}年{day_label(local, tz, language)}"
        if language == "zh"
        else f"{day_label(local, tz, language)} {local.year}"
    )


def local_midnights(start: datetime, end: datetime, tz: tzinfo) -> list[datetime]:
    """Every local midnight in [start, end), in ``tz``."""
    local = start.astimezone(tz)
    day = local.date() if local == _midnight(local.date(), tz) else local.date() + timedelta(days=1)
    out: list[datetime] = []
    while True:
        moment = _midnight(day, tz)
        if moment >= end:
            return out
        out.append(moment)
        day += timedelta(days=1)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(tz)


def day_ticks(start: datetime, end: datetime, tz: tzinfo, language: str, every: int) -> tuple[TimeTick, ...]:
    """Ticks at local midnights: the first one, then every ``every`` days (1, 8, 15 ... of a month)."""
    days = local_midnights(start, end, tz)
    return tuple(TimeTick(d, day_label(d, tz, language)) for d in days[::every])


def hour_ticks(start: datetime, end: datetime, tz: tzinfo, every: int = 6) -> tuple[TimeTick, ...]:
    """Ticks every ``every`` hours of a day (00:00, 06:00 ...), by the clock, so DST days stay readable."""
    out: list[TimeTick] = []
    t = start.astimezone(timezone.utc)
    while t < end:
        local = t.astimezone(tz)
        if local.minute == 0 and local.hour % every == 0:
            out.append(TimeTick(local, f"{local:%H:%M}"))
        t += timedelta(hours=1)
    return tuple(out)
