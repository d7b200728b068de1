"""billing in the sandbox: cost by product, project, region, pay mode and tag (DescribeBillSummary and the
ByTag/ByProject/ByRegion summaries), and cost per day (DescribeCostExplorerSummary)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from sandbox import billing
from sandbox.api3 import ApiFailure
from sandbox.ledger import ledger_of, yuan
from sandbox.scenario import Scenario
from tests.unit.sandbox_support import SMALL, context, small

PRODUCTS = [
    {
        "code": "p_teo",
        "name": "EdgeOne",
        "prices": {"acc_flux": {"per": "1 GB", "yuan": "0.50"}},
        "tags": {"env": "prod", "team": "web"},
    },
    {
        "code": "p_cvm",
        "name": "CVM",
        "daily": "24.10",
        "project": 1001,
        "project_name": "shop",
        "region": "ap-shanghai",
        "region_name": "华东地区（上海）",
        "tags": {"env": "prod"},
    },
    {"code": "p_cvm", "name": "CVM", "daily": "10.00", "project": 1002, "project_name": "lab", "tags": {"env": "dev"}},
    {"code": "p_cdb", "name": "CDB", "pay_mode": "prePay", "daily": "3.33", "project": 1001, "project_name": "shop"},
]
MONTH = {"BeginTime": "2026-11", "EndTime": "2026-11"}
EXPLORER = {"BillType": "1", "FeeType": "cost", "PageSize": 100, "PageNo": 1}


def scenario(**billing_overrides: Any) -> Scenario:
    spec = copy.deepcopy(SMALL["billing"])
    spec["products"] = copy.deepcopy(PRODUCTS)
    spec.update(billing_overrides)
    return small(billing=spec)


def call(sc: Scenario, action: str, **params: Any) -> dict[str, Any]:
    return billing.PRODUCT.actions[action].handler(params, context(sc))


def code(sc: Scenario, action: str, **params: Any) -> str:
    with pytest.raises(ApiFailure) as info:
        call(sc, action, **params)
    return info.value.code


def month_fen(sc: Scenario) -> list[int]:
    return ledger_of(sc).month(2026, 11, sc.now().timestamp())


def expected(sc: Scenario, key: Any) -> dict[Any, int]:
    """Fen per group, computed from the ledger's per-product month."""
    out: dict[Any, int] = {}
    for product, fen in zip(PRODUCTS, month_fen(sc), strict=True):
        group = key(product)
        out[group] = out.get(group, 0) + fen
    return {k: v for k, v in out.items() if v}


# --- DescribeBillSummary ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group_type", "key"),
    [
        ("business", lambda p: (p["code"], p["name"])),
        ("project", lambda p: (str(p.get("project", 0)), p.get("project_name", "默认项目"))),
        ("region", lambda p: (p.get("region", "ap-guangzhou"), p.get("region_name", "华南地区（广州）"))),
        (
            "payMode",
            lambda p: (
                p.get("pay_mode", "postPay"),
                {"postPay": "按量计费", "prePay": "包年包月"}[p.get("pay_mode", "postPay")],
            ),
        ),
    ],
)
def test_bill_summary_groups_add_up_per_dimension(group_type: str, key: Any) -> None:
    sc = scenario()
    out = call(sc, "DescribeBillSummary", Month="2026-11", GroupType=group_type)
    assert out["Ready"] == 1
    got = {(d["GroupKey"], d["GroupValue"]): d["RealTotalCost"] for d in out["SummaryDetail"]}
    assert got == {k: yuan(v) for k, v in expected(sc, key).items()}
    for detail in out["SummaryDetail"]:
        inner = sum(Decimal(b["RealTotalCost"]) for b in detail["Business"])
        assert inner == Decimal(detail["RealTotalCost"]) == Decimal(detail["CashPayAmount"])
    total = sum(Decimal(d["RealTotalCost"]) for d in out["SummaryDetail"])
    assert total == Decimal(sum(month_fen(sc))) / 100


def test_bill_summary_by_tag_keys() -> None:
    sc = scenario()
    out = call(sc, "DescribeBillSummary", Month="2026-11", GroupType="tag", TagKey=["env", "team"])
    got = {(d["GroupKey"], d["GroupValue"]): d["RealTotalCost"] for d in out["SummaryDetail"]}
    env = expected(sc, lambda p: ("env", p.get("tags", {}).get("env", "")))
    team = expected(sc, lambda p: ("team", p.get("tags", {}).get("team", "")))
    assert got == {k: yuan(v) for k, v in {**env, **team}.items()}
    assert ("env", "") in got  # p_cdb has no env tag: its own group


