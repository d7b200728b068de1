"""The sandbox's own catalogue of teo and CDN metrics, limits, rate limits and quantity parsing.

Kept apart from ``lib``'s catalogue on purpose: the sandbox is an independent oracle, written from the
API documentation, so a mistake in the product's metric table shows up as a disagreement in a test
instead of being copied into the fake that checks it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal

# --- the metric catalogue of teo DescribeBillingData (2022-09-01) ---------------------------------

METRIC_UNITS: dict[str, str] = {
    "acc_flux": "bytes",
    "smt_flux": "bytes",
    "l4_flux": "bytes",
    "sec_flux": "bytes",
    "zxctg_flux": "bytes",
    "acc_bandwidth": "bps",
    "smt_bandwidth": "bps",
    "l4_bandwidth": "bps",
    "sec_bandwidth": "bps",
    "zxctg_bandwidth": "bps",
    "sec_request_clean": "count",
    "smt_request_clean": "count",
    "quic_request": "count",
    "bot_request_clean": "count",
    "cls_count": "count",
    "ddos_bandwidth": "bps",
    "edgefunction_request": "count",
    "edgefunction_cpu_time": "ms",
    "total_transcode": "s",
    "remux": "s",
    "transcode_audio": "s",
    "transcode_H264_SD": "s",
    "transcode_H264_HD": "s",
    "transcode_H264_FHD": "s",
    "transcode_H264_2K": "s",
}
METRICS = tuple(METRIC_UNITS)
# Bandwidth is a level (bps), not an amount: hour and day buckets report the peak 5-minute value.
PEAK_METRICS = frozenset(m for m, unit in METRIC_UNITS.items() if unit == "bps")
# L4 metrics belong to L4 proxy instances; every other metric belongs to hosts (domains).
PROXY_METRICS = frozenset({"l4_flux", "l4_bandwidth"})
# A bandwidth metric without its own shape is derived from its traffic: bps = bytes * 8 / 300.
BANDWIDTH_OF_FLUX: dict[str, str] = {
    "acc_bandwidth": "acc_flux",
    "smt_bandwidth": "smt_flux",
    "l4_bandwidth": "l4_flux",
    "sec_bandwidth": "sec_flux",
    "zxctg_bandwidth": "zxctg_flux",
}
REGIONS = ("CH", "AF", "AS1", "AS2", "AS3", "EU", "MidEast", "NA", "SA")
PLAN_CAPACITIES = (
    "AccTrafficCapacity",
    "SmartTrafficCapacity",
    "DDoSTrafficCapacity",
    "SecTrafficCapacity",
    "SecRequestCapacity",
    "L4TrafficCapacity",
    "CrossMLCTrafficCapacity",
    "SmartRequestCapacity",
    "VAUCapacity",
)

# --- the metric catalogue of cdn 2018-06-06 -------------------------------------------------------

# What a scenario's CDN domain may generate: traffic, its bandwidth, requests and HTTPS requests.
CDN_METRIC_UNITS: dict[str, str] = {"flux": "bytes", "bandwidth": "bps", "request": "count", "https": "count"}
CDN_METRICS = tuple(CDN_METRIC_UNITS)
# DescribeBillingData `Metric` (default bandwidth) and the DescribeCdnData metrics the sandbox answers.
CDN_BILLING_METRICS = ("flux", "bandwidth", "https")
CDN_DATA_METRICS = ("flux", "bandwidth", "request", "hitRequest", "requestHitRate", "hitFlux", "fluxHitRate")
CDN_AREAS = ("mainland", "overseas")
CDN_MAX_RANGE_DAYS = 90  # StartTime..EndTime, every interval
CDN_FINE_RANGE_DAYS = 31  # 5min and hour
CDN_MINUTE_RANGE_HOURS = 24  # min (mainland only)
CDN_MAX_DOMAINS = 30  # DescribeCdnData `Domains`
CDN_DOMAIN_FILTERS = (
    "origin",
    "domain",
    "resourceId",
    "status",
    "serviceType",
    "projectId",
    "domainType",
    "fullUrlCache",
    "https",
    "originPullProtocol",
    "tagKey",
)


@dataclass(frozen=True)
class MetricTable:
    """One product's metrics for the usage formula: base units, levels (peak), L4 metrics, derived bps."""

    units: Mapping[str, str]
    peak: frozenset[str]
    proxy: frozenset[str]
    bandwidth_of: Mapping[str, str]


