"""Checks a request body against an action's input shape in any service's API reference (tccli's api.json, trimmed).

The references live beside the repository (``../shared/reference/api/<service>-<version>.json``). Checked:
unknown members (a misspelt field), required members, JSON types (string, int, bool, float, list,
object), nested objects and list items, the enumerations the documents spell out (``ENUMS``) and the
time formats the member types name (``datetime``: ``2018-09-04 10:40:00``; ``datetime_iso``: ISO 8601
with an offset). Actions the trimmed reference leaves out (``DeleteFunction``) are in ``EXTRA_ACTIONS``.
``check_request(service, version, action, body)`` is the call every test makes.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT.parent / "shared" / "reference" / "api"
# Values the members' documents enumerate: (service, object, member) -> allowed values.
_CDN_INTERVALS = frozenset({"min", "5min", "hour", "day"})
_CDN_AREAS = frozenset({"mainland", "overseas"})
ENUMS: dict[tuple[str, str, str], frozenset[str]] = {
    ("teo", "ModifyAccelerationDomainStatusesRequest", "Status"): frozenset({"online", "offline"}),
    ("cdn", "DomainFilter", "Name"): frozenset(
        {"origin", "domain", "resourceId", "status", "serviceType", "projectId", "domainType"}
        | {"fullUrlCache", "https", "originPullProtocol", "tagKey"}
    ),
    ("cdn", "DescribeBillingDataRequest", "Interval"): _CDN_INTERVALS,
    ("cdn", "DescribeBillingDataRequest", "Area"): _CDN_AREAS,
    ("cdn", "DescribeBillingDataRequest", "Metric"): frozenset({"flux", "bandwidth", "https"}),
    ("cdn", "DescribeBillingDataRequest", "Product"): frozenset({"cdn", "ecdn"}),
    ("cdn", "DescribeCdnDataRequest", "Interval"): _CDN_INTERVALS,
    ("cdn", "DescribeCdnDataRequest", "Area"): _CDN_AREAS,
    ("cdn", "DescribeCdnDataRequest", "Product"): frozenset({"cdn", "ecdn"}),
    ("cdn", "DescribeCdnDataRequest", "Metric"): frozenset(
        {"flux", "fluxIn", "fluxOut", "bandwidth", "bandwidthIn", "bandwidthOut", "request", "hitRequest"}
        | {"requestHitRate", "hitFlux", "fluxHitRate", "statusCode", "2xx", "3xx", "4xx", "5xx"}
    ),
    ("teo", "DescribeBillingDataRequest", "Interval"): frozenset({"5min", "hour", "day"}),
    ("billing", "DescribeBillSummaryRequest", "GroupType"): frozenset(
        {"business", "project", "region", "payMode", "tag"}
    ),
    ("billing", "DescribeCostExplorerSummaryRequest", "PeriodType"): frozenset({"day", "month"}),
    ("billing", "DescribeCostExplorerSummaryRequest", "BillType"): frozenset({"1", "2"}),
    ("billing", "DescribeCostExplorerSummaryRequest", "FeeType"): frozenset({"cost", "totalCost"}),
    ("billing", "DescribeCostExplorerSummaryRequest", "NeedConditionValue"): frozenset({"0", "1"}),
    ("billing", "DescribeCostExplorerSummaryRequest", "Dimensions"): frozenset(
        {"default", "feeType", "billType", "business", "product", "region", "zone", "actionType", "payMode"}
        | {"tags", "project", "payerUin", "ownerUin"}
    ),
    ("scf", "CreateFunctionRequest", "Runtime"): frozenset(
        {"Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10"}
        | {"Nodejs6.10", "Nodejs8.9", "Nodejs10.15", "Nodejs12.16", "Nodejs14.18", "Nodejs16.13", "Nodejs18.15"}
        | {"Php5.6", "Php7", "Php7.4", "Php8.0", "Go1", "Java8", "CustomRuntime"}
    ),
    ("scf", "CreateFunctionRequest", "Type"): frozenset({"Event", "HTTP"}),
    ("scf", "CreateTriggerRequest", "Type"): frozenset({"cos", "cls", "timer", "ckafka", "http"}),
    ("scf", "CreateTriggerRequest", "Enable"): frozenset({"OPEN", "CLOSE"}),
    ("scf", "UpdateTriggerRequest", "Type"): frozenset({"timer", "ckafka", "http"}),
    ("scf", "UpdateTriggerRequest", "Enable"): frozenset({"OPEN", "CLOSE"}),
    ("scf", "DeleteTriggerRequest", "Type"): frozenset({"timer", "ckafka", "apigw", "cls", "cos", "cmq", "http"}),
    ("scf", "InvokeRequest", "InvocationType"): frozenset({"RequestResponse", "Event"}),
}
# Actions the product calls that the trimmed reference leaves out, with their shape from tccli's own
# api.json (the reference's source): (service, version) -> {action: (input shape, shape spec)}.
EXTRA_ACTIONS: dict[tuple[str, str], dict[str, tuple[str, dict[str, Any]]]] = {
    ("scf", "2018-04-16"): {
        "DeleteFunction": (
            "DeleteFunctionRequest",
            {
                "type": "object",
                "members": [
                    {"name": "FunctionName", "type": "string", "member": "string", "required": True},
                    {"name": "Namespace", "type": "string", "member": "string", "required": False},
                    {"name": "Qualifier", "type": "string", "member": "string", "required": False},
                ],
            },
        )
    }
}
# Fields whose document fixes a format beyond the JSON type: (service, object, member) -> pattern.
PATTERNS: dict[tuple[str, str, str], re.Pattern[str]] = {
    ("cdn", "DescribeBillingDataRequest", "TimeZone"): re.compile(r"^UTC[+-]\d{2}:\d{2}$"),
    ("cdn", "DescribeCdnDataRequest", "TimeZone"): re.compile(r"^UTC[+-]\d{2}:\d{2}$"),
}
_FORMATS: dict[str, re.Pattern[str]] = {
    "datetime": re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
    "datetime_iso": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$"),
}
_SCALARS: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}


@cache
def reference(service: str, version: str) -> dict[str, Any]:
    """The actions (name -> input shape) and objects of ``service`` ``version``'s reference."""
    path = REFERENCES / f"{service}-{version}.json"
    assert path.is_file(), f"the {service} API reference is not at {path} (CI keeps shared/ beside the clone)"
    data = json.loads(path.read_text(encoding="utf-8"))
    actions = {name: spec["input"] for name, spec in data["actions"].items()}
    objects = dict(data["objects"])
    for action, (shape, spec) in EXTRA_ACTIONS.get((service, version), {}).items():
        actions[action] = shape
        objects[shape] = spec
    return {"actions": actions, "objects": objects}


