"""Shared pieces of the live end-to-end tests: the wall-clock scenario's expected numbers, and checks.

The scenario itself is ``sandbox.live_scenario`` (the demo runs it too); its names are re-exported here
for the tests that import them from this module. The fixtures built from them (``live``, ``scf``) are in
``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers import timer
from lib.app import instance
from lib.notify.images import chart_id
from sandbox.live_scenario import (
    CASH,
    HOURLY_YUAN,
    PER_BUCKET,
    TZ,
    ZONE,
    live_scenario,
    month_start,
    wait_past_month_end,
)
from sandbox.receivers import Receiver
from sandbox.server import Sandbox

__all__ = ["TZ", "ZONE", "live_scenario", "month_start", "wait_past_month_end"]

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "budgets.yaml"
TIMER_EVENT = ROOT / "events" / "timer.json"
CONTEXT = ROOT / "events" / "context.json"
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


def _is_chart(d: dict[str, Any], result: dict[str, Any]) -> bool:
    """A chart after an alert message (lib.notify.images): its id comes from a reported message's id."""
    return d["id"] in {chart_id(m["id"], m["budget"]) for m in result["notifications"]}


def sent(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(budget, channel) of each message sent; the charts that follow messages are in ``charts_sent``."""
    return sorted(
        (d["budget"], d["channel"])
        for d in result["notifications"]
        if d["outcome"] == "sent" and not _is_chart(d, result)
    )


def charts_sent(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(budget, channel) of each chart image sent after an alert message (WeCom)."""
    return sorted(
        (d["budget"], d["channel"]) for d in result["notifications"] if d["outcome"] == "sent" and _is_chart(d, result)
    )


def expected_requests(pairs: list[tuple[str, str]], charts: int = 0) -> int:
    """One batch per chat channel per run, plus one image per chart; the generic webhook posts one event per
    notification."""
    kinds = channel_kinds()
    chats = {ch for _, ch in pairs if kinds[ch] != "webhook"}
    return len(chats) + sum(1 for _, ch in pairs if kinds[ch] == "webhook") + charts


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


def serve_process(env: dict[str, str]) -> subprocess.Popen[str]:
    """``python -m lib serve`` on a free local port with exactly ``env``; its first line says where."""
    return subprocess.Popen(
        [sys.executable, "-m", "lib", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
