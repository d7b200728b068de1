"""``domains-offline``: take EdgeOne acceleration domains offline with teo ``ModifyAccelerationDomainStatuses``.

Each target is one host of one zone (the request names the zone). ``Force=true`` also disables linked
resources (alias domains, traffic scheduling) and is sent only when the action is configured with
``force: true``; without it a host with linked resources is refused and the step fails with that
reason. ``DescribeAccelerationDomains`` (filter ``domain-name``) reads ``DomainStatus`` back; undo
brings a host online only if it was online before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib.actions.protocol import Intent, Scope, StepResult, Target, TargetStatus, pick, step, unchanged
from lib.errors import CollectError, ConfigError

if TYPE_CHECKING:
    from lib.sources.failures import Caller

SERVICE, VERSION = "teo", "2022-09-01"
ONLINE, OFFLINE = "online", "offline"


class DomainsOffline:
    """Take the EdgeOne hosts of a budget group offline."""

    name = "domains-offline"
    description = "take EdgeOne acceleration domains offline (teo ModifyAccelerationDomainStatuses)"
    acted = OFFLINE

    def plan(self, scope: Scope, *, force: bool = False) -> Intent:
        zone = scope.group.get("zone-id")
        if not zone:
            raise ConfigError(
                f"action {self.name!r} needs the zone of its hosts: group the budget by [zone-id, host]",
                budget=scope.budget,
                field="actions",
            )
        if not scope.covers(zone):
            raise ConfigError(f"zone {zone} is not covered by the budget", budget=scope.budget, field="targets")
        # Hosts are checked against the group's zone by the API itself (DomainNotMatchZone).
        hosts = pick(Scope(scope.group, explicit=scope.explicit), self.name, "host", "the hosts to take offline")
        targets = tuple(Target("domain", h, zone=zone, account=scope.account) for h in hosts)
        extra = " with their linked resources" if force else ""
        return Intent(self.name, targets, f"take {', '.join(hosts)} (site {zone}) offline{extra}", force=force)

    def current_status(self, client: Caller, target: Target) -> TargetStatus:
        params = {"ZoneId": _zone(target), "Filters": [{"Name": "domain-name", "Values": [target.id]}]}
        answer = client.call(SERVICE, VERSION, "DescribeAccelerationDomains", params)
        found = [d for d in answer.get("AccelerationDomains") or [] if d.get("DomainName") == target.id]
        if not found:
            raise CollectError(f"EdgeOne domain {target.id} was not found in site {target.zone}")
        return TargetStatus(target, str(found[0].get("DomainStatus", "")))

    def execute(self, client: Caller, target: Target, *, force: bool = False) -> StepResult:
        return self._switch(client, target, OFFLINE, force=force)

    def undo(self, client: Caller, target: Target, previous: TargetStatus) -> StepResult:
        if previous.state != ONLINE:
            return unchanged(previous)  # offline before the action: leave it so
        return self._switch(client, target, ONLINE, force=False)

    @staticmethod
    def _switch(client: Caller, target: Target, status: str, *, force: bool) -> StepResult:
        def call() -> dict[str, Any]:
            params: dict[str, Any] = {"ZoneId": _zone(target), "DomainNames": [target.id], "Status": status}
            if force:
                params["Force"] = True
            return client.call(SERVICE, VERSION, "ModifyAccelerationDomainStatuses", params)

        return step(target, call, status)


def _zone(target: Target) -> str:
    if not target.zone:
        raise ConfigError(f"EdgeOne domain {target.id} has no zone; group the budget by [zone-id, host]")
    return target.zone
