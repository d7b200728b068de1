"""The digest and the charts end to end: the demo scenario at 09:31 local, a real sandbox and chat receivers.

The App runs in this process with its clock at the scenario's data clock (as the demo does); Tencent
Cloud (the sandbox) and the robots (the receivers) are real servers on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lib.app.runtime import App
from lib.client import ApiClient, Credentials
from lib.links import verify
from lib.notify.images import chart_id
from sandbox.demo import demo_environment
from sandbox.receivers import Receiver, decode_image
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AT_0931 = datetime.fromisoformat("2026-11-22T09:31:00+08:00")


def config_text(digest: str) -> str:
    text = (ROOT / "budgets.yaml").read_text(encoding="utf-8")
    return text.replace("\nbudgets:\n", f"\n{digest}\nbudgets:\n", 1)


@pytest.fixture
def cloud() -> Iterator[tuple[Sandbox, Receiver]]:
    with Sandbox() as sandbox, Receiver() as receiver:
        sandbox.set_now(AT_0931)
        yield sandbox, receiver


def make_app(sandbox: Sandbox, receiver: Receiver, state: Path, digest: str, **env: str) -> App:
    path = state.parent / "budgets.yaml"
    path.write_text(config_text(digest), encoding="utf-8")
    environ = demo_environment(sandbox.url, receiver, str(state)) | env
    client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)
    return App.from_env(environ, config_source=str(path), client=client, clock=lambda: sandbox.now)


BUDGETS = ("edgeone-traffic", "monthly-spend", "low-balance")


def chart_ids(*results: Any) -> set[str]:
    """The ids a chart after any message of these runs would have (lib.notify.images.chart_id)."""
    return {chart_id(d["id"], budget) for result in results for d in result.notifications for budget in BUDGETS}


def wecom_documents(receiver: Receiver) -> list[dict[str, Any]]:
    return [r.json for r in receiver.received if r.kind == "wecom" and r.accepted]


def test_a_run_at_0931_sends_one_digest_with_its_chart_to_wecom(
    cloud: tuple[Sandbox, Receiver], tmp_path: Path
) -> None:
    sandbox, receiver = cloud
    app = make_app(sandbox, receiver, tmp_path / "state", 'digest: {every: day, at: "09:30", channels: [ops]}')

    first = app.run_check(trigger="test")
    second = app.run_check(trigger="test")

    digests = [d for d in first.notifications if d["id"] == "digest-day-2026-11-22"]
    assert [(d["channel"], d["outcome"]) for d in digests] == [("ops", "sent")]
    assert not any(d["id"].startswith("digest-") and d["outcome"] == "sent" for d in second.notifications)
    documents = wecom_documents(receiver)
    markdown = [d for d in documents if d["msgtype"] == "markdown" and "预算日报" in d["markdown"]["content"]]
    assert len(markdown) == 1
    for name in ("edgeone-traffic", "monthly-spend", "low-balance"):
        assert name in markdown[0]["markdown"]["content"]
    # The digest's charts follow its markdown: one per budget that has a series, each a valid PNG.
    after = documents[documents.index(markdown[0]) + 1 :]
    images = [d["image"] for d in after if d["msgtype"] == "image"]
    assert images, "the digest carried no chart"
    for image in images:
        raw = decode_image(image)
        assert raw is not None and raw.startswith(b"\x89PNG\r\n\x1a\n")
        assert hashlib.md5(raw, usedforsecurity=False).hexdigest() == image["md5"]
        assert len(raw) <= 2 * 1024 * 1024
    assert not first.failed, first.to_dict()["errors"]


def test_alert_images_follow_the_markdown_one_per_budget(cloud: tuple[Sandbox, Receiver], tmp_path: Path) -> None:
    sandbox, receiver = cloud
    app = make_app(sandbox, receiver, tmp_path / "state", "")

    result = app.run_check(trigger="test")

    documents = wecom_documents(receiver)
    kinds = [d["msgtype"] for d in documents]
    assert kinds[0] == "markdown" and "image" in kinds
    assert kinds.index("image") > kinds.index("markdown")
    ids = chart_ids(result)
    wecom_alerts = {d["budget"] for d in result.notifications if d["channel"] == "ops" and d["id"] not in ids}
    charts = [d for d in result.notifications if d["id"] in ids]
    assert len(charts) == kinds.count("image") <= len(wecom_alerts)
    assert all(d["outcome"] == "sent" and d["channel"] == "ops" for d in charts)


def test_a_dry_run_reports_the_digest_and_sends_nothing(cloud: tuple[Sandbox, Receiver], tmp_path: Path) -> None:
    sandbox, receiver = cloud
    app = make_app(sandbox, receiver, tmp_path / "state", 'digest: {every: day, at: "09:30", channels: [ops, audit]}')

    result = app.run_check(trigger="test", dry_run=True)

    digests = [(d["channel"], d["outcome"]) for d in result.notifications if d["id"].startswith("digest-")]
    assert digests == [("ops", "dry-run"), ("audit", "dry-run")]
    assert receiver.received == []


def test_the_webhook_gets_a_budget_digest_document(cloud: tuple[Sandbox, Receiver], tmp_path: Path) -> None:
    sandbox, receiver = cloud
    app = make_app(sandbox, receiver, tmp_path / "state", 'digest: {every: day, at: "09:30", channels: [audit]}')

    app.run_check(trigger="test")

    documents = [r.json for r in receiver.received if r.kind == "webhook" and r.verified]
    (digest,) = [d for d in documents if d.get("type") == "budget.digest"]
    assert digest["id"] == "digest-day-2026-11-22"
    assert {row["budget"] for row in digest["budgets"]} == {"edgeone-traffic", "monthly-spend", "low-balance"}
    assert json.dumps(digest)  # the document is JSON all the way down


def test_eight_concurrent_runs_send_the_digest_and_each_chart_exactly_once(
    cloud: tuple[Sandbox, Receiver], tmp_path: Path
) -> None:
    sandbox, receiver = cloud
    digest = 'digest: {every: day, at: "09:30", channels: [ops, chat]}'
    apps = [make_app(sandbox, receiver, tmp_path / "state", digest) for _ in range(8)]  # one store, eight instances
    start = threading.Barrier(len(apps))
    results: list[Any] = [None] * len(apps)

    def run(index: int) -> None:
        start.wait()
        results[index] = apps[index].run_check(trigger="test")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(apps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    sent = Counter(
        (d["id"], d["channel"]) for result in results for d in result.notifications if d["outcome"] == "sent"
    )
    assert sent[("digest-day-2026-11-22", "ops")] == 1 and sent[("digest-day-2026-11-22", "chat")] == 1
    assert set(sent.values()) == {1}, sent
    # Every message reached its robot once (an image may repeat: the alert's chart and the digest's).
    bodies = Counter(r.body for r in receiver.received if r.accepted and not (r.json or {}).get("image"))
    assert set(bodies.values()) == {1}, "a message reached a robot twice"
    digests = [r for r in receiver.received if r.kind in ("wecom", "slack") and "预算日报" in r.body.decode()]
    assert len(digests) == 2
    images = [r for r in receiver.received if r.kind == "wecom" and r.json["msgtype"] == "image"]
    ids = chart_ids(*results)
    assert len(images) == sum(1 for key in sent if key[0] in ids)


def test_a_failed_chart_waits_in_the_outbox_and_the_message_is_not_sent_again(
    cloud: tuple[Sandbox, Receiver], tmp_path: Path
) -> None:
    sandbox, receiver = cloud
    app = make_app(sandbox, receiver, tmp_path / "state", "")
    receiver.fail("wecom", error="busy", msgtype="image")  # the robot is busy when the chart comes

    first = app.run_check(trigger="test")
    ids = chart_ids(first)
    charts = [d for d in first.notifications if d["id"] in ids]
    assert [d["outcome"] for d in charts] == ["retry"]
    assert any(d["channel"] == "ops" and d["outcome"] == "sent" and d["id"] not in ids for d in first.notifications)
    markdown_before = [r for r in receiver.received if r.kind == "wecom" and r.json["msgtype"] == "markdown"]

    sandbox.set_now(AT_0931 + timedelta(minutes=5))  # past the retry's backoff
    second = app.run_check(trigger="test")

    retried = [d for d in second.notifications if d["id"] == charts[0]["id"]]
    assert [d["outcome"] for d in retried] == ["sent"]
    markdown_after = [r for r in receiver.received if r.kind == "wecom" and r.json["msgtype"] == "markdown"]
    assert len(markdown_after) == len(markdown_before) == 1
    accepted_images = [
        r for r in receiver.received if r.kind == "wecom" and r.json["msgtype"] == "image" and r.accepted
    ]
    assert len(accepted_images) == 1


def test_channels_without_images_get_signed_chart_links_when_links_are_set_up(
    cloud: tuple[Sandbox, Receiver], tmp_path: Path
) -> None:
    sandbox, receiver = cloud
    digest = 'digest: {every: day, at: "09:30", channels: [ops, chat]}'
    env = {"BUDGET_PUBLIC_URL": "https://budget.example.com/api", "BUDGET_LINK_SECRET": "link-secret"}
    app = make_app(sandbox, receiver, tmp_path / "state", digest, **env)

    app.run_check(trigger="test")

    (slack,) = [r.body.decode() for r in receiver.received if r.kind == "slack" and "预算日报" in r.body.decode()]
    (wecom,) = [
        r.json["markdown"]["content"] for r in receiver.received if r.kind == "wecom" and "预算日报" in r.body.decode()
    ]
    prefix = "https://budget.example.com/api/charts/edgeone-traffic.png?t="
    assert prefix in slack and "/charts/" not in wecom  # WeCom carries the images instead
    token = slack.split(prefix, 1)[1].split('"')[0].split("\\n")[0]
    link = verify("link-secret", token, now=sandbox.now.timestamp(), operation="view", target="edgeone-traffic")
    assert link.expires > sandbox.now.timestamp()


def test_no_chart_links_without_the_link_settings(cloud: tuple[Sandbox, Receiver], tmp_path: Path) -> None:
    sandbox, receiver = cloud
    app = make_app(sandbox, receiver, tmp_path / "state", 'digest: {every: day, at: "09:30", channels: [chat]}')

    app.run_check(trigger="test")

    (slack,) = [r.body.decode() for r in receiver.received if r.kind == "slack" and "预算日报" in r.body.decode()]
    assert "/charts/" not in slack


def test_a_backtest_reports_the_digest_as_dry_run(cloud: tuple[Sandbox, Receiver], tmp_path: Path) -> None:
    sandbox, receiver = cloud
    app = make_app(sandbox, receiver, tmp_path / "state", 'digest: {every: day, at: "09:30", channels: [ops]}')

    result = app.run_check(trigger="test", at=AT_0931 - timedelta(days=3))

    digests = [(d["id"], d["outcome"]) for d in result.notifications if d["id"].startswith("digest-")]
    assert digests == [("digest-day-2026-11-19", "dry-run")]
    assert not any("预算日报" in r.body.decode() for r in receiver.received)
    assert not any(r.kind == "wecom" and r.json["msgtype"] == "image" for r in receiver.received)


CHILD = """
import sys, tempfile
from pathlib import Path
from sandbox.receivers import Receiver
from sandbox.server import Sandbox
from tests.e2e.test_digest_sandbox import AT_0931, make_app

