"""Shared value types: JSON forms, ids, silence matching."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from lib.model import Notification, Period, Silence, group_key, notification_id

T0 = datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=8)))
PERIOD = Period(T0, datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=8))))


def _notification() -> Notification:
    return Notification(
        id=notification_id("edgeone-traffic", "zone-id=z1", PERIOD.start.isoformat(), "threshold", "80"),
        budget="edgeone-traffic",
        group=group_key({"zone-id": "z1"}),
        kind="threshold",
        status="firing",
        period=PERIOD,
        at=T0 + timedelta(days=20),
        value=Decimal("8100000000000"),
        unit="B",
        limit=Decimal("1E13"),
        percent=81.0,
        forecast=Decimal("11000000000000.5"),
        level=80,
        channels=("ops",),
        breakdown=(("a.example.com", Decimal("5e12")),),
    )


def test_notification_round_trip_and_payload() -> None:
    n = _notification()
    assert Notification.from_dict(n.to_dict()) == n
    payload = n.to_payload("msg")
    assert payload["value"] == 8100000000000
    assert payload["limit"] == 10000000000000
    assert payload["forecast"] == 11000000000000.5
    assert payload["group"] == {"zone-id": "z1"}
    assert payload["level"] == 80
    assert payload["period"]["start"] == "2026-11-01T00:00:00+08:00"


def test_notification_id_is_stable_and_dotless() -> None:
    a = notification_id("b", "g", "p", "threshold", "80")
    assert a == notification_id("b", "g", "p", "threshold", "80")
    assert a != notification_id("b", "g", "p", "threshold", "100")
    assert "." not in a
    assert a.startswith("ntf_")


def test_silence_matching() -> None:
    s = Silence("s1", {"budget": "edgeone-*", "zone-id": "z1"}, T0, T0 + timedelta(hours=1))
    assert s.matches("edgeone-traffic", group_key({"zone-id": "z1"}))
    assert not s.matches("edgeone-traffic", group_key({"zone-id": "z2"}))
    assert not s.matches("monthly-spend", ())
    assert s.active(T0) and not s.active(T0 + timedelta(hours=1))
    assert Silence.from_dict(s.to_dict()) == s
