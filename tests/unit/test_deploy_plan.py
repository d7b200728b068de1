"""The deployer's pure parts: names, the plan against observed state, environment names, URLs, digests."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lib.cli import build_parser
from lib.deploy.commands import function_url
from lib.deploy.environment import describe_changes, referenced_names
from lib.deploy.package import build, code_digest, with_config, zip_bytes
from lib.deploy.plan import Observed, mutating, plan_deploy, plan_function, plan_trigger, plan_undeploy
from lib.deploy.spec import (
    ASYNC_RETRY,
    MARKER,
    Target,
    code_sha256_of,
    desired_functions,
    desired_triggers,
    is_ours,
)
from lib.errors import ConfigError

SHA = "a" * 64
TARGET = Target(stage="prod")


def _functions(**env: str) -> tuple[Any, Any]:
    return desired_functions(TARGET, code_sha256=SHA, environment={"BUDGET_STATE": "cos://x", **env}, role="R")


def _deployed(spec: Any) -> dict[str, Any]:
    """What GetFunction answers for a function deployed from ``spec``."""
    return {
        "FunctionName": spec.name,
        "Handler": spec.handler,
        "Description": spec.description,
        "MemorySize": spec.memory,
        "Timeout": spec.timeout,
        "Runtime": "Python3.10",
        "Role": spec.role,
        "Environment": {"Variables": [{"Key": k, "Value": v} for k, v in spec.environment.items()]},
        "Status": "Active",
    }


def test_names_and_defaults_follow_the_stage() -> None:
    target = Target()
    assert (target.region, target.namespace, target.stage) == ("ap-guangzhou", "default", "prod")
    assert Target(stage="dev").functions == ("budget-alerts-dev-timer", "budget-alerts-dev-api")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [("--stage", {"stage": "bad_stage"}), ("--stage", {"stage": "x" * 41}), ("--region", {"region": "Guangzhou"})],
)
def test_bad_targets_are_usage_errors_naming_the_flag(field: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=field):
        Target(**kwargs)


def test_the_description_records_the_digest_and_the_marker() -> None:
    timer, _api = _functions()
    assert code_sha256_of(timer.description) == SHA
    assert is_ours(timer.description) and MARKER in timer.description
    assert not is_ours("someone else's function") and is_ours("", {"budget-alerts-stage": "prod"})
    # SCF descriptions: letters, digits, spaces, commas and full stops
    assert all(c.isalnum() or c in " ,." for c in timer.description)


def test_only_the_timer_fans_out_to_itself() -> None:
    timer, api = _functions()
    assert timer.environment["BUDGET_FANOUT_FUNCTION"] == "budget-alerts-prod-timer"
    assert "BUDGET_FANOUT_FUNCTION" not in api.environment


def test_a_missing_function_is_created_with_code_and_waited_for() -> None:
    timer, _ = _functions()
    change = plan_function(timer, None, "default")
    assert change.kind == "create"
    (request,) = change.requests
    assert request.action == "CreateFunction" and request.code and request.wait == timer.name
    assert request.params["Runtime"] == "Python3.10" and request.params["Role"] == "R"
    assert "cos://x" not in change.detail  # names only in what is printed


def test_an_identical_function_is_unchanged() -> None:
    timer, _ = _functions()
    assert plan_function(timer, _deployed(timer), "default").kind == "unchanged"


def test_a_changed_variable_is_one_configuration_update_with_only_the_environment() -> None:
    timer, _ = _functions(WECOM_URL="old")
    wanted, _ = _functions(WECOM_URL="new")
    change = plan_function(wanted, _deployed(timer), "default")
    (request,) = change.requests
    assert request.action == "UpdateFunctionConfiguration"
    assert set(request.params) == {"FunctionName", "Namespace", "Environment"}
    assert change.detail == "environment: WECOM_URL changed"


def test_new_code_updates_code_then_the_description() -> None:
    timer, _ = _functions()
    newer = desired_functions(TARGET, code_sha256="b" * 64, environment=dict(timer.environment), role="R")[0]
    change = plan_function(newer, _deployed(timer), "default")
    assert [r.action for r in change.requests] == ["UpdateFunctionCode", "UpdateFunctionConfiguration"]
    assert change.requests[1].params["Description"] == newer.description


def test_a_run_without_role_keeps_the_deployed_role() -> None:
    timer, _ = _functions()
    no_role = desired_functions(TARGET, code_sha256=SHA, environment={"BUDGET_STATE": "cos://x"}, role=None)[0]
    assert plan_function(no_role, _deployed(timer), "default").kind == "unchanged"


def test_a_foreign_function_or_another_runtime_is_refused() -> None:
    timer, _ = _functions()
    with pytest.raises(ConfigError, match="not created by this deployer"):
        plan_function(timer, {**_deployed(timer), "Description": "hand made"}, "default")
    with pytest.raises(ConfigError, match="cannot change a runtime"):
        plan_function(timer, {**_deployed(timer), "Runtime": "Python3.9"}, "default")


def test_triggers_compare_by_meaning_not_by_spelling() -> None:
    timer_trigger, url_trigger = desired_triggers(TARGET)
    listed_timer = {"TriggerName": timer_trigger.name, "Type": "timer", "TriggerDesc": '{"cron":"0 */10 * * * * *"}'}
    assert plan_trigger(timer_trigger, [listed_timer], "default").kind == "unchanged"
    listed_url = {
        "TriggerName": url_trigger.name,
        "Type": "http",
        "TriggerDesc": json.dumps({"AuthType": "NONE", "NetConfig": {"EnableExtranet": True}, "Url": "https://u"}),
        "Enable": 1,
    }
    assert plan_trigger(url_trigger, [listed_url], "default").kind == "unchanged"
    cam = {**listed_url, "TriggerDesc": json.dumps({"AuthType": "CAM", "NetConfig": {"EnableExtranet": True}})}
    assert [r.action for r in plan_trigger(url_trigger, [cam], "default").requests] == ["UpdateTrigger"]
    assert plan_trigger(timer_trigger, [{**listed_timer, "Enable": 0}], "default").detail == "enable"


def test_a_clean_plan_is_five_calls_in_dependency_order() -> None:
    changes = plan_deploy(
        _functions(), desired_triggers(TARGET), (TARGET.timer_function, ASYNC_RETRY), Observed({}), "default"
    )
    assert [r.action for r in mutating(changes)] == [
        "CreateFunction",
        "CreateFunction",
        "UpdateFunctionEventInvokeConfig",
        "CreateTrigger",
        "CreateTrigger",
    ]


def test_undeploy_deletes_only_our_triggers_then_the_function() -> None:
    timer, _ = _functions()
    observed = Observed(
        {timer.name: _deployed(timer), TARGET.api_function: None},
        {timer.name: [{"TriggerName": "every-10-minutes", "Type": "timer"}, {"TriggerName": "x", "Type": "cos"}]},
    )
    changes = plan_undeploy(TARGET.functions, ["every-10-minutes", "budget-alerts-url"], observed, "default")
    assert [(r.action, r.params.get("TriggerName")) for r in mutating(changes)] == [
        ("DeleteTrigger", "every-10-minutes"),
        ("DeleteFunction", None),
    ]
    assert changes[-1].kind == "unchanged"


def test_referenced_names_include_defaults_and_skip_escapes() -> None:
    data = {"a": "${ONE}", "b": ["x ${TWO:-d} ${THREE}"], "c": "$${NOT_A_VAR}", "d": 5}
    assert referenced_names(data) == {"ONE", "TWO", "THREE"}


def test_changes_are_described_by_name_only() -> None:
    assert describe_changes({"A": "1", "B": "2"}, {"B": "3", "C": "4"}) == "C added; B changed; A removed"


def test_the_url_is_read_from_the_http_trigger_description() -> None:
    triggers = [
        {"Type": "timer", "TriggerDesc": '{"cron":"0 * * * * * *"}'},
        {
            "Type": "http",
            "TriggerDesc": json.dumps({"AuthType": "NONE", "Url": "https://1-a.ap-guangzhou.tencentscf.com"}),
        },
    ]
    assert function_url(triggers) == "https://1-a.ap-guangzhou.tencentscf.com"
    assert function_url([{"Type": "http", "TriggerDesc": "{}"}]) is None


def test_the_digest_is_stable_across_builds_and_ignores_byte_code(tmp_path: Path) -> None:
    first = zip_bytes(build(tmp_path / "one", wheels=False))
    second_folder = build(tmp_path / "two", wheels=False)
    (second_folder / "lib" / "__pycache__").mkdir(exist_ok=True)
    (second_folder / "lib" / "__pycache__" / "x.cpython-310.pyc").write_bytes(b"different every build")
    assert code_digest(first) == code_digest(zip_bytes(second_folder))
    assert code_digest(with_config(first, "timezone: UTC\n")) != code_digest(first)
    with zipfile.ZipFile(io.BytesIO(with_config(first, "timezone: UTC\n"))) as zf:
        assert zf.read("budgets.yaml") == b"timezone: UTC\n"
        assert {"timer_handler.py", "api_handler.py", "lib/deploy/plan.py"} <= set(zf.namelist())


def test_the_command_line_takes_exactly_the_documented_flags() -> None:
    parser = build_parser()
    flags = "deploy --dry-run --region ap-shanghai --namespace ns --stage dev --role R --code-bucket code-1250000000"
    args = parser.parse_args(flags.split())
    assert (args.dry_run, args.region, args.namespace, args.stage, args.role, args.code_bucket) == (
        True, "ap-shanghai", "ns", "dev", "R", "code-1250000000",
    )  # fmt: skip
    args = parser.parse_args(["undeploy", "--region", "ap-shanghai", "--namespace", "ns", "--stage", "dev"])
    assert (args.command, args.stage) == ("undeploy", "dev")
    with pytest.raises(SystemExit):
        parser.parse_args(["undeploy", "--role", "R"])
