"""The rules ledger: versioned JSON, never mutated, unreadable parts reported and dropped, old parts pruned."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from lib.rules import LEDGER_VERSION, evaluate
from tests.unit.rules_support import Runner, at, budget, config, observation

T0 = at("2026-11-22T09:00:00+08:00")


def _told_ledger() -> dict[str, Any]:
    cfg = config(budget(limit=100, thresholds=[50]))
    return Runner(cfg).step(T0, [observation(cfg, "traffic", 60, T0)]).ledger


def test_shape_is_versioned_json() -> None:
    ledger = _told_ledger()
    assert ledger["version"] == LEDGER_VERSION
    assert json.loads(json.dumps(ledger)) == ledger
    entry = ledger["entries"]["traffic|"]
    assert entry["period"] == {"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"}
    assert entry["told"] == ["50%"]


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d.update(entries=[]), "no entries"),
        (lambda d: d["entries"]["traffic|"].update(period={"start": "yesterday"}), "unreadable"),
        (lambda d: d["entries"]["traffic|"].pop("budget"), "unreadable"),
        (lambda d: d["entries"]["traffic|"].update(episodes={"weird": {}}), "unreadable"),
        (lambda d: d["entries"].update({"x": "not a mapping"}), "unreadable"),
    ],
)
def test_unreadable_state_is_reported_and_rebuilt(damage: Any, problem: str) -> None:
    ledger = _told_ledger()
    damage(ledger)
    cfg = config(budget(limit=100, thresholds=[50]))
    later = T0 + timedelta(minutes=10)
    outcome = evaluate(cfg, [observation(cfg, "traffic", 60, later)], ledger, later)
    assert any(problem in p for p in outcome.problems), outcome.problems
    # Rebuilt from the data: the entry is back, valid, and the ledger is current again.
    assert outcome.ledger["version"] == LEDGER_VERSION
    assert "traffic|" in outcome.ledger["entries"]


def test_input_is_not_mutated_and_outputs_are_independent() -> None:
    ledger = _told_ledger()
    before = copy.deepcopy(ledger)
    cfg = config(budget(limit=100, thresholds=[50, 80]))
    later = T0 + timedelta(minutes=10)
    outcome = evaluate(cfg, [observation(cfg, "traffic", 90, later)], ledger, later)
    assert ledger == before
    assert outcome.ledger["entries"]["traffic|"]["told"] == ["50%", "80%"]


def test_removed_budgets_and_idle_past_periods_are_pruned() -> None:
    cfg = config(budget(limit=100, thresholds=[50], group_by=["zone-id"]), budget("other", limit=10))
    runner = Runner(cfg)
    runner.step(
        T0,
        [
            observation(cfg, "traffic", 60, T0, group=(("zone-id", "a"),)),
            observation(cfg, "traffic", 60, T0, group=(("zone-id", "b"),)),
            observation(cfg, "other", 1, T0),
        ],
    )
    assert sorted(runner.ledger["entries"]) == ["other|", "traffic|zone-id=a", "traffic|zone-id=b"]  # type: ignore[index]
    only_traffic = config(budget(limit=100, thresholds=[50], group_by=["zone-id"]))
    runner.cfg = only_traffic
    december = at("2026-12-02T00:00:00+08:00")
    runner.step(december, [observation(only_traffic, "traffic", 1, december, group=(("zone-id", "a"),))])
    # "other" is gone from the config; zone b's November is over and it has nothing live.
    assert sorted(runner.ledger["entries"]) == ["traffic|zone-id=a"]  # type: ignore[index]


def test_stray_inputs_are_reported() -> None:
    cfg = config(budget(limit=100))
    obs = observation(cfg, "traffic", 1, T0)
    stray = observation(config(budget("ghost", limit=1)), "ghost", 1, T0)
    outcome = evaluate(cfg, [obs, obs, stray], None, T0)
    assert len(outcome.evaluations) == 1
    assert any("second observation" in p for p in outcome.problems)
    assert any("unknown budget 'ghost'" in p for p in outcome.problems)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(config(budget(limit=1)), [], None, T0.replace(tzinfo=None))
