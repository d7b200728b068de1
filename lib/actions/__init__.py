"""Actions: what the product may do to stop the bleeding, as plug-ins found by name in one registry.

An action (``pause-zone`` with teo ``ModifyZoneStatus``, ``domains-offline`` with teo
``ModifyAccelerationDomainStatuses``, ``stop-cdn-domain`` with cdn ``StopCdnDomain``) implements
``Action`` (``lib.actions.protocol``): it turns a budget group's ``Scope`` into an ``Intent`` (pure,
recorded and approved before anything happens), reads a target's ``TargetStatus``, executes, and
undoes back to the status it read before. Every step returns a typed record; failures are
``lib.model.Failure`` values, never strings. ``lib.actions.machine`` runs them through the recorded
state machine. Adding an action is adding a module that defines it and one line in ``ACTIONS``.
"""

from __future__ import annotations

from lib.actions.domains_offline import DomainsOffline
from lib.actions.pause_zone import PauseZone
from lib.actions.protocol import Action, Intent, Scope, StepResult, Target, TargetStatus
from lib.actions.stop_cdn_domain import StopCdnDomain
from lib.errors import ConfigError

ACTIONS: dict[str, Action] = {a.name: a for a in (PauseZone(), DomainsOffline(), StopCdnDomain())}


def action_for(name: str) -> Action:
    """The action called ``name``, or a ConfigError naming the ones there are."""
    try:
        return ACTIONS[name]
    except KeyError:
        allowed = ", ".join(sorted(ACTIONS)) or "none"
        raise ConfigError(f"unknown action type {name!r}; action types: {allowed}", field="type") from None


__all__ = ["ACTIONS", "Action", "Intent", "Scope", "StepResult", "Target", "TargetStatus", "action_for"]
