"""What the dashboard shows, as plain values: ``gather`` reads the state (I/O), ``build`` shapes it (pure).

Every number is already in words here (human units, local times, the configured language), so the page
only lays the board out and escapes it, and tests check the board without parsing HTML.

With ``accounts:`` (issue 18) the board also lists the members (``lib.web.accounts``), shows a member's
group by its name, and, given ``account`` (the page's ``?account=<uin>``), only that member's rows,
alerts and charts, from the newest recorded run that evaluated it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lib.messages.units import format_percent, format_quantity
from lib.web.accounts import ACCOUNT_KEY, AccountItem, account_items, account_of, budget_units, member_names
from lib.web.charts import budget_spec, svg
from lib.web.words import state_word, words

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.config.models import Config
    from lib.model import Point, Silence
    from lib.state.actions import ActionRecord
    from lib.state.entries import OutboxEntry

MAX_ROWS = 8  # groups listed per budget; the chart's top groups and GET /status have the rest
MAX_ACTIONS = 50
RUNS = 5
ACCOUNT_RUNS = 20  # runs searched for a filtered member's newest evaluations (each shard records its own)
UNDOABLE = ("done", "failed", "undo-failed")


@dataclass(frozen=True)
class Row:
    """One evaluation of a budget: a group's value, limit, percent, forecast and status, in words."""

    group: str
    value: str
    limit: str
    percent: str
    forecast: str
    status: str  # the status code (ok, firing ...) for the page's marks
    status_text: str


@dataclass(frozen=True)
class Card:
    """One budget: its rows, its chart (SVG) and how fresh its data is."""

    name: str
    source: str
    metric: str
    status: str  # the worst of its rows
    rows: tuple[Row, ...]
    hidden_rows: int
    chart_svg: str
    newest: str  # how far its stored data reaches ("" without data): see ``_data_end``


@dataclass(frozen=True)
class Item:
    """A line of a list (a firing alert, a silence, a failed delivery, a run): a title and details."""

    title: str
    detail: str
    status: str = ""


@dataclass(frozen=True)
class ActionItem:
    """A recorded action; ``can_approve``/``can_undo`` say which button a signed-in person gets."""

    id: str
    title: str
    detail: str
    state: str
    state_text: str
    can_approve: bool
    can_undo: bool


@dataclass(frozen=True)
class Board:
    language: str
    as_of: str
    cards: tuple[Card, ...]
    firing: tuple[Item, ...]
    silences: tuple[Item, ...]
    pending: tuple[ActionItem, ...]
    other_actions: tuple[ActionItem, ...]
    failed: tuple[Item, ...]
    runs: tuple[Item, ...]
    freshness: tuple[Item, ...]
    problems: tuple[str, ...]
    accounts: tuple[AccountItem, ...] = ()  # with accounts: every member, as GET /status lists them
    account: tuple[str, str] | None = None  # the filter: (uin, name)


def gather(app: App, *, now: datetime, account: str | None = None) -> Board:
    """Read what the dashboard shows from the App's state (one read per kind of record)."""
    config = app.config
    actions = app.repo.actions.records()
    from lib.app.fanout import shard_view

    shards, names = shard_view(app)
    return build(
        config,
        runs=app.repo.runs.list(limit=ACCOUNT_RUNS if account else RUNS),
        series={b.name: app.repo.series.load_budget(b.name) for b in config.budgets},
        silences=app.repo.silences.list().value,
        actions=actions,
        failed=app.repo.outbox.failed(),
        problems=app.repo.problems[-10:],
        now=now,
        shards=shards,
        names=names,
        account=account,
    )


def _member_view(
    runs: Sequence[Mapping[str, Any]], series: Mapping[str, Mapping[str, Sequence[Point]]], uin: str
) -> tuple[list[Mapping[str, Any]], dict[str, Mapping[str, Sequence[Point]]]]:
    """Member ``uin``'s evaluations from the newest run that has any, and only its series."""
    evaluations: list[Mapping[str, Any]] = []
    for run in runs:
        evaluations = [e for e in run.get("evaluations") or () if isinstance(e, Mapping) and account_of(e) == uin]
        if evaluations:
            break
    mark = f"{ACCOUNT_KEY}={uin}"
    mine: dict[str, Mapping[str, Sequence[Point]]] = {
        b: {k: v for k, v in groups.items() if mark in k.split(",")} for b, groups in series.items()
    }
    return evaluations, mine


