"""What each kind of notification says: threshold, forecast, below, runway, spike, no-data and action, in zh or en."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from decimal import Decimal

from lib.messages.actions import action_words
from lib.messages.units import format_percent, significant
from lib.messages.words import (
    EN_MONTHS,
    ERROR_CHARS,
    Fact,
    Tone,
    as_decimal,
    data_until_fact,
    is_absolute,
    level_words,
    local_time,
    percent_of,
    quantity_text,
    subject_of,
    this_period,
    usage_words,
)
from lib.model import Notification


def threshold_words(n: Notification, tz: tzinfo, lang: str) -> tuple[Tone, str, list[Fact]]:
    when = this_period(n, tz, lang)
    over = n.value is not None and n.limit is not None and n.value >= n.limit
    tone: Tone = "critical" if over else "warning"
    subject = subject_of(n)
    value = quantity_text(n.value, n, lang)
    if is_absolute(n) or n.limit is None:
        level = level_words(n, lang) or "-"
        if lang == "zh":
            title = f"预算告警：{subject} {when}已用 {value}，超过 {level}"
        else:
            title = f"Budget alert: {subject} has used {value} {when}, past {level}"
    else:
        percent = format_percent(n.percent) if n.percent is not None else percent_of(n.value, n.limit) or "-"
        limit = quantity_text(n.limit, n, lang)
        if lang == "zh":
            over_text = "，已超出限额" if over else ""
            title = f"预算告警：{subject} {when}已用 {percent}{over_text}（{value} / {limit}）"
        else:
            over_text = ", over the limit" if over else ""
            title = f"Budget alert: {subject} at {percent} of its limit {when}{over_text} ({value} of {limit})"
    facts = [Fact("用量" if lang == "zh" else "Used", usage_words(n, lang), strong=True)]
    level_text = level_words(n, lang)
    if level_text:
        facts.append(Fact("阈值" if lang == "zh" else "Threshold", level_text))
    return tone, title, facts


def forecast_words(n: Notification, tz: tzinfo, lang: str) -> tuple[Tone, str, list[Fact]]:
    when = this_period(n, tz, lang)
    subject = subject_of(n)
    amount = quantity_text(n.forecast, n, lang)
    limit = quantity_text(n.limit, n, lang)
    share = percent_of(n.forecast, n.limit) or "-"
    if lang == "zh":
        title = f"预算预测：{subject} {when}预计超限，周期结束时约 {amount}（限额 {limit} 的 {share}）"
        facts = [Fact("目前已用", usage_words(n, lang), strong=True)]
    else:
        title = f"Budget forecast: {subject} heading for {amount} {when}, {share} of its {limit} limit"
        facts = [Fact("Used so far", usage_words(n, lang), strong=True)]
    return "warning", title, facts


def below_threshold(n: Notification) -> Decimal | None:
    explicit = as_decimal(n.detail.get("below"))
    if explicit is not None:
        return explicit
    if n.limit is not None:
        return n.limit
    return as_decimal(n.level)


def below_words(n: Notification, lang: str) -> tuple[Tone, str, list[Fact]]:
    subject = subject_of(n)
    value = quantity_text(n.value, n, lang)
    floor = quantity_text(below_threshold(n), n, lang)
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


def run_out_date(n: Notification, tz: tzinfo, lang: str) -> str | None:
    """The local day the balance is forecast to run out: ``12月12日`` or ``12 December``."""
    raw = n.detail.get("runs_out")
    try:
        when = datetime.fromisoformat(str(raw)).astimezone(tz) if raw else None
    except ValueError:
        return None
    if when is None:
        return None
    return f"{when.month}月{when.day}日" if lang == "zh" else f"{when.day} {EN_MONTHS[when.month - 1]}"


def runway_words(n: Notification, tz: tzinfo, lang: str) -> tuple[Tone, str, list[Fact]]:
    subject = subject_of(n)
    value = quantity_text(n.value, n, lang)
    day = run_out_date(n, tz, lang)
    burn = quantity_text(as_decimal(n.detail.get("burn_per_day")), n, lang)
    horizon = as_decimal(n.detail.get("horizon_days"))
    days = significant(horizon) if horizon is not None else "-"
    if n.status == "resolved":
        tone: Tone = "ok"
        if lang == "zh":
            title = f"预算已恢复：{subject} 余额 {value}，按近期消耗可用超过 {days} 天"
        else:
            title = f"Budget resolved: {subject} at {value} lasts more than {days} days at the recent burn"
    else:
        tone = "critical"
        if lang == "zh":
            title = f"预算告警：{subject} 余额 {value}，" + (f"余额预计 {day} 用完" if day else "余额已用完")
        else:
            title = f"Budget alert: {subject} at {value}, " + (
                f"balance expected to run out on {day}" if day else "balance has run out"
            )
    facts = [Fact("当前" if lang == "zh" else "Now", value, strong=True)]
    if n.detail.get("burn_per_day") is not None:
        facts.append(Fact("近期日均消耗" if lang == "zh" else "Recent burn per day", burn))
    facts.append(Fact("预警期" if lang == "zh" else "Alert within", f"{days} 天" if lang == "zh" else f"{days} days"))
    return tone, title, facts


def spike_words(n: Notification, lang: str) -> tuple[Tone, str, list[Fact]]:
    subject = subject_of(n)
    value = quantity_text(n.value, n, lang)
    baseline_value = as_decimal(n.detail.get("baseline"))
    baseline = quantity_text(baseline_value, n, lang)
    ratio = as_decimal(n.detail.get("ratio"))
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
    factor = as_decimal(n.detail.get("factor"))
    if factor is not None:
        facts.append(Fact("告警倍数" if lang == "zh" else "Alert at", f"{significant(factor)}×"))
    return tone, title, facts


def no_data_words(n: Notification, lang: str) -> tuple[Tone, str, list[Fact]]:
    subject = subject_of(n)
    failures = n.detail.get("failures")
    facts: list[Fact] = []
    if n.status == "resolved":
        value = quantity_text(n.value, n, lang)
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


def is_reminder(n: Notification) -> bool:
    """A repeat of a condition that is still firing (``lib.rules`` counts repeats in ``repeat``)."""
    repeat = n.detail.get("repeat")
    return repeat is True or (isinstance(repeat, int) and not isinstance(repeat, bool) and repeat > 0)


def episode_facts(n: Notification, tz: tzinfo, lang: str) -> list[Fact]:
    """Since when a condition holds (below, spike, no-data), how far late data goes, and whether a silence
    held the message."""
    facts = []
    until = data_until_fact(n, tz, lang)
    if until is not None:
        facts.append(until)
    since = n.detail.get("since")
    if since and n.kind in ("below", "runway", "spike", "no-data"):
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


Words = Callable[[Notification, tzinfo, str], tuple[Tone, str, list[Fact]]]
# Each kind's composer; a kind not listed (``threshold``) is told as a threshold crossing.
WORDS: dict[str, Words] = {
    "forecast": forecast_words,
    "below": lambda n, tz, lang: below_words(n, lang),
    "runway": runway_words,
    "spike": lambda n, tz, lang: spike_words(n, lang),
    "no-data": lambda n, tz, lang: no_data_words(n, lang),
    "action": action_words,
}
