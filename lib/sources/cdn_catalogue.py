"""CDN's metric catalogue (cdn 2018-06-06): what a ``source: cdn`` budget can watch, and which action answers it.

``flux``, ``bandwidth`` and ``https`` are billing figures (``DescribeBillingData``: settled, hours
late); ``request`` comes from the access monitoring data (``DescribeCdnData``: minutes late). Bandwidth
is a level, reduced to the period's peak by default like EdgeOne's.
"""

from __future__ import annotations

from typing import Literal

from lib.sources.catalogue import Aggregate, Metric

SOURCE = "cdn"
SERVICE, VERSION = "cdn", "2018-06-06"
BILLING_ACTION, DATA_ACTION, DOMAINS_ACTION = "DescribeBillingData", "DescribeCdnData", "DescribeDomains"
DIMENSIONS = ("domain",)
AREAS: tuple[Literal["mainland", "overseas"], ...] = ("mainland", "overseas")
BANDWIDTH_AGGREGATES: tuple[Aggregate, ...] = ("max", "p95", "avg", "sum")

# Metric name -> the action that reports it (the API's own metric name is the same word).
ACTIONS: dict[str, str] = {"flux": BILLING_ACTION, "bandwidth": BILLING_ACTION, "https": BILLING_ACTION}
ACTIONS["request"] = DATA_ACTION


def _cdn(name: str, unit: str, description: str) -> Metric:
    level = unit == "bps"
    aggregates: tuple[Aggregate, ...] = BANDWIDTH_AGGREGATES if level else ("sum",)
    return Metric(SOURCE, name, unit, not level, description, None, aggregates, DIMENSIONS)


CDN_METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _cdn("flux", "B", "billed CDN traffic (DescribeBillingData, a few hours late)"),
        _cdn("bandwidth", "bps", "billed CDN bandwidth (DescribeBillingData), the period's peak by default"),
        _cdn("https", "count", "billed HTTPS requests (DescribeBillingData)"),
        _cdn("request", "count", "requests from the access monitoring data (DescribeCdnData, minutes late)"),
    )
}
