"""The metrics a budget can watch, as the source registry's catalogues (``lib.sources.CATALOGUES``) describe them.

Each source owns its catalogue (``Metric``: base unit, running total or level, aggregations, group-by
dimensions, periods, ``limit: plan`` quota field); configuration only reads it from here.
"""

from __future__ import annotations

from collections.abc import Mapping

from lib.sources import CATALOGUES, find_metric
from lib.sources.catalogue import Metric

# The catalogues, not the plug-ins: reading them imports no source's fetch code.
METRICS: dict[str, Mapping[str, Metric]] = dict(CATALOGUES)
# Per-source views kept under the names the configuration models import.
TEO_METRICS: Mapping[str, Metric] = METRICS["teo"]
BILLING_METRICS: Mapping[str, Metric] = METRICS["billing"]
CDN_METRICS: Mapping[str, Metric] = METRICS["cdn"]

__all__ = ["BILLING_METRICS", "CDN_METRICS", "METRICS", "TEO_METRICS", "Metric", "find_metric"]
