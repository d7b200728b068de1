"""The digest in words: every budget's state in one message, from the rows a run's evaluations give.

Pure. ``digest_rows`` turns a run's evaluations into JSON-friendly rows (one per budget: its most urgent
group, how many groups it has and how many fire), the most urgent budget first; they travel in the
digest notification's ``detail["digest"]`` so an outbox retry says the same. ``digest_message`` words
them in zh or en for every chat channel; ``digest_payload`` is the webhook's ``budget.digest`` document.

With member accounts (issue 18) the digest also carries ``accounts``: one line per member (its name, how
many of its evaluations fire, its worst budget's percent, and when its numbers were read), built by
``account_lines``. Under fan-out each shard's rows and lines are recorded with its outcome and the
coordinator joins them (``merge_rows``, ``merge_accounts``), so one digest covers the organization.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any, Final

from lib.messages.units import format_percent, format_quantity
from lib.messages.words import EN_MONTHS, Fact, Message, Tone, as_decimal, language_of, local_time
from lib.model import Evaluation, Notification

KIND: Final = "digest"
MAX_ROWS = 40  # budgets listed by name; the rest are counted (a chat digest is read, not searched)
MAX_ACTIONS = 10
MAX_ACCOUNTS = 40  # member lines listed; the rest are counted, the firing ones first
ACCOUNT_KEY: Final = "account"  # the group key that names a member account (lib.sources.members.ACCOUNT)
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


def _shown(group: Iterable[tuple[str, str]], names: Mapping[str, str]) -> str:
    """A group's values as people read them: a member account by its name when known."""
    return " / ".join(names.get(value, value) if key == ACCOUNT_KEY else value for key, value in group)


