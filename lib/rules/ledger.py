"""The rules' memory between runs: what people were told, per (budget, group), as plain JSON.

Opaque to everyone but ``lib.rules``; versioned. Per (budget, group) an entry holds:

- the threshold period it describes, the level keys counted as told in it, whether the forecast was
  told (or became moot), and the id of a notification a silence is holding;
- one episode per condition that can clear (``below``, ``spike``, ``no-data``): whether it is active,
  whether people were told it fires, when, the last repeat ordinal, and an episode number that keeps
  notification ids of later episodes distinct;
- the count of consecutive failed fetches.

Loading never mutates its input and never raises: an entry it cannot read is dropped and reported
in ``problems`` (the next run rebuilds it from fresh data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lib.model import GroupKey, Period, group_label

LEDGER_VERSION = 1
EPISODE_KINDS = ("below", "runway", "spike", "no-data")
# How long an entry keeps an episode's number after it ends: longer than any local day in any time zone.
EPISODE_MEMORY = timedelta(hours=50)


@dataclass
class Episode:
    """A condition that fires and clears (low balance, spike, no data)."""

    number: int = 0  # how many episodes began; part of the notification id
    active: bool = False  # the condition holds as of the last run with data
    since: str | None = None  # ISO instant the current (or last) episode began
    told: bool = False  # people were told it fires, and not yet that it resolved
    told_at: str | None = None  # when that was told: the repeat schedule counts from here
    ordinal: int = 0  # last repeat told (0 = the first message)
    held: str | None = None  # id of the notification a silence is holding

    @property
    def idle(self) -> bool:
        return not (self.active or self.told or self.held)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "active": self.active,
            "since": self.since,
            "told": self.told,
            "told_at": self.told_at,
            "ordinal": self.ordinal,
            "held": self.held,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Episode:
        episode = cls(
            number=int(data.get("number", 0)),
            active=bool(data.get("active", False)),
            since=_optional_instant(data.get("since")),
            told=bool(data.get("told", False)),
            told_at=_optional_instant(data.get("told_at")),
            ordinal=int(data.get("ordinal", 0)),
            held=_optional_str(data.get("held")),
        )
        if episode.told and episode.told_at is None:
            raise ValueError("told without told_at")
        return episode


@dataclass
class Entry:
    """Everything remembered about one (budget, group)."""

    budget: str
    group: GroupKey
    period_start: str | None = None
    period_end: str | None = None
    told: set[str] = field(default_factory=set)  # level keys counted as told in this period
    forecast: bool = False  # forecast told, or moot because the limit was reached, in this period
    held: dict[str, str] = field(default_factory=dict)  # "threshold"/"forecast" -> held notification id
    failures: int = 0  # consecutive failed fetches
    episodes: dict[str, Episode] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return entry_key(self.budget, self.group)

    def episode(self, kind: str) -> Episode:
        return self.episodes.setdefault(kind, Episode())

    def enter_period(self, period: Period) -> None:
        """Point the threshold state at ``period``; a new period starts fresh."""
        start = period.start.isoformat()
        if self.period_start != start:
            self.period_start = start
            self.told = set()
            self.forecast = False
            self.held = {}
        self.period_end = period.end.isoformat()

    def idle(self, now: datetime) -> bool:
        """Nothing worth keeping: its period is over, no condition is live, no failure is counted, and no
        episode began within ``EPISODE_MEMORY`` (an episode's id is its number and the local day it began:
        forgetting the number the same day would give the next episode the id of the last one)."""
        over = self.period_end is None or datetime.fromisoformat(self.period_end) <= now
        recent = any(e.since and now - datetime.fromisoformat(e.since) < EPISODE_MEMORY for e in self.episodes.values())
        return over and not recent and self.failures == 0 and all(e.idle for e in self.episodes.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "group": [list(pair) for pair in self.group],
            "period": {"start": self.period_start, "end": self.period_end},
            "told": sorted(self.told),
            "forecast": self.forecast,
            "held": dict(sorted(self.held.items())),
            "failures": self.failures,
            "episodes": {kind: self.episodes[kind].to_dict() for kind in sorted(self.episodes)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        period = data.get("period") or {}
        episodes = data.get("episodes") or {}
        unknown = set(episodes) - set(EPISODE_KINDS)
        if unknown:
            raise ValueError(f"unknown episode kinds {sorted(unknown)}")
        return cls(
            budget=str(data["budget"]),
            group=tuple((str(k), str(v)) for k, v in data.get("group", ())),
            period_start=_optional_instant(period.get("start")),
            period_end=_optional_instant(period.get("end")),
            told={str(key) for key in data.get("told", ())},
            forecast=bool(data.get("forecast", False)),
            held={str(k): str(v) for k, v in (data.get("held") or {}).items()},
            failures=int(data.get("failures", 0)),
            episodes={str(kind): Episode.from_dict(value) for kind, value in episodes.items()},
        )


def entry_key(budget: str, group: GroupKey) -> str:
    return f"{budget}|{group_label(group)}"


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_instant(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    parsed = datetime.fromisoformat(text)  # raises on garbage: the entry is then dropped and reported
    if parsed.tzinfo is None:
        raise ValueError(f"instant {text!r} has no UTC offset")
    return text


@dataclass
class Ledger:
    """All entries, keyed by ``budget|group-label``."""

    entries: dict[str, Entry] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, raw: Mapping[str, Any] | None) -> Ledger:
        ledger = cls()
        if raw is None:
            return ledger
        version = raw.get("version") if isinstance(raw, Mapping) else None
        if version != LEDGER_VERSION:
            ledger.problems.append(f"rules ledger has version {version!r}, expected {LEDGER_VERSION}; starting fresh")
            return ledger
        items = raw.get("entries")
        if not isinstance(items, Mapping):
            ledger.problems.append("rules ledger has no entries mapping; starting fresh")
            return ledger
        for key, value in items.items():
            try:
                if not isinstance(value, Mapping):
                    raise ValueError("not a mapping")
                entry = Entry.from_dict(value)
            except (KeyError, TypeError, ValueError) as exc:
                ledger.problems.append(f"rules ledger entry {key!r} is unreadable ({exc}); dropped")
                continue
            ledger.entries[entry.key] = entry
        return ledger

    def entry(self, budget: str, group: GroupKey) -> Entry:
        key = entry_key(budget, group)
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = Entry(budget=budget, group=group)
        return found

    def find(self, budget: str, group: GroupKey) -> Entry | None:
        return self.entries.get(entry_key(budget, group))

    def prune(self, budgets: set[str], now: datetime) -> None:
        """Forget budgets no longer configured and entries with nothing left to remember."""
        for key in sorted(self.entries):
            entry = self.entries[key]
            if entry.budget not in budgets or entry.idle(now):
                del self.entries[key]

    def dump(self) -> dict[str, Any]:
        return {
            "version": LEDGER_VERSION,
            "entries": {key: self.entries[key].to_dict() for key in sorted(self.entries)},
        }
