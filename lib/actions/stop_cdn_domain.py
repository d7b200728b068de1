"""``stop-cdn-domain``: stop a CDN domain with cdn ``StopCdnDomain`` (it then answers 404, not billed); undo starts it.

``DescribeDomains`` (filter ``domain``) reads the status back: ``online``, ``offline``, ``processing``.
Undo calls ``StartCdnDomain`` only if the domain was online before the action stopped it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lib.actions.protocol import Intent, Scope, StepResult, Target, TargetStatus, pick, step, unchanged
from lib.errors import CollectError

if TYPE_CHECKING:
    from lib.sources.failures import Caller

SERVICE, VERSION = "cdn", "2018-06-06"
ONLINE, OFFLINE = "online", "offline"


class StopCdnDomain:
    """Stop the CDN domains of a budget group."""

    name = "stop-cdn-domain"
    description = "stop a CDN domain (cdn StopCdnDomain; undo: StartCdnDomain)"
    acted = OFFLINE

    def plan(self, scope: Scope, *, force: bool = False) -> Intent:
        ids = pick(scope, self.name, "domain", "the CDN domain to stop")
        targets = tuple(Target("cdn-domain", d, account=scope.account) for d in ids)
        return Intent(self.name, targets, f"stop CDN domain {', '.join(ids)}")

    def current_status(self, client: Caller, target: Target) -> TargetStatus:
        params = {"Offset": 0, "Limit": 100, "Filters": [{"Name": "domain", "Value": [target.id]}]}
        answer = client.call(SERVICE, VERSION, "DescribeDomains", params)
        found = [d for d in answer.get("Domains") or [] if d.get("Domain") == target.id]
        if not found:
            raise CollectError(f"CDN domain {target.id} was not found (DescribeDomains returned no such domain)")
        return TargetStatus(target, str(found[0].get("Status", "")), {"disable": str(found[0].get("Disable", ""))})

    def execute(self, client: Caller, target: Target, *, force: bool = False) -> StepResult:
        params = {"Domain": target.id}
        return step(target, lambda: client.call(SERVICE, VERSION, "StopCdnDomain", params), OFFLINE)

    def undo(self, client: Caller, target: Target, previous: TargetStatus) -> StepResult:
        if previous.state != ONLINE:
            return unchanged(previous)  # stopped (or not serving) before the action: leave it so
        params = {"Domain": target.id}
        return step(target, lambda: client.call(SERVICE, VERSION, "StartCdnDomain", params), ONLINE)
