"""The idempotency store: ``idempotency/<sha256>.json``, one request's answer by its Idempotency-Key.

A request first creates an "in progress" record (create-only, so of any number of concurrent requests
with one key exactly one runs), then replaces it with its answer. A record whose request died is taken
over once its lease has run out, through a create-only takeover marker per attempt, so two requests
racing for a dead record still produce one winner.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from lib.state.codec import Codec

PREFIX = "idempotency/"


@dataclass(frozen=True)
class Begun:
    """What ``begin`` found: ``started`` (run the request), ``in_progress`` (another request with this key
    is running), ``replay`` (``answer`` is the stored answer) or ``mismatch`` (the key came with another body).
    """

    state: Literal["started", "in_progress", "replay", "mismatch"]
    attempt: int = 1
    answer: dict[str, Any] | None = None


def record_key(key: str) -> str:
    return f"{PREFIX}{hashlib.sha256(key.encode('utf-8')).hexdigest()}.json"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class IdempotencyStore:
    """Records by key: in progress (``state``, ``fingerprint``, ``lease_until``), failed, or done (``result``)."""

    def __init__(self, codec: Codec, *, ttl: timedelta, lease: timedelta) -> None:
        self._codec = codec
        self.ttl = ttl
        self.lease = lease

    def begin(self, key: str, fingerprint: str) -> Begun:
        """Start the request with this key and body ``fingerprint`` unless one ran or runs already."""
        target = record_key(key)
        for _ in range(4):  # another request may delete or replace the record while we look
            now = self._codec.clock()
            if self._codec.create(target, self._running(fingerprint, now, 1)):
                return Begun("started", 1)
            doc = self._codec.read(target, "idempotency").value
            if doc is None:
                continue  # gone (abandoned, or unreadable and moved aside): try to create it again
            attempt = int(_number(doc.get("attempt")) or 1)
            saved = _number(doc.get("saved_at"))
            state = doc.get("state")
            if state == "in_progress" and now < (_number(doc.get("lease_until")) or 0.0):
                same = doc.get("fingerprint") == fingerprint
                return Begun("in_progress" if same else "mismatch", attempt)
            answer = doc.get("result")
            fresh = saved is not None and now - saved <= self.ttl.total_seconds()
            if state is None and isinstance(answer, dict) and fresh:
                same = answer.get("fingerprint") == fingerprint
                return Begun("replay", attempt, answer) if same else Begun("mismatch", attempt)
            # A dead or failed request's record, or an answer past its time to live: one taker wins the next
            # attempt. Attempts only grow, so every takeover marker is new.
            marker = f"{target[: -len('.json')]}.takeover-{attempt + 1}"
            if not self._codec.create(marker, {"saved_at": now}):
                return Begun("in_progress", attempt + 1)
            self._codec.write(target, self._running(fingerprint, now, attempt + 1))
            return Begun("started", attempt + 1)
        return Begun("in_progress")

    def _running(self, fingerprint: str, now: float, attempt: int) -> dict[str, Any]:
        return {
            "saved_at": now,
            "state": "in_progress",
            "fingerprint": fingerprint,
            "lease_until": now + self.lease.total_seconds(),
            "attempt": attempt,
        }

    def finish(self, key: str, answer: Mapping[str, Any], *, attempt: int = 1) -> None:
        """Store the request's answer (it carries the ``fingerprint``) for replays within the time to live."""
        self._codec.write(
            record_key(key), {"saved_at": self._codec.clock(), "result": dict(answer), "attempt": attempt}
        )

    def abandon(self, key: str, *, attempt: int = 1) -> None:
        """Mark this request's "in progress" record failed, so a retry with the key (any body) runs.

        The record stays, marked, rather than being deleted: it keeps the attempt count, so the next
        taker's create-only marker is one no earlier takeover has used.
        """
        target = record_key(key)
        doc = self._codec.read(target, "idempotency").value
        if doc is not None and doc.get("state") == "in_progress" and doc.get("attempt", 1) == attempt:
            self._codec.write(target, {"saved_at": self._codec.clock(), "state": "failed", "attempt": attempt})

    def saved_at(self, key: str) -> float | None:
        """When the object at ``key`` (a record or a takeover marker) was written (for pruning)."""
        return _number((self._codec.read(key, "idempotency").value or {}).get("saved_at"))
