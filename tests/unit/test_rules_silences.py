"""Silences hold notifications; what is still true when they end goes out under the same id."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from lib.model import Silence
from tests.unit.rules_support import Runner, at, budget, config, observation

T0 = at("2026-11-22T09:00:00+08:00")


def _silence(start_h: float, end_h: float, **matchers: str) -> Silence:
    return Silence(
        id="sil",
        matchers=matchers or {"budget": "balance"},
        starts_at=T0 + timedelta(hours=start_h),
        ends_at=T0 + timedelta(hours=end_h),
    )


@pytest.mark.parametrize(
    ("balances", "window", "expected"),
    [
        # (hour, balance); silence [1h, 3h) → (hour, status) told
        ([(0, 1500), (1, 900), (2, 900), (3, 900)], (1, 3), [(3, "firing")]),  # held, told as it ends
        ([(0, 1500), (1, 900), (2, 1500), (3, 1500)], (1, 3), []),  # fired and cleared inside: nothing
        ([(0, 900), (1, 1500), (2, 1500), (3, 1500)], (1, 3), [(0, "firing"), (3, "resolved")]),  # resolved held
        ([(0, 900), (1, 1500), (2, 900), (3, 900)], (1, 3), [(0, "firing")]),  # cleared and back: still firing
        ([(0, 1500), (1, 900), (3, 900)], (0, 0), [(1, "firing")]),  # an empty silence holds nothing
    ],
)
def test_below_under_a_silence(
    balances: list[tuple[int, int]], window: tuple[int, int], expected: list[tuple[int, str]]
) -> None:
    cfg = config(budget("balance", source="billing", metric="balance", below=1000))
    runner = Runner(cfg)
    silence = _silence(*window)
    held_ids = set()
    for hour, balance in balances:
        now = T0 + timedelta(hours=hour)
        outcome = runner.step(now, [observation(cfg, "balance", Decimal(balance), now, unit="CNY")], [silence])
        if silence.active(now):
            assert outcome.notifications == []
            entry = outcome.ledger["entries"]["balance|"]
            held = entry["episodes"]["below"]["held"]
            if held:
                held_ids.add(held)
                assert outcome.evaluations[0].silenced is True
    assert [((n.at - T0) // timedelta(hours=1), n.status) for n in runner.sent] == expected
    for n in runner.sent:
        if n.id in held_ids:
            assert n.detail["held"] is True


def test_repeats_are_skipped_during_a_silence_and_resume_after() -> None:
    cfg = config(budget("balance", source="billing", metric="balance", below=1000, repeat="1h"))
    runner = Runner(cfg)
    silence = _silence(1, 4)
    for hour in range(6):
        now = T0 + timedelta(hours=hour)
        runner.step(now, [observation(cfg, "balance", 500, now, unit="CNY")], [silence])
    # First at 0; repeats 1-3 fall in the silence; at 4 the repeat ordinal is 4; at 5 it is 5.
    assert [(n.detail["repeat"], n.at.hour) for n in runner.sent] == [(0, 9), (4, 13), (5, 14)]


def test_a_repeat_due_inside_a_silence_is_not_sent_when_it_ends() -> None:
    """Skipped, not queued: the silence ends at 12:30, after the 12:00 repeat; the next one is 13:00's."""
    cfg = config(budget("balance", source="billing", metric="balance", below=1000, repeat="1h"))
    runner = Runner(cfg)
    silence = _silence(1, 3.5)
    for half_hours in range(11):
        now = T0 + timedelta(minutes=30 * half_hours)
        runner.step(now, [observation(cfg, "balance", 500, now, unit="CNY")], [silence])
    assert [(n.detail["repeat"], n.at.strftime("%H:%M")) for n in runner.sent] == [
        (0, "09:00"),
        (4, "13:00"),
        (5, "14:00"),
    ]


@pytest.mark.parametrize(
    ("matchers", "silenced"),
    [
        ({"budget": "traffic"}, {"zone-a", "zone-b"}),
        ({"budget": "traffic", "zone-id": "zone-a"}, {"zone-a"}),
        ({"zone-id": "zone-*"}, {"zone-a", "zone-b"}),
        ({"budget": "other"}, set()),
        ({"budget": "traffic", "host": "a.example.com"}, set()),  # not grouped by host: no match
    ],
)
def test_matchers_pick_budget_and_groups(matchers: dict[str, str], silenced: set[str]) -> None:
    cfg = config(budget(limit=100, thresholds=[50], group_by=["zone-id"]))
    silence = Silence("s", matchers, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    observations = [observation(cfg, "traffic", 60, T0, group=(("zone-id", z),)) for z in ("zone-a", "zone-b")]
    outcome = Runner(cfg).step(T0, observations, [silence])
    told = {dict(n.group)["zone-id"] for n in outcome.notifications}
    assert told == {"zone-a", "zone-b"} - silenced
    assert {dict(e.group)["zone-id"] for e in outcome.evaluations if e.silenced} == silenced


def test_a_held_threshold_goes_out_at_the_highest_level_still_crossed() -> None:
    cfg = config(budget(limit=100, thresholds=[50, 80, 100]))
    runner = Runner(cfg)
    silence = Silence("s", {"budget": "traffic"}, T0, T0 + timedelta(hours=2))
    for hour, value in [(0, 60), (1, 90), (2, 95), (3, 99)]:
        now = T0 + timedelta(hours=hour)
        runner.step(now, [observation(cfg, "traffic", value, now)], [silence])
    assert [(n.at.hour, n.level) for n in runner.sent] == [(11, 80.0)]


def test_a_held_threshold_is_dropped_when_the_period_ends_in_the_silence() -> None:
    cfg = config(budget(period="day", limit=100, thresholds=[50]))
    runner = Runner(cfg)
    evening = at("2026-11-22T23:00:00+08:00")
    silence = Silence("s", {"budget": "traffic"}, evening, evening + timedelta(hours=2))
    runner.step(evening, [observation(cfg, "traffic", 60, evening)], [silence])
    after = evening + timedelta(hours=2)  # the next day: its own (small) value
    outcome = runner.step(after, [observation(cfg, "traffic", 10, after)], [silence])
    assert runner.sent == []
    assert outcome.ledger["entries"]["traffic|"]["held"] == {}
