"""The billing source's metric catalogue, apart from its fetch so configuration can read it cheaply."""

from __future__ import annotations

from lib.sources.catalogue import Metric

NAME = "billing"
COST_KEYS = ("product", "project", "region", "pay-mode", "tag:<key>")

BILLING_METRICS: dict[str, Metric] = {
    "cost": Metric(NAME, "cost", "CNY", True, "cost in the account's currency", dimensions=COST_KEYS),
    "balance": Metric(NAME, "balance", "CNY", False, "available balance in the account's currency", remaining=True),
}
