"""Spike alerts early in a period, end to end: sandbox (a scenario with spikes) → collectors (with the lookback
before the period) → rules → webhook receiver. A month budget tells the spike of the 1st on the 2nd and its
end on the 3rd; a day budget compares its first hour with yesterday's at 01:05 and resolves an hour later."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lib.app.runtime import App
from lib.client import ApiClient, Credentials
from lib.config.models import Config
from lib.state import open_store
from lib.state.repo import StateRepository
from sandbox.receivers import Receiver
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

CST = timezone(timedelta(hours=8))
ZONE = "zone-spk1"
DAILY = 2_880_000  # 10,000 B per 5-minute slot, flat, no noise
SLOT = DAILY // 288

SCENARIO: dict[str, Any] = {
    "name": "spike-history",
    "timezone": "Asia/Shanghai",
    "epoch": "2026-10-01T00:00:00+08:00",
    "clock": {"now": "2026-11-02T10:00:00+08:00"},
    "plans": [{"id": "edgeone-spk", "capacity": {"AccTrafficCapacity": "10 TB"}}],
    "zones": [
        {
            "id": ZONE,
            "name": "spike.example.com",
            "plan": "edgeone-spk",
            "hosts": {"www.spike.example.com": 1},
            "regions": {"CH": 1},
            "usage": {"acc_flux": {"daily": DAILY}},
        }
    ],
    "spikes": [
        # The whole of 1 November at 5x: the month's first day, judged once it is complete.
        {
            "zone": ZONE,
            "metrics": ["acc_flux"],
            "start": "2026-11-01T00:00:00+08:00",
            "end": "2026-11-02T00:00:00+08:00",
            "factor": 5,
        },
        # The first hour of 3 November at 4x: a day budget's first bucket, against 00:00 on the 2nd.
        {
            "zone": ZONE,
            "metrics": ["acc_flux"],
            "start": "2026-11-03T00:00:00+08:00",
            "end": "2026-11-03T01:00:00+08:00",
            "factor": 4,
        },
    ],
}


def config(env: dict[str, str]) -> Config:
    return Config.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "language": "en",
            "channels": {"hook": {"type": "webhook", "url": env["WEBHOOK_URL"], "secret": env["WEBHOOK_SECRET"]}},
            "budgets": [
                {
                    "name": "month-spike",
                    "source": "teo",
                    "metric": "acc_flux",
                    "zones": [ZONE],
                    "spike": {"baseline": "median", "window": 7, "factor": 3, "min_value": "1MB"},
                    "channels": ["hook"],
                },
                {
                    "name": "day-spike",
                    "source": "teo",
                    "metric": "acc_flux",
                    "zones": [ZONE],
                    "period": "day",
                    "spike": {"baseline": "yesterday", "factor": 3},
                    "channels": ["hook"],
                },
            ],
        }
    )


@dataclass
class Rig:
    sandbox: Sandbox
    receiver: Receiver
    app: App
    repo: StateRepository
    now: datetime

    def run(self, when: str) -> dict[str, Any]:
        self.now = datetime.fromisoformat(when)
        self.sandbox.set_now(self.now)
        self.receiver.clear()
        return self.app.run_check(trigger="timer").to_dict()

    def told(self) -> list[tuple[str, str, str]]:
        posts = [r.json for r in self.receiver.received if r.kind == "webhook" and r.accepted]
        return sorted((p["budget"], p["kind"], p["status"]) for p in posts)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with Sandbox(SCENARIO) as sb, Receiver() as receiver:
        env = {
            "BUDGET_STATE": f"file://{tmp_path / 'state'}",
            "WEBHOOK_URL": receiver.url("webhook"),
            "WEBHOOK_SECRET": receiver.secret("webhook"),
        }
        client = ApiClient(Credentials(sb.secret_id, sb.secret_key), endpoint=sb.url)
        holder: list[Rig] = []
        app = App.from_env(env, config=config(env), client=client, clock=lambda: holder[0].now)
        try:
            holder.append(Rig(sb, receiver, app, StateRepository(open_store(env["BUDGET_STATE"], environ=env)), sb.now))
            yield holder[0]
        finally:
            app.client.close()
            app.session.close()


def rows(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["budget"]: e for e in result["evaluations"]}


def test_spike_fires_early_in_the_period_and_resolves_later(rig: Rig) -> None:
    # 2 November 10:00: the month is a day and 10 hours old; 1 November (5x) is judged against 24-31 October.
    first = rig.run("2026-11-02T10:00:00+08:00")
    assert first["errors"] == []
    assert rig.told() == [("month-spike", "spike", "firing")]
    (post,) = [r.json for r in rig.receiver.received]
    assert post["value"] == 5 * DAILY  # the judged bucket, 1 November
    month = rows(first)["month-spike"]
    assert (month["status"], month["kind"]) == ("firing", "spike")
    assert month["value"] == 5 * DAILY + 10 * 12 * SLOT  # the value is still the month so far
    assert month["period"]["start"] == "2026-11-01T00:00:00+08:00"
    # The /usage chart keeps the period's own points: the lookback into October is not saved.
    saved = rig.repo.series.load("month-spike", "")
    assert [p.time.astimezone(CST).day for p in saved] == [1, 2]
    assert sum((p.value for p in saved), Decimal(0)) == month["value"]

    # 3 November 01:05: 2 November was normal (month: resolved); the day budget's first hour was 4x 00:00
    # on the 2nd, which the day budget only knows from its lookback.
    second = rig.run("2026-11-03T01:05:00+08:00")
    assert second["errors"] == []
    assert rig.told() == [("day-spike", "spike", "firing"), ("month-spike", "spike", "resolved")]
    day = rows(second)["day-spike"]
    assert (day["status"], day["kind"], day["period"]["start"]) == ("firing", "spike", "2026-11-03T00:00:00+08:00")
    assert day["value"] == 4 * 12 * SLOT + 1 * SLOT  # 00:00-01:00 at 4x, then one slot of 01:00-01:05

    # 02:05: the 01:00 hour is back to 01:00 yesterday's level.
    third = rig.run("2026-11-03T02:05:00+08:00")
    assert rig.told() == [("day-spike", "spike", "resolved")]
    assert rows(third)["day-spike"]["status"] == "resolved"
    assert rows(third)["month-spike"]["status"] == "ok"
    # Same instant again: nothing new is told.
    assert rig.run("2026-11-03T02:05:00+08:00")["notifications"] == []
    assert rig.told() == []
