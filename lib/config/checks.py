"""Checks that span fields or budgets, run after the models parsed: each problem names its own field.

A problem is ``(path, message)`` where ``path`` is the key path in the YAML document, such as
``("budgets", 0, "forecast")``; the loader turns it into budget name, field and line.
"""

from __future__ import annotations

from collections.abc import Iterator

from lib.config.accounts import check_accounts
from lib.config.actions import check_actions
from lib.config.digest import check_digest
from lib.config.metrics import METRICS, find_metric
from lib.config.models import Budget, Config
from lib.sources import SOURCES
from lib.sources.catalogue import Metric

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


def check_config(config: Config) -> list[Problem]:
    """Every cross-field problem in ``config``, in file order."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, budget in enumerate(config.budgets):
        at: Path = ("budgets", index)
        if budget.name in seen:
            problems.append(
                ((*at, "name"), f"budget name {budget.name!r} is already used by budget #{seen[budget.name] + 1}")
            )
        seen.setdefault(budget.name, index)
        problems.extend(((*at, *path), message) for path, message in _budget(budget, config))
    problems.extend(check_accounts(config))
    problems.extend(check_digest(config))
    return problems


def _budget(budget: Budget, config: Config) -> Iterator[Problem]:
    yield from _channels(budget, config)
    metric = find_metric(budget.source, budget.metric)
    if metric is None:  # already reported by the model (an unknown source has no metrics either)
        return
    yield from SOURCES[budget.source].check(budget)
    if budget.period not in metric.periods:
        wanted = metric.periods[0]
        yield ("period",), f"{budget.source} {budget.metric} is kept by {wanted} only: use period: {wanted}"
    yield from _balance_or_usage(budget, metric)
    yield from _limit_rules(budget, metric)
    yield from check_actions(budget)
    alerts = (budget.limit, budget.below, budget.spike, budget.runway)
    if not (budget.absolute or any(a is not None for a in alerts)):
        if metric.remaining:
            yield (), "nothing to alert on: a balance needs below: <amount> or runway: <horizon>"
        else:
            yield (), "nothing to alert on: set limit (with thresholds), absolute, below or spike"


def _balance_or_usage(budget: Budget, metric: Metric) -> Iterator[Problem]:
    """A balance takes ``below`` only; usage takes everything but ``below``."""
    if metric.remaining:
        for name in ("limit", "thresholds", "absolute", "forecast"):
            if name in budget.model_fields_set and getattr(budget, name):
                yield (name,), "a balance is a level, not usage: alert on it with below: <amount>"
        if budget.spike is not None:
            yield ("spike",), "spike rules watch usage, not a balance"
    else:
        if budget.below is not None:
            yield ("below",), f"below applies to metric {_remaining()} only; for usage use limit and thresholds"
        if budget.runway is not None:
            yield ("runway",), f"runway applies to metric {_remaining()} only: when it is forecast to run out"


def _limit_rules(budget: Budget, metric: Metric) -> Iterator[Problem]:
    """What a limit needs: a plan quota for ``limit: plan``, a limit for thresholds and forecasts."""
    if budget.limit == "plan" and metric.plan_quota is None:
        yield ("limit",), f"limit: plan needs a metric with an EdgeOne plan quota; {budget.metric} has none"
    if budget.thresholds and budget.limit is None:
        yield ("thresholds",), "thresholds are percent of a limit: set limit, or use absolute: for amounts"
    if budget.forecast:
        if budget.limit is None:
            yield ("forecast",), "forecast compares the projected total with the limit: set limit"
        elif not metric.cumulative:
            yield ("forecast",), f"{budget.metric} is a level, not a running total; it cannot be forecast"
    if budget.aggregate is not None and (len(metric.aggregates) < 2 or budget.aggregate not in metric.aggregates):
        yield ("aggregate",), "aggregate applies to bandwidth metrics only"


def _remaining() -> str:
    """The metrics ``below`` watches (balances), from every source's catalogue."""
    return ", ".join(sorted({m.name for metrics in METRICS.values() for m in metrics.values() if m.remaining}))


def _channels(budget: Budget, config: Config) -> Iterator[Problem]:
    defined = ", ".join(sorted(config.channels)) or "none defined under channels:"
    if not budget.channels:
        yield ("channels",), f"no channels: list at least one ({defined})"
    for position, name in enumerate(budget.channels):
        if name not in config.channels:
            yield ("channels", position), f"unknown channel {name!r}; channels: {defined}"
    if len(set(budget.channels)) != len(budget.channels):
        yield ("channels",), "a channel is listed twice"
