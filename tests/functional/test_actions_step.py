"""The run's action step over an in-memory store and a fake cloud: record, execute, expire, resume, undo at period
end, carry the actions on the crossing and announce each transition once, with a failure's reason."""

from __future__ import annotations

from datetime import timedelta

from lib.actions.machine import EXECUTING, LEASE
from lib.app import operations
from lib.app.actions_step import run_actions
from lib.deliveries import run as deliver_all
from lib.messages.text import render_text
from lib.model import Evaluation, Notification
from lib.notify import DeliveryResult
from lib.notify.webhook import payload
from tests.unit.action_step_support import NEXT_PERIOD, Clock, app, config, crossing, evaluation, observation
from tests.unit.action_support import NOW, PERIOD, FakeCloud

PAUSE = {"type": "pause-zone", "at": 100}


def step(a, evaluations: list[Evaluation], notes: list[Notification] | None = None, *, dry_run: bool = False):  # type: ignore[no-untyped-def]
    return run_actions(
        a,
        evaluations=evaluations,
        observations=[observation(e) for e in evaluations],
        notifications=notes or [],
        silences=[],
        now=a.now(),
        run_id="r1",
        dry_run=dry_run,
    )


def announced(notes: list[Notification]) -> list[str]:
    return [n.detail["state"] for n in notes if n.kind == "action"]


def mark_sent(a, notes: list[Notification]) -> None:  # type: ignore[no-untyped-def]
    """Deliver through the real exactly-once protocol with a sender that always succeeds."""

    def send(channel: str, items):  # type: ignore[no-untyped-def]
        return [DeliveryResult(channel, tuple(n.id for n in items), "sent", "HTTP 200", 200)]

    deliver_all(a.repo, notes, send=send, run_id="r", now=a.now())


def test_an_automatic_action_executes_in_the_run_and_rides_on_the_crossing() -> None:
    cloud = FakeCloud()
    a = app(config({**PAUSE, "approval": "automatic"}), cloud)
    ev = evaluation(120)
    note = crossing(ev)
    done = step(a, [ev], [note])
    assert cloud.paused["zone-1"] is True
    [row] = done.rows
    assert (row["state"], row["type"], row["targets"], row["by"]) == ("done", "pause-zone", ["zone-1"], "automatic")
    assert row["request_ids"]
    carried = next(n for n in done.notifications if n.id == note.id)
    assert carried.detail["actions"] == [
        {"id": row["id"], "type": "pause-zone", "state": "done", "targets": ["zone-1"], "approval": "automatic"}
    ]
    assert announced(done.notifications) == ["done"]  # no "waiting for approval" for an automatic one
    assert done.problems == []


def test_a_manual_action_waits_and_its_approval_is_announced_by_the_next_run() -> None:
    cloud = FakeCloud()
    a = app(config(PAUSE), cloud)
    ev = evaluation(120)
    first = step(a, [ev], [crossing(ev)])
    [row] = first.rows
    assert row["state"] == "pending-approval" and not cloud.mutations()
    assert announced(first.notifications) == ["pending-approval"]
    mark_sent(a, first.notifications)

    operations.approve(a, row["id"], by="token-1")
    assert cloud.paused["zone-1"] is True
    second = step(a, [ev])
    assert announced(second.notifications) == ["done"]  # the pending one was sent already
    assert next(n for n in second.notifications if n.kind == "action").detail["by"] == "token-1"
    mark_sent(a, second.notifications)
    assert announced(step(a, [ev]).notifications) == []  # nothing new: nothing told twice
    assert len(cloud.mutations()) == 1


def test_a_missing_permission_fails_the_action_and_says_what_to_grant() -> None:
    cloud = FakeCloud()
    cloud.deny.add("ModifyZoneStatus")
    a = app(config({**PAUSE, "approval": "automatic"}), cloud)
    done = step(a, [evaluation(130)])
    assert done.rows[0]["state"] == "failed" and cloud.paused["zone-1"] is False
    [(budget, problem)] = done.problems
    assert budget == "traffic" and "UnauthorizedOperation" in problem and "teo:ModifyZoneStatus" in problem
    [note] = [n for n in done.notifications if n.kind == "action"]
    assert note.detail["state"] == "failed" and "teo:ModifyZoneStatus" in note.detail["missing_permissions"]
    title, body = render_text(note, "en", a.tz)
    assert "failed" in title and "missing CAM permission: grant the function's role teo:ModifyZoneStatus" in body
    zh_title, zh_body = render_text(note, "zh", a.tz)
    assert "执行失败" in zh_title and "缺少 CAM 权限" in zh_body
    doc = payload(note, body)
    assert (doc["type"], doc["action"], doc["state"], doc["targets"]) == (
        "budget.action",
        "pause-zone",
        "failed",
        ["zone-1"],
    )
    assert doc["missing_permissions"] == ["teo:ModifyZoneStatus", "teo:DescribeZones"]


