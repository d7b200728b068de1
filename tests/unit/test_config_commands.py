"""``validate`` and ``schema`` commands, called as the CLI calls them (argparse.Namespace)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from lib.cli import main
from lib.config.commands import schema, validate
from tests.unit.test_config_loader import ENV, REPO


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BUDGET_CONFIG", raising=False)


@pytest.mark.usefixtures("environ")
def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(argparse.Namespace(config=str(REPO / "budgets.yaml"))) == 0
    assert capsys.readouterr().out == "ok: 3 budgets, 5 channels\n"


@pytest.mark.usefixtures("environ")
def test_validate_lists_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "channels:\n"
        "  ops: {type: wecom, url: '${NOT_SET_ANYWHERE}'}\n"
        "budgets:\n"
        "  - name: x\n"
        "    source: teo\n"
        "    metric: acc_flux\n",
        encoding="utf-8",
    )
    assert validate(argparse.Namespace(config=str(bad))) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{bad}: 1 problem",
        "error: field 'channels.ops.url', line 2: environment variable NOT_SET_ANYWHERE is not set",
    ]
    bad.write_text(
        bad.read_text(encoding="utf-8").replace("${NOT_SET_ANYWHERE}", "https://h.example"), encoding="utf-8"
    )
    assert validate(argparse.Namespace(config=str(bad))) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{bad}: 2 problems",
        "error: budget 'x', field 'channels', line 4: no channels: list at least one (ops)",
        "error: budget 'x', line 4: nothing to alert on: set limit (with thresholds), absolute, below or spike",
    ]


@pytest.mark.usefixtures("environ")
def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(argparse.Namespace(config=str(tmp_path / "nope.yaml"))) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.usefixtures("environ")
def test_validate_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(REPO / "budgets.yaml")]) == 0
    assert capsys.readouterr().out.startswith("ok: 3 budgets")


def test_schema_is_json_schema_for_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema(argparse.Namespace()) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["additionalProperties"] is False
    assert set(doc["properties"]) == {"timezone", "language", "channels", "digest", "budgets", "accounts"}
    budget = doc["$defs"]["Budget"]
    assert budget["additionalProperties"] is False
    assert set(budget["required"]) == {"name", "source", "metric"}
    assert "acc_flux" in budget["properties"]["metric"]["enum"] and "balance" in budget["properties"]["metric"]["enum"]
    limit = budget["properties"]["limit"]["anyOf"]
    assert {"type": "number"} in limit and {"const": "plan", "description": "the EdgeOne plan's quota"} in limit
    unit_help = next(item["description"] for item in limit if item.get("type") == "string")
    assert "TB" in unit_help and "KiB" in unit_help and "Mbps" in unit_help
    assert budget["properties"]["repeat"]["anyOf"][1]["examples"] == ["24h", "30m"]
    channel = doc["$defs"]["Channel"]
    assert channel["properties"]["type"]["enum"] == ["wecom", "dingtalk", "feishu", "slack", "webhook"]


def test_schema_accepts_the_example_file_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """The schema's own constraints (patterns, enums) agree with what the example file uses."""
    import re

    import yaml

    schema(argparse.Namespace())
    doc = json.loads(capsys.readouterr().out)
    data = yaml.safe_load((REPO / "budgets.yaml").read_text(encoding="utf-8"))
    budget_schema = doc["$defs"]["Budget"]["properties"]
    for item in data["budgets"]:
        assert set(item) <= set(budget_schema)
        assert re.match(budget_schema["name"]["pattern"], item["name"])
        assert item["metric"] in budget_schema["metric"]["enum"]


def test_schema_lets_each_source_name_only_its_own_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    from lib.sources import SOURCES

    schema(argparse.Namespace())
    budget = json.loads(capsys.readouterr().out)["$defs"]["Budget"]
    assert budget["properties"]["source"]["enum"] == list(SOURCES)
    allowed = {
        rule["if"]["properties"]["source"]["const"]: rule["then"]["properties"]["metric"]["enum"]
        for rule in budget["allOf"]
    }
    assert set(allowed) == set(SOURCES)
    assert "acc_flux" in allowed["teo"] and "acc_flux" not in allowed["billing"]
    assert sorted(allowed["billing"]) == ["balance", "cost"]
