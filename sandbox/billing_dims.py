"""Billing (billing 2018-07-09) cost by dimension and by day: DescribeBillSummary, DescribeBillSummaryByTag,
DescribeBillSummaryByProject, DescribeBillSummaryByRegion and DescribeCostExplorerSummary.

Every billed product of the scenario sits in one project and one region and carries its tags
(``billing.products[].project/region/tags``); list a product twice (same code) to split it. Amounts are
the ledger's exact fen (``sandbox/ledger.py``) as 8-decimal yuan strings. A month listed in
``billing.not_ready`` (or every month with ``ready: false``) answers ``Ready=0`` and no rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.api3 import Action, ApiFailure, Context
from sandbox.ledger import PAY_MODE_NAMES, amounts, bill_month, ledger_of, yuan
from sandbox.scenario_spec import ProductSpec

GROUP_TYPES = ("business", "project", "region", "payMode", "tag")
EXPLORER_DIMENSIONS = {
    "default": "总计",
    "business": "产品",
    "project": "项目",
    "region": "地域",
    "payMode": "计费模式",
    "tags": "标签",
}
UNTAGGED = ""
_MONTH_ONLY = re.compile(r"^(\d{4})-(\d{2})$")
_DATE_TIME = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100
MAX_DAYS = 366

GroupOf = Callable[[ProductSpec], tuple[str, str]]  # a product -> (group key, group value)


def _group_of(group_type: str, tag_key: str = "") -> GroupOf:
    if group_type == "business":
        return lambda p: (p.code, p.name)
    if group_type == "project":
        return lambda p: (str(p.project), p.project_name)
    if group_type == "region":
        return lambda p: (p.region, p.region_name)
    if group_type == "payMode":
        return lambda p: (p.pay_mode, PAY_MODE_NAMES[p.pay_mode])
    return lambda p: (tag_key, p.tags.get(tag_key, UNTAGGED))


def _grouped(products: tuple[ProductSpec, ...], fen: list[int], group_of: GroupOf) -> dict[tuple[str, str], int]:
    """Fen per group, in the order groups first appear; groups that cost nothing are left out."""
    out: dict[tuple[str, str], int] = {}
    for product, cost in zip(products, fen, strict=True):
        key = group_of(product)
        out[key] = out.get(key, 0) + cost
    return {k: v for k, v in out.items() if v}


def _money(fen: int) -> dict[str, str]:
    """The amount fields without a ratio: everything is paid in cash here."""
    return {k: v for k, v in amounts(fen, fen).items() if k != "RealTotalCostRatio"}


def _month_param(params: dict[str, Any]) -> tuple[int, int]:
    text = params.get("Month")
    if not text:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `Month`.")
    match = _MONTH_ONLY.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ApiFailure("InvalidParameterValue", f"`Month` must be a month like 2026-11, not {text!r}.")
    return int(match.group(1)), int(match.group(2))


def describe_bill_summary(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    year, month = _month_param(params)
    group_type = params.get("GroupType")
    if not group_type:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `GroupType`.")
    if group_type not in GROUP_TYPES:
        raise ApiFailure(
            "InvalidParameterValue", f"`GroupType` must be one of {', '.join(GROUP_TYPES)}, not `{group_type}`."
        )
    tag_keys = params.get("TagKey") or []
    if group_type == "tag" and not tag_keys:
        raise ApiFailure("MissingParameter", "`TagKey` is required with GroupType tag: name the tag keys to group by.")
    ledger = ledger_of(ctx.scenario)
    if not ledger.ready(year, month):
        return {"Ready": 0, "SummaryDetail": []}
    fen = ledger.month(year, month, ctx.now.timestamp())
    group_ofs = (
        [_group_of("tag", k) for k in dict.fromkeys(tag_keys)] if group_type == "tag" else [_group_of(group_type)]
    )
    details = []
    for group_of in group_ofs:
        for (key, value), cost in _grouped(ledger.products, fen, group_of).items():
            members = [(p, c) for p, c in zip(ledger.products, fen, strict=True) if c and group_of(p) == (key, value)]
            business = _grouped(tuple(p for p, _ in members), [c for _, c in members], _group_of("business"))
            details.append(
                {
                    "GroupKey": key,
                    "GroupValue": value,
                    **_money(cost),
                    "Business": [
                        {"BusinessCode": code, "BusinessCodeName": name, **_money(c)}
                        for (code, name), c in business.items()
                    ],
                }
            )
    return {"Ready": 1, "SummaryDetail": details}


def _overview(params: dict[str, Any], ctx: Context, group_of: GroupOf) -> tuple[int, list[tuple[str, str, int]], int]:
    """(Ready, [(key, value, fen)], total fen) of one month grouped by ``group_of``."""
    year, month = bill_month(params)
    ledger = ledger_of(ctx.scenario)
    if not ledger.ready(year, month):
        return 0, [], 0
    fen = ledger.month(year, month, ctx.now.timestamp())
    groups = _grouped(ledger.products, fen, group_of)
    return 1, [(k, v, c) for (k, v), c in groups.items()], sum(groups.values())


def describe_bill_summary_by_tag(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    tag_key = params.get("TagKey")
    if not tag_key:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `TagKey`.")
    ready, rows, _ = _overview(params, ctx, _group_of("tag", tag_key))
    wanted = params.get("TagValue")
    if wanted is not None:
        rows = [r for r in rows if r[1] == wanted]
    total = sum(c for _, _, c in rows)
    overview = [{"TagValue": value, **amounts(cost, total)} for _, value, cost in rows]
    summary = {"RealTotalCost": yuan(total), "TotalCost": yuan(total)}
    return {"Ready": ready, "SummaryOverview": overview, "SummaryTotal": summary}


def describe_bill_summary_by_project(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ready, rows, total = _overview(params, ctx, _group_of("project"))
    year, month = bill_month(params)
    overview = [
        {"ProjectId": key, "ProjectName": value, **amounts(cost, total), "BillMonth": f"{year:04d}-{month:02d}"}
        for key, value, cost in rows
    ]
    return {"Ready": ready, "SummaryOverview": overview}


def describe_bill_summary_by_region(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ready, rows, total = _overview(params, ctx, _group_of("region"))
    year, month = bill_month(params)
    overview = [
        {"RegionId": key, "RegionName": value, **amounts(cost, total), "BillMonth": f"{year:04d}-{month:02d}"}
        for key, value, cost in rows
    ]
    return {"Ready": ready, "SummaryOverview": overview}


# --- DescribeCostExplorerSummary -------------------------------------------------------------------


def _explorer_time(params: dict[str, Any], name: str) -> date:
    text = params.get(name)
    if not text:
        raise ApiFailure("MissingParameter", f"The request is missing a required parameter `{name}`.")
    try:
        return datetime.strptime(text.strip(), _DATE_TIME).date()
    except ValueError as exc:
        raise ApiFailure(
            "InvalidParameterValue", f"`{name}` must look like 2026-11-01 00:00:00, not {text!r}."
        ) from exc


def _required_choice(params: dict[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise ApiFailure("MissingParameter", f"The request is missing a required parameter `{name}`.")
    if value not in choices:
        raise ApiFailure("InvalidParameterValue", f"`{name}` must be one of {', '.join(choices)}, not `{value}`.")
    return str(value)


def _periods(first: date, last: date, period: str) -> list[tuple[str, list[date]]]:
    """(label, local days) per period: one day each, or the days of each month within [first, last]."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if period == "day":
        return [(d.isoformat(), [d]) for d in days]
    months: dict[str, list[date]] = {}
    for d in days:
        months.setdefault(f"{d.year:04d}-{d.month:02d}", []).append(d)
    return list(months.items())


