"""Billing cost by dimension and per day over ``responses``: the exact requests (GroupType/TagKey, PeriodType=day,
Conditions, paging, no PayerUin), each checked against the billing API reference, and what comes back of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import responses

from lib.client import ApiClient, Credentials, RetryPolicy
from lib.client.ratelimit import unlimited
from lib.config.models import Config
from lib.sources import collect
from tests import api_contract

BILLING_URL = "https://billing.tencentcloudapi.com/"
BILLING = ("billing", "2018-07-09")


def check(shape: str, value: Any) -> list[str]:
    """Every way ``value`` differs from the billing reference's object ``shape`` (tests/api_contract.py)."""
    return api_contract.check_object(BILLING, shape, value)


def test_the_contract_check_can_fail() -> None:
    assert check("DescribeBillSummaryRequest", {"Month": "2026-11", "GroupType": "tags"})  # not an enum value
    assert check("DescribeBillSummaryRequest", {"Month": "2026-11", "GroupType": "tag", "TagKey": "env"})  # not a list
    assert check("DescribeCostExplorerSummaryRequest", {"BeginTime": "x"})  # required members missing


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


NOW = at("2026-11-22T10:00:00+08:00")


@pytest.fixture
def client() -> Iterator[ApiClient]:
    with ApiClient(
        Credentials("AKIDdims", "dims-secret"), rate_limiter=unlimited(), retry=RetryPolicy(attempts=1)
    ) as c:
        yield c


def business(code: str, name: str, cost: str) -> dict[str, str]:
    return {"BusinessCode": code, "BusinessCodeName": name, "RealTotalCost": cost, "TotalCost": cost}


def group(key: str, value: str, *products: dict[str, str]) -> dict[str, Any]:
    total = sum((Decimal(p["RealTotalCost"]) for p in products), Decimal(0))
    return {"GroupKey": key, "GroupValue": value, "RealTotalCost": str(total), "Business": list(products)}


CDN, TEO, CVM = ("p_cdn", "CDN"), ("p_teo", "EdgeOne"), ("p_cvm", "CVM")
BY_TAG = {
    "Ready": 1,
    "SummaryDetail": [
        group("env", "prod", business(*CDN, "100.50"), business(*TEO, "40.25")),
        group("env", "staging", business(*CVM, "30.00")),
        group("team", "shop", business(*CDN, "100.50")),
        group("team", "", business(*TEO, "40.25"), business(*CVM, "30.00")),
    ],
}
BY_PROJECT = {
    "Ready": 1,
    "SummaryDetail": [
        group("0", "默认项目", business(*CDN, "100.50"), business(*TEO, "40.25")),
        group("1001", "内容站", business(*CVM, "30.00")),
    ],
}


