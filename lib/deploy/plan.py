"""Desired state against observed state: what to create, update, leave alone or delete (pure, no I/O).

Observed state is what SCF answered (``GetFunction``, ``ListTriggers``, ``GetFunctionEventInvokeConfig``),
passed in as plain dicts. Each change carries the exact requests that make it, so ``--dry-run`` prints
the same plan that a real run executes. Code travels in a request only as ``code=True``: the caller
fills in ``ZipFile`` or the COS location once it knows how the package is uploaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lib.deploy.environment import describe_changes
from lib.deploy.spec import RUNTIME, TAG_KEY, FunctionSpec, TriggerSpec, code_sha256_of, is_ours
from lib.errors import ConfigError

Kind = Literal["create", "update", "unchanged", "delete"]


@dataclass(frozen=True)
class Request:
    """One SCF call; ``code`` asks the caller to add the code location; ``wait`` names a function to wait for."""

    action: str
    params: dict[str, Any]
    code: bool = False
    wait: str | None = None


@dataclass(frozen=True)
class Change:
    resource: str
    kind: Kind
    detail: str = ""
    requests: tuple[Request, ...] = field(default=())

    def line(self) -> str:
        return f"  {self.kind:<9} {self.resource}" + (f"  ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Observed:
    """What SCF has now: GetFunction answers (None: absent), triggers and async configs per function."""

    functions: Mapping[str, Mapping[str, Any] | None]
    triggers: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    invoke_configs: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)


def variables_of(function: Mapping[str, Any]) -> dict[str, str]:
    env = function.get("Environment") or {}
    return {str(v.get("Key")): str(v.get("Value", "")) for v in env.get("Variables") or []}


def tags_of(function: Mapping[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in function.get("Tags") or []}


def _environment(variables: Mapping[str, str]) -> dict[str, Any]:
    return {"Variables": [{"Key": k, "Value": v} for k, v in sorted(variables.items())]}


def _check_ours(name: str, function: Mapping[str, Any]) -> None:
    if not is_ours(function.get("Description"), tags_of(function)):
        raise ConfigError(
            f"function {name} exists but was not created by this deployer (no marker in its description or tags); "
            "leaving it alone: pick another --stage or --namespace, or remove it yourself"
        )


def plan_function(spec: FunctionSpec, current: Mapping[str, Any] | None, namespace: str) -> Change:
    resource = f"function {spec.name}"
    if current is None:
        params: dict[str, Any] = {
            "FunctionName": spec.name,
            "Handler": spec.handler,
            "Description": spec.description,
            "MemorySize": spec.memory,
            "Timeout": spec.timeout,
            "Environment": _environment(spec.environment),
            "Runtime": RUNTIME,
            "Namespace": namespace,
            "Type": "Event",
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(spec.tags.items())],
        }
        if spec.role:
            params["Role"] = spec.role
        detail = f"{RUNTIME}, {spec.memory} MB, {spec.timeout} s, env: {', '.join(sorted(spec.environment))}"
        return Change(resource, "create", detail, (Request("CreateFunction", params, code=True, wait=spec.name),))
    _check_ours(spec.name, current)
    if current.get("Runtime") not in (None, RUNTIME):
        raise ConfigError(
            f"function {spec.name} runs {current.get('Runtime')} and SCF cannot change a runtime; "
            f"run undeploy, then deploy again for {RUNTIME}"
        )
    requests: list[Request] = []
    details: list[str] = []
    deployed_sha = code_sha256_of(current.get("Description"))
    if deployed_sha != spec.code_sha256 or current.get("Handler") != spec.handler:
        details.append(f"code {(deployed_sha or 'unknown')[:12]} -> {spec.code_sha256[:12]}")
        code_params = {"FunctionName": spec.name, "Handler": spec.handler, "Namespace": namespace}
        requests.append(Request("UpdateFunctionCode", code_params, code=True, wait=spec.name))
    config: dict[str, Any] = {}
    if current.get("Description") != spec.description:
        config["Description"] = spec.description
    if current.get("MemorySize") != spec.memory:
        config["MemorySize"] = spec.memory
        details.append(f"memory {current.get('MemorySize')} -> {spec.memory} MB")
    if current.get("Timeout") != spec.timeout:
        config["Timeout"] = spec.timeout
        details.append(f"timeout {current.get('Timeout')} -> {spec.timeout} s")
    deployed_env = variables_of(current)
    if deployed_env != dict(spec.environment):
        config["Environment"] = _environment(spec.environment)
        details.append("environment: " + describe_changes(deployed_env, spec.environment))
    if spec.role and current.get("Role") != spec.role:
        config["Role"] = spec.role
        details.append(f"role {current.get('Role') or 'none'} -> {spec.role}")
    if config:
        params = {"FunctionName": spec.name, "Namespace": namespace, **config}
        requests.append(Request("UpdateFunctionConfiguration", params, wait=spec.name))
    if not requests:
        return Change(resource, "unchanged")
    return Change(resource, "update", "; ".join(details) or "description", tuple(requests))


def _desc_matches(trigger: TriggerSpec, deployed: Mapping[str, Any]) -> bool:
    raw = str(deployed.get("TriggerDesc") or "")
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        parsed = raw
    if trigger.type == "timer":
        cron = parsed.get("cron") if isinstance(parsed, dict) else parsed
        return bool(cron == trigger.desc)
    wanted = json.loads(trigger.desc)
    if not isinstance(parsed, dict):
        return False
    net, wanted_net = parsed.get("NetConfig") or {}, wanted.get("NetConfig") or {}
    return bool(
        parsed.get("AuthType") == wanted.get("AuthType")
        and net.get("EnableExtranet") == wanted_net.get("EnableExtranet")
    )


def plan_trigger(trigger: TriggerSpec, deployed: Sequence[Mapping[str, Any]], namespace: str) -> Change:
    resource = f"{trigger.type} trigger {trigger.name} on {trigger.function}"
    base = {"FunctionName": trigger.function, "TriggerName": trigger.name, "Type": trigger.type, "Namespace": namespace}
    mine = [t for t in deployed if t.get("TriggerName") == trigger.name and t.get("Type") == trigger.type]
    if not mine:
        params = {**base, "TriggerDesc": trigger.desc, "Enable": "OPEN"}
        return Change(
            resource, "create", trigger.desc if trigger.type == "timer" else "", (Request("CreateTrigger", params),)
        )
    current = mine[0]
    enabled = str(current.get("Enable", 1)) in ("1", "OPEN", "True", "true")
    if _desc_matches(trigger, current) and enabled:
        return Change(resource, "unchanged")
    params = {**base, "TriggerDesc": trigger.desc, "Enable": "OPEN"}
    detail = "enable" if _desc_matches(trigger, current) else f"{current.get('TriggerDesc')} -> {trigger.desc}"
    return Change(resource, "update", detail, (Request("UpdateTrigger", params),))


def _normal_retry(config: Mapping[str, Any] | None) -> Any:
    if not config:
        return None
    retries = [int(r.get("RetryNum", 0)) for r in config.get("RetryConfig") or []]
    return (retries, int(config.get("MsgTTL") or 0))


def plan_retry(function: str, desired: Mapping[str, Any], current: Mapping[str, Any] | None, namespace: str) -> Change:
    resource = f"async retry policy of {function}"
    if _normal_retry(current) == _normal_retry(desired):
        return Change(resource, "unchanged")
    params = {"FunctionName": function, "Namespace": namespace, "AsyncTriggerConfig": dict(desired)}
    kind: Kind = "create" if current is None else "update"
    detail = f"{desired['RetryConfig'][0]['RetryNum']} retries, messages kept {desired['MsgTTL']} s"
    return Change(resource, kind, detail, (Request("UpdateFunctionEventInvokeConfig", params),))


def plan_deploy(
    functions: Sequence[FunctionSpec],
    triggers: Sequence[TriggerSpec],
    retry: tuple[str, Mapping[str, Any]],
    observed: Observed,
    namespace: str,
) -> list[Change]:
    """Functions first (triggers need them Active), then the retry policy, then the triggers."""
    changes = [plan_function(spec, observed.functions.get(spec.name), namespace) for spec in functions]
    retry_function, retry_config = retry
    changes.append(plan_retry(retry_function, retry_config, observed.invoke_configs.get(retry_function), namespace))
    changes += [plan_trigger(t, observed.triggers.get(t.function, ()), namespace) for t in triggers]
    return changes


def plan_undeploy(
    names: Sequence[str], trigger_names: Sequence[str], observed: Observed, namespace: str
) -> list[Change]:
    """Our triggers, then our functions; a function without our marker stops everything before any call."""
    changes: list[Change] = []
    for name in names:
        current = observed.functions.get(name)
        if current is None:
            changes.append(Change(f"function {name}", "unchanged", "not deployed"))
            continue
        _check_ours(name, current)
        for trigger in observed.triggers.get(name, ()):
            if trigger.get("TriggerName") not in trigger_names:
                continue
            params = {
                "FunctionName": name,
                "TriggerName": trigger["TriggerName"],
                "Type": trigger.get("Type"),
                "Namespace": namespace,
            }
            resource = f"{trigger.get('Type')} trigger {trigger['TriggerName']} on {name}"
            changes.append(Change(resource, "delete", "", (Request("DeleteTrigger", params),)))
        params = {"FunctionName": name, "Namespace": namespace}
        stage = tags_of(current).get(TAG_KEY, "")
        changes.append(
            Change(
                f"function {name}",
                "delete",
                f"stage {stage}" if stage else "",
                (Request("DeleteFunction", params, wait=name),),
            )
        )
    return changes


def mutating(changes: Sequence[Change]) -> list[Request]:
    return [request for change in changes for request in change.requests]
