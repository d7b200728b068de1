"""A configuration without budgets is valid but watches nothing: validate, check and the timer say so."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from lib.app import commands as app_commands
from lib.app.result import RunResult
from lib.config.commands import validate
from lib.config.models import Config
from tests.unit.test_config_loader import ENV, REPO

WARNING = "warning: no budgets configured: nothing is monitored\n"
EMPTY = ["", "# nothing yet\n", "timezone: UTC\n", "channels:\n  ops: {type: wecom, url: 'https://h.example/x'}\n"]


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BUDGET_CONFIG", raising=False)
    monkeypatch.setenv("BUDGET_STATE", f"file://{tmp_path / 'state'}")
    monkeypatch.setenv("BUDGET_API_ENDPOINT", "http://127.0.0.1:9")  # nothing may be asked: port 9 discards
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDempty")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "empty-secret")


@pytest.mark.usefixtures("environ")
@pytest.mark.parametrize("text", EMPTY)
def test_validate_warns_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text(text, encoding="utf-8")
    assert validate(argparse.Namespace(config=str(path))) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ok: 0 budgets, ")
    assert err == WARNING


@pytest.mark.usefixtures("environ")
def test_validate_does_not_warn_when_budgets_exist(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(argparse.Namespace(config=str(REPO / "budgets.yaml"))) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("environ")
def test_check_warns_and_keeps_the_result_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    args = argparse.Namespace(config=str(path), at=None, json=True, dry_run=True)
    assert app_commands.check(args) == 0
    out, err = capsys.readouterr()
    assert WARNING in err
    doc = json.loads(out)
    assert {"run_id", "at", "trigger", "dry_run", "evaluations", "notifications", "skipped", "errors"} <= set(doc)
    assert (doc["evaluations"], doc["notifications"], doc["errors"]) == ([], [], [])


def test_the_timer_logs_the_warning(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import lib.app.instance
    from lib.app.timer import run_timer

    class Stub:
        def __init__(self, config: Config) -> None:
            self.config = config

        def run_check(self, **kwargs: Any) -> RunResult:
            return RunResult(run_id="run-1", at="2026-11-22T10:00:00+08:00", trigger=kwargs["trigger"], dry_run=False)

    stub = Stub(Config())
    monkeypatch.setattr(lib.app.instance, "warm_app", lambda: stub)
    with caplog.at_level(logging.WARNING, logger="lib.app.timer"):
        result = run_timer({}, {})
        assert (result["evaluations"], result["trigger"], result["run_id"]) == ([], "timer", "run-1")
    assert "no budgets configured: nothing is monitored" in caplog.text
    caplog.clear()
    stub.config = Config.model_validate(
        {
            "channels": {"ops": {"type": "wecom", "url": "https://h.example/x"}},
            "budgets": [{"name": "b", "source": "billing", "metric": "cost", "limit": 1, "channels": ["ops"]}],
        }
    )
    with caplog.at_level(logging.WARNING, logger="lib.app.timer"):
        run_timer({}, {})
    assert "nothing is monitored" not in caplog.text
