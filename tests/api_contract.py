"""Checks a request body against an action's input shape in the API references beside the repository.

``../shared/reference/api/<service>-<version>.json`` (tccli's api.json, trimmed). Checked: unknown members
(a misspelt field), required members, JSON types, nested objects and list items, and the enumerations the
member documents spell out (``ENUMS``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

API = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "api"
# Values the members' documents enumerate: (object, member) -> allowed.
ENUMS: dict[tuple[str, str], frozenset[Any]] = {
    ("ModifyAccelerationDomainStatusesRequest", "Status"): frozenset({"online", "offline"}),
    ("DomainFilter", "Name"): frozenset(
        {"origin", "domain", "resourceId", "status", "serviceType", "projectId", "domainType"}
        | {"fullUrlCache", "https", "originPullProtocol", "tagKey"}
    ),
}
_SCALARS: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}


@cache
def reference(service: str, version: str) -> dict[str, Any]:
    path = API / f"{service}-{version}.json"
    assert path.is_file(), f"the {service} API reference is not at {path}"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _value(ref: dict[str, Any], value: Any, member: dict[str, Any], path: str, owner: str) -> list[str]:
    kind, item = member["type"], member.get("member", "")
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        one = {"name": member["name"], "type": item if item in _SCALARS else "object", "member": item}
        return [p for i, v in enumerate(value) for p in _value(ref, v, one, f"{path}[{i}]", owner)]
    if kind == "object" or item in ref["objects"]:
        return check_object(ref, item, value, path + ".")
    expected = _SCALARS.get(kind)
    if expected is None:
        return [f"{path}: unknown type {kind!r} in the reference"]
    if (isinstance(value, bool) and kind != "bool") or not isinstance(value, expected):
        return [f"{path}: expected {kind}, got {type(value).__name__}"]
    allowed = ENUMS.get((owner, member["name"]))
    if allowed is not None and value not in allowed:
        return [f"{path}: {value!r} is not one of {sorted(allowed)}"]
    return []


def check_object(ref: dict[str, Any], shape: str, value: Any, path: str = "") -> list[str]:
    spec = ref["objects"].get(shape)
    if spec is None:
        return [f"{path or shape}: no shape {shape!r} in the reference"]
    if not isinstance(value, dict):
        return [f"{path or shape}: expected an object, got {type(value).__name__}"]
    members = {m["name"]: m for m in spec["members"]}
    problems = [f"{path}{name}: not a member of {shape}" for name in value if name not in members]
    for name, member in members.items():
        if name not in value:
            problems += [f"{path}{name}: required by {shape}"] if member.get("required") else []
            continue
        problems += _value(ref, value[name], member, f"{path}{name}", shape)
    return problems


def check_request(service: str, version: str, action: str, body: dict[str, Any]) -> list[str]:
    """Every problem of a request body for ``action`` (empty when it conforms)."""
    ref = reference(service, version)
    spec = ref["actions"].get(action)
    if spec is None:
        return [f"{action}: not an action of {service} {version} in the reference"]
    return check_object(ref, spec["input"], body)
