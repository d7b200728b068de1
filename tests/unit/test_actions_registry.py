"""The action registry and protocol: empty in this release, usable by a plug-in (a fake registered here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from lib.actions import ACTIONS, Action, Intent, StepResult, Target, TargetStatus, action_for
from lib.errors import ApiError, ConfigError
from lib.model import Failure


class FakeCloud:
    """Zone states, and the calls made (the ``Caller`` the actions get)."""

    def __init__(self) -> None:
        self.zones = {"zone-1": "active"}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(
        self, service: str, version: str, action: str, params: Any = None, region: str | None = None
    ) -> dict[str, Any]:
        self.calls.append((action, dict(params or {})))
        zone = params["ZoneId"]
        if zone not in self.zones:
            raise ApiError("ResourceNotFound", f"no zone {zone}")
        if action == "ModifyZoneStatus":
            self.zones[zone] = "paused" if params["Paused"] else "active"
        return {"Zones": [{"ZoneId": zone, "ActiveStatus": self.zones[zone]}]}


class PauseZone:
    name = "pause-zone-fake"
    description = "pause an EdgeOne zone (test fake)"

    def plan(self, targets: Sequence[Target]) -> Intent:
        return Intent(self.name, tuple(t for t in targets if t.kind == "zone"), f"pause {len(targets)} zone(s)")

    def current_status(self, client: Any, target: Target) -> TargetStatus:
        answer = client.call("teo", "2022-09-01", "DescribeZones", {"ZoneId": target.id})
        return TargetStatus(target, answer["Zones"][0]["ActiveStatus"])

    def _set(self, client: Any, target: Target, paused: bool) -> StepResult:
        try:
            answer = client.call("teo", "2022-09-01", "ModifyZoneStatus", {"ZoneId": target.id, "Paused": paused})
        except ApiError as exc:
            return StepResult(target, False, failure=Failure.of(exc))
        return StepResult(target, True, TargetStatus(target, answer["Zones"][0]["ActiveStatus"]))

    def execute(self, client: Any, target: Target) -> StepResult:
        return self._set(client, target, True)

    def undo(self, client: Any, target: Target, previous: TargetStatus) -> StepResult:
        return self._set(client, target, previous.state == "paused")


def test_the_registry_is_empty_in_this_release() -> None:
    assert ACTIONS == {}
    with pytest.raises(ConfigError) as caught:
        action_for("pause-zone")
    assert "'pause-zone'" in str(caught.value) and "none in this release" in str(caught.value)


def test_a_registered_action_is_found_and_runs_plan_execute_undo(monkeypatch: pytest.MonkeyPatch) -> None:
    fake: Action = PauseZone()  # used through the protocol only, as the product will
    monkeypatch.setitem(ACTIONS, fake.name, fake)
    action = action_for("pause-zone-fake")
    assert action is fake
    cloud = FakeCloud()
    zone = Target("zone", "zone-1")
    intent = action.plan([zone, Target("cdn-domain", "a.example.com")])
    assert intent.targets == (zone,) and intent.action == "pause-zone-fake"
    before = action.current_status(cloud, zone)
    assert before == TargetStatus(zone, "active")
    done = action.execute(cloud, zone)
    assert done.done and done.status == TargetStatus(zone, "paused") and cloud.zones["zone-1"] == "paused"
    undone = action.undo(cloud, zone, before)
    assert undone.done and cloud.zones["zone-1"] == "active"
    missing = action.execute(cloud, Target("zone", "zone-404"))
    assert not missing.done and missing.failure is not None and missing.failure.code == "ResourceNotFound"
    with pytest.raises(ConfigError, match="pause-zone-fake"):
        action_for("stop-cdn-domain")
