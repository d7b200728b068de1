"""On/off history of switchable resources (EdgeOne zones and hosts, CDN domains) on the data clock.

Budget actions pause a zone, take hosts offline or stop a CDN domain; from that instant the resource
serves nothing, so its usage stops accruing, and it accrues again from the instant it is switched back.
The history is a list of ``(instant, on)`` changes per resource, in data-clock seconds; usage queries
ask for the seconds a resource was on within each 5-minute bucket. A resource switched off in the
scenario file itself is off from the beginning of time.
"""

from __future__ import annotations

import math
import threading

Key = tuple[str, str]  # (kind, name): ("zone", zone id), ("host", host name), ("cdn", domain name)

ZONE = "zone"
HOST = "host"
CDN_DOMAIN = "cdn"


class Switches:
    """Thread-safe on/off histories; ``version`` changes with every recorded change (caches key on it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[Key, list[tuple[float, bool]]] = {}
        self._current: dict[Key, bool] = {}
        self.version = 0

    def start_off(self, key: Key) -> None:
        """``key`` is off from the beginning of time (the scenario file says so)."""
        with self._lock:
            self._changes[key] = [(-math.inf, False)]
            self._current[key] = False
            self.version += 1

    def is_on(self, key: Key) -> bool:
        return self._current.get(key, True)

    def last_change(self, key: Key) -> float | None:
        """The data-clock instant of the latest change, None when never changed (or off from the start)."""
        changes = self._changes.get(key)
        if not changes or changes[-1][0] == -math.inf:
            return None
        return changes[-1][0]

    def set(self, key: Key, on: bool, at: float) -> bool:
        """Switch ``key`` on or off at data-clock instant ``at``; False when it already was (nothing recorded)."""
        with self._lock:
            changes = self._changes.get(key, [])
            if changes and at < changes[-1][0]:
                # The data clock was moved back: the later history is forgotten, then rewritten from here.
                changes = [c for c in changes if c[0] <= at]
                self._changes[key] = changes
                self._current[key] = changes[-1][1] if changes else True
                self.version += 1
            if self._current.get(key, True) == on:
                return False
            self._changes[key] = [*changes, (at, on)]
            self._current[key] = on
            self.version += 1
            return True

    def on_seconds(self, keys: tuple[Key, ...], start: int, step: int, count: int) -> list[int] | None:
        """For ``count`` buckets of ``step`` seconds from ``start``: the whole seconds every one of ``keys``
        was on (a resource is off when any of them is off). None when none of them was ever switched."""
        if not any(k in self._changes for k in keys):  # the common case: no lock, no work
            return None
        with self._lock:
            histories = [list(self._changes[k]) for k in keys if k in self._changes]
        if not histories:
            return None
        spans = _off_spans(histories)
        out = []
        for i in range(count):
            lo, hi = start + i * step, start + (i + 1) * step
            off = 0.0
            for a, b in spans:
                if b <= lo or a >= hi:
                    continue
                off += min(b, hi) - max(a, lo)
            out.append(step - math.ceil(off))
        return out


def _off_spans(histories: list[list[tuple[float, bool]]]) -> list[tuple[float, float]]:
    """The union of the off intervals of every history, as sorted ``[start, end)`` pairs."""
    spans: list[tuple[float, float]] = []
    for changes in histories:
        off_since: float | None = None
        for at, on in changes:
            if not on and off_since is None:
                off_since = at
            elif on and off_since is not None:
                spans.append((off_since, at))
                off_since = None
        if off_since is not None:
            spans.append((off_since, math.inf))
    spans.sort()
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
