"""The rules tests' own builders behave as the tests assume."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.unit.rules_support import at, hourly_series


def test_hourly_series_shares() -> None:
    start = at("2026-11-01T00:00:00+08:00")
    points = hourly_series(start, start + timedelta(minutes=90), Decimal(3600))
    assert [p.value for p in points] == [Decimal(3600), Decimal(1800)]