_CONDITIONS = {"BusinessCodes": "business", "ProjectIds": "project", "RegionIds": "region", "PayModes": "payMode"}


def _condition_tests(conditions: dict[str, Any]) -> list[Callable[[ProductSpec], bool]]:
    tests: list[Callable[[ProductSpec], bool]] = []
    for name, value in conditions.items():
        if value is None or value == "":
            continue
        if name not in _CONDITIONS:
            raise ApiFailure(
                "InvalidParameterValue",
                f"`Conditions.{name}` is not answered here; filter by {', '.join(_CONDITIONS)} (comma-separated).",
            )
        group_of = _group_of(_CONDITIONS[name])
        allowed = {v.strip() for v in str(value).split(",") if v.strip()}
        tests.append(lambda p, g=group_of, a=allowed: g(p)[0] in a)  # type: ignore[misc]
    return tests


def describe_cost_explorer_summary(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    first, last = _explorer_time(params, "BeginTime"), _explorer_time(params, "EndTime")
    if last < first:
        raise ApiFailure("InvalidParameterValue", "`EndTime` must not be earlier than `BeginTime`.")
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiFailure("InvalidParameterValue", f"BeginTime to EndTime spans at most {MAX_DAYS} days here.")
    _required_choice(params, "BillType", ("1", "2"))
    period = _required_choice(params, "PeriodType", ("day", "month"))
    dimension = _required_choice(params, "Dimensions", tuple(EXPLORER_DIMENSIONS))
    _required_choice(params, "FeeType", ("cost", "totalCost"))
    page_size, page_no = params.get("PageSize"), params.get("PageNo")
    if page_size is None or page_no is None:
        raise ApiFailure("MissingParameter", "`PageSize` and `PageNo` are required.")
    if not 1 <= page_size <= MAX_PAGE_SIZE or page_no < 1:
        raise ApiFailure(
            "InvalidParameterValue",
            f"`PageSize` must be 1 to {MAX_PAGE_SIZE} and `PageNo` at least 1 (the first page).",
        )
    tag_key = params.get("TagKeyStr") or ""
    if dimension == "tags" and not tag_key:
        raise ApiFailure("MissingParameter", "`TagKeyStr` is required with Dimensions tags: name the tag key.")
    tests = _condition_tests(params.get("Conditions") or {})
    ledger = ledger_of(ctx.scenario)
    now = ctx.now.timestamp()
    products = ledger.products
    kept = [all(t(p) for t in tests) for p in products]
    group_of = _group_of("tag", tag_key) if dimension == "tags" else _group_of(dimension)
    periods = _periods(first, last, period)
    per_group: dict[tuple[str, str], list[int]] = {}
    totals: list[int] = []
    for _, days in periods:
        fen = [0] * len(products)
        for d in days:
            fen = [a + b for a, b in zip(fen, ledger.day(d, now), strict=True)]
        fen = [c if keep else 0 for c, keep in zip(fen, kept, strict=True)]
        totals.append(sum(fen))
        if dimension == "default":
            continue
        for product, cost in zip(products, fen, strict=True):
            row = per_group.setdefault(group_of(product), [0] * len(periods))
            row[len(totals) - 1] += cost
    labels = [label for label, _ in periods]
    rows = [
        {"Name": value or "未分配", "Total": yuan(sum(r)), "TimeDetail": _time_detail(labels, r)}
        for (_, value), r in per_group.items()
        if any(r)
    ]
    start = (page_no - 1) * page_size
    out: dict[str, Any] = {
        "Total": len(rows),
        "Header": {"HeadDetail": [{"Name": label} for label in labels], "Name": "时间", "Total": "总计"},
        "Detail": rows[start : start + page_size],
        "TotalDetail": {"Name": "总计", "Total": yuan(sum(totals)), "TimeDetail": _time_detail(labels, totals)},
        "ConditionValue": None,
    }
    if params.get("NeedConditionValue") == "1":
        out["ConditionValue"] = _condition_values(products)
    return out


def _time_detail(labels: list[str], fen: list[int]) -> list[dict[str, str]]:
    return [{"Time": label, "Money": yuan(c)} for label, c in zip(labels, fen, strict=True)]


def _condition_values(products: tuple[ProductSpec, ...]) -> dict[str, Any]:
    def unique(group_type: str) -> list[tuple[str, str]]:
        return list(dict.fromkeys(_group_of(group_type)(p) for p in products))

    return {
        "Business": [{"BusinessCode": k, "BusinessCodeName": v} for k, v in unique("business")],
        "Project": [{"ProjectId": k, "ProjectName": v} for k, v in unique("project")],
        "Region": [{"RegionId": k, "RegionName": v} for k, v in unique("region")],
        "PayMode": [{"PayMode": k, "PayModeName": v} for k, v in unique("payMode")],
        "ActionType": [],
        "Zone": [],
        "OwnerUin": [],
        "Amount": [],
    }


MONTH_PARAMS = {"BeginTime": str, "EndTime": str, "PayerUin": str}
CONDITIONS = dict.fromkeys(
    (
        "BusinessCodes",
        "ProductCodes",
        "ComponentCode",
        "ZoneIds",
        "RegionIds",
        "ProjectIds",
        "PayModes",
        "ActionTypes",
        "Tags",
        "FeeType",
        "PayerUins",
        "OwnerUins",
        "ConsumptionTypes",
    ),
    str,
)

ACTIONS: dict[str, Action] = {
    "DescribeBillSummary": Action(
        describe_bill_summary,
        {"Month": str, "GroupType": str, "TagKey": [str], "OperateUin": str, "PayerUin": str},
    ),
    "DescribeBillSummaryByTag": Action(describe_bill_summary_by_tag, {**MONTH_PARAMS, "TagKey": str, "TagValue": str}),
    "DescribeBillSummaryByProject": Action(describe_bill_summary_by_project, MONTH_PARAMS),
    "DescribeBillSummaryByRegion": Action(describe_bill_summary_by_region, MONTH_PARAMS),
    "DescribeCostExplorerSummary": Action(
        describe_cost_explorer_summary,
        {
            "BeginTime": str,
            "EndTime": str,
            "BillType": str,
            "PeriodType": str,
            "Dimensions": str,
            "FeeType": str,
            "PageSize": int,
            "PageNo": int,
            "TagKeyStr": str,
            "NeedConditionValue": str,
            "Conditions": CONDITIONS,
        },
    ),
}
