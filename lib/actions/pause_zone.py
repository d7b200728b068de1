"""``pause-zone``: close an EdgeOne site with teo ``ModifyZoneStatus`` (``Paused=true``); ``DescribeZones`` reads it.

The Chinese documentation and tccli say ``Paused=true`` closes the site (the English page says the
reverse); the sandbox follows the former, and so does this action. Undo opens the site again only if
it was open before: a site someone had already paused stays paused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lib.actions.protocol import Intent, Scope, StepResult, Target, TargetStatus, pick, step, unchanged
from lib.errors import CollectError

if TYPE_CHECKING:
    from lib.sources.failures import Caller

SERVICE, VERSION = "teo", "2022-09-01"
PAUSED, ACTIVE = "paused", "active"


class PauseZone:
    """Pause (close) the EdgeOne sites of a budget group."""

    name = "pause-zone"
    description = "pause an EdgeOne site (teo ModifyZoneStatus Paused=true)"
    acted = PAUSED

    def plan(self, scope: Scope, *, force: bool = False) -> Intent:
        ids = pick(scope, self.name, "zone-id", "the zone to pause")
        targets = tuple(Target("zone", z, account=scope.account) for z in ids)
        return Intent(self.name, targets, f"pause EdgeOne site {', '.join(ids)}")

    def current_status(self, client: Caller, target: Target) -> TargetStatus:
        answer = client.call(
            SERVICE, VERSION, "DescribeZones", {"Filters": [{"Name": "zone-id", "Values": [target.id]}]}
        )
        zones = [z for z in answer.get("Zones") or [] if z.get("ZoneId") == target.id]
        if not zones:
            raise CollectError(f"EdgeOne site {target.id} was not found (DescribeZones returned no such zone)")
        zone = zones[0]
        state = PAUSED if zone.get("Paused") is True else ACTIVE
        detail = {"active_status": str(zone.get("ActiveStatus", "")), "status": str(zone.get("Status", ""))}
        return TargetStatus(target, state, detail)

    def execute(self, client: Caller, target: Target, *, force: bool = False) -> StepResult:
        return self._switch(client, target, paused=True)

    def undo(self, client: Caller, target: Target, previous: TargetStatus) -> StepResult:
        if previous.state == PAUSED:
            return unchanged(previous)  # it was paused before the action: leave it so
        return self._switch(client, target, paused=False)

    @staticmethod
    def _switch(client: Caller, target: Target, *, paused: bool) -> StepResult:
        params = {"ZoneId": target.id, "Paused": paused}
        return step(
            target, lambda: client.call(SERVICE, VERSION, "ModifyZoneStatus", params), PAUSED if paused else ACTIVE
        )
