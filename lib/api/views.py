"""JSON views of configuration and state for the API: pure functions, no I/O, no clock.

Channels are shown by name and type only: webhook URLs and secrets never leave the function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from lib.model import Silence, number

if TYPE_CHECKING:
    from lib.config.models import Budget, Config
    from lib.state.repo import OutboxEntry


def _num(value: Any) -> Any:
    """A stored Decimal string as a JSON number; anything else unchanged."""
    if isinstance(value, str):
        try:
            return number(Decimal(value))
        except (InvalidOperation, ValueError):
            return value
    if isinstance(value, Decimal):
        return number(value)
    return value


def budget_view(budget: Budget) -> dict[str, Any]:
    limit = budget.limit if isinstance(budget.limit, str) else number(budget.limit)
    return {
        "name": budget.name,
        "source": budget.source,
        "metric": budget.metric,
        "period": budget.period,
        "group_by": list(budget.group_by),
        "limit": limit,
        "thresholds": [number(t) for t in budget.thresholds],
        "absolute": [number(a) for a in budget.absolute],
        "forecast": budget.forecast,
        "below": number(budget.below),
        "channels": list(budget.channels),
    }


def channel_views(config: Config) -> list[dict[str, str]]:
    return [{"name": name, "type": ch.type} for name, ch in sorted(config.channels.items())]


def run_view(run: Mapping[str, Any]) -> dict[str, Any]:
    """One run record, summarised: when, why, and how many deliveries went which way."""
    outcomes: dict[str, int] = {}
    for d in _list(run.get("notifications")):
        key = str(d.get("outcome", "unknown")) if isinstance(d, Mapping) else "unknown"
        outcomes[key] = outcomes.get(key, 0) + 1
    return {
        "run_id": run.get("run_id"),
        "at": run.get("at"),
        "trigger": run.get("trigger"),
        "evaluations": len(_list(run.get("evaluations"))),
        "deliveries": outcomes,
        "errors": _list(run.get("errors")),
    }


def delivery_view(entry: OutboxEntry) -> dict[str, Any]:
    n = entry.notification
    return {
        "delivery_id": entry.delivery_id,
        "channel": entry.channel,
        "notification": {k: n.get(k) for k in ("id", "budget", "kind", "status", "level", "at")},
        "attempts": entry.attempts,
        "next_attempt_at": entry.next_attempt_at.isoformat(),
        "last_error": entry.last_error,
        "status": entry.status,
    }


def silence_view(silence: Silence, now: datetime) -> dict[str, Any]:
    out = silence.to_dict()
    out["state"] = "active" if silence.active(now) else ("pending" if now < silence.starts_at else "expired")
    return out


def alert_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """A history item (``Notification.to_dict`` plus deliveries) with numbers as numbers, group as a map."""
    out = dict(item)
    group = item.get("group")
    if isinstance(group, list) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in group):
        out["group"] = {str(k): str(v) for k, v in group}
    for key in ("value", "limit", "forecast"):
        if key in out:
            out[key] = _num(out[key])
    if isinstance(item.get("breakdown"), list):
        out["breakdown"] = [
            [p[0], _num(p[1])] if isinstance(p, (list, tuple)) and len(p) == 2 else p for p in item["breakdown"]
        ]
    return out


def status_document(
    config: Config,
    *,
    runs: Sequence[Mapping[str, Any]],
    failed: Iterable[OutboxEntry],
    silences: Iterable[Silence],
    problems: Sequence[str],
    now: datetime,
    shards: Sequence[Mapping[str, Any]] = (),
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``GET /status``: the configured budgets, the latest evaluations, what is firing, what is stuck.

    With member accounts (issue 18): ``accounts``, one summary per member from the newest run and
    shard outcomes, and ``shards``, the newest record of every fan-out shard (running, done, failed, lost).
    """
    last = runs[0] if runs else None
    evaluations = [e for e in _list(last.get("evaluations")) if isinstance(e, Mapping)] if last else []
    age = _age(last.get("at"), now) if last else None
    return {
        "now": now.isoformat(),
        "timezone": config.timezone,
        "budgets": [budget_view(b) for b in config.budgets],
        "channels": channel_views(config),
        "last_run": None if last is None else {**run_view(last), "age_seconds": age},
        "evaluations": evaluations,
        "firing": [e for e in evaluations if e.get("status") == "firing"],
        "runs": [run_view(r) for r in runs],
        "failed_deliveries": [delivery_view(e) for e in failed],
        "silences": [silence_view(s, now) for s in silences if now < s.ends_at],
        "problems": list(problems),
        **({"accounts": account_views(evaluations, shards, names), "shards": list(shards)} if config.accounts else {}),
    }


def account_usage(series: Mapping[str, Sequence[Any]], account: str, since: datetime) -> dict[str, Any]:
    """``GET /usage`` of a member budget: its groups (of ``account`` when given) and each account's total of the
    stored points since ``since`` (the period's start), from every shard's series, not only the last run's."""
    from lib.model import group_key, group_label

    totals: dict[str, Decimal] = {}
    labels: list[str] = []
    for label, points in series.items():
        group = dict(pair.split("=", 1) for pair in label.split(",") if "=" in pair)
        uin = group.get("account")
        if uin is None or (account and uin != account):
            continue
        labels.append(group_label(group_key(group)))
        totals[uin] = totals.get(uin, Decimal(0)) + sum((p.value for p in points if p.time >= since), Decimal(0))
    return {
        "account": account or None,
        "groups": sorted(labels),
        "accounts": {uin: number(total) for uin, total in sorted(totals.items())},
    }


def account_views(
    evaluations: Sequence[Mapping[str, Any]],
    shards: Sequence[Mapping[str, Any]],
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every member seen in the last run or in a shard's outcome, by uin (a shard's newer summary wins).

    ``names`` (uin to name, as the runs that listed the members recorded them) fills in a member's
    ``name`` where its summary has none.
    """
    from lib.app.accounts import account_summary

    merged = account_summary(evaluations)
    for shard in shards:
        summary = shard.get("summary")
        if isinstance(summary, Mapping):
            merged.update({str(k): dict(v) for k, v in summary.items() if isinstance(v, Mapping)})
    known = names or {}
    return [
        {"uin": uin, **({"name": known[uin]} if uin in known else {}), **merged[uin]}
        for uin in sorted(merged, key=lambda u: (len(u), u))
    ]


def _age(at: Any, now: datetime) -> float | None:
    if not isinstance(at, str):
        return None
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return round((now - when).total_seconds(), 3)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
