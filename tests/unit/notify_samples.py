"""Sample notifications for the notify and messages tests: one of each kind, fixed instants."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from lib.model import Notification, Period, group_key, notification_id

TZ = ZoneInfo("Asia/Shanghai")
MONTH = Period(datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ))
DAY = Period(datetime(2026, 11, 22, tzinfo=TZ), datetime(2026, 11, 23, tzinfo=TZ))
AT = datetime(2026, 11, 22, 10, 0, tzinfo=TZ)


def _id(*parts: str) -> str:
    return notification_id(*parts)


TRAFFIC = Notification(
    id=_id("edgeone-traffic", "zone-id=zone-2m2gq4dnpmd2", "2026-11", "threshold", "80"),
    budget="edgeone-traffic",
    group=group_key({"zone-id": "zone-2m2gq4dnpmd2"}),
    kind="threshold",
    status="firing",
    period=MONTH,
    at=AT,
    value=Decimal("8.1e12"),
    unit="B",
    limit=Decimal("1e13"),
    percent=81.0,
    forecast=Decimal("1.1e13"),
    level=80,
    channels=("ops",),
    breakdown=(
        ("www.example.com", Decimal("5.2e12")),
        ("img.example.com", Decimal("2.3e12")),
        ("api.example.com", Decimal("6e11")),
    ),
)

OVER = Notification(
    id=_id("edgeone-requests", "", "2026-11-22", "threshold", "100"),
    budget="edgeone-requests",
    group=(),
    kind="threshold",
    status="firing",
    period=DAY,
    at=AT,
    value=Decimal("123456789"),
    unit="count",
    limit=Decimal("100000000"),
    percent=123.456789,
    level=100,
    channels=("ops",),
)

SPEND_FORECAST = Notification(
    id=_id("monthly-spend", "", "2026-11", "forecast"),
    budget="monthly-spend",
    group=(),
    kind="forecast",
    status="firing",
    period=MONTH,
    at=AT,
    value=Decimal("4120.50"),
    unit="CNY",
    limit=Decimal("5000"),
    percent=82.41,
    forecast=Decimal("5618.86"),
    level=100,
    channels=("finance",),
    breakdown=(("内容分发网络 CDN", Decimal("2500.20")), ("云服务器 CVM", Decimal("1620.30"))),
)

LOW_BALANCE = Notification(
    id=_id("low-balance", "", "below"),
    budget="low-balance",
    group=(),
    kind="below",
    status="firing",
    period=MONTH,
    at=AT,
    value=Decimal("820.35"),
    unit="CNY",
    limit=Decimal("1000"),
    channels=("finance",),
)

BALANCE_OK = Notification(
    id=_id("low-balance", "", "below", "resolved"),
    budget="low-balance",
    group=(),
    kind="below",
    status="resolved",
    period=MONTH,
    at=AT,
    value=Decimal("1520"),
    unit="CNY",
    limit=Decimal("1000"),
    channels=("finance",),
)

SPIKE = Notification(
    id=_id("edgeone-bandwidth", "host=www.example.com", "2026-11-22", "spike"),
    budget="edgeone-bandwidth",
    group=group_key({"host": "www.example.com"}),
    kind="spike",
    status="firing",
    period=DAY,
    at=AT,
    value=Decimal("1.2e9"),
    unit="bps",
    detail={"baseline": "2.5e8", "factor": 3, "method": "median"},
    channels=("ops",),
)

NO_DATA = Notification(
    id=_id("edgeone-traffic", "", "no-data"),
    budget="edgeone-traffic",
    group=(),
    kind="no-data",
    status="firing",
    period=MONTH,
    at=AT,
    value=None,
    unit="B",
    detail={"failures": 3, "error": "teo DescribeBillingData: InternalError: an internal error occurred"},
    channels=("ops",),
)

ALL = (TRAFFIC, OVER, SPEND_FORECAST, LOW_BALANCE, BALANCE_OK, SPIKE, NO_DATA)
