"""One-click links end to end: a real ``python -m lib serve`` process, the sandbox cloud, a file state.

A person follows an approve link (GET the page, POST its form): the zone is paused in the sandbox and
the audit trail says "link"; following it again is refused. A silence link holds the group; a crawler's
GETs and HEADs before that change nothing.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lib.actions import Scope, action_for
from lib.actions.machine import Machine, action_id, intent_doc
from lib.client import ApiClient, Credentials
from lib.model import Period, group_key
from lib.notify.links import LinkMaker, payload_links
from lib.state import open_store
from lib.state.repo import StateRepository
from sandbox.demo_links import follow
from sandbox.live_scenario import ZONE, live_scenario, month_start, wait_past_month_end
from sandbox.server import Sandbox
from tests.e2e.live_support import serve_process
from tests.unit.notify_samples import TRAFFIC

pytestmark = [pytest.mark.e2e]
SECRET = "e2e-link-secret-0123456789abcdef"
CONFIG = """\
timezone: Asia/Shanghai
language: en
channels:
  audit: {type: webhook, url: "https://hooks.example.com/budget"}
budgets:
  - name: edgeone-traffic
    source: teo
    metric: acc_flux
    zones: ["*"]
    group_by: [zone-id]
    period: month
    limit: 10TB
    thresholds: [100]
    channels: [audit]
"""


@dataclass
class Served:
    url: str
    cloud: Sandbox
    repo: StateRepository
    action_id: str
    period: Period


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    wait_past_month_end()
    with Sandbox(live_scenario(_now())) as cloud:
        state = tmp_path / "state"
        state.mkdir()
        config = tmp_path / "budgets.yaml"
        config.write_text(CONFIG, encoding="utf-8")
        repo = StateRepository(open_store(f"file://{state}", environ={}))
        start = month_start(cloud.now)
        period = Period(start, (start + timedelta(days=32)).replace(day=1))
        group = group_key({"zone-id": ZONE})
        intent = action_for("pause-zone").plan(Scope(dict(group), budget="edgeone-traffic"))
        doc = intent_doc(intent, budget="edgeone-traffic", group=group, period=period, approval="manual", undo="manual")
        ident = action_id("edgeone-traffic", group, period, "pause-zone")
        Machine(repo.actions, lambda target: None, {}).record(ident, doc, by="run:e2e", now=cloud.now)  # type: ignore[arg-type,return-value]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "BUDGET_CONFIG": str(config),
            "BUDGET_STATE": f"file://{state}",
            "BUDGET_API_ENDPOINT": cloud.url,
            "BUDGET_API_TOKEN": "e2e-api-token-0123456789",
            "BUDGET_PUBLIC_URL": "https://budget.example.com",
            "BUDGET_LINK_SECRET": SECRET,
            "TENCENTCLOUD_SECRET_ID": cloud.secret_id,
            "TENCENTCLOUD_SECRET_KEY": cloud.secret_key,
        }
        proc = serve_process(env)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("serving the API on http://"), line + (proc.stderr.read() if proc.stderr else "")
            yield Served(line.rsplit(" ", 1)[1].strip(), cloud, repo, ident, period)
        finally:
            proc.terminate()
            proc.communicate(timeout=10)  # also closes its pipes


def _now() -> datetime:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % 5)


def links(served: Served) -> dict[str, str]:
    """The links an alert about the pending action carries, made as the pipeline makes them."""
    detail = {"actions": [{"id": served.action_id, "type": "pause-zone", "state": "pending-approval",
                           "targets": [ZONE], "approval": "manual"}]}  # fmt: skip
    alert = replace(TRAFFIC, group=group_key({"zone-id": ZONE}), period=served.period, detail=detail)
    made = LinkMaker("https://budget.example.com", SECRET, served.cloud.now).links(alert)
    # The public URL is the deployment's; here the same paths go to the local server.
    return {o.key: o.url.replace("https://budget.example.com", served.url) for o in made}


def paused(cloud: Sandbox) -> bool:
    with ApiClient(Credentials(cloud.secret_id, cloud.secret_key), endpoint=cloud.url) as client:
        answer = client.call("teo", "2022-09-01", "DescribeZones", {"Filters": [{"Name": "zone-id", "Values": [ZONE]}]})
    return bool(answer["Zones"][0]["Paused"])


def request(url: str, method: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=15)
    try:
        conn.request(method, parts.path, headers={"User-Agent": "Slackbot-LinkExpanding 1.0"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_approve_by_link_pauses_the_zone_once(served: Served) -> None:
    url = links(served)["approve"]
    assert [request(url, m) for m in ("HEAD", "GET", "HEAD")] == [200, 200, 200]  # link previews
    assert not paused(served.cloud)
    visit = follow(url)
    assert (visit.page_status, visit.result_status) == (200, 200), visit
    assert "pause the zone" in visit.page
    assert paused(served.cloud)
    record = served.repo.actions.get(served.action_id)
    assert record is not None and record.state == "done"
    assert [t.by for t in record.trail if t.state == "executing"] == ["link"]
    again = follow(url)
    assert (again.page_status, again.result_status) == (409, 409)
    record = served.repo.actions.get(served.action_id)
    assert record is not None and len([t for t in record.trail if t.state == "executing"]) == 1


def test_silence_by_link_holds_the_group(served: Served) -> None:
    url = links(served)["silence"]
    assert request(url, "GET") == 200 and not served.repo.silences.list().value
    visit = follow(url)
    assert visit.acted, visit
    (held,) = served.repo.silences.list().value
    assert held.matchers == {"budget": "edgeone-traffic", "zone-id": ZONE} and held.created_by == "link"
    assert held.ends_at - held.starts_at == timedelta(days=1)
    assert json.dumps(held.to_dict())  # stored as a plain record the API lists


def test_the_demo_follows_the_approve_link_the_webhook_received() -> None:
    """``LinkDemo.approve_pending``: what the lead's demo calls after a run left an action pending."""
    from types import SimpleNamespace

    from lib.app.runtime import App
    from lib.settings import Settings
    from sandbox.demo_links import LinkDemo
    from tests.api_fixtures import CONFIG
    from tests.unit.action_support import NOW, FakeCloud, machine, pause_intent
    from tests.unit.action_support import repo as memory_repo

    repository, cloud = memory_repo(), FakeCloud()
    ident, intent = pause_intent()
    machine(repository, cloud).record(ident, intent, by="run:demo", now=NOW)
    with LinkDemo() as demo:
        env = demo.environment()
        settings = Settings(public_url=env["BUDGET_PUBLIC_URL"], link_secret=env["BUDGET_LINK_SECRET"])
        app = App(CONFIG, repository.store, repository, cloud, None, settings=settings, clock=lambda: NOW)  # type: ignore[arg-type]
        demo.attach(app)
        entry = {"id": ident, "type": "pause-zone", "state": "pending-approval", "targets": ["zone-1"]}
        alert = replace(TRAFFIC, detail={"actions": [entry]})
        maker = LinkMaker(demo.url, env["BUDGET_LINK_SECRET"], NOW)
        received = [SimpleNamespace(kind="webhook", json={"links": payload_links(maker.links(alert))})]
        lines: list[str] = []
        visit = demo.approve_pending(received, echo=lines.append)
    assert visit is not None and visit.acted, visit
    assert cloud.paused["zone-1"] is True and len(lines) == 2
    assert demo.approve_pending([], echo=lines.append) is None