def test_an_intent_nobody_approved_expires_when_its_period_ends() -> None:
    clock = Clock()
    a = app(config(PAUSE), FakeCloud(), clock=clock)
    step(a, [evaluation(120)])
    clock.now = PERIOD.end + timedelta(minutes=5)
    later = step(a, [evaluation(10, period=NEXT_PERIOD, status="ok", kind=None)])
    assert [r["state"] for r in later.rows] == ["expired"]
    assert announced(later.notifications) == ["expired"]  # the request for approval is 8 days old: history


def test_undo_at_period_end_is_done_by_the_first_run_of_the_next_period() -> None:
    cloud, clock = FakeCloud(), Clock()
    a = app(config({**PAUSE, "approval": "automatic", "undo": "period-end"}), cloud, clock=clock)
    step(a, [evaluation(120)])
    assert cloud.paused["zone-1"] is True
    clock.now = PERIOD.end - timedelta(minutes=5)
    assert step(a, [evaluation(140)]).rows[0]["state"] == "done"  # still this period: it stays paused
    clock.now = PERIOD.end + timedelta(minutes=5)
    nxt = step(a, [evaluation(0, period=NEXT_PERIOD, status="ok", kind=None)])
    assert cloud.paused["zone-1"] is False
    assert [(r["state"], r["by"]) for r in nxt.rows] == [("undone", "period-end")]
    assert "undone" in announced(nxt.notifications)


def test_an_execution_left_behind_by_a_dead_run_is_finished_after_its_lease() -> None:
    cloud, clock = FakeCloud(), Clock()
    a = app(config({**PAUSE, "approval": "automatic"}), cloud, clock=clock)
    ev = evaluation(120)
    decision_id = step(a, [evaluation(50, status="ok", kind=None)]).rows  # nothing yet
    assert decision_id == []
    from lib.actions.decide import decide

    [d] = decide(a.config, [ev], [observation(ev)], [], silences=[], now=NOW).decisions
    a.repo.actions.open(d.id, d.intent, state="pending-approval", by="automatic", at=NOW)
    record = a.repo.actions.get(d.id)
    assert record is not None
    until = (NOW + LEASE).isoformat()
    a.repo.actions.append(record, EXECUTING, by="automatic", at=NOW, detail={"before": [], "lease_until": until})
    clock.now = NOW + timedelta(minutes=1)
    assert step(a, []).rows == [] and cloud.paused["zone-1"] is False  # the dead run might still be working
    clock.now = NOW + LEASE + timedelta(minutes=1)
    resumed = step(a, [])
    assert [(r["state"], r["by"]) for r in resumed.rows] == [("done", "resume:r1")]
    assert cloud.paused["zone-1"] is True


def test_a_dry_run_reports_and_writes_nothing() -> None:
    cloud = FakeCloud()
    a = app(config({**PAUSE, "approval": "automatic"}), cloud)
    ev = evaluation(120)
    note = crossing(ev)
    done = step(a, [ev], [note], dry_run=True)
    assert [r["state"] for r in done.rows] == ["dry-run"]
    assert a.repo.actions.ids() == [] and not cloud.calls
    assert done.notifications[0].detail["actions"][0]["state"] == "dry-run"


def test_an_announcement_older_than_a_day_is_history_not_news() -> None:
    clock = Clock()
    a = app(config(PAUSE), FakeCloud(), clock=clock)
    step(a, [evaluation(120)])
    clock.now = NOW + timedelta(days=2)
    assert announced(step(a, [evaluation(120)]).notifications) == []


def test_each_announcement_has_a_stable_id_per_transition() -> None:
    a = app(config(PAUSE), FakeCloud())
    first = [n.id for n in step(a, [evaluation(120)]).notifications if n.kind == "action"]
    again = [n.id for n in step(a, [evaluation(120)]).notifications if n.kind == "action"]
    assert first == again and len(first) == 1


