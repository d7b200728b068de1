"""CDN (cdn 2018-06-06) in the sandbox: DescribeBillingData and DescribeCdnData, plus the domain actions.

Usage comes from the scenario's ``cdn.domains`` through the same formula as EdgeOne's
(``sandbox/usage.py``): exact integers per 5-minute bucket per (domain, area). Times are
``YYYY-MM-DD HH:MM:SS`` in ``TimeZone`` (default ``UTC+08:00``); buckets are aligned to that offset and
listed from the bucket holding ``StartTime`` to the bucket holding ``EndTime`` (both rounded down, as
documented), labelled with their local start. ``min`` buckets split each 5-minute amount over its five
minutes exactly (bandwidth keeps its level). Amounts add up; bandwidth (bps) of an hour or a day is the
peak 5-minute level; ``SummarizedData`` is ``sum`` for amounts, ``max`` for bandwidth and ``avg`` for the
hit rates. Ranges: at most 90 days; ``5min`` and ``hour`` at most 31 days; ``min`` at most 24 hours and
mainland only. A stopped domain accrues nothing from the instant it was stopped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.api3 import Action, ApiFailure, Context, Product
from sandbox.catalogue import (
    CDN_AREAS,
    CDN_BILLING_METRICS,
    CDN_DATA_METRICS,
    CDN_FINE_RANGE_DAYS,
    CDN_MAX_DOMAINS,
    CDN_MAX_RANGE_DAYS,
    CDN_MINUTE_RANGE_HOURS,
)
from sandbox.cdn_domains import ACTIONS as DOMAIN_ACTIONS
from sandbox.scenario import CdnDomain, Scenario
from sandbox.usage import STEP

VERSION = "2018-06-06"
INTERVALS = {"min": 60, "5min": 300, "hour": 3600, "day": 86400}
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_ZONE = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")
PPM = 10**6
# The DescribeCdnData metrics read from a stored metric, and whether they are the hit part of it.
_SOURCE = {
    "flux": ("flux", False),
    "bandwidth": ("bandwidth", False),
    "request": ("request", False),
    "hitFlux": ("flux", True),
    "hitRequest": ("request", True),
    "https": ("https", False),
}
_RATES = {"requestHitRate": "request", "fluxHitRate": "flux"}


@dataclass(frozen=True)
class Window:
    """The buckets of one query: ``count`` buckets of ``step`` seconds from UTC timestamp ``first``."""

    first: int
    step: int
    count: int
    offset: int  # seconds east of UTC, for the labels
    interval: str

    def labels(self) -> list[str]:
        tz = timezone(timedelta(seconds=self.offset))
        return [
            datetime.fromtimestamp(self.first + i * self.step, tz).strftime("%Y-%m-%d %H:%M:%S")
            for i in range(self.count)
        ]


def _offset(params: dict[str, Any]) -> int:
    text = params.get("TimeZone") or "UTC+08:00"
    match = _ZONE.match(text)
    if not match or int(match.group(3)) >= 60 or int(match.group(2)) > 14:
        raise ApiFailure("InvalidParameter.CdnParamError", f"`TimeZone` must look like UTC+08:00, not {text!r}.")
    seconds = int(match.group(2)) * 3600 + int(match.group(3)) * 60
    seconds = -seconds if match.group(1) == "-" else seconds
    if seconds % STEP:
        raise ApiFailure("InvalidParameter.CdnParamError", "`TimeZone` must be a whole number of 5 minutes from UTC.")
    return seconds


def _time(params: dict[str, Any], name: str, offset: int) -> int:
    text = params.get(name)
    if not text:
        raise ApiFailure("MissingParameter", f"The request is missing a required parameter `{name}`.")
    if not _TIME.match(text.strip()):
        raise ApiFailure(
            "InvalidParameter.CdnStatInvalidDate", f"`{name}` must look like 2026-11-04 10:40:00, not {text!r}."
        )
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise ApiFailure("InvalidParameter.CdnStatInvalidDate", f"`{name}` is not a real date: {text!r}.") from exc
    return int(naive.replace(tzinfo=timezone(timedelta(seconds=offset))).timestamp())


def window(params: dict[str, Any], area: str) -> Window:
    """Check times, interval and range limits; the buckets to answer."""
    offset = _offset(params)
    start, end = _time(params, "StartTime", offset), _time(params, "EndTime", offset)
    if end < start:
        raise ApiFailure("InvalidParameter.CdnStatInvalidDate", "`EndTime` must not be earlier than `StartTime`.")
    span = end - start
    if span > CDN_MAX_RANGE_DAYS * 86400:
        raise ApiFailure(
            "InvalidParameter.CdnStatInvalidDate", f"StartTime to EndTime spans at most {CDN_MAX_RANGE_DAYS} days."
        )
    interval = params.get("Interval") or ("5min" if span <= CDN_FINE_RANGE_DAYS * 86400 else "day")
    if interval not in INTERVALS:
        raise ApiFailure(
            "InvalidParameter.CdnInvalidParamInterval",
            f"`Interval` must be one of {', '.join(INTERVALS)}, not `{interval}`.",
        )
    if interval == "min" and area == "overseas":
        raise ApiFailure("InvalidParameter.CdnInvalidParamInterval", "`Interval` min is for mainland data only.")
    if interval == "min" and span > CDN_MINUTE_RANGE_HOURS * 3600:
        raise ApiFailure(
            "InvalidParameter.CdnStatInvalidDate", f"`Interval` min spans at most {CDN_MINUTE_RANGE_HOURS} hours."
        )
    if interval in ("5min", "hour") and span > CDN_FINE_RANGE_DAYS * 86400:
        raise ApiFailure(
            "InvalidParameter.CdnStatInvalidDate",
            f"`Interval` {interval} spans at most {CDN_FINE_RANGE_DAYS} days; use day for longer ranges.",
        )
    step = INTERVALS[interval]
    first = start - (start + offset) % step
    last = end - (end + offset) % step
    return Window(first, step, (last - first) // step + 1, offset, interval)


def _area(params: dict[str, Any]) -> str:
    area = params.get("Area") or "mainland"
    if area not in CDN_AREAS:
        raise ApiFailure("InvalidParameter.CdnParamError", f"`Area` must be mainland or overseas, not `{area}`.")
    return area


def _product(params: dict[str, Any]) -> str:
    product = params.get("Product") or "cdn"
    if product not in ("cdn", "ecdn"):
        raise ApiFailure("InvalidParameter.CdnParamError", f"`Product` must be cdn or ecdn, not `{product}`.")
    return product


def _domains(scenario: Scenario, names: Sequence[str], project: int | None, product: str) -> list[CdnDomain]:
    if names:
        out = []
        for name in dict.fromkeys(names):
            domain = scenario.cdn_domains.get(name)
            if domain is None or domain.spec.product != product:
                raise ApiFailure(
                    "ResourceNotFound.CdnHostNotExists",
                    f"The domain `{name}` is not a {product} domain of this account.",
                )
            out.append(domain)
        return out
    if project is not None and project < 0:
        raise ApiFailure("InvalidParameter.CdnStatInvalidProjectId", f"`Project` must not be negative, not {project}.")
    return [
        d
        for d in scenario.cdn_domains.values()
        if d.spec.product == product and (project is None or d.spec.project == project)
    ]


def _fives(scenario: Scenario, metric: str, domain: CdnDomain, area: str, span: tuple[int, int]) -> list[int]:
    """5-minute values of one stored metric of one domain in one area over [start, end) (5-minute aligned)."""
    start, end = span
    engine = scenario.cdn_engine
    series = [s for s in engine.series(metric, domain) if s.region == area]
    return engine.summed(metric, series, start, end, scenario.visible_until())


def _values(scenario: Scenario, metric: str, domains: list[CdnDomain], area: str, w: Window) -> list[int]:
    """Bucket values of ``metric`` (a stored metric or a hit part of one) over the window."""
    source, hit = _SOURCE[metric]
    lo = w.first - w.first % STEP
    hi = w.first + w.count * w.step
    hi += -hi % STEP
    fives = [0] * ((hi - lo) // STEP)
    for domain in domains:
        values = _fives(scenario, source, domain, area, (lo, hi))
        if hit:
            ratio = int(domain.spec.hit_ratio * PPM)
            values = [v * ratio // PPM for v in values]
        fives = [a + b for a, b in zip(fives, values, strict=True)]
    peak = source == "bandwidth"
    if w.step == 60:
        minutes: list[int] = []
        for v in fives:
            minutes.extend([v] * 5 if peak else [v * (j + 1) // 5 - v * j // 5 for j in range(5)])
        skip = (w.first - lo) // 60
        return minutes[skip : skip + w.count]
    per = w.step // STEP
    skip = (w.first - lo) // STEP
    fold = max if peak else sum
    return [fold(fives[skip + i * per : skip + (i + 1) * per]) for i in range(w.count)]


def _rate(hits: int, total: int) -> float:
    if not total:
        return 0.0
    return float((Decimal(hits) * 100 / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _cdn_data(scenario: Scenario, metric: str, domains: list[CdnDomain], area: str, w: Window) -> dict[str, Any]:
    labels = w.labels()
    if metric in _RATES:
        base = _RATES[metric]
        hits = _values(scenario, "hitRequest" if base == "request" else "hitFlux", domains, area, w)
        totals = _values(scenario, base, domains, area, w)
        detail = [{"Time": t, "Value": _rate(h, n)} for t, h, n in zip(labels, hits, totals, strict=True)]
        summary = {"Name": "avg", "Value": _rate(sum(hits), sum(totals))}
    else:
        values = _values(scenario, metric, domains, area, w)
        detail = [{"Time": t, "Value": v} for t, v in zip(labels, values, strict=True)]
        # Bandwidth peaks over 5-minute levels: the peak of the bucket peaks is the window's peak.
        peak = metric == "bandwidth"
        summary = {"Name": "max", "Value": max(values, default=0)} if peak else {"Name": "sum", "Value": sum(values)}
    return {"Metric": metric, "DetailData": detail, "SummarizedData": summary}


def describe_billing_data(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    area = _area(params)
    metric = params.get("Metric") or "bandwidth"
    if metric not in CDN_BILLING_METRICS:
        raise ApiFailure(
            "InvalidParameter.CdnInvalidParamMetric",
            f"`Metric` must be one of {', '.join(CDN_BILLING_METRICS)}, not `{metric}`.",
        )
    if params.get("District") is not None:
        raise ApiFailure("InvalidParameter.CdnParamError", "The sandbox does not break billing data down by District.")
    w = window(params, area)
    product = _product(params)
    name = params.get("Domain")
    project = params.get("Project")
    domains = _domains(ctx.scenario, [name] if name else [], project, product)
    resource = name or (str(project) if project is not None else "all")
    data = _cdn_data(ctx.scenario, metric, domains, area, w)
    return {"Interval": w.interval, "Data": [{"Resource": resource, "BillingData": [data]}]}


_UNMODELLED = ("Isp", "District", "DataSource", "AreaType")
_ALL_ONLY = ("Protocol", "IpProtocol")


def describe_cdn_data(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    metric = params.get("Metric")
    if not metric:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `Metric`.")
    if metric not in CDN_DATA_METRICS:
        raise ApiFailure(
            "InvalidParameter.CdnStatInvalidMetric",
            f"`Metric` {metric!r} is not answered here; use one of {', '.join(CDN_DATA_METRICS)}.",
        )
    for name in _UNMODELLED:
        if params.get(name) is not None:
            raise ApiFailure("InvalidParameter.CdnParamError", f"The sandbox does not break CDN data down by {name}.")
    for name in _ALL_ONLY:
        if params.get(name) not in (None, "all"):
            raise ApiFailure("InvalidParameter.CdnParamError", f"The sandbox answers `{name}` all only.")
    area = _area(params)
    w = window(params, area)
    product = _product(params)
    names = params.get("Domains") or []
    if len(names) > CDN_MAX_DOMAINS:
        raise ApiFailure(
            "InvalidParameter.CdnStatTooManyDomains",
            f"`Domains` takes at most {CDN_MAX_DOMAINS} domains per request, got {len(names)}.",
        )
    project = params.get("Project")
    domains = _domains(ctx.scenario, names, project, product)
    scenario = ctx.scenario
    if names and (params.get("Detail") or len(domains) == 1):
        data = [{"Resource": d.id, "CdnData": [_cdn_data(scenario, metric, [d], area, w)]} for d in domains]
    else:
        resource = "multiDomains" if names else (str(project) if project is not None else "all")
        data = [{"Resource": resource, "CdnData": [_cdn_data(scenario, metric, domains, area, w)]}]
    return {"Interval": w.interval, "Data": data}


QUERY = {"StartTime": str, "EndTime": str, "Interval": str, "Project": int, "Area": str, "District": int}
QUERY |= {"Product": str, "TimeZone": str, "Metric": str}

PRODUCT = Product(
    name="cdn",
    version=VERSION,
    actions={
        "DescribeBillingData": Action(describe_billing_data, {**QUERY, "Domain": str}),
        "DescribeCdnData": Action(
            describe_cdn_data,
            {
                **QUERY,
                "Domains": [str],
                "Detail": bool,
                "Isp": int,
                "Protocol": str,
                "DataSource": str,
                "IpProtocol": str,
                "AreaType": str,
            },
        ),
        **DOMAIN_ACTIONS,
    },
)