def test_the_same_product_code_in_two_projects_is_one_business() -> None:
    sc = scenario()
    out = call(sc, "DescribeBillSummary", Month="2026-11", GroupType="business")
    assert [d["GroupKey"] for d in out["SummaryDetail"]].count("p_cvm") == 1


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"GroupType": "business"}, "MissingParameter"),
        ({"Month": "2026-11"}, "MissingParameter"),
        ({"Month": "2026-11", "GroupType": "tag"}, "MissingParameter"),
        ({"Month": "2026-11", "GroupType": "zone"}, "InvalidParameterValue"),
        ({"Month": "2026-13", "GroupType": "business"}, "InvalidParameterValue"),
        ({"Month": "2026-11-01", "GroupType": "business"}, "InvalidParameterValue"),
    ],
)
def test_bill_summary_errors(params: dict[str, Any], error: str) -> None:
    assert code(scenario(), "DescribeBillSummary", **params) == error


def test_a_month_that_is_not_ready_answers_ready_zero() -> None:
    sc = scenario(not_ready=["2026-11"])
    assert call(sc, "DescribeBillSummary", Month="2026-11", GroupType="business") == {"Ready": 0, "SummaryDetail": []}
    assert call(sc, "DescribeBillSummaryByProject", **MONTH)["Ready"] == 0
    assert call(sc, "DescribeBillSummaryByProduct", **MONTH)["Ready"] == 0
    assert call(sc, "DescribeBillSummary", Month="2026-10", GroupType="business")["Ready"] == 1
    assert call(scenario(ready=False), "DescribeBillSummary", Month="2026-10", GroupType="business")["Ready"] == 0


# --- ByTag / ByProject / ByRegion ---------------------------------------------------------------------


def test_by_project_and_by_region() -> None:
    sc = scenario()
    total = sum(month_fen(sc))
    projects = call(sc, "DescribeBillSummaryByProject", **MONTH)["SummaryOverview"]
    want = expected(sc, lambda p: (str(p.get("project", 0)), p.get("project_name", "默认项目")))
    assert {(p["ProjectId"], p["ProjectName"]): p["RealTotalCost"] for p in projects} == {
        k: yuan(v) for k, v in want.items()
    }
    assert {p["BillMonth"] for p in projects} == {"2026-11"}
    ratios = [Decimal(p["RealTotalCostRatio"]) for p in projects]
    assert abs(sum(ratios, Decimal(0)) - 100) <= Decimal("0.01") * len(ratios)
    regions = call(sc, "DescribeBillSummaryByRegion", **MONTH)["SummaryOverview"]
    assert sum(Decimal(r["RealTotalCost"]) for r in regions) == Decimal(total) / 100
    assert {r["RegionId"] for r in regions} == {"ap-guangzhou", "ap-shanghai"}


def test_by_tag_with_and_without_a_value() -> None:
    sc = scenario()
    out = call(sc, "DescribeBillSummaryByTag", **MONTH, TagKey="env")
    want = expected(sc, lambda p: p.get("tags", {}).get("env", ""))
    assert {o["TagValue"]: o["RealTotalCost"] for o in out["SummaryOverview"]} == {k: yuan(v) for k, v in want.items()}
    assert out["SummaryTotal"]["RealTotalCost"] == yuan(sum(want.values()))
    prod = call(sc, "DescribeBillSummaryByTag", **MONTH, TagKey="env", TagValue="prod")
    assert [o["TagValue"] for o in prod["SummaryOverview"]] == ["prod"]
    assert prod["SummaryOverview"][0]["RealTotalCostRatio"] == "100.00"
    assert code(sc, "DescribeBillSummaryByTag", **MONTH) == "MissingParameter"


# --- DescribeCostExplorerSummary ----------------------------------------------------------------------


