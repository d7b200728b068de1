"""End-to-end: ``python -m lib`` commands as subprocesses against the sandbox and the webhook receiver.

Exit status (DESIGN §3.1): 0 ok, 1 the run finished but something failed (a channel), 2 usage or
configuration error. ``--at`` backtests use the bundled demo story (its data clock is fixed in November
2026, so a past instant always has the same numbers); plain ``check`` runs on the wall clock against the
live scenario of the timer tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.demo import demo_environment
from sandbox.receivers import Receiver
from sandbox.server import Sandbox
from tests.e2e.live_support import (
    CONFIG,
    Live,
    assert_result_shape,
    budget_channels,
    charts_sent,
    expected_requests,
    expected_values,
    run_cli,
    sent,
)

pytestmark = pytest.mark.e2e

SHOP = {"zone-id": "zone-2qtuhspy7hmq"}  # the demo zone that passes 80 % on 2026-11-18 at 20:30 (+08:00)
DEMO_NOW = "2026-11-22T10:00:00+08:00"  # the demo scenario's data clock
BEFORE_100 = "2026-11-18T21:00:00+08:00"  # past 80 % of 10 TB, before 100 %
# demo_environment + budgets.yaml as of DEMO_NOW, a past instant: the traffic crossing to ops, audit and lark.
# Billing budgets sit a backtest out (cost and balance exist only as of now): they are listed as skipped.
DEMO_DELIVERIES = 3
BILLING_BUDGETS = {"monthly-spend", "low-balance"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Live]:
    with Sandbox() as sandbox, Receiver() as receiver:
        env = demo_environment(sandbox.url, receiver, str(tmp_path / "state"))
        env.update(
            BUDGET_CONFIG=str(CONFIG),
            TENCENTCLOUD_SECRETID=sandbox.secret_id,
            TENCENTCLOUD_SECRETKEY=sandbox.secret_key,
            HOME=str(tmp_path / "home"),
        )
        yield Live(sandbox, receiver, env, tmp_path / "state")


def check_json(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    proc = run_cli(["check", "--json", *args], env)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


# --- check ---------------------------------------------------------------------------------------


def test_check_json_on_the_wall_clock(tmp_path: Path) -> None:
    """``check --json`` is the timer's code path: the same result document, then nothing new."""
    from tests.e2e.live_support import live_scenario, wait_past_month_end

    wait_past_month_end()
    with Sandbox(live_scenario(datetime.now(timezone.utc))) as sandbox, Receiver() as receiver:
        env = demo_environment(sandbox.url, receiver, str(tmp_path / "state"))
        env.update(
            BUDGET_CONFIG=str(CONFIG),
            TENCENTCLOUD_SECRET_ID=sandbox.secret_id,  # the SDK/tccli names work as well as SCF's
            TENCENTCLOUD_SECRET_KEY=sandbox.secret_key,
            HOME=str(tmp_path / "home"),
        )
        code, result, _ = check_json(env)
        assert code == 0
        assert_result_shape(result)
        assert (result["trigger"], result["dry_run"], result["errors"]) == ("cli", False, [])
        assert abs(datetime.fromisoformat(result["at"]) - datetime.now(timezone.utc)) < timedelta(minutes=1)
        values = {e["budget"]: Decimal(str(e["value"])) for e in result["evaluations"]}
        assert values == expected_values(sandbox.now)
        pairs = sent(result)
        assert ("low-balance", "finance") in pairs
        charts = len(charts_sent(result))
        assert len(receiver.received) == expected_requests(pairs, charts)

        code, again, _ = check_json(env)
        assert code == 0
        assert sent(again) == []
        assert len(receiver.received) == expected_requests(pairs, charts)


