"""The wall-clock "live" scenario: usage and spend that cross budgets.yaml's lines whatever today's date is.

Code that runs on the wall clock (a deployed timer, ``check`` without ``--at``) needs a data clock of
now, not demo.yaml's fixed 2026-11-22. One zone carries flat traffic far over its plan and the account
pays a fixed hourly price out of a small balance, so every budget of budgets.yaml fires within minutes
of any month's start. The demo's deployed part and the end-to-end tests share this one copy.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")  # the time zone of budgets.yaml and of the scenario
ZONE = "zone-live0001"
DAILY_BYTES = 6 * 10**15  # 6 PB a day: one 5-minute bucket (20.8 TB) passes 100 % of the 10 TB budget
PER_BUCKET = DAILY_BYTES // 288  # the sandbox floors each flat 5-minute value once
HOURLY_YUAN = 10_000  # a fixed-price product: 240,000 yuan a day, charged at the end of each UTC hour
CASH = 20_500  # two charged hours after ``as_of`` leave 500 yuan: below the 1,000 of low-balance


def live_scenario(now: datetime, *, faults: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One zone with flat traffic and an account with a fixed hourly charge; the data clock is ``now``."""
    now = now.astimezone(TZ).replace(microsecond=0)
    start = now - timedelta(days=400)
    as_of = now.replace(minute=0, second=0) - timedelta(hours=2)
    return {
        "version": 1,
        "name": "live",
        "timezone": "Asia/Shanghai",
        "epoch": start.isoformat(),
        "clock": {"now": now.isoformat()},
        "plans": [
            {
                "id": "edgeone-live0001",
                "type": "plan-enterprise",
                "area": "global",
                "pay_mode": 1,
                "enabled": start.isoformat(),
                "expires": (now + timedelta(days=400)).isoformat(),
                "capacity": {"AccTrafficCapacity": "10 TB"},
            }
        ],
        "zones": [
            {
                "id": ZONE,
                "name": "live.example.com",
                "plan": "edgeone-live0001",
                "created": start.isoformat(),
                "hosts": {"www.live.example.com": 100},
                "regions": {"CH": 100},
                "usage": {"acc_flux": {"daily": DAILY_BYTES}},
            }
        ],
        "billing": {
            "currency": "CNY",
            "as_of": as_of.isoformat(),
            "cash": CASH,
            "products": [{"code": "p_cvm", "name": "云服务器", "pay_mode": "postPay", "daily": HOURLY_YUAN * 24}],
        },
        "faults": faults or [],
    }


def month_start(moment: datetime) -> datetime:
    local = moment.astimezone(TZ)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def wait_past_month_end() -> None:
    """The scenario's data clock and the run must fall in the same month: never start in its last seconds."""
    now = datetime.now(timezone.utc)
    nxt = (month_start(now) + timedelta(days=32)).replace(day=1)
    if nxt - now < timedelta(seconds=30):
        time.sleep((nxt - now).total_seconds() + 1)
