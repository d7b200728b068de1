"""Bounded size: ``maintenance.json`` (when pruning last ran) and the pruning of every kind of record."""

from __future__ import annotations

import logging
from datetime import timedelta

from lib.state.codec import Codec, Loaded, before, doc_time, segment, stamp_epoch
from lib.state.idempotency import PREFIX as IDEMPOTENCY
from lib.state.outbox import OutboxStore
from lib.state.series import SeriesStore
from lib.state.silences import SilenceStore

log = logging.getLogger("lib.state")
MAINTENANCE_KEY = "maintenance.json"


def key_time(key: str) -> float | None:
    """The timestamp in ``alerts/<stamp>-<nonce>.json`` or ``corrupt/<key>.<stamp>``."""
    name = key.rsplit("/", 1)[-1]
    for candidate in (name.split("-", 1)[0], name.rsplit(".", 1)[-1]):
        when = stamp_epoch(candidate)
        if when is not None:
            return when
    return None


class Maintenance:
    """Prunes what is older than ``retention`` (idempotency records after ``idempotency_ttl``), once per ``every``."""

    def __init__(
        self,
        codec: Codec,
        *,
        outbox: OutboxStore,
        silences: SilenceStore,
        series: SeriesStore,
        retention: timedelta,
        every: timedelta,
        idempotency_ttl: timedelta,
    ) -> None:
        self._codec = codec
        self._outbox = outbox
        self._silences = silences
        self._series = series
        self.retention = retention
        self.every = every
        self.idempotency_ttl = idempotency_ttl

    def due(self) -> Loaded[bool]:
        """Whether the last pruning is older than ``every``; a damaged record is reported and means due."""
        loaded = self._codec.read(MAINTENANCE_KEY, "maintenance")
        last = loaded.value.get("pruned_at") if loaded.value else None
        fresh = isinstance(last, (int, float)) and self._codec.clock() - last < self.every.total_seconds()
        return Loaded(not fresh, loaded.problems)

    def maybe_prune(self) -> Loaded[dict[str, int] | None]:
        """Prune when due (at most about once a day); the counts, or None when it was not due."""
        due = self.due()
        if not due.value:
            return Loaded(None, due.problems)
        self._codec.write(MAINTENANCE_KEY, {"pruned_at": self._codec.clock()})
        return Loaded(self.prune(), due.problems)

    def prune(self) -> dict[str, int]:
        """Delete what is older than ``retention``: markers, failed outbox entries, history, runs, silences."""
        codec, store = self._codec, self._codec.store
        now = codec.clock()
        cutoff = now - self.retention.total_seconds()
        counts = {"sent": 0, "claims": 0, "outbox": 0, "alerts": 0, "silences": 0, "series": 0, "other": 0}
        outbox = self._outbox.entries().value
        pending = {segment(e.delivery_id) for e in outbox if e.status == "pending"}
        stale = [e.delivery_id for e in outbox if e.status == "failed" and e.next_attempt_at.timestamp() < cutoff]
        codec.map(self._outbox.remove, stale)
        counts["outbox"] = len(stale)

        sent_keys = store.list("sent/")
        sent_old = {
            key[len("sent/") :]
            for key in codec.older(sent_keys, lambda k: doc_time(codec.bytes_of(k), "sent_at"), cutoff)
        }
        claims: dict[str, list[str]] = {}
        for key in store.list("claims/"):
            seg, _, _ = key[len("claims/") :].partition("/")
            claims.setdefault(seg, []).append(key)
        candidates = [(seg, keys) for seg, keys in claims.items() if seg not in pending]
        old = codec.map(
            lambda item: item[0] in sent_old or before(doc_time(codec.bytes_of(item[1][-1]), "claimed_at"), cutoff),
            candidates,
        )
        codec.map(store.delete, [key for (_, keys), gone in zip(candidates, old, strict=True) if gone for key in keys])
        counts["claims"] = sum(old)
        # Claims first (above): a sent marker must outlive its claims.
        codec.map(store.delete, [f"sent/{seg}" for seg in sorted(sent_old)])
        counts["sent"] = len(sent_old)

        for prefix, name in (("alerts/", "alerts"), ("corrupt/", "other")):
            doomed = [key for key in store.list(prefix) if before(key_time(key), cutoff)]
            codec.map(store.delete, doomed)
            counts[name] += len(doomed)
        ended = [s.id for s in self._silences.list().value if s.ends_at.timestamp() < cutoff]
        codec.map(self._silences.delete, ended)
        counts["silences"] = len(ended)

        doomed = codec.older(store.list("series/"), self._series.newest, cutoff)
        codec.map(store.delete, doomed)
        counts["series"] = len(doomed)

        ttl_cutoff = now - self.idempotency_ttl.total_seconds()
        doomed = codec.older(store.list(IDEMPOTENCY), self._saved_at, ttl_cutoff)
        codec.map(store.delete, doomed)
        counts["other"] += len(doomed)
        log.info("pruned state: %s", counts)
        return counts

    def _saved_at(self, key: str) -> float | None:
        saved = (self._codec.read(key, "idempotency").value or {}).get("saved_at")
        return float(saved) if isinstance(saved, (int, float)) else None
