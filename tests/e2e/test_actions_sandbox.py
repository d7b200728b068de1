"""Budget actions end to end: the action machine in its own process against the sandbox over HTTP on 127.0.0.1.

Pausing a zone shows in ``DescribeZones`` and its usage stops growing while the data clock moves on;
undo opens it again and usage grows again. A run killed with SIGKILL in the middle of
``ModifyZoneStatus`` leaves ``executing`` behind; the next run (after the lease) reads the zone's true
status and ends the record in a true state, without pausing twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from lib.client import ApiClient, Credentials
from sandbox.live_scenario import PER_BUCKET, ZONE, live_scenario, month_start, wait_past_month_end
from sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e]
STEP = timedelta(minutes=5)


def aligned_now() -> datetime:
    """Now, floored to a 5-minute bucket: a pause at that instant leaves no partial bucket behind."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % 5)


@pytest.fixture
def cloud(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    wait_past_month_end()
    now = aligned_now()
    if (month_start(now) + timedelta(days=32)).replace(day=1) - now < timedelta(hours=3):
        pytest.skip("the test moves the data clock 2 hours on within one month; too close to the month's end")
    scenario = live_scenario(now, faults=getattr(request, "param", None))
    with Sandbox(scenario) as sandbox:
        yield sandbox


def worker(sandbox: Sandbox, state: Path, command: str, *extra: str, now: datetime) -> subprocess.Popen[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(state.parent),
        "TENCENTCLOUD_SECRET_ID": sandbox.secret_id,
        "TENCENTCLOUD_SECRET_KEY": sandbox.secret_key,
    }
    args = ["--state", str(state), "--endpoint", sandbox.url, "--zone", ZONE, "--now", now.isoformat(), *extra]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.action_worker", command, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(sandbox: Sandbox, state: Path, command: str, *extra: str, now: datetime) -> dict[str, Any]:
    proc = worker(sandbox, state, command, *extra, now=now)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    return dict(json.loads(out))


def api(sandbox: Sandbox) -> ApiClient:
    return ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)


def paused(sandbox: Sandbox) -> bool:
    with api(sandbox) as client:
        answer = client.call("teo", "2022-09-01", "DescribeZones", {"Filters": [{"Name": "zone-id", "Values": [ZONE]}]})
    return bool(answer["Zones"][0]["Paused"])


def usage(sandbox: Sandbox, start: datetime, end: datetime) -> int:
    """The zone's acc_flux from ``start`` to ``end`` (what the sandbox reports at its data clock)."""
    params = {
        "StartTime": start.isoformat(),
        "EndTime": (end - timedelta(seconds=1)).isoformat(),
        "ZoneIds": [ZONE],
        "MetricName": "acc_flux",
        "Interval": "5min",
    }
    with api(sandbox) as client:
        answer = client.call("teo", "2022-09-01", "DescribeBillingData", params)
    return sum(int(row["Value"]) for row in answer["Data"])


def test_pausing_a_zone_stops_its_usage_and_undo_restores_it(cloud: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state"
    t0 = cloud.now
    since = t0 - timedelta(hours=1)
    assert usage(cloud, since, t0 + timedelta(hours=3)) == 12 * PER_BUCKET  # the hour before t0, flat
    assert not paused(cloud)

    out = run(cloud, state, "record", "--automatic", now=t0)
    record = out["record"]
    assert out["acted"] and record["state"] == "done"
    assert [t["state"] for t in record["trail"]] == ["pending-approval", "executing", "done"]
    assert record["trail"][2]["request_ids"] and record["trail"][1]["detail"]["before"][0]["state"] == "active"
    assert paused(cloud)

    cloud.set_now(t0 + timedelta(hours=1))  # an hour passes with the site closed
    assert usage(cloud, since, t0 + timedelta(hours=3)) == 12 * PER_BUCKET  # nothing accrued after t0
    again = run(cloud, state, "record", "--automatic", now=t0 + timedelta(hours=1))
    assert not again["acted"] and again["reason"] == "already recorded"  # once per budget, group, period

    undone = run(cloud, state, "undo", now=t0 + timedelta(hours=1))
    assert undone["record"]["state"] == "undone" and not paused(cloud)
    cloud.set_now(t0 + timedelta(hours=2))
    assert usage(cloud, since, t0 + timedelta(hours=3)) == 24 * PER_BUCKET  # it accrues again from the undo


@pytest.mark.parametrize(
    "cloud", [[{"product": "teo", "action": "ModifyZoneStatus", "latency": 3, "count": 1}]], indirect=True
)
def test_a_run_killed_mid_execution_ends_true_on_the_next_run(cloud: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state"
    t0 = cloud.now
    proc = worker(cloud, state, "record", "--automatic", now=t0)
    executing = list((state / "actions").glob("*/0002")) if (state / "actions").exists() else []
    deadline = time.monotonic() + 60
    while not executing and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        executing = list((state / "actions").glob("*/0002")) if (state / "actions").exists() else []
    assert executing, "the worker never recorded 'executing'"
    time.sleep(1)  # its ModifyZoneStatus is now held by the sandbox's injected latency
    proc.kill()  # SIGKILL: no outcome is recorded
    proc.communicate(timeout=30)
    assert not (executing[0].parent / "0003").exists()
    settle = time.monotonic() + 15
    while not paused(cloud) and time.monotonic() < settle:  # the sandbox finishes the call the worker sent
        time.sleep(0.1)
    was_paused = paused(cloud)

    early = run(cloud, state, "resume", now=t0 + timedelta(minutes=1))
    assert not early["acted"] and "lease" in early["reason"]  # the killed run might still be working
    out = run(cloud, state, "resume", "--by", "run:next", now=t0 + timedelta(minutes=20))
    record = out["record"]
    assert out["acted"] and record["state"] == "done" and paused(cloud)
    assert [t["state"] for t in record["trail"]] == ["pending-approval", "executing", "executing", "done"]
    assert record["trail"][2]["detail"]["resumed"] is True and record["trail"][3]["by"] == "run:next"
    if was_paused:
        assert record["trail"][3]["request_ids"] == []  # it found the zone paused: it did not pause it again
    assert record["trail"][3]["detail"]["results"][0]["changed"] is True

    undone = run(cloud, state, "undo", now=t0 + timedelta(minutes=30))
    assert undone["record"]["state"] == "undone" and not paused(cloud)