def test_a_store_that_cannot_list_actions_is_a_problem_and_the_crossing_still_goes_out(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lib.errors import StoreError

    a = app(config(PAUSE), FakeCloud())

    def broken() -> dict[str, int]:
        raise StoreError("listing actions/ failed: HTTP 503")

    monkeypatch.setattr(a.repo.actions, "latest", broken)
    ev = evaluation(50, status="ok", kind=None)
    note = crossing(evaluation(90))
    done = step(a, [ev], [note])
    assert done.notifications == [note]
    assert done.problems == [(None, "the action records could not be listed: listing actions/ failed: HTTP 503")]


# --- the cache of settled records -----------------------------------------------------------------------


def _reads_of_actions(a, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """What a run asks the store about one record: its listing and its transition objects (each a request
    on COS; a warm instance keeps what it read, so the listing is what every sweep of a record costs)."""
    reads: list[str] = []
    get, listing = a.store.get, a.store.list

    def counting_get(key: str):  # type: ignore[no-untyped-def]
        if key.startswith("actions/"):
            reads.append(key)
        return get(key)

    def counting_list(prefix: str):  # type: ignore[no-untyped-def]
        if prefix.startswith("actions/") and prefix != "actions/":
            reads.append(prefix)
        return listing(prefix)

    monkeypatch.setattr(a.store, "get", counting_get)
    monkeypatch.setattr(a.store, "list", counting_list)
    return reads


def test_a_settled_record_is_not_read_again_until_a_new_step_is_taken(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cloud, clock = FakeCloud(), Clock()
    a = app(config({**PAUSE, "approval": "automatic"}), cloud, clock=clock)
    quiet = evaluation(50, status="ok", kind=None)  # under `at`: no decision reads the record
    done = step(a, [evaluation(120)])
    [row] = done.rows
    mark_sent(a, done.notifications)
    reads = _reads_of_actions(a, monkeypatch)
    step(a, [quiet])
    assert reads  # done an hour ago: its announcement is still news, so the run reads it
    clock.now += timedelta(days=1, minutes=5)
    reads.clear()
    step(a, [quiet])  # the announcement window has passed: settled, and remembered so
    assert a.repo.actions.settled().value == {row["id"]: 3}  # pending, executing, done
    reads.clear()
    for _ in range(3):
        assert step(a, [quiet]).problems == []
    assert reads == []  # three runs, not one read of it

    operations.undo(a, row["id"], by="token-1")  # through the API: a new last step
    reads.clear()
    after = step(a, [quiet])
    assert reads and announced(after.notifications) == ["undone"]
    assert cloud.paused["zone-1"] is False


def test_a_damaged_cache_of_settled_records_is_reported_and_every_record_read(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cloud, clock = FakeCloud(), Clock()
    a = app(config({**PAUSE, "approval": "automatic"}), cloud, clock=clock)
    quiet = evaluation(50, status="ok", kind=None)  # under `at`: no decision reads the record
    step(a, [evaluation(120)])
    clock.now += timedelta(days=2)
    step(a, [quiet])
    assert a.repo.actions.settled().value
    a.store.put("actions-settled.json", b"{not json")
    reads = _reads_of_actions(a, monkeypatch)
    damaged = step(a, [quiet])
    assert reads and any("actions-settled.json" in p and "unreadable" in p for _, p in damaged.problems)
    assert a.repo.actions.settled().value  # written afresh by that run
    reads.clear()
    assert step(a, [quiet]).problems == [] and reads == []


def test_a_warm_instance_shows_each_step_of_a_record_after_one_read(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """GET /actions, /status and the dashboard on one instance: a record read at its current last step is
    not read again; a step written by anyone else (another instance) is read, and only then."""
    from lib.state.repo import StateRepository

    cloud, clock = FakeCloud(), Clock()
    a = app(config(PAUSE), cloud, clock=clock)
    [row] = step(a, [evaluation(120)]).rows
    reads = _reads_of_actions(a, monkeypatch)
    first = a.repo.actions.records()
    objects = [k for k in reads if not k.endswith("/")]
    assert [r.state for r in first] == ["pending-approval"] and objects == []  # read when the run recorded it
    reads.clear()
    assert a.repo.actions.records() == first and reads == []  # the listing of actions/ only
    other = StateRepository(a.store)  # another instance approves it
    from lib.actions import ACTIONS
    from lib.actions.machine import Machine

    Machine(other.actions, lambda _target: cloud, ACTIONS, clock=clock).approve(row["id"], by="token-2", now=clock.now)
    reads.clear()
    [now_done] = a.repo.actions.records()
    assert now_done.state == "done" and now_done.trail[-1].by == "token-2"
    assert [k for k in reads if not k.endswith("/")] == [f"actions/{row['id']}/{n:04d}" for n in (1, 2, 3)]