def test_check_at_a_past_instant_backtests(demo: Live) -> None:
    code, result, _ = check_json(demo.env, "--at", BEFORE_100)
    assert code == 0
    assert result["at"] == BEFORE_100
    shop = next(e for e in result["evaluations"] if e["group"] == SHOP)
    assert (shop["status"], shop["level"]) == ("firing", 80)
    assert Decimal("8e12") <= Decimal(str(shop["value"])) < Decimal("1e13")
    assert shop["period"] == {"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"}
    assert len(demo.receiver.received) == expected_requests(sent(result), len(charts_sent(result)))

    # The same instant in UTC is the same instant; the text table names the budgets and their state.
    proc = run_cli(["check", "--at", "2026-11-18T13:00:00Z"], demo.env)
    assert proc.returncode == 0, proc.stderr
    assert "edgeone-traffic" in proc.stdout
    assert "zone-id=zone-2qtuhspy7hmq" in proc.stdout
    assert "firing" in proc.stdout
    assert f"at {BEFORE_100}: 0 sent" in proc.stdout  # the crossing was told by the first backtest

    # Later, past 100 %: a new crossing, told once.
    code, later, _ = check_json(demo.env, "--at", DEMO_NOW)
    assert code == 0
    shop = next(e for e in later["evaluations"] if e["group"] == SHOP)
    assert (shop["level"], shop["value"]) == (100, 11_453_969_240_892)  # the story's figure (demo.yaml)
    assert ("edgeone-traffic", "ops") in sent(later)


def test_check_dry_run_sends_nothing_and_writes_no_state(demo: Live) -> None:
    code, result, _ = check_json(demo.env, "--dry-run", "--at", DEMO_NOW)
    assert code == 0
    assert result["dry_run"] is True
    assert len(result["notifications"]) == DEMO_DELIVERIES
    assert {d["outcome"] for d in result["notifications"]} == {"dry-run"}
    assert {s["budget"] for s in result["skipped"]} == BILLING_BUDGETS
    assert BILLING_BUDGETS.isdisjoint(e["budget"] for e in result["evaluations"])
    assert demo.receiver.received == []
    assert not demo.state_dir.exists() or not any(demo.state_dir.iterdir())

    # The dry run decided what a real run sends, and marked none of it as told.
    code, real, _ = check_json(demo.env, "--at", DEMO_NOW)
    assert code == 0
    assert sorted((d["id"], d["channel"]) for d in real["notifications"]) == sorted(
        (d["id"], d["channel"]) for d in result["notifications"]
    )
    assert len(sent(real)) == DEMO_DELIVERIES


