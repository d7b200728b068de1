"""The action state machine over an in-memory cloud and store: transitions, audit trail, expiry, undo of
exactly what changed, failures as records, and the resume after a run died mid-execution."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lib.actions import Scope, action_for
from lib.actions.machine import (
    DONE,
    EXECUTING,
    EXPIRED,
    FAILED,
    PENDING,
    UNDO_FAILED,
    UNDOING,
    UNDONE,
    action_id,
    due_for_undo,
    intent_doc,
)
from lib.model import group_key
from lib.state.actions import TransitionRefused
from tests.unit.action_support import NOW, PERIOD, FakeCloud, machine, pause_intent, repo

LATER = NOW + timedelta(minutes=1)


def test_manual_intent_waits_then_an_approval_executes_it_once_with_an_audit_trail() -> None:
    state, cloud = repo(), FakeCloud()
    m = machine(state, cloud)
    aid, doc = pause_intent()
    first = m.record(aid, doc, by="run:r1", now=NOW)
    assert first.record is not None and first.record.state == PENDING and not first.acted
    again = m.record(aid, doc, by="run:r2", now=NOW)  # the next run sees the same crossing
    assert not again.acted and again.reason == "already recorded"
    assert cloud.mutations() == []
    approved = m.approve(aid, by="api:ops", now=LATER)
    assert approved.acted and approved.record is not None and approved.record.state == DONE
    assert cloud.paused["zone-1"] is True
    trail = approved.record.trail
    assert [(t.seq, t.state, t.by) for t in trail] == [
        (1, PENDING, "run:r1"),
        (2, EXECUTING, "api:ops"),
        (3, DONE, "api:ops"),
    ]
    assert trail[1].detail["before"][0]["state"] == "active"
    assert trail[2].request_ids == (
        "req-2",
    )  # call 1 read the status, call 2 paused and trail[2].at == LATER.isoformat()
    with pytest.raises(TransitionRefused, match="done; it cannot become executing"):
        m.approve(aid, by="api:ops", now=LATER)
    assert len(cloud.mutations()) == 1


def test_automatic_executes_in_the_same_run_and_undo_restores_it() -> None:
    state, cloud = repo(), FakeCloud()
    m = machine(state, cloud)
    aid, doc = pause_intent(approval="automatic")
    out = m.record(aid, doc, by="run:r1", now=NOW)
    assert out.acted and out.record is not None and out.record.state == DONE and cloud.paused["zone-1"]
    undone = m.undo(aid, by="link", now=LATER)
    assert undone.record is not None and undone.record.state == UNDONE and cloud.paused["zone-1"] is False
    assert [t.state for t in undone.record.trail] == [PENDING, EXECUTING, DONE, UNDOING, UNDONE]
    with pytest.raises(TransitionRefused):
        m.undo(aid, by="link", now=LATER)
    assert state.actions.get(aid) == undone.record  # what was written is what is read back


def test_a_zone_already_paused_is_left_alone_and_stays_paused_after_undo() -> None:
    state, cloud = repo(), FakeCloud(**{"zone-1": True, "zone-2": False})
    m = machine(state, cloud)
    aid, doc = pause_intent(("zone-1", "zone-2"), approval="automatic")
    out = m.record(aid, doc, by="run:r1", now=NOW)
    assert out.record is not None and out.record.state == DONE
    assert cloud.mutations() == [("ModifyZoneStatus", {"ZoneId": "zone-2", "Paused": True})]
    m.undo(aid, by="api:ops", now=LATER)
    assert cloud.paused == {"zone-1": True, "zone-2": False}
    assert cloud.mutations()[-1] == ("ModifyZoneStatus", {"ZoneId": "zone-2", "Paused": False})
    assert len(cloud.mutations()) == 2


def test_nothing_to_undo_when_the_action_changed_nothing() -> None:
    state, cloud = repo(), FakeCloud(**{"zone-1": True})
    m = machine(state, cloud)
    aid, doc = pause_intent(approval="automatic")
    m.record(aid, doc, by="run:r1", now=NOW)
    with pytest.raises(TransitionRefused):
        m.undo(aid, by="api:ops", now=LATER)
    assert cloud.paused["zone-1"] is True and cloud.mutations() == []


def test_a_permission_error_ends_failed_with_the_reason_never_a_crash() -> None:
    state, cloud = repo(), FakeCloud()
    cloud.deny.add("ModifyZoneStatus")
    m = machine(state, cloud)
    aid, doc = pause_intent(approval="automatic")
    out = m.record(aid, doc, by="run:r1", now=NOW)
    assert out.record is not None and out.record.state == FAILED
    (result,) = out.record.last.detail["results"]
    assert result["failure"]["code"] == "UnauthorizedOperation" and "ModifyZoneStatus" in result["failure"]["message"]
    assert out.record.last.request_ids == ("req-2",)
    with pytest.raises(TransitionRefused):  # it changed nothing: nothing to undo
        m.undo(aid, by="api:ops", now=LATER)


def test_a_status_that_cannot_be_read_fails_the_target_without_acting() -> None:
    state, cloud = repo(), FakeCloud()
    cloud.unreadable.add("DescribeZones")
    out = machine(state, cloud).record(*pause_intent(approval="automatic"), by="run:r1", now=NOW)
    assert out.record is not None and out.record.state == FAILED and cloud.mutations() == []
    assert "could not be read" in out.record.last.detail["results"][0]["failure"]["message"]


def test_an_intent_expires_at_the_end_of_its_period() -> None:
    state, cloud = repo(), FakeCloud()
    m = machine(state, cloud)
    aid, doc = pause_intent()
    m.record(aid, doc, by="run:r1", now=NOW)
    with pytest.raises(TransitionRefused):
        m.approve(aid, by="api:ops", now=PERIOD.end)
    record = state.actions.get(aid)
    assert record is not None and record.state == EXPIRED and cloud.mutations() == []


def test_undo_at_period_end_is_due_only_after_the_period_and_only_when_something_changed() -> None:
    state, cloud = repo(), FakeCloud()
    m = machine(state, cloud)
    aid, doc = pause_intent(approval="automatic", undo="period-end")
    out = m.record(aid, doc, by="run:r1", now=NOW)
    assert out.record is not None
    assert not due_for_undo(out.record, NOW) and due_for_undo(out.record, PERIOD.end)
    manual_id, manual = pause_intent(("zone-9",), approval="automatic")
    cloud.paused["zone-9"] = False
    other = m.record(manual_id, manual, by="run:r1", now=NOW)
    assert other.record is not None and not due_for_undo(other.record, PERIOD.end)


def test_a_run_killed_after_the_change_is_finished_as_done_from_the_true_status() -> None:
    state, cloud = repo(), FakeCloud()
    m = machine(state, cloud)
    aid, doc = pause_intent()
    m.record(aid, doc, by="run:r1", now=NOW)
    record = state.actions.get(aid)
    assert record is not None
    # What a run killed right after ModifyZoneStatus leaves: executing recorded, the zone paused, no outcome.
    lease = (NOW + timedelta(minutes=15)).isoformat()
    before = [{"target": {"kind": "zone", "id": "zone-1"}, "state": "active", "detail": {}}]
    state.actions.append(record, EXECUTING, by="api:ops", at=NOW, detail={"before": before, "lease_until": lease})
    cloud.paused["zone-1"] = True
    executing = state.actions.get(aid)
    assert executing is not None
    early = m.resume(executing, by="run:r2", now=NOW + timedelta(minutes=5))
    assert not early.acted and "lease" in early.reason
    done = m.resume(executing, by="run:r3", now=NOW + timedelta(minutes=20))
    assert done.record is not None and done.record.state == DONE and cloud.mutations() == []
    assert done.record.last.detail["results"][0]["changed"] is True  # it was active before: undo opens it
    assert m.undo(aid, by="api:ops", now=NOW + timedelta(hours=1)).record.state == UNDONE  # type: ignore[union-attr]
    assert cloud.paused["zone-1"] is False


def test_a_run_killed_before_the_change_is_retried_by_the_next_run() -> None:
    state, cloud = repo(), FakeCloud()
    m = machine(state, cloud, lease=timedelta(minutes=1))
    aid, doc = pause_intent()
    m.record(aid, doc, by="run:r1", now=NOW)
    record = state.actions.get(aid)
    assert record is not None
    before = [{"target": {"kind": "zone", "id": "zone-1"}, "state": "active", "detail": {}}]
    state.actions.append(
        record, EXECUTING, by="run:r1", at=NOW, detail={"before": before, "lease_until": NOW.isoformat()}
    )
    out = m.approve(aid, by="api:late", now=LATER)  # an approval of an executing record resumes it
    assert out.record is not None and out.record.state == DONE and cloud.paused["zone-1"] is True
    assert [t.state for t in out.record.trail] == [PENDING, EXECUTING, EXECUTING, DONE]
    assert out.record.trail[2].detail["resumed"] is True
    assert cloud.mutations() == [("ModifyZoneStatus", {"ZoneId": "zone-1", "Paused": True})]


def test_an_interrupted_undo_is_finished_and_a_failed_undo_can_be_retried() -> None:
    state, cloud = repo(), FakeCloud()
    m = machine(state, cloud, lease=timedelta(0))
    aid, doc = pause_intent(approval="automatic")
    m.record(aid, doc, by="run:r1", now=NOW)
    cloud.deny.add("ModifyZoneStatus")
    failed = m.undo(aid, by="api:ops", now=LATER)
    assert failed.record is not None and failed.record.state == UNDO_FAILED and cloud.paused["zone-1"]
    cloud.deny.clear()
    retried = m.undo(aid, by="api:ops", now=LATER)
    assert retried.record is not None and retried.record.state == UNDONE and not cloud.paused["zone-1"]


def test_cdn_and_domains_go_through_the_same_machine() -> None:
    state, cloud = repo(), FakeCloud()
    cloud.cdn["cdn.example.com"] = "online"
    cloud.hosts["www.example.com"] = "offline"  # already offline: left so by execute and undo
    cloud.hosts["img.example.com"] = "online"
    m = machine(state, cloud)
    for name, labels, explicit in (
        ("stop-cdn-domain", {"domain": "cdn.example.com"}, ()),
        ("domains-offline", {"zone-id": "zone-1"}, ("www.example.com", "img.example.com")),
    ):
        group = group_key(labels)
        intent = action_for(name).plan(Scope(labels, explicit=explicit))
        doc = intent_doc(intent, budget="b", group=group, period=PERIOD, approval="automatic", undo="manual")
        aid = action_id("b", group, PERIOD, name)
        assert m.record(aid, doc, by="run:r1", now=NOW).record.state == DONE  # type: ignore[union-attr]
        assert m.undo(aid, by="api:ops", now=LATER).record.state == UNDONE  # type: ignore[union-attr]
    assert cloud.cdn == {"cdn.example.com": "online"}
    assert cloud.hosts == {"www.example.com": "offline", "img.example.com": "online"}
    modify = [p["DomainNames"] for a, p in cloud.mutations() if a == "ModifyAccelerationDomainStatuses"]
    assert modify == [["img.example.com"], ["img.example.com"]]


def test_ids_are_one_per_budget_group_period_and_action() -> None:
    group = group_key({"zone-id": "zone-1"})
    ids = {
        action_id("b", group, PERIOD, "pause-zone"),
        action_id("b", group, PERIOD, "domains-offline"),
        action_id("c", group, PERIOD, "pause-zone"),
        action_id("b", group_key({"zone-id": "zone-2"}), PERIOD, "pause-zone"),
        action_id("b", group, PERIOD, "pause-zone", account="100001"),
    }
    assert len(ids) == 5 and action_id("b", group, PERIOD, "pause-zone") in ids


def test_an_unknown_id_is_not_found() -> None:
    from lib.state.actions import ActionNotFound

    m = machine(repo(), FakeCloud())
    with pytest.raises(ActionNotFound, match="act_missing"):
        m.approve("act_missing", by="api:ops", now=NOW)
    with pytest.raises(ActionNotFound):
        m.undo("act_missing", by="api:ops", now=NOW)


def test_an_automatic_intent_left_pending_by_a_dead_run_is_executed_by_the_next() -> None:
    state, cloud = repo(), FakeCloud()
    aid, doc = pause_intent(approval="automatic")
    assert state.actions.open(aid, doc, state=PENDING, by="run:dead", at=NOW)  # it died right after this
    out = machine(state, cloud).record(aid, doc, by="run:next", now=LATER)
    assert out.acted and out.record is not None and out.record.state == DONE and cloud.paused["zone-1"]
    assert machine(state, cloud).record(aid, doc, by="run:third", now=LATER).reason == "already recorded"
    assert len(cloud.mutations()) == 1
    late_id, late = pause_intent(("zone-2",), approval="automatic")
    cloud.paused["zone-2"] = False
    state.actions.open(late_id, late, state=PENDING, by="run:dead", at=NOW)
    assert not machine(state, cloud).record(late_id, late, by="run:next", now=PERIOD.end).acted  # expired


def test_a_call_that_failed_but_took_effect_counts_as_done_and_can_be_undone() -> None:
    state, cloud = repo(), FakeCloud()
    cloud.cdn["cdn.example.com"] = "online"
    cloud.lost_answers.add("StopCdnDomain")
    group = group_key({"domain": "cdn.example.com"})
    intent = action_for("stop-cdn-domain").plan(Scope(dict(group)))
    doc = intent_doc(intent, budget="b", group=group, period=PERIOD, approval="automatic", undo="manual")
    aid = action_id("b", group, PERIOD, "stop-cdn-domain")
    out = machine(state, cloud).record(aid, doc, by="run:r1", now=NOW)
    assert out.record is not None and out.record.state == DONE and cloud.cdn["cdn.example.com"] == "offline"
    assert out.record.last.detail["results"][0]["changed"] is True
    cloud.lost_answers = {"StartCdnDomain"}
    undone = machine(state, cloud).undo(aid, by="api:ops", now=LATER)
    assert undone.record is not None and undone.record.state == UNDONE and cloud.cdn["cdn.example.com"] == "online"
    assert [a for a, _ in cloud.mutations()] == ["StopCdnDomain", "StartCdnDomain"]
