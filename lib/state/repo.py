"""The state repository: ledger, delivery markers, outbox, silences, runs, history and usage series.

Layout of objects (keys relative to the store; ``<…>`` parts are escaped by ``segment``)::

    ledger.json                          {"schema", "saved_at", "ledger": <opaque dict from lib.rules>}
    claims/<delivery>/<generation>       create-only: {"run_id", "generation", "claimed_at", "lease_until", "released"}
                                         (+ "delivery_id", "channel", "notification" when claimed with an intent)
    sent/<delivery>                      create-only: {"run_id", "sent_at", "detail"}
    outbox/<delivery>.json               an OutboxEntry (pending or failed delivery)
    silences/<id>.json                   a Silence
    runs/<recorded>-<run_id>.json        the last ``keep_runs`` result documents
    alerts/<recorded>-<nonce>.json       one batch of alert-history items
    series/<budget>.json                 usage series of every group of a budget, trimmed to ``series_days``
    idempotency/<sha256>.json            POST /check results by Idempotency-Key
    maintenance.json                     when pruning last ran
    corrupt/<key>.<timestamp>            unreadable objects, moved aside

Why markers and not one document: COS cannot compare-and-swap a PUT, so "sent exactly once" rests on
create-only objects. A delivery is sent only by the run whose ``put_if_absent`` created its claim. A
claim a crashed run left behind is taken over after its lease by creating the *next* generation, which
is again create-only, so two runs racing for a stale claim still produce one winner.

Why a claim carries its notification: the outbox entry is the one mutable copy of a pending delivery. If
it is damaged (a hand edit, disk corruption), the claim written with the intent still holds the message,
so the entry is rebuilt from it instead of the delivery being lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal, TypeVar

from lib.errors import StateError, StoreError
from lib.model import Point, Silence
from lib.state.store import ObjectStore

log = logging.getLogger("lib.state")
_T = TypeVar("_T")
_A = TypeVar("_A")

SCHEMA = 1
LEDGER_KEY = "ledger.json"
MAINTENANCE_KEY = "maintenance.json"
_SAFE = re.compile(r"[A-Za-z0-9_.\-]")
_MAX_SEGMENT = 150
_GEN_WIDTH = 6
_STAMP = "%Y%m%dT%H%M%S%fZ"
_CURSOR = re.compile(r"^([0-9]{8}T[0-9]{12}Z-[0-9a-f]{12})\.([0-9]{1,6})$")

# Migrations of stored documents: (kind, version) -> function returning the document at version + 1.
Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _ledger_from_v0(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 0 was the bare rules ledger, without the envelope."""
    return {"schema": 1, "saved_at": None, "ledger": doc}


MIGRATIONS: dict[tuple[str, int], Migration] = {("ledger", 0): _ledger_from_v0}


@dataclass(frozen=True)
class Loaded:
    """A loaded document (None when there was none or it was unreadable) and what went wrong."""

    value: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OutboxEntry:
    """A delivery waiting to be (re)tried, or given up on (``failed``: kept for the status page)."""

    delivery_id: str
    channel: str
    notification: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    last_error: str
    status: Literal["pending", "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "channel": self.channel,
            "notification": self.notification,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutboxEntry:
        status = data["status"]
        if status not in ("pending", "failed"):
            raise ValueError(f"unknown outbox status {status!r}")
        at = _parse_time(data["next_attempt_at"])
        return cls(
            delivery_id=str(data["delivery_id"]),
            channel=str(data["channel"]),
            notification=dict(data["notification"]),
            attempts=int(data["attempts"]),
            next_attempt_at=at,
            last_error=str(data.get("last_error", "")),
            status=status,
        )


def segment(text: str) -> str:
    """One key part from any text: safe characters kept, others %XX-escaped, long ones shortened by hash."""
    if text == "":
        return "~"
    out = "".join(ch if _SAFE.match(ch) else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in text)
    if out.startswith("."):
        out = "%2E" + out[1:]
    if len(out) > _MAX_SEGMENT:
        out = out[:100] + "~" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]
    return out


