"""The collector's pace: at most ``limit`` requests in flight or answered within the last second.

A server that allows N requests a second counts each one at some instant between our sending it and
our receiving its answer. A request is therefore sent only while fewer than N are in flight or were
answered within the last second: whatever instants the server counted them at, no second it looks at
holds more than N. No margin for network or scheduling jitter is needed (a window on send times needs
one: a request delayed on its way is counted later than it was sent), and the first N go at once.
The client's own window on send times stays the backstop; this one is never looser than it. A request
the client retries holds one place for all its attempts (a retry follows a refusal or an error, rare
by design); the client's window still counts each attempt.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lib.client.ratelimit import check_window


class AnsweredWindow:
    """``limit`` requests a ``period``, counted from when each is sent until ``period`` after its answer."""

    def __init__(self, limit: int, period: float = 1.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        check_window(limit, period)
        self.limit = limit
        self.period = period
        self._clock = clock
        self._in_flight = 0
        self._answered: deque[float] = deque()  # when the answers of the last ``period`` came, in order
        self._changed = threading.Condition()

    def take(self) -> tuple[bool, float | None]:
        """(True, 0) with a place taken now, else (False, seconds until one frees; None: when an answer comes)."""
        with self._changed:
            return self._take()

    def _take(self) -> tuple[bool, float | None]:
        now = self._clock()
        while self._answered and self._answered[0] + self.period <= now:
            self._answered.popleft()
        if self._in_flight + len(self._answered) < self.limit:
            self._in_flight += 1
            return True, 0.0
        return False, (self._answered[0] + self.period - now) if self._answered else None

    def done(self) -> None:
        """The request holding a place was answered (or failed): its place frees ``period`` from now."""
        with self._changed:
            self._in_flight -= 1
            self._answered.append(self._clock())
            self._changed.notify_all()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a place, hold it while the request runs, and count its answer."""
        with self._changed:
            taken, wait = self._take()
            while not taken:
                self._changed.wait(timeout=wait)  # None: until an answer comes
                taken, wait = self._take()
        try:
            yield
        finally:
            self.done()


def window_for(rate: float) -> AnsweredWindow | None:
    """The window for a documented ``rate`` a second: whole requests a second, or one every ``1/rate``
    seconds under 1/s; None without a finite rate."""
    if not (math.isfinite(rate) and rate > 0):
        return None
    if rate >= 1:
        return AnsweredWindow(math.floor(rate), 1.0)
    return AnsweredWindow(1, 1.0 / rate)
