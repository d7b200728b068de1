"""The pipeline's send step passes a LinkMaker built from the settings: links go out only with both variables."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import requests
import responses

from lib.app.pipeline import _sender
from lib.app.runtime import App
from lib.config.models import Config
from lib.links import verify
from lib.settings import Settings
from lib.state.memory import MemoryStore
from lib.state.repo import StateRepository
from tests.unit.notify_samples import AT, TRAFFIC

HOOK = "https://hooks.example.com/budget"
SECRET = "pipeline-link-secret-0123456789"
PUBLIC = "https://1250000000-abcd.ap-guangzhou.tencentscf.com"


def app(settings: Settings) -> App:
    config = Config.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "channels": {"audit": {"type": "webhook", "url": HOOK}, "ops": {"type": "wecom", "url": HOOK + "/wecom"}},
            "budgets": [],
        }
    )
    repo = StateRepository(MemoryStore("links"))
    return App(config, repo.store, repo, None, requests.Session(), settings=settings, clock=lambda: AT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(public_url=PUBLIC, link_secret=SECRET), True),
        (Settings(public_url=PUBLIC), False),
        (Settings(link_secret=SECRET), False),
        (Settings(), False),
    ],
)
@responses.activate
def test_the_send_step_carries_links_only_with_both_variables(settings: Settings, expected: bool) -> None:
    responses.add(responses.POST, HOOK, status=204)
    responses.add(responses.POST, HOOK + "/wecom", json={"errcode": 0, "errmsg": "ok"})
    pending = {"id": "act_1", "type": "pause-zone", "state": "pending-approval", "targets": ["zone-2m2gq4dnpmd2"]}
    alert = replace(TRAFFIC, detail={"actions": [pending]})
    send = _sender(app(settings), AT)
    assert [r.outcome for r in send("audit", [alert])] == ["sent"]
    assert [r.outcome for r in send("ops", [alert])] == ["sent"]
    payload = json.loads(responses.calls[0].request.body or b"")
    content = json.loads(responses.calls[1].request.body or b"")["markdown"]["content"]
    assert ("links" in payload) is expected and (f"{PUBLIC}/l/" in content) is expected
    if expected:
        approve = verify(SECRET, payload["links"]["approve"].rsplit("/l/", 1)[1], now=AT.timestamp())
        assert approve.operation == "approve" and approve.targets[0] == "act_1"
