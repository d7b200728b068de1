"""What one deployed stage consists of: names, function settings and triggers (pure, no I/O)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lib.errors import ConfigError

RUNTIME = "Python3.10"  # the newest Python SCF runs (no 3.11+ as of late 2026)
DEFAULT_STAGE = "prod"
DEFAULT_NAMESPACE = "default"
DEFAULT_REGION = "ap-guangzhou"
TIMER_CRON = "0 */10 * * * * *"  # 7 fields: second minute hour day month week year
TIMER_HANDLER = "timer_handler.main_handler"
API_HANDLER = "api_handler.main_handler"
# The API checks its own bearer tokens, so the Function URL itself is public (AuthType NONE).
URL_TRIGGER_DESC: dict[str, object] = {
    "AuthType": "NONE",
    "NetConfig": {"EnableIntranet": False, "EnableExtranet": True},
}
# Async invocations (timer ticks, fan-out shards): retry a runtime error twice; drop a message after an
# hour, since a later tick recomputes everything an older one would have done.
ASYNC_RETRY: dict[str, object] = {"RetryConfig": [{"RetryNum": 2}], "MsgTTL": 3600}
# How undeploy (and a later deploy) recognises a function this deployer created. SCF descriptions take
# letters, digits, spaces, commas and full stops only, hence the wording.
MARKER = "Managed by the budget alerts deployer."
TAG_KEY = "budget-alerts-stage"
_CODE = re.compile(r"Code sha256 ([0-9a-f]{64})")
_STAGE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
_REGION = re.compile(r"^[a-z]{2,4}-[a-z]+(?:-[0-9a-z]+)*$")
_ROLE = re.compile(r"^[\w+=,.@-]{1,128}$")


@dataclass(frozen=True)
class Target:
    """Where a stage lives: region, namespace and stage name, checked once."""

    region: str = DEFAULT_REGION
    namespace: str = DEFAULT_NAMESPACE
    stage: str = DEFAULT_STAGE

    def __post_init__(self) -> None:
        if not _REGION.match(self.region):
            raise ConfigError(f"{self.region!r} is not a region id such as ap-guangzhou", field="--region")
        if not _NAMESPACE.match(self.namespace):
            raise ConfigError(
                f"{self.namespace!r} is not a namespace: 1-30 letters, digits, - or _", field="--namespace"
            )
        if not _STAGE.match(self.stage):
            raise ConfigError(
                f"{self.stage!r} is not a stage name: 1-40 letters, digits or -, starting and ending with a "
                "letter or digit",
                field="--stage",
            )

    @property
    def timer_function(self) -> str:
        return f"budget-alerts-{self.stage}-timer"

    @property
    def api_function(self) -> str:
        return f"budget-alerts-{self.stage}-api"

    @property
    def functions(self) -> tuple[str, str]:
        return (self.timer_function, self.api_function)


def check_role(role: str | None) -> str | None:
    """A role name (or None: the functions then run without credentials)."""
    if role is not None and not _ROLE.match(role):
        raise ConfigError(f"{role!r} is not a CAM role name", field="--role")
    return role


@dataclass(frozen=True)
class FunctionSpec:
    """One function as it should be after ``deploy``."""

    name: str
    handler: str
    memory: int
    timeout: int
    environment: Mapping[str, str]
    code_sha256: str
    role: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        kind = "timer" if self.handler == TIMER_HANDLER else "API"
        return f"Budget alerts {kind} function. {MARKER} Code sha256 {self.code_sha256}."


@dataclass(frozen=True)
class TriggerSpec:
    """One trigger as it should be: ``timer`` (a cron) or ``http`` (a Function URL)."""

    function: str
    name: str
    type: str
    desc: str


def code_sha256_of(description: str | None) -> str | None:
    """The code digest a deployed function's description records, if this deployer wrote it."""
    found = _CODE.search(description or "")
    return found.group(1) if found else None


def is_ours(description: str | None, tags: Mapping[str, str] | None = None) -> bool:
    """Whether a function carries this deployer's marker (description or tag)."""
    return MARKER in (description or "") or TAG_KEY in (tags or {})


def desired_functions(
    target: Target,
    *,
    code_sha256: str,
    environment: Mapping[str, str],
    role: str | None,
    memory: int = 128,
    timer_timeout: int = 120,
    api_timeout: int = 30,
) -> tuple[FunctionSpec, FunctionSpec]:
    """The timer and the API function; the timer fans out to itself (DESIGN §7)."""
    tags = {TAG_KEY: target.stage}
    timer_env = {**environment, "BUDGET_FANOUT_FUNCTION": target.timer_function}
    timer = FunctionSpec(
        target.timer_function, TIMER_HANDLER, memory, timer_timeout, timer_env, code_sha256, role, tags
    )
    api = FunctionSpec(
        target.api_function, API_HANDLER, memory, api_timeout, dict(environment), code_sha256, role, tags
    )
    return timer, api


def desired_triggers(target: Target, cron: str = TIMER_CRON) -> tuple[TriggerSpec, TriggerSpec]:
    """The timer's cron trigger and the API's Function URL."""
    url_desc = json.dumps(URL_TRIGGER_DESC, separators=(",", ":"))
    return (
        TriggerSpec(target.timer_function, "every-10-minutes", "timer", cron),
        TriggerSpec(target.api_function, "budget-alerts-url", "http", url_desc),
    )