TEO_TABLE = MetricTable(METRIC_UNITS, PEAK_METRICS, PROXY_METRICS, BANDWIDTH_OF_FLUX)
CDN_TABLE = MetricTable(CDN_METRIC_UNITS, frozenset({"bandwidth"}), frozenset(), {"bandwidth": "flux"})

# Default per-credential, per-action rate limits (requests per second) from the API documentation.
# A ``product.Action`` key is that product's own; a bare action name applies to every product.
DEFAULT_RATE_LIMITS: dict[str, int] = {
    "DescribeBillingData": 50,
    "DescribeZones": 20,
    "DescribePlans": 20,
    "ModifyZoneStatus": 20,
    "ModifyAccelerationDomainStatuses": 20,
    "DescribeAccelerationDomains": 20,
    "DescribeAccountBalance": 20,
    "DescribeBillSummaryByProduct": 20,
    "DescribeBillSummaryByPayMode": 20,
    "DescribeBillSummary": 20,
    "DescribeBillSummaryByTag": 20,
    "DescribeBillSummaryByProject": 20,
    "DescribeBillSummaryByRegion": 20,
    "DescribeCostExplorerSummary": 20,
    "cdn.DescribeBillingData": 20,
    "cdn.DescribeCdnData": 20,
    "cdn.DescribeDomains": 20,
    "cdn.StopCdnDomain": 20,
    "cdn.StartCdnDomain": 20,
    "cdn.DescribePayType": 20,
}

# --- quantities and durations -----------------------------------------------------------------------

_UNITS: dict[str, dict[str, int]] = {
    "bytes": {
        "B": 1,
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
        "TB": 10**12,
        "PB": 10**15,
        "KiB": 2**10,
        "MiB": 2**20,
        "GiB": 2**30,
        "TiB": 2**40,
        "PiB": 2**50,
    },
    "bps": {"bps": 1, "Kbps": 10**3, "Mbps": 10**6, "Gbps": 10**9, "Tbps": 10**12},
    "count": {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9},
    "ms": {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000},
    "s": {"s": 1, "min": 60, "h": 3600},
}
_QUANTITY = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|min|h|d)?\s*$")
_DURATION_SECONDS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "min": Decimal(60), "h": Decimal(3600)}
_DURATION_SECONDS["d"] = Decimal(86400)


def parse_quantity(value: object, unit: str) -> int:
    """``"290 GB"`` -> 290000000000 for a metric whose base unit is ``unit`` (decimal KB/MB/GB/TB,
    binary KiB/MiB/GiB/TiB, Kbps/Mbps/Gbps, k/M/G for counts); plain numbers are in the base unit.
    Rounded half-even to an integer."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int):
        number, factor = Decimal(value), 1
    elif isinstance(value, (float, Decimal)):
        number, factor = Decimal(str(value)), 1
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        if not match:
            raise ValueError(f"not a quantity: {value!r}")
        number = Decimal(match.group(1).replace("_", ""))
        suffix = match.group(2)
        if suffix:
            table = _UNITS.get(unit, {})
            if suffix not in table:
                raise ValueError(f"unit {suffix!r} does not fit a {unit} quantity (use one of {sorted(table)})")
            factor = table[suffix]
        else:
            factor = 1
    else:
        raise ValueError(f"not a quantity: {value!r}")
    if number < 0:
        raise ValueError(f"quantity must not be negative: {value!r}")
    return int((number * factor).to_integral_value(ROUND_HALF_EVEN))


def parse_duration(value: object) -> float:
    """Seconds from ``30``, ``"500ms"``, ``"10m"``, ``"2h"``, ``"1d"``."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(Decimal(match.group(1)) * _DURATION_SECONDS[match.group(2) or "s"])
    else:
        raise ValueError(f"not a duration: {value!r} (use seconds or 500ms / 30s / 10m / 2h / 1d)")
    if seconds < 0:
        raise ValueError(f"duration must not be negative: {value!r}")
    return seconds


def parse_instant(value: object, tz: tzinfo | None = None) -> datetime:
    """An aware datetime from ISO 8601 (``Z`` allowed); a bare date is local midnight in ``tz``."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 instant: {value!r}") from exc
    else:
        raise ValueError(f"not an ISO 8601 instant: {value!r}")
    if moment.tzinfo is None:
        if tz is None:
            raise ValueError(f"instant {value!r} needs a UTC offset, e.g. +08:00")
        moment = moment.replace(tzinfo=tz)
    return moment
