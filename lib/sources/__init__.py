"""Sources: where each budget's figure comes from, as plug-ins found by name in one registry.

``SOURCES`` maps a ``source:`` name to its ``Source`` (``lib.sources.source``): adding a source is
adding a module and one line below. ``collect`` starts every source's requests on one bounded thread
pool and gathers Observations (one per budget and group). A failed request fails only the budgets
that needed it: their Observations carry ``value=None`` and a typed ``failure``, never a zero; data not
generated yet has ``ready=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from lib.errors import ConfigError
from lib.periods import zone
from lib.sources import billing, cdn_source, teo, teo_source
from lib.sources.catalogue import Metric
from lib.sources.failures import Caller
from lib.sources.source import Pending, Source

if TYPE_CHECKING:
    from lib.config.models import Config
    from lib.model import Observation

SOURCES: Mapping[str, Source] = MappingProxyType(
    {
        teo_source.SOURCE.name: teo_source.SOURCE,
        cdn_source.SOURCE.name: cdn_source.SOURCE,
        billing.SOURCE.name: billing.SOURCE,
    }
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
    found = SOURCES.get(source)
    return found.metrics.get(name) if found is not None else None


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
        for name, source in SOURCES.items():
            mine = [b for b in config.budgets if b.source == name]
            if mine:
                pending.append(source.start(mine, client, now, tz, pool))
        found = [obs for fetch in pending for obs in fetch.observations()]
    by_budget: dict[str, list[Observation]] = {}
    for obs in found:
        by_budget.setdefault(obs.budget, []).append(obs)
    return [obs for budget in config.budgets for obs in by_budget.get(budget.name, ())]


__all__ = ["SOURCES", "Metric", "Source", "collect", "find_metric", "source_for"]
