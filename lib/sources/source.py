"""The interface every source plug-in implements (``Source``), and what it hands back while fetching.

A source owns its metric catalogue, the checks of a budget that only it understands, the plan of its
requests, the fetch, and whether it can answer for a past instant (a backtest). Register one in
``lib.sources.SOURCES``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from lib.sources.catalogue import Metric, Problem

if TYPE_CHECKING:
    from lib.config.models import Budget
    from lib.model import Observation
    from lib.sources.failures import Caller


@dataclass(frozen=True)
class PlannedCall:
    """One API request a source means to send (a ``*`` zone list may still be split or resolved)."""

    service: str
    version: str
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)


class Pending(Protocol):
    """A fetch under way; ``observations`` waits for it (and may do the work on the caller's thread)."""

    def observations(self) -> list[Observation]: ...


class Source(Protocol):
    """A place usage or cost comes from (EdgeOne, Billing ...)."""

    name: str
    description: str
    metrics: Mapping[str, Metric]
    supports_backtest: bool  # can it answer as of a past instant (``check --at``)?
    backtest_note: str  # why not, in the user's words, when it cannot

    def check(self, budget: Budget) -> Iterator[Problem]:
        """Problems in ``budget`` that only this source knows about (paths under the budget)."""
        ...

    def plan(self, budgets: Sequence[Budget], now: datetime, tz: tzinfo) -> list[PlannedCall]:
        """The requests a fetch for this source's ``budgets`` would send as of ``now`` (pure)."""
        ...

    def start(self, budgets: Sequence[Budget], client: Caller, now: datetime, tz: tzinfo, pool: Executor) -> Pending:
        """Start fetching for this source's ``budgets`` (requests may go out on ``pool`` at once)."""
        ...
