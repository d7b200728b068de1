"""The action state machine: recorded create-only transitions, execute and undo, and resuming after a crash.

    pending-approval ──► executing ──► done ──► undoing ──► undone
           │                 │  ▲        ▲        │  ▲
           ▼                 ▼  └ resume  │        ▼  └ resume, retry
        expired            failed ───────┘     undo-failed
                        (undo allowed when it changed a target)

Every arrow is one create-only object (``lib.state.actions``): of two runs or approvals racing for the
same arrow exactly one creates it, and only that one acts. ``executing`` and ``undoing`` are written
*before* the calls, with the statuses read beforehand and a lease; a run killed mid-way leaves them
behind, and once the lease is over the next run takes the record over (again create-only), reads each
target's true status and finishes: a target already as wanted is done, others are tried again.

The decisions (what may follow what, which targets to retry or undo, the final state) are pure
functions; ``Machine`` does the I/O with the store, the clients and the time it is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lib.actions.protocol import Action, Intent, StepResult, Target, TargetStatus
from lib.errors import BudgetError, ConfigError
from lib.model import Failure, GroupKey, Period, group_label
from lib.state.actions import UNREADABLE, ActionNotFound, ActionRecord, ActionStore, TransitionRefused

if TYPE_CHECKING:
    from lib.sources.failures import Caller

PENDING, EXECUTING, DONE, FAILED = "pending-approval", "executing", "done", "failed"
UNDOING, UNDONE, UNDO_FAILED, EXPIRED = "undoing", "undone", "undo-failed", "expired"
NEXT: dict[str, frozenset[str]] = {
    PENDING: frozenset({EXECUTING, EXPIRED}),
    EXECUTING: frozenset({DONE, FAILED, EXECUTING}),  # executing again: a resume takes a dead run's place
    DONE: frozenset({UNDOING}),
    FAILED: frozenset({UNDOING}),  # only when it changed a target (see undo_plan)
    UNDOING: frozenset({UNDONE, UNDO_FAILED, UNDOING}),
    UNDO_FAILED: frozenset({UNDOING}),
    UNDONE: frozenset(),
    EXPIRED: frozenset(),
    UNREADABLE: frozenset(),  # a damaged transition holds the record: nothing may run twice through it
}
LEASE = timedelta(minutes=15)  # longer than an SCF invocation may run: a live run is never taken over


def action_id(budget: str, group: GroupKey, period: Period, action: str, *, account: str | None = None) -> str:
    """The one id of (budget, group, period, action): its first transition is create-only, so it runs once."""
    text = "\n".join((budget, group_label(group), period.start.isoformat(), action, account or ""))
    return "act_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def check(record: ActionRecord, wanted: str) -> None:
    """Raise TransitionRefused unless the machine allows ``record`` to enter ``wanted`` now."""
    allowed = NEXT.get(record.state, frozenset())
    if wanted not in allowed:
        raise TransitionRefused(record.id, record.state, wanted, sorted(allowed))


def intent_doc(
    intent: Intent,
    *,
    budget: str,
    group: GroupKey,
    period: Period,
    approval: str,
    undo: str,
    level: int | None = None,
) -> dict[str, Any]:
    """What transition 1 stores: the intent, where it came from, and when it expires (the period's end)."""
    return {
        "action": intent.action,
        "targets": [t.to_dict() for t in intent.targets],
        "summary": intent.summary,
        "force": intent.force,
        "budget": budget,
        "group": dict(group),
        "period": period.to_dict(),
        "level": level,
        "approval": approval,
        "undo": undo,
        "expires_at": period.end.isoformat(),
    }


def intent_of(record: ActionRecord) -> Intent:
    doc = record.intent
    targets = tuple(Target.from_dict(t) for t in doc.get("targets") or ())
    return Intent(str(doc.get("action", "")), targets, str(doc.get("summary", "")), bool(doc.get("force")))


def expired(record: ActionRecord, now: datetime) -> bool:
    """Whether a pending intent has passed its period's end (it can no longer be approved)."""
    text = record.intent.get("expires_at")
    return record.state == PENDING and isinstance(text, str) and now >= datetime.fromisoformat(text)


def lease_over(record: ActionRecord, now: datetime) -> bool:
    """Whether the run that wrote an ``executing``/``undoing`` transition can no longer be alive."""
    until = record.last.detail.get("lease_until")
    return isinstance(until, str) and now >= datetime.fromisoformat(until)


def settled(record: ActionRecord, now: datetime, *, recent: timedelta) -> bool:
    """Whether no run will ever act on ``record`` again and its last step is older than ``recent`` (the
    announcements' window): expired, undone, or done or failed without an undo at period end. Only a
    transition through the API or a link (a new last step) can change it."""
    if record.state not in (EXPIRED, UNDONE, DONE, FAILED, UNDO_FAILED) or not record.last.at:
        return False  # pending, executing, undoing or unreadable: a run has work or a problem to report
    if record.intent.get("undo") == "period-end" and record.state in (DONE, FAILED, UNDO_FAILED) and undo_plan(record):
        return False  # a run undoes it once its period has ended (and retries a failed undo)
    return now - datetime.fromisoformat(record.last.at) > recent


def due_for_undo(record: ActionRecord, now: datetime) -> bool:
    """``undo: period-end``: a done action whose period has ended is undone by the next run."""
    end = (record.intent.get("period") or {}).get("end")
    return (
        record.intent.get("undo") == "period-end"
        and record.state in (DONE, FAILED, UNDO_FAILED)
        and isinstance(end, str)
        and now >= datetime.fromisoformat(end)
        and bool(undo_plan(record))
    )


def final_state(results: Sequence[StepResult], *, undo: bool = False) -> str:
    ok = bool(results) and all(r.done for r in results)
    if undo:
        return UNDONE if ok else UNDO_FAILED
    return DONE if ok else FAILED


def result_doc(result: StepResult) -> dict[str, Any]:
    failure = result.failure
    return {
        "target": result.target.to_dict(),
        "done": result.done,
        "changed": result.changed,
        "state": result.status.state if result.status else None,
        "request_id": result.request_id,
        "failure": None
        if failure is None
        else {"error": failure.error, "code": failure.code, "message": failure.message},
    }


def status_doc(status: TargetStatus) -> dict[str, Any]:
    return {"target": status.target.to_dict(), "state": status.state, "detail": dict(status.detail)}


def befores(record: ActionRecord) -> dict[Target, TargetStatus]:
    """The statuses read before the first execution (kept in its ``executing`` transition)."""
    first = next((t for t in record.trail if t.state == EXECUTING), None)
    out: dict[Target, TargetStatus] = {}
    for doc in (first.detail.get("before") if first else None) or ():
        target = Target.from_dict(doc["target"])
        out[target] = TargetStatus(target, str(doc["state"]), dict(doc.get("detail") or {}))
    return out


def undo_plan(record: ActionRecord) -> list[TargetStatus]:
    """The targets the execution changed, each with the status to restore: exactly what it changed."""
    outcome = next((t for t in reversed(record.trail) if t.state in (DONE, FAILED)), None)
    if outcome is None:
        return []
    before = befores(record)
    changed = [Target.from_dict(r["target"]) for r in outcome.detail.get("results") or () if r.get("changed")]
    return [before[t] for t in changed if t in before]


def failed_step(target: Target, exc: BudgetError, why: str) -> StepResult:
    failure = Failure.of(exc)
    return StepResult(target, False, failure=Failure(failure.error, f"{why}: {failure.message}", failure.code))


def _confirmed(action: Action, client: Caller, result: StepResult, wanted: str) -> StepResult:
    """``result`` of a changing call; when it failed, the target's status read again decides.

    A call can fail yet have acted (a retry after a lost answer: StopCdnDomain then says "not online").
    The target was not ``wanted`` just before; if it is now, this call changed it, and undo must know.
    """
    if result.done:
        return result
    try:
        after = action.current_status(client, result.target)
    except BudgetError:
        return result
    if after.state != wanted:
        return result
    return StepResult(result.target, True, after, request_id=result.request_id, changed=True)


@dataclass(frozen=True)
class Outcome:
    """What a call of the machine did: the record as it now stands, and whether this call acted."""

    record: ActionRecord | None
    acted: bool
    reason: str = ""


class Machine:
    """Runs actions through their recorded states; the store, the clients and the time come from outside."""

    def __init__(
        self,
        store: ActionStore,
        client_for: Callable[[Target], Caller],
        actions: Mapping[str, Action],
        *,
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.client_for = client_for
        self.actions = actions
        self.lease = lease
        # With a clock, a transition written after API calls says when it was written (the audit trail's
        # "when"); without one, every transition of a call carries the ``now`` it was given.
        self.clock = clock

    def _at(self, now: datetime) -> datetime:
        return self.clock() if self.clock is not None else now

    def record(self, action_id: str, intent: Mapping[str, Any], *, by: str, now: datetime) -> Outcome:
        """Record an intent as pending approval (once per id); ``automatic`` ones execute at once.

        An automatic intent found still pending (the run that recorded it died before executing) is
        executed now, unless its period is over; the create-only ``executing`` keeps that to one run.
        """
        created = self.store.open(action_id, intent, state=PENDING, by=by, at=now)
        record = self.store.get(action_id)
        if record is None or record.intent.get("approval") != "automatic":
            return Outcome(record, False, "waiting for approval" if created else "already recorded")
        if record.state == PENDING and not expired(record, now):
            return self.execute(record, by=by, now=now)
        return Outcome(record, False, "already recorded")

    def approve(self, action_id: str, *, by: str, now: datetime) -> Outcome:
        """Approve a pending intent: it executes now, unless it expired or someone else got there first."""
        record = self._get(action_id)
        if expired(record, now):
            self.store.append(record, EXPIRED, by=by, at=now, detail={"reason": "the period ended before approval"})
            raise TransitionRefused(record.id, EXPIRED, EXECUTING, [])
        return self.execute(record, by=by, now=now)

    def expire(self, record: ActionRecord, *, by: str, now: datetime) -> Outcome:
        """Close a pending intent whose period ended before anyone approved it (create-only, like every arrow)."""
        if not expired(record, now):
            return Outcome(record, False, f"not expired: it is {record.state}")
        closed = self.store.append(
            record, EXPIRED, by=by, at=now, detail={"reason": "the period ended before approval"}
        )
        if closed is None:
            return Outcome(self.store.get(record.id), False, "another run or approval moved it first")
        return Outcome(closed, True, EXPIRED)

    def execute(self, record: ActionRecord, *, by: str, now: datetime) -> Outcome:
        """Read the targets' statuses, record ``executing`` with them (create-only), act, record the outcome."""
        check(record, EXECUTING)
        if record.state == EXECUTING:
            return self.resume(record, by=by, now=now)
        action, intent = self._action(record), intent_of(record)
        statuses, results = self._read(action, intent.targets)
        detail = {"before": [status_doc(s) for s in statuses.values()], "lease_until": (now + self.lease).isoformat()}
        won = self.store.append(record, EXECUTING, by=by, at=self._at(now), detail=detail)
        if won is None:
            return Outcome(self.store.get(record.id), False, "another run or approval is executing it")
        for target in intent.targets:
            if target in statuses:
                results[target] = self._act(action, target, statuses[target], intent.force)
        return self._finish(won, [results[t] for t in intent.targets], by=by, now=now, undo=False)

    def resume(self, record: ActionRecord, *, by: str, now: datetime) -> Outcome:
        """Finish a record a dead run left ``executing`` or ``undoing``, from the targets' true status."""
        if record.state not in (EXECUTING, UNDOING):
            return Outcome(record, False, f"nothing to resume: it is {record.state}")
        if not lease_over(record, now):
            return Outcome(record, False, "the run that started it may still be working (its lease is not over)")
        undo = record.state == UNDOING
        taken = self.store.append(
            record,
            record.state,
            by=by,
            at=now,
            detail={**record.last.detail, "lease_until": (now + self.lease).isoformat(), "resumed": True},
        )
        if taken is None:
            return Outcome(self.store.get(record.id), False, "another run is resuming it")
        action = self._action(record)
        if undo:
            return self._undo_steps(taken, action, by=by, now=now)
        intent, before = intent_of(record), befores(record)
        now_statuses, results = self._read(action, intent.targets)
        for target in intent.targets:
            current = now_statuses.get(target)
            if current is None:
                continue  # its status could not be read: failed, never acted on blindly
            if current.state == action.acted:
                was = before.get(target)
                results[target] = StepResult(
                    target, True, current, changed=was is not None and was.state != action.acted
                )
            else:
                results[target] = self._act(action, target, current, intent.force)
        return self._finish(taken, [results[t] for t in intent.targets], by=by, now=now, undo=False)

    def undo(self, action_id: str, *, by: str, now: datetime) -> Outcome:
        """Restore what the execution changed; a target that was already so before is left alone."""
        record = self._get(action_id)
        if record.state == UNDOING:
            return self.resume(record, by=by, now=now)
        check(record, UNDOING)
        plan = undo_plan(record)
        if not plan:
            raise TransitionRefused(record.id, record.state, UNDOING, [])
        detail = {"restore": [status_doc(s) for s in plan], "lease_until": (now + self.lease).isoformat()}
        won = self.store.append(record, UNDOING, by=by, at=now, detail=detail)
        if won is None:
            return Outcome(self.store.get(record.id), False, "another run or request is undoing it")
        return self._undo_steps(won, self._action(record), by=by, now=now)

    def _undo_steps(self, record: ActionRecord, action: Action, *, by: str, now: datetime) -> Outcome:
        results = []
        for previous in undo_plan(record):
            target = previous.target
            try:
                current = action.current_status(self.client_for(target), target)
            except BudgetError as exc:
                results.append(failed_step(target, exc, "its status could not be read"))
                continue
            if current.state == previous.state:
                results.append(StepResult(target, True, current))  # already restored (an earlier, cut-off undo)
            else:
                results.append(self._restore(action, target, previous))
        return self._finish(record, results, by=by, now=now, undo=True)

    def _restore(self, action: Action, target: Target, previous: TargetStatus) -> StepResult:
        client = self.client_for(target)
        return _confirmed(action, client, action.undo(client, target, previous), previous.state)

    def _finish(
        self, record: ActionRecord, results: list[StepResult], *, by: str, now: datetime, undo: bool
    ) -> Outcome:
        state = final_state(results, undo=undo)
        ids = [r.request_id for r in results if r.request_id]
        done = self.store.append(
            record,
            state,
            by=by,
            at=self._at(now),
            request_ids=ids,
            detail={"results": [result_doc(r) for r in results]},
        )
        if done is None:  # only a resumer can race a live run here, and leases keep that from happening
            return Outcome(self.store.get(record.id), True, "acted, but another run recorded the outcome first")
        return Outcome(done, True, state)

    def _read(
        self, action: Action, targets: Sequence[Target]
    ) -> tuple[dict[Target, TargetStatus], dict[Target, StepResult]]:
        """Each target's status now; a target whose status cannot be read gets a failed result instead."""
        statuses: dict[Target, TargetStatus] = {}
        failures: dict[Target, StepResult] = {}
        for target in targets:
            try:
                statuses[target] = action.current_status(self.client_for(target), target)
            except BudgetError as exc:
                failures[target] = failed_step(target, exc, "its status could not be read")
        return statuses, failures

    def _act(self, action: Action, target: Target, status: TargetStatus, force: bool) -> StepResult:
        if status.state == action.acted:
            return StepResult(target, True, status)  # already so: nothing to do, and nothing to undo
        client = self.client_for(target)
        return _confirmed(action, client, action.execute(client, target, force=force), action.acted)

    def _action(self, record: ActionRecord) -> Action:
        name = str(record.intent.get("action", ""))
        if name not in self.actions:
            allowed = ", ".join(sorted(self.actions))
            raise ConfigError(f"action {record.id} is of type {name!r}, which this version cannot run ({allowed})")
        return self.actions[name]

    def _get(self, action_id: str) -> ActionRecord:
        record = self.store.get(action_id)
        if record is None:
            raise ActionNotFound(action_id)
        return record
