"""EdgeOne metric families for collecting: how a period is aggregated, from the source's own catalogue.

Units and plan quotas come from ``lib.sources.teo_catalogue`` (the table configuration parses limits
with too, so a value and its limit always share a unit); the family groups them by unit:
traffic "B", bandwidth "bps" (peak by default; p95 | avg | sum), requests "count", duration "s"/"ms".

A metric the catalogue does not know yet is classified by its name and, failing that, treated as an
additive count with an empty unit, so a new API metric still works without a release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from lib.sources.catalogue import Aggregate
from lib.sources.teo_catalogue import TEO_METRICS

Family = Literal["traffic", "bandwidth", "requests", "duration", "other"]

_FAMILY_BY_UNIT: dict[str, Family] = {
    "B": "traffic",
    "bps": "bandwidth",
    "count": "requests",
    "s": "duration",
    "ms": "duration",
}


@dataclass(frozen=True)
class MetricInfo:
    """How one metric is reported: family, base unit, and the ``DescribePlans`` quota field if any."""

    name: str
    family: Family
    unit: str
    plan_quota: str | None = None

    @property
    def additive(self) -> bool:
        """True when buckets add up to the period's value (everything but bandwidth)."""
        return self.family != "bandwidth"

    def default_aggregate(self) -> Aggregate:
        return "max" if self.family == "bandwidth" else "sum"


def metric_info(name: str) -> MetricInfo:
    """The family, base unit and plan quota field of ``name``."""
    known = TEO_METRICS.get(name)
    if known is not None:
        family = _FAMILY_BY_UNIT.get(known.unit, "other")
        return MetricInfo(name, family, known.unit, known.plan_quota)
    if name.endswith("_flux"):
        return MetricInfo(name, "traffic", "B")
    if name.endswith("_bandwidth"):
        return MetricInfo(name, "bandwidth", "bps")
    if name.startswith("transcode_"):
        return MetricInfo(name, "duration", "s")
    if "request" in name or name.endswith("_count"):
        return MetricInfo(name, "requests", "count")
    return MetricInfo(name, "other", "")


def p95(samples: Sequence[Decimal]) -> Decimal:
    """Nearest-rank 95th percentile: sort, drop the top 5 % of samples, take the highest one left.

    This is the rule "95th percentile" bandwidth billing applies to 5-minute samples.
    """
    if not samples:
        raise ValueError("p95 of no samples")
    ordered = sorted(samples)
    rank = -(-95 * len(ordered) // 100)  # ceil(0.95 n) in integers: no float rounding at n = 20, 40 ...
    return ordered[rank - 1]


def aggregate(how: Aggregate, samples: Sequence[Decimal]) -> Decimal:
    """The period's value from its bucket values (a successful answer with no buckets used nothing)."""
    if len(samples) == 1:
        return samples[0]  # every aggregate of one sample is the sample (and no new object)
    if how == "sum":
        return sum(samples, Decimal(0))
    if not samples:
        return Decimal(0)
    if how == "max":
        return max(samples)
    if how == "avg":
        return sum(samples, Decimal(0)) / len(samples)
    return p95(samples)
