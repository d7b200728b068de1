"""The /actions routes through the API handler, over an in-memory store and a fake cloud: list, show, approve,
undo, with 404/409 answers that say why, Idempotency-Key replays, and /status showing what waits."""

from __future__ import annotations

from typing import Any

import pytest

from lib.app.actions_step import run_actions
from tests.api_fixtures import TOKENS, call, event
from tests.unit.action_step_support import app as make_app
from tests.unit.action_step_support import config, evaluation, observation
from tests.unit.action_support import FakeCloud


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


@pytest.fixture
def app(cloud: FakeCloud) -> Any:
    a = make_app(config({"type": "pause-zone", "at": 100}), cloud)
    a.environ = {"BUDGET_API_TOKEN": ",".join(TOKENS)}
    return a


def pending(a: Any) -> str:
    ev = evaluation(120)
    done = run_actions(
        a,
        evaluations=[ev],
        observations=[observation(ev)],
        notifications=[],
        silences=[],
        now=a.now(),
        run_id="r1",
        dry_run=False,
    )
    return str(done.rows[0]["id"])


def test_a_pending_action_is_listed_shown_and_on_status(app: Any) -> None:
    aid = pending(app)
    status, _, body = call(app, event("GET", "/actions"))
    assert status == 200 and body["total"] == 1
    [item] = body["items"]
    assert (item["id"], item["state"], item["type"], item["targets"]) == (
        aid,
        "pending-approval",
        "pause-zone",
        ["zone-1"],
    )
    assert [t["state"] for t in item["trail"]] == ["pending-approval"]
    assert call(app, event("GET", "/actions", query={"state": "done"}))[2]["items"] == []
    status, _, one = call(app, event("GET", f"/actions/{aid}"))
    assert status == 200 and one["group"] == {"zone-id": "zone-1"} and one["approval"] == "manual"
    _, _, doc = call(app, event("GET", "/status"))
    assert [a["id"] for a in doc["actions"]["pending"]] == [aid] and doc["actions"]["recent"] == []


def test_approve_executes_now_once_and_undo_restores(app: Any, cloud: FakeCloud) -> None:
    aid = pending(app)
    status, _, body = call(app, event("POST", f"/actions/{aid}/approve"))
    assert status == 200 and body["acted"] is True and body["state"] == "done"
    assert cloud.paused["zone-1"] is True
    assert [(t["state"], t["by"]) for t in body["trail"]][1:] == [("executing", "token-1"), ("done", "token-1")]
    assert body["trail"][2]["request_ids"]

    status, _, again = call(app, event("POST", f"/actions/{aid}/approve", token=TOKENS[1]))
    assert status == 409 and again["error"]["code"] == "action_conflict"
    assert "is done; it cannot become executing" in again["error"]["message"]
    assert len(cloud.mutations()) == 1

    status, _, undone = call(app, event("POST", f"/actions/{aid}/undo", token=TOKENS[1]))
    assert status == 200 and undone["state"] == "undone" and cloud.paused["zone-1"] is False
    assert undone["trail"][-1]["by"] == "token-2"
    status, _, twice = call(app, event("POST", f"/actions/{aid}/undo"))
    assert status == 409 and "undone" in twice["error"]["message"]
    _, _, doc = call(app, event("GET", "/status"))
    assert doc["actions"]["pending"] == [] and [a["state"] for a in doc["actions"]["recent"]] == ["undone"]


def test_an_idempotency_key_replays_the_first_answer(app: Any, cloud: FakeCloud) -> None:
    aid = pending(app)
    headers = {"Idempotency-Key": "approve-once-1"}
    first = call(app, event("POST", f"/actions/{aid}/approve", headers=headers))
    second = call(app, event("POST", f"/actions/{aid}/approve", headers=headers))
    assert first[0] == second[0] == 200
    assert second[1].get("Idempotent-Replayed") == "true" and second[2] == first[2]
    assert len(cloud.mutations()) == 1


@pytest.mark.parametrize("path", ["/actions/act_000000000000000000000000", "/actions/act_..%2F..%2Fetc"])
def test_an_unknown_action_is_404(app: Any, path: str) -> None:
    assert call(app, event("GET", path))[0] == 404
    status, _, body = call(app, event("POST", f"{path}/approve"))
    assert status == 404 and "GET /actions lists them" in body["error"]["message"]


def test_bad_filters_are_400_and_the_routes_need_a_token(app: Any) -> None:
    status, _, body = call(app, event("GET", "/actions", query={"state": "paused"}))
    assert status == 400 and "pending-approval" in body["error"]["message"]
    assert call(app, event("GET", "/actions", query={"limit": "0"}))[0] == 400
    assert call(app, event("GET", "/actions", token=None))[0] == 401
    assert call(app, event("POST", "/actions/act_000000000000000000000000/approve", token="wrong"))[0] == 401


def test_a_denied_permission_answers_200_with_the_failed_state_and_its_reason(app: Any, cloud: FakeCloud) -> None:
    cloud.deny.add("ModifyZoneStatus")
    aid = pending(app)
    status, _, body = call(app, event("POST", f"/actions/{aid}/approve"))
    assert status == 200 and body["state"] == "failed" and cloud.paused["zone-1"] is False
    failure = body["trail"][-1]["results"][0]["failure"]
    assert failure["code"] == "UnauthorizedOperation"
