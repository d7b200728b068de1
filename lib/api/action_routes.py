"""What the ``/actions`` routes do (``lib.api.routes`` routes to them): list, show, approve and undo budget actions.

Approve and undo go through ``lib.app.operations``, the one path the API, the links and the dashboard
share, and act at once: a pending action executes in this request, a done one is undone in it. A refused
step (already approved, expired, nothing to undo) is a 409 that says the action's state and what it allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lib.api.action_views import ACTION_ID, STATES, action_view, newest_first
from lib.api.action_views import status_actions as status_view
from lib.api.errors import ApiProblem, bad_request, not_found
from lib.api.response import Response

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.state.actions import ActionRecord

MAX_PAGE = 200


def records(app: App) -> list[ActionRecord]:
    return app.repo.actions.records()


def status_actions(app: App) -> dict[str, Any]:
    return status_view(records(app))


def listing(app: App, query: Mapping[str, str]) -> Response:
    state = query.get("state", "").strip()
    if state and state not in STATES:
        raise bad_request(f"state must be one of {', '.join(STATES)}", field="state")
    budget = query.get("budget", "").strip()
    raw = query.get("limit", "").strip() or "50"
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise bad_request(f"limit must be a whole number from 1 to {MAX_PAGE}", field="limit")
    chosen = [
        r
        for r in newest_first(records(app))
        if (not state or r.state == state) and (not budget or r.intent.get("budget") == budget)
    ]
    return Response(200, {"items": [action_view(r) for r in chosen[: int(raw)]], "total": len(chosen)})


def one(app: App, action_id: str) -> Response:
    record = app.repo.actions.get(action_id) if ACTION_ID.match(action_id) else None
    if record is None:
        raise not_found(f"no action {action_id!r}; GET /actions lists them")
    return Response(200, action_view(record))


def act(app: App, operation: str, action_id: str, *, by: str) -> Response:
    """``approve`` or ``undo`` now; the answer is the action as it stands, whether this request acted, and why."""
    from lib.app import operations
    from lib.state.actions import ActionNotFound, TransitionRefused

    if not ACTION_ID.match(action_id):
        raise not_found(f"no action {action_id!r}; GET /actions lists them")
    step = operations.approve if operation == "approve" else operations.undo
    try:
        outcome = step(app, action_id, by=by)
    except ActionNotFound as exc:
        raise not_found(exc.message) from exc
    except TransitionRefused as exc:
        raise ApiProblem(409, "action_conflict", exc.message) from exc
    body = action_view(outcome.record) if outcome.record is not None else {"id": action_id}
    return Response(200, {**body, "acted": outcome.acted, "outcome": outcome.reason})


__all__ = ["act", "listing", "one", "records", "status_actions"]
