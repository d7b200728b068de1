"""JSON views of budget actions for ``GET /actions``, ``GET /actions/{id}`` and ``GET /status`` (pure, no clock).

An action is shown with its intent (what, to which targets, for which budget, group and period), its
state, and its audit trail: every transition with who moved it, when, and the API's request ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from lib.state.actions import ActionRecord

ACTION_ID = re.compile(r"^act_[0-9a-f]{24}$")  # what lib.actions.machine.action_id makes
STATES = (
    "pending-approval",
    "executing",
    "done",
    "failed",
    "undoing",
    "undone",
    "undo-failed",
    "expired",
    "unreadable",
)
RECENT_ON_STATUS = 10  # settled actions /status shows besides every pending one


def action_view(record: ActionRecord, *, trail: bool = True) -> dict[str, Any]:
    intent = record.intent
    out: dict[str, Any] = {
        "id": record.id,
        "state": record.state,
        "type": intent.get("action"),
        "budget": intent.get("budget"),
        "group": dict(intent.get("group") or {}),
        "targets": [t.get("id") for t in intent.get("targets") or ()],
        "summary": intent.get("summary"),
        "approval": intent.get("approval"),
        "undo": intent.get("undo"),
        "level": intent.get("level"),
        "period": intent.get("period"),
        "expires_at": intent.get("expires_at"),
        "created_at": record.trail[0].at,
        "changed_at": record.last.at,
        "by": record.last.by,
        "request_ids": [r for t in record.trail for r in t.request_ids],
    }
    if trail:
        out["trail"] = [
            {"state": t.state, "at": t.at, "by": t.by, "request_ids": list(t.request_ids), **_why(t.detail)}
            for t in record.trail
        ]
    return out


def _why(detail: Any) -> dict[str, Any]:
    """What a transition found worth showing: its reason, and each target's outcome (failures with the code)."""
    out: dict[str, Any] = {}
    if detail.get("reason"):
        out["reason"] = detail["reason"]
    results = detail.get("results")
    if results:
        out["results"] = [
            {
                "target": (r.get("target") or {}).get("id"),
                "done": r.get("done"),
                "changed": r.get("changed"),
                "state": r.get("state"),
                "failure": r.get("failure"),
            }
            for r in results
        ]
    if detail.get("resumed"):
        out["resumed"] = True
    return out


def newest_first(records: Iterable[ActionRecord]) -> list[ActionRecord]:
    return sorted(records, key=lambda r: (_instant(r.last.at), r.id), reverse=True)


def status_actions(records: Sequence[ActionRecord]) -> dict[str, Any]:
    """``GET /status``'s ``actions``: every action waiting for approval, and the most recent others."""
    ordered = newest_first(records)
    pending = [action_view(r, trail=False) for r in ordered if r.state == "pending-approval"]
    recent = [action_view(r, trail=False) for r in ordered if r.state != "pending-approval"][:RECENT_ON_STATUS]
    return {"pending": pending, "recent": recent}


def _instant(text: str) -> float:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


__all__ = ["ACTION_ID", "STATES", "action_view", "newest_first", "status_actions"]
