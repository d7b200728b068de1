"""The state facade: one ObjectStore, one codec, and the small stores that each own one kind of record.

Layout of objects (keys relative to the store; ``<…>`` parts are escaped by ``segment``)::

    ledger.json                          LedgerStore      the rules ledger
    claims/<delivery>/<generation>       ClaimStore       create-only claims of deliveries
    sent/<delivery>                      ClaimStore       create-only sent markers
    outbox/<delivery>.json               OutboxStore      pending or failed deliveries
    silences/<id>.json                   SilenceStore     silences
    actions/<id>/<seq>, links/<nonce>    ActionStore      action transitions, used link markers
    runs/<recorded>-<run_id>.json        RunLog           the last ``keep_runs`` result documents
    alerts/<recorded>-<nonce>.json       AlertHistory     batches of alert-history items
    series/<budget>.json                 SeriesStore      usage series, trimmed to ``series_days``
    idempotency/<sha256>.json            IdempotencyStore answers by Idempotency-Key
    maintenance.json                     Maintenance      when pruning last ran
    corrupt/<key>.<timestamp>            Codec            unreadable objects, moved aside
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from lib.state.actions import ActionStore
from lib.state.claims import Claimed, ClaimStore
from lib.state.codec import SCHEMA, Codec, Loaded, encode, segment
from lib.state.entries import OutboxEntry
from lib.state.history import AlertHistory
from lib.state.idempotency import IdempotencyStore
from lib.state.ledger import LedgerStore
from lib.state.maintenance import Maintenance
from lib.state.outbox import OutboxStore
from lib.state.runs import RunLog
from lib.state.series import SeriesStore
from lib.state.shards import ShardStore
from lib.state.silences import SilenceStore
from lib.state.store import ObjectStore

__all__ = ["SCHEMA", "Claimed", "Loaded", "OutboxEntry", "StateRepository", "encode", "segment"]


class StateRepository:
    """Holds the stores of one ObjectStore; each store is the only reader and writer of its records."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        lease: timedelta = timedelta(minutes=5),
        keep_runs: int = 50,
        retention: timedelta = timedelta(days=90),
        series_days: int = 62,
        idempotency_ttl: timedelta = timedelta(hours=24),
        idempotency_lease: timedelta = timedelta(minutes=15),
        prune_every: timedelta = timedelta(hours=24),
        clock: Callable[[], float] = time.time,
        workers: int | None = None,
    ) -> None:
        self.store = store
        self.codec = Codec(store, clock=clock, workers=workers)
        self.ledger = LedgerStore(self.codec)
        self.claims = ClaimStore(self.codec, lease=lease)
        self.outbox = OutboxStore(self.codec, self.claims)
        self.silences = SilenceStore(self.codec)
        self.actions = ActionStore(self.codec)
        self.series = SeriesStore(self.codec, days=series_days)
        self.shards = ShardStore(self.codec)  # fan-out leases, outcomes and member names (issue 18)
        self.history = AlertHistory(self.codec)
        self.runs = RunLog(self.codec, keep=keep_runs)
        self.idempotency = IdempotencyStore(self.codec, ttl=idempotency_ttl, lease=idempotency_lease)
        self.maintenance = Maintenance(
            self.codec,
            outbox=self.outbox,
            silences=self.silences,
            series=self.series,
            retention=retention,
            every=prune_every,
            idempotency_ttl=idempotency_ttl,
        )

    @property
    def problems(self) -> list[str]:
        """The last problems this instance met (for ``GET /status``); a run's own are in its result."""
        return self.codec.recent_problems()
