"""Properties: however runs and approvals race (threads on one store), an action executes at most once per
(budget, group, period, action), undo at most once, and the records always tell the cloud's truth."""

from __future__ import annotations

import threading
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from lib.actions.machine import DONE, PENDING, UNDONE, Machine, Outcome
from lib.errors import BudgetError
from lib.state.repo import StateRepository
from tests.unit.action_support import NOW, FakeCloud, machine, pause_intent, repo

ZONES = ("zone-1", "zone-2", "zone-3")
Op = tuple[str, int]  # (what, which zone)
ops = st.tuples(st.sampled_from(["record", "record-auto", "approve", "undo", "resume"]), st.integers(0, len(ZONES) - 1))


def _do(m: Machine, state: StateRepository, op: Op, minute: int) -> Outcome | None:
    what, which = op
    zone = ZONES[which]
    aid, doc = pause_intent((zone,), approval="automatic" if what == "record-auto" else "manual")
    now = NOW + timedelta(minutes=minute)
    try:
        if what.startswith("record"):
            return m.record(aid, doc, by=f"run:{minute}", now=now)
        if what == "approve":
            return m.approve(aid, by=f"api:{minute}", now=now)
        if what == "undo":
            return m.undo(aid, by=f"api:{minute}", now=now)
        record = state.actions.get(aid)
        return None if record is None else m.resume(record, by=f"run:{minute}", now=now)
    except BudgetError:  # refused transitions (unknown id, nothing to undo, not allowed now) are answers
        return None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(ops, min_size=1, max_size=4), min_size=2, max_size=6))
def test_racing_runs_and_approvals_execute_at_most_once(racers: list[list[Op]]) -> None:
    state, cloud = repo(), FakeCloud(yield_each_call=True, **dict.fromkeys(ZONES, False))
    start = threading.Barrier(len(racers))

    def race(plan: list[Op]) -> None:
        m = machine(state, cloud)  # every racer has its own machine, as separate runs do
        start.wait()
        for minute, op in enumerate(plan):
            _do(m, state, op, minute)

    threads = [threading.Thread(target=race, args=(plan,)) for plan in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for zone in ZONES:
        pauses = [p for a, p in cloud.mutations() if p == {"ZoneId": zone, "Paused": True}]
        opens = [p for a, p in cloud.mutations() if p == {"ZoneId": zone, "Paused": False}]
        assert len(pauses) <= 1 and len(opens) <= len(pauses)
        record = state.actions.get(pause_intent((zone,))[0])
        if record is None:
            assert not pauses and cloud.paused[zone] is False
            continue
        assert [t.seq for t in record.trail] == list(range(1, len(record.trail) + 1))
        assert record.trail[0].state == PENDING
        assert record.state in (PENDING, DONE, UNDONE)  # no racer died: nothing is left half-way
        assert cloud.paused[zone] is (record.state == DONE)
        assert len(pauses) == (record.find(DONE) is not None)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 8), st.sampled_from(["executing", "expired", "undoing", "done", "failed"]))
def test_of_racing_appends_to_one_record_exactly_one_wins(writers: int, state_name: str) -> None:
    state = repo()
    aid, doc = pause_intent()
    assert state.actions.open(aid, doc, state=PENDING, by="run:0", at=NOW)
    record = state.actions.get(aid)
    assert record is not None
    start = threading.Barrier(writers)
    wins: list[bool] = []

    def write(n: int) -> None:
        start.wait()
        # each writer names a different next state: they must still collide on one object
        wins.append(state.actions.append(record, f"{state_name}-{n}", by=f"w{n}", at=NOW) is not None)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    after = state.actions.get(aid)
    assert after is not None and len(after.trail) == 2 and after.state.startswith(state_name)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6))
def test_racing_resumers_of_a_dead_run_act_once(resumers: int) -> None:
    state, cloud = repo(), FakeCloud(yield_each_call=True)
    aid, doc = pause_intent()
    m0 = machine(state, cloud)
    m0.record(aid, doc, by="run:0", now=NOW)
    record = state.actions.get(aid)
    assert record is not None
    before = [{"target": {"kind": "zone", "id": "zone-1"}, "state": "active", "detail": {}}]
    dead = state.actions.append(
        record, "executing", by="run:dead", at=NOW, detail={"before": before, "lease_until": NOW.isoformat()}
    )
    assert dead is not None
    start = threading.Barrier(resumers)
    acted: list[bool] = []

    def resume(n: int) -> None:
        m = machine(state, cloud)
        start.wait()
        acted.append(m.resume(dead, by=f"run:{n}", now=NOW + timedelta(minutes=1)).acted)

    threads = [threading.Thread(target=resume, args=(n,)) for n in range(resumers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert acted.count(True) == 1 and len(cloud.mutations()) == 1 and cloud.paused["zone-1"]
