"""Billing end to end: sandbox (``sandbox/scenarios/cdn.yaml``: products in projects, regions and tags) → billing
source → rules → webhook receiver. A month cost budget grouped by tag, a day cost budget and a balance runway each
equal the scenario's truth, computed here from the sandbox's ledger, and each crossing is told once by 8 runs at
once sharing one state folder.

The runway needs the balances earlier runs recorded: runs every 3 hours from 18 November record them (with a
configuration that has no runway yet, so nothing fires early); the burn of 20 and 21 November includes the
hot-linked night (20x CDN traffic), which the median of the complete days leaves out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from lib.app.runtime import App
from lib.client import ApiClient, Credentials
from lib.config.models import Config
from sandbox.ledger import ledger_of
from sandbox.receivers import Receiver
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "sandbox" / "scenarios" / "cdn.yaml"
NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")
HISTORY_FROM = datetime.fromisoformat("2026-11-18T00:00:00+08:00")
RUNS = 8
RUNWAY_DAYS = 60
TAG_LIMIT, DAY_LIMIT = Decimal(3000), Decimal(20)


def budgets(runway: bool) -> list[dict[str, Any]]:
    balance: dict[str, Any] = {"name": "low-balance", "source": "billing", "metric": "balance", "below": 1}
    if not runway:  # recording balances only
        return [{**balance, "channels": ["hook"]}]
    return [
        {**balance, "runway": f"{RUNWAY_DAYS}d", "repeat": "24h", "channels": ["hook"]},
        {
            "name": "spend-by-env",
            "source": "billing",
            "metric": "cost",
            "group_by": ["tag:env"],
            "limit": str(TAG_LIMIT),
            "thresholds": [80, 100],
            "channels": ["hook"],
        },
        {
            "name": "cdn-today",
            "source": "billing",
            "metric": "cost",
            "period": "day",
            "filters": {"product": ["p_cdn"]},
            "limit": str(DAY_LIMIT),
            "channels": ["hook"],
        },
    ]


def config(env: dict[str, str], *, runway: bool) -> Config:
    channel = {"type": "webhook", "url": env["WEBHOOK_URL"], "secret": env["WEBHOOK_SECRET"]}
    return Config.model_validate(
        {"timezone": "Asia/Shanghai", "language": "en", "channels": {"hook": channel}, "budgets": budgets(runway)}
    )


@dataclass
class Rig:
    sandbox: Sandbox
    receiver: Receiver
    env: dict[str, str]
    now: datetime

    def app(self, *, runway: bool) -> App:
        client = ApiClient(Credentials(self.sandbox.secret_id, self.sandbox.secret_key), endpoint=self.sandbox.url)
        return App.from_env(self.env, config=config(self.env, runway=runway), client=client, clock=lambda: self.now)

    def at(self, moment: datetime) -> None:
        self.now = moment
        self.sandbox.set_now(moment)

    def told(self) -> list[dict[str, Any]]:
        return [r.json for r in self.receiver.received if r.kind == "webhook" and r.accepted]


def close(app: App) -> None:
    app.client.close()
    app.session.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    scenario = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    scenario["billing"]["as_of"] = "2026-11-15T00:00:00+08:00"  # fewer hours for the ledger to compute
    with Sandbox(scenario) as sb, Receiver() as receiver:
        env = {
            "BUDGET_STATE": f"file://{tmp_path / 'state'}",
            "WEBHOOK_URL": receiver.url("webhook"),
            "WEBHOOK_SECRET": receiver.secret("webhook"),
        }
        yield Rig(sb, receiver, env, sb.now)


# -- the truth, from the sandbox's ledger -----------------------------------------------------------------------


def balance_at(sb: Sandbox, moment: datetime) -> Decimal:
    return Decimal(ledger_of(sb.scenario).balance(moment.timestamp())["RealBalance"]) / 100


def month_by_env(sb: Sandbox) -> dict[str, Decimal]:
    ledger = ledger_of(sb.scenario)
    out: dict[str, Decimal] = {}
    for product, fen in zip(ledger.products, ledger.month(2026, 11, NOW.timestamp()), strict=True):
        env = product.tags.get("env", "")
        out[env] = out.get(env, Decimal(0)) + Decimal(fen) / 100
    return {k: v for k, v in out.items() if v}


def cdn_today(sb: Sandbox) -> Decimal:
    ledger = ledger_of(sb.scenario)
    fen = ledger.day(date(2026, 11, 22), NOW.timestamp())
    return sum((Decimal(f) / 100 for p, f in zip(ledger.products, fen, strict=True) if p.code == "p_cdn"), Decimal(0))


def runs_out(sb: Sandbox) -> datetime:
    """Today's balance over the median burn of the complete days recorded (18 to 21 November)."""
    days = [HISTORY_FROM + timedelta(days=i) for i in range(4)]
    burns = sorted(balance_at(sb, d) - balance_at(sb, d + timedelta(days=1)) for d in days)
    median = (burns[1] + burns[2]) / 2
    return NOW + timedelta(days=float(balance_at(sb, NOW) / median))


