"""The functions' environment: the deployer's ``BUDGET_*`` variables plus those the configuration references.

Secrets travel in these values, so nothing here prints a value: callers show names only. Credentials
never travel: the functions get their own from the execution role (``TENCENTCLOUD_SECRETID``...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lib.config.envvars import expand
from lib.config.loader import parse_config, read_config_text
from lib.errors import ConfigError
from lib.settings import Settings

# DESIGN §3.2, minus what deploy decides itself (BUDGET_FANOUT_FUNCTION is the timer's own name).
BUDGET_VARIABLES = (
    "BUDGET_CONFIG",
    "BUDGET_STATE",
    "BUDGET_SITE",
    "BUDGET_API_ENDPOINT",
    "BUDGET_COS_ENDPOINT",
    "BUDGET_API_TOKEN",
    "BUDGET_PUBLIC_URL",
    "BUDGET_LINK_SECRET",
    "BUDGET_SHARD_SIZE",
)
# The name the configuration has inside the package when the deployer's copy is a local file.
PACKAGED_CONFIG = "budgets.yaml"
CREDENTIAL_PREFIX = "TENCENTCLOUD_"


class _Recorder(Mapping[str, str]):
    """Answers every lookup with a placeholder and remembers the names asked for."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.names.add(key)
        return "x"

    def get(self, key: str, default: object = None) -> str:
        return self[key]

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def referenced_names(data: object) -> set[str]:
    """Every ``${VAR}`` (with or without a default) in the parsed configuration's values."""
    recorder = _Recorder()
    expand(data, recorder)
    return recorder.names


@dataclass(frozen=True)
class FunctionEnvironment:
    """The variables to deploy, the local config file to ship (if any), and warnings to show."""

    variables: dict[str, str]
    config_text: str | None  # the local configuration's text, shipped as budgets.yaml; None for cos://
    warnings: list[str] = field(default_factory=list)


def function_environment(environ: Mapping[str, str], *, cwd: Path | None = None) -> FunctionEnvironment:
    """Read and validate the deployer's configuration, then collect what the functions need.

    Raises ConfigError (before anything is created) when the configuration is invalid or references a
    variable that is not set.
    """
    import yaml

    source = Settings.from_environ(environ).config
    local = not source.startswith("cos://")
    path = (cwd or Path.cwd()) / source if local else None
    text = read_config_text(str(path) if path else source, environ=environ)
    parse_config(text, environ=environ, source=source)  # every problem, unset variables included
    names = referenced_names(yaml.safe_load(text))
    warnings: list[str] = []
    variables = {name: environ[name] for name in BUDGET_VARIABLES if environ.get(name)}
    for name in sorted(names):
        if name.startswith(CREDENTIAL_PREFIX):
            warnings.append(f"{name} is not deployed: the functions take credentials from their execution role")
            continue
        if environ.get(name):  # unset with a ${VAR:-default}: the function uses the default too
            variables[name] = environ[name]
    if local:
        variables["BUDGET_CONFIG"] = PACKAGED_CONFIG
    state = variables.get("BUDGET_STATE", "")
    if not state.startswith("cos://"):
        warnings.append(
            "BUDGET_STATE is not a cos:// URL: SCF instances do not share a folder and lose it when recycled; "
            "set BUDGET_STATE=cos://<bucket-appid>.<region>/<prefix> for a real deployment"
        )
    if not variables.get("BUDGET_API_TOKEN"):
        warnings.append("BUDGET_API_TOKEN is not set: every API route but /health will refuse requests")
    else:
        from lib.api.auth import api_tokens

        api_tokens(variables)  # a token the API would refuse is an error now, before anything is created
    return FunctionEnvironment(variables, text if local else None, warnings)


def check_no_credentials(variables: Mapping[str, str]) -> None:
    """A last guard: no credential variable is ever part of a function's environment."""
    leaked = sorted(name for name in variables if name.startswith(CREDENTIAL_PREFIX))
    if leaked:
        raise ConfigError(f"refusing to deploy credentials in the function environment: {', '.join(leaked)}")


def describe_changes(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """``A added, B changed, C removed`` by name only (values may be secrets)."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    parts = [
        f"{', '.join(names)} {verb}"
        for names, verb in ((added, "added"), (changed, "changed"), (removed, "removed"))
        if names
    ]
    return "; ".join(parts) or "no change"
