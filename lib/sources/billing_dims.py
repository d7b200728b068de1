"""Month-to-date cost by dimension: ``DescribeBillSummary`` requests for billing budgets with ``filters``/``group_by``.

``DescribeBillSummary`` groups a month's bill by one ``GroupType`` (business, project, region, payMode,
or tag with ``TagKey``) and lists each group's products in ``Business``. So a budget may combine the
product key with at most one other key (project, region, pay-mode or one ``tag:<key>``) across its
filters and group_by: that key picks the GroupType, products come from each group's ``Business``.
Keys are matched by code (a product code such as ``p_cdn``, a project id, a region id such as
``ap-guangzhou``, ``postPay``/``prePay``) or, for tags, the tag value (``""``: untagged).
``PayerUin`` is never sent: the bill asked for is the calling account's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lib.errors import CollectError
from lib.model import GroupKey
from lib.sources.billing_money import money
from lib.sources.catalogue import Problem

if TYPE_CHECKING:
    from lib.config.models import Budget

ACTION = "DescribeBillSummary"
TAG_PREFIX = "tag:"
GROUP_TYPES = {"product": "business", "project": "project", "region": "region", "pay-mode": "payMode"}


def keys_of(budget: Budget) -> list[str]:
    """The budget's filter and group_by keys, each once, group_by first."""
    return list(dict.fromkeys([*budget.group_by, *budget.filters]))


def outer_key(budget: Budget) -> str | None:
    """The one key other than product (it picks the GroupType), or None: group by business."""
    return next((k for k in keys_of(budget) if k != "product"), None)


def by_dimension(budget: Budget) -> bool:
    """Does this month cost budget need DescribeBillSummary (it filters or groups)?"""
    return bool(budget.filters or budget.group_by)


def problems(budget: Budget) -> Iterator[Problem]:
    others = [k for k in keys_of(budget) if k != "product"]
    if len(others) > 1:
        yield (
            ("filters" if others[1] in budget.filters else "group_by",),
            f"billing cost combines product with at most one of project, region, pay-mode or one tag:<key> "
            f"(the bill is grouped by one at a time); this budget uses {', '.join(others)}",
        )


def group_type(key: str | None) -> str:
    if key is None:
        return "business"
    return "tag" if key.startswith(TAG_PREFIX) else GROUP_TYPES[key]


def plan(budgets: Sequence[Budget], month: str) -> list[dict[str, Any]]:
    """One request per GroupType the budgets need; every tag key goes into one ``tag`` request."""
    types: dict[str, None] = {}
    tags: dict[str, None] = {}
    for budget in budgets:
        key = outer_key(budget)
        types[group_type(key)] = None
        if key is not None and key.startswith(TAG_PREFIX):
            tags[key[len(TAG_PREFIX) :]] = None
    out: list[dict[str, Any]] = []
    for kind in sorted(types):
        params: dict[str, Any] = {"Month": month, "GroupType": kind}
        if kind == "tag":
            params["TagKey"] = sorted(tags)
        out.append(params)
    return out


@dataclass(frozen=True)
class Row:
    """One group of a DescribeBillSummary answer: its key and value, cost, and its products."""

    key: str
    value: str
    cost: Decimal
    products: tuple[tuple[str, str, Decimal], ...]  # (code, name, cost)


def parse(answer: dict[str, Any]) -> tuple[bool, list[Row]]:
    """(ready, groups); ``Ready=0`` (the bill is still being generated) is not ready, never a zero."""
    if str(answer.get("Ready", "")) == "0":
        return False, []
    details = answer.get("SummaryDetail") or []
    if not isinstance(details, list):
        raise CollectError(f"{ACTION}: SummaryDetail is not a list")
    rows: list[Row] = []
    for item in details:
        key, value = str(item.get("GroupKey", "")), str(item.get("GroupValue", ""))
        products = tuple(
            (
                str(b.get("BusinessCode", "")),
                str(b.get("BusinessCodeName") or b.get("BusinessCode") or "?"),
                money(b.get("RealTotalCost"), f"RealTotalCost of {b.get('BusinessCode')}"),
            )
            for b in item.get("Business") or []
        )
        rows.append(Row(key, value, money(item.get("RealTotalCost"), f"RealTotalCost of {key}={value}"), products))
    return True, rows


def _outer_value(key: str | None, row: Row) -> str | None:
    """The row's value for ``key``: its code, or its tag value; None when the row is another tag key's."""
    if key is not None and key.startswith(TAG_PREFIX):
        return row.value if row.key == key[len(TAG_PREFIX) :] else None
    return row.key


def costs(budget: Budget, rows: Sequence[Row]) -> dict[GroupKey, tuple[Decimal, tuple[tuple[str, Decimal], ...]]]:
    """Cost and product breakdown per group of ``budget`` (one group ``()`` when it is not grouped)."""
    key = outer_key(budget)
    wanted_products = set(budget.filters.get("product", ()))
    out: dict[GroupKey, dict[str, Decimal]] = {}
    if not budget.group_by:
        out[()] = {}
    for row in rows:
        value = _outer_value(key, row)
        if value is None or (key in budget.filters and value not in budget.filters[key]):
            continue
        products = row.products if key is not None else ((row.key, row.value, row.cost),)
        for code, name, cost in products:
            if wanted_products and code not in wanted_products:
                continue
            labels: list[tuple[str, str]] = []
            if key is not None and key in budget.group_by:
                labels.append((key, value))
            if "product" in budget.group_by:
                labels.append(("product", code))
            group = tuple(sorted(labels))
            names = out.setdefault(group, {})
            names[name] = names.get(name, Decimal(0)) + cost
    return {
        group: (
            sum(names.values(), Decimal(0)),
            tuple(sorted(((n, c) for n, c in names.items() if c), key=lambda p: (-p[1], p[0]))),
        )
        for group, names in out.items()
    }
