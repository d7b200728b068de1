"""Properties of the run's action step (hypothesis): however runs, retries, approvals and replayed link clicks race
on one store, an action executes at most once per (budget, group, period, action); and no run acts on a value
that is an error, no data, not ready or late."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lib.app import operations
from lib.app.actions_step import run_actions
from lib.errors import BudgetError
from lib.model import Evaluation
from tests.unit.action_step_support import Clock, app, config, evaluation, observation
from tests.unit.action_support import NOW, FakeCloud

ZONES = ("zone-1", "zone-2")
Op = tuple[str, int, int]  # (what, zone, percent)
ops = st.tuples(
    st.sampled_from(["run", "run", "approve", "link-replay", "undo"]),
    st.integers(0, len(ZONES) - 1),
    st.sampled_from([50, 99, 100, 140]),
)


def _run(a: Any, evaluations: list[Evaluation], run_id: str, *, late: bool = False) -> None:
    observations = [observation(e, data_until=NOW - timedelta(hours=3) if late else None) for e in evaluations]
    run_actions(
        a,
        evaluations=evaluations,
        observations=observations,
        notifications=[],
        silences=[],
        now=NOW,
        run_id=run_id,
        dry_run=False,
    )


def _ids(a: Any) -> list[str]:
    return list(a.repo.actions.ids())


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(ops, min_size=1, max_size=4), min_size=2, max_size=5), st.booleans())
def test_racing_runs_approvals_and_replays_execute_at_most_once(racers: list[list[Op]], automatic: bool) -> None:
    cloud = FakeCloud(yield_each_call=True, **dict.fromkeys(ZONES, False))
    action = {"type": "pause-zone", "at": 100, "approval": "automatic" if automatic else "manual"}
    shared = app(config(action), cloud, clock=Clock())
    start = threading.Barrier(len(racers))

    def race(index: int, plan: list[Op]) -> None:
        start.wait()
        for step, (what, zone, percent) in enumerate(plan):
            try:
                if what == "run":  # a timer run, or a retry of one (same inputs, another run id)
                    _run(shared, [evaluation(percent, zone=ZONES[zone])], f"r{index}-{step}")
                elif what in ("approve", "link-replay"):
                    for aid in _ids(shared):
                        # A replayed link: only the first use of its nonce acts (create-only marker).
                        nonce = f"link-{aid}"
                        if what == "link-replay" and not shared.repo.actions.use_link(
                            nonce, at=NOW, operation="approve", by="link"
                        ):
                            continue
                        operations.approve(shared, aid, by=f"token-{index}", now=NOW)
                else:
                    for aid in _ids(shared):
                        operations.undo(shared, aid, by=f"token-{index}", now=NOW)
            except BudgetError:  # refused transitions are answers, not failures of the property
                continue

    threads = [threading.Thread(target=race, args=(i, plan)) for i, plan in enumerate(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for zone in ZONES:
        pauses = [p for _, p in cloud.mutations() if p == {"ZoneId": zone, "Paused": True}]
        opens = [p for _, p in cloud.mutations() if p == {"ZoneId": zone, "Paused": False}]
        assert len(pauses) <= 1 and len(opens) <= len(pauses)
    for aid in _ids(shared):
        record = shared.repo.actions.get(aid)
        assert record is not None
        executions = [t for t in record.trail if t.state == "executing"]
        assert len(executions) <= 1  # nobody died here, so nobody resumed: one execution per action
        zone = record.intent["targets"][0]["id"]
        if record.state == "done":
            assert cloud.paused[zone] is True  # the record tells the cloud's truth
        if record.state in ("pending-approval", "undone"):
            assert cloud.paused[zone] is False


bad = st.sampled_from(["error", "no-data", "not-ready", "late"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(bad, st.integers(0, 1), st.sampled_from([100, 150, 1000])), min_size=1, max_size=8))
def test_no_run_acts_on_an_error_no_data_a_value_not_ready_or_a_late_one(runs: list[tuple[str, int, int]]) -> None:
    cloud = FakeCloud(**dict.fromkeys(ZONES, False))
    a = app(config({"type": "pause-zone", "at": 100, "approval": "automatic"}), cloud)
    for i, (why, zone, percent) in enumerate(runs):
        if why == "error":
            ev = evaluation(percent, zone=ZONES[zone], status="error", error="InternalError: try later")
        elif why == "no-data":
            ev = evaluation(percent, zone=ZONES[zone], status="no-data", error="no value reported")
        elif why == "not-ready":
            ev = evaluation(percent, zone=ZONES[zone], status="ok", error="data not ready yet; skipped")
        else:
            ev = evaluation(percent, zone=ZONES[zone])
        _run(a, [ev], f"r{i}", late=why == "late")
    assert cloud.calls == [] and a.repo.actions.ids() == []
