"""The ``actions:`` list of a budget: what loads, and each mistake told in the user's words with its field."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from lib.config.loader import parse_config
from lib.errors import ConfigErrors

ROOT = Path(__file__).resolve().parents[2]
HEAD = 'channels: {ops: {type: wecom, url: "https://qyapi.weixin.qq.com/x"}}\nbudgets:\n'
TEO = "  - {name: t, source: teo, metric: acc_flux, group_by: [zone-id], limit: 10TB, thresholds: [80, 100], "
CDN = "  - {name: c, source: cdn, metric: flux, domains: [a.example.com], limit: 5TB, channels: [ops], "


def _errors(text: str) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(ConfigErrors) as info:
        parse_config(HEAD + text, environ={})
    return [(e.budget, e.field, e.message) for e in info.value.errors]


def test_a_full_action_loads_with_its_defaults() -> None:
    text = (
        TEO + "forecast: true, channels: [ops], actions: [{type: pause-zone, at: 100%, approval: automatic, "
        "undo: period-end, on: [measured, forecast]}, {type: domains-offline, at: 80, targets: [a.example.com]}]}\n"
    )
    text = text.replace("group_by: [zone-id]", "group_by: [zone-id, host]")
    budget = parse_config(HEAD + text, environ={}).budgets[0]
    pause, offline = budget.actions
    assert (pause.type, pause.at, pause.approval, pause.undo, pause.on) == (
        "pause-zone",
        Decimal(100),
        "automatic",
        "period-end",
        ("measured", "forecast"),
    )
    assert (offline.approval, offline.undo, offline.on, offline.targets, offline.force) == (
        "manual",
        "manual",
        ("measured",),
        ("a.example.com",),
        False,
    )


def test_a_bare_on_key_is_read_as_on_not_as_yaml_true() -> None:
    text = TEO + "forecast: true, channels: [ops], actions: [{type: pause-zone, at: 100, on: [forecast]}]}\n"
    assert parse_config(HEAD + text, environ={}).budgets[0].actions[0].on == ("forecast",)


@pytest.mark.parametrize(
    ("actions", "field", "words"),
    [
        ("[{at: 100}]", "actions[0].type", "is required: one of 'pause-zone', 'domains-offline' or 'stop-cdn-domain'"),
        ("[{type: pause-zone}]", "actions[0].at", "is required: one of the budget's thresholds"),
        ("[{type: pause-zone, at: 90}]", "actions[0].at", "must be one of the budget's thresholds (80, 100), not 90"),
        ("[{type: stop-cdn-domain, at: 100}]", "actions[0].type", "needs a budget with source: cdn, not teo"),
        ("[{type: pause-zone, at: 100, aproval: manual}]", "actions[0].aproval", "did you mean 'approval'?"),
        ("[{type: pause-zone, at: 100, approval: later}]", "actions[0].approval", "'manual' or 'automatic'"),
        ("[{type: pause-zone, at: 100, on: [forecast]}]", "actions[0].on", "on: forecast needs forecast: true"),
        ("[{type: pause-zone, at: 100, on: [spike]}]", "actions[0].on", "on: spike needs a spike: rule"),
        ("[{type: pause-zone, at: 100, force: true}]", "actions[0].force", "force applies to domains-offline only"),
        ("[{type: pause-zone, at: 100}, {type: pause-zone, at: 80}]", "actions[1].type", "is already listed (#1)"),
        ("[{type: domains-offline, at: 100}]", "actions[0].targets", "group the budget by 'host'"),
        ("[{type: pause-zone, at: 100, targets: ['*']}]", "actions[0].targets", 'no "*"'),
    ],
)
def test_mistakes_name_the_field_and_what_is_allowed(actions: str, field: str, words: str) -> None:
    errors = _errors(TEO + f"channels: [ops], actions: {actions}}}\n")
    assert any(f == field and words in message for _, f, message in errors), errors
    assert all(budget == "t" for budget, _, _ in errors)


def test_targets_must_lie_inside_what_the_budget_covers() -> None:
    errors = _errors(CDN + "actions: [{type: stop-cdn-domain, at: 100, targets: [b.example.com]}]}\n")
    [(_, field, message)] = errors
    assert field == "actions[0].targets"
    assert "b.example.com is not covered by the budget (it covers a.example.com)" in message
    assert parse_config(
        HEAD + CDN + "actions: [{type: stop-cdn-domain, at: 100, targets: [a.example.com]}]}\n", environ={}
    )


def test_a_billing_budget_cannot_act() -> None:
    text = (
        "  - {name: b, source: billing, metric: cost, limit: 100, channels: [ops], "
        "actions: [{type: pause-zone, at: 100}]}\n"
    )
    [(_, field, message)] = _errors(text)
    assert field == "actions[0].type" and "needs a budget with source: teo, not billing" in message


def test_the_schema_describes_actions() -> None:
    out = subprocess.run([sys.executable, "-m", "lib", "schema"], cwd=ROOT, capture_output=True, text=True, check=True)
    schema = json.loads(out.stdout)
    action = schema["$defs"]["BudgetAction"]
    assert action["required"] == ["type", "at"]
    assert action["properties"]["type"]["enum"] == ["pause-zone", "domains-offline", "stop-cdn-domain"]
    assert schema["$defs"]["Budget"]["properties"]["actions"]["items"] == {"$ref": "#/$defs/BudgetAction"}