def digest_rows(
    evaluations: Iterable[Evaluation],
    order: Sequence[str] = (),
    floors: Collection[str] = (),
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per budget, from its most urgent group; firing budgets first, then by percent, then ``order``.

    ``floors`` names the budgets whose limit is a floor (``below:``, a balance), not a ceiling; ``names``
    maps member uins to the names a group shows.
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
                "group": _shown(worst.group, names or {}),
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
    return _sorted(rows, position)


def _sorted(rows: list[dict[str, Any]], position: Mapping[str, int]) -> list[dict[str, Any]]:
    rows.sort(
        key=lambda r: (
            _RANK.get(str(r["status"]), 5),
            -float(r["percent"] or 0.0),
            position.get(str(r["budget"]), 1 << 30),
        )
    )
    return rows


def _row_urgency(row: Mapping[str, Any]) -> tuple[int, float]:
    return _RANK.get(str(row.get("status")), 5), -float(row.get("percent") or 0.0)


def merge_rows(parts: Iterable[Sequence[Mapping[str, Any]]], order: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows of disjoint sets of groups (the own account's run, each shard's) as one: per budget the most urgent
    row, its groups and firing groups added up."""
    merged: dict[str, dict[str, Any]] = {}
    for rows in parts:
        for row in rows:
            budget = str(row.get("budget"))
            seen = merged.get(budget)
            if seen is None:
                merged[budget] = dict(row)
                continue
            groups = int(seen.get("groups") or 0) + int(row.get("groups") or 0)
            firing = int(seen.get("firing") or 0) + int(row.get("firing") or 0)
            worst = dict(row) if _row_urgency(row) < _row_urgency(seen) else seen
            merged[budget] = {**worst, "groups": groups, "firing": firing}
    return _sorted(list(merged.values()), {name: i for i, name in enumerate(order)})


def account_lines(evaluations: Iterable[Evaluation], names: Mapping[str, str], as_of: str) -> dict[str, dict[str, Any]]:
    """Per member uin (every one in ``names``, and any other an evaluation names): its name, evaluations,
    firing and failing counts, its most urgent budget and that budget's percent, read at ``as_of`` (ISO)."""
    found: dict[str, list[Evaluation]] = {uin: [] for uin in names}
    for e in evaluations:
        uin = dict(e.group).get(ACCOUNT_KEY)
        if uin is not None:
            found.setdefault(uin, []).append(e)
    out: dict[str, dict[str, Any]] = {}
    for uin, mine in found.items():
        worst = min(mine, key=_urgency) if mine else None
        out[uin] = {
            "uin": uin,
            "name": names.get(uin, uin),
            "evaluations": len(mine),
            "firing": sum(1 for e in mine if e.status == "firing"),
            "errors": sum(1 for e in mine if e.status in ("error", "no-data")),
            "budget": None if worst is None else worst.budget,
            "status": None if worst is None else worst.status,
            "percent": None if worst is None else worst.percent,
            "as_of": as_of if mine else None,
        }
    return out


def merge_accounts(parts: Iterable[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Member lines from several records: per uin the most recently read numbers (a line without any loses)."""
    out: dict[str, dict[str, Any]] = {}
    for lines in parts:
        for uin, line in lines.items():
            seen = out.get(uin)
            if seen is None or _read_at(line) > _read_at(seen):
                out[uin] = {**dict(line), "name": line.get("name") or (seen or {}).get("name") or uin}
    return out


def _read_at(line: Mapping[str, Any]) -> float:
    """When a member line's numbers were read, as a POSIX time (-inf when never)."""
    text = line.get("as_of")
    try:
        return datetime.fromisoformat(str(text)).timestamp() if text else float("-inf")
    except ValueError:
        return float("-inf")


def _account_order(line: Mapping[str, Any]) -> tuple[int, float, int, str]:
    uin = str(line.get("uin") or "")
    return -int(line.get("firing") or 0), -float(line.get("percent") or 0.0), len(uin), uin


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


def _account_fact(line: Mapping[str, Any], lang: str, tz: tzinfo) -> Fact:
    uin, name = str(line.get("uin") or ""), str(line.get("name") or line.get("uin") or "")
    firing, count = int(line.get("firing") or 0), int(line.get("evaluations") or 0)
    label = f"{'🔴' if firing else '👤'} {name}"
    if not count or not line.get("as_of"):
        return Fact(label, f"{uin} · {'尚无数据' if lang == 'zh' else 'no numbers yet'}")
    parts = [uin, f"{count} 项中 {firing} 项告警" if lang == "zh" else f"{firing} of {count} firing"]
    percent, budget = line.get("percent"), line.get("budget")
    if isinstance(percent, int | float) and not isinstance(percent, bool) and budget:
        parts.append(f"{'最高' if lang == 'zh' else 'worst'} {budget} {format_percent(percent)}")
    elif budget and line.get("status") in ("error", "no-data"):
        parts.append(f"{budget} {_STATUS_WORDS[lang].get(str(line.get('status')), '')}")
    read = datetime.fromisoformat(str(line["as_of"])).astimezone(tz).strftime("%m-%d %H:%M")
    parts.append(f"数据 {read}" if lang == "zh" else f"as of {read}")
    return Fact(label, " · ".join(parts), strong=firing > 0)


def _account_facts(lines: Iterable[Mapping[str, Any]], lang: str, tz: tzinfo) -> list[Fact]:
    """A heading, one fact per member (the firing and fullest first), and a count of those left out."""
    ordered = sorted(lines, key=_account_order)
    if not ordered:
        return []
    firing = sum(1 for line in ordered if int(line.get("firing") or 0))
    head = (
        Fact("成员账号", f"{len(ordered)} 个，{firing} 个有告警")
        if lang == "zh"
        else Fact("Member accounts", f"{len(ordered)}, {firing} with alerts firing")
    )
    facts = [head, *(_account_fact(line, lang, tz) for line in ordered[:MAX_ACCOUNTS])]
    rest = ordered[MAX_ACCOUNTS:]
    if rest:
        hot = sum(1 for line in rest if int(line.get("firing") or 0))
        facts.append(
            Fact("…", f"另有 {len(rest)} 个成员" + (f"（{hot} 个有告警）" if hot else ""))
            if lang == "zh"
            else Fact("…", f"{len(rest)} more members" + (f" ({hot} with alerts)" if hot else ""))
        )
    return facts


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
    accounts: Mapping[str, Mapping[str, Any]] = detail.get("accounts", {})
    facts += _account_facts(accounts.values(), lang, tz)
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
        **({"accounts": list(detail["accounts"].values())} if detail.get("accounts") else {}),
        "message": message,
    }
