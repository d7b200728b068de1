"""Issue 18 end to end, in real processes: an organization of 60 members, 3 budgets each, fanned out over SCF.

``python -m lib deploy`` puts the product into the sandbox's SCF (the timer's ``BUDGET_FANOUT_FUNCTION``
is its own name); a tick runs the timer handler in a process of its own, which becomes a coordinator:
60 members in shards of ``BUDGET_SHARD_SIZE`` = 8, one asynchronous ``Invoke`` each, every worker in a
process of its own. Every member's values equal the truth worked out in ``org_support`` from the
scenario's definition; every alert reaches the webhook once across the shards, with 8 coordinators of
the same tick at once, a worker killed mid-run (SCF's retry finishes it), and an ``Invoke`` that fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from lib.client import ApiClient, Credentials
from lib.client.retry import RetryPolicy
from lib.deploy.package import build
from sandbox.receivers import Receiver
from sandbox.server import Sandbox
from tests.e2e import org_support as org

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]
STAGE = "orgs"
TIMER = f"budget-alerts-{STAGE}-timer"
API = f"budget-alerts-{STAGE}-api"
MEMBERS = 60
SHARD = 8
SHARDS = -(-MEMBERS // SHARD)  # 8
TOKEN = "orgs-token-0123456789abcdef"


@dataclass
class Cloud:
    sandbox: Sandbox
    receiver: Receiver
    now: datetime
    api_url: str

    def client(self) -> ApiClient:
        # A coordinator answers after its own run: wait as long as the function may run, and never retry
        # a tick (a retried RequestResponse would be a second coordinator of the tick).
        creds = Credentials(self.sandbox.secret_id, self.sandbox.secret_key)
        return ApiClient(
            creds, endpoint=self.sandbox.url, timeout=(5.0, 180.0), retry=RetryPolicy(attempts=1, deadline=240.0)
        )

    def tick(self, at: datetime) -> dict[str, Any]:
        """One timer tick as SCF delivers it (RequestResponse, so the coordinator's result comes back)."""
        event = {
            "Type": "Timer",
            "TriggerName": "budget-tick",
            "Time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Message": "",
        }
        with self.client() as client:
            answer = client.call(
                "scf", "2018-04-16", "Invoke",
                {"FunctionName": TIMER, "InvocationType": "RequestResponse", "ClientContext": json.dumps(event)},
            )  # fmt: skip
        result = answer["Result"]
        assert result["InvokeResult"] == 0, result["ErrMsg"]
        doc: dict[str, Any] = json.loads(result["RetMsg"])
        return doc

    def workers(self) -> list[dict[str, Any]]:
        """The result documents of the finished shard workers (after waiting for every queued one)."""
        scf = self.sandbox.app.scf
        scf.wait_async(timeout=300)
        return [r.outcome.result for r in scf.async_records if r.outcome.ok]

    def alerts(self) -> Counter[tuple[str, str, int]]:
        counted: Counter[tuple[str, str, int]] = Counter()
        for item in self.receiver.received:
            doc = item.json
            if item.kind == "webhook" and isinstance(doc, dict) and doc.get("type") == "budget.alert":
                counted[(doc["budget"], doc["group"].get("account", ""), int(doc["level"]))] += 1
        return counted

    def get(self, path: str, **params: str) -> dict[str, Any]:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        answer = requests.get(f"{self.api_url}{path}", params=params, headers=auth, timeout=60)
        assert answer.status_code == 200, answer.text
        doc: dict[str, Any] = answer.json()
        return doc

    def status(self) -> dict[str, Any]:
        return self.get("/status")


def _now() -> datetime:
    now = datetime.now(org.CST).replace(second=0, microsecond=0)
    if org.slots(now) < 24:  # the first two hours of a month: limits would be near zero
        pytest.skip("too close to the start of a month for this scenario's limits")
    return now


def _deploy_env(
    tmp_path: Path, config_path: Path, package: Path, sandbox: Sandbox, receiver: Receiver
) -> dict[str, str]:
    """What ``deploy`` runs with: the organization's configuration and package, the sandbox, the webhook."""
    return {
        "BUDGET_CONFIG": str(config_path),
        "BUDGET_DEPLOY_PACKAGE": str(package),
        "BUDGET_STATE": f"file://{tmp_path / 'state'}",
        "BUDGET_API_ENDPOINT": sandbox.url,
        "BUDGET_API_TOKEN": TOKEN,
        "BUDGET_SHARD_SIZE": str(SHARD),
        "WEBHOOK_URL": receiver.url("webhook"),
        "WEBHOOK_SECRET": receiver.secret("webhook"),
        "TENCENTCLOUD_SECRET_ID": sandbox.secret_id,
        "TENCENTCLOUD_SECRET_KEY": sandbox.secret_key,
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }


def _ticks_at_once(cloud: Cloud, tick: datetime, count: int = 8) -> tuple[list[dict[str, Any]], list[BaseException]]:
    """``count`` coordinators of the same tick at once (SCF may deliver a tick more than once): their results,
    and what any of them raised (kept, not lost in its thread)."""
    results: list[dict[str, Any]] = []
    failures: list[BaseException] = []

    def tick_once() -> None:
        try:
            results.append(cloud.tick(tick))
        except BaseException as exc:  # reported by the caller, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=tick_once) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, failures


def _deploy(env: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "lib", "-q", "deploy", "--role", "BudgetAlertsScfRole", "--stage", STAGE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


@pytest.fixture
def cloud(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cloud]:
    now = _now()
    options: dict[str, Any] = getattr(request, "param", {})  # scenario options, by indirect parametrize
    config_path = tmp_path / "budgets.yaml"
    config_path.write_text(yaml.safe_dump(org.config(now)), encoding="utf-8")
    package = build(tmp_path / "package", wheels=False)  # the sandbox runs it with this machine's Python
    with Sandbox(org.scenario(MEMBERS, now, **options)) as sandbox, Receiver() as receiver:
        env = _deploy_env(tmp_path, config_path, package, sandbox, receiver)
        lines = _deploy(env)
        (url,) = [line.split(" ", 1)[1] for line in lines if line.startswith("url: ")]
        timer = sandbox.app.scf.function(TIMER)
        assert timer is not None
        assert {"Key": "BUDGET_FANOUT_FUNCTION", "Value": TIMER} in timer.variables  # deploy names the timer itself
        yield Cloud(sandbox, receiver, now, url.rstrip("/"))


def _values(workers: list[dict[str, Any]]) -> dict[tuple[str, str], Decimal]:
    values: dict[tuple[str, str], Decimal] = {}
    for doc in workers:
        for e in doc["evaluations"]:
            key = (e["budget"], e["group"]["account"])
            assert key not in values, f"{key} evaluated by two workers"
            values[key] = Decimal(str(e["value"]))
    return values


def test_sixty_members_fan_out_and_every_value_and_alert_is_exact(cloud: Cloud) -> None:
    tick = cloud.now.astimezone(timezone.utc)
    # Eight coordinators of the same tick at once (SCF may deliver a tick more than once).
    results, failures = _ticks_at_once(cloud, tick)
    assert failures == [] and len(results) == 8
    started = Counter(s["index"] for r in results for s in r["shards"] if s["state"] == "started")
    assert started == Counter(range(SHARDS)), "each shard is started by exactly one coordinator"
    for r in results:
        assert [s["accounts"] for s in r["shards"]] == [SHARD] * (SHARDS - 1) + [MEMBERS - SHARD * (SHARDS - 1)]
        assert {e["budget"] for e in r["evaluations"]} == {"own-traffic"}  # the coordinator's own account
        assert all("account" not in e["group"] for e in r["evaluations"])

    workers = cloud.workers()
    assert len(workers) == SHARDS
    values = _values(workers)
    expected = {
        (budget, org.uin(k)): value for k in range(1, MEMBERS + 1) for budget, value in org.truth(k, cloud.now).items()
    }
    assert values == expected
    counted = cloud.alerts()
    assert set(counted) == org.expected_alerts(MEMBERS)
    assert set(counted.values()) == {1}, [k for k, n in counted.items() if n > 1]

    shards = cloud.status()["shards"]
    assert [(s["index"], s["state"]) for s in shards] == [(i, "done") for i in range(SHARDS)]
    accounts = {a["uin"]: a for a in cloud.status()["accounts"]}
    assert len(accounts) == MEMBERS and accounts[org.uin(3)]["evaluations"] == 3
    assert accounts[org.uin(3)]["totals"]["spend"] == float(org.truth(3, cloud.now)["spend"])
    usage = cloud.get("/usage", budget="traffic", account=org.uin(7))
    assert usage["groups"] == [f"account={org.uin(7)}"]  # each shard wrote its members' series, none lost
    assert Decimal(str(usage["accounts"][org.uin(7)])) == org.truth(7, cloud.now)["traffic"]
    everyone = cloud.get("/usage", budget="traffic")
    assert len(everyone["accounts"]) == MEMBERS


SLOW_ASSUME = {"faults": [{"product": "sts", "action": "AssumeRole", "latency": 3, "count": 2 * MEMBERS}]}
# The client tries a failed call 4 times in all: the fault outlasts every attempt of one shard's Invoke.
FAILING_INVOKE = {"faults": [{"product": "scf", "action": "Invoke", "code": "InternalError", "skip": 3, "count": 4}]}


@pytest.mark.parametrize("cloud", [SLOW_ASSUME], indirect=True)
def test_a_worker_killed_mid_run_is_retried_and_nothing_is_told_twice(cloud: Cloud) -> None:
    result = cloud.tick(cloud.now.astimezone(timezone.utc))
    assert sum(s["state"] == "started" for s in result["shards"]) == SHARDS
    running = cloud.sandbox.app.scf.running_async
    deadline = time.monotonic() + 60
    while len(running) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the workers are inside the slow AssumeRoles: nothing claimed or sent yet
    assert running.kill() >= 1
    workers = cloud.workers()
    retried = [r for r in cloud.sandbox.app.scf.async_records if r.attempts > 1]
    assert retried, "SCF ran the killed workers again"
    assert len(workers) == SHARDS
    assert len(_values(workers)) == 3 * MEMBERS
    counted = cloud.alerts()
    assert set(counted) == org.expected_alerts(MEMBERS)
    assert set(counted.values()) == {1}


@pytest.mark.parametrize("cloud", [FAILING_INVOKE], indirect=True)
def test_an_invoke_that_fails_shows_in_status_and_the_next_tick_starts_that_shard(cloud: Cloud) -> None:
    # The test's own tick is Invoke number 1 (RequestResponse); shard invokes are 2.. so shard 2 fails.
    first = cloud.tick(cloud.now.astimezone(timezone.utc))
    states = {s["index"]: s["state"] for s in first["shards"]}
    assert states[2] == "failed" and sum(v == "started" for v in states.values()) == SHARDS - 1
    assert any(e["source"] == "fanout" and "shard 2" in e["message"] for e in first["errors"])
    cloud.workers()
    shards = {s["index"]: s for s in cloud.status()["shards"]}
    assert shards[2]["state"] == "failed" and "not started" in shards[2]["error"]
    told = cloud.alerts()
    missing = org.expected_alerts(MEMBERS) - set(told)
    assert missing and {a for _, a, _ in missing} <= {org.uin(k) for k in range(17, 25)}  # shard 2's members

    second = cloud.tick(cloud.now.astimezone(timezone.utc) + timedelta(minutes=5))
    assert all(s["state"] == "started" for s in second["shards"])
    cloud.workers()
    counted = cloud.alerts()
    assert set(counted) == org.expected_alerts(MEMBERS)
    assert set(counted.values()) == {1}
