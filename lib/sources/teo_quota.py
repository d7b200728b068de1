"""``limit: plan``: the EdgeOne plan quota of a budget's zones, from ``DescribePlans``.

Quota fields (int64, in the metric's base unit) by metric: ``plan_quota`` in ``lib.sources.teo_catalogue``.

A plan can cover several zones that share its quota, so a group's limit is the sum over the distinct
plans bound to its zones (one plan for a ``zone-id`` group; every plan with a zone for ``*``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from lib.errors import CollectError
from lib.sources.failures import Caller

SERVICE, VERSION = "teo", "2022-09-01"
PAGE = 200  # DescribePlans' largest Limit


def fetch_plans(client: Caller) -> list[dict[str, Any]]:
    """Every plan of the account, page by page."""
    plans: list[dict[str, Any]] = []
    offset = 0
    while True:
        answer = client.call(SERVICE, VERSION, "DescribePlans", {"Offset": offset, "Limit": PAGE})
        page = answer.get("Plans") or []
        if not isinstance(page, list):
            raise CollectError("DescribePlans: Plans is not a list")
        plans.extend(p for p in page if isinstance(p, dict))
        offset += PAGE
        if not page or offset >= int(answer.get("TotalCount") or 0):
            return plans


class Quotas:
    """Plan quotas by zone."""

    def __init__(self, plans: Iterable[dict[str, Any]]) -> None:
        self.plans = list(plans)
        self.by_zone: dict[str, list[dict[str, Any]]] = {}
        for plan in self.plans:
            for info in plan.get("ZonesInfo") or ():
                zone_id = info.get("ZoneId") if isinstance(info, dict) else None
                if zone_id:
                    self.by_zone.setdefault(str(zone_id), []).append(plan)

    def limit(self, metric: str, field: str | None, zones: Iterable[str] | None) -> Decimal:
        """The quota for ``metric`` of the plans bound to ``zones`` (None: every zone); CollectError if none."""
        if field is None:
            raise CollectError(f"limit: plan: EdgeOne plans have no quota for {metric}")
        if zones is None:
            chosen = [p for p in self.plans if p.get("ZonesInfo")]
            where = "any zone"
        else:
            wanted = sorted(set(zones))
            seen: dict[str, dict[str, Any]] = {}
            for zone_id in wanted:
                for plan in self.by_zone.get(zone_id, ()):
                    seen[str(plan.get("PlanId"))] = plan
            chosen = list(seen.values())
            where = ", ".join(wanted)
        if not chosen:
            raise CollectError(f"limit: plan: no EdgeOne plan is bound to {where}")
        total = Decimal(0)
        for plan in chosen:
            raw = plan.get(field)
            if raw is None or isinstance(raw, bool):
                raise CollectError(f"limit: plan: plan {plan.get('PlanId')} reports no {field}")
            total += Decimal(str(raw))
        if total <= 0:
            raise CollectError(f"limit: plan: {field} is {total} for {where}; set a number instead")
        return total
