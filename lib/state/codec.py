"""The one codec every state store shares: envelope, schema version, migration, quarantine, problems."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Generic, TypeVar

from lib.errors import StateError, StoreError
from lib.state.store import ObjectStore

log = logging.getLogger("lib.state")
_T = TypeVar("_T")
_A = TypeVar("_A")

SCHEMA = 1
_SAFE = re.compile(r"[A-Za-z0-9_.\-]")
_MAX_SEGMENT = 150
_STAMP = "%Y%m%dT%H%M%S%fZ"
_RECENT = 100  # problems a warm instance keeps for ``GET /status``

# Migrations of stored documents: (kind, version) -> function returning the document at version + 1.
Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _ledger_from_v0(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 0 was the bare rules ledger, without the envelope."""
    return {"schema": 1, "saved_at": None, "ledger": doc}


MIGRATIONS: dict[tuple[str, int], Migration] = {("ledger", 0): _ledger_from_v0}


@dataclass(frozen=True)
class Loaded(Generic[_T]):
    """What a read produced and what went wrong on the way (each problem is also logged)."""

    value: _T
    problems: list[str] = field(default_factory=list)


class Unreadable(Exception):
    """Internal: an object's bytes do not decode to the expected document."""


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


def parse_time(value: Any) -> datetime:
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return parsed


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(_STAMP)


def stamp_epoch(text: str) -> float | None:
    try:
        return datetime.strptime(text, _STAMP).replace(tzinfo=timezone.utc).timestamp()
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


def doc_time(data: bytes, name: str) -> float | None:
    """The time in field ``name`` of a JSON document's bytes, or None when there is none to read."""
    try:
        return parse_time(json.loads(data.decode("utf-8"))[name]).timestamp()
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def before(when: float | None, cutoff: float) -> bool:
    return when is not None and when < cutoff


class Codec:
    """Reads and writes enveloped JSON documents on one ObjectStore; shared by every store of the state."""

    def __init__(self, store: ObjectStore, *, clock: Callable[[], float] = time.time, workers: int | None = None):
        self.store = store
        self.clock = clock
        self.workers = workers
        self._recent: deque[str] = deque(maxlen=_RECENT)
        self._lock = threading.Lock()

    def recent_problems(self) -> list[str]:
        """The last problems this instance met, oldest first (a status page's view, not a run's)."""
        with self._lock:
            return list(self._recent)

    def problem(self, text: str) -> str:
        """Log a problem and keep it among the recent ones; returns it, for the caller's result."""
        with self._lock:
            self._recent.append(text)
        log.error("%s", text)
        return text

    def read(self, key: str, kind: str) -> Loaded[dict[str, Any] | None]:
        """The document at ``key`` migrated to SCHEMA; None if absent or unreadable (then moved aside)."""
        return self.load(key, kind, lambda doc: doc)

    def load(self, key: str, kind: str, parse: Callable[[dict[str, Any]], _T]) -> Loaded[_T | None]:
        """Read, migrate and parse one document; an unreadable one is moved aside, reported, and None."""
        obj = self.store.get(key)
        if obj is None:
            return Loaded(None)
        value, reason = self.parse(obj.data, kind, parse)
        if reason is None:
            return Loaded(value)
        _, problem = self.quarantine(key, obj.data, obj.etag, reason)
        return Loaded(None, [problem])

    def parse(self, data: bytes, kind: str, parse: Callable[[dict[str, Any]], _T]) -> tuple[_T | None, str | None]:
        """The parsed document and None, or None and why it is unreadable."""
        try:
            return parse(self.decode(data, kind)), None
        except Unreadable as exc:
            return None, str(exc)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            return None, f"not a valid {kind}: {type(exc).__name__}: {exc}"

    def decode(self, data: bytes, kind: str) -> dict[str, Any]:
        try:
            doc = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise Unreadable(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
        except ValueError as exc:
            raise Unreadable(f"not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise Unreadable(f"expected a JSON object, found {type(doc).__name__}")
        version = doc.get("schema", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise Unreadable(f"bad schema version {version!r}")
        if version > SCHEMA:
            raise StateError(
                f"a {kind} object was written by a newer version of this program (schema {version}, "
                f"this one reads up to {SCHEMA}); deploy the newer version again",
                retryable=False,
            )
        while version < SCHEMA:
            migrate = MIGRATIONS.get((kind, version))
            if migrate is None:
                raise Unreadable(f"no migration for a {kind} at schema {version}")
            doc = migrate(doc)
            version = int(doc["schema"])
        return dict(doc)

    def envelope(self, body: Mapping[str, Any]) -> bytes:
        return encode({"schema": SCHEMA, **body})

    def write(self, key: str, body: Mapping[str, Any]) -> None:
        self.store.put(key, self.envelope(body))

    def create(self, key: str, body: Mapping[str, Any]) -> bool:
        """Create the document only if the key is free (``put_if_absent``); True if this call created it."""
        return self.store.put_if_absent(key, self.envelope(body))

    def bytes_of(self, key: str) -> bytes:
        obj = self.store.get(key)
        return obj.data if obj else b""

    def quarantine(
        self, key: str, data: bytes, etag: str, reason: str, *, replacement: bytes | None = None, outcome: str = ""
    ) -> tuple[bool, str]:
        """Copy an unreadable object to ``corrupt/`` and delete it, or overwrite it with ``replacement``.

        Returns whether ``replacement`` was written, and the problem reported. Replacing in place (not
        delete then create) leaves no moment without the object, so a failure half-way keeps the damaged
        one to be tried again next run. ``outcome`` (what became of its content) is added once dealt with.
        """
        target = f"corrupt/{key}.{stamp(self.clock())}"
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
        text = f"state object {key!r} in {self.store.describe()} is unreadable ({reason}); {note}"
        return replaced, self.problem(text)

    def map(self, fn: Callable[[_A], _T], items: Sequence[_A]) -> list[_T]:
        """``fn`` over ``items``, a few at a time when the store is remote (COS); in order."""
        workers = min(self.workers or self.store.concurrency, len(items))
        if workers <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="state") as pool:
            return list(pool.map(fn, items))

    def older(self, keys: list[str], when: Callable[[str], float | None], cutoff: float) -> list[str]:
        """The keys whose time (read in parallel where that helps) is known and before ``cutoff``."""
        return [key for key, at in zip(keys, self.map(when, keys), strict=True) if before(at, cutoff)]
