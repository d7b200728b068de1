"""End-to-end: the SCF timer handler with ``events/`` against the sandbox and the local webhook receiver.

The handler runs on the wall clock, as in SCF, so the sandbox serves a scenario built around the wall
clock (``live_scenario``): its data clock is fixed at the moment the test starts, and every number the
run should see follows from a formula (flat traffic, a fixed hourly price), whatever the date.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from lib.errors import StateError, StoreError
from lib.state import open_store
from lib.state.ledger import LedgerStore
from lib.state.repo import StateRepository
from sandbox.receivers import Receiver
from tests.e2e.live_support import (
    BUCKET,
    CONFIG,
    CONTEXT,
    REGION,
    ROOT,
    TIMER_EVENT,
    ZONE,
    Live,
    assert_result_shape,
    budget_channels,
    channel_kinds,
    charts_sent,
    cold_start,
    expected_requests,
    expected_status,
    expected_values,
    invoke,
    month_start,
    run_cli,
    sent,
)

pytestmark = pytest.mark.e2e

# --- the sample events ---------------------------------------------------------------------------


def test_sample_events_are_shaped_like_scf_ones() -> None:
    """events/timer.json and events/context.json as SCF sends them (reference §1.4, §2.1) and as deployed."""
    event = json.loads(TIMER_EVENT.read_text(encoding="utf-8"))
    assert set(event) == {"Type", "TriggerName", "Time", "Message"}
    assert event["Type"].lower() == "timer"
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,59}", event["TriggerName"])
    assert event["Time"].endswith("Z")
    assert datetime.fromisoformat(event["Time"].replace("Z", "+00:00")).utcoffset() == timedelta(0)
    assert isinstance(event["Message"], str)
    assert len(event["Message"].encode()) <= 4096

    context = json.loads(CONTEXT.read_text(encoding="utf-8"))
    documented = {
        "memory_limit_in_mb",
        "time_limit_in_ms",
        "request_id",
        "environment",
        "environ",
        "function_version",
        "function_name",
        "namespace",
        "tencentcloud_region",
        "tencentcloud_appid",
        "tencentcloud_uin",
    }
    assert set(context) == documented
    assert json.loads(context["environment"])["SCF_NAMESPACE"] == context["namespace"]
    assert all("=" in pair for pair in context["environ"].split(";"))
    assert context["memory_limit_in_mb"] == 64 or context["memory_limit_in_mb"] % 128 == 0

    # The sample matches what serverless.yml deploys: the trigger's name, the timer's memory and timeout.
    deployed = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]
    trigger = next(t for t in deployed["triggers"] if t["type"] == "timer")
    assert trigger["parameters"]["name"] == event["TriggerName"]
    assert deployed["functions"]["timer"]["timeout"] * 1000 == context["time_limit_in_ms"]
    assert deployed["memorySize"] == context["memory_limit_in_mb"]


# --- in process: main_handler(event, context) -----------------------------------------------------


def test_timer_run_sends_each_crossing_once(scf: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    values = expected_values(scf.data_now)
    statuses = {budget: expected_status(budget, value) for budget, value in values.items()}
    channels = budget_channels()
    firing = sorted((b, ch) for b, s in statuses.items() if s == "firing" for ch in channels[b])

    first = invoke()
    assert_result_shape(first)
    assert first["trigger"] == "timer"
    assert first["errors"] == []
    at = datetime.fromisoformat(first["at"])
    assert abs(at - datetime.now(timezone.utc)) < timedelta(minutes=1)  # the wall clock, as in SCF
    by_budget = {e["budget"]: e for e in first["evaluations"]}
    assert set(by_budget) == set(values)
    for budget, value in values.items():
        e = by_budget[budget]
        assert Decimal(str(e["value"])) == value, budget
        assert e["status"] == statuses[budget], budget
        assert e["period"]["start"] == month_start(scf.data_now).isoformat()
    assert by_budget["edgeone-traffic"]["group"] == {"zone-id": ZONE}
    assert by_budget["edgeone-traffic"]["unit"] == "B"
    assert by_budget["low-balance"]["limit"] == 1000
    if statuses["edgeone-traffic"] == "firing":
        assert by_budget["edgeone-traffic"]["level"] == 100  # past every threshold at once: the highest is told
    assert "low-balance" in dict(firing)  # the scenario always has a low balance: the run always alerts
    assert sent(first) == firing
    assert len(first["notifications"]) == len(firing) + len(charts_sent(first))

    received = scf.receiver.received
    kinds = channel_kinds()
    assert {r.kind for r in received} == {kinds[ch] for _, ch in firing}
    assert len(received) == expected_requests(firing, len(charts_sent(first)))
    assert all(r.accepted for r in received), [(r.kind, r.status, r.answer) for r in received]
    for r in received:
        verify_signature(r, scf.receiver)
    webhook_ids = sorted(r.headers["webhook-id"] for r in received if r.kind == "webhook")
    assert webhook_ids == sorted(d["id"] for d in first["notifications"] if d["channel"] == "audit")
    for r in (r for r in received if r.kind == "webhook"):
        body = r.json
        assert body["type"] == "budget.alert"
        assert body["id"] == r.headers["webhook-id"]
        assert body["status"] == "firing"
        assert body["budget"] in channels
        assert Decimal(str(body["value"])) == values[body["budget"]]
    text = json.dumps(first)
    for name in ("DINGTALK_SECRET", "FEISHU_SECRET", "WEBHOOK_SECRET"):
        assert scf.env[name] not in text
    assert (scf.state_dir / "ledger.json").is_file()
    markers = len(list((scf.state_dir / "sent").iterdir()))
    assert markers == len(firing) + len(charts_sent(first))  # one create-only marker per delivery (charts too)

    # The next tick on the same warm instance: same crossings, nothing new.
    second = invoke()
    assert_result_shape(second)
    assert second["run_id"] != first["run_id"]
    assert sent(second) == []
    assert len(scf.receiver.received) == len(received)
    assert [e["status"] for e in second["evaluations"]] == [e["status"] for e in first["evaluations"]]

    # A new instance (cold start) reads the same state folder: still nothing new.
    cold_start(monkeypatch)
    third = invoke()
    assert sent(third) == []
    assert len(scf.receiver.received) == len(received)
    runs = StateRepository(open_store(scf.env["BUDGET_STATE"], environ=scf.env)).runs.list()
    assert [r["run_id"] for r in runs[:3]] == [third["run_id"], second["run_id"], first["run_id"]]


def verify_signature(r: Any, receiver: Receiver) -> None:
    """Recompute each platform's signature with our own code (not the receiver's)."""
    if r.kind == "webhook":
        secret = receiver.secret("webhook")
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{r.headers['webhook-id']}.{r.headers['webhook-timestamp']}.".encode() + r.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert f"v1,{expected}" in r.headers["webhook-signature"].split()
        assert abs(int(r.headers["webhook-timestamp"]) - time.time()) < 300
    elif r.kind == "dingtalk":
        secret = receiver.secret("dingtalk")
        ts = r.query["timestamp"]
        mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        assert r.query["sign"] == base64.b64encode(mac).decode()
        assert abs(int(ts) / 1000 - time.time()) < 3600
    elif r.kind == "feishu":
        secret = receiver.secret("feishu")
        ts = r.json["timestamp"]
        mac = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
        assert r.json["sign"] == base64.b64encode(mac).decode()
        assert abs(int(ts) - time.time()) < 3600
    elif r.kind == "wecom":
        assert r.query["key"] == receiver.token
    assert r.verified is not False


def test_timer_run_with_state_on_cos(scf: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployed shape: BUDGET_STATE on COS (the sandbox's), warm and cold invocations."""
    url = f"cos://{BUCKET}.{REGION}/budget-state"
    monkeypatch.setenv("BUDGET_STATE", url)
    monkeypatch.setenv("BUDGET_COS_ENDPOINT", scf.sandbox.url)
    scf.sandbox.app.cos.create_bucket(BUCKET, REGION)  # type: ignore[union-attr]

    first = invoke()
    assert_result_shape(first)
    assert first["errors"] == []
    assert sent(first)
    count = len(scf.receiver.received)
    assert count >= 1
    assert sent(invoke()) == []
    cold_start(monkeypatch)
    third = invoke()
    assert sent(third) == []
    assert len(scf.receiver.received) == count
    assert not scf.state_dir.exists()  # nothing went to the local folder

    env = {**scf.env, "BUDGET_STATE": url, "BUDGET_COS_ENDPOINT": scf.sandbox.url}
    store = open_store(url, environ=env)
    try:
        repo = StateRepository(store)
        assert [r["run_id"] for r in repo.runs.list()][:1] == [third["run_id"]]
        assert repo.ledger.load().value is not None
    finally:
        store.close()


