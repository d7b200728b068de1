"""Collectors against the real sandbox (HTTP, signatures, limits): every value equals the truth worked out
by hand, in this file, from the scenario's definition (flat shapes, no noise, exact integer shares)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from lib.client import ApiClient, Credentials
from lib.config.models import Config
from lib.model import Observation
from lib.sources import collect
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

NOW = "2026-11-22T10:00:00+08:00"
# Month so far: 1 Nov 00:00 to 22 Nov 10:00 (+08:00) = 21 days and 10 hours of 5-minute slots.
MONTH_SLOTS = 21 * 288 + 10 * 12
DAY_SLOTS = 10 * 12
HOURS_ENDED = 21 * 24 + 10
EXTRA_ZONES = [f"zone-e{i:03d}" for i in range(205)]  # takes "*" grouped by zone past 200 groups

# zone-a1: hosts a (weight 1) and b (weight 3), regions CH and EU (1:1). acc_flux 2,304,000 B a day is
# 8,000 B per slot: host a 1,000 per region, host b 3,000 per region. sec_request_clean 2,880 a day:
# floor(2880 * 1/4 * 1/2 / 288) = 1 per slot for a's series, floor(3.75) = 3 for b's.
# The spike multiplies host b's acc_flux by 5 for one hour (12 slots), derived bandwidth too.
SCENARIO: dict[str, Any] = {
    "name": "collectors-e2e",
    "timezone": "Asia/Shanghai",
    "clock": {"now": NOW},
    "plans": [
        {"id": "edgeone-p1", "capacity": {"AccTrafficCapacity": "10 TB", "SecRequestCapacity": 1_000_000}},
        {"id": "edgeone-p2", "capacity": {"AccTrafficCapacity": "1 TB"}},
    ],
    "zones": [
        {
            "id": "zone-a1",
            "name": "a.example.com",
            "plan": "edgeone-p1",
            "hosts": {"a.example.com": 1, "b.example.com": 3},
            "regions": {"CH": 1, "EU": 1},
            "usage": {"acc_flux": {"daily": 2_304_000}, "sec_request_clean": {"daily": 2880}},
        },
        {
            "id": "zone-b2",
            "name": "b.example.org",
            "plan": "edgeone-p2",
            "hosts": {"c.example.org": 1},
            "usage": {"acc_flux": {"daily": 144_000}, "sec_request_clean": {"daily": 576}},
        },
        {"id": "zone-c3", "name": "no-plan.example.net", "plan": None},
        {"id": "zone-d4", "name": "idle.example.net", "plan": "edgeone-p2"},
        *({"id": z, "name": f"{z}.example.net", "plan": "edgeone-p2"} for z in EXTRA_ZONES),
    ],
    "spikes": [
        {
            "zone": "zone-a1",
            "host": "b.example.com",
            "metrics": ["acc_flux"],
            "start": "2026-11-20T12:00:00+08:00",
            "end": "2026-11-20T13:00:00+08:00",
            "factor": 5,
        }
    ],
    "billing": {
        "as_of": "2026-11-01T00:00:00+08:00",
        "cash": "9500.00",
        "products": [
            {"code": "p_teo", "name": "EdgeOne", "prices": {"acc_flux": {"per": "1 MB", "yuan": "0.50"}}},
            {"code": "p_cvm", "name": "CVM", "daily": "36.00"},
        ],
    },
}

SPIKE_EXTRA = 12 * (15_000 - 3_000) * 2  # host b, both regions, one hour
A1_FLUX = 8_000 * MONTH_SLOTS + SPIKE_EXTRA
B2_FLUX = 500 * MONTH_SLOTS
# Bandwidth derived from traffic, per series: floor(bytes * 8 / 300). Host a: 26 per region; host b
# 80 per region, 400 during the spike.
A1_LEVEL, A1_PEAK = 26 * 2 + 80 * 2, 26 * 2 + 400 * 2
# Bills: CVM 36.00 a day is 150 fen an hour; EdgeOne charges round_half_up(bytes of the hour * 0.50 /
# 1 MB) fen: 102,000 B is 5.1 -> 5 fen, the spike hour's 390,000 B is 19.5 -> 20 fen.
COST_FEN = {"CVM": 150 * HOURS_ENDED, "EdgeOne": 5 * (HOURS_ENDED - 1) + 20}


def cents(fen: int) -> Decimal:
    return Decimal(fen) / 100


BUDGETS: list[dict[str, Any]] = [
    {"name": "per-zone", "source": "teo", "metric": "acc_flux", "group_by": ["zone-id"], "limit": "plan"},
    {"name": "total", "source": "teo", "metric": "acc_flux", "limit": "plan"},
    {"name": "hosts", "source": "teo", "metric": "acc_flux", "zones": ["zone-a1"], "group_by": ["host", "region-id"]},
    {
        "name": "today",
        "source": "teo",
        "metric": "acc_flux",
        "zones": ["zone-a1", "zone-b2"],
        "group_by": ["zone-id"],
        "period": "day",
    },
    {"name": "peak", "source": "teo", "metric": "acc_bandwidth", "zones": ["zone-a1"]},
    {
        "name": "p95-today",
        "source": "teo",
        "metric": "acc_bandwidth",
        "zones": ["zone-a1"],
        "period": "day",
        "aggregate": "p95",
    },
    {"name": "p95-month", "source": "teo", "metric": "acc_bandwidth", "zones": ["zone-a1"], "aggregate": "p95"},
    {"name": "requests", "source": "teo", "metric": "sec_request_clean"},
    {"name": "spend", "source": "billing", "metric": "cost", "limit": 5000},
    {"name": "wallet", "source": "billing", "metric": "balance", "below": 1000},
]


@pytest.fixture(scope="module")
def observations() -> Iterator[list[Observation]]:
    cfg = Config.model_validate({"timezone": "Asia/Shanghai", "budgets": BUDGETS})
    with Sandbox(SCENARIO) as sb, ApiClient(Credentials(sb.secret_id, sb.secret_key), endpoint=sb.url) as client:
        assert sb.now == datetime.fromisoformat(NOW)
        yield collect(cfg, client, sb.now)


def of(observations: list[Observation], budget: str) -> dict[tuple[tuple[str, str], ...], Observation]:
    return {o.group: o for o in observations if o.budget == budget}


def test_nothing_failed(observations: list[Observation]) -> None:
    assert [(o.budget, o.error) for o in observations if not o.ok] == []


def test_star_grouped_by_zone_past_200_groups_and_plan_limits(observations: list[Observation]) -> None:
    per_zone = {dict(g)["zone-id"]: o for g, o in of(observations, "per-zone").items()}
    assert set(per_zone) == {"zone-a1", "zone-b2", "zone-d4", *EXTRA_ZONES}  # zone-c3 has no plan
    assert per_zone["zone-a1"].value == A1_FLUX
    assert per_zone["zone-b2"].value == B2_FLUX
    assert per_zone["zone-d4"].value == 0
    assert per_zone["zone-a1"].limit == Decimal(10**13)
    assert per_zone["zone-e000"].limit == per_zone["zone-b2"].limit == Decimal(10**12)
    assert len(per_zone["zone-a1"].series) == 22
    assert per_zone["zone-a1"].series[19].value == 8_000 * 288 + SPIKE_EXTRA  # 20 November
    assert per_zone["zone-a1"].unit == "B"


def test_account_total(observations: list[Observation]) -> None:
    (total,) = of(observations, "total").values()
    assert total.value == A1_FLUX + B2_FLUX
    assert total.limit == Decimal(11 * 10**12)  # both plans


def test_hosts_by_region(observations: list[Observation]) -> None:
    got = {(dict(g)["host"], dict(g)["region-id"]): o.value for g, o in of(observations, "hosts").items()}
    assert got == {
        ("a.example.com", "CH"): 1_000 * MONTH_SLOTS,
        ("a.example.com", "EU"): 1_000 * MONTH_SLOTS,
        ("b.example.com", "CH"): 3_000 * MONTH_SLOTS + SPIKE_EXTRA // 2,
        ("b.example.com", "EU"): 3_000 * MONTH_SLOTS + SPIKE_EXTRA // 2,
    }


def test_today(observations: list[Observation]) -> None:
    got = {dict(g)["zone-id"]: o for g, o in of(observations, "today").items()}
    assert got["zone-a1"].value == 8_000 * DAY_SLOTS
    assert got["zone-b2"].value == 500 * DAY_SLOTS
    assert len(got["zone-a1"].series) == 10  # 00:00 .. 09:00
    assert got["zone-a1"].period.start == datetime.fromisoformat("2026-11-22T00:00:00+08:00")


def test_bandwidth(observations: list[Observation]) -> None:
    (peak,) = of(observations, "peak").values()
    (p95_today,) = of(observations, "p95-today").values()
    (p95_month,) = of(observations, "p95-month").values()
    assert (peak.value, peak.unit) == (A1_PEAK, "bps")
    assert p95_today.value == A1_LEVEL
    assert p95_month.value == A1_LEVEL  # 12 spiking samples of 6,168 are in the top 5 %
    assert max(p.value for p in peak.series) == A1_PEAK and len(peak.series) == 22


def test_requests(observations: list[Observation]) -> None:
    (requests,) = of(observations, "requests").values()
    assert (requests.value, requests.unit) == ((8 + 2) * MONTH_SLOTS, "count")


def test_cost_and_balance(observations: list[Observation]) -> None:
    (spend,) = of(observations, "spend").values()
    assert spend.value == cents(sum(COST_FEN.values()))
    assert spend.breakdown == (("CVM", cents(COST_FEN["CVM"])), ("EdgeOne", cents(COST_FEN["EdgeOne"])))
    assert spend.unit == "CNY" and spend.ready
    (wallet,) = of(observations, "wallet").values()
    assert wallet.value == Decimal("9500.00") - cents(sum(COST_FEN.values()))


def test_faults_fail_only_the_budgets_that_needed_the_call() -> None:
    scenario = {
        **SCENARIO,
        "zones": SCENARIO["zones"][:4],
        "billing": {**SCENARIO["billing"], "ready": False},
        "faults": [
            {"product": "billing", "action": "DescribeAccountBalance", "code": "UnauthorizedOperation.CamNoAuth"},
        ],
    }
    cfg = Config.model_validate({"timezone": "Asia/Shanghai", "budgets": BUDGETS})
    with Sandbox(scenario) as sb, ApiClient(Credentials(sb.secret_id, sb.secret_key), endpoint=sb.url) as client:
        found = collect(cfg, client, sb.now)
    (wallet,) = of(found, "wallet").values()
    assert wallet.value is None and wallet.error is not None
    assert wallet.error.startswith("UnauthorizedOperation.CamNoAuth")
    (spend,) = of(found, "spend").values()
    assert (spend.ready, spend.value, spend.error) == (False, None, None)
    (total,) = of(found, "total").values()
    assert total.value == A1_FLUX + B2_FLUX