def _parse_time(value: Any) -> datetime:
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return parsed


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(_STAMP)


def _stamp_epoch(stamp: str) -> float | None:
    try:
        return datetime.strptime(stamp, _STAMP).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(doc: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON with a single ``\\n`` at the end (no CR anywhere, on any platform)."""
    try:
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise StateError(f"cannot store a value as JSON: {exc}", retryable=False) from exc
    return (text + "\n").encode("utf-8")


def _ledger_field(doc: dict[str, Any]) -> dict[str, Any]:
    ledger = doc["ledger"]
    if not isinstance(ledger, dict):
        raise TypeError("the ledger field is not an object")
    return ledger


class _Unreadable(Exception):
    """Internal: an object's bytes do not decode to the expected document."""


class StateRepository:
    """Everything a run reads and writes between runs, on top of one ObjectStore."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        lease: timedelta = timedelta(minutes=5),
        keep_runs: int = 50,
        retention: timedelta = timedelta(days=90),
        series_days: int = 62,
        idempotency_ttl: timedelta = timedelta(hours=24),
        prune_every: timedelta = timedelta(hours=24),
        clock: Callable[[], float] = time.time,
        workers: int | None = None,
    ) -> None:
        self.store = store
        self.workers = workers
        self.lease = lease
        self.keep_runs = keep_runs
        self.retention = retention
        self.series_days = series_days
        self.idempotency_ttl = idempotency_ttl
        self.prune_every = prune_every
        self._clock = clock
        self.problems: list[str] = []
        self._won: dict[str, tuple[int, str]] = {}  # delivery id -> (generation, run id) this object claimed
        # Deliveries the channel accepted whose sent marker could not be written (the store failed after
        # the send): they count as sent here, and write_pending_markers() writes them at the next run.
        self._unmarked: dict[str, bytes] = {}
        self._pending_series: dict[str, dict[str, list[Point]]] = {}
        self._lock = threading.Lock()

    # -- documents ---------------------------------------------------------------------------------

    def _read(self, key: str, kind: str) -> dict[str, Any] | None:
        """The document at ``key`` migrated to SCHEMA; None if absent or unreadable (then moved aside)."""
        return self._load(key, kind, lambda doc: doc)

    def _load(self, key: str, kind: str, parse: Callable[[dict[str, Any]], _T]) -> _T | None:
        """Read, migrate and parse one document; an unreadable one is moved aside, reported, and None."""
        obj = self.store.get(key)
        if obj is None:
            return None
        value, reason = self._parse(obj.data, kind, parse)
        if reason is None:
            return value
        self._quarantine(key, obj.data, obj.etag, reason)
        return None

    def _parse(self, data: bytes, kind: str, parse: Callable[[dict[str, Any]], _T]) -> tuple[_T | None, str | None]:
        """The parsed document and None, or None and why it is unreadable."""
        try:
            return parse(self._decode(data, kind)), None
        except _Unreadable as exc:
            return None, str(exc)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            return None, f"not a valid {kind}: {type(exc).__name__}: {exc}"

    def _decode(self, data: bytes, kind: str) -> dict[str, Any]:
        try:
            doc = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise _Unreadable(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
        except ValueError as exc:
            raise _Unreadable(f"not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise _Unreadable(f"expected a JSON object, found {type(doc).__name__}")
        version = doc.get("schema", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise _Unreadable(f"bad schema version {version!r}")
        if version > SCHEMA:
            raise StateError(
                f"a {kind} object was written by a newer version of this program (schema {version}, "
                f"this one reads up to {SCHEMA}); deploy the newer version again",
                retryable=False,
            )
        while version < SCHEMA:
            migrate = MIGRATIONS.get((kind, version))
            if migrate is None:
                raise _Unreadable(f"no migration for a {kind} at schema {version}")
            doc = migrate(doc)
            version = int(doc["schema"])
        return dict(doc)

    def _write(self, key: str, body: Mapping[str, Any]) -> None:
        self.store.put(key, encode({"schema": SCHEMA, **body}))

    def _quarantine(
        self, key: str, data: bytes, etag: str, reason: str, *, replacement: bytes | None = None, outcome: str = ""
    ) -> bool:
        """Copy an unreadable object to ``corrupt/`` and delete it, or overwrite it with ``replacement``.

        Returns True when ``replacement`` was written. Replacing in place (not delete then create) leaves no
        moment without the object, so a failure half-way keeps the damaged one to be tried again next run.
        ``outcome`` (what became of its content) is added to the report once the object is dealt with.
        """
        target = f"corrupt/{key}.{_stamp(self._clock())}"
        note = f"moved to {target!r}"
        replaced = False
        try:
            self.store.put(target, data)
            current = self.store.get(key)
            if current is not None and current.etag == etag:  # someone may have rewritten it meanwhile
                if replacement is None:
                    self.store.delete(key)
                else:
                    self.store.put(key, replacement)
                    replaced = True
            if outcome and (replaced or replacement is None):
                note = f"{note}; {outcome}"
        except StoreError as exc:
            note = f"could not move it aside ({exc}); left in place, to be tried again next run"
        self._problem(f"state object {key!r} in {self.store.describe()} is unreadable ({reason}); {note}")
        return replaced

    def _problem(self, text: str) -> None:
        self.problems.append(text)
        log.error("%s", text)

    # -- alert ledger ------------------------------------------------------------------------------

    def load_ledger(self) -> Loaded:
        """The rules ledger; a missing one is None, an unreadable one is moved aside and reported.

        Loading the ledger starts a run: ``problems`` is cleared, so a repository kept warm across
        invocations reports each run's problems once.
        """
        self.problems = []
        ledger = self._load(LEDGER_KEY, "ledger", _ledger_field)
        if ledger is None and self.problems:
            self._problem(
                "the alert ledger starts afresh; deliveries already made are recognised by their "
                "sent markers and are not repeated"
            )
        return Loaded(ledger, list(self.problems))

    def save_ledger(self, ledger: Mapping[str, Any]) -> None:
        self._write(LEDGER_KEY, {"saved_at": _stamp(self._clock()), "ledger": dict(ledger)})

    # -- delivery markers --------------------------------------------------------------------------

    def _claim_key(self, delivery_id: str, generation: int) -> str:
        return f"claims/{segment(delivery_id)}/{generation:0{_GEN_WIDTH}d}"

    def _sent_key(self, delivery_id: str) -> str:
        return f"sent/{segment(delivery_id)}"

    def is_sent(self, delivery_id: str) -> bool:
        """Whether a run recorded this delivery as sent (the marker counts even if its content is damaged)."""
        with self._lock:
            if delivery_id in self._unmarked:
                return True
        return self.store.get_meta(self._sent_key(delivery_id)) is not None

    def _generations(self, delivery_id: str) -> list[int]:
        prefix = f"claims/{segment(delivery_id)}/"
        gens = []
        for key in self.store.list(prefix):
            tail = key[len(prefix) :]
            if tail.isdigit():
                gens.append(int(tail))
        return sorted(gens)

    def _claim_doc(
        self, run_id: str, generation: int, now: datetime, released: bool = False, intent: OutboxEntry | None = None
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
            # A second copy of the message, for rebuilding a damaged outbox entry (_recover_outbox).
            doc.update(delivery_id=intent.delivery_id, channel=intent.channel, notification=intent.notification)
        return doc

    def _holder(self, delivery_id: str, generation: int) -> dict[str, Any] | None:
        """The claim document of a generation; None when it is unreadable (then it counts as expired)."""
        key = self._claim_key(delivery_id, generation)
        obj = self.store.get(key)
        if obj is None:
            return None
        try:
            doc = self._decode(obj.data, "claim")
            _parse_time(doc["lease_until"])
            return doc
        except (_Unreadable, KeyError, TypeError, ValueError) as exc:
            # Never move a marker aside: that would free its generation for a second winner.
            self._problem(f"claim marker {key!r} is unreadable ({exc}); treating it as expired")
            return None

    def claim(self, delivery_id: str, *, run_id: str, now: datetime, intent: OutboxEntry | None = None) -> bool:
        """Try to become the one run that sends this delivery; True if this run won it.

        ``intent`` (optional) is written to the outbox first, unless an entry exists, so that a run dying
        between claim and send leaves the delivery to be retried rather than lost; the claim object keeps
        a copy of its notification, from which a damaged outbox entry is rebuilt.
        """
        if intent is not None:
            self.store.put_if_absent(self._outbox_key(delivery_id), encode({"schema": SCHEMA, **intent.to_dict()}))
        generation = 1
        won = self._create_claim(delivery_id, run_id, generation, now, intent)
        if not won:
            gens = self._generations(delivery_id)
            if gens:
                top = gens[-1]
                holder = self._holder(delivery_id, top)
                if holder is not None and not holder.get("released") and now < _parse_time(holder["lease_until"]):
                    return False  # held by a live run (possibly this one)
                if holder is not None and not holder.get("released"):
                    log.warning(
                        "taking over delivery %s: claim of run %s expired at %s",
                        delivery_id,
                        holder.get("run_id"),
                        holder.get("lease_until"),
                    )
                if self.is_sent(delivery_id):
                    return False
                generation = top + 1
            else:
                generation = 1  # generation 1 was pruned between our create and the listing
            won = self._create_claim(delivery_id, run_id, generation, now, intent)
            if not won:
                return False
        # Sent while we were looking (or a slow run's lease expired after it sent): do not send again.
        if self.is_sent(delivery_id):
            self._write_claim(delivery_id, run_id, generation, now, released=True)
            return False
        self._won[delivery_id] = (generation, run_id)
        return True

    def _create_claim(
        self, delivery_id: str, run_id: str, generation: int, now: datetime, intent: OutboxEntry | None
    ) -> bool:
        doc = self._claim_doc(run_id, generation, now, intent=intent)
        return self.store.put_if_absent(self._claim_key(delivery_id, generation), encode(doc))

    def _write_claim(self, delivery_id: str, run_id: str, generation: int, now: datetime, *, released: bool) -> None:
        doc = self._claim_doc(run_id, generation, now, released=released)
        self.store.put(self._claim_key(delivery_id, generation), encode(doc))

    def release(self, delivery_id: str, *, run_id: str) -> None:
        """Give up this run's claim (the delivery failed) so a later run may claim and retry it."""
        won = self._won.pop(delivery_id, None)
        gens = [won[0]] if won and won[1] == run_id else self._generations(delivery_id)[-1:]
        if not gens:
            return
        key = self._claim_key(delivery_id, gens[0])
        holder = self._holder(delivery_id, gens[0])
        if holder is None or holder.get("run_id") != run_id or holder.get("released"):
            log.debug("release of %s by %s: not its claim", delivery_id, run_id)
            return
        holder["released"] = True
        self.store.put(key, encode(holder))

    def mark_sent(self, delivery_id: str, *, run_id: str, now: datetime, detail: Mapping[str, Any]) -> None:
        """Record the delivery as sent (create-only; a second marker means a duplicate was sent)."""
        doc = {"schema": SCHEMA, "run_id": run_id, "sent_at": now.isoformat(), "detail": dict(detail)}
        self._won.pop(delivery_id, None)
        data = encode(doc)
        try:
            created = self.store.put_if_absent(self._sent_key(delivery_id), data)
        except StateError:
            # It was sent: remember that, or the outbox intent would send it again once the claim expires.
            with self._lock:
                self._unmarked[delivery_id] = data
            raise
        if not created:
            log.warning("delivery %s was already marked sent by another run; run %s sent it again", delivery_id, run_id)

    def write_pending_markers(self) -> int:
        """Write the sent markers that an earlier run of this object could not; raises StoreError if it still cannot.

        Called first in a run: a run whose store failed after a send raised (SCF retries it), and the
        retry on the same warm instance records what was sent before it sends anything.
        """
        with self._lock:
            pending = sorted(self._unmarked.items())
        for delivery_id, data in pending:
            self.store.put_if_absent(self._sent_key(delivery_id), data)
            with self._lock:
                self._unmarked.pop(delivery_id, None)
        return len(pending)

    # -- outbox ------------------------------------------------------------------------------------

    def _outbox_key(self, delivery_id: str) -> str:
        return f"outbox/{segment(delivery_id)}.json"

    def outbox_put(self, entry: OutboxEntry) -> None:
        self._write(self._outbox_key(entry.delivery_id), entry.to_dict())

    def outbox_remove(self, delivery_id: str) -> None:
        self.store.delete(self._outbox_key(delivery_id))

    def _outbox(self) -> list[OutboxEntry]:
        keys = self.store.list("outbox/")
        found = self._map(self._load_outbox, keys)
        return [entry for entry in found if entry is not None]

    def _load_outbox(self, key: str) -> OutboxEntry | None:
        """One outbox entry; a damaged one is moved aside and, when its claims hold the message, rebuilt."""
        obj = self.store.get(key)
        if obj is None:
            return None
        entry, reason = self._parse(obj.data, "outbox", OutboxEntry.from_dict)
        if reason is None:
            return entry
        rebuilt, outcome = self._recover_outbox(key)
        replacement = encode({"schema": SCHEMA, **rebuilt.to_dict()}) if rebuilt is not None else None
        replaced = self._quarantine(key, obj.data, obj.etag, reason, replacement=replacement, outcome=outcome)
        return rebuilt if replaced else None

    def _recover_outbox(self, key: str) -> tuple[OutboxEntry | None, str]:
        """The entry of a damaged ``outbox/<delivery>.json`` rebuilt from the delivery's claims, and what happened.

        The claim written with the intent holds the notification. The rebuilt entry is pending and due at
        once (its claimed time, which is in the past for any later run); its attempts are the released
        claims (one per failed send). Claims written before they held the notification cannot help.
        """
        seg = key[len("outbox/") : -len(".json")]
        if self.store.get_meta(f"sent/{seg}") is not None:
            return None, "its delivery was sent already, nothing is lost"
        prefix = f"claims/{seg}/"
        source: tuple[str, dict[str, Any], datetime] | None = None
        released = 0
        for claim_key in self.store.list(prefix):
            if not claim_key[len(prefix) :].isdigit():
                continue
            obj = self.store.get(claim_key)
            if obj is None:
                continue
            try:
                doc = self._decode(obj.data, "claim")
                claimed_at = _parse_time(doc["claimed_at"])
            except (_Unreadable, KeyError, TypeError, ValueError):
                continue  # a damaged claim is reported where it is used (_holder), never moved
            released += doc.get("released") is True
            if source is None and _carries_notification(doc, seg):
                source = (claim_key, doc, claimed_at)
        if source is None:
            return None, (
                "no claim holds a copy of its notification (claims written by an older version do not): "
                "this delivery is lost"
            )
        claim_key, doc, claimed_at = source
        if self.is_sent(doc["delivery_id"]):
            return None, "its delivery was sent already, nothing is lost"
        rebuilt = OutboxEntry(
            delivery_id=doc["delivery_id"],
            channel=doc["channel"],
            notification=dict(doc["notification"]),
            attempts=released,
            next_attempt_at=claimed_at,
            last_error=f"outbox entry was damaged; rebuilt from {claim_key}",
            status="pending",
        )
        outcome = (
            f"recovered the delivery {rebuilt.delivery_id!r} from {claim_key!r}; retried from attempt {released + 1}"
        )
        return rebuilt, outcome

    def outbox_entries(self) -> list[OutboxEntry]:
        """Every outbox entry, pending and failed, from one listing."""
        return self._outbox()

    def outbox_due(self, now: datetime, entries: Sequence[OutboxEntry] | None = None) -> list[OutboxEntry]:
        """Pending deliveries whose next attempt is due, oldest first (of ``entries``, else of a fresh listing)."""
        listed = self._outbox() if entries is None else entries
        due = [e for e in listed if e.status == "pending" and e.next_attempt_at <= now]
        return sorted(due, key=lambda e: e.next_attempt_at)

    def outbox_failed(self) -> list[OutboxEntry]:
        return [e for e in self._outbox() if e.status == "failed"]

    def outbox_pending(self) -> list[OutboxEntry]:
        return [e for e in self._outbox() if e.status == "pending"]

    # -- silences ----------------------------------------------------------------------------------

    def _silence_key(self, silence_id: str) -> str:
        return f"silences/{segment(silence_id)}.json"

    def list_silences(self) -> list[Silence]:
        keys = self.store.list("silences/")
        found = self._map(lambda key: self._load(key, "silence", lambda doc: Silence.from_dict(doc["silence"])), keys)
        return sorted((s for s in found if s is not None), key=lambda s: (s.starts_at, s.id))

    def put_silence(self, silence: Silence) -> None:
        self._write(self._silence_key(silence.id), {"silence": silence.to_dict()})

    def delete_silence(self, silence_id: str) -> bool:
        key = self._silence_key(silence_id)
        if self.store.get_meta(key) is None:
            return False
        self.store.delete(key)
        return True

    # -- usage series ------------------------------------------------------------------------------
    # One object per budget holds all its groups: a run then costs one GET and one PUT per budget, not per
    # group (1000 groups on COS would be 2000 sequential requests). Series are a cache of provider data,
    # so the last writer winning between two overlapping runs loses nothing the next run does not refetch.

    def _series_key(self, budget: str) -> str:
        return f"series/{segment(budget)}.json"

    def _series_doc(self, budget: str) -> dict[str, dict[float, str]]:
        groups = self._load(self._series_key(budget), "series", _series_groups)
        return groups or {}

    def save_series(self, budget: str, group_label: str, points: list[Point]) -> None:
        """Queue points for (budget, group); ``flush`` (called by ``record_run``) merges and writes them."""
        with self._lock:
            self._pending_series.setdefault(budget, {})[group_label] = list(points)

    def flush(self) -> None:
        """Write queued series, one object per budget, a few budgets at a time."""
        with self._lock:
            pending, self._pending_series = self._pending_series, {}
        if not pending:
            return
        self._map(lambda job: self._write_series(*job), sorted(pending.items()))

    def _write_series(self, budget: str, groups: Mapping[str, list[Point]]) -> None:
        existing = self._series_doc(budget)
        merged = _merge_series(existing, groups, self.series_days * 86400)
        if merged == existing:
            return
        rows = {
            label: [[int(t) if t.is_integer() else t, points[t]] for t in sorted(points)]
            for label, points in sorted(merged.items())
        }
        self._write(self._series_key(budget), {"budget": budget, "groups": rows})

    def load_series(self, budget: str, group_label: str) -> list[Point]:
        """The stored series of one group, with points queued in this run merged in."""
        return self.load_budget_series(budget).get(group_label, [])

    def load_budget_series(self, budget: str) -> dict[str, list[Point]]:
        """Every group's series of one budget (for ``/usage``)."""
        stored = self._series_doc(budget)
        with self._lock:
            queued = dict(self._pending_series.get(budget, {}))
        merged = _merge_series(stored, queued, self.series_days * 86400) if queued else stored
        return {
            label: [Point(datetime.fromtimestamp(t, timezone.utc), Decimal(v)) for t, v in sorted(points.items())]
            for label, points in merged.items()
        }

    # -- alert history -----------------------------------------------------------------------------

    def append_alerts(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        key = f"alerts/{_stamp(self._clock())}-{os.urandom(6).hex()}.json"
        self._write(key, {"items": list(items)})

    def list_alerts(self, limit: int = 50, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """Alert history, newest first, ``limit`` at a time; pass the returned cursor for the next page."""
        limit = max(1, min(int(limit), 1000))
        keys = self.store.list("alerts/")[::-1]
        start, skip = 0, 0
        if cursor:
            match = _CURSOR.match(cursor)
            if not match:
                raise StateError(f"invalid alert history cursor {cursor!r}", retryable=False)
            name, skip = f"alerts/{match.group(1)}.json", int(match.group(2))
            # The batch may have been pruned since: continue with the next older one.
            start = next((i for i, k in enumerate(keys) if k <= name), len(keys))
            if start < len(keys) and keys[start] != name:
                skip = 0
        items: list[dict[str, Any]] = []
        for index in range(start, len(keys)):
            doc = self._read(keys[index], "alerts")
            batch = list(reversed(doc.get("items", []))) if doc else []
            offset = skip if index == start else 0
            for position in range(offset, len(batch)):
                if len(items) == limit:
                    return items, f"{keys[index][len('alerts/') : -len('.json')]}.{position}"
                items.append(batch[position])
        return items, None

    # -- run records -------------------------------------------------------------------------------

    def record_run(self, result: Mapping[str, Any]) -> None:
        """Keep the run's result document; trim to the last ``keep_runs``; prune old state once a day."""
        self.flush()
        run_id = str(result.get("run_id", "run"))
        self._write(f"runs/{_stamp(self._clock())}-{segment(run_id)}.json", {"run": dict(result)})
        keys = self.store.list("runs/")
        for key in keys[: max(0, len(keys) - self.keep_runs)]:
            self.store.delete(key)
        self.maybe_prune()

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        keys = self.store.list("runs/")[::-1][: max(0, limit)]
        docs = self._map(lambda key: self._read(key, "run"), keys)
        return [doc["run"] for doc in docs if doc is not None and isinstance(doc.get("run"), dict)]

    # -- idempotency -------------------------------------------------------------------------------

    def _idempotency_key(self, key: str) -> str:
        return f"idempotency/{hashlib.sha256(key.encode('utf-8')).hexdigest()}.json"

    def idempotent_result(self, key: str) -> dict[str, Any] | None:
        doc = self._read(self._idempotency_key(key), "idempotency")
        if doc is None:
            return None
        saved = doc.get("saved_at")
        if not isinstance(saved, (int, float)) or self._clock() - saved > self.idempotency_ttl.total_seconds():
            return None
        result = doc.get("result")
        return result if isinstance(result, dict) else None

    def save_idempotent_result(self, key: str, result: Mapping[str, Any]) -> None:
        self._write(self._idempotency_key(key), {"saved_at": self._clock(), "result": dict(result)})

    def _bytes(self, key: str) -> bytes:
        obj = self.store.get(key)
        return obj.data if obj else b""

    # -- bounded size ------------------------------------------------------------------------------

    def maybe_prune(self) -> dict[str, int] | None:
        """Prune when the last pruning is older than ``prune_every`` (at most about once a day)."""
        now = self._clock()
        doc = self._read(MAINTENANCE_KEY, "maintenance")
        last = doc.get("pruned_at") if doc else None
        if isinstance(last, (int, float)) and now - last < self.prune_every.total_seconds():
            return None
        self._write(MAINTENANCE_KEY, {"pruned_at": now})
        return self.prune()

    def prune(self) -> dict[str, int]:
        """Delete what is older than ``retention``: markers, failed outbox entries, history, runs, silences."""
        now = self._clock()
        cutoff = now - self.retention.total_seconds()
        counts = {"sent": 0, "claims": 0, "outbox": 0, "alerts": 0, "silences": 0, "series": 0, "other": 0}
        outbox = self._outbox()
        pending = {segment(e.delivery_id) for e in outbox if e.status == "pending"}
        stale = [e.delivery_id for e in outbox if e.status == "failed" and e.next_attempt_at.timestamp() < cutoff]
        self._map(self.outbox_remove, stale)
        counts["outbox"] = len(stale)

        sent_keys = self.store.list("sent/")
        sent_old = {
            key[len("sent/") :]
            for key in self._older(sent_keys, lambda key: _doc_time(self._bytes(key), "sent_at"), cutoff)
        }
        claims: dict[str, list[str]] = {}
        for key in self.store.list("claims/"):
            seg, _, _ = key[len("claims/") :].partition("/")
            claims.setdefault(seg, []).append(key)
        candidates = [(seg, keys) for seg, keys in claims.items() if seg not in pending]
        old = self._map(
            lambda item: item[0] in sent_old or _before(_doc_time(self._bytes(item[1][-1]), "claimed_at"), cutoff),
            candidates,
        )
        self._map(
            self.store.delete, [key for (_, keys), gone in zip(candidates, old, strict=True) if gone for key in keys]
        )
        counts["claims"] = sum(old)
        # Claims first (above): a sent marker must outlive its claims.
        self._map(self.store.delete, [f"sent/{seg}" for seg in sorted(sent_old)])
        counts["sent"] = len(sent_old)

        for prefix, name in (("alerts/", "alerts"), ("corrupt/", "other")):
            doomed = [key for key in self.store.list(prefix) if _before(_key_time(key), cutoff)]
            self._map(self.store.delete, doomed)
            counts[name] += len(doomed)
        ended = [s.id for s in self.list_silences() if s.ends_at.timestamp() < cutoff]
        self._map(self.delete_silence, ended)
        counts["silences"] = len(ended)

        def series_newest(key: str) -> float | None:
            groups = self._load(key, "series", _series_groups) or {}
            return max((max(points) for points in groups.values() if points), default=None)

        doomed = self._older(self.store.list("series/"), series_newest, cutoff)
        self._map(self.store.delete, doomed)
        counts["series"] = len(doomed)

        def idempotency_saved(key: str) -> float | None:
            saved = (self._read(key, "idempotency") or {}).get("saved_at")
            return float(saved) if isinstance(saved, (int, float)) else None

        ttl_cutoff = now - self.idempotency_ttl.total_seconds()
        doomed = self._older(self.store.list("idempotency/"), idempotency_saved, ttl_cutoff)
        self._map(self.store.delete, doomed)
        counts["other"] += len(doomed)
        log.info("pruned state: %s", counts)
        return counts

    def _older(self, keys: list[str], when: Callable[[str], float | None], cutoff: float) -> list[str]:
        """The keys whose time (read in parallel where that helps) is known and before ``cutoff``."""
        return [key for key, at in zip(keys, self._map(when, keys), strict=True) if _before(at, cutoff)]

    def _map(self, fn: Callable[[_A], _T], items: Sequence[_A]) -> list[_T]:
        """``fn`` over ``items``, a few at a time when the store is remote (COS); in order."""
        workers = min(self.workers or self.store.concurrency, len(items))
        if workers <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="state") as pool:
            return list(pool.map(fn, items))


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


def _before(when: float | None, cutoff: float) -> bool:
    return when is not None and when < cutoff


def _series_groups(doc: Mapping[str, Any]) -> dict[str, dict[float, str]]:
    groups = doc["groups"]
    if not isinstance(groups, dict):
        raise TypeError("groups is not an object")
    return {str(label): {float(t): str(Decimal(str(v))) for t, v in rows} for label, rows in groups.items()}


def _merge_series(
    stored: Mapping[str, dict[float, str]], queued: Mapping[str, list[Point]], window: float
) -> dict[str, dict[float, str]]:
    """Stored points overlaid with queued ones (newer values win), trimmed to ``window`` seconds before the
    budget's newest point; groups with nothing left (a zone that went away) drop out."""
    merged = {label: dict(points) for label, points in stored.items()}
    for label, points in queued.items():
        target = merged.setdefault(label, {})
        for p in points:
            target[p.time.timestamp()] = str(p.value)
    newest = max((max(points) for points in merged.values() if points), default=None)
    if newest is None:
        return {}
    horizon = newest - window
    trimmed = {label: {t: v for t, v in points.items() if t >= horizon} for label, points in merged.items()}
    return {label: points for label, points in trimmed.items() if points}


def _doc_time(data: bytes, name: str) -> float | None:
    try:
        return _parse_time(json.loads(data.decode("utf-8"))[name]).timestamp()
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def _key_time(key: str) -> float | None:
    """The timestamp in ``alerts/<stamp>-<nonce>.json`` or ``corrupt/<key>.<stamp>``."""
    name = key.rsplit("/", 1)[-1]
    for candidate in (name.split("-", 1)[0], name.rsplit(".", 1)[-1]):
        when = _stamp_epoch(candidate)
        if when is not None:
            return when
    return None
