"""``deploy``/``undeploy`` against an in-process SCF: what is created, what a second run does, what is refused."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from lib.errors import ApiError, ConfigError
from tests.deploy_fake import FakeScf
from tests.deploy_support import CONFIG, SECRET_URL, deployer_environ, make_zip, run_deploy, run_undeploy


@pytest.fixture
def fake() -> Iterator[FakeScf]:
    scf = FakeScf()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        scf.install(rsps)
        yield scf


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return deployer_environ(tmp_path)


def _env(fake: FakeScf, name: str) -> dict[str, str]:
    variables = fake.functions[("default", name)]["Environment"]["Variables"]
    return {v["Key"]: v["Value"] for v in variables}


def test_a_clean_deploy_creates_both_functions_the_retry_policy_the_timer_and_the_url(
    fake: FakeScf, environ: dict[str, str]
) -> None:
    lines = run_deploy(environ)
    actions = [a for a, _ in fake.mutations()]
    assert actions == [
        "CreateFunction",
        "CreateFunction",
        "UpdateFunctionEventInvokeConfig",
        "CreateTrigger",
        "CreateTrigger",
    ]
    timer = fake.functions[("default", "budget-alerts-prod-timer")]
    api = fake.functions[("default", "budget-alerts-prod-api")]
    assert (timer["Handler"], api["Handler"]) == ("timer_handler.main_handler", "api_handler.main_handler")
    assert timer["Runtime"] == api["Runtime"] == "Python3.10"
    assert timer["Role"] == "BudgetAlertsScfRole"
    (timer_trigger,) = fake.triggers[("default", "budget-alerts-prod-timer")]
    assert json.loads(timer_trigger["TriggerDesc"]) == {"cron": "0 */10 * * * * *"}
    (url_trigger,) = fake.triggers[("default", "budget-alerts-prod-api")]
    assert json.loads(url_trigger["TriggerDesc"])["AuthType"] == "NONE"
    url = json.loads(url_trigger["TriggerDesc"])["Url"]
    assert f"url: {url}" in lines
    # every function waited for Active before the next call touched it
    statuses = [a for a, _ in fake.requests]
    assert statuses.index("GetFunction", statuses.index("CreateFunction")) < statuses.index("CreateTrigger")


def test_the_environment_is_budget_variables_and_config_references_never_credentials(
    fake: FakeScf, environ: dict[str, str]
) -> None:
    lines = run_deploy(environ)
    timer_env = _env(fake, "budget-alerts-prod-timer")
    api_env = _env(fake, "budget-alerts-prod-api")
    assert timer_env["WECOM_URL"] == SECRET_URL
    assert timer_env["BUDGET_FANOUT_FUNCTION"] == "budget-alerts-prod-timer"
    assert "BUDGET_FANOUT_FUNCTION" not in api_env
    assert timer_env["BUDGET_CONFIG"] == "budgets.yaml"  # the local file ships in the package
    assert "WEBHOOK_SECRET" not in timer_env  # unset, with a default: the function uses the default too
    for env in (timer_env, api_env):
        assert not [k for k in env if k.startswith("TENCENTCLOUD_")]
        assert "UNRELATED" not in env and "BUDGET_DEPLOY_PACKAGE" not in env
    printed = "\n".join(lines)
    assert "WECOM_URL" in printed
    assert "very-secret-key" not in printed and "token-1234567890abcdef" not in printed


def test_the_local_configuration_ships_as_budgets_yaml(fake: FakeScf, environ: dict[str, str]) -> None:
    import base64

    run_deploy(environ)
    code = fake.functions[("default", "budget-alerts-prod-timer")]["Code"]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(code["ZipFile"]))) as zf:
        assert zf.read("budgets.yaml").decode("utf-8") == CONFIG


def test_a_second_deploy_without_changes_makes_no_mutating_call(fake: FakeScf, environ: dict[str, str]) -> None:
    run_deploy(environ)
    before = len(fake.mutations())
    lines = run_deploy(environ)
    assert len(fake.mutations()) == before
    assert all("unchanged" in line for line in lines if line.startswith("  "))


def test_a_changed_variable_makes_exactly_one_configuration_update(fake: FakeScf, environ: dict[str, str]) -> None:
    run_deploy(environ)
    before = len(fake.mutations())
    lines = run_deploy({**environ, "WECOM_URL": SECRET_URL + "-rotated"})
    new = fake.mutations()[before:]
    assert [a for a, _ in new] == ["UpdateFunctionConfiguration", "UpdateFunctionConfiguration"]
    assert {p["FunctionName"] for _, p in new} == {"budget-alerts-prod-timer", "budget-alerts-prod-api"}
    assert all(set(p) == {"FunctionName", "Namespace", "Environment"} for _, p in new)
    assert any("WECOM_URL changed" in line for line in lines)
    assert "rotated" not in "\n".join(lines)


def test_a_variable_only_the_timer_has_changes_only_the_timer(fake: FakeScf, environ: dict[str, str]) -> None:
    run_deploy(environ)
    # someone changed the fan-out target by hand: only the timer carries it, only the timer is fixed
    fn = fake.functions[("default", "budget-alerts-prod-timer")]
    fn["Environment"]["Variables"] = [
        v if v["Key"] != "BUDGET_FANOUT_FUNCTION" else {"Key": v["Key"], "Value": "other"}
        for v in fn["Environment"]["Variables"]
    ]
    before = len(fake.mutations())
    run_deploy(environ)
    new = fake.mutations()[before:]
    assert [(a, p["FunctionName"]) for a, p in new] == [("UpdateFunctionConfiguration", "budget-alerts-prod-timer")]


def test_changed_code_updates_the_code_and_the_recorded_digest(
    fake: FakeScf, environ: dict[str, str], tmp_path: Path
) -> None:
    run_deploy(environ)
    Path(environ["BUDGET_DEPLOY_PACKAGE"]).write_bytes(make_zip({"timer_handler.py": "x = 3\n"}))
    before = len(fake.mutations())
    run_deploy(environ)
    new = [(a, p["FunctionName"]) for a, p in fake.mutations()[before:]]
    assert new == [
        ("UpdateFunctionCode", "budget-alerts-prod-timer"),
        ("UpdateFunctionConfiguration", "budget-alerts-prod-timer"),
        ("UpdateFunctionCode", "budget-alerts-prod-api"),
        ("UpdateFunctionConfiguration", "budget-alerts-prod-api"),
    ]
    third = len(fake.mutations())
    run_deploy(environ)
    assert len(fake.mutations()) == third


def test_dry_run_prints_the_plan_and_changes_nothing(fake: FakeScf, environ: dict[str, str]) -> None:
    lines = run_deploy(environ, dry_run=True)
    assert fake.mutations() == []
    assert not fake.functions
    plan = [line for line in lines if line.startswith("  ")]
    assert len(plan) == 5 and all(line.split()[0] == "create" for line in plan)
    assert any("dry run: 5 call(s) would be made" in line for line in lines)


def test_an_unset_referenced_variable_stops_before_any_call(fake: FakeScf, environ: dict[str, str]) -> None:
    del environ["WECOM_URL"]
    with pytest.raises(ConfigError, match="WECOM_URL"):
        run_deploy(environ)
    assert fake.requests == []


def test_an_api_token_the_function_would_refuse_stops_before_any_call(fake: FakeScf, environ: dict[str, str]) -> None:
    environ["BUDGET_API_TOKEN"] = "short-token"
    with pytest.raises(ConfigError, match="BUDGET_API_TOKEN: token 1 is shorter than 16 characters") as caught:
        run_deploy(environ)
    assert "short-token" not in str(caught.value)
    assert fake.requests == []


def test_a_missing_permission_names_the_cam_action(fake: FakeScf, environ: dict[str, str]) -> None:
    fake.refuse["CreateFunction"] = ("AuthFailure.UnauthorizedOperation", "not authorized")
    with pytest.raises(ApiError, match=r"scf:CreateFunction") as caught:
        run_deploy(environ)
    assert caught.value.code == "AuthFailure.UnauthorizedOperation"


def test_a_missing_role_prints_the_role_to_create(fake: FakeScf, environ: dict[str, str]) -> None:
    fake.refuse["CreateFunction"] = ("ResourceNotFound.Role", "role not found")
    with pytest.raises(ApiError) as caught:
        run_deploy(environ, role="NoSuchRole")
    message = str(caught.value)
    assert "scf.qcloud.com" in message and "NoSuchRole" in message and "CreateRole" in message


def test_a_function_we_did_not_create_is_neither_updated_nor_deleted(fake: FakeScf, environ: dict[str, str]) -> None:
    fake.functions[("default", "budget-alerts-prod-api")] = {
        "FunctionName": "budget-alerts-prod-api",
        "Description": "someone else's",
        "Runtime": "Python3.10",
        "Status": "Active",
    }
    with pytest.raises(ConfigError, match="not created by this deployer"):
        run_deploy(environ)
    with pytest.raises(ConfigError, match="not created by this deployer"):
        run_undeploy(environ)
    assert fake.mutations() == []


def test_undeploy_removes_what_deploy_created_and_nothing_else(fake: FakeScf, environ: dict[str, str]) -> None:
    run_deploy(environ)
    fake.functions[("default", "other-function")] = {"FunctionName": "other-function", "Status": "Active"}
    run_deploy({**environ}, role=None)  # a run without --role keeps the role the functions have
    assert fake.functions[("default", "budget-alerts-prod-timer")]["Role"] == "BudgetAlertsScfRole"
    lines = run_undeploy(environ)
    assert set(fake.functions) == {("default", "other-function")}
    deleted = [(a, p.get("TriggerName") or p["FunctionName"]) for a, p in fake.mutations() if a.startswith("Delete")]
    assert deleted == [
        ("DeleteTrigger", "every-10-minutes"),
        ("DeleteFunction", "budget-alerts-prod-timer"),
        ("DeleteTrigger", "budget-alerts-url"),
        ("DeleteFunction", "budget-alerts-prod-api"),
    ]
    assert lines[-1] == "undeploy: done"
    before = len(fake.mutations())
    run_undeploy(environ)  # nothing left: nothing to do
    assert len(fake.mutations()) == before


def test_new_functions_without_a_role_are_warned_about_once(fake: FakeScf, environ: dict[str, str]) -> None:
    first = run_deploy(environ, role=None)
    assert any(line.startswith("warning: no --role") for line in first)
    assert (
        "Role" not in fake.functions[("default", "budget-alerts-prod-timer")]
        or not (fake.functions[("default", "budget-alerts-prod-timer")]["Role"])
    )
    second = run_deploy(environ, role=None)  # nothing is created: nothing to warn about
    assert not any(line.startswith("warning: no --role") for line in second)


def test_a_code_object_scf_may_not_read_is_explained(fake: FakeScf, environ: dict[str, str]) -> None:
    fake.refuse["CreateFunction"] = ("UnauthorizedOperation.Role", "no permission to access your cos")
    with pytest.raises(ApiError, match="--code-bucket"):
        run_deploy(environ)


def test_functions_not_there_yet_are_not_reported_as_failures(
    fake: FakeScf, environ: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="lib"):
        run_deploy(environ)
    assert not [r for r in caplog.records if r.levelname == "WARNING" and "GetFunction" in r.getMessage()]
    assert logging.getLogger("lib.client").level == logging.NOTSET
