"""Deciding budget actions (pure): fires on a measured value at ``at``, never on an error, no data, a late or
not-ready value, a forecast or a spike unless opted in, or inside a silence; one id per (budget, group,
period, action)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lib.actions.decide import decide
from lib.actions.machine import action_id
from lib.model import Evaluation, Notification, Observation, Silence
from tests.unit.action_step_support import (
    NEXT_PERIOD,
    config,
    crossing,
    evaluation,
    observation,
    silence,
)
from tests.unit.action_support import NOW, PERIOD

PAUSE = {"type": "pause-zone", "at": 100}


def run(
    cfg_actions: list[dict[str, object]],
    evaluations: list[Evaluation],
    *,
    observations: list[Observation] | None = None,
    notifications: list[Notification] | None = None,
    silences: list[Silence] | None = None,
    **budget: object,
) -> list[tuple[str, str]]:
    cfg = config(*cfg_actions, **budget)
    obs = observations if observations is not None else [observation(e) for e in evaluations]
    decided = decide(cfg, evaluations, obs, notifications or [], silences=silences or [], now=NOW)
    assert decided.problems == []
    return [(d.action, d.trigger) for d in decided.decisions]


def test_a_measured_value_at_the_level_fires_and_one_below_does_not() -> None:
    assert run([PAUSE], [evaluation(100)]) == [("pause-zone", "measured")]
    assert run([PAUSE], [evaluation(99.99)]) == []
    assert run([{"type": "pause-zone", "at": 80}], [evaluation(85)]) == [("pause-zone", "measured")]


@pytest.mark.parametrize(
    ("ev", "obs_error"),
    [
        (evaluation(150, status="error", error="InternalError: try later"), "InternalError: try later"),
        (evaluation(150, status="no-data", error="no value reported"), "no value reported"),
        (evaluation(150, status="ok", error="data not ready yet; skipped"), None),
    ],
    ids=["error", "no-data", "not-ready"],
)
def test_never_on_an_error_no_data_or_a_value_not_ready(ev: Evaluation, obs_error: str | None) -> None:
    assert run([PAUSE], [ev], observations=[observation(ev, error=obs_error)]) == []


def test_never_on_a_late_value_that_stops_short_of_now() -> None:
    ev = evaluation(150)
    assert run([PAUSE], [ev], observations=[observation(ev, data_until=NOW - timedelta(hours=4))]) == []


def test_a_failed_observation_blocks_it_even_if_an_evaluation_looks_measured() -> None:
    ev = evaluation(150)
    assert run([PAUSE], [ev], observations=[observation(ev, error="TransportError: reset")]) == []


def test_a_forecast_crossing_fires_only_when_the_action_opts_in() -> None:
    ev = evaluation(60, forecast_percent=130, kind="forecast")
    assert run([PAUSE], [ev], forecast=True) == []
    opted = {**PAUSE, "on": ["forecast"]}
    assert run([opted], [ev], forecast=True) == [("pause-zone", "forecast")]


def test_a_spike_fires_only_when_the_action_opts_in() -> None:
    ev = evaluation(10, kind="spike")
    spike = {"factor": 3}
    assert run([PAUSE], [ev], spike=spike) == []
    assert run([{**PAUSE, "on": ["spike"]}], [ev], spike=spike) == [("pause-zone", "spike")]
    quiet = evaluation(10, kind=None, status="ok")
    assert run([{**PAUSE, "on": ["spike"]}], [quiet], spike=spike) == []


def test_never_inside_a_silence_of_the_group_but_another_groups_silence_does_not_hold_it() -> None:
    ev = evaluation(150, zone="zone-1")
    assert run([PAUSE], [ev], silences=[silence("zone-1")]) == []
    assert run([PAUSE], [ev], silences=[silence("zone-2")]) == [("pause-zone", "measured")]
    ended = silence("zone-1", hours=-1)
    assert run([PAUSE], [ev], silences=[ended]) == [("pause-zone", "measured")]


def test_one_decision_per_budget_group_period_and_action_with_the_machines_id() -> None:
    cfg = config(PAUSE)
    ev = evaluation(150)
    decided = decide(cfg, [ev, ev], [observation(ev)], [], silences=[], now=NOW)
    assert [d.id for d in decided.decisions] == [action_id("traffic", ev.group, PERIOD, "pause-zone")]
    again = decide(cfg, [ev], [observation(ev)], [], silences=[], now=NOW + timedelta(minutes=5))
    assert again.decisions[0].id == decided.decisions[0].id  # the next run decides the same id
    later = evaluation(150, period=NEXT_PERIOD)
    assert decide(cfg, [later], [observation(later)], [], silences=[], now=NOW).decisions[0].id != again.decisions[0].id


def test_the_decision_names_the_groups_zone_and_the_crossing_that_carries_it() -> None:
    ev = evaluation(120, zone="zone-7")
    note = crossing(ev)
    cfg = config({**PAUSE, "approval": "automatic", "undo": "period-end"})
    [d] = decide(cfg, [ev], [observation(ev)], [note], silences=[], now=NOW).decisions
    assert d.crossing == note.id
    assert [t["id"] for t in d.intent["targets"]] == ["zone-7"]
    assert (d.intent["approval"], d.intent["undo"], d.intent["level"]) == ("automatic", "period-end", 100)
    assert d.intent["expires_at"] == PERIOD.end.isoformat()


def test_explicit_targets_replace_the_groups() -> None:
    ev = evaluation(120, zone="zone-1")
    cfg = config({**PAUSE, "targets": ["zone-1", "zone-2"]}, zones=["zone-1", "zone-2"])
    [d] = decide(cfg, [ev], [observation(ev)], [], silences=[], now=NOW).decisions
    assert [t["id"] for t in d.intent["targets"]] == ["zone-1", "zone-2"]


def test_an_action_that_cannot_name_its_target_is_a_problem_not_a_crash() -> None:
    # The loader's checks refuse this configuration; a model built in code skips them.
    cfg = config(PAUSE, group_by=[])
    ev = evaluation(120)
    ev = Evaluation(**{**ev.__dict__, "group": ()})
    decided = decide(cfg, [ev], [observation(ev)], [], silences=[], now=NOW)
    assert decided.decisions == []
    [(budget, message)] = decided.problems
    assert budget == "traffic" and "zone-id" in message


def test_budgets_without_actions_decide_nothing() -> None:
    ev = evaluation(500)
    assert decide(config(), [ev], [observation(ev)], [], silences=[], now=NOW).decisions == []
