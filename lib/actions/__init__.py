"""Actions: what the product may do to stop the bleeding, as plug-ins found by name in one registry.

An action (for the next issue: ``pause-zone`` with teo ``ModifyZoneStatus``, ``domains-offline`` with
teo ``ModifyAccelerationDomainStatuses``, ``stop-cdn-domain`` with cdn ``StopCdnDomain``) implements
``Action``: it turns a budget group's targets into an ``Intent`` (pure, recorded and approved before
anything happens), reads a target's ``TargetStatus``, executes, and undoes back to the status it read
before. Every step returns a typed record; failures are ``lib.model.Failure`` values, never strings.

``ACTIONS`` is empty in this release: no action is implemented yet. Adding one is adding a module
that defines it and one line in ``ACTIONS`` (tests register fakes with ``monkeypatch.setitem``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from lib.errors import ConfigError
from lib.model import Failure

if TYPE_CHECKING:
    from lib.sources.failures import Caller


@dataclass(frozen=True)
class Target:
    """One thing an action acts on: an EdgeOne zone, an acceleration domain, a CDN domain."""

    kind: str  # zone | domain | cdn-domain
    id: str  # zone id or domain name
    zone: str | None = None  # the zone an EdgeOne domain belongs to
    account: str | None = None  # the member account's uin, with ``accounts: organization``


@dataclass(frozen=True)
class Intent:
    """What an action means to do, decided before anything happens (recorded, then approved or run)."""

    action: str
    targets: tuple[Target, ...]
    summary: str  # one line for the alert and the approval page, in the user's words


@dataclass(frozen=True)
class TargetStatus:
    """A target's state as the cloud reports it; read before acting so that undo can restore it."""

    target: Target
    state: str  # the API's own word: online, paused, offline ...
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StepResult:
    """What one execute or undo did to one target: the status after it, or why it failed."""

    target: Target
    done: bool
    status: TargetStatus | None = None
    failure: Failure | None = None


class Action(Protocol):
    """One kind of action (``type:`` under a budget's ``actions:``)."""

    name: str
    description: str

    def plan(self, targets: Sequence[Target]) -> Intent:
        """The intent for a budget group's targets (pure; the targets are those the budget covers)."""
        ...

    def current_status(self, client: Caller, target: Target) -> TargetStatus:
        """The target's state now (raises a ``lib.errors`` error when it cannot be read)."""
        ...

    def execute(self, client: Caller, target: Target) -> StepResult:
        """Act on the target."""
        ...

    def undo(self, client: Caller, target: Target, previous: TargetStatus) -> StepResult:
        """Put the target back to ``previous``, the status read before ``execute``."""
        ...


ACTIONS: dict[str, Action] = {}  # none yet; see the module docstring


def action_for(name: str) -> Action:
    """The action called ``name``, or a ConfigError naming the ones there are."""
    try:
        return ACTIONS[name]
    except KeyError:
        allowed = ", ".join(sorted(ACTIONS)) or "none in this release"
        raise ConfigError(f"unknown action type {name!r}; action types: {allowed}", field="type") from None


__all__ = ["ACTIONS", "Action", "Intent", "StepResult", "Target", "TargetStatus", "action_for"]
