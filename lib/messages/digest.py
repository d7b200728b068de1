"""The digest in words: every budget's state in one message, from the rows a run's evaluations give.

Pure. ``digest_rows`` turns a run's evaluations into JSON-friendly rows (one per budget: its most urgent
group, how many groups it has and how many fire), the most urgent budget first; they travel in the
digest notification's ``detail["digest"]`` so an outbox retry says the same. ``digest_message`` words
them in zh or en for every chat channel; ``digest_payload`` is the webhook's ``budget.digest`` document.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Final

from lib.messages.units import format_percent, format_quantity
from lib.messages.words import EN_MONTHS, Fact, Message, Tone, as_decimal, language_of, local_time
from lib.model import Evaluation, Notification

KIND: Final = "digest"
MAX_ROWS = 40  # budgets listed by name; the rest are counted (a chat digest is read, not searched)
MAX_ACTIONS = 10
# The order budgets are listed in: what needs a look first.
_RANK = {"firing": 0, "error": 1, "no-data": 2, "resolved": 3, "ok": 4}
_STATUS_WORDS = {
    "zh": {"firing": "告警中", "error": "出错", "no-data": "无数据", "resolved": "已恢复", "ok": "正常"},
    "en": {"firing": "firing", "error": "error", "no-data": "no data", "resolved": "resolved", "ok": "ok"},
}
_MARKS = {"firing": "🔴", "error": "⚠️", "no-data": "⚠️", "resolved": "✅", "ok": "🟢"}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _urgency(e: Evaluation) -> tuple[int, float]:
    return _RANK.get(e.status, 5), -(e.percent or 0.0)


def digest_rows(
    evaluations: Iterable[Evaluation], order: Sequence[str] = (), floors: Collection[str] = ()
) -> list[dict[str, Any]]:
    """One row per budget, from its most urgent group; firing budgets first, then by percent, then ``order``.

    ``floors`` names the budgets whose limit is a floor (``below:``, a balance), not a ceiling.
    """
    by_budget: dict[str, list[Evaluation]] = {}
    for e in evaluations:
        by_budget.setdefault(e.budget, []).append(e)
    position = {name: i for i, name in enumerate(order)}
    rows: list[dict[str, Any]] = []
    for budget, found in by_budget.items():
        worst = min(found, key=_urgency)
        rows.append(
            {
                "budget": budget,
                "group": " / ".join(value for _, value in worst.group),
                "groups": len(found),
                "firing": sum(1 for e in found if e.status == "firing"),
                "status": worst.status,
                "value": _text(worst.value),
                "unit": worst.unit,
                "limit": _text(worst.limit),
                "percent": worst.percent,
                "forecast": _text(worst.forecast),
                "floor": budget in floors,
            }
        )
    rows.sort(
        key=lambda r: (
            _RANK.get(str(r["status"]), 5),
            -float(r["percent"] or 0.0),
            position.get(str(r["budget"]), 1 << 30),
        )
    )
    return rows


def _title(n: Notification, tz: tzinfo, lang: str) -> str:
    every = n.detail.get(KIND, {}).get("every", "day")
    local = n.period.start.astimezone(tz)
    if lang == "zh":
        day = f"{local.year}年{local.month}月{local.day}日"
        return f"📊 预算{'周报' if every == 'week' else '日报'} · {day}"
    day = f"{local.day} {EN_MONTHS[local.month - 1]} {local.year}"
    return f"📊 Budget {'weekly' if every == 'week' else 'daily'} digest · {day}"


def _row_fact(row: Mapping[str, Any], lang: str) -> Fact:
    unit = str(row.get("unit") or "")
    value, limit, forecast = (as_decimal(row.get(k)) for k in ("value", "limit", "forecast"))
    status = str(row.get("status") or "ok")
    parts = ["-" if value is None else format_quantity(value, unit, lang)]
    if limit is not None and row.get("floor"):
        floor = format_quantity(limit, unit, lang)
        parts.append(f"下限 {floor}" if lang == "zh" else f"alert below {floor}")
    elif limit is not None:
        parts[0] += f" / {format_quantity(limit, unit, lang)}"
    percent = row.get("percent")
    if isinstance(percent, int | float) and not isinstance(percent, bool) and not row.get("floor"):
        parts[0] += f"（{format_percent(percent)}）" if lang == "zh" else f" ({format_percent(percent)})"
    if forecast is not None:
        parts.append(f"{'预测' if lang == 'zh' else 'forecast'} {format_quantity(forecast, unit, lang)}")
    parts.append(_STATUS_WORDS[lang].get(status, status))
    groups, firing = int(row.get("groups") or 1), int(row.get("firing") or 0)
    if groups > 1:
        shown = str(row.get("group") or "")
        if lang == "zh":
            parts.append(
                f"{groups} 个分组" + (f"，{firing} 个告警" if firing else "") + (f"，最高 {shown}" if shown else "")
            )
        else:
            parts.append(
                f"{groups} groups" + (f", {firing} firing" if firing else "") + (f", top {shown}" if shown else "")
            )
    label = f"{_MARKS.get(status, '')} {row.get('budget')}".strip()
    return Fact(label, " · ".join(parts), strong=status == "firing")


def _action_fact(action: Mapping[str, Any], lang: str) -> Fact:
    targets = ", ".join(str(t) for t in action.get("targets", ()))
    what = f"{action.get('type')} → {targets}" if targets else str(action.get("type"))
    label = "待审批操作" if lang == "zh" else "Waiting for approval"
    return Fact(label, f"{action.get('budget')} · {what} · {action.get('id')}", strong=True)


def digest_message(n: Notification, language: str, tz: tzinfo) -> Message:
    """The digest notification in words: one fact per budget, the most urgent first, then pending actions."""
    lang = language_of(language)
    detail = n.detail.get(KIND, {})
    rows: list[Mapping[str, Any]] = list(detail.get("rows", ()))
    facts = [_row_fact(row, lang) for row in rows[:MAX_ROWS]]
    more = len(rows) - len(facts)
    if more > 0:
        rest = rows[MAX_ROWS:]
        firing = sum(1 for r in rest if r.get("status") == "firing")
        text = (
            f"另有 {more} 个预算" + (f"（{firing} 个告警中）" if firing else "")
            if lang == "zh"
            else (f"{more} more budgets" + (f" ({firing} firing)" if firing else ""))
        )
        facts.append(Fact("…", text))
    if not rows:
        facts.append(
            Fact(
                "预算" if lang == "zh" else "Budgets",
                "本次运行没有评估任何预算" if lang == "zh" else "none evaluated in this run",
            )
        )
    actions: list[Mapping[str, Any]] = list(detail.get("actions", ()))
    facts += [_action_fact(a, lang) for a in actions[:MAX_ACTIONS]]
    links: Mapping[str, str] = detail.get("links", {})
    for budget, url in links.items():
        facts.append(Fact(f"{'图表' if lang == 'zh' else 'Chart'} {budget}", url))  # plain: every client links it
    firing = sum(1 for r in rows if r.get("status") == "firing")
    tone: Tone = (
        "warning" if firing else ("info" if any(r.get("status") in ("error", "no-data") for r in rows) else "ok")
    )
    stamp = local_time(n.at, tz)
    footer = f"{n.id} · 数据时间 {stamp}" if lang == "zh" else f"{n.id} · as of {stamp}"
    return Message(
        id=n.id, budget=n.budget, tone=tone, title=_title(n, tz, lang), facts=tuple(facts), footer=footer, language=lang
    )


def digest_payload(n: Notification, message: str) -> dict[str, Any]:
    """The generic webhook's document for a digest: ``{"type": "budget.digest", ...}`` with every row."""
    detail = n.detail.get(KIND, {})
    return {
        "type": "budget.digest",
        "id": n.id,
        "every": detail.get("every", "day"),
        "period": n.period.to_dict(),
        "at": n.at.isoformat(),
        "budgets": list(detail.get("rows", ())),
        "actions": list(detail.get("actions", ())),
        "charts": dict(detail.get("links", {})),
        "message": message,
    }
