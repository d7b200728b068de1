"""Load ``budgets.yaml`` from a path or COS, expand ``${VAR}``, validate, and name every problem's place.

Every problem becomes a ``ConfigError`` with the budget's name, the field's path (``limit``,
``spike.factor``, ``channels.ops.url``) and the YAML line; all of them are raised together as one
``ConfigErrors``, so a user fixes the file in one go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError

from lib.config.actions import BudgetAction
from lib.config.checks import check_config
from lib.config.digest import Digest
from lib.config.envvars import expand, hide_values
from lib.config.explain import explain
from lib.config.models import Budget, Channel, Config, Spike
from lib.config.yamldoc import Path, line_of, load_yaml
from lib.errors import BudgetError, ConfigError, ConfigErrors, CredentialError
from lib.settings import Settings

DEFAULT_SOURCE = "budgets.yaml"
_COS_URL = re.compile(r"^cos://(?P<bucket>[a-z0-9-]+-[0-9]+)\.(?P<region>[a-z0-9-]+)/(?P<key>.+)$")


def load_config(source: str | None = None, *, environ: Mapping[str, str]) -> Config:
    """The configuration at ``source`` (a path or ``cos://<bucket-appid>.<region>/<key>``).

    ``None`` means ``$BUDGET_CONFIG``, else ``budgets.yaml``. Raises ``ConfigErrors`` listing every problem.
    """
    name = source or Settings.from_environ(environ).config
    return parse_config(read_config_text(name, environ=environ), environ=environ, source=name)


def read_config_text(source: str, *, environ: Mapping[str, str]) -> str:
    """The configuration file's text, from a path or ``cos://<bucket-appid>.<region>/<key>``."""
    return _read_cos(source, environ) if source.startswith("cos://") else _read_file(source)


def parse_config(text: str, *, environ: Mapping[str, str], source: str = DEFAULT_SOURCE) -> Config:
    """The configuration in the YAML ``text``; ``source`` only labels the errors."""
    try:
        data, lines = load_yaml(text)
    except ConfigError as exc:
        raise ConfigErrors([exc], source=source) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigErrors(
            [ConfigError("the file must be a mapping with timezone, channels and budgets", line=1)], source=source
        )
    used: dict[str, str] = {}
    data, expansion_problems = expand(data, environ, used=used)
    errors = [_error(data, lines, p.path, p.message) for p in expansion_problems]
    if errors:
        raise ConfigErrors(errors, source=source)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        # Validators quote the bad value; when it came from ${VAR} it may be a secret: name the variable.
        errors = [_hidden(e, used) for e in _validation_errors(data, lines, exc)]
        raise ConfigErrors(errors, source=source) from exc
    problems = check_config(config)
    if problems:
        errors = [_hidden(_error(data, lines, path, message), used) for path, message in problems]
        raise ConfigErrors(errors, source=source)
    return config


def _hidden(error: ConfigError, used: Mapping[str, str]) -> ConfigError:
    """``error`` with every value that came from an environment variable shown as ``${VAR}``."""
    if not used:
        return error
    budget = hide_values(error.budget, used) if error.budget else None
    return ConfigError(hide_values(_bare_message(error), used), budget=budget, field=error.field, line=error.line)


def _bare_message(error: ConfigError) -> str:
    """The message without the 'budget …, field …, line …: ' prefix ConfigError puts in front."""
    text = str(error)
    prefix = str(ConfigError("", budget=error.budget, field=error.field, line=error.line))
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


def _read_file(name: str) -> str:
    path = FilePath(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file {name!r} not found (set BUDGET_CONFIG or pass --config)") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"configuration file {name!r} is not UTF-8 text") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {name!r}: {exc.strerror}") from exc


def parse_cos_url(url: str) -> tuple[str, str, str]:
    """``cos://<bucket-appid>.<region>/<key>`` as (bucket, region, key)."""
    m = _COS_URL.match(url)
    if not m:
        raise ConfigError(
            f"{url!r} is not cos://<bucket-appid>.<region>/<key>, e.g. cos://budgets-1250000000.ap-guangzhou/budgets.yaml"
        )
    return m.group("bucket"), m.group("region"), m.group("key")


def _read_cos(url: str, environ: Mapping[str, str]) -> str:
    bucket, region, key = parse_cos_url(url)
    from lib.client.credentials import resolve_credentials
    from lib.state.cos import CosStore  # lazily: only deployments that keep the file in COS need it

    try:
        credentials = resolve_credentials(environ)
    except CredentialError as exc:
        raise ConfigError(f"cannot read configuration {url}: {exc}") from exc
    store = CosStore(
        bucket=bucket,
        region=region,
        prefix="",
        credentials=credentials,
        endpoint=Settings.from_environ(environ).cos_endpoint,
    )
    try:
        found = store.get(key)
    except BudgetError as exc:
        raise ConfigError(f"cannot read configuration {url}: {exc}") from exc
    finally:
        store.close()
    if found is None:
        raise ConfigError(f"configuration {url} not found")
    try:
        return found.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"configuration {url} is not UTF-8 text") from exc


def _budget_name(data: Mapping[str, Any], index: int) -> str:
    budgets = data.get("budgets")
    if isinstance(budgets, list) and index < len(budgets) and isinstance(budgets[index], dict):
        name = budgets[index].get("name")
        if isinstance(name, str) and name:
            return name
    return f"#{index + 1}"


def _field_text(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _error(data: Mapping[str, Any], lines: dict[Path, int], path: Path, message: str) -> ConfigError:
    line = line_of(lines, path)
    if len(path) >= 2 and path[0] == "budgets" and isinstance(path[1], int):
        return ConfigError(message, budget=_budget_name(data, path[1]), field=_field_text(path[2:]) or None, line=line)
    return ConfigError(message, field=_field_text(path) or None, line=line)


def _data_path(data: Any, loc: tuple[str | int, ...]) -> Path:
    """The part of a pydantic ``loc`` that names keys in the document (drops union and type tags)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if part == "[key]":  # the error is about the key itself, which path already names
            break
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str):
            path.append(part)  # a missing required key
            break
        elif isinstance(node, list) and isinstance(part, str):
            continue  # a key a validator wrapped the list in (``accounts: [...]`` is ``members``)
        else:
            break
        path.append(part)
    return tuple(path)


def _model_of(path: Path) -> type[BaseModel] | None:
    """The model of the mapping at ``path`` in the document, if it is one."""
    if path == ():
        return Config
    if path[0] == "budgets" and len(path) == 2:
        return Budget
    if path[0] == "budgets" and len(path) == 3 and path[2] == "spike":
        return Spike
    if path[0] == "channels" and len(path) == 2:
        return Channel
    if path[0] == "budgets" and len(path) == 4 and path[2] == "actions":
        return BudgetAction
    if path == ("digest",):
        return Digest
    return None


def _message(error: Mapping[str, Any], path: Path) -> str:
    if not path:
        return explain(error, None, list(Config.model_fields))
    kind = error["type"]
    # An unknown or missing key is about the mapping that holds it; a wrong type is about the value itself.
    container = path if kind in ("model_type", "model_attributes_type") else path[:-1]
    model = _model_of(container)
    return explain(error, path[-1], list(model.model_fields) if model else [])


def _validation_errors(data: Any, lines: dict[Path, int], exc: ValidationError) -> list[ConfigError]:
    out: list[ConfigError] = []
    seen: set[tuple[Path, str]] = set()
    for error in exc.errors():
        path = _data_path(data, tuple(error["loc"]))
        message = _message(error, path)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        out.append(_error(data, lines, path, message))
    return out
