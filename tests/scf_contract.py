"""Checks a request body against an action's input shape in the SCF API reference (tccli's api.json, trimmed).

The reference lives beside the repository (``../shared/reference/api/scf-2018-04-16.json``); DeleteFunction,
which the trimmed file lacks, is added here with the shape tccli's own api.json gives it. Checked: unknown
members (a misspelt field), required members, JSON types (string, int, bool, list, object), nested objects
and list items, and the enumerations the documents spell out (``ENUMS``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference" / "api" / "scf-2018-04-16.json"
# From tccli services/scf/v20180416/api.json (the same source as the reference).
EXTRA_ACTIONS = {"DeleteFunction": "DeleteFunctionRequest"}
EXTRA_OBJECTS: dict[str, Any] = {
    "DeleteFunctionRequest": {
        "type": "object",
        "members": [
            {"name": "FunctionName", "type": "string", "member": "string", "required": True},
            {"name": "Namespace", "type": "string", "member": "string", "required": False},
            {"name": "Qualifier", "type": "string", "member": "string", "required": False},
        ],
    }
}
# Values the members' documents enumerate: (object, member) -> allowed values.
ENUMS: dict[tuple[str, str], frozenset[str]] = {
    ("CreateFunctionRequest", "Runtime"): frozenset(
        {"Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10"}
        | {"Nodejs6.10", "Nodejs8.9", "Nodejs10.15", "Nodejs12.16", "Nodejs14.18", "Nodejs16.13", "Nodejs18.15"}
        | {"Php5.6", "Php7", "Php7.4", "Php8.0", "Go1", "Java8", "CustomRuntime"}
    ),
    ("CreateFunctionRequest", "Type"): frozenset({"Event", "HTTP"}),
    ("CreateTriggerRequest", "Type"): frozenset({"cos", "cls", "timer", "ckafka", "http"}),
    ("CreateTriggerRequest", "Enable"): frozenset({"OPEN", "CLOSE"}),
    ("UpdateTriggerRequest", "Type"): frozenset({"timer", "ckafka", "http"}),
    ("UpdateTriggerRequest", "Enable"): frozenset({"OPEN", "CLOSE"}),
    ("DeleteTriggerRequest", "Type"): frozenset({"timer", "ckafka", "apigw", "cls", "cos", "cmq", "http"}),
    ("InvokeRequest", "InvocationType"): frozenset({"RequestResponse", "Event"}),
}
_SCALARS: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}


@cache
def reference() -> dict[str, Any]:
    assert REFERENCE.is_file(), f"the SCF API reference is not at {REFERENCE} (CI keeps shared/ beside the clone)"
    data = json.loads(REFERENCE.read_text(encoding="utf-8"))
    actions = {name: spec["input"] for name, spec in data["actions"].items()}
    actions.update(EXTRA_ACTIONS)
    return {"actions": actions, "objects": {**data["objects"], **EXTRA_OBJECTS}}


def _check_value(value: Any, member: dict[str, Any], path: str, owner: str) -> list[str]:
    kind, item = member["type"], member.get("member", "")
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        scalar = {"name": member["name"], "type": item if item in _SCALARS else "object", "member": item}
        problems: list[str] = []
        for index, element in enumerate(value):
            problems += _check_value(element, scalar, f"{path}[{index}]", owner)
        return problems
    if kind == "object":
        return check_object(item, value, path + ".")
    # the api.json names 64-bit integers int with member int64/uint64, and booleans bool
    expected = _SCALARS.get(kind)
    if expected is None:
        return [f"{path}: the reference has an unknown type {kind!r}"]
    if isinstance(value, bool) and kind != "bool":
        return [f"{path}: expected {kind}, got a boolean"]
    if not isinstance(value, expected):
        return [f"{path}: expected {kind}, got {type(value).__name__}"]
    if kind == "int" and item.startswith("uint") and isinstance(value, int) and value < 0:
        return [f"{path}: expected an unsigned integer, got {value}"]
    allowed = ENUMS.get((owner, member["name"]))
    if allowed is not None and value not in allowed:
        return [f"{path}: {value!r} is not one of {sorted(allowed)}"]
    return []


def check_object(shape: str, value: Any, path: str = "") -> list[str]:
    """Every problem of ``value`` against the object ``shape`` (empty when it conforms)."""
    spec = reference()["objects"].get(shape)
    if spec is None:
        return [f"{path or shape}: no shape {shape!r} in the reference"]
    if not isinstance(value, dict):
        return [f"{path or shape}: expected an object, got {type(value).__name__}"]
    members = {m["name"]: m for m in spec["members"]}
    problems = [f"{path}{name}: not a member of {shape}" for name in value if name not in members]
    for name, member in members.items():
        where = f"{path}{name}"
        if name not in value:
            if member.get("required"):
                problems.append(f"{where}: required by {shape}")
            continue
        problems += _check_value(value[name], member, where, shape)
    return [p.replace("..", ".") for p in problems]


def check_request(action: str, body: dict[str, Any]) -> list[str]:
    """Every problem of a request body for ``action``; an action missing from the reference is one."""
    shape = reference()["actions"].get(action)
    if shape is None:
        return [f"{action}: not an action of scf 2018-04-16 in the reference"]
    return check_object(shape, body)
