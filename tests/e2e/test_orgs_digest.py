"""Issue 18's digest under fan-out, in real processes: one digest for the whole organization, sent once.

The organization of ``test_orgs_fanout`` (60 members, shards of 8, deployed into the sandbox's SCF). A first
tick fans out with no digest configured; then the digest is switched on (deployed again) with its time already past, and
8 coordinators of the next tick run at once. Exactly one ``budget.digest`` reaches the webhook: sent by a
coordinator (never by a worker, before or after), covering every member with the numbers its shard's
worker recorded in the first tick, each line saying when those were read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from lib.app.accounts import list_members
from lib.app.runtime import App
from lib.client import ApiClient, Credentials
from lib.config.loader import parse_config
from lib.deploy.package import build
from sandbox.receivers import Receiver
from sandbox.server import Sandbox
from tests.e2e import org_support as org
from tests.e2e.test_orgs_fanout import MEMBERS, SHARDS, TIMER, Cloud, _deploy, _deploy_env, _now, _ticks_at_once

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def org_cloud(tmp_path: Path) -> Iterator[tuple[Cloud, Path, dict[str, str]]]:
    now = _now()
    config_path = tmp_path / "budgets.yaml"
    config_path.write_text(yaml.safe_dump(org.config(now)), encoding="utf-8")
    package = build(tmp_path / "package", wheels=False)
    with Sandbox(org.scenario(MEMBERS, now)) as sandbox, Receiver() as receiver:
        env = _deploy_env(tmp_path, config_path, package, sandbox, receiver)
        lines = _deploy(env)
        (url,) = [line.split(" ", 1)[1] for line in lines if line.startswith("url: ")]
        assert sandbox.app.scf.function(TIMER) is not None
        yield Cloud(sandbox, receiver, now, url.rstrip("/")), config_path, env


def digests(cloud: Cloud) -> list[dict[str, Any]]:
    return [
        item.json
        for item in cloud.receiver.received
        if item.kind == "webhook" and isinstance(item.json, dict) and item.json.get("type") == "budget.digest"
    ]


def test_a_fanned_out_tick_then_the_digest_time_sends_one_digest_covering_every_member(
    org_cloud: tuple[Cloud, Path, dict[str, str]],
) -> None:
    cloud, config_path, env = org_cloud
    first_tick = cloud.now.astimezone(timezone.utc)
    first = cloud.tick(first_tick)
    assert sum(s["state"] == "started" for s in first["shards"]) == SHARDS
    assert len(cloud.workers()) == SHARDS
    assert digests(cloud) == []

    # The digest is switched on (deployed again: the package carries the configuration), its time of day
    # already past: the next tick's coordinators owe it.
    doc = org.config(cloud.now)
    doc["digest"] = {"every": "day", "at": "00:00", "channels": ["hook"]}
    config_path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    _deploy(env)
    second_tick = first_tick + timedelta(minutes=5)
    results, failures = _ticks_at_once(cloud, second_tick)
    assert failures == [] and len(results) == 8
    workers = cloud.workers()
    assert len(workers) == 2 * SHARDS
    assert not any(d["id"].startswith("digest-") for w in workers for d in w["notifications"])  # never a worker
    sent = [d for r in results for d in r["notifications"] if d["id"].startswith("digest-") and d["outcome"] == "sent"]
    assert len(sent) == 1, sent

    (digest,) = digests(cloud)
    lines = {a["uin"]: a for a in digest["accounts"]}
    assert set(lines) == {org.uin(k) for k in range(1, MEMBERS + 1)}
    for k in range(1, MEMBERS + 1):
        line, truth = lines[org.uin(k)], org.truth(k, cloud.now)
        assert line["name"] == f"member-{k:03d}"
        assert (line["evaluations"], line["firing"]) == (3, 1 + (k >= 4))  # traffic always, spend from member 4
        # The worst budget is traffic (firing, the highest percent): member k's value over the limit.
        expected = truth["traffic"] / Decimal(org.traffic_limit(cloud.now)) * 100
        assert line["budget"] == "traffic" and Decimal(str(line["percent"])) == expected
        read = datetime.fromisoformat(line["as_of"])
        assert first_tick - timedelta(minutes=5) <= read <= datetime.now(timezone.utc)
    rows = {r["budget"]: r for r in digest["budgets"]}
    assert (rows["traffic"]["groups"], rows["traffic"]["firing"]) == (MEMBERS, MEMBERS)
    assert (rows["spend"]["groups"], rows["spend"]["firing"]) == (MEMBERS, MEMBERS - 3)
    assert rows["own-traffic"]["groups"] == 1  # the coordinator's own account
    assert "Member accounts" in digest["message"] and "member-060" in digest["message"]

    third = cloud.tick(second_tick + timedelta(minutes=5))
    cloud.workers()
    assert not any(d["id"].startswith("digest-") and d["outcome"] == "sent" for d in third["notifications"])
    assert len(digests(cloud)) == 1


# --- in this process, against the sandbox over HTTP: who sends the digest, and from what ---------------------


@pytest.fixture
def org_app(tmp_path: Path) -> Iterator[tuple[App, Receiver]]:
    with Sandbox(org.scenario(6)) as sandbox, Receiver() as receiver:
        env = {
            "BUDGET_STATE": f"file://{tmp_path / 'state'}",
            "WEBHOOK_URL": receiver.url("webhook"),
            "WEBHOOK_SECRET": receiver.secret("webhook"),
        }
        doc = org.config()
        doc["digest"] = {"every": "day", "at": "09:30", "channels": ["hook"]}  # org.NOW is 10:00: due
        config = parse_config(yaml.safe_dump(doc), environ=env)
        client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)
        yield App.from_env(env, config=config, client=client, clock=lambda: org.NOW), receiver


def received(receiver: Receiver) -> list[dict[str, Any]]:
    docs = [i.json for i in receiver.received if i.kind == "webhook" and isinstance(i.json, dict)]
    return [d for d in docs if d.get("type") == "budget.digest"]


def test_shard_workers_never_send_it_and_the_coordinator_tells_every_member_from_their_outcomes(
    org_app: tuple[App, Receiver],
) -> None:
    from lib.app.accounts import Scope, scoped
    from lib.app.digest import for_organization
    from lib.app.fanout import split, work

    app, receiver = org_app
    assert app.config.accounts is not None
    members = list_members(app.config.accounts, app.client)
    for shard in split("20261122T020000Z", members, 4):
        doc = work(app, shard)
        assert not any(d["id"].startswith("digest-") for d in doc["notifications"])
    assert received(receiver) == []  # the digest was due in both workers' runs

    with scoped(Scope(own=True, members=())), for_organization(members):
        result = app.run_check(trigger="timer")
    assert [d["outcome"] for d in result.notifications if d["id"].startswith("digest-")] == ["sent"]
    (digest,) = received(receiver)
    lines = {a["uin"]: a for a in digest["accounts"]}
    assert [lines[org.uin(k)]["name"] for k in range(1, 7)] == [f"member-{k:03d}" for k in range(1, 7)]
    for k in range(1, 7):
        assert (lines[org.uin(k)]["firing"], lines[org.uin(k)]["as_of"]) == (1 + (k >= 4), org.NOW.isoformat())
    spend = next(r for r in digest["budgets"] if r["budget"] == "spend")
    assert (spend["groups"], spend["firing"], spend["group"]) == (6, 3, "member-006")  # a name, not a uin


def test_a_run_that_covers_every_member_sends_their_lines_itself(org_app: tuple[App, Receiver]) -> None:
    app, receiver = org_app
    result = app.run_check(trigger="timer")
    assert [d["outcome"] for d in result.notifications if d["id"].startswith("digest-")] == ["sent"]
    (digest,) = received(receiver)
    lines = {a["uin"]: a for a in digest["accounts"]}
    assert set(lines) == {org.uin(k) for k in range(1, 7)}
    traffic = {uin: line["percent"] for uin, line in lines.items() if line["budget"] == "traffic"}
    expected = {
        org.uin(k): float(org.truth(k)["traffic"] / Decimal(org.traffic_limit(org.NOW)) * 100) for k in range(1, 7)
    }
    assert traffic == expected
    from lib.state.shards import ShardStore

    assert ShardStore(app.repo.codec).names() == {org.uin(k): f"member-{k:03d}" for k in range(1, 7)}
