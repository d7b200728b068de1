"""Every request ``deploy`` and ``undeploy`` send matches its action's shape in the SCF API reference."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from lib.deploy import upload
from tests import api_contract
from tests.deploy_fake import MUTATING, FakeScf
from tests.deploy_support import deployer_environ, make_zip, run_deploy, run_undeploy


def check_request(action: str, body: dict[str, Any]) -> list[str]:
    """The problems of one SCF request against the reference (DeleteFunction's shape from tccli's api.json)."""
    return api_contract.check_request("scf", "2018-04-16", action, body)


@pytest.fixture
def cos_and_scf() -> Iterator[tuple[FakeScf, list[str]]]:
    scf = FakeScf()
    puts: list[str] = []

    def put(request: object) -> tuple[int, dict[str, str], str]:
        puts.append(str(getattr(request, "url", "")))
        return 200, {"ETag": '"abc"'}, ""

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        scf.install(rsps)
        rsps.add_callback(responses.PUT, re.compile(r"http://cos\.test/.*"), callback=put)
        yield scf, puts


def _assert_conform(fake: FakeScf) -> set[str]:
    problems = {f"{action}: {p}" for action, body in fake.requests for p in check_request(action, body)}
    assert not problems, sorted(problems)
    return {action for action, _ in fake.requests}


def test_every_request_of_a_full_lifecycle_conforms(
    cos_and_scf: tuple[FakeScf, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, puts = cos_and_scf
    environ = deployer_environ(tmp_path)
    run_deploy(environ)  # create (inline code)
    run_deploy({**environ, "WECOM_URL": "https://example.com/rotated"})  # configuration update
    fake.triggers[("default", "budget-alerts-prod-timer")][0]["TriggerDesc"] = json.dumps({"cron": "0 0 * * * * *"})
    run_deploy(environ)  # trigger update
    Path(environ["BUDGET_DEPLOY_PACKAGE"]).write_bytes(make_zip({"timer_handler.py": "x = 9\n"}))
    run_deploy(environ)  # code update, inline
    run_undeploy(environ)
    monkeypatch.setattr(upload, "INLINE_LIMIT", 10)  # now every package goes through COS
    environ["BUDGET_COS_ENDPOINT"] = "http://cos.test"
    lines: list[str] = []
    from lib.client import ApiClient, Credentials
    from lib.deploy.commands import Deployer
    from lib.deploy.spec import Target

    client = ApiClient(Credentials("AKIDtest", "key"), endpoint="http://scf.test/")
    deployer = Deployer(Target(stage="prod"), client, environ, echo=lines.append, sleep=lambda _s: None)
    deployer.deploy(role=None, code_bucket="code-1250000000", dry_run=False)  # create from COS
    Path(environ["BUDGET_DEPLOY_PACKAGE"]).write_bytes(make_zip({"timer_handler.py": "x = 10\n"}))
    deployer.deploy(role=None, code_bucket="code-1250000000", dry_run=False)  # update from COS
    assert len(puts) == 2
    created = [b for a, b in fake.requests if a == "CreateFunction"][-1]
    assert created["Code"]["CosBucketName"] == "code"  # without -appid
    assert created["Code"]["CosObjectName"].startswith("/budget-alerts-code/prod/")
    seen = _assert_conform(fake)
    assert seen >= MUTATING, MUTATING - seen
    assert {"GetFunction", "ListTriggers", "GetFunctionEventInvokeConfig"} <= seen


@pytest.mark.parametrize(
    ("action", "body", "problem"),
    [
        ("CreateTrigger", {"FunctionName": "f", "TriggerName": "t", "Type": "timer", "TriggerDsc": "x"}, "TriggerDsc"),
        ("CreateFunction", {"FunctionName": "f", "Code": {"ZipFile": "eA=="}, "MemorySize": "128"}, "expected int"),
        ("CreateFunction", {"FunctionName": "f"}, "Code: required"),
        ("CreateFunction", {"FunctionName": "f", "Code": {"ZipFiel": "eA=="}}, "Code.ZipFiel: not a member"),
        ("CreateFunction", {"FunctionName": "f", "Code": {}, "Runtime": "Python3.11"}, "Python3.11"),
        ("CreateTrigger", {"FunctionName": "f", "TriggerName": "t", "Type": "apigw"}, "'apigw' is not one of"),
        (
            "UpdateFunctionConfiguration",
            {"FunctionName": "f", "Environment": {"Variables": [{"Key": "A", "Vale": "1"}]}},
            "Environment.Variables[0].Vale",
        ),
        ("UpdateFunctionEventInvokeConfig", {"FunctionName": "f", "AsyncTriggerConfig": {"MsgTTL": 60}}, "RetryConfig"),
        ("DeleteFunction", {"FunctionName": "f", "Force": True}, "Force: not a member"),
        ("CreateFunctions", {}, "not an action"),
    ],
)
def test_the_validator_rejects_what_the_reference_does_not_allow(
    action: str, body: dict[str, object], problem: str
) -> None:
    problems = check_request(action, body)
    assert any(problem in p for p in problems), problems


def test_the_validator_accepts_a_conforming_request() -> None:
    body = {
        "FunctionName": "f",
        "Code": {"CosBucketName": "b", "CosObjectName": "/k.zip", "CosBucketRegion": "ap-guangzhou"},
        "Environment": {"Variables": [{"Key": "A", "Value": "1"}]},
        "Tags": [{"Key": "k", "Value": "v"}],
        "MemorySize": 128,
        "Runtime": "Python3.10",
    }
    assert check_request("CreateFunction", body) == []
