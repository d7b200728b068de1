"""Pydantic models of ``budgets.yaml`` (DESIGN §3.3): frozen, unknown keys refused.

Field names here are a contract used by collectors, rules, notify and tests outside the repo.
Quantities (``limit``, ``below``, ``absolute``, ``spike.min_value``) are written with units in YAML and
parsed by ``lib.config.units`` to ``Decimal`` in the metric's base unit; ``repeat`` becomes seconds.
Rules that span fields or budgets (channels exist, names unique, forecast needs a limit ...) live in
``lib.config.checks`` so each problem can name its own field.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from lib.config.accounts import Accounts, budget_accounts
from lib.config.actions import BudgetAction
from lib.config.digest import Digest
from lib.config.metrics import BILLING_METRICS, CDN_METRICS, METRICS, TEO_METRICS, find_metric
from lib.config.units import UNIT_HELP, UnitError, parse_percent, parse_quantity, parse_seconds

ChannelType = Literal["wecom", "dingtalk", "feishu", "slack", "webhook"]
TeoDimension = Literal["zone-id", "host", "proxy-id", "region-id"]
TeoFilter = Literal["host", "proxy-id", "region-id"]
# Billing cost keys (filters and group_by): DescribeBillSummary's dimensions, and tag:<key> for a tag key.
BILLING_KEYS = ("product", "project", "region", "pay-mode")
TAG_PREFIX = "tag:"
Aggregate = Literal["max", "p95", "avg", "sum"]

NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
# A configuration without budgets is valid (a first deployment, a placeholder) but watches nothing:
# validate, check and the timer say so.
NO_BUDGETS = "no budgets configured: nothing is monitored"
# What one function instance can hold: a 10,000-budget dry run peaks at about 100 MB of SCF's 128 MB
# (bench/bench_memory.py); a longer list is refused before it is validated, rather than killed mid-run.
MAX_BUDGETS = 10_000

_QUANTITY_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "description": "a number with a unit: " + UNIT_HELP, "examples": ["10TB", "200Mbps"]},
    ]
}
_LIMIT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        *_QUANTITY_SCHEMA["anyOf"],
        {"const": "plan", "description": "the EdgeOne plan's quota"},
        {"type": "null"},
    ],
    "description": "the period's limit in the metric's unit, or 'plan' for the EdgeOne plan quota",
}
_DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "description": "seconds"},
        {
            "type": "string",
            "pattern": r"^\s*([0-9]+(\.[0-9]+)?\s*(ms|s|sec|m|min|h|d|w)\s*)+$",
            "examples": ["24h", "30m"],
        },
        {"type": "null"},
    ]
}
_PERCENTS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*%?\s*$"}]},
    "description": "percent of limit, e.g. [50, 80, 100]",
}

_METRIC_SCHEMA: dict[str, Any] = {
    "type": "string",
    "enum": list(dict.fromkeys([*TEO_METRICS, *CDN_METRICS, *BILLING_METRICS])),
    "description": "teo: a DescribeBillingData MetricName; cdn: flux, bandwidth, https or request; "
    "billing: cost (month to date, or per day) or balance",
}

Quantity = Annotated[Decimal, WithJsonSchema(_QUANTITY_SCHEMA)]


def _key_of(by_source: dict[str, tuple[str, ...]]) -> Callable[[str, ValidationInfo], str]:
    """A check that a filters/group_by key is one the budget's source answers (``tag:<key>``: any tag key)."""

    def check(value: str, info: ValidationInfo) -> str:
        allowed = by_source.get(str(info.data.get("source")))
        if allowed is None:  # the source is already reported as wrong: any source's key passes
            allowed = tuple(dict.fromkeys(k for keys in by_source.values() for k in keys))
        tag = value.startswith(TAG_PREFIX) and value[len(TAG_PREFIX) :].strip() and TAG_KEY in allowed
        if value in allowed or tag:
            return value
        expected = " or ".join(filter(None, [", ".join(f"'{k}'" for k in allowed[:-1]), f"'{allowed[-1]}'"]))
        raise PydanticCustomError("literal_error", "must be one of {expected}", {"expected": expected})

    return check


