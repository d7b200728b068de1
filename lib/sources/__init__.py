"""Sources: where each budget's figure comes from, as plug-ins found by name in one registry.

``SOURCES`` maps a ``source:`` name to its ``Source`` (``lib.sources.source``): adding a source is
adding a module and one line below. A plug-in module is imported the first time its entry is read, and
``CATALOGUES`` holds every source's metrics without importing any plug-in, so a run pays only for the
sources its budgets use. ``collect`` starts every source's requests on one bounded thread
pool and gathers Observations (one per budget and group). A failed request fails only the budgets
that needed it: their Observations carry ``value=None`` and a typed ``failure``, never a zero; data not
generated yet has ``ready=False``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING

from lib.errors import ConfigError
from lib.periods import zone
from lib.sources import teo
from lib.sources.billing_catalogue import BILLING_METRICS
from lib.sources.catalogue import Metric
from lib.sources.cdn_catalogue import CDN_METRICS
from lib.sources.failures import Caller
from lib.sources.source import Pending, Source
from lib.sources.teo_catalogue import TEO_METRICS

if TYPE_CHECKING:
    from lib.config.models import Config
    from lib.model import Observation


class Registry(Mapping[str, Source]):
    """Source name -> its plug-in (the ``SOURCE`` of a module), imported on first read: the cdn and
    billing modules cost a run that uses only EdgeOne ~15-25 ms of start-up."""

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = dict(modules)

    def __getitem__(self, name: str) -> Source:
        source: Source = import_module(self._modules[name]).SOURCE  # the import system keeps each module once
        return source

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


SOURCES: Mapping[str, Source] = Registry(
    {"teo": "lib.sources.teo_source", "cdn": "lib.sources.cdn_source", "billing": "lib.sources.billing"}
)
# Each plug-in's ``metrics`` is the same object (a test holds them to it); configuration reads these.
CATALOGUES: Mapping[str, Mapping[str, Metric]] = MappingProxyType(
    {"teo": TEO_METRICS, "cdn": CDN_METRICS, "billing": BILLING_METRICS}
)
MAX_WORKERS = teo.MAX_WORKERS


def source_for(name: str) -> Source:
    """The source called ``name``, or a ConfigError naming the ones there are."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ConfigError(f"unknown source {name!r}; sources: {', '.join(sorted(SOURCES))}", field="source") from None


def find_metric(source: str, name: str) -> Metric | None:
    """The catalogue entry of ``name`` in ``source``; None when either is unknown."""
    found = CATALOGUES.get(source)
    return found.get(name) if found is not None else None


def collect(config: Config, client: Caller, now: datetime) -> list[Observation]:
    """Observations for every budget in ``config`` as of the aware instant ``now``, in budget order."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = zone(config.timezone)
    for budget in config.budgets:
        source_for(budget.source)  # a budget no source answers is a configuration error, not a silent gap
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="collect") as pool:
        # Every source starts before any is waited for, so requests of different sources overlap.
        pending: list[Pending] = []
        for name in SOURCES:
            mine = [b for b in config.budgets if b.source == name]
            if mine:  # only then is the source's module imported
                pending.append(SOURCES[name].start(mine, client, now, tz, pool))
        found = [obs for fetch in pending for obs in fetch.observations()]
    by_budget: dict[str, list[Observation]] = {}
    for obs in found:
        by_budget.setdefault(obs.budget, []).append(obs)
    return [obs for budget in config.budgets for obs in by_budget.get(budget.name, ())]


__all__ = ["CATALOGUES", "SOURCES", "Metric", "Source", "collect", "find_metric", "source_for"]
