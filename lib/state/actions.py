"""Action records: create-only transition objects per action, and create-only "used" markers of signed links.

Layout::

    actions/<id>/<seq>     one transition each (0001 holds the intent), created with put_if_absent
    links/<nonce>          a signed link was used (created with put_if_absent)
    actions-settled.json   the records a run found settled, each at its last transition (a cache)

Why the key is the sequence number and not ``<seq>-<state>``: the next transition of a record must be
one object whatever state it names, so that two runs racing (an approval and an expiry, an executor and
a resumer) collide on the same key and exactly one wins. The state is inside the object. Nothing is
ever rewritten or moved aside: a damaged transition is reported and blocks the record (nothing runs
twice because of it), it never frees its sequence number for a second winner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lib.errors import StateError
from lib.state.codec import Codec, Loaded, Unreadable, segment

_SEQ_WIDTH = 4
UNREADABLE = "unreadable"  # the state of a transition whose object cannot be read back
# Why a cache of settled records: every run sweeps the records for expiries, resumptions and undos at
# period end. Read whole, that is a listing and a read per transition of every action ever recorded, on
# COS a request each, growing month by month. A settled record (nothing a run will do with it, its last
# step announced) is skipped while its last transition number is the one cached; a later transition
# (an undo through the API) makes it a record to read again. Losing the cache only costs reads.
SETTLED_KEY = "actions-settled.json"
# Records this store has read, kept while their last transition stays the same: transitions are
# create-only objects, so a record whose listing ends at the same number is the same record. A warm API
# instance then shows each step after reading it once, not once a request; what acts reads afresh (get).
MAX_KEPT = 5000


class TransitionRefused(StateError):
    """A transition the state machine does not allow from the record's current state."""

    def __init__(self, action_id: str, state: str, wanted: str, allowed: Sequence[str]) -> None:
        can = ", ".join(allowed) or "nothing (it is final)"
        super().__init__(f"action {action_id} is {state}; it cannot become {wanted} (from {state}: {can})")
        self.action_id = action_id
        self.state = state
        self.wanted = wanted


class ActionNotFound(StateError):
    """No action has that id (never recorded, or recorded in another state store)."""

    def __init__(self, action_id: str) -> None:
        super().__init__(f"there is no action {action_id!r}; GET /actions lists them", retryable=False)
        self.action_id = action_id


@dataclass(frozen=True)
class Transition:
    """One recorded step: the state entered, when, by whom, the requests that made it, and what it found."""

    seq: int
    state: str
    at: str  # ISO 8601
    by: str  # run:<id>, api:<token name>, link, resume:<run id> ...
    request_ids: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "state": self.state,
            "at": self.at,
            "by": self.by,
            "request_ids": list(self.request_ids),
            "detail": dict(self.detail),
        }


@dataclass(frozen=True)
class ActionRecord:
    """An action's intent and its audit trail, oldest first; its state is the last transition's."""

    id: str
    intent: Mapping[str, Any]
    trail: tuple[Transition, ...]

    @property
    def last(self) -> Transition:
        return self.trail[-1]

    @property
    def state(self) -> str:
        return self.last.state

    def find(self, state: str) -> Transition | None:
        """The latest transition into ``state``, if any."""
        return next((t for t in reversed(self.trail) if t.state == state), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "intent": dict(self.intent),
            "trail": [t.to_dict() for t in self.trail],
        }


def transition_key(action_id: str, seq: int) -> str:
    return f"actions/{segment(action_id)}/{seq:0{_SEQ_WIDTH}d}"


def link_key(nonce: str) -> str:
    return f"links/{segment(nonce)}"


