"""The series a run records: each observation's own, and for a billing total an hourly reading (never a zero)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from lib.app.balances import series_to_record
from lib.model import Observation, Period, Point
from tests.api_fixtures import CONFIG

AT = datetime(2026, 11, 22, 2, 37, 12, tzinfo=timezone.utc)
MONTH = Period(datetime(2026, 10, 31, 16, tzinfo=timezone.utc), datetime(2026, 11, 30, 16, tzinfo=timezone.utc))
COST = next(b.name for b in CONFIG.budgets if b.source == "billing" and b.metric == "cost")
USAGE = next(b.name for b in CONFIG.budgets if b.source == "teo")


def test_a_month_to_date_cost_is_recorded_as_a_reading_at_the_start_of_its_hour() -> None:
    obs = Observation(COST, (), MONTH, Decimal("8759.48"), "CNY", as_of=AT)
    assert list(series_to_record(CONFIG, [obs])) == [
        (COST, "", [Point(datetime(2026, 11, 22, 2, tzinfo=timezone.utc), Decimal("8759.48"))])
    ]


def test_a_failed_or_not_ready_cost_records_nothing() -> None:
    failed = Observation(COST, (), MONTH, None, "CNY", error="InternalError", as_of=AT)
    not_ready = Observation(COST, (), MONTH, None, "CNY", ready=False, as_of=AT)
    assert list(series_to_record(CONFIG, [failed, not_ready])) == []


def test_usage_keeps_its_own_series_and_gets_no_reading() -> None:
    points = (Point(AT - timedelta(minutes=5), Decimal(7)),)
    with_series = Observation(USAGE, (("zone-id", "zone-1"),), MONTH, Decimal(7), "B", series=points, as_of=AT)
    without = Observation(USAGE, (("zone-id", "zone-2"),), MONTH, Decimal(0), "B", as_of=AT)
    assert list(series_to_record(CONFIG, [with_series, without])) == [(USAGE, "zone-id=zone-1", list(points))]
