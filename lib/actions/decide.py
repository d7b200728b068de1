"""Which budget actions this run's values call for: pure, from the evaluations, observations and silences.

An action fires when its budget's measured value reaches its ``at`` threshold; a forecast or a spike
fires it only when the action lists that kind under ``on:``. It never fires on a failed fetch, on no
data, on data not ready or late (``data_until``: the value stops short of now), nor while a silence
holds the group. Each decision carries ``action_id(budget, group, period, type)``, whose first
transition is create-only, so however many runs decide it, it is recorded once per period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lib.actions import ACTIONS, Scope
from lib.actions.machine import action_id, intent_doc
from lib.config.actions import covered_ids
from lib.errors import ConfigError
from lib.model import Evaluation, GroupKey, Notification, Observation, Silence, group_label, number
from lib.rules.silences import holding

if TYPE_CHECKING:
    from lib.config.actions import BudgetAction
    from lib.config.models import Budget, Config

# Which notification kind announces a crossing of each trigger (the one that carries the action).
CROSSING_KIND = {"measured": "threshold", "forecast": "forecast", "spike": "spike"}


@dataclass(frozen=True)
class Decision:
    """One action this run calls for: its id, the intent to record, and the notification that announces it."""

    id: str
    budget: str
    group: GroupKey
    action: str  # the action type: pause-zone, domains-offline, stop-cdn-domain
    approval: str  # manual | automatic
    trigger: str  # measured | forecast | spike: the kind of value that fired it
    intent: Mapping[str, Any]
    crossing: str | None = None  # the id of this run's notification of the crossing, if one goes out

    def row(self, state: str) -> dict[str, Any]:
        """The result document's entry (DESIGN §3.4) in ``state``."""
        return {
            "id": self.id,
            "budget": self.budget,
            "group": dict(self.group),
            "type": self.action,
            "targets": [t["id"] for t in self.intent.get("targets") or ()],
            "state": state,
            "approval": self.approval,
            "trigger": self.trigger,
        }


@dataclass(frozen=True)
class Decided:
    decisions: list[Decision] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (budget, why an action could not be planned)


def decide(
    config: Config,
    evaluations: Sequence[Evaluation],
    observations: Sequence[Observation],
    notifications: Sequence[Notification],
    *,
    silences: Sequence[Silence],
    now: datetime,
) -> Decided:
    """The actions this run's values call for, at most one per (budget, group, period, action type)."""
    budgets = {b.name: b for b in config.budgets if b.actions}
    if not budgets:
        return Decided()
    late = {(o.budget, o.group) for o in observations if o.data_until is not None or not o.ok}
    out = Decided()
    seen: set[str] = set()
    for ev in evaluations:
        budget = budgets.get(ev.budget)
        if budget is None or not measured(ev) or (ev.budget, ev.group) in late:
            continue
        if holding(silences, ev.budget, ev.group, now) is not None:
            continue
        spiking = ev.kind == "spike" or any(_is(n, ev, "spike") for n in notifications)
        for action in budget.actions:
            trigger = fired_by(action, ev, spiking=spiking)
            if trigger is None:
                continue
            try:
                decision = _decision(budget, action, ev, trigger, notifications)
            except ConfigError as exc:
                out.problems.append((budget.name, f"action {action.type} for {_where(ev)}: {exc.message}"))
                continue
            if decision.id not in seen:
                seen.add(decision.id)
                out.decisions.append(decision)
    return out


def measured(ev: Evaluation) -> bool:
    """Whether the evaluation rests on a value read this run (not an error, no data, a skipped bucket)."""
    return ev.status not in ("error", "no-data") and ev.error is None and ev.value is not None


def fired_by(action: BudgetAction, ev: Evaluation, *, spiking: bool) -> str | None:
    """The kind of value that fires ``action`` on ``ev`` (measured first), or None."""
    if ev.limit is None or ev.limit <= 0:
        return None
    line = ev.limit * action.at / Decimal(100)
    if "measured" in action.on and ev.value is not None and ev.value >= line:
        return "measured"
    if "forecast" in action.on and ev.forecast is not None and ev.forecast >= line:
        return "forecast"
    if "spike" in action.on and spiking:
        return "spike"
    return None


def _decision(
    budget: Budget, action: BudgetAction, ev: Evaluation, trigger: str, notifications: Sequence[Notification]
) -> Decision:
    labels = dict(ev.group)
    account = labels.get("account")
    scope = Scope(
        labels, covered=covered_ids(budget, action.type), explicit=action.targets, account=account, budget=budget.name
    )
    intent = ACTIONS[action.type].plan(scope, force=action.force)
    level = number(action.at)
    doc = intent_doc(
        intent,
        budget=budget.name,
        group=ev.group,
        period=ev.period,
        approval=action.approval,
        undo=action.undo,
        level=int(level) if isinstance(level, int) else None,
    )
    doc["at"] = level
    doc["trigger"] = trigger
    doc["channels"] = list(budget.channels)
    crossing = _crossing(notifications, ev, CROSSING_KIND[trigger])
    aid = action_id(budget.name, ev.group, ev.period, action.type, account=account)
    return Decision(aid, budget.name, ev.group, action.type, action.approval, trigger, doc, crossing)


def _crossing(notifications: Sequence[Notification], ev: Evaluation, kind: str) -> str | None:
    """This run's firing notification for the group: of the trigger's kind, else any firing one."""
    mine = [n for n in notifications if n.budget == ev.budget and n.group == ev.group and n.status == "firing"]
    same = [n for n in mine if n.kind == kind]
    crossings = same or [n for n in mine if n.kind in CROSSING_KIND.values()]
    return crossings[0].id if crossings else None


def _is(n: Notification, ev: Evaluation, kind: str) -> bool:
    return n.budget == ev.budget and n.group == ev.group and n.kind == kind and n.status == "firing"


def _where(ev: Evaluation) -> str:
    return group_label(ev.group) or "the whole budget"


__all__ = ["CROSSING_KIND", "Decided", "Decision", "decide", "fired_by", "measured"]
