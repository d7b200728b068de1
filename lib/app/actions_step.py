"""The run's action step: record what this run's values call for, finish what earlier runs left, tell the channels.

Between evaluating and delivering, so the crossing's message already carries its actions' state:

1. ``decide`` (pure) names the actions the values call for; each is recorded once per (budget, group,
   period, action) by its create-only first transition, and an ``automatic`` one executes at once,
   after its intent is recorded (``Machine.record``);
2. every recorded action is looked at: an intent whose period ended expires, an execution or undo a
   dead run left past its lease is finished from the targets' true status, and ``undo: period-end``
   is reversed by the first run of the next period;
3. each announced transition within the last day (including those made through the API or a link
   since the last run) becomes an ``action`` notification with an id from (action, step, state), so
   the delivery markers send it exactly once however many runs find it.

A dry run decides and reports (state ``dry-run`` for an action not recorded yet) and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lib.actions.announce import (
    PERMISSIONS,
    RECENT,
    action_entry,
    announcements,
    failures_of,
    reason_of,
    refused_by_cam,
)
from lib.actions.decide import Decision, decide
from lib.actions.machine import (
    EXECUTING,
    FAILED,
    PENDING,
    UNDO_FAILED,
    UNDOING,
    due_for_undo,
    expired,
    lease_over,
    settled,
)
from lib.errors import BudgetError
from lib.notify import delivery_id
from lib.state.codec import segment

if TYPE_CHECKING:
    from lib.actions.machine import Machine
    from lib.app.runtime import App
    from lib.model import Evaluation, Notification, Observation, Silence
    from lib.state.actions import ActionRecord

log = logging.getLogger("lib.app")
DRY_RUN = "dry-run"  # the state a dry run reports for an action it would record


@dataclass
class ActionsDone:
    """What the step did: result rows, the notifications to deliver (crossings with their actions, then
    the actions' announcements), and problems as (budget or None, message)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    problems: list[tuple[str | None, str]] = field(default_factory=list)


def run_actions(
    app: App,
    *,
    evaluations: Sequence[Evaluation],
    observations: Sequence[Observation],
    notifications: Sequence[Notification],
    silences: Sequence[Silence],
    now: datetime,
    run_id: str,
    dry_run: bool,
) -> ActionsDone:
    """Decide, record, execute and sweep; ``notifications`` come back with the actions' announcements added."""
    from lib.app.operations import machine as machine_of

    decided = decide(app.config, evaluations, observations, notifications, silences=silences, now=now)
    done = ActionsDone(problems=[(budget, message) for budget, message in decided.problems])
    if dry_run:
        records = {d.id: _get(app, d.id) for d in decided.decisions}
        done.rows = [_row(d, records[d.id]) for d in decided.decisions]
        done.notifications = _with_actions(notifications, decided.decisions, records)
        return done
    try:
        latest = app.repo.actions.latest()
    except BudgetError as exc:  # the alerts still go out; the actions wait for a store that answers
        done.problems.append((None, f"the action records could not be listed: {exc.message}"))
        latest = {}
    known = _known_settled(app, done.problems) if latest else {}
    ids = sorted(i for i, seq in latest.items() if known.get(i) != seq)  # a settled record is not read again
    if not decided.decisions and not ids:
        done.notifications = list(notifications)
        return done
    wall = app.now()  # transitions, leases and expiries follow the wall clock, not the evaluation instant
    machine = machine_of(app)
    touched: dict[str, ActionRecord | None] = {}
    for d in decided.decisions:
        by = "automatic" if d.approval == "automatic" else f"run:{run_id}"
        try:
            outcome = machine.record(d.id, d.intent, by=by, now=wall)
            touched[d.id] = outcome.record
            _report_failure(outcome.record if outcome.acted else None, done.problems)
        except BudgetError as exc:
            done.problems.append((d.budget, f"action {d.action} {d.id}: {exc.message}"))
            touched[d.id] = _get(app, d.id)
    others = [i for i in ids if i not in touched]
    changed, seen = _sweep(app, machine, others, run_id=run_id, now=wall, problems=done.problems)
    read = [*(r for r in touched.values() if r is not None), *seen]
    _remember_settled(app, known, latest, read, now=wall, problems=done.problems)
    done.rows = [_row(d, touched[d.id]) for d in decided.decisions] + [_record_row(r) for r in changed]
    done.notifications = _with_actions(notifications, decided.decisions, touched)
    done.notifications += _announce(app, read, wall)
    return done


def _known_settled(app: App, problems: list[tuple[str | None, str]]) -> dict[str, int]:
    """The records an earlier run found settled; none when the cache cannot be read (all are read then)."""
    try:
        found = app.repo.actions.settled()
    except BudgetError as exc:
        problems.append((None, f"the settled actions could not be read, so every record is: {exc.message}"))
        return {}
    problems.extend((None, p) for p in found.problems)
    return found.value


def _remember_settled(
    app: App,
    known: dict[str, int],
    latest: dict[str, int],
    records: Sequence[ActionRecord],
    *,
    now: datetime,
    problems: list[tuple[str | None, str]],
) -> None:
    """Save the settled records: those still at their cached transition and those this run read settled."""
    fresh = {ident: seq for ident, seq in known.items() if latest.get(ident) == seq}
    fresh |= {segment(r.id): r.last.seq for r in records if settled(r, now, recent=RECENT)}
    if fresh == known:
        return
    try:
        app.repo.actions.remember_settled(fresh)
    except BudgetError as exc:  # a cache: the next run reads those records again
        problems.append((None, f"the settled actions could not be saved: {exc.message}"))


def _sweep(
    app: App,
    machine: Machine,
    ids: Sequence[str],
    *,
    run_id: str,
    now: datetime,
    problems: list[tuple[str | None, str]],
) -> tuple[list[ActionRecord], list[ActionRecord]]:
    """Expire, resume and undo at period end what needs it: the records this changed, and every record as it
    now stands (transitions made through the API or a link since the last run are among them)."""
    changed, seen = [], []
    for ident in ids:
        record = _get(app, ident)
        if record is None:
            continue
        try:
            if record.state == PENDING and expired(record, now):
                outcome = machine.expire(record, by=f"run:{run_id}", now=now)
            elif record.state in (EXECUTING, UNDOING) and lease_over(record, now):
                outcome = machine.resume(record, by=f"resume:{run_id}", now=now)
            elif record.state == PENDING and record.intent.get("approval") == "automatic":
                outcome = machine.execute(record, by="automatic", now=now)  # its recording run died before it
            elif due_for_undo(record, now):
                outcome = machine.undo(record.id, by="period-end", now=now)
            else:
                seen.append(record)
                continue
        except BudgetError as exc:
            problems.append((str(record.intent.get("budget") or "") or None, f"action {record.id}: {exc.message}"))
            seen.append(record)
            continue
        fresh = outcome.record or record
        seen.append(fresh)
        if outcome.acted:
            changed.append(fresh)
            _report_failure(fresh, problems)
    return changed, seen


def _report_failure(record: ActionRecord | None, problems: list[tuple[str | None, str]]) -> None:
    """A step this run took that failed is one of the run's errors (exit status 1), with the API's reason."""
    if record is None or record.state not in (FAILED, UNDO_FAILED):
        return
    failures = failures_of(record.last)
    reason = reason_of(record.last, failures) or "no reason recorded"
    missing = any(refused_by_cam(f.get("code")) for f in failures)
    hint = f" (missing CAM permission; grant {', '.join(PERMISSIONS.get(str(record.intent.get('action')), ()))})"
    budget = str(record.intent.get("budget") or "") or None
    problems.append(
        (budget, f"action {record.intent.get('action')} {record.id} {record.state}: {reason}{hint if missing else ''}")
    )


def _announce(app: App, records: Sequence[ActionRecord], now: datetime) -> list[Notification]:
    """The announcements of recent transitions not yet sent to every channel (the markers make it once)."""
    out = []
    for record in records:
        budget = app.config.budget(str(record.intent.get("budget", "")))
        if budget is None:
            continue  # the budget is gone from the configuration: nobody to tell
        for n in announcements(record, budget.channels, now=now):
            if not all(app.repo.claims.is_sent(delivery_id(n.id, ch)) for ch in n.channels):
                out.append(n)
    return out


def _with_actions(
    notifications: Sequence[Notification], decisions: Sequence[Decision], records: dict[str, ActionRecord | None]
) -> list[Notification]:
    """The crossing notifications with ``detail["actions"]`` (the shared contract) set before delivery."""
    carried: dict[str, list[dict[str, Any]]] = {}
    for d in decisions:
        if d.crossing is None:
            continue
        record = records.get(d.id)
        entry = action_entry(record) if record is not None else {**_row(d, None), "id": d.id}
        carried.setdefault(d.crossing, []).append({k: entry[k] for k in ("id", "type", "state", "targets", "approval")})
    return [replace(n, detail={**n.detail, "actions": carried[n.id]}) if n.id in carried else n for n in notifications]


def _row(d: Decision, record: ActionRecord | None) -> dict[str, Any]:
    if record is None:
        return d.row(DRY_RUN)
    row = d.row(record.state)
    _audit(row, record)
    return row


def _record_row(record: ActionRecord) -> dict[str, Any]:
    intent = record.intent
    row = {
        "id": record.id,
        "budget": intent.get("budget"),
        "group": dict(intent.get("group") or {}),
        "type": intent.get("action"),
        "targets": [t.get("id") for t in intent.get("targets") or ()],
        "state": record.state,
        "approval": intent.get("approval"),
    }
    _audit(row, record)
    return row


def _audit(row: dict[str, Any], record: ActionRecord) -> None:
    """The last step's who and when, and the API requests the action made so far."""
    row["by"] = record.last.by
    row["changed_at"] = record.last.at
    row["request_ids"] = [r for t in record.trail for r in t.request_ids]


def _get(app: App, ident: str) -> ActionRecord | None:
    try:
        return app.repo.actions.get(ident)
    except BudgetError as exc:
        log.warning("action %s could not be read: %s", ident, exc)
        return None


__all__ = ["DRY_RUN", "ActionsDone", "run_actions"]
