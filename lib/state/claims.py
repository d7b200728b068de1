"""Delivery markers: create-only claims (who sends a delivery) and sent markers (it went out).

``claims/<delivery>/<generation>`` holds ``{"run_id", "generation", "claimed_at", "lease_until",
"released"}`` (+ ``"delivery_id", "channel", "notification"`` when claimed with an intent);
``sent/<delivery>`` holds ``{"run_id", "sent_at", "detail"}``.

Why markers and not one document: COS cannot compare-and-swap a PUT, so "sent exactly once" rests on
create-only objects. A delivery is sent only by the run whose ``put_if_absent`` created its claim. A
claim a crashed run left behind is taken over after its lease by creating the *next* generation, which
is again create-only, so two runs racing for a stale claim still produce one winner.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lib.errors import StateError
from lib.state.codec import SCHEMA, Codec, Unreadable, encode, parse_time, segment
from lib.state.entries import OutboxEntry
from lib.state.store import ObjectStore

log = logging.getLogger("lib.state")
_GEN_WIDTH = 6


@dataclass(frozen=True)
class Claimed:
    """The answer to a claim: whether this run won it (also its truth value), and what was damaged."""

    won: bool
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.won


def claim_key(delivery_id: str, generation: int) -> str:
    return f"claims/{segment(delivery_id)}/{generation:0{_GEN_WIDTH}d}"


def sent_key(delivery_id: str) -> str:
    return f"sent/{segment(delivery_id)}"


class ClaimStore:
    """Claims and sent markers of deliveries, over the shared codec."""

    def __init__(self, codec: Codec, *, lease: timedelta) -> None:
        self._codec = codec
        self.lease = lease
        self._won: dict[str, tuple[int, str]] = {}  # delivery id -> (generation, run id) this object claimed
        # Deliveries the channel accepted whose sent marker could not be written (the store failed after
        # the send): they count as sent here, and write_pending_markers() writes them at the next run.
        self._unmarked: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def _store(self) -> ObjectStore:
        return self._codec.store

    def is_sent(self, delivery_id: str) -> bool:
        """Whether a run recorded this delivery as sent (the marker counts even if its content is damaged)."""
        with self._lock:
            if delivery_id in self._unmarked:
                return True
        return self._store.get_meta(sent_key(delivery_id)) is not None

    def generations(self, delivery_id: str) -> list[int]:
        prefix = f"claims/{segment(delivery_id)}/"
        return sorted(int(key[len(prefix) :]) for key in self._store.list(prefix) if key[len(prefix) :].isdigit())

    def _doc(
        self,
        run_id: str,
        generation: int,
        now: datetime,
        released: bool = False,
        intent: OutboxEntry | None = None,
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "run_id": run_id,
            "generation": generation,
            "claimed_at": now.isoformat(),
            "lease_until": (now + self.lease).isoformat(),
            "released": released,
            "pid": os.getpid(),
        }
        if intent is not None:
            # A second copy of the message, for rebuilding a damaged outbox entry (OutboxStore).
            doc.update(delivery_id=intent.delivery_id, channel=intent.channel, notification=intent.notification)
        return doc

    def _holder(self, delivery_id: str, generation: int, problems: list[str]) -> dict[str, Any] | None:
        """The claim document of a generation; None when it is unreadable (then it counts as expired)."""
        key = claim_key(delivery_id, generation)
        obj = self._store.get(key)
        if obj is None:
            return None
        try:
            doc = self._codec.decode(obj.data, "claim")
            parse_time(doc["lease_until"])
            return doc
        except (Unreadable, KeyError, TypeError, ValueError) as exc:
            # Never move a marker aside: that would free its generation for a second winner.
            problems.append(self._codec.problem(f"claim marker {key!r} is unreadable ({exc}); treating it as expired"))
            return None

    def claim(self, delivery_id: str, *, run_id: str, now: datetime, intent: OutboxEntry | None = None) -> Claimed:
        """Try to become the one run that sends this delivery (``won``).

        ``intent`` (the outbox entry) is copied into the claim, so that a damaged outbox entry can
        be rebuilt from it. Writing the outbox entry itself is the caller's step (lib.deliveries).
        """
        problems: list[str] = []
        generation = 1
        if not self._create(delivery_id, run_id, generation, now, intent):
            gens = self.generations(delivery_id)
            if gens:
                top = gens[-1]
                holder = self._holder(delivery_id, top, problems)
                live = holder is not None and not holder.get("released")
                if live and holder is not None and now < parse_time(holder["lease_until"]):
                    return Claimed(False, problems)  # held by a live run (possibly this one)
                if live and holder is not None:
                    log.warning(
                        "taking over delivery %s: claim of run %s expired at %s",
                        delivery_id,
                        holder.get("run_id"),
                        holder.get("lease_until"),
                    )
                if self.is_sent(delivery_id):
                    return Claimed(False, problems)
                generation = top + 1
            else:
                generation = 1  # generation 1 was pruned between our create and the listing
            if not self._create(delivery_id, run_id, generation, now, intent):
                return Claimed(False, problems)
        # Sent while we were looking (or a slow run's lease expired after it sent): do not send again.
        if self.is_sent(delivery_id):
            doc = self._doc(run_id, generation, now, released=True)
            self._store.put(claim_key(delivery_id, generation), encode(doc))
            return Claimed(False, problems)
        with self._lock:
            self._won[delivery_id] = (generation, run_id)
        return Claimed(True, problems)

    def _create(
        self, delivery_id: str, run_id: str, generation: int, now: datetime, intent: OutboxEntry | None
    ) -> bool:
        doc = self._doc(run_id, generation, now, intent=intent)
        return bool(self._store.put_if_absent(claim_key(delivery_id, generation), encode(doc)))

    def release(self, delivery_id: str, *, run_id: str) -> None:
        """Give up this run's claim (the delivery failed) so a later run may claim and retry it."""
        with self._lock:
            won = self._won.pop(delivery_id, None)
        gens = [won[0]] if won and won[1] == run_id else self.generations(delivery_id)[-1:]
        if not gens:
            return
        holder = self._holder(delivery_id, gens[0], [])
        if holder is None or holder.get("run_id") != run_id or holder.get("released"):
            log.debug("release of %s by %s: not its claim", delivery_id, run_id)
            return
        holder["released"] = True
        self._store.put(claim_key(delivery_id, gens[0]), encode(holder))

    def mark_sent(self, delivery_id: str, *, run_id: str, now: datetime, detail: Mapping[str, Any]) -> None:
        """Record the delivery as sent (create-only; a second marker means a duplicate was sent)."""
        data = encode({"schema": SCHEMA, "run_id": run_id, "sent_at": now.isoformat(), "detail": dict(detail)})
        with self._lock:
            self._won.pop(delivery_id, None)
        try:
            created = self._store.put_if_absent(sent_key(delivery_id), data)
        except StateError:
            # It was sent: remember that, or the outbox intent would send it again once the claim expires.
            with self._lock:
                self._unmarked[delivery_id] = data
            raise
        if not created:
            log.warning("delivery %s was already marked sent by another run; run %s sent it again", delivery_id, run_id)

    def write_pending_markers(self) -> int:
        """Write the sent markers an earlier run of this object could not; raises StoreError if it still cannot.

        lib.deliveries calls it at the start of every run: a run whose store failed after a send raised
        (SCF retries it), and the retry on the same warm instance records what was sent before it sends.
        """
        with self._lock:
            pending = sorted(self._unmarked.items())
        for delivery_id, data in pending:
            self._store.put_if_absent(sent_key(delivery_id), data)
            with self._lock:
                self._unmarked.pop(delivery_id, None)
        return len(pending)

    def copies(self, seg: str) -> tuple[dict[str, Any] | None, str, int]:
        """For the delivery at key part ``seg``: the first readable claim carrying its notification (or None),
        that claim's key, and how many of its claims were released (one per failed send)."""
        prefix = f"claims/{seg}/"
        source: tuple[str, dict[str, Any]] | None = None
        released = 0
        for key in self._store.list(prefix):
            if not key[len(prefix) :].isdigit():
                continue
            obj = self._store.get(key)
            if obj is None:
                continue
            try:
                doc = self._codec.decode(obj.data, "claim")
                parse_time(doc["claimed_at"])
            except (Unreadable, KeyError, TypeError, ValueError):
                continue  # a damaged claim is reported where it is used (claim), never moved
            released += doc.get("released") is True
            if source is None and _carries_notification(doc, seg):
                source = (key, doc)
        if source is None:
            return None, "", released
        return source[1], source[0], released

    def segments(self) -> list[str]:
        """The key part of every delivery that has a claim."""
        return sorted({key[len("claims/") :].partition("/")[0] for key in self._store.list("claims/")})


def _carries_notification(doc: Mapping[str, Any], seg: str) -> bool:
    """Whether a claim document holds a usable copy of the notification of the delivery at ``seg``."""
    did, channel, notification = doc.get("delivery_id"), doc.get("channel"), doc.get("notification")
    return (
        isinstance(did, str)
        and segment(did) == seg
        and isinstance(channel, str)
        and isinstance(notification, dict)
        and bool(notification)
    )
