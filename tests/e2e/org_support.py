"""The organization used by the issue-18 tests: N members whose data is the host's multiplied by their position.

The host account has one zone, ``zone-org1``, with a flat 2,304,000 B of ``acc_flux`` a day (8,000 B
per 5-minute slot), and one product billed a flat 36 yuan a day (1.50 an hour, charged as it ends).
The sandbox gives member k (1-based) k times that (``MemberSpec.scale``), so each member's truth is
worked out here, by hand, from the definition and the data clock: slots and hours of the month so far.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=CST)
ROLE = "OrganizationAccessControlRole"
ZONE = "zone-org1"
PER_SLOT = 8_000
HOURLY_YUAN = Decimal("1.50")


def month_start(now: datetime) -> datetime:
    return now.astimezone(CST).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def slots(now: datetime) -> int:
    """5-minute slots of the month that ended by ``now``."""
    return (now - month_start(now)) // timedelta(minutes=5)


def hours(now: datetime) -> int:
    """Hours of the month that ended by ``now`` (each charged at its end)."""
    return (now - month_start(now)) // timedelta(hours=1)


def traffic_limit(now: datetime) -> int:
    """Bytes: member 1 is at 50 % of it, member 2 at 100 %, every later member above."""
    return PER_SLOT * slots(now) * 2


def spend_limit(now: datetime) -> Decimal:
    """Yuan: member 4 is at 100 % of it."""
    return HOURLY_YUAN * hours(now) * 4


def uin(k: int) -> str:
    """Member k's uin (1-based)."""
    return str(200_000_000_000 + k)


def truth(k: int, now: datetime = NOW) -> dict[str, Decimal]:
    """Member k's values at ``now``, per budget: traffic (bytes), by-zone traffic, spend (yuan)."""
    traffic = Decimal(PER_SLOT * slots(now) * k)
    return {"traffic": traffic, "zone-traffic": traffic, "spend": HOURLY_YUAN * hours(now) * k}


def scenario(
    members: int,
    now: datetime = NOW,
    *,
    refused: tuple[int, ...] = (),
    faults: list[dict[str, Any]] | None = None,
    rate_limits: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The sandbox scenario, its data clock at ``now``: ``refused`` members lack the role the product assumes."""
    start = month_start(now) - timedelta(days=400)
    return {
        "version": 1,
        "name": "organization",
        "timezone": "Asia/Shanghai",
        "epoch": start.isoformat(),
        "clock": {"now": now.isoformat()},
        "account": {"uin": 100000000001, "app_id": 1250000000},
        "plans": [{"id": "edgeone-orgplan", "capacity": {"AccTrafficCapacity": "10 TB"}}],
        "zones": [
            {
                "id": ZONE,
                "name": "org.example.com",
                "plan": "edgeone-orgplan",
                "hosts": {"org.example.com": 1},
                "usage": {"acc_flux": {"daily": PER_SLOT * 288}},
            }
        ],
        "billing": {
            "as_of": (month_start(now) - timedelta(days=1)).isoformat(),
            "cash": "100000.00",
            "products": [{"code": "p_cvm", "name": "CVM", "daily": "36.00"}],
        },
        "organization": {
            "members": [
                {"uin": int(uin(k)), "name": f"member-{k:03d}", **({"roles": ["Other"]} if k in refused else {})}
                for k in range(1, members + 1)
            ]
        },
        "faults": faults or [],
        "rate_limits": rate_limits or {},
    }


def config(now: datetime = NOW, *, own: bool = True) -> dict[str, Any]:
    """Three budgets on every member (and, with ``own``, one on the host account itself)."""
    budgets: list[dict[str, Any]] = [
        {"name": "traffic", "source": "teo", "metric": "acc_flux", "period": "month", "limit": traffic_limit(now),
         "thresholds": [50, 100], "channels": ["hook"], "accounts": ["*"]},
        {"name": "zone-traffic", "source": "teo", "metric": "acc_flux", "group_by": ["zone-id"], "period": "month",
         "limit": traffic_limit(now) * 100, "thresholds": [100], "channels": ["hook"], "accounts": ["*"]},
        {"name": "spend", "source": "billing", "metric": "cost", "period": "month", "limit": str(spend_limit(now)),
         "thresholds": [100], "channels": ["hook"], "accounts": ["*"]},
    ]  # fmt: skip
    if own:
        budgets.append(
            {"name": "own-traffic", "source": "teo", "metric": "acc_flux", "period": "month",
             "limit": traffic_limit(now) * 5, "thresholds": [100], "channels": ["hook"]}
        )  # fmt: skip
    return {
        "timezone": "Asia/Shanghai",
        "language": "en",
        "channels": {"hook": {"type": "webhook", "url": "${WEBHOOK_URL}", "secret": "${WEBHOOK_SECRET}"}},
        "accounts": {"organization": True, "role": ROLE},
        "budgets": budgets,
    }


def expected_alerts(members: int, refused: tuple[int, ...] = ()) -> set[tuple[str, str, int]]:
    """(budget, member uin, level) of every threshold notification the first run must send."""
    out: set[tuple[str, str, int]] = set()
    for k in range(1, members + 1):
        if k in refused:
            continue
        traffic_percent = 50 * k  # member 1 at 50 %, member 2 at 100 % ...
        level = 100 if traffic_percent >= 100 else 50
        if level:
            out.add(("traffic", uin(k), level))
        if k >= 4:
            out.add(("spend", uin(k), 100))
    return out
