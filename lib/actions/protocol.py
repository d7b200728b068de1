"""The typed records and the ``Action`` protocol every action plug-in implements (no plug-in lives here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lib.errors import ApiError, BudgetError, ConfigError
from lib.model import Failure

if TYPE_CHECKING:
    from lib.sources.failures import Caller

ALL = "*"  # a budget's ``zones: ["*"]`` / ``domains: ["*"]``: every one the account has


@dataclass(frozen=True)
class Target:
    """One thing an action acts on: an EdgeOne zone, an acceleration domain, a CDN domain."""

    kind: str  # zone | domain | cdn-domain
    id: str  # zone id or domain name
    zone: str | None = None  # the zone an EdgeOne domain belongs to
    account: str | None = None  # the member account's uin, with ``accounts: organization``

    def to_dict(self) -> dict[str, str]:
        out = {"kind": self.kind, "id": self.id}
        out.update({k: v for k, v in (("zone", self.zone), ("account", self.account)) if v is not None})
        return out

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Target:
        return cls(str(doc["kind"]), str(doc["id"]), doc.get("zone"), doc.get("account"))


@dataclass(frozen=True)
class Scope:
    """Where an action may look for targets: the firing group, what the budget covers, an explicit list."""

    group: Mapping[str, str]  # the firing group's labels: {"zone-id": "zone-1", "host": "a.example.com"}
    covered: tuple[str, ...] = (ALL,)  # the budget's zone ids or domain names; ALL for every one
    explicit: tuple[str, ...] = ()  # the action's ``targets:`` list; empty: take them from the group
    account: str | None = None
    budget: str | None = None  # named in errors

    def covers(self, ident: str) -> bool:
        return ALL in self.covered or ident in self.covered


@dataclass(frozen=True)
class Intent:
    """What an action means to do, decided before anything happens (recorded, then approved or run)."""

    action: str
    targets: tuple[Target, ...]
    summary: str  # one line for the alert and the approval page, in the user's words
    force: bool = False  # domains-offline: also take linked resources down (only when configured)


@dataclass(frozen=True)
class TargetStatus:
    """A target's state as the cloud reports it; read before acting so that undo can restore it."""

    target: Target
    state: str  # online, offline, paused, active ... (the action's own words, from the API's)
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StepResult:
    """What one execute or undo did to one target: whether it ended as wanted, the request, or why not."""

    target: Target
    done: bool
    status: TargetStatus | None = None
    failure: Failure | None = None
    request_id: str | None = None  # of the changing call; None when nothing needed changing
    changed: bool = False  # whether a call changed the target (False: it already was as wanted)


class Action(Protocol):
    """One kind of action (``type:`` under a budget's ``actions:``)."""

    name: str
    description: str
    acted: str  # the state ``execute`` leaves a target in: paused, offline ...

    def plan(self, scope: Scope, *, force: bool = False) -> Intent:
        """The intent for a scope (pure); ConfigError when no target can be named or one is not covered."""
        ...

    def current_status(self, client: Caller, target: Target) -> TargetStatus:
        """The target's state now (raises a ``lib.errors`` error when it cannot be read)."""
        ...

    def execute(self, client: Caller, target: Target, *, force: bool = False) -> StepResult:
        """Act on the target; an API or transport error becomes a failed StepResult, never an exception."""
        ...

    def undo(self, client: Caller, target: Target, previous: TargetStatus) -> StepResult:
        """Put the target back to ``previous`` (the status read before ``execute``); no call if it was so."""
        ...


def step(target: Target, call: Callable[[], Mapping[str, Any]], after: str) -> StepResult:
    """Run one changing call for ``target``; its error becomes a failed StepResult carrying the reason."""
    try:
        answer = call()
    except BudgetError as exc:
        request_id = exc.request_id if isinstance(exc, ApiError) else None
        return StepResult(target, False, failure=Failure.of(exc), request_id=request_id)
    rid = answer.get("RequestId")
    return StepResult(target, True, TargetStatus(target, after), request_id=str(rid) if rid else None, changed=True)


def unchanged(status: TargetStatus) -> StepResult:
    """A step that needed no call: the target already was in the wanted state."""
    return StepResult(status.target, True, status)


def pick(scope: Scope, action: str, label: str, what: str) -> list[str]:
    """The ids an action names: its explicit ``targets:`` or the group's ``label``, each covered by the budget."""
    ids = list(scope.explicit) or ([scope.group[label]] if scope.group.get(label) else [])
    if not ids:
        raise ConfigError(
            f"action {action!r} needs {what}: group the budget by {label!r} or list them under 'targets:'",
            budget=scope.budget,
            field="actions",
        )
    outside = [i for i in ids if not scope.covers(i)]
    if outside:
        raise ConfigError(
            f"action {action!r} names {', '.join(outside)}, which the budget does not cover "
            f"(it covers {', '.join(scope.covered)})",
            budget=scope.budget,
            field="targets",
        )
    return list(dict.fromkeys(ids))


__all__ = ["ALL", "Action", "Intent", "Scope", "StepResult", "Target", "TargetStatus", "pick", "step", "unchanged"]