def test_check_exits_1_when_a_channel_fails(demo: Live) -> None:
    demo.receiver.fail("wecom", times=10, error="busy")  # WeCom "system busy": try again later
    demo.receiver.fail("feishu", times=10, error="sign_mismatch")  # the request itself is wrong
    code, result, _ = check_json(demo.env, "--at", DEMO_NOW)
    assert code == 1
    outcomes = {d["channel"]: d["outcome"] for d in result["notifications"]}
    assert outcomes["ops"] == "retry"
    assert outcomes["lark"] == "rejected"
    assert outcomes["audit"] == "sent"
    assert result["errors"] == []  # the run itself finished

    # The text form exits the same way, and a clean run afterwards exits 0.
    demo.receiver.clear()
    proc = run_cli(["check", "--at", DEMO_NOW], demo.env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--config", "{tmp}/absent.yaml"], "absent.yaml"),
        (["check", "--config", "{tmp}/bad.yaml"], "field 'colour'"),
        (["check", "--at", "yesterday"], "not an ISO 8601 instant"),
        (["check", "--at", "2026-11-22T10:00:00"], "no UTC offset"),
        (["check", "--frobnicate"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
        (["invoke", "timer"], "--event"),
        (["invoke", "lambda", "--event", "x.json"], "invalid choice"),
        (["validate", "--config", "{tmp}/bad.yaml"], "field 'colour'"),
        ([], "COMMAND"),
    ],
)
def test_usage_and_configuration_errors_exit_2(demo: Live, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.yaml").write_text(
        "budgets:\n  - name: x\n    source: teo\n    metric: acc_flux\n    limit: 10TB\n    colour: red\n",
        encoding="utf-8",
    )
    proc = run_cli([a.replace("{tmp}", str(tmp_path)) for a in args], demo.env)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert demo.receiver.received == []


# --- validate and schema ---------------------------------------------------------------------------


def test_validate(demo: Live, tmp_path: Path) -> None:
    proc = run_cli(["validate"], demo.env)
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok: 3 budgets, 5 channels")

    # Without the webhook variables the example configuration names each missing one, with its line.
    bare = {k: v for k, v in demo.env.items() if not k.endswith(("_URL", "_SECRET"))}
    proc = run_cli(["validate"], bare)
    assert proc.returncode == 2
    assert "field 'channels.ops.url', line 8: environment variable WECOM_URL is not set" in proc.stderr
    assert demo.env["DINGTALK_SECRET"] not in proc.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("budgets:\n  - name: x\n    source: teo\n    metric: acc_flux\n    limit: 10XB\n", encoding="utf-8")
    proc = run_cli(["validate", "--config", str(bad)], demo.env)
    assert proc.returncode == 2
    assert "budget 'x', field 'limit', line 5" in proc.stderr


def test_schema_is_a_json_schema_of_the_configuration(demo: Live) -> None:
    proc = run_cli(["schema"], demo.env)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema.get("additionalProperties") is False  # unknown keys are refused
    assert {"timezone", "language", "channels", "budgets"} <= set(schema["properties"])
    defs: dict[str, dict[str, Any]] = schema["$defs"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if ref is None:
            return node
        assert ref.startswith("#/$defs/")
        return defs[ref.removeprefix("#/$defs/")]

    budget = resolve(schema["properties"]["budgets"]["items"])
    assert budget["type"] == "object"
    assert budget.get("additionalProperties") is False
    assert {"name", "source"} <= set(budget["required"])
    assert budget["properties"]["source"]["enum"] == ["teo", "cdn", "billing"]
    ((name_pattern, channel_ref),) = schema["properties"]["channels"]["patternProperties"].items()
    channel = resolve(channel_ref)
    assert channel.get("additionalProperties") is False
    assert set(channel["properties"]["type"]["enum"]) == {"wecom", "dingtalk", "feishu", "slack", "webhook"}

    # Every key the example configuration uses is known to the schema.
    example = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert set(example) <= set(schema["properties"])
    for b in example["budgets"]:
        assert set(b) <= set(budget["properties"]), b["name"]
    for name, ch in example["channels"].items():
        assert re.fullmatch(name_pattern, name)
        assert set(ch) <= set(channel["properties"])
    assert not re.fullmatch(name_pattern, "ops team")
    assert set(budget_channels()) == {b["name"] for b in example["budgets"]}


# --- help ----------------------------------------------------------------------------------------

HELP = {
    "check": ["--config", "--at", "--json", "--dry-run"],
    "invoke": ["{timer,api}", "--event", "--context"],
    "serve": ["--host", "--port"],
    "validate": ["--config"],
    "schema": [],
}
# The development tools answer to ``python -m sandbox``; the shipped command line does not list them.
SANDBOX_HELP = {"cloud": ["--port", "--scenario", "--secret-id", "--secret-key", "--data-dir"], "demo": []}


def test_help_lists_every_command() -> None:
    proc = run_cli(["--help"], {})
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m lib")
    for command in HELP:
        assert f"\n    {command} " in proc.stdout
    for command in SANDBOX_HELP:
        assert f"\n    {command} " not in proc.stdout


def test_sandbox_help_lists_the_development_commands() -> None:
    proc = run_cli(["--help"], {}, package="sandbox")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: python -m sandbox")
    for command, options in SANDBOX_HELP.items():
        assert f"\n    {command} " in proc.stdout
        sub = run_cli([command, "--help"], {}, package="sandbox", timeout=30)
        assert sub.returncode == 0, sub.stderr
        assert all(option in sub.stdout for option in options)


@pytest.mark.parametrize("command", sorted(HELP))
def test_help_on_each_command(command: str) -> None:
    proc = run_cli([command, "--help"], {}, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: python -m lib {command}")
    for option in HELP[command]:
        assert option in proc.stdout
