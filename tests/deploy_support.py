"""Shared by the deployer's functional tests: a configuration, a deployer environment, run helpers."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from lib.client import ApiClient, Credentials
from lib.deploy.commands import Deployer
from lib.deploy.spec import Target

CONFIG = """\
timezone: Asia/Shanghai
channels:
  ops: {type: wecom, url: "${WECOM_URL}"}
  audit: {type: webhook, url: "https://example.com/hook", secret: "${WEBHOOK_SECRET:-}"}
budgets:
  - name: spend
    source: billing
    metric: cost
    period: month
    limit: 3000
    thresholds: [80, 100]
    channels: [ops, audit]
"""
SECRET_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=very-secret-key-1234"


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def deployer_environ(tmp_path: Path) -> dict[str, str]:
    """A deployer's variables: a local configuration, a tiny prebuilt package, credentials, a secret."""
    (tmp_path / "budgets.yaml").write_text(CONFIG, encoding="utf-8")
    package = tmp_path / "package.zip"
    package.write_bytes(make_zip({"timer_handler.py": "x = 1\n", "api_handler.py": "y = 2\n"}))
    return {
        "BUDGET_CONFIG": str(tmp_path / "budgets.yaml"),
        "BUDGET_DEPLOY_PACKAGE": str(package),
        "BUDGET_STATE": "cos://state-1250000000.ap-guangzhou/budget-state",
        "BUDGET_API_TOKEN": "token-1234567890abcdef",
        "BUDGET_API_ENDPOINT": "http://scf.test/",
        "WECOM_URL": SECRET_URL,
        "TENCENTCLOUD_SECRETID": "AKIDdeployer",
        "TENCENTCLOUD_SECRETKEY": "deployer-key",
        "UNRELATED": "not deployed",
    }


def run_deploy(
    environ: dict[str, str], *, dry_run: bool = False, role: str | None = "BudgetAlertsScfRole"
) -> list[str]:
    lines: list[str] = []
    client = ApiClient(Credentials("AKIDtest", "key"), endpoint="http://scf.test/")
    deployer = Deployer(Target(stage="prod"), client, environ, echo=lines.append, sleep=lambda _s: None)
    assert deployer.deploy(role=role, code_bucket=None, dry_run=dry_run) == 0
    return lines


def run_undeploy(environ: dict[str, str]) -> list[str]:
    lines: list[str] = []
    client = ApiClient(Credentials("AKIDtest", "key"), endpoint="http://scf.test/")
    assert Deployer(Target(stage="prod"), client, environ, echo=lines.append, sleep=lambda _s: None).undeploy() == 0
    return lines
