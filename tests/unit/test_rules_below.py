"""Low-balance (``below``) rules with resolved and repeat, table-driven over runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.unit.rules_support import Runner, at, budget, config, observation

T0 = at("2026-11-22T09:00:00+08:00")
ERROR = "fetch failed"
NOT_READY = "not ready"


def _balance(**fields: object) -> dict[str, object]:
    return budget("balance", source="billing", metric="balance", below=1000, **fields)


@pytest.mark.parametrize(
    ("repeat", "runs", "expected"),
    [
        # (hours after T0, balance) → (status, repeat ordinal) told in that run
        (None, [(0, 1500), (1, 900), (2, 800), (3, 1200)], [None, ("firing", 0), None, ("resolved", 0)]),
        (None, [(0, 1000), (1, 999.99)], [None, ("firing", 0)]),  # exactly at the line is not below it
        (None, [(0, -50)], [("firing", 0)]),  # owing money is below any positive line
        # A failed fetch is not a zero balance and not a recovery.
        (None, [(0, 900), (1, ERROR), (2, ERROR), (3, 950)], [("firing", 0), None, None, None]),
        (None, [(0, 1500), (1, ERROR), (2, 1500)], [None, None, None]),
        (None, [(0, 900), (1, NOT_READY), (2, 1500)], [("firing", 0), None, ("resolved", 0)]),
        # repeat 24h counts from the first message; a gap sends only the latest ordinal.
        (
            "24h",
            [(0, 900), (23, 900), (24, 900), (25, 900), (73, 900)],
            [("firing", 0), None, ("firing", 1), None, ("firing", 3)],
        ),
        (
            "24h",
            [(0, 900), (12, 1500), (30, 900), (54, 900)],
            [("firing", 0), ("resolved", 0), ("firing", 0), ("firing", 1)],
        ),
        ("6h", [(0, 900), (5, ERROR), (6, ERROR), (7, 900)], [("firing", 0), None, None, ("firing", 1)]),
    ],
)
def test_below(repeat: str | None, runs: list[tuple[int, object]], expected: list[tuple[str, int] | None]) -> None:
    cfg = config(_balance(repeat=repeat, no_data_after=0))
    runner = Runner(cfg)
    got = []
    for hours, balance in runs:
        now = T0 + timedelta(hours=hours)
        if balance == ERROR:
            obs = observation(cfg, "balance", None, now, error="ApiError: InternalError", unit="CNY")
        elif balance == NOT_READY:
            obs = observation(cfg, "balance", None, now, ready=False, unit="CNY")
        else:
            obs = observation(cfg, "balance", Decimal(str(balance)), now, unit="CNY")
        outcome = runner.step(now, [obs])
        got.append(next(((n.status, n.detail["repeat"]) for n in outcome.notifications), None))
        row = outcome.evaluations[0]
        if balance == ERROR:
            assert (row.status, row.value) == ("error", None)
    assert got == expected
    ids = [n.id for n in runner.sent]
    assert len(ids) == len(set(ids)), "every message, repeat and later episode has its own id"


def test_below_notification_and_row() -> None:
    cfg = config(_balance())
    outcome = Runner(cfg).step(T0, [observation(cfg, "balance", Decimal("812.50"), T0, unit="CNY")])
    (n,) = outcome.notifications
    assert (n.kind, n.status, n.value, n.limit, n.unit, n.level, n.percent) == (
        "below", "firing", Decimal("812.50"), Decimal(1000), "CNY", None, None
    )  # fmt: skip
    assert n.detail["below"] == "1000"
    assert n.detail["since"] == T0.isoformat()
    (row,) = outcome.evaluations
    assert (row.status, row.kind, row.limit) == ("firing", "below", Decimal(1000))


def test_a_retried_run_decides_the_same_ids() -> None:
    """A run that crashed before saving its ledger is replaced by one a few minutes later: same ids."""
    cfg = config(_balance())
    first = Runner(cfg).step(T0, [observation(cfg, "balance", 900, T0, unit="CNY")])
    later = T0 + timedelta(minutes=7)
    retry = Runner(cfg).step(later, [observation(cfg, "balance", 880, later, unit="CNY")])
    assert [n.id for n in retry.notifications] == [n.id for n in first.notifications]
