"""Budget periods (day, month) in the configured time zone: [local midnight, next local midnight).

Pure: the instant is always an argument. DST days are 23 or 25 hours long; months end where they end.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from lib.errors import ConfigError
from lib.model import Period

PeriodKind = Literal["day", "month"]


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or a ConfigError naming it."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:  # OSError: a folder of zones such as "America"
        raise ConfigError(f"unknown time zone {name!r}", field="timezone") from exc


def _local_midnight(year: int, month: int, day: int, tz: tzinfo) -> datetime:
    # fold=0 picks the first occurrence; midnight never falls in a gap in zones we know of, but a
    # round trip through UTC normalises it if it ever does.
    naive = datetime(year, month, day)
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(tz)


def current_period(kind: PeriodKind, now: datetime, tz: tzinfo) -> Period:
    """The period of ``kind`` that contains the aware instant ``now``, in ``tz``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(tz)
    if kind == "day":
        start = _local_midnight(local.year, local.month, local.day, tz)
        nxt = local.date() + timedelta(days=1)
        end = _local_midnight(nxt.year, nxt.month, nxt.day, tz)
    else:
        start = _local_midnight(local.year, local.month, 1, tz)
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        end = _local_midnight(year, month, 1, tz)
    return Period(start=start, end=end)


def previous_period(kind: PeriodKind, period: Period, tz: tzinfo) -> Period:
    """The period just before ``period``."""
    return current_period(kind, period.start - timedelta(seconds=1), tz)
