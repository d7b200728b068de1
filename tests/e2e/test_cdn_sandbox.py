"""A CDN budget end to end: sandbox (the cdn scenario, billing data 4 hours late) → the cdn source → rules →
webhook receiver. Three domains in both areas equal the truth worked out here from the sandbox's own usage
engine; eight runs at once on one state folder tell each crossing once, and the message says how far the
data goes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from lib.app.runtime import App
from lib.client import ApiClient, Credentials
from lib.config.models import Config
from sandbox.receivers import Receiver
from sandbox.scenario import SCENARIO_DIR
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

DOMAINS = ["img.shop.example.com", "dl.example.org", "video.example.net"]  # the last one is stopped
AREAS = ("mainland", "overseas")
DELAY = timedelta(hours=4)
RUNS = 8
# Each SCF instance runs with its own temporary keys of the execution role, and the API counts its
# 20 requests/s per SecretId: one key pair per concurrent run, as in the cloud.
KEYS = [(f"AKIDcdnrun{i:02d}", f"cdn-run-secret-{i:02d}") for i in range(RUNS)]


def scenario() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SCENARIO_DIR / "cdn.yaml").read_text(encoding="utf-8"))
    doc["data_delay"] = f"{int(DELAY.total_seconds())}s"
    doc["credentials"] = [{"secret_id": key, "secret_key": secret} for key, secret in KEYS]
    return doc


def config(env: dict[str, str]) -> Config:
    base = {"source": "cdn", "metric": "flux", "domains": DOMAINS, "area": "all", "channels": ["hook"]}
    return Config.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "language": "en",
            "channels": {"hook": {"type": "webhook", "url": env["WEBHOOK_URL"], "secret": env["WEBHOOK_SECRET"]}},
            "budgets": [
                {**base, "name": "cdn-total", "limit": "8TB", "thresholds": [50, 80]},
                {**base, "name": "cdn-per-domain", "group_by": ["domain"], "limit": "8TB", "thresholds": [50, 80]},
            ],
        }
    )


def truth(sb: Sandbox, domain: str, area: str) -> int:
    """Month-to-date bytes of one domain in one area, as the sandbox's engine counts them (late buckets unseen)."""
    sc = sb.scenario
    engine = sc.cdn_engine
    series = [s for s in engine.series("flux", sc.cdn_domains[domain]) if s.region == area]
    start = sb.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = sb.now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return sum(engine.summed("flux", series, int(start.timestamp()), int(end.timestamp()), sc.visible_until()))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Sandbox, Receiver, dict[str, str]]]:
    with Sandbox(scenario()) as sb, Receiver() as receiver:
        env = {
            "BUDGET_STATE": f"file://{tmp_path / 'state'}",
            "WEBHOOK_URL": receiver.url("webhook"),
            "WEBHOOK_SECRET": receiver.secret("webhook"),
        }
        yield sb, receiver, env


def run_at_once(sb: Sandbox, env: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    """``RUNS`` timer runs started together, each with its own app and client, on one state folder."""
    results: list[dict[str, Any]] = [{} for _ in range(RUNS)]
    failures: list[BaseException] = []
    start = threading.Barrier(RUNS)

    def one(index: int) -> None:
        client = ApiClient(Credentials(*KEYS[index]), endpoint=sb.url)
        app = App.from_env(env, config=config(env), client=client, clock=lambda: now)
        try:
            start.wait()
            results[index] = app.run_check(trigger="timer").to_dict()
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            failures.append(exc)
        finally:
            app.client.close()
            app.session.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert failures == []
    return results


def test_three_domains_in_both_areas_equal_the_truth_and_alert_once(
    rig: tuple[Sandbox, Receiver, dict[str, str]],
) -> None:
    sb, receiver, env = rig
    per_domain = {d: sum(truth(sb, d, a) for a in AREAS) for d in DOMAINS}
    assert per_domain["video.example.net"] == 0 and all(per_domain[d] > 0 for d in DOMAINS[:2])
    total = sum(per_domain.values())
    limit = 8 * 10**12
    assert total * 100 >= 80 * limit > per_domain["img.shop.example.com"] * 100 >= 50 * limit  # the story holds

    results = run_at_once(sb, env, sb.now)

    for result in results:
        assert result["errors"] == []
        rows = {(e["budget"], e["group"].get("domain", "")): e for e in result["evaluations"]}
        assert Decimal(str(rows[("cdn-total", "")]["value"])) == total
        for domain in DOMAINS:
            assert Decimal(str(rows[("cdn-per-domain", domain)]["value"])) == per_domain[domain]
        assert (rows[("cdn-total", "")]["status"], rows[("cdn-total", "")]["level"]) == ("firing", 80)
    posts = [r.json for r in receiver.received if r.kind == "webhook" and r.accepted]
    told = sorted((p["budget"], p["group"].get("domain", ""), p["level"]) for p in posts)
    assert told == [("cdn-per-domain", "img.shop.example.com", 50), ("cdn-total", "", 80)]  # once each, 8 runs
    # Billing data is 4 hours late at 10:00: hour buckets with data end at 06:00, and the message says so.
    assert all("Data up to: 06:00" in p["message"] for p in posts), [p["message"] for p in posts]

    # A later run that crosses nothing new tells nothing.
    receiver.clear()
    again = run_at_once(sb, env, sb.now)
    assert all(r["errors"] == [] for r in again)
    assert [r for r in receiver.received if r.kind == "webhook"] == []
