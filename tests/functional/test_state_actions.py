"""The action record store on a real folder and in memory: create-only transitions, the audit trail read
back, a damaged transition holding the record (never moved aside), and the repository facade."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.actions.machine import DONE, EXECUTING, PENDING
from lib.state.actions import UNREADABLE, ActionStore, TransitionRefused, transition_key
from lib.state.local import LocalStore
from lib.state.memory import MemoryStore
from lib.state.repo import StateRepository
from lib.state.store import ObjectStore
from tests.unit.action_support import NOW, FakeCloud, machine, pause_intent


@pytest.fixture(params=["memory", "folder"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return MemoryStore() if request.param == "memory" else LocalStore(str(tmp_path / "state"))


def test_open_is_create_only_and_the_trail_reads_back_in_order(store: ObjectStore) -> None:
    actions = StateRepository(store).actions
    assert isinstance(actions, ActionStore)
    aid, doc = pause_intent()
    assert actions.get(aid) is None
    assert actions.open(aid, doc, state=PENDING, by="run:1", at=NOW) is True
    assert actions.open(aid, {**doc, "summary": "other"}, state=PENDING, by="run:2", at=NOW) is False
    record = actions.get(aid)
    assert record is not None and record.intent == doc and record.state == PENDING
    second = actions.append(record, EXECUTING, by="api:ops", at=NOW, detail={"lease_until": NOW.isoformat()})
    assert second is not None
    assert actions.append(record, "expired", by="run:2", at=NOW) is None  # seq 2 is taken whatever it names
    third = actions.append(second, DONE, by="api:ops", at=NOW, request_ids=["req-9"])
    assert third is not None and actions.get(aid) == third
    assert [(t.seq, t.state, t.by) for t in third.trail] == [
        (1, PENDING, "run:1"),
        (2, EXECUTING, "api:ops"),
        (3, DONE, "api:ops"),
    ]
    assert third.to_dict()["trail"][2]["request_ids"] == ["req-9"] and third.to_dict()["state"] == DONE
    assert sorted(store.list("actions/")) == [transition_key(aid, n) for n in (1, 2, 3)]
    assert actions.ids() == [aid]


def test_a_damaged_transition_holds_the_record_and_stays_where_it_is(store: ObjectStore) -> None:
    state = StateRepository(store)
    cloud = FakeCloud()
    aid, doc = pause_intent()
    machine(state, cloud).record(aid, doc, by="run:1", now=NOW)
    record = state.actions.get(aid)
    assert record is not None
    state.actions.append(record, EXECUTING, by="api:ops", at=NOW, detail={"lease_until": NOW.isoformat()})
    store.put(transition_key(aid, 2), b"{not json")
    held = state.actions.get(aid)
    assert held is not None and held.state == UNREADABLE
    assert store.get(transition_key(aid, 2)) is not None  # not moved aside: its number stays taken
    assert any("unreadable" in p for p in state.problems)
    with pytest.raises(TransitionRefused, match="unreadable; it cannot become"):
        machine(state, cloud).execute(held, by="api:ops", now=NOW)
    assert cloud.mutations() == []
