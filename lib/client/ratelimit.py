"""Client-side rate limits: a thread-safe sliding window per (account, API action), under the server's limits."""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

# Documented server limits (requests per second); keys are "service.Action" or "service".
DEFAULT_LIMITS: dict[str, float] = {
    "teo.DescribeBillingData": 50.0,
    "teo": 20.0,  # DescribeZones, DescribePlans, ... (20/s each)
    "billing.DescribeBillDetail": 5.0,
    "billing": 20.0,  # DescribeAccountBalance, DescribeBillSummaryBy* (20/s each)
}
FALLBACK_LIMIT = 20.0  # the most common documented limit for other APIs


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; ``reserve`` never blocks, it says how long to wait.

    A reservation takes its token at once (the level may go negative), so concurrent callers queue up
    fairly and the sleeping happens outside the lock.
    """

    def __init__(self, rate: float, burst: float = 1.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, not {rate!r}")
        if not burst >= 1:
            raise ValueError(f"burst must be at least 1, not {burst!r}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def reserve(self, tokens: float = 1.0) -> float:
        """Take ``tokens`` and return the seconds to wait before using them (0 when available now)."""
        if math.isinf(self.rate):
            return 0.0
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._stamp = now
            self._tokens -= tokens
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


def check_window(limit: int, period: float) -> None:
    """A window holds at least one request and lasts a positive time (ValueError otherwise)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit!r}")
    if not period > 0:
        raise ValueError(f"period must be positive, not {period!r}")


class SlidingWindow:
    """At most ``limit`` reservations in any ``period`` seconds; ``reserve`` never blocks, it says how long to wait.

    What a documented "N requests per second" allows: N at once, then each further one a ``period`` after
    the one N before it. A token bucket cannot do that: with the burst it needs for N at once, it lets N
    more through in the same second. Reservations are slots in time, taken in order under the lock, so
    concurrent callers queue up fairly and the sleeping happens outside it.
    """

    def __init__(self, limit: int, period: float = 1.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        check_window(limit, period)
        self.limit = limit
        self.period = period
        self._clock = clock
        self._slots: deque[float] = deque(maxlen=limit)  # the last ``limit`` reserved instants, in order
        self._lock = threading.Lock()

    @classmethod
    def per_second(cls, rate: float, *, clock: Callable[[], float] = time.monotonic) -> SlidingWindow:
        """``rate`` a second: whole requests a second, or one every ``1/rate`` seconds under 1/s."""
        if not rate > 0:
            raise ValueError(f"rate must be positive, not {rate!r}")
        if rate >= 1:
            return cls(math.floor(rate), 1.0, clock=clock)
        return cls(1, 1.0 / rate, clock=clock)

    @property
    def rate(self) -> float:
        """The long-run rate, reservations a second."""
        return self.limit / self.period

    def reserve(self) -> float:
        """Take the next free slot and return the seconds to wait for it (0 when it is now)."""
        with self._lock:
            now = self._clock()
            at = now
            if len(self._slots) == self.limit:
                at = max(now, self._slots[0] + self.period)
            self._slots.append(at)  # drops the oldest: it is a whole period before any later slot
            return at - now


class RateLimiter:
    """One window per (account, ``service.Action``); the limit comes from the most specific key in ``limits``.

    The server limits each account separately: ``for_account`` gives a view sharing these buckets whose
    calls count against that account only (the limiter itself stands for the caller's own account).
    """

    def __init__(
        self,
        limits: Mapping[str, float] | None = None,
        *,
        default: float = FALLBACK_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self.default = default
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, SlidingWindow | None] = {}  # None: no finite limit
        self._lock = threading.Lock()
        self.account = ""

    def for_account(self, account: str) -> RateLimiter:
        """This limiter for calls made as ``account`` (a member uin): same limits and buckets, own keys."""
        view = copy.copy(self)  # shallow: the bucket map and its lock stay shared
        view.account = account
        return view

    def limit_for(self, service: str, action: str) -> float:
        """Requests per second allowed for this action."""
        return self.limits.get(f"{service}.{action}", self.limits.get(service, self.default))

    def bucket(self, service: str, action: str) -> SlidingWindow | None:
        """The window this account's calls to ``action`` share (None when the action has no finite limit)."""
        key = f"{self.account}/{service}.{action}" if self.account else f"{service}.{action}"
        with self._lock:
            if key not in self._buckets:
                limit = self.limit_for(service, action)
                window = SlidingWindow.per_second(limit, clock=self._clock) if math.isfinite(limit) else None
                self._buckets[key] = window
            return self._buckets[key]

    def acquire(self, service: str, action: str) -> float:
        """Wait until this action may be called again; returns the seconds waited."""
        window = self.bucket(service, action)
        wait = 0.0 if window is None else window.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


def unlimited() -> RateLimiter:
    """A limiter that never waits (tests, or a caller that limits elsewhere)."""
    return RateLimiter({}, default=math.inf)
