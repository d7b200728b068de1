"""serverless.yml and the package shims agree with the code: handlers, runtime, cron, variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _serverless() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_both_functions_point_at_the_package_entry_files() -> None:
    from scripts.package import SHIMS

    functions = _serverless()["inputs"]["functions"]
    assert set(functions) == {"timer", "api"}
    for fn in functions.values():
        module, func = fn["handler"].split(".")
        assert f"{module}.py" in SHIMS and func == "main_handler"


def test_runtime_is_the_scf_python_310_and_the_timer_fits_in_the_claim_lease() -> None:
    from lib.state.repo import StateRepository

    inputs = _serverless()["inputs"]
    assert inputs["runtime"] == "Python3.10"
    lease = StateRepository.__init__.__kwdefaults__["lease"]
    lease_seconds = lease.total_seconds() if hasattr(lease, "total_seconds") else float(lease)
    # A run slower than the lease could see its deliveries taken over and sent twice.
    assert inputs["functions"]["timer"]["timeout"] < lease_seconds


def test_the_timer_fires_every_ten_minutes_with_a_seven_field_cron() -> None:
    timers = [t for t in _serverless()["inputs"]["triggers"] if t["type"] == "timer"]
    assert len(timers) == 1
    cron = timers[0]["parameters"]["cronExpression"]
    fields = cron.split()
    assert len(fields) == 7, cron
    assert fields[0] == "0" and fields[1] == "*/10" and fields[2:] == ["*"] * 5
    assert timers[0]["parameters"]["enable"] is True


def test_every_api_route_is_routed_to_the_api_function_with_integrated_responses() -> None:
    (gateway,) = [t for t in _serverless()["inputs"]["triggers"] if t["type"] == "apigw"]
    apis = gateway["parameters"]["apis"]
    assert all(a["function"] == "api" and a["isIntegratedResponse"] is True for a in apis)
    paths = {a["path"] for a in apis}
    for route in ("/health", "/status", "/usage", "/check", "/alerts", "/silences", "/silences/{id}", "/openapi.json"):
        assert route in paths


def test_every_variable_the_example_config_needs_is_deployed() -> None:
    config = yaml.safe_load((ROOT / "budgets.yaml").read_text(encoding="utf-8"))
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)\}", repr(config)))  # values only: comments may show ${VAR}
    deployed = {e["key"] for e in _serverless()["inputs"]["environments"]}
    assert needed, "the example configuration keeps its secrets in variables"
    assert needed <= deployed, needed - deployed
    assert {"BUDGET_CONFIG", "BUDGET_STATE", "BUDGET_API_TOKEN"} <= deployed
