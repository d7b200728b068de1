"""An in-memory cloud for the action machine's tests: zones, hosts and CDN domains that switch, and a call log."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from lib.actions import ACTIONS, Scope, action_for
from lib.actions.machine import Machine, action_id, intent_doc
from lib.errors import ApiError
from lib.model import Period, group_key
from lib.state.memory import MemoryStore
from lib.state.repo import StateRepository

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
PERIOD = Period(datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc), datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc))
MUTATIONS = ("ModifyZoneStatus", "ModifyAccelerationDomainStatuses", "StopCdnDomain", "StartCdnDomain")


class FakeCloud:
    """A ``Caller``: zone ``paused`` flags, host and CDN domain statuses; ``deny`` lists refused actions."""

    def __init__(self, *, yield_each_call: bool = False, **zones: bool) -> None:
        self.yield_each_call = yield_each_call  # racing tests: let other threads in between read and write
        self.paused: dict[str, bool] = dict(zones) or {"zone-1": False}
        self.hosts: dict[str, str] = {}
        self.cdn: dict[str, str] = {}
        self.deny: set[str] = set()
        self.unreadable: set[str] = set()
        self.lost_answers: set[str] = set()  # actions that take effect but whose answer is an error
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def mutations(self) -> list[tuple[str, dict[str, Any]]]:
        return [c for c in self.calls if c[0] in MUTATIONS]

    def call(
        self, service: str, version: str, action: str, params: Any = None, region: str | None = None
    ) -> dict[str, Any]:
        params = dict(params or {})
        if self.yield_each_call:
            time.sleep(0.001)
        with self._lock:
            self.calls.append((action, params))
            n = len(self.calls)
            if action in self.deny:
                raise ApiError("UnauthorizedOperation", f"not allowed: {action}", request_id=f"req-{n}", action=action)
            if action in self.unreadable:
                raise ApiError("InternalError", "try later", request_id=f"req-{n}", action=action, retryable=True)
            answer = {"RequestId": f"req-{n}", **self._answer(action, params)}
            if action in self.lost_answers:
                raise ApiError("InternalError", "the answer was lost", request_id=f"req-{n}", action=action)
            return answer

    def _answer(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if action == "DescribeZones":
            zone = params["Filters"][0]["Values"][0]
            found = [{"ZoneId": zone, "Paused": self.paused[zone]}] if zone in self.paused else []
            return {"TotalCount": len(found), "Zones": found}
        if action == "ModifyZoneStatus":
            self.paused[params["ZoneId"]] = params["Paused"]
            return {}
        if action == "DescribeAccelerationDomains":
            host = params["Filters"][0]["Values"][0]
            return {"AccelerationDomains": [{"DomainName": host, "DomainStatus": self.hosts[host]}]}
        if action == "ModifyAccelerationDomainStatuses":
            for host in params["DomainNames"]:
                self.hosts[host] = params["Status"]
            return {}
        if action == "DescribeDomains":
            domain = params["Filters"][0]["Value"][0]
            return {"Domains": [{"Domain": domain, "Status": self.cdn[domain]}]}
        if action in ("StopCdnDomain", "StartCdnDomain"):
            want = "offline" if action == "StopCdnDomain" else "online"
            if self.cdn[params["Domain"]] == want:
                raise ApiError("ResourceUnavailable.CdnHostIsNotOnline", "wrong state", action=action)
            self.cdn[params["Domain"]] = want
            return {}
        raise AssertionError(f"unexpected action {action}")


def repo() -> StateRepository:
    return StateRepository(MemoryStore())


def machine(repository: StateRepository, cloud: FakeCloud, *, lease: timedelta = timedelta(minutes=15)) -> Machine:
    return Machine(repository.actions, lambda target: cloud, ACTIONS, lease=lease)


def pause_intent(
    zones: tuple[str, ...] = ("zone-1",), *, approval: str = "manual", undo: str = "manual"
) -> tuple[str, dict[str, Any]]:
    """The id and intent document of a pause-zone action on ``zones`` for budget ``traffic``."""
    group = group_key({"zone-id": zones[0]})
    scope = Scope(dict(group), explicit=zones if len(zones) > 1 else ())
    intent = action_for("pause-zone").plan(scope)
    doc = intent_doc(intent, budget="traffic", group=group, period=PERIOD, approval=approval, undo=undo, level=100)
    return action_id("traffic", group, PERIOD, "pause-zone"), doc
