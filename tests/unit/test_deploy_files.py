"""serverless.yml, the Terraform example and the package shims agree with the code and with each other.

Checked against multi-scf's published schema (serverless-components/tencent-multi-scf v0.3.14,
``component.yml``): the region is in its allow list, memorySize in its list (64, then 128-3072 in steps
of 128), timeout within 1-900; its runtime list stops at Python3.7, so the docs must carry the
``--noValidation`` note. Not checkable here: that the registry's current multi-scf accepts an ``http``
trigger (tencent-component-toolkit >= 2.26.0) and how the CLI treats an unset ``${env:X}``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from lib.deploy import spec
from lib.deploy.environment import BUDGET_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "deployment.md"
TERRAFORM = ROOT / "docs" / "terraform" / "main.tf"
# From multi-scf v0.3.14 component.yml (actions.deploy.inputs).
SCHEMA_REGIONS = {
    "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-guangzhou", "ap-hongkong", "ap-mumbai", "ap-seoul",
    "ap-shanghai", "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-singapore", "ap-tokyo", "eu-frankfurt",
    "na-siliconvalley", "na-toronto",
}  # fmt: skip
SCHEMA_RUNTIMES_PYTHON = {"Python2.7", "Python3.6", "Python3.7"}
SCHEMA_MEMORY = {64, *range(128, 3072 + 1, 128)}


def _serverless() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _env(entries: list[dict[str, str]]) -> dict[str, str]:
    return {e["key"]: e["value"] for e in entries}


def test_both_functions_point_at_the_package_entry_files() -> None:
    from scripts.package import SHIMS

    functions = _serverless()["inputs"]["functions"]
    assert set(functions) == {"timer", "api"}
    assert functions["timer"]["handler"] == spec.TIMER_HANDLER
    assert functions["api"]["handler"] == spec.API_HANDLER
    for fn in functions.values():
        module, func = fn["handler"].split(".")
        assert f"{module}.py" in SHIMS and func == "main_handler"


def test_function_names_are_the_deploy_commands_names_for_the_stage() -> None:
    doc = _serverless()
    target = spec.Target(region=doc["inputs"]["region"], stage=doc["stage"])
    functions = doc["inputs"]["functions"]
    assert functions["timer"]["name"] == target.timer_function
    assert functions["api"]["name"] == target.api_function


def test_runtime_is_the_scf_python_310_and_the_timer_fits_in_the_claim_lease() -> None:
    from lib.state.repo import StateRepository

    inputs = _serverless()["inputs"]
    assert inputs["runtime"] == spec.RUNTIME == "Python3.10"
    defaults = StateRepository.__init__.__kwdefaults__
    assert defaults is not None
    lease = defaults["lease"]
    lease_seconds = lease.total_seconds() if hasattr(lease, "total_seconds") else float(lease)
    # A run slower than the lease could see its deliveries taken over and sent twice.
    assert inputs["functions"]["timer"]["timeout"] < lease_seconds


def test_inputs_fit_the_multi_scf_schema_except_the_runtime_which_the_docs_explain() -> None:
    inputs = _serverless()["inputs"]
    assert inputs["region"] in SCHEMA_REGIONS
    for where in (inputs, *inputs["functions"].values()):
        assert where.get("memorySize", 128) in SCHEMA_MEMORY
        assert 1 <= where.get("timeout", 3) <= 900
    assert inputs["runtime"] not in SCHEMA_RUNTIMES_PYTHON
    docs = DOCS.read_text(encoding="utf-8")
    assert "--noValidation" in docs and "--noValidation" in (ROOT / "serverless.yml").read_text(encoding="utf-8")


def test_the_timer_fires_every_ten_minutes_with_a_seven_field_cron() -> None:
    timers = [t for t in _serverless()["inputs"]["triggers"] if t["type"] == "timer"]
    assert len(timers) == 1
    cron = timers[0]["parameters"]["cronExpression"]
    assert cron == spec.TIMER_CRON
    fields = cron.split()
    assert len(fields) == 7, cron
    assert fields[0] == "0" and fields[1] == "*/10" and fields[2:] == ["*"] * 5
    assert timers[0]["parameters"]["enable"] is True


def test_the_api_has_a_public_function_url_and_no_api_gateway() -> None:
    triggers = _serverless()["inputs"]["triggers"]
    assert not [t for t in triggers if t["type"] == "apigw"], "API Gateway triggers were retired in 2025"
    (url,) = [t for t in triggers if t["type"] == "http"]
    assert url["function"] == "api"
    assert url["parameters"]["authType"] == spec.URL_TRIGGER_DESC["AuthType"] == "NONE"
    assert url["parameters"]["netConfig"]["enableExtranet"] is True


def test_the_timer_environment_is_the_shared_one_plus_its_own_fan_out_target() -> None:
    inputs = _serverless()["inputs"]
    shared = _env(inputs["environments"])
    timer = _env(inputs["functions"]["timer"]["environments"])
    assert timer == {**shared, "BUDGET_FANOUT_FUNCTION": inputs["functions"]["timer"]["name"]}
    assert "environments" not in inputs["functions"]["api"]  # the api takes the shared list


def test_every_variable_the_example_config_needs_is_deployed() -> None:
    config = yaml.safe_load((ROOT / "budgets.yaml").read_text(encoding="utf-8"))
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)\}", repr(config)))  # values only: comments may show ${VAR}
    deployed = set(_env(_serverless()["inputs"]["environments"]))
    assert needed, "the example configuration keeps its secrets in variables"
    assert needed <= deployed, needed - deployed
    assert {"BUDGET_CONFIG", "BUDGET_STATE", "BUDGET_API_TOKEN"} <= deployed
    assert {k for k in deployed if k.startswith("BUDGET_")} <= set(BUDGET_VARIABLES)
    assert not [k for k in deployed if k.startswith("TENCENTCLOUD_")], "credentials come from the role"


def test_every_env_reference_is_documented_as_required() -> None:
    """An unset ${env:X} becomes the text "undefined": each one is listed in the docs' table of variables."""
    text = (ROOT / "serverless.yml").read_text(encoding="utf-8")
    referenced = set(re.findall(r"\$\{env:([A-Za-z0-9_]+)\}", text))
    assert referenced
    docs = DOCS.read_text(encoding="utf-8")
    section = docs.split("<!-- serverless-variables -->")[1]
    listed = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.MULTILINE))
    assert referenced == listed, (referenced - listed, listed - referenced)


def test_the_terraform_example_deploys_the_same_functions_and_triggers() -> None:
    text = TERRAFORM.read_text(encoding="utf-8")
    assert text.count('resource "tencentcloud_scf_function"') == 2
    for value in (spec.TIMER_HANDLER, spec.API_HANDLER, spec.RUNTIME, spec.TIMER_CRON, "scf.qcloud.com"):
        assert value in text, value
    assert re.search(r'type\s*=\s*"http"', text) and re.search(r'type\s*=\s*"timer"', text)
    assert "apigw" not in text
    assert "BUDGET_FANOUT_FUNCTION" in text
    assert not re.search(r"TENCENTCLOUD_\w+\s*=", text), "credentials come from the role, never the environment"
