"""The dashboard's member accounts (issue 18): one summary line per member and the ``?account=`` filter (pure).

The numbers are ``GET /status``'s ``accounts`` (``lib.api.views.account_views``: the newest run's
evaluations, overlaid by every fan-out shard's newer outcome), so the page and the API never disagree;
here they are put in words with each budget's unit and the member's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lib.messages.units import format_quantity

if TYPE_CHECKING:
    from lib.config.models import Config

ACCOUNT_KEY = "account"  # the group key naming a member (lib.sources.members.ACCOUNT)
MAX_UIN = 20  # digits of a uin at most: a longer ?account= is not one


@dataclass(frozen=True)
class AccountItem:
    """One member: its name and uin, how many of its evaluations fire, are fine or failed, its totals in words."""

    uin: str
    name: str
    firing: int
    ok: int
    errors: int
    totals: tuple[tuple[str, str], ...]  # (budget, total in words), in the configuration's budget order
    status: str  # firing, error or ok: the page's mark


def valid_uin(text: str) -> bool:
    """Whether ``?account=`` holds something a uin can be (digits only)."""
    return text.isdigit() and len(text) <= MAX_UIN


def member_names(config: Config, shards: Sequence[Mapping[str, Any]], recorded: Mapping[str, str]) -> dict[str, str]:
    """uin → name: the names the last listing recorded, the shards' outcomes, and ``accounts: members:``."""
    names = dict(recorded)
    for shard in shards:
        summary = shard.get("summary")
        if isinstance(summary, Mapping):
            for uin, view in summary.items():
                if isinstance(view, Mapping) and isinstance(view.get("name"), str):
                    names[str(uin)] = view["name"]
    accounts = config.accounts
    if accounts is not None:
        names.update({m.uin: m.name for m in accounts.members})
    return names


def account_of(evaluation: Mapping[str, Any]) -> str | None:
    """The member uin an evaluation's group names, or None for the own account."""
    group = evaluation.get("group")
    uin = group.get(ACCOUNT_KEY) if isinstance(group, Mapping) else None
    return uin if isinstance(uin, str) else None


def budget_units(config: Config, evaluations: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each budget's unit: from an evaluation of it, else its metric's."""
    from lib.sources import find_metric

    units: dict[str, str] = {}
    for e in evaluations:
        if e.get("unit") and str(e.get("budget")) not in units:
            units[str(e.get("budget"))] = str(e["unit"])
    for b in config.budgets:
        if b.name not in units:
            metric = find_metric(b.source, b.metric)
            units[b.name] = metric.unit if metric else ""
    return units


def account_items(
    config: Config,
    evaluations: Sequence[Mapping[str, Any]],
    shards: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    units: Mapping[str, str],
) -> tuple[AccountItem, ...]:
    """Every member ``/status`` lists, in its order (by uin), in words."""
    from lib.api.views import account_views

    order = {b.name: i for i, b in enumerate(config.budgets)}
    out = []
    for view in account_views(evaluations, shards):
        uin = str(view["uin"])
        firing, errors, count = int(view.get("firing", 0)), int(view.get("errors", 0)), int(view.get("evaluations", 0))
        found = view.get("totals")
        totals: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        shown = tuple(
            (budget, _amount(total, units.get(budget, ""), config.language))
            for budget, total in sorted(totals.items(), key=lambda kv: (order.get(kv[0], 1 << 30), kv[0]))
        )
        status = "firing" if firing else ("error" if errors else "ok")
        name = names.get(uin) or str(view.get("name") or uin)
        out.append(AccountItem(uin, name, firing, max(0, count - firing - errors), errors, shown, status))
    return tuple(out)


def _amount(value: Any, unit: str, lang: str) -> str:
    try:
        return format_quantity(Decimal(str(value)), unit, lang)
    except ArithmeticError:
        return str(value)
