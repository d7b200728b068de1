"""Fan-out shard records: ``shards/<index>/<tick>.json`` (create-only lease) and ``…/<tick>-outcome.json``.

The coordinator of a tick creates a shard's lease before invoking its worker: only one coordinator of a
tick gets it (create-only), so a tick delivered twice, or retried, starts each shard once. A lease
without an outcome is a shard still running until ``lease`` seconds have passed; the next tick does not
start that shard again meanwhile. Its worker writes the outcome when it finishes (or fails), and
``/status`` reads the newest record of every shard.

A ``done`` outcome also holds ``summary`` (per member uin: counts, totals and name, for ``/status`` and
the dashboard) and ``digest`` (the shard's digest rows and member lines, for the one digest the
coordinator sends: ``lib.app.digest``). ``members.json`` holds the names of the members the last listing
found (uin to name), so pages show a member's name without listing the organization again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from lib.state.codec import Codec, stamp, stamp_epoch

PREFIX = "shards/"
NAMES_KEY = "members.json"
LOOK_BACK = 3  # older outcomes read per shard when the newest ones did not finish
OUTCOME = "-outcome"
TICK_FORMAT = "%Y%m%dT%H%M%SZ"
KEEP = 86400.0  # seconds of shard records kept


def tick_id(moment: datetime) -> str:
    """The key part naming a tick: its instant in UTC, to the second (sorts as time does)."""
    return moment.astimezone(timezone.utc).strftime(TICK_FORMAT)


def _tick_epoch(tick: str) -> float | None:
    try:
        return datetime.strptime(tick, TICK_FORMAT).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class ShardState:
    """The newest record of one shard: ``running``, ``done``, ``failed`` or ``lost`` (no outcome past its lease)."""

    index: int
    tick: str
    state: str
    accounts: int
    detail: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "tick": self.tick, "state": self.state, "accounts": self.accounts, **self.detail}


class ShardStore:
    """Leases and outcomes of fan-out shards, over the run's codec."""

    def __init__(self, codec: Codec) -> None:
        self._codec = codec

    @staticmethod
    def _key(index: int, tick: str, outcome: bool = False) -> str:
        return f"{PREFIX}{index:04d}/{tick}{OUTCOME if outcome else ''}.json"

    def begin(self, tick: str, index: int, accounts: int, now: float) -> bool:
        """Take the lease of shard ``index`` for ``tick``; False when another coordinator already has it."""
        body = {"tick": tick, "index": index, "accounts": accounts, "started_at": stamp(now)}
        return self._codec.create(self._key(index, tick), body)

    def finish(self, tick: str, index: int, state: str, now: float, **detail: Any) -> None:
        """Record how the shard's worker ended (``done`` or ``failed``); a retry that succeeds overwrites it."""
        body = {"tick": tick, "index": index, "state": state, "finished_at": stamp(now), **detail}
        self._codec.write(self._key(index, tick, outcome=True), body)

    def states(self, now: float, lease: float) -> list[ShardState]:
        """The newest record of every shard index, by index."""
        newest: dict[int, str] = {}
        outcomes: set[tuple[int, str]] = set()
        for key in self._codec.store.list(PREFIX):
            parsed = _parse(key)
            if parsed is None:
                continue
            index, tick, is_outcome = parsed
            if is_outcome:
                outcomes.add((index, tick))
            elif tick > newest.get(index, ""):
                newest[index] = tick
        return [
            self._state(index, tick, (index, tick) in outcomes, now, lease) for index, tick in sorted(newest.items())
        ]

    def _state(self, index: int, tick: str, finished: bool, now: float, lease: float) -> ShardState:
        started = self._codec.read(self._key(index, tick), "shard").value or {}
        accounts = int(started.get("accounts", 0))
        if finished:
            outcome = self._codec.read(self._key(index, tick, outcome=True), "shard").value or {}
            detail = {k: v for k, v in outcome.items() if k not in ("schema", "tick", "index", "state")}
            return ShardState(index, tick, str(outcome.get("state", "failed")), accounts, detail)
        since = stamp_epoch(str(started.get("started_at", ""))) or _tick_epoch(tick) or 0.0
        state = "running" if now - since < lease else "lost"
        return ShardState(index, tick, state, accounts, {"started_at": started.get("started_at")})

    def latest_done(self) -> list[dict[str, Any]]:
        """Per shard index, the newest ``done`` outcome (looking back at most ``LOOK_BACK`` ticks), by index.

        The newest record of a shard may be this tick's lease (still running) or a failure: the latest
        numbers its members have are then an older tick's.
        """
        ticks: dict[int, list[str]] = {}
        for key in self._codec.store.list(PREFIX):
            parsed = _parse(key)
            if parsed is not None and parsed[2]:
                ticks.setdefault(parsed[0], []).append(parsed[1])

        def newest_done(index: int) -> dict[str, Any] | None:
            for tick in sorted(ticks[index], reverse=True)[:LOOK_BACK]:
                doc = self._codec.read(self._key(index, tick, outcome=True), "shard").value
                if doc is not None and doc.get("state") == "done":
                    return doc
            return None

        found = self._codec.map(newest_done, sorted(ticks))
        return [doc for doc in found if doc is not None]

    def save_names(self, names: Mapping[str, str]) -> None:
        """Record the member names a listing found, when they differ from the recorded ones."""
        if dict(names) != self.names():
            self._codec.write(NAMES_KEY, {"names": dict(sorted(names.items()))})

    def names(self) -> dict[str, str]:
        """The recorded member names, uin to name (empty before any run with member accounts)."""
        doc = self._codec.read(NAMES_KEY, "members").value or {}
        found = doc.get("names")
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, Mapping) else {}

    def prune(self, now: float) -> int:
        """Delete the records of ticks older than a day; returns how many."""
        removed = 0
        for key in self._codec.store.list(PREFIX):
            parsed = _parse(key)
            when = _tick_epoch(parsed[1]) if parsed else None
            if when is not None and now - when > KEEP:
                self._codec.store.delete(key)
                removed += 1
        return removed


def _parse(key: str) -> tuple[int, str, bool] | None:
    """(index, tick, is the outcome) of a shard record's key; None for anything else under the prefix."""
    parts = key[len(PREFIX) :].split("/")
    if len(parts) != 2 or not parts[0].isdigit() or not parts[1].endswith(".json"):
        return None
    name = parts[1][: -len(".json")]
    is_outcome = name.endswith(OUTCOME)
    tick = name[: -len(OUTCOME)] if is_outcome else name
    return int(parts[0]), tick, is_outcome
