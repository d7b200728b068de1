"""Budget actions under faults, the machine in its own process against the sandbox: a run killed (SIGKILL) before
its call took effect, the API failing, throttling, a permission refused. In every case the record ends in a
true state: it matches what ``DescribeZones`` says, and its audit trail names the requests and the reason."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.live_scenario import live_scenario, month_start, wait_past_month_end
from sandbox.server import Sandbox
from tests.e2e.test_actions_sandbox import aligned_now, paused, run, worker

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def cloud(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    wait_past_month_end()
    now = aligned_now()
    if (month_start(now) + timedelta(days=32)).replace(day=1) - now < timedelta(hours=1):
        pytest.skip("too close to the month's end")
    with Sandbox(live_scenario(now, faults=request.param)) as sandbox:
        yield sandbox


def _failure(record: dict[str, Any]) -> dict[str, Any]:
    return dict(record["trail"][-1]["detail"]["results"][0]["failure"])


@pytest.mark.parametrize(
    "cloud",
    [[{"product": "teo", "action": "ModifyZoneStatus", "latency": 3, "count": 1, "code": "InternalError"}]],
    indirect=True,
)
def test_a_run_killed_before_its_call_took_effect_is_finished_by_the_next_one(cloud: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state"
    t0 = cloud.now
    proc = worker(cloud, state, "record", "--automatic", now=t0)
    deadline = time.monotonic() + 60
    while not list(state.glob("actions/*/0002")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(state.glob("actions/*/0002")), "the worker never recorded 'executing'"
    time.sleep(1)  # its ModifyZoneStatus waits in the sandbox, which will refuse it: the zone is never paused
    proc.kill()
    proc.communicate(timeout=30)
    time.sleep(3)
    assert not paused(cloud)

    out = run(cloud, state, "resume", "--by", "run:next", now=t0 + timedelta(minutes=20))
    record = out["record"]
    assert record["state"] == "done" and paused(cloud)
    assert [t["state"] for t in record["trail"]] == ["pending-approval", "executing", "executing", "done"]
    last = record["trail"][-1]
    assert last["request_ids"] and last["detail"]["results"][0]["changed"] is True  # this run paused it

    undone = run(cloud, state, "undo", now=t0 + timedelta(minutes=30))
    assert undone["record"]["state"] == "undone" and not paused(cloud)


@pytest.mark.parametrize(
    ("cloud", "code"),
    [
        ([{"product": "teo", "action": "ModifyZoneStatus", "code": "UnauthorizedOperation"}], "UnauthorizedOperation"),
        ([{"product": "teo", "action": "ModifyZoneStatus", "code": "InternalError"}], "InternalError"),
        ([{"product": "teo", "action": "ModifyZoneStatus", "code": "RequestLimitExceeded"}], "RequestLimitExceeded"),
    ],
    indirect=["cloud"],
    ids=["permission", "api-failing", "throttled"],
)
def test_a_refused_or_failing_call_ends_failed_with_the_reason_and_the_zone_as_it_was(
    cloud: Sandbox, tmp_path: Path, code: str
) -> None:
    state = tmp_path / "state"
    out = run(cloud, state, "record", "--automatic", now=cloud.now)
    record = out["record"]
    assert record["state"] == "failed" and not paused(cloud)
    assert [t["state"] for t in record["trail"]] == ["pending-approval", "executing", "failed"]
    failure = _failure(record)
    assert failure["code"] == code and failure["message"]
    assert record["trail"][-1]["detail"]["results"][0]["changed"] is False
    # Nothing changed, so there is nothing to undo; a second run does not try again in the same period.
    again = run(cloud, state, "record", "--automatic", now=cloud.now + timedelta(minutes=5))
    assert not again["acted"] and again["record"]["state"] == "failed"


@pytest.mark.parametrize(
    "cloud", [[{"product": "teo", "action": "ModifyZoneStatus", "code": "InternalError", "count": 1}]], indirect=True
)
def test_one_failing_answer_is_retried_by_the_client_and_the_action_is_done(cloud: Sandbox, tmp_path: Path) -> None:
    out = run(cloud, tmp_path / "state", "record", "--automatic", now=cloud.now)
    assert out["record"]["state"] == "done" and paused(cloud)
    [(calls, fired)] = cloud.app.scenario.fault_counts()
    assert (calls, fired) == (2, 1)
