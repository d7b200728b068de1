"""The metrics a budget can watch: EdgeOne ``DescribeBillingData`` metrics and the two billing figures.

For each: its base unit, whether it accumulates over a period (traffic, requests: a forecast makes
sense) or is a level (bandwidth peaks, balance), and the ``DescribePlans`` quota field that
``limit: plan`` reads (the mapping is inferred from the field names; tencent-api.md §3.2).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    source: str
    name: str
    unit: str  # base unit: B, bps, count, s, ms, CNY
    cumulative: bool  # sums over the period (traffic, requests, cost) rather than a level (peak, balance)
    description: str
    plan_quota: str | None = None  # DescribePlans field usable as ``limit: plan``


def _teo(name: str, unit: str, description: str, plan_quota: str | None = None) -> Metric:
    return Metric("teo", name, unit, unit != "bps", description, plan_quota)


TEO_METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _teo("acc_flux", "B", "content acceleration traffic", "AccTrafficCapacity"),
        _teo("smt_flux", "B", "smart acceleration traffic", "SmartTrafficCapacity"),
        _teo("l4_flux", "B", "L4 acceleration traffic", "L4TrafficCapacity"),
        _teo("sec_flux", "B", "exclusive protection traffic", "SecTrafficCapacity"),
        _teo("zxctg_flux", "B", "Chinese-mainland network optimization traffic", "CrossMLCTrafficCapacity"),
        _teo("acc_bandwidth", "bps", "content acceleration bandwidth"),
        _teo("smt_bandwidth", "bps", "smart acceleration bandwidth"),
        _teo("l4_bandwidth", "bps", "L4 acceleration bandwidth"),
        _teo("sec_bandwidth", "bps", "exclusive protection bandwidth"),
        _teo("zxctg_bandwidth", "bps", "mainland network optimization bandwidth"),
        _teo("sec_request_clean", "count", "HTTP/HTTPS security requests", "SecRequestCapacity"),
        _teo("smt_request_clean", "count", "smart acceleration requests", "SmartRequestCapacity"),
        _teo("quic_request", "count", "QUIC requests"),
        _teo("bot_request_clean", "count", "bot requests"),
        _teo("cls_count", "count", "real-time log push entries"),
        _teo("ddos_bandwidth", "bps", "elastic DDoS protection bandwidth"),
        _teo("edgefunction_request", "count", "edge function requests"),
        _teo("edgefunction_cpu_time", "ms", "edge function CPU time"),
        _teo("total_transcode", "s", "all just-in-time transcode and remux duration"),
        _teo("remux", "s", "remux duration"),
        _teo("transcode_audio", "s", "audio transcode duration"),
        _teo("transcode_H264_SD", "s", "H.264 SD transcode duration"),
        _teo("transcode_H264_HD", "s", "H.264 HD transcode duration"),
        _teo("transcode_H264_FHD", "s", "H.264 FHD transcode duration"),
        _teo("transcode_H264_2K", "s", "H.264 2K transcode duration"),
    )
}

BILLING_METRICS: dict[str, Metric] = {
    "cost": Metric("billing", "cost", "CNY", True, "month-to-date cost in the account's currency"),
    "balance": Metric("billing", "balance", "CNY", False, "available balance in the account's currency"),
}

METRICS: dict[str, dict[str, Metric]] = {"teo": TEO_METRICS, "billing": BILLING_METRICS}


def find_metric(source: str, name: str) -> Metric | None:
    return METRICS.get(source, {}).get(name)
