"""The usage series store: ``series/<budget>.json``, every group's points of a budget, trimmed to a window.

One object per budget holds all its groups: a run then costs one GET and one PUT per budget, not per
group (1000 groups on COS would be 2000 sequential requests). Series are a cache of provider data, so the
last writer winning between two overlapping runs loses nothing the next run does not refetch.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from lib.model import Point
from lib.state.codec import Codec, Loaded, segment


def series_key(budget: str, account: str | None = None) -> str:
    """One budget's object; a member account's groups have one of their own (issue 18: shards write at once)."""
    if account is None:
        return f"series/{segment(budget)}.json"
    return f"series/{segment(budget)}/{segment(account)}.json"


def _account(label: str) -> str | None:
    """The member account in a group label (``account=<uin>,zone-id=…``); None for the own account."""
    return next((part[len("account=") :] for part in label.split(",") if part.startswith("account=")), None)


def series_groups(doc: Mapping[str, Any]) -> dict[str, dict[float, str]]:
    groups = doc["groups"]
    if not isinstance(groups, dict):
        raise TypeError("groups is not an object")
    return {str(label): {float(t): str(Decimal(str(v))) for t, v in rows} for label, rows in groups.items()}


def merge_series(
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


class SeriesStore:
    """Points are queued during a run (``save``) and written per budget by ``flush``."""

    def __init__(self, codec: Codec, *, days: int) -> None:
        self._codec = codec
        self.days = days
        self._pending: dict[tuple[str, str | None], dict[str, list[Point]]] = {}
        self._lock = threading.Lock()

    def _stored(self, budget: str, account: str | None = None) -> Loaded[dict[str, dict[float, str]]]:
        loaded = self._codec.load(series_key(budget, account), "series", series_groups)
        return Loaded(loaded.value or {}, loaded.problems)

    def save(self, budget: str, group_label: str, points: list[Point]) -> None:
        """Queue points for (budget, group); ``flush`` merges and writes them."""
        with self._lock:
            self._pending.setdefault((budget, _account(group_label)), {})[group_label] = list(points)

    def flush(self) -> list[str]:
        """Write queued series, one object per budget, a few budgets at a time; returns the problems met."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return []
        jobs = sorted(pending.items(), key=lambda job: (job[0][0], job[0][1] or ""))
        found = self._codec.map(lambda job: self._write(*job[0], job[1]), jobs)
        return [p for problems in found for p in problems]

    def _write(self, budget: str, account: str | None, groups: Mapping[str, list[Point]]) -> list[str]:
        existing = self._stored(budget, account)
        merged = merge_series(existing.value, groups, self.days * 86400)
        if merged != existing.value:
            rows = {
                label: [[int(t) if t.is_integer() else t, points[t]] for t in sorted(points)]
                for label, points in sorted(merged.items())
            }
            self._codec.write(series_key(budget, account), {"budget": budget, "groups": rows})
        return existing.problems

    def load(self, budget: str, group_label: str) -> list[Point]:
        """The stored series of one group, with points queued in this run merged in."""
        return self._points(budget, _account(group_label)).get(group_label, [])

    def load_budget(self, budget: str) -> dict[str, list[Point]]:
        """Every group's series of one budget, member accounts' included (for ``/usage``)."""
        prefix = f"series/{segment(budget)}/"
        members = sorted(
            key[len(prefix) : -len(".json")] for key in self._codec.store.list(prefix) if key.endswith(".json")
        )
        with self._lock:
            queued = {account for b, account in self._pending if b == budget and account is not None}
        out = self._points(budget, None)
        for account in sorted(set(members) | queued):
            out.update(self._points(budget, account))
        return out

    def _points(self, budget: str, account: str | None) -> dict[str, list[Point]]:
        stored = self._stored(budget, account).value
        with self._lock:
            queued = dict(self._pending.get((budget, account), {}))
        merged = merge_series(stored, queued, self.days * 86400) if queued else stored
        return {
            label: [Point(datetime.fromtimestamp(t, timezone.utc), Decimal(v)) for t, v in sorted(points.items())]
            for label, points in merged.items()
        }

    def newest(self, key: str) -> float | None:
        """The newest point's time in the series object at ``key`` (for pruning)."""
        groups = self._codec.load(key, "series", series_groups).value or {}
        return max((max(points) for points in groups.values() if points), default=None)