def _check_value(ref: tuple[str, str], value: Any, member: dict[str, Any], path: str, owner: str) -> list[str]:
    kind, item = member["type"], member.get("member", "")
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        scalar = {"name": member["name"], "type": item if item in _SCALARS else "object", "member": item}
        problems: list[str] = []
        for index, element in enumerate(value):
            problems += _check_value(ref, element, scalar, f"{path}[{index}]", owner)
        return problems
    if kind == "object" or item in reference(*ref)["objects"]:
        return check_object(ref, item, value, path + ".")
    expected = _SCALARS.get(kind)
    if expected is None:
        return [f"{path}: the reference has an unknown type {kind!r}"]
    if isinstance(value, bool) and kind != "bool":
        return [f"{path}: expected {kind}, got a boolean"]
    if not isinstance(value, expected):
        return [f"{path}: expected {kind}, got {type(value).__name__}"]
    if kind == "int" and item.startswith("uint") and isinstance(value, int) and value < 0:
        return [f"{path}: expected an unsigned integer, got {value}"]
    service = ref[0]
    allowed = ENUMS.get((service, owner, member["name"]))
    if allowed is not None and value not in allowed:
        return [f"{path}: {value!r} is not one of {sorted(allowed)}"]
    pattern = PATTERNS.get((service, owner, member["name"])) or _FORMATS.get(item)
    if pattern is not None and isinstance(value, str) and not pattern.match(value):
        return [f"{path}: {value!r} does not match {pattern.pattern}"]
    return []


def check_object(ref: tuple[str, str], shape: str, value: Any, path: str = "") -> list[str]:
    """Every problem of ``value`` against the object ``shape`` of ``ref`` = (service, version)."""
    spec = reference(*ref)["objects"].get(shape)
    if spec is None:
        return [f"{path or shape}: no shape {shape!r} in the {ref[0]} reference"]
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
        problems += _check_value(ref, value[name], member, where, shape)
    return [p.replace("..", ".") for p in problems]


def check_request(service: str, version: str, action: str, body: dict[str, Any]) -> list[str]:
    """Every problem of a request body for ``action`` (empty when it conforms); an unknown action is one."""
    shape = reference(service, version)["actions"].get(action)
    if shape is None:
        return [f"{action}: not an action of {service} {version} in the reference"]
    return check_object((service, version), shape, body)
