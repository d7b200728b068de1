"""When to try a failed delivery again: exponential backoff from 1 minute, capped at 1 hour, honouring
``Retry-After``, and giving up after ``MAX_ATTEMPTS`` attempts (about 18 hours of trying).

Schedule after attempt k (k = 1, 2, ...): wait min(2^(k-1) minutes, 60 minutes), or longer when the
platform said so. Attempt ``MAX_ATTEMPTS`` failing ends it: ``retry_schedule`` returns None.
The timer runs every few minutes, so a due entry goes out on the first run at or after its time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

BASE_DELAY = 60.0  # seconds before the second attempt
MAX_DELAY = 3600.0  # the backoff never waits longer than this on its own
MAX_RETRY_AFTER = 86400.0  # a platform's Retry-After is honoured up to a day
MAX_ATTEMPTS = 24  # attempts in all, the first one included


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt, before any Retry-After."""
    exponent = max(0, min(attempts - 1, 30))
    return min(BASE_DELAY * float(2**exponent), MAX_DELAY)


def retry_schedule(attempts: int, now: datetime, retry_after: float | None) -> datetime | None:
    """When to make the next attempt after ``attempts`` failed ones, or None to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = backoff(attempts)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))
    return now + timedelta(seconds=delay)


def total_span() -> timedelta:
    """How long the schedule keeps trying when every attempt fails (documentation and tests)."""
    return timedelta(seconds=sum(backoff(k) for k in range(1, MAX_ATTEMPTS)))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (relative to ``now``); None if absent or bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    reference = now or datetime.now(timezone.utc)
    return max(0.0, (when - reference).total_seconds())
