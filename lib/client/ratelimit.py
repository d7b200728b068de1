"""Client-side rate limits: a thread-safe token bucket per (account, API action), under the server's limits."""

from __future__ import annotations

import copy
import math
import threading
import time
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


class RateLimiter:
    """One bucket per (account, ``service.Action``); the limit comes from the most specific key in ``limits``.

    The server limits each account separately: ``for_account`` gives a view sharing these buckets whose
    calls count against that account only (the limiter itself stands for the caller's own account).
    """

    def __init__(
        self,
        limits: Mapping[str, float] | None = None,
        *,
        default: float = FALLBACK_LIMIT,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self.default = default
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
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

    def bucket(self, service: str, action: str) -> TokenBucket:
        key = f"{self.account}/{service}.{action}" if self.account else f"{service}.{action}"
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = TokenBucket(self.limit_for(service, action), self.burst, clock=self._clock)
                self._buckets[key] = found
            return found

    def acquire(self, service: str, action: str) -> float:
        """Wait until this action may be called again; returns the seconds waited."""
        wait = self.bucket(service, action).reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


def unlimited() -> RateLimiter:
    """A limiter that never waits (tests, or a caller that limits elsewhere)."""
    return RateLimiter({}, default=math.inf)
