"""The outbox store: ``outbox/<delivery>.json``, deliveries pending a (re)try or given up; rebuilt from claims.

Why a claim carries its notification: the outbox entry is the one mutable copy of a pending delivery. If
it is damaged (a hand edit, disk corruption) or the whole outbox is unreadable, the claim written with the
intent still holds the message, so the entry is rebuilt from it instead of the delivery being lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lib.errors import StoreError
from lib.state.claims import ClaimStore
from lib.state.codec import Codec, Loaded, parse_time, segment
from lib.state.entries import OutboxEntry

OUTBOX = "outbox"


def outbox_key(delivery_id: str) -> str:
    return f"{OUTBOX}/{segment(delivery_id)}.json"


def due(now: datetime, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
    """The pending entries whose next attempt is due, oldest first."""
    ready = [e for e in entries if e.status == "pending" and e.next_attempt_at <= now]
    return sorted(ready, key=lambda e: e.next_attempt_at)


class OutboxStore:
    """Pending and failed deliveries; a damaged entry, or an unreadable outbox, is rebuilt from the claims."""

    def __init__(self, codec: Codec, claims: ClaimStore) -> None:
        self._codec = codec
        self._claims = claims

    def add(self, entry: OutboxEntry) -> bool:
        """Write the intent of a delivery unless it has an entry already; True if this call wrote it."""
        return self._codec.create(outbox_key(entry.delivery_id), entry.to_dict())

    def put(self, entry: OutboxEntry) -> None:
        self._codec.write(outbox_key(entry.delivery_id), entry.to_dict())

    def remove(self, delivery_id: str) -> None:
        self._codec.store.delete(outbox_key(delivery_id))

    def entries(self) -> Loaded[list[OutboxEntry]]:
        """Every outbox entry, pending and failed, from one listing, and what had to be repaired."""
        try:
            keys = self._codec.store.list(f"{OUTBOX}/")
        except StoreError as exc:
            return self._recover_all(exc)
        found = self._codec.map(self._load, keys)
        return Loaded([entry for entry, _ in found if entry is not None], [p for _, p in found if p is not None])

    def due(self, now: datetime) -> list[OutboxEntry]:
        """Pending deliveries whose next attempt is due, oldest first, from a fresh listing."""
        return due(now, self.entries().value)

    def failed(self) -> list[OutboxEntry]:
        return [e for e in self.entries().value if e.status == "failed"]

    def pending(self) -> list[OutboxEntry]:
        return [e for e in self.entries().value if e.status == "pending"]

    def _load(self, key: str) -> tuple[OutboxEntry | None, str | None]:
        """One outbox entry; a damaged one is moved aside and, when its claims hold the message, rebuilt."""
        obj = self._codec.store.get(key)
        if obj is None:
            return None, None
        entry, reason = self._codec.parse(obj.data, "outbox", OutboxEntry.from_dict)
        if reason is None:
            return entry, None
        rebuilt, outcome = self._rebuild(key[len(f"{OUTBOX}/") : -len(".json")])
        replacement = self._codec.envelope(rebuilt.to_dict()) if rebuilt is not None else None
        replaced, problem = self._codec.quarantine(
            key, obj.data, obj.etag, reason, replacement=replacement, outcome=outcome
        )
        return (rebuilt if replaced else None), problem

    def _rebuild(self, seg: str) -> tuple[OutboxEntry | None, str]:
        """The entry of the delivery at key part ``seg`` rebuilt from its claims, and what happened.

        The claim written with the intent holds the notification. The rebuilt entry is pending and due at
        once (its claimed time, which is in the past for any later run); its attempts are the released
        claims (one per failed send). Claims written before they held the notification cannot help.
        """
        if self._codec.store.get_meta(f"sent/{seg}") is not None:
            return None, "its delivery was sent already, nothing is lost"
        doc, source, released = self._claims.copies(seg)
        if doc is None:
            return None, (
                "no claim holds a copy of its notification (claims written by an older version do not): "
                "this delivery is lost"
            )
        if self._claims.is_sent(doc["delivery_id"]):
            return None, "its delivery was sent already, nothing is lost"
        rebuilt = OutboxEntry(
            delivery_id=doc["delivery_id"],
            channel=doc["channel"],
            notification=dict(doc["notification"]),
            attempts=released,
            next_attempt_at=parse_time(doc["claimed_at"]),
            last_error=f"outbox entry was damaged; rebuilt from {source}",
            status="pending",
        )
        outcome = f"recovered the delivery {rebuilt.delivery_id!r} from {source!r}; retried from attempt {released + 1}"
        return rebuilt, outcome

    def _recover_all(self, error: StoreError) -> Loaded[list[OutboxEntry]]:
        """The outbox cannot be listed (a file where its folder should be, no permission): rebuild every
        unsent delivery from its claims, after moving a blocking file aside so the entries can be rewritten."""
        problems = [f"the outbox in {self._codec.store.describe()} cannot be read ({error})"]
        blocker = self._codec.store.get(OUTBOX) if error.code == "ENOTDIR" else None
        writable = False
        if blocker is not None:
            _, moved = self._codec.quarantine(OUTBOX, blocker.data, blocker.etag, "a file where the outbox folder is")
            problems.append(moved)
            writable = self._codec.store.get_meta(OUTBOX) is None
        rebuilt: list[OutboxEntry] = []
        lost = 0
        for seg in self._claims.segments():
            if self._codec.store.get_meta(f"sent/{seg}") is not None:
                continue
            entry, _ = self._rebuild(seg)
            if entry is None:
                lost += 1
                continue
            if writable:
                self.add(entry)
            rebuilt.append(entry)
        summary = f"recovered {len(rebuilt)} pending deliveries from their claims"
        if lost:
            summary += f"; {lost} unsent deliveries had no copy in their claims and are lost"
        if not writable:
            summary += "; they are retried from memory until the outbox can be written again"
        problems.append(summary)
        for text in (problems[0], problems[-1]):
            self._codec.problem(text)
        return Loaded(rebuilt, problems)