TAG_KEY = TAG_PREFIX + "<key>"
_DIMENSIONS = {"teo": get_args(TeoDimension), "cdn": ("domain",), "billing": (*BILLING_KEYS, TAG_KEY)}
_FILTERS = {"teo": get_args(TeoFilter), "billing": (*BILLING_KEYS, TAG_KEY)}
_KEY_SCHEMA = {
    "anyOf": [
        {"enum": sorted({k for keys in _DIMENSIONS.values() for k in keys} - {TAG_KEY})},
        {"type": "string", "pattern": f"^{TAG_PREFIX}.+$", "description": "billing: a tag key"},
    ]
}
_FILTERS_HELP = "teo: host, proxy-id, region-id; billing cost: product, project, region, pay-mode, tag:<key>; cdn: none"
_RUNWAY_HELP = "balance: also alert when it is forecast to run out within this horizon (seconds), e.g. 7d"
Dimension = Annotated[str, AfterValidator(_key_of(_DIMENSIONS)), WithJsonSchema(_KEY_SCHEMA)]
FilterType = Annotated[str, AfterValidator(_key_of(_FILTERS)), WithJsonSchema(_KEY_SCHEMA)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(Strict):
    """Where alerts go: a chat robot or a generic signed webhook."""

    type: ChannelType
    url: str = Field(min_length=1, description="webhook URL, usually '${VAR}' from the environment")
    secret: str | None = Field(default=None, description="signing secret (dingtalk, feishu, webhook)")
    language: Literal["zh", "en"] | None = None  # overrides the top-level language for this channel
    mentions: tuple[str, ...] = ()  # user ids / mobiles / "@all" where the platform supports it

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s):// URL")
        return value


class Spike(Strict):
    """Alert when the latest complete bucket is far above its baseline."""

    baseline: Literal["yesterday", "median"] = "median"
    window: int = Field(default=7, ge=3, le=1000)  # trailing buckets for the median baseline
    factor: float = Field(default=3.0, gt=1.0, allow_inf_nan=False)  # value must exceed baseline * factor ...
    min_value: Quantity = Decimal(0)  # ... and this absolute floor, so idle zones do not page
    spread: float = Field(default=3.0, ge=0.0, allow_inf_nan=False)  # median: also above median + spread * 1.4826 * MAD


def _unit_for(info: ValidationInfo) -> str | None:
    metric = find_metric(str(info.data.get("source")), str(info.data.get("metric")))
    return metric.unit if metric else None


# Equal amounts written the same way share one object: 10,000 budgets with "limit: 10TB" and the
# default thresholds [100] hold two objects, not 20,000 (Decimals and tuples are immutable). Keyed by
# text, so 100 and 100.0 stay as written; bounded, so a long-lived instance cannot grow it forever.
_SHARED: dict[tuple[str, ...], Any] = {}
_MAX_SHARED = 4096


def _shared(value: Any) -> Any:
    """``value`` (a Decimal or a tuple of them), or an equal one written the same way that is already held."""
    key = ("tuple", *map(str, value)) if isinstance(value, tuple) else ("decimal", str(value))
    found = _SHARED.get(key)
    if found is not None:
        return found
    if len(_SHARED) < _MAX_SHARED:
        _SHARED[key] = value
    return value


def _quantity(raw: Any, info: ValidationInfo) -> Decimal:
    unit = _unit_for(info)
    try:
        if unit is None:  # metric already reported as wrong: read the number, do not pile up errors
            return parse_quantity(raw, "count") if not isinstance(raw, str) else _any_unit(raw)
        return parse_quantity(raw, unit)
    except UnitError as exc:
        raise ValueError(str(exc)) from exc


def _any_unit(raw: str) -> Decimal:
    for unit in ("count", "B", "bps", "s", "CNY"):
        try:
            return parse_quantity(raw, unit)
        except UnitError:
            continue
    raise UnitError(f"{raw!r} is not a quantity; units are {UNIT_HELP}")


class _SharedFieldNames(set[str]):
    """A ``model_fields_set`` shared by every budget that set the same keys; a copy is a plain set of its own.

    Pydantic gives each instance its own set: about 700 bytes for a budget's 5 or 6 keys, 7 MB of
    a 10,000-budget configuration (~40 % of its models). Budgets are frozen, so nothing adds to the set
    in place except ``model_copy(update=...)``, which works on a copy (``__copy__``).
    """

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> set[str]:
        return set(self)


_FIELD_NAMES: dict[frozenset[str], _SharedFieldNames] = {}


