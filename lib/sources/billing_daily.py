"""Cost per day: ``DescribeCostExplorerSummary`` with ``PeriodType=day`` for billing ``period: day`` budgets.

One request per distinct (dimension, filters) answers every budget that shares them: the days from
``HISTORY_DAYS`` (or the spike window) before today up to today, UTC+8 bill days. Today's cost so far is
the budget's value; earlier days are the history spike rules compare with and charts draw.

- ``group_by`` (at most one key) picks ``Dimensions`` (business, project, region, payMode, or tags with
  ``TagKeyStr``); no group_by asks for ``default`` (the total only).
- ``filters`` on product, project, region and pay-mode become ``Conditions`` (comma-separated codes); a
  ``tag:<key>`` filter picks rows of ``Dimensions=tags`` for that key, so it goes with no group_by or
  with group_by that same key.
- Rows name groups by display name; ``NeedConditionValue=1`` returns the codes behind the names, so groups
  carry codes as month budgets do (a tag row's name is its value; 未分配, untagged, becomes ``""``).
- ``PageSize`` is 100 at most: further pages are asked for while rows are missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lib.errors import CollectError
from lib.model import GroupKey, Point
from lib.sources.billing_dims import GROUP_TYPES, TAG_PREFIX
from lib.sources.billing_money import BILLING_TZ, money
from lib.sources.catalogue import Problem

if TYPE_CHECKING:
    from lib.config.models import Budget

ACTION = "DescribeCostExplorerSummary"
HISTORY_DAYS = 7  # days before today asked for without a spike rule: a week for the charts
PAGE_SIZE = 100
MAX_PAGES = 50
UNTAGGED = "未分配"
CONDITIONS = {"product": "BusinessCodes", "project": "ProjectIds", "region": "RegionIds", "pay-mode": "PayModes"}
DIMENSIONS = GROUP_TYPES
# ConditionValue lists: (list name, code field, name field) per dimension.
CODES = {
    "business": ("Business", "BusinessCode", "BusinessCodeName"),
    "project": ("Project", "ProjectId", "ProjectName"),
    "region": ("Region", "RegionId", "RegionName"),
    "payMode": ("PayMode", "PayMode", "PayModeName"),
}

Caller = Callable[[dict[str, Any]], dict[str, Any]]


def problems(budget: Budget) -> Iterator[Problem]:
    if len(budget.group_by) > 1:
        yield ("group_by",), "a day cost budget groups by one key (DescribeCostExplorerSummary has one dimension)"
    tags = [k for k in budget.filters if k.startswith(TAG_PREFIX)]
    if len(tags) > 1 or (tags and budget.group_by and budget.group_by[0] != tags[0]):
        yield (
            ("filters",),
            "a day cost budget filters by a tag only with no group_by, or with group_by that same tag key",
        )


def _dimension(budget: Budget) -> tuple[str, str]:
    """(Dimensions, TagKeyStr) for the budget: its group_by key, else its tag filter, else default."""
    key = budget.group_by[0] if budget.group_by else next((k for k in budget.filters if k.startswith(TAG_PREFIX)), "")
    if key.startswith(TAG_PREFIX):
        return "tags", key[len(TAG_PREFIX) :]
    return (DIMENSIONS[key], "") if key else ("default", "")


def first_day(budget: Budget, today: date) -> date:
    back = max(HISTORY_DAYS, budget.spike.window + 1 if budget.spike is not None else 0)
    return today - timedelta(days=back)


def request(budget: Budget, now: datetime) -> dict[str, Any]:
    """The first page's parameters (PageNo 1); budgets with equal parameters share one answer."""
    today = now.astimezone(BILLING_TZ).date()
    dimension, tag_key = _dimension(budget)
    params: dict[str, Any] = {
        "BeginTime": f"{first_day(budget, today).isoformat()} 00:00:00",
        "EndTime": f"{today.isoformat()} 23:59:59",
        "BillType": "1",
        "PeriodType": "day",
        "Dimensions": dimension,
        "FeeType": "cost",
        "PageSize": PAGE_SIZE,
        "PageNo": 1,
    }
    if tag_key:
        params["TagKeyStr"] = tag_key
    if dimension in CODES:
        params["NeedConditionValue"] = "1"
    conditions = {CONDITIONS[k]: ",".join(v) for k, v in sorted(budget.filters.items()) if k in CONDITIONS}
    if conditions:
        params["Conditions"] = conditions
    return params


def fetch(call: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """Every page of one request, the rows of later pages appended to the first answer's ``Detail``."""
    answer = call(dict(params))
    rows = list(answer.get("Detail") or [])
    total = int(answer.get("Total") or 0)
    page = 1
    while params["Dimensions"] != "default" and len(rows) < total and page < MAX_PAGES:
        page += 1
        more = call({**params, "PageNo": page}).get("Detail") or []
        if not more:
            break
        rows.extend(more)
    return {**answer, "Detail": rows}


def _points(detail: dict[str, Any]) -> list[Point]:
    points = []
    for cell in detail.get("TimeDetail") or []:
        try:
            day = date.fromisoformat(str(cell.get("Time")))
        except ValueError as exc:
            raise CollectError(f"{ACTION}: a day is not a date: {cell.get('Time')!r}") from exc
        start = datetime(day.year, day.month, day.day, tzinfo=BILLING_TZ)
        points.append(Point(start, money(cell.get("Money"), f"cost of {day}")))
    return points


def series(budget: Budget, answer: dict[str, Any]) -> dict[GroupKey, list[Point]]:
    """Cost per day and group of ``budget`` from the (paged-together) answer."""
    dimension, tag_key = _dimension(budget)
    if dimension == "default":
        return {(): _points(answer.get("TotalDetail") or {})}
    codes: dict[str, str] = {}
    if dimension in CODES:
        listing, code_field, name_field = CODES[dimension]
        for item in (answer.get("ConditionValue") or {}).get(listing) or []:
            codes.setdefault(str(item.get(name_field)), str(item.get(code_field)))
    key = budget.group_by[0] if budget.group_by else TAG_PREFIX + tag_key
    wanted = budget.filters.get(key)
    out: dict[GroupKey, list[Point]] = {}
    for detail in answer.get("Detail") or []:
        name = str(detail.get("Name", ""))
        value = ("" if name == UNTAGGED else name) if dimension == "tags" else codes.get(name, name)
        if wanted is not None and value not in wanted:
            continue
        group: GroupKey = ((key, value),) if budget.group_by else ()
        points = _points(detail)
        if group in out:  # a tag filter with several values adds its rows up
            points = [Point(a.time, a.value + b.value) for a, b in zip(out[group], points, strict=True)]
        out[group] = points
    if not budget.group_by and () not in out:
        days = [h.get("Name") for h in (answer.get("Header") or {}).get("HeadDetail") or []]
        out[()] = _points({"TimeDetail": [{"Time": d, "Money": "0"} for d in days]})
    return out


def split(points: Sequence[Point], now: datetime) -> tuple[Decimal, tuple[Point, ...], tuple[Point, ...]]:
    """(today's cost, today's point, the earlier days) of one group's days."""
    today = datetime.combine(now.astimezone(BILLING_TZ).date(), datetime.min.time(), BILLING_TZ)
    current = tuple(p for p in points if p.time == today)
    earlier = tuple(p for p in points if p.time < today)
    return (current[0].value if current else Decimal(0)), current, earlier