def build(
    config: Config,
    *,
    runs: Sequence[Mapping[str, Any]],
    series: Mapping[str, Mapping[str, Sequence[Point]]],
    silences: Sequence[Silence],
    actions: Sequence[ActionRecord],
    failed: Sequence[OutboxEntry],
    problems: Sequence[str],
    now: datetime,
    shards: Sequence[Mapping[str, Any]] = (),
    names: Mapping[str, str] | None = None,
    account: str | None = None,
) -> Board:
    """The board as of ``now`` from the state's records (pure); ``account``: one member's view only.

    ``names``: the member names the last listing recorded; the shards' and ``accounts: members:`` add to them.
    """
    from lib.periods import zone

    tz = zone(config.timezone)
    lang = config.language
    w = words(lang)
    names = member_names(config, shards, names or {}) if config.accounts is not None else {}
    evaluations = [e for e in (runs[0].get("evaluations") or []) if isinstance(e, Mapping)] if runs else []
    members: tuple[AccountItem, ...] = ()
    if config.accounts is not None:
        members = account_items(config, evaluations, shards, names, budget_units(config, evaluations))
    budgets = list(config.budgets)
    if account is not None:
        evaluations, series = _member_view(runs, series, account)
        budgets = [b for b in budgets if b.accounts is not None]  # the own account's budgets are not a member's
    cards = []
    for budget in budgets:
        own = [e for e in evaluations if e.get("budget") == budget.name]
        rows = [_row(e, lang, w, names) for e in own]
        rows.sort(key=lambda r: (_RANK.get(r.status, 9), r.group))
        spec = budget_spec(config, budget, series.get(budget.name, {}), evaluations, now=now, language=lang)
        newest = _data_end(budget.source, series.get(budget.name, {}), now)
        cards.append(
            Card(
                name=budget.name,
                source=budget.source,
                metric=budget.metric,
                status=rows[0].status if rows else "no-data",
                rows=tuple(rows[:MAX_ROWS]),
                hidden_rows=max(0, len(rows) - MAX_ROWS),
                chart_svg=svg(spec, phone=True),
                newest="" if newest is None else _when(newest, tz),
            )
        )
    return Board(
        language=lang,
        as_of=w["as_of"].format(now=_when(now, tz), tz=config.timezone),
        cards=tuple(cards),
        firing=tuple(_firing(e, lang, w, names) for e in evaluations if e.get("status") == "firing"),
        silences=tuple(_silence(s, tz, w) for s in sorted(silences, key=lambda s: s.starts_at) if now < s.ends_at),
        pending=tuple(_action(r, tz, w) for r in _recent(actions) if r.state == "pending-approval"),
        other_actions=tuple(_action(r, tz, w) for r in _recent(actions) if r.state != "pending-approval"),
        failed=tuple(_failure(e, tz, w) for e in failed),
        runs=tuple(_run(r, tz, w) for r in runs),
        freshness=_freshness(config, series, now, tz, w),
        problems=tuple(problems),
        accounts=members,
        account=None if account is None else (account, names.get(account, account)),
    )


_RANK = {"firing": 0, "error": 1, "no-data": 2, "resolved": 3, "ok": 4}


def _row(e: Mapping[str, Any], lang: str, w: Mapping[str, str], names: Mapping[str, str]) -> Row:
    unit = str(e.get("unit") or "")
    status = str(e.get("status") or "")
    percent = e.get("percent")
    return Row(
        group=_group(e.get("group"), names) or w["whole"],
        value=_amount(e.get("value"), unit, lang),
        limit=_amount(e.get("limit"), unit, lang),
        percent=format_percent(percent) if isinstance(percent, (int, float)) else "–",
        forecast=_amount(e.get("forecast"), unit, lang),
        status=status,
        status_text=state_word(w, status),
    )


def _firing(e: Mapping[str, Any], lang: str, w: Mapping[str, str], names: Mapping[str, str]) -> Item:
    unit = str(e.get("unit") or "")
    group = _group(e.get("group"), names)
    title = f"{e.get('budget')}" + (f" · {group}" if group else "")
    parts = [_amount(e.get("value"), unit, lang)]
    if isinstance(e.get("percent"), (int, float)):
        parts.append(format_percent(e["percent"]))
    if e.get("level") is not None:
        parts.append(w["level"].format(level=e["level"]))
    if e.get("kind"):
        parts.append(w.get(f"kind_{e['kind']}", str(e["kind"])))
    return Item(title, " · ".join(parts), "firing")


def _silence(s: Silence, tz: tzinfo, w: Mapping[str, str]) -> Item:
    matchers = ", ".join(f"{k}={v}" for k, v in sorted(s.matchers.items()))
    when = [w["from"].format(at=_when(s.starts_at, tz)), w["until"].format(at=_when(s.ends_at, tz))]
    detail = " ".join(when) + (f" · {s.comment}" if s.comment else "") + (f" · {s.created_by}" if s.created_by else "")
    return Item(matchers, detail)


def _recent(actions: Sequence[ActionRecord]) -> list[ActionRecord]:
    return sorted(actions, key=lambda r: r.last.at, reverse=True)[:MAX_ACTIONS]