def _duration(raw: Any, least: float, most: float | None, outside: str) -> float | None:
    """Seconds of a duration field (``30m``, ``7d``), or None when unset; ``outside`` when out of range."""
    if raw is None:
        return None
    try:
        seconds = parse_seconds(raw)
    except UnitError as exc:
        raise ValueError(str(exc)) from exc
    if seconds < least or (most is not None and seconds > most):
        raise ValueError(outside)
    return float(seconds)


class Budget(Strict):
    """One thing to watch: a metric, its period and the conditions that alert."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64, description="unique; letters, digits, - and _")
    source: Literal["teo", "cdn", "billing"] = Field(description="teo: EdgeOne; cdn: classic CDN; billing: money")
    metric: Annotated[str, WithJsonSchema(_METRIC_SCHEMA)]
    # Any number of zones: the API takes 100 per request, and the planner sends them 100 at a time.
    zones: tuple[str, ...] = Field(default=("*",), min_length=1, description='zone ids (any number), or "*"')
    # cdn: any number of domains (the API takes one or 30 per request; the planner splits them).
    domains: tuple[str, ...] = Field(default=("*",), min_length=1, description='cdn domain names, or "*"')
    area: Literal["mainland", "overseas", "all"] = Field(default="all", description="cdn: all adds both up")
    filters: dict[FilterType, tuple[str, ...]] = Field(default_factory=dict, description=_FILTERS_HELP)
    group_by: tuple[Dimension, ...] = Field(default=(), max_length=2, description="one alert state per group")
    period: Literal["day", "month"] = Field(default="month", description="local day or month (config timezone)")
    limit: Annotated[Decimal | Literal["plan"] | None, WithJsonSchema(_LIMIT_SCHEMA)] = None
    thresholds: Annotated[tuple[Decimal, ...], WithJsonSchema(_PERCENTS_SCHEMA)] = ()  # percent of limit
    absolute: tuple[Quantity, ...] = ()  # absolute levels in the metric's unit
    forecast: bool = False
    below: Quantity | None = None
    runway: Annotated[float | None, WithJsonSchema({**_DURATION_SCHEMA, "description": _RUNWAY_HELP})] = None
    repeat: Annotated[float | None, WithJsonSchema(_DURATION_SCHEMA)] = None  # seconds between re-notifications
    spike: Spike | None = None
    aggregate: Aggregate | None = None  # bandwidth metrics: peak by default
    no_data_after: int = Field(default=3, ge=0)  # consecutive failed runs before a no-data alert; 0 = never
    channels: tuple[str, ...] = ()
    actions: tuple[BudgetAction, ...] = ()  # issue 16: what to do at a threshold (lib.config.actions)
    accounts: Annotated[tuple[str, ...] | None, BeforeValidator(budget_accounts)] = None  # member names, or "*"

    @model_validator(mode="before")
    @classmethod
    def _default_thresholds(cls, data: Any) -> Any:
        # A limit alone means "tell me at 100%"; an explicit empty list keeps it silent (forecast only).
        if isinstance(data, dict) and data.get("limit") is not None and not {"thresholds", "absolute"} & set(data):
            return {**data, "thresholds": [100]}
        return data

    @model_validator(mode="after")
    def _share(self) -> Budget:
        # After pydantic's own validation, which builds new Decimals and tuples from what validators return.
        names = frozenset(self.__pydantic_fields_set__)
        shared = _FIELD_NAMES.get(names)
        if shared is None:
            shared = _FIELD_NAMES.setdefault(names, _SharedFieldNames(names))
        object.__setattr__(self, "__pydantic_fields_set__", shared)
        values = self.__dict__
        for name in ("limit", "thresholds", "absolute", "below"):
            if isinstance(values[name], Decimal | tuple):
                values[name] = _shared(values[name])
        return self

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str, info: ValidationInfo) -> str:
        source = info.data.get("source")
        if isinstance(source, str) and find_metric(source, value) is None:
            known = ", ".join(sorted(METRICS[source]))
            raise ValueError(f"unknown {source} metric {value!r}; known: {known}")
        return value

    @field_validator("zones")
    @classmethod
    def _zones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "*" in value and len(value) > 1:
            raise ValueError('"*" means every zone; do not list zone ids with it')
        if len(set(value)) != len(value):
            raise ValueError("a zone is listed twice")
        return value

    @field_validator("domains", "area")
    @classmethod
    def _cdn_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("source") not in (None, "cdn"):
            raise ValueError(f"applies to source cdn only, not {info.data.get('source')}")
        if info.field_name == "domains":
            if "*" in value and len(value) > 1:
                raise ValueError('"*" means every domain; do not list domain names with it')
            if len(set(value)) != len(value):
                raise ValueError("a domain is listed twice")
        return value

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for key, values in value.items():
            if not values:
                raise ValueError(f"{key}: list at least one value")
        return value

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a dimension is listed twice")
        return value

    @field_validator("limit", mode="before")
    @classmethod
    def _limit(cls, raw: Any, info: ValidationInfo) -> Any:
        if raw is None or raw == "plan":
            return raw
        value = _quantity(raw, info)
        if value <= 0:
            raise ValueError("must be more than zero")
        return value

    @field_validator("thresholds", mode="before")
    @classmethod
    def _thresholds(cls, raw: Any) -> Any:
        if not isinstance(raw, list | tuple):
            raise ValueError("write a list of percentages, e.g. [50, 80, 100]")
        try:
            values = [parse_percent(item) for item in raw]
        except UnitError as exc:
            raise ValueError(str(exc)) from exc
        for value in values:
            if value <= 0:
                raise ValueError(f"{value} is not a sensible percentage: thresholds are percent of limit, above 0")
            if value > 1000:
                raise ValueError(
                    f"{value}% of the limit is not a sensible threshold; for an amount use 'absolute: [{value}]'"
                )
        if len(set(values)) != len(values):
            raise ValueError("a threshold is listed twice")
        return tuple(sorted(values))

    @field_validator("absolute", mode="before")
    @classmethod
    def _absolute(cls, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, list | tuple):
            raise ValueError("write a list of amounts, e.g. [1TB, 5TB]")
        values = [_quantity(item, info) for item in raw]
        if any(v <= 0 for v in values):
            raise ValueError("absolute levels must be more than zero")
        if len(set(values)) != len(values):
            raise ValueError("a level is listed twice")
        return tuple(sorted(values))

    @field_validator("below", mode="before")
    @classmethod
    def _below(cls, raw: Any, info: ValidationInfo) -> Any:
        return None if raw is None else _quantity(raw, info)

    @field_validator("repeat", mode="before")
    @classmethod
    def _repeat(cls, raw: Any) -> Any:
        return _duration(raw, 60, None, "repeat must be at least 1m (runs are minutes apart)")

    @field_validator("runway", mode="before")
    @classmethod
    def _runway(cls, raw: Any) -> Any:
        return _duration(raw, 3600, 366 * 86400, "runway is a horizon from 1h to 366d, e.g. 7d")

    @field_validator("spike", mode="before")
    @classmethod
    def _spike(cls, raw: Any, info: ValidationInfo) -> Any:
        if isinstance(raw, dict) and "min_value" in raw:
            try:
                return {**raw, "min_value": _quantity(raw["min_value"], info)}
            except ValueError as exc:
                raise ValueError(f"min_value: {exc}") from exc
        return raw


class Config(Strict):
    """The whole file."""

    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    channels: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Channel] = Field(default_factory=dict)
    digest: Digest | None = None  # one summary per day or week (lib/config/digest.py)
    budgets: tuple[Budget, ...] = ()
    accounts: Accounts | None = None  # member accounts (lib.config.accounts); None: the function's own only

    @field_validator("budgets", mode="before")
    @classmethod
    def _at_most(cls, raw: Any) -> Any:
        if isinstance(raw, list | tuple) and len(raw) > MAX_BUDGETS:
            raise ValueError(
                f"at most {MAX_BUDGETS:,} budgets in one configuration, not {len(raw):,}: one function instance's "
                "memory holds no more; split them over several deployments (each its own budgets.yaml and state)"
            )
        return raw

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from lib.errors import ConfigError
        from lib.periods import zone

        try:
            zone(value)
        except (ConfigError, OSError) as exc:  # OSError: a folder name such as "America"
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. Asia/Shanghai, Europe/Berlin)") from exc
        return value

    def budget(self, name: str) -> Budget | None:
        return next((b for b in self.budgets if b.name == name), None)