def test_daily_cost_adds_up_to_the_month() -> None:
    sc = scenario()
    out = call(
        sc,
        "DescribeCostExplorerSummary",
        **EXPLORER,
        BeginTime="2026-11-01 00:00:00",
        EndTime="2026-11-30 23:59:59",
        PeriodType="day",
        Dimensions="business",
    )
    labels = [h["Name"] for h in out["Header"]["HeadDetail"]]
    assert labels == [f"2026-11-{d:02d}" for d in range(1, 31)]
    days = [Decimal(t["Money"]) for t in out["TotalDetail"]["TimeDetail"]]
    assert sum(days) == Decimal(out["TotalDetail"]["Total"]) == Decimal(sum(month_fen(sc))) / 100
    assert days[10:] == [Decimal(0)] * 20  # the data clock is 2026-11-10 12:00: later days are 0
    assert days[8] > 0
    assert out["Total"] == len(out["Detail"]) == 3  # EdgeOne, CVM (two projects, one code), CDB
    cvm = next(d for d in out["Detail"] if d["Name"] == "CVM")
    assert Decimal(cvm["TimeDetail"][3]["Money"]) == Decimal("34.10")  # 24.10 + 10.00 a full day


def test_one_day_matches_the_ledger_and_months_add_up() -> None:
    sc = scenario()
    day = call(
        sc,
        "DescribeCostExplorerSummary",
        **EXPLORER,
        BeginTime="2026-11-05 00:00:00",
        EndTime="2026-11-05 00:00:00",
        PeriodType="day",
        Dimensions="default",
    )
    fen = ledger_of(sc).day(sc.now().date().replace(day=5), sc.now().timestamp())
    assert day["TotalDetail"]["Total"] == yuan(sum(fen))
    assert day["Detail"] == []
    months = call(
        sc,
        "DescribeCostExplorerSummary",
        **EXPLORER,
        BeginTime="2026-10-15 00:00:00",
        EndTime="2026-11-30 00:00:00",
        PeriodType="month",
        Dimensions="project",
    )
    assert [h["Name"] for h in months["Header"]["HeadDetail"]] == ["2026-10", "2026-11"]
    assert months["TotalDetail"]["TimeDetail"][1]["Money"] == yuan(sum(month_fen(sc)))


def test_tags_dimension_conditions_paging_and_condition_values() -> None:
    sc = scenario()
    base = {**EXPLORER, "BeginTime": "2026-11-01 00:00:00", "EndTime": "2026-11-09 00:00:00", "PeriodType": "day"}
    tags = call(sc, "DescribeCostExplorerSummary", **base, Dimensions="tags", TagKeyStr="env")
    assert {d["Name"] for d in tags["Detail"]} == {"prod", "dev", "未分配"}
    only_cvm = call(
        sc, "DescribeCostExplorerSummary", **base, Dimensions="project", Conditions={"BusinessCodes": "p_cvm"}
    )
    assert {d["Name"] for d in only_cvm["Detail"]} == {"shop", "lab"}
    paged = call(sc, "DescribeCostExplorerSummary", **{**base, "PageSize": 1, "PageNo": 2}, Dimensions="business")
    assert paged["Total"] == 3
    assert len(paged["Detail"]) == 1
    values = call(sc, "DescribeCostExplorerSummary", **base, Dimensions="business", NeedConditionValue="1")
    assert [b["BusinessCode"] for b in values["ConditionValue"]["Business"]] == ["p_teo", "p_cvm", "p_cdb"]
    assert tags["ConditionValue"] is None


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"BeginTime": "2026-11-01"}, "InvalidParameterValue"),
        ({"EndTime": "2026-10-01 00:00:00"}, "InvalidParameterValue"),
        ({"BeginTime": "2025-11-01 00:00:00"}, "InvalidParameterValue"),
        ({"PeriodType": "week"}, "InvalidParameterValue"),
        ({"Dimensions": "zone"}, "InvalidParameterValue"),
        ({"Dimensions": "tags"}, "MissingParameter"),
        ({"BillType": "3"}, "InvalidParameterValue"),
        ({"FeeType": None}, "MissingParameter"),
        ({"PageSize": 101}, "InvalidParameterValue"),
        ({"PageNo": 0}, "InvalidParameterValue"),
        ({"Conditions": {"Tags": "env:prod"}}, "InvalidParameterValue"),
    ],
)
def test_cost_explorer_errors(params: dict[str, Any], error: str) -> None:
    query = {
        **EXPLORER,
        "BeginTime": "2026-11-01 00:00:00",
        "EndTime": "2026-11-09 00:00:00",
        "PeriodType": "day",
        "Dimensions": "business",
        **params,
    }
    assert code(scenario(), "DescribeCostExplorerSummary", **{k: v for k, v in query.items() if v is not None}) == error
