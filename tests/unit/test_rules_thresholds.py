"""Threshold rules, table-driven: which level each run tells, given the values seen in one period."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from lib.model import notification_id
from tests.unit.rules_support import Runner, at, budget, config, observation

T0 = at("2026-11-10T10:00:00+08:00")
TB = 10**12


@pytest.mark.parametrize(
    ("fields", "values", "told"),
    [
        pytest.param(
            {"limit": 1000, "thresholds": [50]}, [100, 499, 500, 900], [None, None, 50, None], id="exactly-at-50"
        ),
        pytest.param(
            {"limit": 1000, "thresholds": [50, 80, 100]}, [100, 850, 900, 1000], [None, 80, None, 100], id="jump"
        ),
        pytest.param({"limit": 1000, "thresholds": [50, 80, 100]}, [2000], [100], id="all-at-once"),
        pytest.param({"limit": 1000, "thresholds": [50, 80]}, [850, 400, 850, 600], [80, None, None, None], id="dip"),
        pytest.param({"limit": 1000, "thresholds": [50, 80]}, [499.99, 0, 499], [None, None, None], id="below-all"),
        pytest.param({"limit": 1000}, [999, 1000, 5000], [None, 100, None], id="default-100"),
        pytest.param({"limit": 1000, "thresholds": [150]}, [1400, 1500], [None, 150], id="over-100"),
        pytest.param(
            {"absolute": ["1TB", "5TB"]}, [TB - 1, TB, 4 * TB, 6 * TB], [None, TB, None, 5 * TB], id="absolute"
        ),
        pytest.param(
            {"limit": "10TB", "thresholds": [50, 100], "absolute": ["2TB"]},
            [2 * TB, 5 * TB, 9 * TB, 10 * TB],
            [2 * TB, 50, None, 100],
            id="mixed",
        ),
        pytest.param({"limit": "1KiB", "thresholds": [50]}, [511, 512], [None, 50], id="binary-units"),
    ],
)
def test_levels_told_per_run(fields: dict[str, Any], values: list[float], told: list[float | None]) -> None:
    cfg = config(budget(**fields))
    runner = Runner(cfg)
    got = []
    for i, value in enumerate(values):
        now = T0 + timedelta(minutes=10 * i)
        outcome = runner.step(now, [observation(cfg, "traffic", Decimal(str(value)), now)])
        assert len(outcome.notifications) <= 1
        got.append(outcome.notifications[0].level if outcome.notifications else None)
    assert got == [None if t is None else float(t) for t in told]


def test_the_notification_carries_what_messages_need() -> None:
    cfg = config(budget(limit="10TB", thresholds=[50, 80, 100], group_by=["zone-id"], channels=["ops"]))
    group = (("zone-id", "zone-2m2gq4dnpmd2"),)
    breakdown = tuple((f"host{i}.example.com", Decimal(i * TB)) for i in range(7))
    obs = observation(cfg, "traffic", Decimal("8.1e12"), T0, group=group, breakdown=breakdown)
    outcome = Runner(cfg).step(T0, [obs])
    (n,) = outcome.notifications
    assert (n.kind, n.status, n.level, n.percent) == ("threshold", "firing", 80.0, 81.0)
    assert (n.value, n.limit, n.unit) == (Decimal("8.1e12"), Decimal(10 * TB), "B")
    assert n.channels == ("ops",)
    assert n.id == notification_id(
        "traffic", "zone-id=zone-2m2gq4dnpmd2", "2026-11-01T00:00:00+08:00", "threshold", "80%"
    )
    assert [name for name, _ in n.breakdown] == [f"host{i}.example.com" for i in (6, 5, 4, 3, 2)]
    assert n.detail["thresholds"] == [50.0, 80.0, 100.0]
    assert n.detail["also_crossed"] == [50.0]
    assert n.detail["level_kind"] == "percent"
    (row,) = outcome.evaluations
    assert row.to_dict() == {
        "budget": "traffic",
        "group": {"zone-id": "zone-2m2gq4dnpmd2"},
        "period": {"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"},
        "value": 8100000000000,
        "unit": "B",
        "limit": 10000000000000,
        "percent": 81.0,
        # No series: the run rate. 9 days 10 hours (226 h) of a 720 h month have passed.
        "forecast": float((Decimal("8.1e12") * 720 / 226).quantize(Decimal("0.01"))),
        "level": 80,
        "status": "firing",
        "kind": "threshold",
    }


def test_groups_are_independent() -> None:
    cfg = config(budget(limit=100, thresholds=[50], group_by=["zone-id"]))
    a, b = (("zone-id", "a"),), (("zone-id", "b"),)
    runner = Runner(cfg)
    first = runner.step(
        T0, [observation(cfg, "traffic", 60, T0, group=a), observation(cfg, "traffic", 10, T0, group=b)]
    )
    assert [n.group for n in first.notifications] == [a]
    later = T0 + timedelta(hours=1)
    second = runner.step(
        later, [observation(cfg, "traffic", 70, later, group=a), observation(cfg, "traffic", 55, later, group=b)]
    )
    assert [n.group for n in second.notifications] == [b]


@pytest.mark.parametrize(
    ("quota", "value", "status", "levels"),
    [
        (Decimal(1000), 800, "firing", [80.0]),
        (None, 800, "error", []),  # DescribePlans gave no quota: say so rather than guess
        (Decimal(0), 800, "error", []),
    ],
)
def test_plan_quota_as_limit(quota: Decimal | None, value: int, status: str, levels: list[float]) -> None:
    cfg = config(budget(limit="plan", thresholds=[50, 80]))
    outcome = Runner(cfg).step(T0, [observation(cfg, "traffic", value, T0, limit=quota)])
    assert [n.level for n in outcome.notifications] == levels
    (row,) = outcome.evaluations
    assert row.status == status
    if status == "error":
        assert row.error and "plan quota" in row.error
    else:
        assert (row.limit, row.percent) == (quota, 80.0)


def test_a_refund_below_a_told_level_then_a_new_crossing_of_it_stays_quiet() -> None:
    cfg = config(budget(source="billing", metric="cost", limit=5000, thresholds=[80, 100], channels=["ops"]))
    runner = Runner(cfg)
    told = []
    for i, value in enumerate(["4100", "3900", "4200", "5000"]):  # a refund, then spending again
        now = T0 + timedelta(hours=i)
        outcome = runner.step(now, [observation(cfg, "traffic", value, now, unit="CNY")])
        told += [n.level for n in outcome.notifications]
    assert told == [80.0, 100.0]
