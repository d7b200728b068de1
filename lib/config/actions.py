"""The ``actions:`` list of a budget (DESIGN §3.3): the model of one action, and the checks that span the budget.

An action names what to do (``type``), at which of the budget's thresholds (``at``), who approves it
(``approval``), when it is reversed (``undo``), on which kinds of value it may fire (``on``: measured
values by default; forecasts and spikes only when listed), and optionally its ``targets``, which must
lie inside what the budget covers. The model checks each field alone; ``check_actions`` checks them
against the budget (the type fits the source, ``at`` is a threshold, the target can be named).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from lib.config.units import UnitError, parse_percent

if TYPE_CHECKING:
    from lib.config.models import Budget

ActionType = Literal["pause-zone", "domains-offline", "stop-cdn-domain"]
Trigger = Literal["measured", "forecast", "spike"]
Path = tuple[str | int, ...]
Problem = tuple[Path, str]

# The source each action acts on, and the group_by dimension that names its target.
SOURCE_OF: dict[str, str] = {"pause-zone": "teo", "domains-offline": "teo", "stop-cdn-domain": "cdn"}
TARGET_DIMENSION: dict[str, str] = {"pause-zone": "zone-id", "domains-offline": "host", "stop-cdn-domain": "domain"}
_WHAT = {"pause-zone": "zone ids", "domains-offline": "host names", "stop-cdn-domain": "CDN domain names"}

_AT_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*%?\s*$"}],
    "description": "one of the budget's thresholds (percent of the limit), e.g. 100",
}


class BudgetAction(BaseModel):
    """What to do when a budget reaches one of its thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ActionType = Field(description="pause-zone | domains-offline (teo); stop-cdn-domain (cdn)")
    at: Annotated[Decimal, WithJsonSchema(_AT_SCHEMA)]
    approval: Literal["manual", "automatic"] = Field(
        default="manual", description="manual: the alert carries an approve link; automatic: runs at once"
    )
    undo: Literal["manual", "period-end"] = Field(
        default="manual",
        description="manual: undo from the API or a link; period-end: reversed when the next period starts",
    )
    on: tuple[Trigger, ...] = Field(
        default=("measured",), min_length=1, description="which values may fire it: measured (default), forecast, spike"
    )
    targets: tuple[str, ...] = Field(
        default=(), description="explicit zone ids, hosts or CDN domains (inside what the budget covers)"
    )
    force: bool = Field(default=False, description="domains-offline: also disable linked resources (Force=true)")

    @model_validator(mode="before")
    @classmethod
    def _on_key(cls, data: Any) -> Any:
        # YAML 1.1 reads a bare ``on`` key as the boolean true; in an action it can only mean ``on:``.
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, raw: Any) -> Any:
        try:
            value = parse_percent(raw)
        except UnitError as exc:
            raise ValueError(f"{exc}; at is one of the budget's thresholds") from exc
        if value <= 0:
            raise ValueError("at is one of the budget's thresholds, a percentage above 0")
        return value

    @field_validator("on")
    @classmethod
    def _on(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a kind of value is listed twice")
        return value

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not t.strip() or t.strip() == "*" for t in value):
            raise ValueError('name each target (no empty names and no "*"); leave targets out to use the group')
        if len(set(value)) != len(value):
            raise ValueError("a target is listed twice")
        return value


def check_actions(budget: Budget) -> Iterator[Problem]:
    """Every problem of a budget's ``actions:`` against the budget itself, each naming its own field."""
    seen: dict[str, int] = {}
    for index, action in enumerate(budget.actions):
        at: Path = ("actions", index)
        if action.type in seen:
            yield (
                (*at, "type"),
                (f"action {action.type} is already listed (#{seen[action.type] + 1}); a budget runs each type once"),
            )
        seen.setdefault(action.type, index)
        yield from (((*at, *path), message) for path, message in _one(budget, action))


def _one(budget: Budget, action: BudgetAction) -> Iterator[Problem]:
    wanted = SOURCE_OF[action.type]
    if budget.source != wanted:
        acts_on = "EdgeOne sites and domains" if wanted == "teo" else "CDN domains"
        yield (
            ("type",),
            f"{action.type} acts on {acts_on}: it needs a budget with source: {wanted}, not {budget.source}",
        )
        return
    yield from _level(budget, action)
    yield from _triggers(budget, action)
    if action.force and action.type != "domains-offline":
        yield ("force",), "force applies to domains-offline only (it also disables the hosts' linked resources)"
    yield from _targets(budget, action)


def _level(budget: Budget, action: BudgetAction) -> Iterator[Problem]:
    levels = ", ".join(format(t.normalize(), "f") for t in budget.thresholds)
    if budget.limit is None or not budget.thresholds:
        yield ("at",), "at is one of the budget's thresholds: set limit and thresholds on the budget"
    elif action.at not in budget.thresholds:
        yield ("at",), f"at must be one of the budget's thresholds ({levels}), not {format(action.at.normalize(), 'f')}"


def _triggers(budget: Budget, action: BudgetAction) -> Iterator[Problem]:
    if "forecast" in action.on and not budget.forecast:
        yield ("on",), "on: forecast needs forecast: true on the budget"
    if "spike" in action.on and budget.spike is None:
        yield ("on",), "on: spike needs a spike: rule on the budget"


def _targets(budget: Budget, action: BudgetAction) -> Iterator[Problem]:
    dimension = TARGET_DIMENSION[action.type]
    if action.type == "domains-offline" and "zone-id" not in budget.group_by:
        yield ("type",), "domains-offline needs the hosts' site: group the budget by [zone-id, host]"
    if not action.targets:
        if dimension not in budget.group_by:
            yield (
                ("targets",),
                (
                    f"{action.type} needs its targets: group the budget by {dimension!r} "
                    f"or list the {_WHAT[action.type]} under targets:"
                ),
            )
        return
    covered = _covered(budget, action)
    if covered is None:
        return
    outside = [t for t in action.targets if t not in covered]
    if outside:
        yield (
            ("targets",),
            (
                f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not covered by the budget "
                f"(it covers {', '.join(covered)}); an action acts only on what its budget watches"
            ),
        )


def _covered(budget: Budget, action: BudgetAction) -> tuple[str, ...] | None:
    """What the budget watches that the action's targets must lie in; None when it watches every one."""
    if action.type == "pause-zone":
        return None if "*" in budget.zones else budget.zones
    if action.type == "stop-cdn-domain":
        return None if "*" in budget.domains else budget.domains
    hosts = budget.filters.get("host")
    return tuple(hosts) if hosts else None


def covered_ids(budget: Budget, action_type: str) -> tuple[str, ...]:
    """The ids an action's ``Scope`` may name: the budget's zones, domains or host filter ("*": every one)."""
    if action_type == "pause-zone":
        return budget.zones
    if action_type == "stop-cdn-domain":
        return budget.domains
    # domains-offline: the group's zone and the hosts; without a host filter any host of the zones will do
    # (a host outside them is refused by the API itself: DomainNotMatchZone).
    hosts = budget.filters.get("host")
    if "*" in budget.zones or not hosts:
        return ("*",)
    return (*budget.zones, *hosts)


__all__ = ["ActionType", "BudgetAction", "Trigger", "check_actions", "covered_ids"]
