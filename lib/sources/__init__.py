"""Collectors: what each budget's metric stands at now, as Observations (one per budget and group).

``collect`` runs EdgeOne (``teo``) and Billing requests on one bounded thread pool. A failed request
fails only the budgets that needed it: their Observations carry ``value=None`` and
``error="<code>: <message>"``, never a zero; billing data not generated yet has ``ready=False``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from lib.sources import teo
from lib.sources.billing import BillingFetch
from lib.sources.failures import Caller
from lib.periods import zone

if TYPE_CHECKING:
    from lib.config.models import Config
    from lib.model import Observation

MAX_WORKERS = teo.MAX_WORKERS


def collect(config: Config, client: Caller, now: datetime) -> list[Observation]:
    """Observations for every budget in ``config`` as of the aware instant ``now``, in budget order."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = zone(config.timezone)
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="collect") as pool:
        billing = BillingFetch(config.budgets, client, now, tz, pool)  # in flight while teo runs
        found = teo.collect(config.budgets, client, now, tz, pool) + billing.observations()
    by_budget: dict[str, list[Observation]] = {}
    for obs in found:
        by_budget.setdefault(obs.budget, []).append(obs)
    return [obs for budget in config.budgets for obs in by_budget.get(budget.name, ())]


__all__ = ["collect"]