with Sandbox() as sandbox, Receiver() as receiver, tempfile.TemporaryDirectory() as folder:
    sandbox.set_now(AT_0931)
    app = make_app(sandbox, receiver, Path(folder) / "state", sys.argv[1])
    if sys.argv[2] == "no-wecom":  # the one budget that alerts the WeCom robot tells the others only
        path = Path(folder) / "budgets.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("[ops, audit, lark]", "[audit, lark]"), encoding="utf-8")
        app.reload_config()
    result = app.run_check(trigger="test")
    images = sum(1 for r in receiver.received if r.kind == "wecom" and r.json.get("msgtype") == "image")
    print(images, sum(1 for m in sys.modules if m.startswith("lib.charts")), result.failed)
"""


@pytest.mark.parametrize(("wecom", "draws"), [("with-wecom", True), ("no-wecom", False)])
def test_lib_charts_is_loaded_only_by_a_run_that_draws_an_image(wecom: str, draws: bool) -> None:
    digest = 'digest: {every: day, at: "09:30", channels: [chat]}'
    done = subprocess.run(
        [sys.executable, "-c", CHILD, digest, wecom], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    images, chart_modules, failed = done.stdout.split()
    assert failed == "False"
    assert (int(images) > 0, int(chart_modules) > 0) == (draws, draws)
