"""Budgets of 250 and 1,000 zones: they validate, and a check asks EdgeOne 100 zones at a time.

``DescribeBillingData`` takes at most 100 ``ZoneIds``; the configuration takes any number and the
planner batches them. Over ``responses``: the exact batches, ⌈n/100⌉ requests per metric and window,
and one evaluation per zone in the check's result document.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import pytest
import responses
import yaml

from lib.app.runtime import App
from lib.client import ApiClient, Credentials, RetryPolicy
from lib.client.ratelimit import unlimited
from lib.config.loader import parse_config
from lib.state.memory import MemoryStore

TEO_URL = "https://teo.tencentcloudapi.com/"
BILLING_URL = "https://billing.tencentcloudapi.com/"
NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")
METRICS = ("acc_flux", "smt_flux")
DAILY = 1000  # bytes per zone per day bucket


def zone_ids(prefix: str, n: int) -> list[str]:
    return [f"zone-{prefix}{i:04d}" for i in range(n)]


class Recorder:
    """EdgeOne's DescribeBillingData: every listed zone used ``DAILY`` bytes in each day bucket."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        params = json.loads(request.body)
        assert request.headers["X-TC-Action"] == "DescribeBillingData", request.headers["X-TC-Action"]
        self.requests.append(params)
        if len(params["ZoneIds"]) > 100:  # the API's own limit
            body = {"Error": {"Code": "InvalidParameter", "Message": "ZoneIds: at most 100"}}
            return 200, {}, json.dumps({"Response": {**body, "RequestId": "r"}})
        days = ("2026-11-20T16:00:00Z", "2026-11-21T16:00:00Z")
        data = [{"Time": t, "Value": DAILY, "ZoneId": z} for z in params["ZoneIds"] for t in days]
        return 200, {}, json.dumps({"Response": {"Data": data, "RequestId": "r"}})


def config_text(budgets: dict[str, list[str]]) -> str:
    doc = {
        "timezone": "Asia/Shanghai",
        "channels": {"ops": {"type": "webhook", "url": "https://hooks.example.com/budget"}},
        "budgets": [
            {
                "name": f"{name}-{metric}",
                "source": "teo",
                "metric": metric,
                "zones": zones,
                "group_by": ["zone-id"],
                "limit": "1TB",
                "channels": ["ops"],
            }
            for name, zones in budgets.items()
            for metric in METRICS
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.mark.parametrize("n", [250, 1000])
def test_a_budget_of_n_zones_validates_and_checks_in_batches_of_100(n: int) -> None:
    zones = zone_ids("a", n)
    config = parse_config(config_text({f"zones-{n}": zones}), environ={})
    assert config.budgets[0].zones == tuple(zones)

    fake = Recorder()
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        ApiClient(
            Credentials("AKIDzones", "zones-secret"), rate_limiter=unlimited(), retry=RetryPolicy(attempts=1)
        ) as c,
    ):
        mock.add_callback(responses.POST, TEO_URL, callback=fake)
        app = App.from_env({}, config=config, store=MemoryStore("zones"), client=c, clock=lambda: NOW)
        result = app.run_check(at=NOW, dry_run=True, trigger="cli").to_dict()

    assert config.budgets[1].zones == tuple(zones)
    window = ("2026-11-01T00:00:00+08:00", "2026-11-22T10:00:00+08:00")
    assert {(p["StartTime"], p["EndTime"]) for p in fake.requests} == {window}
    assert len(fake.requests) == len(METRICS) * math.ceil(n / 100)
    for metric in METRICS:
        batches = [p["ZoneIds"] for p in fake.requests if p["MetricName"] == metric]
        # Sent concurrently, so in any order; each batch is 100 consecutive zones of the list, the last the rest.
        assert sorted(batches) == [zones[i : i + 100] for i in range(0, n, 100)]
    assert result["errors"] == []
    evaluations = result["evaluations"]
    assert len(evaluations) == len(METRICS) * n
    for metric in METRICS:
        mine = [e for e in evaluations if e["budget"] == f"zones-{n}-{metric}"]
        assert sorted(e["group"]["zone-id"] for e in mine) == sorted(zones)
    assert {e["value"] for e in evaluations} == {2 * DAILY}
    assert {e["status"] for e in evaluations} == {"ok"}


def test_two_large_budgets_share_requests_per_metric_and_window() -> None:
    first, second = zone_ids("b", 250), zone_ids("c", 1000)
    config = parse_config(config_text({"small": first, "large": second}), environ={})
    fake = Recorder()
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        ApiClient(
            Credentials("AKIDzones", "zones-secret"), rate_limiter=unlimited(), retry=RetryPolicy(attempts=1)
        ) as c,
    ):
        mock.add_callback(responses.POST, TEO_URL, callback=fake)
        app = App.from_env({}, config=config, store=MemoryStore("zones"), client=c, clock=lambda: NOW)
        result = app.run_check(at=NOW, dry_run=True, trigger="cli").to_dict()
    # Grouped by zone, the two lists are one question per metric: 1,250 zones are ⌈1250/100⌉ = 13 requests.
    assert len(fake.requests) == len(METRICS) * math.ceil((250 + 1000) / 100)
    for metric in METRICS:
        sent = [z for p in fake.requests if p["MetricName"] == metric for z in p["ZoneIds"]]
        assert sorted(sent) == sorted(first + second)
    assert all(len(p["ZoneIds"]) <= 100 for p in fake.requests)
    assert len(result["evaluations"]) == len(METRICS) * 1250
    assert result["errors"] == []
