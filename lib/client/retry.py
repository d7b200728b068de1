"""When to retry an API call and how long to wait: exponential backoff with full jitter, attempts and a deadline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lib.errors import in_code_family

# Error codes worth another attempt (Tencent documents none; the SDK's StandardRetryer retries the
# rate-limit family, and internal errors / unavailability are transient by nature).
THROTTLED = "RequestLimitExceeded"
RETRYABLE_PREFIXES = (THROTTLED, "InternalError", "ServiceUnavailable")
SIGNATURE_EXPIRE = "AuthFailure.SignatureExpire"  # re-signed once with a fresh (skew-corrected) timestamp
TOKEN_FAILURE = "AuthFailure.TokenFailure"  # noqa: S105 - an error code; credentials re-read once, then re-signed


def is_retryable_code(code: str) -> bool:
    """``RequestLimitExceeded*``, ``InternalError*``, ``ServiceUnavailable*``; never ``RequestSizeLimitExceeded``."""
    return any(in_code_family(code, prefix) for prefix in RETRYABLE_PREFIXES)


def is_throttled(code: str) -> bool:
    """``RequestLimitExceeded`` and its sub-codes: the API's per-second window for the action is full."""
    return in_code_family(code, THROTTLED)


def is_retryable_status(status: int) -> bool:
    """HTTP 5xx and 429 are transient; other non-200 statuses are not."""
    return status >= 500 or status == 429


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in all (1 = no retry), waits ``uniform(0, min(cap, base * 2**n))``, ``deadline`` s overall.

    A refusal for the rate (``RequestLimitExceeded``) waits ``window`` seconds more: Tencent Cloud counts
    requests per action in one-second windows, and the one that refused this request was full, so no retry
    inside it could pass; full jitter from zero would spend attempts there (and count against the window
    again). The jitter stays on top, so the requests refused together do not all come back at once."""

    attempts: int = 4
    base: float = 0.5
    cap: float = 8.0
    deadline: float = 60.0
    window: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.deadline <= 0 or self.window < 0:
            raise ValueError("base, cap and window must be >= 0 and deadline > 0")

    def ceiling(self, retry: int) -> float:
        """The upper bound of the wait before retry number ``retry`` (0-based)."""
        return min(self.cap, self.base * (2.0 ** min(retry, 62)))

    def delay(self, retry: int, random: Callable[[], float], *, throttled: bool = False) -> float:
        """Full jitter: a uniform draw in ``[0, ceiling(retry))`` (``random`` returns values in [0, 1)), after
        ``window`` seconds when the refusal was for the rate."""
        return (self.window if throttled else 0.0) + self.ceiling(retry) * random()
