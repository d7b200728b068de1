"""``python -m lib deploy`` end to end: real processes against ``python -m sandbox cloud`` and its SCF.

From a clean sandbox: deploy creates both functions, the timer and the Function URL; the URL answers
``/health`` and an authenticated ``/status`` from the deployed code; firing the timer sends the live
scenario's alerts to the robots; a second deploy changes nothing; a changed variable updates each
function's configuration once and nothing else; undeploy leaves nothing behind.

The deployed code runs in the sandbox's interpreter (CPython of this machine), so the package is built
without the SCF Python 3.10 wheels and handed to deploy through ``BUDGET_DEPLOY_PACKAGE``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
import yaml

from lib.client import ApiClient, Credentials
from lib.deploy.package import build
from lib.errors import ApiError
from sandbox.demo import DEMO_TOKEN, demo_environment
from sandbox.receivers import Receiver
from tests.deploy_fake import MUTATING
from tests.e2e.live_support import charts_sent, expected_requests, live_scenario, sent, wait_past_month_end

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]
STAGE = "e2e"
TIMER = f"budget-alerts-{STAGE}-timer"
API = f"budget-alerts-{STAGE}-api"
SECRET_ID, SECRET_KEY = "AKIDSANDBOX", "sandbox-secret-key"


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    wait_past_month_end()
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(live_scenario(datetime.now(timezone.utc))), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "cloud", "--port", "0", "--scenario", str(scenario)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("sandbox listening on "), first
        yield first.split()[-1].rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def _deploy(env: dict[str, str], *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "lib", "-q", *args, "--stage", STAGE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def _calls(lines: list[str]) -> list[str]:
    """The mutating calls deploy reports making, one line each (``Action FunctionName [Trigger]``)."""
    return [line for line in lines if line.split(" ", 1)[0] in MUTATING]


def test_deploy_runs_the_product_in_the_sandbox_and_undeploy_removes_it(sandbox_url: str, tmp_path: Path) -> None:
    package = build(tmp_path / "package", wheels=False)  # the sandbox runs it with this machine's Python
    with Receiver() as receiver:
        env = {
            **demo_environment(sandbox_url, receiver, str(tmp_path / "state")),
            "BUDGET_CONFIG": str(ROOT / "budgets.yaml"),
            "BUDGET_COS_ENDPOINT": sandbox_url,
            "BUDGET_DEPLOY_PACKAGE": str(package),
            "TENCENTCLOUD_SECRET_ID": SECRET_ID,
            "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
            "HOME": str(tmp_path),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        planned = _deploy(env, "deploy", "--dry-run", "--role", "BudgetAlertsScfRole")
        assert _calls(planned) == [] and "dry run: 5 call(s) would be made; nothing was changed" in planned
        client = ApiClient(Credentials(SECRET_ID, SECRET_KEY), endpoint=sandbox_url)
        with pytest.raises(ApiError, match=r"ResourceNotFound\.Function"):
            client.call("scf", "2018-04-16", "GetFunction", {"FunctionName": TIMER})

        first = _deploy(env, "deploy", "--role", "BudgetAlertsScfRole")
        assert [c.split()[:2] for c in _calls(first)] == [
            ["CreateFunction", TIMER],
            ["CreateFunction", API],
            ["UpdateFunctionEventInvokeConfig", TIMER],
            ["CreateTrigger", TIMER],
            ["CreateTrigger", API],
        ]
        (url,) = [line.split(" ", 1)[1] for line in first if line.startswith("url: ")]
        assert url.startswith("http://127.0.0.1:")
        assert "hook" not in "\n".join(first)  # the robots' addresses (secrets) are never printed

        assert requests.get(f"{url.rstrip('/')}/health", timeout=30).status_code == 200
        refused = requests.get(f"{url.rstrip('/')}/status", timeout=30)
        assert refused.status_code == 401
        status = requests.get(
            f"{url.rstrip('/')}/status", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=60
        )
        assert status.status_code == 200, status.text
        assert "firing" in status.json()

        fired = requests.post(f"{sandbox_url}/_sandbox/scf/fire", params={"function": TIMER}, timeout=120)
        assert fired.status_code == 200, fired.text
        result = fired.json()
        assert result["errors"] == []
        assert sent(result), "the live scenario's crossings are told"
        assert len(receiver.received) == expected_requests(sent(result), len(charts_sent(result)))

        before = {
            name: client.call("scf", "2018-04-16", "GetFunction", {"FunctionName": name}) for name in (TIMER, API)
        }
        second = _deploy(env, "deploy", "--role", "BudgetAlertsScfRole")
        assert _calls(second) == []
        assert all(line.split()[0] == "unchanged" for line in second if line.startswith("  "))
        after = {name: client.call("scf", "2018-04-16", "GetFunction", {"FunctionName": name}) for name in (TIMER, API)}
        assert [after[n]["ModTime"] for n in (TIMER, API)] == [before[n]["ModTime"] for n in (TIMER, API)]

        rotated = {**env, "BUDGET_API_TOKEN": "rotated-token-0123456789"}
        third = _deploy(rotated, "deploy", "--role", "BudgetAlertsScfRole")
        assert sorted(_calls(third)) == [f"UpdateFunctionConfiguration {API}", f"UpdateFunctionConfiguration {TIMER}"]
        assert "rotated-token-0123456789" not in "\n".join(third)
        answer = requests.get(
            f"{url.rstrip('/')}/status", headers={"Authorization": "Bearer rotated-token-0123456789"}, timeout=60
        )
        assert answer.status_code == 200, answer.text

        removed = _deploy(rotated, "undeploy")
        assert [c.split()[0] for c in _calls(removed)] == [
            "DeleteTrigger",
            "DeleteFunction",
            "DeleteTrigger",
            "DeleteFunction",
        ]
        for name in (TIMER, API):
            with pytest.raises(ApiError) as gone:
                client.call("scf", "2018-04-16", "GetFunction", {"FunctionName": name})
            assert gone.value.code == "ResourceNotFound.Function"
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url.rstrip('/')}/health", timeout=5)
        client.close()
