"""Action transitions told to the budget's channels: one ``action`` notification per announced transition (pure).

Its id comes from the action id, the transition's sequence number and its state, so every run that
finds the transition builds the same notification and the delivery markers send it once. What a
failure says comes from the recorded results: the API's code and message per target, and, when the
code is a refusal by CAM, the permissions the action needs (so a missing permission reads as one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from lib.actions.machine import DONE, EXPIRED, FAILED, PENDING, UNDO_FAILED, UNDONE
from lib.errors import in_code_family
from lib.model import Notification, Period, group_key, notification_id
from lib.state.actions import ActionRecord, Transition

# The CAM actions each action type calls (the optional policy in docs/actions.md lists them all).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "pause-zone": ("teo:ModifyZoneStatus", "teo:DescribeZones"),
    "domains-offline": ("teo:ModifyAccelerationDomainStatuses", "teo:DescribeAccelerationDomains"),
    "stop-cdn-domain": ("cdn:StopCdnDomain", "cdn:StartCdnDomain", "cdn:DescribeDomains"),
}
# API error codes that mean "the role may not do this" (CAM refused the call).
PERMISSION_CODES = ("UnauthorizedOperation", "AuthFailure.UnauthorizedOperation", "OperationDenied.CamNoAuth")
ANNOUNCED = frozenset({PENDING, DONE, FAILED, UNDONE, UNDO_FAILED, EXPIRED})
# Transitions older than this are history, not news: a run that finds them (after a long outage, or
# the first run of a new version) does not announce them again.
RECENT = timedelta(days=1)


def refused_by_cam(code: str | None) -> bool:
    if not code:
        return False
    return any(in_code_family(code, c) for c in PERMISSION_CODES)


def announcements(
    record: ActionRecord, channels: Sequence[str], *, now: datetime, recent: timedelta = RECENT
) -> list[Notification]:
    """A notification for each announced transition of ``record`` that happened within ``recent`` of ``now``."""
    if not channels:
        return []
    out = []
    for step in record.trail:
        if step.state not in ANNOUNCED or not step.at:
            continue
        if step.state == PENDING and record.intent.get("approval") == "automatic":
            continue  # it executes in the same run: "waiting for approval" would be false
        at = datetime.fromisoformat(step.at)
        if now - at > recent:
            continue
        out.append(notification(record, step, channels, at))
    return out


def notification(record: ActionRecord, step: Transition, channels: Sequence[str], at: datetime) -> Notification:
    intent = record.intent
    period = intent.get("period") or {}
    targets = [str(t.get("id")) for t in intent.get("targets") or ()]
    failures = failures_of(step)
    detail: dict[str, Any] = {
        "action": str(intent.get("action", "")),
        "action_id": record.id,
        "state": step.state,
        "targets": targets,
        "by": step.by,
        "reason": reason_of(step, failures),
        "summary": str(intent.get("summary", "")),
        "approval": str(intent.get("approval", "manual")),
        "undo": str(intent.get("undo", "manual")),
        "request_ids": list(step.request_ids),
        "failures": failures,
    }
    refused = [f for f in failures if refused_by_cam(f.get("code"))]
    if refused:
        detail["missing_permissions"] = list(PERMISSIONS.get(detail["action"], ()))
    return Notification(
        id=notification_id("action", record.id, str(step.seq), step.state),
        budget=str(intent.get("budget", "")),
        group=group_key(intent.get("group") or {}),
        kind="action",
        status="resolved" if step.state in (UNDONE, EXPIRED) else "firing",
        period=Period(datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])),
        at=at,
        value=None,
        unit="",
        level=intent.get("level"),
        channels=tuple(channels),
        detail=detail,
    )


def failures_of(step: Transition) -> list[dict[str, Any]]:
    """Each target that did not end as wanted in this transition: its id, the API's code and message."""
    out = []
    for result in step.detail.get("results") or ():
        failure = result.get("failure") if isinstance(result, Mapping) else None
        if not failure:
            continue
        target = result.get("target") or {}
        out.append(
            {"target": str(target.get("id", "")), "code": failure.get("code"), "message": failure.get("message")}
        )
    return out


def reason_of(step: Transition, failures: Sequence[Mapping[str, Any]]) -> str:
    """Why the transition happened, in one line: the failures, or the reason recorded with it."""
    if failures:
        return "; ".join(f"{f['target']}: {f.get('code') or 'error'}: {f.get('message')}" for f in failures)
    return str(step.detail.get("reason", ""))


def action_entry(record: ActionRecord) -> dict[str, Any]:
    """The short form of an action in a crossing's ``detail["actions"]`` (contract in the shared plan)."""
    return {
        "id": record.id,
        "type": str(record.intent.get("action", "")),
        "state": record.state,
        "targets": [str(t.get("id")) for t in record.intent.get("targets") or ()],
        "approval": str(record.intent.get("approval", "manual")),
    }


__all__ = [
    "ANNOUNCED",
    "PERMISSIONS",
    "action_entry",
    "announcements",
    "failures_of",
    "reason_of",
    "refused_by_cam",
]
