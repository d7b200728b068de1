"""EdgeOne's metric catalogue: the ``DescribeBillingData`` metrics a budget can watch, with the
``DescribePlans`` quota field that ``limit: plan`` reads (inferred from the field names; tencent-api.md §3.2).

Units are the API's own (reference §3.1). Traffic and requests add up over a period (a forecast makes
sense); bandwidth is a level, reduced to the period's peak by default, or its p95, average or sum.
"""

from __future__ import annotations

from lib.sources.catalogue import Aggregate, Metric

SOURCE = "teo"
DIMENSIONS = ("zone-id", "host", "proxy-id", "region-id")  # DescribeBillingData GroupBy values
BANDWIDTH_AGGREGATES: tuple[Aggregate, ...] = ("max", "p95", "avg", "sum")


def _teo(name: str, unit: str, description: str, plan_quota: str | None = None) -> Metric:
    level = unit == "bps"
    aggregates: tuple[Aggregate, ...] = BANDWIDTH_AGGREGATES if level else ("sum",)
    return Metric(SOURCE, name, unit, not level, description, plan_quota, aggregates, DIMENSIONS)


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
