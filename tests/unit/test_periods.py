"""Period boundaries: local midnight, month ends, leap day, DST days."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from lib.errors import ConfigError
from lib.periods import current_period, previous_period, zone

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("kind", "now", "tz", "start", "end"),
    [
        ("day", "2026-11-22T15:59:59+00:00", SH, "2026-11-22T00:00:00+08:00", "2026-11-23T00:00:00+08:00"),
        ("day", "2026-11-22T16:00:00+00:00", SH, "2026-11-23T00:00:00+08:00", "2026-11-24T00:00:00+08:00"),
        ("month", "2026-11-30T15:59:59+00:00", SH, "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00"),
        ("month", "2026-11-30T16:00:00+00:00", SH, "2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00"),
        ("day", "2028-02-29T12:00:00+08:00", SH, "2028-02-29T00:00:00+08:00", "2028-03-01T00:00:00+08:00"),
        ("month", "2028-02-29T23:59:59+08:00", SH, "2028-02-01T00:00:00+08:00", "2028-03-01T00:00:00+08:00"),
        # 2026-03-08 is 23 hours long in New York, 2026-11-01 is 25.
        ("day", "2026-03-08T12:00:00-04:00", NY, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"),
        ("day", "2026-11-01T12:00:00-05:00", NY, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"),
        ("month", "2026-11-15T00:00:00+00:00", NY, "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"),
    ],
)
def test_current_period(kind: str, now: str, tz: ZoneInfo, start: str, end: str) -> None:
    period = current_period(kind, datetime.fromisoformat(now), tz)  # type: ignore[arg-type]
    assert period.start == datetime.fromisoformat(start)
    assert period.end == datetime.fromisoformat(end)
    assert period.start.isoformat() == start


def test_dst_day_lengths() -> None:
    short = current_period("day", datetime(2026, 3, 8, 12, tzinfo=timezone.utc), NY)
    long = current_period("day", datetime(2026, 11, 1, 12, tzinfo=timezone.utc), NY)
    # Same-tzinfo subtraction is wall-clock in Python: measure elapsed time in UTC.
    assert (short.end.astimezone(timezone.utc) - short.start).total_seconds() == 23 * 3600
    assert (long.end.astimezone(timezone.utc) - long.start).total_seconds() == 25 * 3600


def test_previous_period_and_errors() -> None:
    period = current_period("month", datetime(2026, 1, 10, tzinfo=timezone.utc), SH)
    prev = previous_period("month", period, SH)
    assert prev.start.isoformat() == "2025-12-01T00:00:00+08:00"
    assert prev.end == period.start
    with pytest.raises(ValueError, match="timezone-aware"):
        current_period("day", datetime(2026, 1, 1), SH)
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        zone("Mars/Olympus")


@pytest.mark.parametrize("name", ["America", "Asia/Nowhere", "", "../etc/passwd", "UTC+8"])
def test_an_unknown_zone_is_a_config_error_naming_it(name: str) -> None:
    with pytest.raises(ConfigError, match="unknown time zone") as info:
        zone(name)
    assert info.value.field == "timezone"
