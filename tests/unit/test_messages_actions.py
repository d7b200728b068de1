"""Action messages: every channel renders an action's step and a crossing that carries its actions, in zh and en;
the webhook sends ``budget.action`` with the action, state and targets (DESIGN §3.5)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from lib.actions.announce import announcements
from lib.config.models import Channel
from lib.messages.text import render_text
from lib.model import Notification
from lib.notify import render
from lib.state.actions import ActionRecord, Transition
from tests.unit.action_step_support import crossing, evaluation
from tests.unit.action_support import PERIOD, pause_intent
from tests.unit.notify_samples import TZ as TZ_SHANGHAI

AT = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
URLS = {
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=t",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/h",
    "slack": "https://hooks.slack.com/services/T/B/X",
    "webhook": "https://hooks.example.com/budget",
}


def record(state: str, *, approval: str = "manual", failure: dict[str, str] | None = None) -> ActionRecord:
    aid, doc = pause_intent(approval=approval)
    results = [
        {
            "target": {"kind": "zone", "id": "zone-1"},
            "done": failure is None,
            "changed": failure is None,
            "failure": failure,
        }
    ]
    trail = [Transition(1, "pending-approval", AT.isoformat(), "run:r1")]
    if state != "pending-approval":
        trail += [
            Transition(2, "executing", AT.isoformat(), "token-1"),
            Transition(3, state, AT.isoformat(), "token-1", ("req-9",), {"results": results}),
        ]
    return ActionRecord(aid, doc, tuple(trail))


def told(rec: ActionRecord) -> Notification:
    return announcements(rec, ("hook",), now=AT)[-1]


@pytest.mark.parametrize("kind", sorted(URLS))
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_channel_renders_an_action_step_and_a_crossing_with_actions(kind: str, language: str) -> None:
    channel = Channel(type=kind, url=URLS[kind])  # type: ignore[arg-type]
    step = told(record("done"))
    carried = replace(
        crossing(evaluation(120)),
        detail={
            "actions": [
                {
                    "id": step.detail["action_id"],
                    "type": "pause-zone",
                    "state": "pending-approval",
                    "targets": ["zone-1"],
                    "approval": "manual",
                }
            ]
        },
    )
    requests = render("hook", channel, [step, carried], language=language, tz=TZ_SHANGHAI, now=AT)
    text = "".join(r.body.decode("utf-8") for r in requests)
    assert "zone-1" in text and step.detail["action_id"] in text
    assert ("已执行" if language == "zh" else "done") in text
    assert ("待审批" if language == "zh" else "waiting for approval") in text  # the crossing tells its action


def test_the_webhook_sends_budget_action_with_action_state_and_targets() -> None:
    step = told(record("done"))
    [request] = render(
        "hook", Channel(type="webhook", url=URLS["webhook"]), [step], language="en", tz=TZ_SHANGHAI, now=AT
    )
    doc = json.loads(request.body)
    assert (doc["type"], doc["action"], doc["state"], doc["targets"]) == (
        "budget.action",
        "pause-zone",
        "done",
        ["zone-1"],
    )
    assert doc["id"] == step.id == request.headers["webhook-id"]
    assert (doc["budget"], doc["group"], doc["by"], doc["request_ids"]) == (
        "traffic",
        {"zone-id": "zone-1"},
        "token-1",
        ["req-9"],
    )
    assert doc["period"] == PERIOD.to_dict()


def test_a_refusal_by_cam_reads_as_a_missing_permission_and_other_failures_as_themselves() -> None:
    denied = told(record("failed", failure={"error": "ApiError", "code": "UnauthorizedOperation", "message": "no"}))
    title, body = render_text(denied, "en", TZ_SHANGHAI)
    assert title.endswith("Budget action failed: pause EdgeOne site zone-1 (traffic · zone-1)")
    assert "missing CAM permission: grant the function's role teo:ModifyZoneStatus, teo:DescribeZones" in body
    _, zh = render_text(denied, "zh", TZ_SHANGHAI)
    assert "缺少 CAM 权限" in zh and "teo:ModifyZoneStatus" in zh
    broken = told(record("failed", failure={"error": "ApiError", "code": "InternalError", "message": "try later"}))
    _, other = render_text(broken, "en", TZ_SHANGHAI)
    assert "zone-1: InternalError: try later" in other and "CAM" not in other


def test_only_announced_states_are_told_and_never_waiting_for_an_automatic_one() -> None:
    assert [n.detail["state"] for n in announcements(record("done"), ("hook",), now=AT)] == ["pending-approval", "done"]
    auto = record("done", approval="automatic")
    assert [n.detail["state"] for n in announcements(auto, ("hook",), now=AT)] == ["done"]
    assert announcements(auto, (), now=AT) == []
    ids = [n.id for n in announcements(record("done"), ("hook",), now=AT)]
    assert len(set(ids)) == 2 and ids == [n.id for n in announcements(record("done"), ("hook",), now=AT)]