def at_once(rig: Rig) -> list[dict[str, Any]]:
    """RUNS runs of the timer at the same instant, each its own App (instance) over the one state folder."""
    apps = [rig.app(runway=True) for _ in range(RUNS)]
    barrier = threading.Barrier(RUNS)
    results: list[dict[str, Any]] = [{} for _ in apps]

    def run(i: int) -> None:
        barrier.wait()
        results[i] = apps[i].run_check(trigger="timer").to_dict()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RUNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for app in apps:
        close(app)
    return results


def test_cost_by_tag_daily_cost_and_runway_equal_the_truth_and_tell_once(rig: Rig) -> None:
    recorder = rig.app(runway=False)
    moment = HISTORY_FROM
    while moment < NOW:
        rig.at(moment)
        assert recorder.run_check(trigger="timer").errors == []
        moment += timedelta(hours=3)
    close(recorder)
    assert rig.told() == []

    rig.at(NOW)
    results = at_once(rig)
    for result in results:
        assert result["errors"] == [], result["errors"]
        rows = {(e["budget"], tuple(sorted(e["group"].items()))): e for e in result["evaluations"]}
        by_env = {dict(g)["tag:env"]: Decimal(str(e["value"])) for (b, g), e in rows.items() if b == "spend-by-env"}
        assert by_env == month_by_env(rig.sandbox)
        assert Decimal(str(rows[("cdn-today", ())]["value"])) == cdn_today(rig.sandbox)
        assert Decimal(str(rows[("low-balance", ())]["value"])) == balance_at(rig.sandbox, NOW)

    truth = month_by_env(rig.sandbox)
    firing_envs = {env for env, value in truth.items() if value >= TAG_LIMIT * Decimal("0.8")}
    assert firing_envs == {"prod"}  # the scenario's story: prod spends, staging does not
    assert cdn_today(rig.sandbox) >= DAY_LIMIT
    expected_day = runs_out(rig.sandbox)
    assert expected_day <= NOW + timedelta(days=RUNWAY_DAYS)

    told = rig.told()
    kinds = sorted((p["budget"], p["kind"], p["status"], tuple(sorted(p["group"].items()))) for p in told)
    level = 100 if truth["prod"] >= TAG_LIMIT else 80
    assert kinds == [
        ("cdn-today", "threshold", "firing", ()),
        ("low-balance", "runway", "firing", ()),
        ("spend-by-env", "threshold", "firing", (("tag:env", "prod"),)),
    ]
    assert len({p["id"] for p in told}) == len(told)  # each crossing once, by one of the 8 runs
    by_budget = {p["budget"]: p for p in told}
    assert by_budget["spend-by-env"]["level"] == level
    local = expected_day.astimezone(NOW.tzinfo)
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
    months += ["November", "December"]
    assert (
        f"balance expected to run out on {local.day} {months[local.month - 1]}" in by_budget["low-balance"]["message"]
    )

    # The same instant again: nothing new to tell.
    again = at_once(rig)
    assert all(r["errors"] == [] for r in again)
    assert len(rig.told()) == len(told)