# --- what raises and what returns -------------------------------------------------------------------


def test_configuration_error_is_returned_not_raised(scf: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retry would fail the same way: the run returns its error (SCF logs it) instead of raising."""
    monkeypatch.setenv("BUDGET_CONFIG", str(scf.state_dir / "missing.yaml"))
    result = invoke()
    assert {"run_id", "at", "evaluations", "notifications", "errors"} <= set(result)
    assert result["run_id"] is None
    assert (result["evaluations"], result["notifications"]) == ([], [])
    assert [e["source"] for e in result["errors"]] == ["run"]
    assert "missing.yaml" in result["errors"][0]["message"]
    assert abs(datetime.fromisoformat(result["at"]) - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert scf.receiver.received == []


def test_missing_credentials_make_error_evaluations_then_a_no_data_alert(
    scf: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No execution role: each fetch fails (never read as zero); after ``no_data_after`` runs, someone is told."""
    monkeypatch.delenv("TENCENTCLOUD_SECRETID")
    monkeypatch.delenv("TENCENTCLOUD_SECRETKEY")
    result = invoke()
    assert_result_shape(result)
    assert {e["status"] for e in result["evaluations"]} == {"error"}
    assert all(e["value"] is None for e in result["evaluations"])
    assert {e["source"] for e in result["errors"]} == {"collect"}
    assert all("TENCENTCLOUD_SECRETID" in e["message"] for e in result["errors"])
    assert result["notifications"] == []
    invoke()
    third = invoke()  # no_data_after defaults to 3 consecutive failed runs
    assert sent(third)
    kinds = {r.json["kind"] for r in scf.receiver.received if r.kind == "webhook"}
    assert kinds == {"no-data"}
    assert scf.sandbox.secret_key not in json.dumps(third)


def test_missing_state_bucket_is_returned_not_raised(scf: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """NoSuchBucket does not heal by itself: no retry, the error says which bucket."""
    monkeypatch.setenv("BUDGET_STATE", f"cos://absent-1250000000.{REGION}/budget-state")
    monkeypatch.setenv("BUDGET_COS_ENDPOINT", scf.sandbox.url)
    result = invoke()
    assert result["run_id"] is None
    assert "NoSuchBucket" in result["errors"][0]["message"]
    assert scf.receiver.received == []


def test_failing_channel_is_returned_and_waits_in_the_outbox(scf: Live) -> None:
    """A webhook that is down is the outbox's business, not a reason for SCF to run the check again."""
    scf.receiver.fail("wecom", times=10, error="busy")
    result = invoke()
    outcomes = {d["channel"]: d["outcome"] for d in result["notifications"]}
    if "ops" in outcomes:  # ops (WeCom) alerts for traffic, which fires after the month's first bucket
        assert outcomes["ops"] == "retry"
        assert next(d for d in result["notifications"] if d["channel"] == "ops")["reason"]
    assert outcomes["finance"] == "sent"
    waiting = StateRepository(open_store(scf.env["BUDGET_STATE"], environ=scf.env)).outbox.pending()
    assert {e.channel for e in waiting} == ({"ops"} if "ops" in outcomes else set())


@pytest.mark.slow
@pytest.mark.parametrize(
    "live", [[{"product": "cos", "action": "GetObject", "http_status": 503, "count": 4}]], indirect=True
)
def test_unreachable_state_raises_so_scf_retries(scf: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """COS answering 503 to every attempt: nothing was claimed or sent, so a retry is worth it."""
    monkeypatch.setenv("BUDGET_STATE", f"cos://{BUCKET}.{REGION}/budget-state")
    monkeypatch.setenv("BUDGET_COS_ENDPOINT", scf.sandbox.url)
    scf.sandbox.app.cos.create_bucket(BUCKET, REGION)  # type: ignore[union-attr]
    with pytest.raises(StateError) as caught:
        invoke()
    assert caught.value.retryable
    assert scf.receiver.received == []
    # SCF's retry: the fault has passed (its count is spent), and the run goes through once.
    retried = invoke()
    assert retried["errors"] == []
    assert sent(retried)
    assert len(scf.receiver.received) >= 1


def test_a_retried_run_never_sends_twice(scf: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run dies after sending (saving the ledger fails); SCF's two retries find every delivery done."""
    original = LedgerStore.save
    failures = {"left": 1}

    def flaky_save(self: LedgerStore, ledger: dict[str, Any]) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise StoreError("COS PUT 'ledger.json': HTTP 503", status=503, retryable=True)
        original(self, ledger)

    monkeypatch.setattr(LedgerStore, "save", flaky_save)
    with pytest.raises(StateError):
        invoke()
    delivered = len(scf.receiver.received)
    assert delivered >= 1
    retry = invoke()  # SCF's first retry, on the warm instance
    assert sent(retry) == []
    assert retry["notifications"]
    assert {d["outcome"] for d in retry["notifications"]} == {"skipped"}
    cold_start(monkeypatch)
    assert sent(invoke()) == []  # the second retry, on a fresh instance
    assert len(scf.receiver.received) == delivered


# --- out of process: python -m lib invoke timer ------------------------------------------------------


def test_invoke_timer_as_a_subprocess(live: Live) -> None:
    args = ["invoke", "timer", "--event", str(TIMER_EVENT), "--context", str(CONTEXT)]
    first = run_cli(args, live.env)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert_result_shape(result)
    assert result["trigger"] == "timer"
    assert result["errors"] == []
    values = expected_values(live.data_now)
    assert {e["budget"]: Decimal(str(e["value"])) for e in result["evaluations"]} == values
    assert ("low-balance", "finance") in sent(result)
    delivered = len(live.receiver.received)
    assert delivered == expected_requests(sent(result), len(charts_sent(result)))

    second = run_cli(args, live.env)
    assert second.returncode == 0, second.stderr
    assert sent(json.loads(second.stdout)) == []
    assert len(live.receiver.received) == delivered


def test_invoke_timer_with_a_bad_event_file_is_a_usage_error(live: Live, tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("{not json", encoding="utf-8")
    proc = run_cli(["invoke", "timer", "--event", str(bad)], live.env)
    assert proc.returncode == 2
    assert "not JSON" in proc.stderr
    missing = run_cli(["invoke", "timer", "--event", str(tmp_path / "absent.json")], live.env)
    assert missing.returncode == 2
    assert "absent.json" in missing.stderr
    assert live.receiver.received == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "live", [[{"product": "cos", "action": "GetObject", "http_status": 503, "count": 4}]], indirect=True
)
def test_invoke_timer_exits_1_when_the_handler_raises(live: Live) -> None:
    """What SCF would count as a failed invocation (and retry) is exit status 1 locally, without a traceback."""
    live.sandbox.app.cos.create_bucket(BUCKET, REGION)  # type: ignore[union-attr]
    env = {**live.env, "BUDGET_STATE": f"cos://{BUCKET}.{REGION}/budget-state", "BUDGET_COS_ENDPOINT": live.sandbox.url}
    args = ["invoke", "timer", "--event", str(TIMER_EVENT), "--context", str(CONTEXT)]
    failed = run_cli(args, env)
    assert failed.returncode == 1
    assert "error: COS GET" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert failed.stdout == ""
    assert live.receiver.received == []
    retried = run_cli(args, env)  # the fault's count is spent: SCF's retry goes through
    assert retried.returncode == 0, retried.stderr
    assert sent(json.loads(retried.stdout))


def test_a_warm_instance_picks_up_an_edited_configuration(
    scf: Live, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "budgets.yaml"
    original = CONFIG.read_text(encoding="utf-8")
    config.write_text(original, encoding="utf-8")
    monkeypatch.setenv("BUDGET_CONFIG", str(config))
    first = invoke()
    assert {e["budget"] for e in first["evaluations"]} == {"edgeone-traffic", "monthly-spend", "low-balance"}

    config.write_text(original + "\n  - {name: broken, source: teo}\n", encoding="utf-8")
    broken = invoke()
    assert any(e["source"] == "config" and "previous one stays in force" in e["message"] for e in broken["errors"])
    assert {e["budget"] for e in broken["evaluations"]} == {"edgeone-traffic", "monthly-spend", "low-balance"}

    data = yaml.safe_load(original)
    data["budgets"] = [b for b in data["budgets"] if b["name"] != "monthly-spend"]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    edited = invoke()
    assert [e for e in edited["errors"] if e["source"] == "config"] == []
    assert {e["budget"] for e in edited["evaluations"]} == {"edgeone-traffic", "low-balance"}