def _action(record: ActionRecord, tz: tzinfo, w: Mapping[str, str]) -> ActionItem:
    intent = record.intent
    targets = [str(t.get("id")) for t in intent.get("targets") or () if isinstance(t, Mapping)]
    group = _group(intent.get("group"))
    title = f"{intent.get('action', '?')} · {intent.get('budget', '?')}" + (f" · {group}" if group else "")
    last = record.last
    detail = f"{w['targets']}: {', '.join(targets) or '–'}"
    if intent.get("summary"):
        detail = f"{intent['summary']} · {detail}"
    at = _parse(last.at)
    detail += " · " + w["by"].format(by=last.by or "?", at=_when(at, tz) if at else last.at)
    return ActionItem(
        id=record.id,
        title=title,
        detail=detail,
        state=record.state,
        state_text=state_word(w, record.state),
        can_approve=record.state == "pending-approval",
        can_undo=record.state in UNDOABLE and _changed_something(record),
    )


def _changed_something(record: ActionRecord) -> bool:
    from lib.actions.machine import undo_plan

    return bool(undo_plan(record))


def _failure(entry: OutboxEntry, tz: tzinfo, w: Mapping[str, str]) -> Item:
    n = entry.notification
    title = f"{n.get('budget', '?')} → {entry.channel}"
    detail = f"{n.get('kind', '')} {n.get('status', '')} · {w['attempts'].format(n=entry.attempts)}"
    if entry.last_error:
        detail += f" · {entry.last_error[:200]}"
    return Item(title, detail, "error")


def _run(run: Mapping[str, Any], tz: tzinfo, w: Mapping[str, str]) -> Item:
    at = _parse(run.get("at"))
    outcomes: dict[str, int] = {}
    for d in run.get("notifications") or ():
        if isinstance(d, Mapping):
            outcomes[str(d.get("outcome"))] = outcomes.get(str(d.get("outcome")), 0) + 1
    errors = len(run.get("errors") or ())
    sent = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "–"
    detail = f"{run.get('trigger', '')} · {w['deliveries']}: {sent}" + (f" · {w['errors']}: {errors}" if errors else "")
    return Item(_when(at, tz) if at else str(run.get("at")), detail, "error" if errors else "ok")


def _freshness(
    config: Config, series: Mapping[str, Mapping[str, Sequence[Point]]], now: datetime, tz: tzinfo, w: Mapping[str, str]
) -> tuple[Item, ...]:
    """Per source, how far the stored data of its budgets reaches (the furthest of them), and how long ago."""
    newest: dict[str, datetime | None] = {}
    for budget in config.budgets:
        end = _data_end(budget.source, series.get(budget.name, {}), now)
        seen = newest.get(budget.source)
        newest[budget.source] = end if seen is None else max(seen, end) if end else seen
    out = []
    for source, at in sorted(newest.items()):
        if at is None:
            out.append(Item(source, w["no_data"], "no-data"))
        else:
            out.append(Item(source, f"{_when(at, tz)} · {_age(now - at, w)}", "ok"))
    return tuple(out)


def _data_end(source: str, groups: Mapping[str, Sequence[Point]], now: datetime) -> datetime | None:
    """How far the stored data reaches. Usage points (EdgeOne, CDN) are buckets stamped with their start:
    the newest one covers up to its start plus the series' own spacing (never past now). Billing points
    are readings at an instant."""
    times = sorted({p.time for points in groups.values() for p in points})
    if not times:
        return None
    if source == "billing" or len(times) < 2:
        return times[-1]
    step = min(b - a for a, b in itertools.pairwise(times))
    return min(times[-1] + step, now)


def _age(delta: Any, w: Mapping[str, str]) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 120:
        return w["minutes"].format(n=minutes)
    if minutes < 48 * 60:
        return w["hours"].format(n=minutes // 60)
    return w["days"].format(n=minutes // 1440)


def _group(group: Any, names: Mapping[str, str] | None = None) -> str:
    """A group's values; a member account by its name (issue 18) when ``names`` knows it."""
    if isinstance(group, Mapping):
        known = names or {}
        return " / ".join(known.get(str(v), str(v)) if k == ACCOUNT_KEY else str(v) for k, v in sorted(group.items()))
    if isinstance(group, list):  # a stored notification's group: [[key, value], ...]
        return " / ".join(str(p[1]) for p in group if isinstance(p, (list, tuple)) and len(p) == 2)
    return ""


def _amount(value: Any, unit: str, lang: str) -> str:
    if value is None or isinstance(value, bool):
        return "–"
    try:
        return format_quantity(Decimal(str(value)), unit, lang)
    except ArithmeticError:
        return str(value)


def _parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _when(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%m-%d %H:%M")
