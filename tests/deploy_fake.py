"""An in-process SCF for the deployer's functional tests (served through ``responses``).

Stateful: functions, triggers and async configs per namespace; ``Creating``/``Updating`` until one
GetFunction has shown it; every request body recorded in order, so tests can count and validate calls.
``refuse`` makes an action answer with an error code (permissions, roles).
"""

from __future__ import annotations

import json
import re
from typing import Any

import responses

MUTATING = {
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "DeleteFunction",
    "CreateTrigger",
    "UpdateTrigger",
    "DeleteTrigger",
    "UpdateFunctionEventInvokeConfig",
}


class FakeFailure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


class FakeScf:
    def __init__(self, url: str = "http://scf.test/") -> None:
        self.url = url
        self.functions: dict[tuple[str, str], dict[str, Any]] = {}
        self.triggers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.configs: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.refuse: dict[str, tuple[str, str]] = {}
        self._ids = 0

    def install(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.POST, re.compile(re.escape(self.url) + ".*"), callback=self._handle)

    def mutations(self) -> list[tuple[str, dict[str, Any]]]:
        return [(a, p) for a, p in self.requests if a in MUTATING]

    def _handle(self, request: Any) -> tuple[int, dict[str, str], str]:
        action = request.headers["X-TC-Action"]
        body = json.loads(request.body or b"{}")
        self.requests.append((action, body))
        try:
            if action in self.refuse:
                raise FakeFailure(*self.refuse[action])
            answer = getattr(self, f"_{action}")(body)
        except FakeFailure as exc:
            answer = {"Error": {"Code": exc.code, "Message": exc.message}}
        answer["RequestId"] = f"req-{len(self.requests)}"
        return 200, {"Content-Type": "application/json"}, json.dumps({"Response": answer})

    @staticmethod
    def _key(body: dict[str, Any]) -> tuple[str, str]:
        return body.get("Namespace") or "default", body["FunctionName"]

    def _get(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self.functions.get(self._key(body))
        if found is None:
            raise FakeFailure("ResourceNotFound.Function", f"function {body['FunctionName']} not found")
        return found

    def _CreateFunction(self, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key(body)
        if key in self.functions:
            raise FakeFailure("ResourceInUse.Function", "exists")
        code = body["Code"]
        self.functions[key] = {
            "FunctionName": body["FunctionName"],
            "Namespace": key[0],
            "Handler": body.get("Handler"),
            "Description": body.get("Description", ""),
            "MemorySize": body.get("MemorySize", 128),
            "Timeout": body.get("Timeout", 3),
            "Runtime": body.get("Runtime", "Python2.7"),
            "Role": body.get("Role", ""),
            "Environment": body.get("Environment") or {"Variables": []},
            "Tags": body.get("Tags") or [],
            "Status": "Creating",
            "Code": code,
        }
        self.triggers[key] = []
        return {}

    def _GetFunction(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self._get(body)
        shown = {k: v for k, v in found.items() if k != "Code"}
        found["Status"] = "Active"  # one poll shows the transitional state, the next is Active
        return shown

    def _UpdateFunctionCode(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self._get(body)
        found.update(Status="Updating", Handler=body.get("Handler", found["Handler"]))
        return {}

    def _UpdateFunctionConfiguration(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self._get(body)
        for name in ("Description", "MemorySize", "Timeout", "Environment", "Role"):
            if name in body:
                found[name] = body[name]
        found["Status"] = "Updating"
        return {}

    def _DeleteFunction(self, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key(body)
        self._get(body)
        del self.functions[key]
        self.triggers.pop(key, None)
        self.configs.pop(key, None)
        return {}

    def _CreateTrigger(self, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key(body)
        self._get(body)
        desc = body.get("TriggerDesc", "")
        if body["Type"] == "http":
            settings = json.loads(desc)
            self._ids += 1
            settings["Url"] = f"https://1250000000-fake{self._ids}.ap-guangzhou.tencentscf.com"
            desc = json.dumps(settings)
        elif body["Type"] == "timer":
            desc = json.dumps({"cron": desc})
        trigger = {
            "TriggerName": body["TriggerName"],
            "Type": body["Type"],
            "TriggerDesc": desc,
            "Enable": 1 if body.get("Enable", "OPEN") == "OPEN" else 0,
        }
        self.triggers[key].append(trigger)
        return {"TriggerInfo": dict(trigger)}

    def _ListTriggers(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self.triggers.get(self._key(body), [])
        start, limit = body.get("Offset", 0), body.get("Limit", 20)
        return {"TotalCount": len(found), "Triggers": [dict(t) for t in found[start : start + limit]]}

    def _UpdateTrigger(self, body: dict[str, Any]) -> dict[str, Any]:
        for trigger in self.triggers.get(self._key(body), []):
            if trigger["TriggerName"] == body["TriggerName"]:
                trigger["Enable"] = 1 if body.get("Enable", "OPEN") == "OPEN" else 0
                if "TriggerDesc" in body and body["Type"] == "timer":
                    trigger["TriggerDesc"] = json.dumps({"cron": body["TriggerDesc"]})
                return {}
        raise FakeFailure("ResourceNotFound.Trigger", "no trigger")

    def _DeleteTrigger(self, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key(body)
        before = self.triggers.get(key, [])
        self.triggers[key] = [t for t in before if t["TriggerName"] != body["TriggerName"]]
        if len(self.triggers[key]) == len(before):
            raise FakeFailure("ResourceNotFound.Trigger", "no trigger")
        return {}

    def _GetFunctionEventInvokeConfig(self, body: dict[str, Any]) -> dict[str, Any]:
        self._get(body)
        default = {"RetryConfig": [{"RetryNum": 2}], "MsgTTL": 21600}
        return {"AsyncTriggerConfig": self.configs.get(self._key(body), default)}

    def _UpdateFunctionEventInvokeConfig(self, body: dict[str, Any]) -> dict[str, Any]:
        self._get(body)
        self.configs[self._key(body)] = body["AsyncTriggerConfig"]
        return {}
