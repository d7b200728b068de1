"""Per-robot rate limits (WeCom and DingTalk take 20 messages a minute): a thread-safe sliding window.

One ``RateLimiter`` lives in the process, so warm function instances and concurrent threads share it.
``reserve`` books a send slot and says how long to wait for it; past ``max_wait`` it books nothing and
the caller reports "retry later" instead of blocking the run.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Sequence

Window = tuple[int, float]  # at most `count` sends per `seconds`


class RateLimiter:
    """Sliding-window limits per key (the configured webhook URL), safe across threads."""

    def __init__(self, *, max_wait: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, list[float]] = {}

    def reserve(self, key: str, windows: Sequence[Window]) -> float:
        """Seconds until a send under every window may go; the slot is booked when that is <= max_wait."""
        if not windows:
            return 0.0
        with self._lock:
            now = self._clock()
            longest = max(seconds for _, seconds in windows)
            history = self._sent.setdefault(key, [])
            expired = bisect.bisect_right(history, now - longest)
            del history[:expired]
            wait = 0.0
            for count, seconds in windows:
                recent = [t for t in history if t > now - seconds]
                if len(recent) >= count:
                    # The send may go when the oldest send that keeps the window full leaves it.
                    wait = max(wait, recent[len(recent) - count] + seconds - now)
            if wait <= self.max_wait:
                bisect.insort(history, now + wait)
            if not history:
                del self._sent[key]
            return wait

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()


class Unlimited(RateLimiter):
    """No limits at all (benchmarks, tests of other behaviour)."""

    def reserve(self, key: str, windows: Sequence[Window]) -> float:
        return 0.0


DEFAULT_LIMITER = RateLimiter()
