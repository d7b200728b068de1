"""What a person does from the API, a one-click link or the dashboard: approve or undo an action, silence a group.

One definition for the three doors (``POST /actions/{id}/approve``, ``POST /l/{token}``, the dashboard's
buttons), so they cannot drift apart: each acts at once (not at the next tick) through the same
recorded state machine, and ``by`` says who (a token's name, ``link``, ``dashboard:<name>``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.actions.machine import Machine, Outcome
    from lib.actions.protocol import Target
    from lib.app.runtime import App
    from lib.model import Silence
    from lib.sources.failures import Caller


def machine(app: App) -> Machine:
    """The action state machine over this instance's store and API client."""
    from lib.actions import ACTIONS
    from lib.actions.machine import Machine

    def client_for(target: Target) -> Caller:
        # A member account's target is reached through its assumed role (issue 18).
        if target.account is not None:
            from lib.app.accounts import client_for_target_account

            return client_for_target_account(app, target.account)
        return app.client

    return Machine(app.repo.actions, client_for, ACTIONS, clock=app.now)


def approve(app: App, action_id: str, *, by: str, now: datetime | None = None) -> Outcome:
    """Approve a pending action: it executes now, exactly once however many doors are pressed."""
    return machine(app).approve(action_id, by=by, now=now or app.now())


def undo(app: App, action_id: str, *, by: str, now: datetime | None = None) -> Outcome:
    """Undo a done action: each target goes back to the status read before the action changed it."""
    return machine(app).undo(action_id, by=by, now=now or app.now())


def silence(
    app: App, matchers: Mapping[str, str], *, until: datetime, by: str, comment: str = "", now: datetime | None = None
) -> Silence:
    """Hold back notifications matching ``matchers`` from now until ``until`` (stored; returned)."""
    from lib.model import Silence

    start = now or app.now()
    held = Silence(
        id="sil_" + secrets.token_hex(8),
        matchers=dict(matchers),
        starts_at=start,
        ends_at=max(until, start + timedelta(minutes=1)),
        comment=comment,
        created_by=by,
    )
    app.repo.silences.add(held, start)
    return held