class Fake:
    """Answers by action (a callable gets the body), records every request and its contract problems."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.problems: list[str] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        action = request.headers["X-TC-Action"]
        body = json.loads(request.body)
        self.requests.append((action, body))
        self.problems += api_contract.check_request(*BILLING, action, body)
        answer = self.answers[action]
        answer = answer(body) if callable(answer) else answer
        return 200, {}, json.dumps({"Response": {**answer, "RequestId": "req"}})


def run(client: ApiClient, answers: dict[str, Any], *budgets: dict[str, Any]) -> tuple[list[Any], Fake]:
    cfg = Config.model_validate({"budgets": [{"source": "billing", "metric": "cost", **b} for b in budgets]})
    fake = Fake(answers)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BILLING_URL, callback=fake)
        found = collect(cfg, client, NOW)
    assert fake.problems == []
    for _, body in fake.requests:
        assert "PayerUin" not in body and "PayerUins" not in body.get("Conditions", {})  # the own account's bill
    return found, fake


def values(found: list[Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], Decimal | None]:
    return {(o.budget, o.group): o.value for o in found}


def test_grouped_by_tag_one_request_for_every_tag_key(client: ApiClient) -> None:
    found, fake = run(
        client,
        {"DescribeBillSummary": BY_TAG},
        {"name": "by-env", "group_by": ["tag:env"], "limit": 100},
        {"name": "shop", "filters": {"tag:team": ["shop"]}, "limit": 100},
        {"name": "prod-cdn", "filters": {"tag:env": ["prod"], "product": ["p_cdn"]}, "limit": 100},
    )
    assert fake.requests == [
        ("DescribeBillSummary", {"Month": "2026-11", "GroupType": "tag", "TagKey": ["env", "team"]})
    ]
    assert values(found) == {
        ("by-env", (("tag:env", "prod"),)): Decimal("140.75"),
        ("by-env", (("tag:env", "staging"),)): Decimal("30.00"),
        ("shop", ()): Decimal("100.50"),
        ("prod-cdn", ()): Decimal("100.50"),
    }
    by_env = next(o for o in found if o.group == (("tag:env", "prod"),))
    assert by_env.breakdown == (("CDN", Decimal("100.50")), ("EdgeOne", Decimal("40.25")))


def test_project_filter_grouped_by_product(client: ApiClient) -> None:
    found, fake = run(
        client,
        {"DescribeBillSummary": BY_PROJECT},
        {"name": "p0", "filters": {"project": ["0"]}, "group_by": ["product"], "limit": 100},
    )
    assert fake.requests == [("DescribeBillSummary", {"Month": "2026-11", "GroupType": "project"})]
    assert values(found) == {
        ("p0", (("product", "p_cdn"),)): Decimal("100.50"),
        ("p0", (("product", "p_teo"),)): Decimal("40.25"),
    }


@pytest.mark.parametrize(
    ("key", "group_type"),
    [("product", "business"), ("project", "project"), ("region", "region"), ("pay-mode", "payMode")],
)
def test_each_key_picks_its_group_type(client: ApiClient, key: str, group_type: str) -> None:
    _, fake = run(client, {"DescribeBillSummary": {"Ready": 1, "SummaryDetail": []}}, {"name": "b", "group_by": [key]})
    assert fake.requests == [("DescribeBillSummary", {"Month": "2026-11", "GroupType": group_type})]


def test_ready_0_is_not_ready_never_zero(client: ApiClient) -> None:
    (obs,), _ = run(
        client, {"DescribeBillSummary": {"Ready": 0, "SummaryDetail": []}}, {"name": "b", "filters": {"region": ["x"]}}
    )
    assert (obs.ready, obs.value, obs.error) == (False, None, None)


def test_a_filter_with_nothing_billed_is_a_real_zero(client: ApiClient) -> None:
    (obs,), _ = run(client, {"DescribeBillSummary": BY_PROJECT}, {"name": "b", "filters": {"project": ["42"]}})
    assert obs.ok and obs.value == 0


def explorer(days: list[str], rows: list[tuple[str, list[str]]], total: int | None = None) -> dict[str, Any]:
    def detail(name: str, money: list[str]) -> dict[str, Any]:
        return {"Name": name, "Total": str(sum(map(Decimal, money))), "TimeDetail": [
            {"Time": d, "Money": m} for d, m in zip(days, money, strict=True)
        ]}  # fmt: skip

    totals = [str(sum(Decimal(r[1][i]) for r in rows)) for i in range(len(days))]
    return {
        "Total": len(rows) if total is None else total,
        "Header": {"HeadDetail": [{"Name": d} for d in days], "Name": "时间", "Total": "总计"},
        "Detail": [detail(n, m) for n, m in rows],
        "TotalDetail": detail("总计", totals),
        "ConditionValue": {
            "Business": [{"BusinessCode": "p_cdn", "BusinessCodeName": "CDN"}],
            "Project": [{"ProjectId": "1001", "ProjectName": "内容站"}, {"ProjectId": "0", "ProjectName": "默认项目"}],
        },
    }


DAYS = [f"2026-11-{d:02d}" for d in range(15, 23)]


def test_day_budget_asks_for_days_per_day_with_conditions(client: ApiClient) -> None:
    answer = explorer(DAYS, [("CDN", ["1", "2", "3", "4", "5", "6", "7", "8.5"])])
    (obs,), fake = run(
        client,
        {"DescribeCostExplorerSummary": answer},
        {"name": "daily", "period": "day", "filters": {"product": ["p_cdn"], "pay-mode": ["postPay"]}, "limit": 10},
    )
    assert fake.requests == [
        (
            "DescribeCostExplorerSummary",
            {
                "BeginTime": "2026-11-15 00:00:00",
                "EndTime": "2026-11-22 23:59:59",
                "BillType": "1",
                "PeriodType": "day",
                "Dimensions": "default",
                "FeeType": "cost",
                "PageSize": 100,
                "PageNo": 1,
                "Conditions": {"BusinessCodes": "p_cdn", "PayModes": "postPay"},
            },
        )
    ]
    assert obs.value == Decimal("8.5") and obs.period.start == at("2026-11-22T00:00:00+08:00")
    assert [p.value for p in obs.history] == [Decimal(v) for v in "1234567"]  # the days before: spike and charts
    assert [p.value for p in obs.series] == [Decimal("8.5")]


def test_day_budget_grouped_by_project_pages_and_maps_names_to_ids(client: ApiClient) -> None:
    pages = {
        1: explorer(DAYS[-2:], [("默认项目", ["3", "4"])], total=2),
        2: explorer(DAYS[-2:], [("内容站", ["1", "2"])], total=2),
    }
    found, fake = run(
        client,
        {"DescribeCostExplorerSummary": lambda body: pages[body["PageNo"]]},
        {"name": "daily", "period": "day", "group_by": ["project"], "limit": 10},
    )
    assert [(b["Dimensions"], b["PageNo"], b.get("NeedConditionValue")) for _, b in fake.requests] == [
        ("project", 1, "1"),
        ("project", 2, "1"),
    ]
    assert values(found) == {
        ("daily", (("project", "0"),)): Decimal(4),
        ("daily", (("project", "1001"),)): Decimal(2),
    }


def test_day_budget_by_tag_sends_the_tag_key_and_reads_untagged(client: ApiClient) -> None:
    answer = explorer(DAYS[-1:], [("prod", ["7"]), ("未分配", ["2"])])
    found, fake = run(
        client,
        {"DescribeCostExplorerSummary": answer},
        {"name": "daily", "period": "day", "group_by": ["tag:env"], "limit": 10},
        {"name": "prod", "period": "day", "filters": {"tag:env": ["prod"]}, "limit": 10},
    )
    assert [(b["Dimensions"], b["TagKeyStr"]) for _, b in fake.requests] == [("tags", "env")]  # one shared request
    assert values(found) == {
        ("daily", (("tag:env", "prod"),)): Decimal(7),
        ("daily", (("tag:env", ""),)): Decimal(2),
        ("prod", ()): Decimal(7),
    }
