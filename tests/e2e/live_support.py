"""Shared pieces of the live end-to-end tests: the wall-clock scenario, its expected numbers, and checks.

The fixtures built from them (``live``, ``scf``) are in ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from handlers import timer
from lib.app import instance
from sandbox.receivers import Receiver
from sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "budgets.yaml"
TIMER_EVENT = ROOT / "events" / "timer.json"
CONTEXT = ROOT / "events" / "context.json"
TZ = ZoneInfo("Asia/Shanghai")  # the time zone of budgets.yaml and of the scenario

ZONE = "zone-live0001"
DAILY_BYTES = 6 * 10**15  # 6 PB a day: one 5-minute bucket (20.8 TB) passes 100 % of the 10 TB budget
PER_BUCKET = DAILY_BYTES // 288  # the sandbox floors each flat 5-minute value once
HOURLY_YUAN = 10_000  # a fixed-price product: 240,000 yuan a day, charged at the end of each UTC hour
CASH = 20_500  # two charged hours after ``as_of`` leave 500 yuan: below the 1,000 of low-balance
BUCKET, REGION = "state-1250000000", "ap-guangzhou"
STATUSES = {"ok", "firing", "resolved", "no-data", "error"}
EVALUATION_FIELDS = {"budget", "group", "period", "value", "unit", "limit", "percent", "forecast", "level", "status"}
CREDENTIAL_VARIABLES = (
    "TENCENTCLOUD_SECRETID",
    "TENCENTCLOUD_SECRETKEY",
    "TENCENTCLOUD_SESSIONTOKEN",
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_TOKEN",
    "TCCLI_PROFILE",
)


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


def expected_values(data_now: datetime) -> dict[str, Decimal]:
    """What each budget of budgets.yaml must read at the scenario's data clock."""
    elapsed = data_now - month_start(data_now)
    buckets = elapsed // timedelta(minutes=5)
    hours = elapsed // timedelta(hours=1)  # the month starts on a UTC hour: +08:00 midnight
    return {
        "edgeone-traffic": Decimal(buckets * PER_BUCKET),
        "monthly-spend": Decimal(hours * HOURLY_YUAN),
        "low-balance": Decimal(CASH - 2 * HOURLY_YUAN),
    }


def expected_status(budget: str, value: Decimal) -> str:
    limits = {"edgeone-traffic": (Decimal("1e13"), Decimal(50)), "monthly-spend": (Decimal(5000), Decimal(80))}
    if budget == "low-balance":
        return "firing" if value < 1000 else "ok"
    limit, lowest = limits[budget]
    return "firing" if value * 100 >= limit * lowest else "ok"


def budget_channels() -> dict[str, list[str]]:
    doc = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return {b["name"]: list(b["channels"]) for b in doc["budgets"]}


def channel_kinds() -> dict[str, str]:
    doc = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return {name: ch["type"] for name, ch in doc["channels"].items()}


def wait_past_month_end() -> None:
    """The scenario's data clock and the run must fall in the same month: never start in its last seconds."""
    now = datetime.now(timezone.utc)
    nxt = (month_start(now) + timedelta(days=32)).replace(day=1)
    if nxt - now < timedelta(seconds=30):
        time.sleep((nxt - now).total_seconds() + 1)


@dataclass
class Live:
    sandbox: Sandbox
    receiver: Receiver
    env: dict[str, str]
    state_dir: Path

    @property
    def data_now(self) -> datetime:
        return self.sandbox.now


def close_app(app: Any) -> None:
    app.session.close()
    app.client.close()
    app.store.close()


def cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCF starts a new instance: the warm ``App`` is gone."""
    if instance._slot.app is not None:
        close_app(instance._slot.app)
    monkeypatch.setattr(instance._slot, "app", None)


def invoke() -> dict[str, Any]:
    event = json.loads(TIMER_EVENT.read_text(encoding="utf-8"))
    context = json.loads(CONTEXT.read_text(encoding="utf-8"))
    result = timer.main_handler(event, context)
    json.dumps(result)  # SCF serialises the return value: it must be plain JSON
    return result


def sent(result: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((d["budget"], d["channel"]) for d in result["notifications"] if d["outcome"] == "sent")


def expected_requests(pairs: list[tuple[str, str]]) -> int:
    """One batch per chat channel per run; the generic webhook posts one event per notification."""
    kinds = channel_kinds()
    chats = {ch for _, ch in pairs if kinds[ch] != "webhook"}
    return len(chats) + sum(1 for _, ch in pairs if kinds[ch] == "webhook")


def assert_result_shape(result: dict[str, Any]) -> None:
    """DESIGN §3.4: the fields that stay."""
    assert {"run_id", "at", "evaluations", "notifications", "errors"} <= set(result)
    assert re.fullmatch(r"[0-9a-f]{32}", result["run_id"])
    assert datetime.fromisoformat(result["at"]).utcoffset() == timedelta(hours=8)
    for e in result["evaluations"]:
        assert set(e) >= EVALUATION_FIELDS, e
        assert e["status"] in STATUSES
        assert isinstance(e["group"], dict)
        start = datetime.fromisoformat(e["period"]["start"])
        end = datetime.fromisoformat(e["period"]["end"])
        assert start < end
    for n in result["notifications"]:
        assert {"id", "budget", "channel", "outcome"} <= set(n), n
        assert re.fullmatch(r"ntf_[0-9a-f]{32}", n["id"])
    assert isinstance(result["errors"], list)


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 60, *, package: str = "lib"
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not (k.startswith("BUDGET_") or k in CREDENTIAL_VARIABLES)}
    return subprocess.run(
        [sys.executable, "-m", package, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