class ActionStore:
    """Action records over the shared codec: open (create-only intent), append (create-only), read, list."""

    def __init__(self, codec: Codec) -> None:
        self._codec = codec
        self._kept: dict[str, ActionRecord] = {}  # key part → the record as read, while it is whole

    def open(self, action_id: str, intent: Mapping[str, Any], *, state: str, by: str, at: datetime) -> bool:
        """Record the intent as transition 1; False when the action already has one (another run recorded it)."""
        body = {"id": action_id, "intent": dict(intent), **Transition(1, state, at.isoformat(), by).to_dict()}
        return self._codec.create(transition_key(action_id, 1), body)

    def append(
        self,
        record: ActionRecord,
        state: str,
        *,
        by: str,
        at: datetime,
        request_ids: Sequence[str] = (),
        detail: Mapping[str, Any] | None = None,
    ) -> ActionRecord | None:
        """Add the next transition after ``record.last``; None when another writer added it first."""
        step = Transition(record.last.seq + 1, state, at.isoformat(), by, tuple(request_ids), dict(detail or {}))
        if not self._codec.create(transition_key(record.id, step.seq), {"id": record.id, **step.to_dict()}):
            return None
        fresh = ActionRecord(record.id, record.intent, (*record.trail, step))
        if self._kept.get(segment(record.id)) is record:
            self._kept[segment(record.id)] = fresh  # this store wrote the step: no need to read it back
        return fresh

    def get(self, action_id: str) -> ActionRecord | None:
        """The record with every transition, read now; None when it has no intent yet. What acts on a record
        reads it through here, so a transition damaged since is found and holds the record."""
        part = segment(action_id)
        prefix = f"actions/{part}/"
        keys = [k for k in self._codec.store.list(prefix) if k[len(prefix) :].isdigit()]
        record = self._read_record(action_id, prefix, keys)
        if record is not None and all(t.state != UNREADABLE for t in record.trail) and record.intent:
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()  # a bound, not an eviction policy: the next reads refill it
            self._kept[part] = record
        else:
            self._kept.pop(part, None)
        return record

    def records(self) -> list[ActionRecord]:
        """Every record to show (``GET /actions``, ``/status``, the dashboard), from one listing: a record
        this store read whole at its current last transition is not read again."""
        latest = self.latest()
        out: list[ActionRecord] = []
        for part in sorted(latest):
            kept = self._kept.get(part)
            record = kept if kept is not None and kept.last.seq == latest[part] else self.get(part)
            if record is not None:
                out.append(record)
        return out

    def _read_record(self, action_id: str, prefix: str, keys: list[str]) -> ActionRecord | None:
        intent: Mapping[str, Any] | None = None
        trail: list[Transition] = []
        for key in keys:
            seq = int(key[len(prefix) :])
            doc = self._read(key)
            if doc is None:
                trail.append(Transition(seq, UNREADABLE, "", ""))
                continue
            if seq == 1:
                intent = dict(doc.get("intent") or {})
            trail.append(self._transition(seq, doc))
        if not trail or trail[0].seq != 1:
            return None
        return ActionRecord(action_id, intent or {}, tuple(trail))  # no intent: its object is damaged

    def ids(self) -> list[str]:
        """The key part of every recorded action (the id as ``segment`` wrote it)."""
        return sorted(self.latest())

    def latest(self) -> dict[str, int]:
        """Every recorded action's key part and its highest transition number, from one listing."""
        out: dict[str, int] = {}
        for key in self._codec.store.list("actions/"):
            ident, _, seq = key[len("actions/") :].partition("/")
            out[ident] = max(out.get(ident, 0), int(seq) if seq.isdigit() else 0)
        return out

    def settled(self) -> Loaded[dict[str, int]]:
        """The records a run found settled (key part → the transition number it was settled at); an
        unreadable cache is moved aside and reported, and every record is read again."""
        found = self._codec.load(SETTLED_KEY, "settled actions", _settled_of)
        return Loaded(found.value or {}, found.problems)

    def remember_settled(self, settled: Mapping[str, int]) -> None:
        self._codec.write(SETTLED_KEY, {"settled": dict(sorted(settled.items()))})

    def use_link(self, nonce: str, *, at: datetime, operation: str, by: str) -> bool:
        """Mark a signed link used; True only for the first use (create-only), so a link works once."""
        body = {"nonce": nonce, "operation": operation, "used_at": at.isoformat(), "by": by}
        return self._codec.create(link_key(nonce), body)

    def link_used(self, nonce: str) -> bool:
        return self._codec.store.get_meta(link_key(nonce)) is not None

    def _read(self, key: str) -> dict[str, Any] | None:
        obj = self._codec.store.get(key)
        if obj is None:
            return None
        try:
            doc = self._codec.decode(obj.data, "action")
            str(doc["state"])
            return doc
        except (Unreadable, KeyError, TypeError, ValueError) as exc:
            self._codec.problem(f"action transition {key!r} is unreadable ({exc}); the action is held until fixed")
            return None

    @staticmethod
    def _transition(seq: int, doc: Mapping[str, Any]) -> Transition:
        return Transition(
            seq,
            str(doc["state"]),
            str(doc.get("at", "")),
            str(doc.get("by", "")),
            tuple(str(r) for r in doc.get("request_ids") or ()),
            dict(doc.get("detail") or {}),
        )


def _settled_of(doc: Mapping[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in dict(doc["settled"]).items()}


__all__ = [
    "UNREADABLE",
    "ActionNotFound",
    "ActionRecord",
    "ActionStore",
    "Transition",
    "TransitionRefused",
    "link_key",
    "transition_key",
]
