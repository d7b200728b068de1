"""StateRepository semantics: ledger and migration, claims and leases, outbox, history, bounds, corruption."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.errors import StateError, StoreError
from lib.model import Point, Silence
from lib.state.local import LocalStore
from lib.state.memory import MemoryStore
from lib.state.repo import Claimed, OutboxEntry, StateRepository, encode
from lib.state.store import Obj, ObjectStore

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
DID = "ntf_00112233445566778899aabbccddeeff.ops"


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta.total_seconds()


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__("counting")
        self.puts: list[str] = []

    def put(self, key: str, data: bytes) -> None:
        self.puts.append(key)
        super().put(key, data)


def claim_with_intent(repo: StateRepository, did: str, *, run_id: str, now: datetime, intent: OutboxEntry) -> Claimed:
    """The first two steps of lib.deliveries: the outbox intent, then the claim carrying its copy."""
    repo.outbox.add(intent)
    return repo.claims.claim(did, run_id=run_id, now=now, intent=intent)


def entry(did: str = DID, *, attempts: int = 0, at: datetime = NOW, status: str = "pending") -> OutboxEntry:
    return OutboxEntry(did, "ops", {"id": did.split(".", maxsplit=1)[0]}, attempts, at, "", status)  # type: ignore[arg-type]


# -- ledger ------------------------------------------------------------------------------------------


def test_ledger_round_trip_and_envelope() -> None:
    store = MemoryStore()
    repo = StateRepository(store, clock=Clock())
    repo.ledger.save({"schema": 7, "told": ["a"]})
    raw = store.get("ledger.json")
    assert raw is not None
    assert raw.data.startswith(b'{"schema":1,"saved_at":"20261122T020000000000Z","ledger":{"schema":7')
    loaded = repo.ledger.load()
    assert loaded.value == {"schema": 7, "told": ["a"]}
    assert loaded.problems == []


def test_a_bare_ledger_from_schema_0_is_migrated() -> None:
    store = MemoryStore()
    store.put("ledger.json", b'{"told": ["x"]}')
    assert StateRepository(store).ledger.load().value == {"told": ["x"]}


def test_a_ledger_from_a_newer_version_stops_the_run_instead_of_being_overwritten() -> None:
    store = MemoryStore()
    store.put("ledger.json", b'{"schema": 2, "ledger": {}}')
    with pytest.raises(StateError, match="newer version"):
        StateRepository(store).ledger.load()
    assert store.get("ledger.json") is not None


@pytest.mark.parametrize(
    "data",
    [b"{not json", b"\xff\xfe\x00garbage", b"[1, 2]", b'{"schema": 1, "ledger": [1]}', b'{"schema": "one"}', b""],
)
def test_a_corrupt_ledger_is_moved_aside_and_reported(data: bytes, caplog: pytest.LogCaptureFixture) -> None:
    store = MemoryStore()
    store.put("ledger.json", data)
    repo = StateRepository(store, clock=Clock())
    with caplog.at_level(logging.ERROR, logger="lib.state"):
        loaded = repo.ledger.load()
    assert loaded.value is None
    assert store.get("ledger.json") is None
    aside = store.list("corrupt/")
    assert aside == ["corrupt/ledger.json.20261122T020000000000Z"]
    moved = store.get(aside[0])
    assert moved is not None
    assert moved.data == data
    assert any("ledger.json" in p and "moved to" in p for p in loaded.problems)
    assert loaded.problems == repo.problems
    assert "ledger.json" in caplog.text


def test_after_a_corrupt_ledger_nothing_already_sent_is_sent_again() -> None:
    store = MemoryStore()
    repo = StateRepository(store)
    assert repo.claims.claim(DID, run_id="r1", now=NOW)
    repo.claims.mark_sent(DID, run_id="r1", now=NOW, detail={})
    repo.ledger.save({"told": [DID]})
    store.put("ledger.json", b"\x00\x00 torn write")
    fresh = StateRepository(store)
    assert fresh.ledger.load().value is None  # rules will re-decide the same crossings ...
    assert fresh.claims.is_sent(DID)  # ... and the markers hold them back
    assert fresh.claims.claim(DID, run_id="r2", now=NOW + timedelta(days=1)).won is False


# -- claims ------------------------------------------------------------------------------------------


def test_a_live_claim_holds_and_an_expired_one_is_taken_over() -> None:
    store = MemoryStore()
    a, b = StateRepository(store), StateRepository(store)
    assert a.claims.claim(DID, run_id="run-a", now=NOW)
    assert a.claims.claim(DID, run_id="run-a", now=NOW).won is False  # not re-entrant: one send per run
    assert b.claims.claim(DID, run_id="run-b", now=NOW + timedelta(minutes=4, seconds=59)).won is False
    assert b.claims.claim(DID, run_id="run-b", now=NOW + timedelta(minutes=5)).won is True
    assert store.list("claims/") == [f"claims/{DID}/000001", f"claims/{DID}/000002"]


def test_the_lease_is_configurable() -> None:
    store = MemoryStore()
    assert StateRepository(store, lease=timedelta(seconds=30)).claims.claim(DID, run_id="a", now=NOW)
    assert StateRepository(store).claims.claim(DID, run_id="b", now=NOW + timedelta(seconds=31))


def test_a_released_claim_can_be_claimed_at_once_and_only_by_its_owner() -> None:
    store = MemoryStore()
    a, b = StateRepository(store), StateRepository(store)
    assert a.claims.claim(DID, run_id="run-a", now=NOW)
    b.claims.release(DID, run_id="run-b")  # not b's claim: nothing happens
    assert b.claims.claim(DID, run_id="run-b", now=NOW).won is False
    a.claims.release(DID, run_id="run-a")
    assert b.claims.claim(DID, run_id="run-b", now=NOW).won is True


def test_racing_takeover_of_a_stale_claim_has_one_winner(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert StateRepository(store).claims.claim(DID, run_id="crashed", now=NOW)
    later = NOW + timedelta(minutes=10)
    barrier = threading.Barrier(16)
    winners: list[str] = []

    def contender(i: int) -> None:
        repo = StateRepository(store)
        barrier.wait()
        if repo.claims.claim(DID, run_id=f"run-{i}", now=later):
            winners.append(f"run-{i}")

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_a_claim_won_after_the_delivery_was_sent_is_given_back() -> None:
    store = MemoryStore()
    a = StateRepository(store)
    assert a.claims.claim(DID, run_id="slow", now=NOW)
    a.claims.mark_sent(DID, run_id="slow", now=NOW, detail={"status": 200})
    # a run that checked is_sent before the marker existed, after the slow run's lease ran out
    b = StateRepository(store)
    assert b.claims.claim(DID, run_id="late", now=NOW + timedelta(hours=1)).won is False
    # even when the claims were pruned away meanwhile
    for key in store.list("claims/"):
        store.delete(key)
    assert b.claims.claim(DID, run_id="later", now=NOW + timedelta(hours=2)).won is False


def test_a_corrupt_claim_counts_as_expired_and_is_reported_not_moved() -> None:
    store = MemoryStore()
    store.put(f"claims/{DID}/000001", b"\x00garbage")
    repo = StateRepository(store)
    assert repo.claims.claim(DID, run_id="r", now=NOW).won is True
    assert store.get(f"claims/{DID}/000001") is not None  # its generation number stays used
    assert any("claim marker" in p for p in repo.problems)


def test_mark_sent_twice_is_logged_as_a_duplicate(caplog: pytest.LogCaptureFixture) -> None:
    repo = StateRepository(MemoryStore())
    repo.claims.mark_sent(DID, run_id="a", now=NOW, detail={})
    with caplog.at_level(logging.WARNING, logger="lib.state"):
        repo.claims.mark_sent(DID, run_id="b", now=NOW, detail={})
    assert "already marked sent" in caplog.text
    assert repo.claims.is_sent(DID)


def test_a_damaged_sent_marker_still_counts_as_sent() -> None:
    store = MemoryStore()
    store.put(f"sent/{DID}", b"\xff")
    assert StateRepository(store).claims.is_sent(DID)


# -- outbox ------------------------------------------------------------------------------------------


def test_outbox_due_failed_and_removal() -> None:
    repo = StateRepository(MemoryStore())
    repo.outbox.put(entry("ntf_a.ops", at=NOW + timedelta(minutes=2)))
    repo.outbox.put(entry("ntf_b.ops", at=NOW - timedelta(minutes=1), attempts=2))
    repo.outbox.put(entry("ntf_c.ops", at=NOW, status="failed"))
    assert [e.delivery_id for e in repo.outbox.due(NOW)] == ["ntf_b.ops"]
    assert [e.delivery_id for e in repo.outbox.due(NOW + timedelta(minutes=3))] == ["ntf_b.ops", "ntf_a.ops"]
    assert [e.delivery_id for e in repo.outbox.failed()] == ["ntf_c.ops"]
    assert repo.outbox.due(NOW)[0] == entry("ntf_b.ops", at=NOW - timedelta(minutes=1), attempts=2)
    repo.outbox.remove("ntf_b.ops")
    repo.outbox.remove("ntf_b.ops")
    assert repo.outbox.due(NOW) == []


def test_a_claim_intent_never_overwrites_an_entry_with_attempts() -> None:
    store = MemoryStore()
    repo = StateRepository(store)
    repo.outbox.put(entry(attempts=3, at=NOW + timedelta(minutes=30)))
    claim_with_intent(repo, DID, run_id="r", now=NOW, intent=entry())
    assert repo.outbox.due(NOW + timedelta(hours=1))[0].attempts == 3


def test_a_run_dying_after_its_claim_leaves_the_delivery_in_the_outbox() -> None:
    store = MemoryStore()
    assert claim_with_intent(StateRepository(store), DID, run_id="dies", now=NOW, intent=entry())
    later = StateRepository(store)
    due = later.outbox.due(NOW + timedelta(minutes=1))
    assert [e.delivery_id for e in due] == [DID]
    assert later.claims.claim(DID, run_id="next", now=NOW + timedelta(minutes=1)).won is False  # lease still running
    assert later.claims.claim(DID, run_id="next", now=NOW + timedelta(minutes=6)).won is True


def test_a_corrupt_outbox_entry_is_moved_aside_and_the_others_survive() -> None:
    store = MemoryStore()
    repo = StateRepository(store)
    repo.outbox.put(entry("ntf_a.ops"))
    store.put("outbox/ntf_b.ops.json", b'{"schema":1,"delivery_id":"ntf_b.ops"}')
    store.put("outbox/ntf_c.ops.json", encode({"schema": 1, **entry("ntf_c.ops").to_dict(), "status": "weird"}))
    assert [e.delivery_id for e in repo.outbox.due(NOW)] == ["ntf_a.ops"]
    assert len(store.list("corrupt/outbox/")) == 2
    assert len(repo.problems) == 2


# -- a damaged outbox entry is rebuilt from the copy of its notification in its claim -----------------

NOTE = {"id": "ntf_00112233445566778899aabbccddeeff", "budget": "spend", "detail": {"预算": "¥1,000"}}


def intent(did: str = DID) -> OutboxEntry:
    return OutboxEntry(did, "ops", dict(NOTE), 0, NOW, "", "pending")


@pytest.fixture(params=["memory", "local"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return MemoryStore() if request.param == "memory" else LocalStore(tmp_path)


def tear(store: ObjectStore, did: str = DID) -> bytes:
    """A torn write of the delivery's outbox entry (its first 30 bytes)."""
    obj = store.get(f"outbox/{did}.json")
    assert obj is not None
    store.put(f"outbox/{did}.json", obj.data[:30])
    return obj.data[:30]


def test_a_claim_made_with_an_intent_keeps_a_copy_of_the_notification(any_store: ObjectStore) -> None:
    repo = StateRepository(any_store)
    assert claim_with_intent(repo, DID, run_id="r", now=NOW, intent=intent())
    repo.claims.release(DID, run_id="r")
    obj = any_store.get(f"claims/{DID}/000001")
    assert obj is not None
    doc = json.loads(obj.data)
    assert (doc["delivery_id"], doc["channel"], doc["notification"], doc["released"]) == (DID, "ops", NOTE, True)


def test_a_torn_outbox_entry_is_rebuilt_from_its_claim_and_due_at_once(any_store: ObjectStore) -> None:
    first = StateRepository(any_store)
    assert claim_with_intent(first, DID, run_id="r1", now=NOW, intent=intent())
    first.outbox.put(OutboxEntry(DID, "ops", dict(NOTE), 1, NOW + timedelta(minutes=1), "503", "pending"))
    first.claims.release(DID, run_id="r1")
    claims_before = {k: any_store.get(k) for k in any_store.list("claims/")}
    torn = tear(any_store)

    later = StateRepository(any_store)
    due = later.outbox.due(NOW)  # due now, although the damaged entry said "in a minute"
    assert [(e.delivery_id, e.channel, e.notification, e.attempts, e.status) for e in due] == [
        (DID, "ops", NOTE, 1, "pending")
    ]
    assert len(later.problems) == 1
    assert f"'outbox/{DID}.json'" in later.problems[0] and "moved to 'corrupt/outbox/" in later.problems[0]
    assert f"recovered the delivery {DID!r} from 'claims/{DID}/000001'" in later.problems[0]
    # The rebuilt entry is stored (a fresh repository reads it without problems); the torn bytes are kept aside.
    fresh = StateRepository(any_store)
    assert [e.delivery_id for e in fresh.outbox.pending()] == [DID] and fresh.problems == []
    [aside] = any_store.list("corrupt/")
    stored = any_store.get(aside)
    assert stored is not None and stored.data == torn
    # Markers are never moved or rewritten by the recovery.
    assert {k: any_store.get(k) for k in any_store.list("claims/")} == claims_before
    # The next claim takes the next generation, and the delivery is sent once.
    assert fresh.claims.claim(DID, run_id="r2", now=NOW + timedelta(minutes=2)).won is True
    assert any_store.list(f"claims/{DID}/") == [f"claims/{DID}/000001", f"claims/{DID}/000002"]
    fresh.claims.mark_sent(DID, run_id="r2", now=NOW + timedelta(minutes=2), detail={})
    fresh.outbox.remove(DID)
    assert fresh.outbox.due(NOW + timedelta(hours=1)) == []


def test_the_rebuilt_entry_counts_one_attempt_per_failed_send() -> None:
    store = MemoryStore()
    repo = StateRepository(store)
    assert claim_with_intent(repo, DID, run_id="r1", now=NOW, intent=intent())
    repo.claims.release(DID, run_id="r1")
    for n in range(2, 5):  # three retries from the outbox (claimed without an intent), each failing
        assert repo.claims.claim(DID, run_id=f"r{n}", now=NOW + timedelta(minutes=n))
        repo.claims.release(DID, run_id=f"r{n}")
    repo.outbox.put(OutboxEntry(DID, "ops", dict(NOTE), 4, NOW + timedelta(minutes=20), "503", "pending"))
    tear(store)
    [rebuilt] = StateRepository(store).outbox.due(NOW)
    assert rebuilt.attempts == 4 and rebuilt.notification == NOTE


def test_a_run_that_died_after_its_claim_leaves_a_rebuildable_entry() -> None:
    store = MemoryStore()
    assert claim_with_intent(StateRepository(store), DID, run_id="dies", now=NOW, intent=intent())
    tear(store)
    later = StateRepository(store)
    [rebuilt] = later.outbox.due(NOW + timedelta(minutes=1))
    assert rebuilt.attempts == 0  # the claim was never released: no send failed
    assert later.claims.claim(DID, run_id="next", now=NOW + timedelta(minutes=1)).won is False  # the lease still holds
    assert later.claims.claim(DID, run_id="next", now=NOW + timedelta(minutes=6)).won is True


def test_a_damaged_entry_whose_claims_have_no_copy_is_reported_lost(any_store: ObjectStore) -> None:
    # Claims written by an older version carry no notification: they still work as claims.
    old_claim = {"schema": 1, "run_id": "old", "generation": 1, "claimed_at": NOW.isoformat()}
    old_claim |= {"lease_until": (NOW + timedelta(minutes=5)).isoformat(), "released": True}
    any_store.put(f"claims/{DID}/000001", encode(old_claim))
    any_store.put(f"outbox/{DID}.json", b"\xff\xfe")
    repo = StateRepository(any_store)
    assert repo.outbox.due(NOW) == []
    assert len(repo.problems) == 1 and "this delivery is lost" in repo.problems[0]
    assert any_store.list("outbox/") == []
    assert claim_with_intent(repo, DID, run_id="new", now=NOW, intent=intent()).won is True  # generation 2


def test_a_damaged_entry_of_a_sent_delivery_is_not_rebuilt() -> None:
    store = MemoryStore()
    repo = StateRepository(store)
    assert claim_with_intent(repo, DID, run_id="r", now=NOW, intent=intent())
    repo.claims.mark_sent(DID, run_id="r", now=NOW, detail={})  # the run died before removing the outbox entry
    tear(store)
    later = StateRepository(store)
    assert later.outbox.due(NOW) == [] and store.list("outbox/") == []
    assert "sent already, nothing is lost" in later.problems[0]


def test_a_claim_of_another_delivery_is_not_used_as_a_copy() -> None:
    store = MemoryStore()
    repo = StateRepository(store)
    assert claim_with_intent(repo, DID, run_id="r", now=NOW, intent=intent())
    obj = store.get(f"claims/{DID}/000001")
    assert obj is not None
    store.put("claims/ntf_other.ops/000001", obj.data)  # a copied object: its delivery id does not match the key
    store.put("outbox/ntf_other.ops.json", b"{")
    later = StateRepository(store)
    assert [e.delivery_id for e in later.outbox.due(NOW)] == [DID]
    assert any("'outbox/ntf_other.ops.json'" in p and "this delivery is lost" in p for p in later.problems)


class FailingOutboxWrites(MemoryStore):
    """Refuses writes under outbox/ while ``failing`` (COS down half-way through a recovery)."""

    def __init__(self) -> None:
        super().__init__("failing")
        self.failing = False

    def put(self, key: str, data: bytes) -> None:
        if self.failing and key.startswith("outbox/"):
            raise StoreError("InternalError", status=500, key=key, retryable=True)
        super().put(key, data)


def test_a_recovery_that_cannot_write_leaves_the_damaged_entry_for_the_next_run() -> None:
    store = FailingOutboxWrites()
    repo = StateRepository(store)
    assert claim_with_intent(repo, DID, run_id="r", now=NOW, intent=intent())
    torn = tear(store)
    store.failing = True
    failing = StateRepository(store)
    assert failing.outbox.due(NOW) == []
    assert "left in place, to be tried again next run" in failing.problems[0]
    stored = store.get(f"outbox/{DID}.json")
    assert stored is not None and stored.data == torn  # never a moment without the entry
    store.failing = False
    assert [e.delivery_id for e in StateRepository(store).outbox.due(NOW)] == [DID]


class MeetingStore(MemoryStore):
    """The first ``parties`` reads of an outbox entry wait for each other: runs that all read the damage."""

    def __init__(self, parties: int) -> None:
        super().__init__("meeting")
        self.barrier = threading.Barrier(parties, timeout=5)
        self.parties = parties
        self.waiting = 0

    def get(self, key: str) -> Obj | None:
        obj = super().get(key)
        if key.startswith("outbox/") and self.waiting > 0:
            self.waiting -= 1
            self.barrier.wait()
        return obj


def test_two_runs_reading_the_same_damage_leave_one_entry_and_one_claim_winner() -> None:
    store = MeetingStore(2)
    repo = StateRepository(store)
    assert claim_with_intent(repo, DID, run_id="r", now=NOW, intent=intent())
    repo.claims.release(DID, run_id="r")
    tear(store)
    store.waiting = store.parties
    later = NOW + timedelta(minutes=1)
    runs = [StateRepository(store), StateRepository(store)]
    found: list[list[OutboxEntry]] = [[], []]
    threads = [threading.Thread(target=lambda i=i: found[i].extend(runs[i].outbox.due(later))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all("unreadable" in run.problems[0] for run in runs)  # both saw the damage
    assert store.list("outbox/") == [f"outbox/{DID}.json"]
    assert [e.delivery_id for e in StateRepository(store).outbox.due(later)] == [DID]
    assert 1 <= len(found[0]) + len(found[1]) <= 2
    assert sorted(run.claims.claim(DID, run_id=str(i), now=later).won for i, run in enumerate(runs)) == [False, True]


# -- silences, series, history, runs, idempotency ---------------------------------------------------


def test_silences_round_trip_and_corrupt_ones_are_reported() -> None:
    store = MemoryStore()
    repo = StateRepository(store)
    s1 = Silence("sil/1", {"budget": "b", "zone-id": "z*"}, NOW, NOW + timedelta(hours=1), "deploy", "ops@x")
    s2 = Silence("sil-2", {"budget": "c"}, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    repo.silences.put(s1)
    repo.silences.put(s2)
    store.put("silences/broken.json", b'{"schema":1,"silence":{"id":"x"}}')
    assert repo.silences.list().value == [s2, s1]
    assert repo.problems and "silences/broken.json" in repo.problems[0]


def test_series_merge_newer_values_and_keep_a_bounded_window() -> None:
    store = CountingStore()
    repo = StateRepository(store, series_days=3)
    day = timedelta(days=1)
    repo.series.save("traffic", "zone-id=z1", [Point(NOW - 5 * day, Decimal(1)), Point(NOW - 2 * day, Decimal(2))])
    repo.series.save("traffic", "zone-id=gone", [Point(NOW - 4 * day, Decimal(9))])
    repo.series.flush()
    repo.series.save("traffic", "zone-id=z1", [Point(NOW - 2 * day, Decimal("2.50")), Point(NOW, Decimal(3))])
    expected = [Point(NOW - 2 * day, Decimal("2.50")), Point(NOW, Decimal(3))]
    assert repo.series.load("traffic", "zone-id=z1") == expected  # queued points are visible before the flush
    repo.series.flush()
    assert StateRepository(store).series.load_budget("traffic") == {"zone-id=z1": expected}  # "gone" aged out
    writes = len(store.puts)
    repo.series.save("traffic", "zone-id=z1", [Point(NOW, Decimal(3))])
    repo.series.flush()
    assert len(store.puts) == writes  # unchanged: not written again
    assert repo.series.load("traffic", "") == []
    repo.series.save("traffic", "", [Point(NOW, Decimal("0.1"))])
    repo.series.flush()
    assert repo.series.load("traffic", "")[0].value == Decimal("0.1")


def test_series_are_one_object_per_budget_written_by_flush() -> None:
    store = CountingStore()
    repo = StateRepository(store, workers=4)
    for b in range(6):
        for g in range(5):
            repo.series.save(f"budget-{b}", f"zone-id=z{g}", [Point(NOW, Decimal(b * 10 + g))])
    assert store.list("series/") == []
    assert repo.series.flush() == []
    assert store.list("series/") == [f"series/budget-{b}.json" for b in range(6)]
    fresh = StateRepository(store)
    assert fresh.series.load("budget-3", "zone-id=z4") == [Point(NOW, Decimal(34))]
    assert len(fresh.series.load_budget("budget-5")) == 5


def test_runs_keep_the_last_n() -> None:
    clock = Clock()
    store = MemoryStore()
    repo = StateRepository(store, keep_runs=3, clock=clock)
    for i in range(6):
        clock.advance(timedelta(seconds=1))
        repo.runs.record({"run_id": f"r{i}"})
    assert [r["run_id"] for r in repo.runs.list(limit=10)] == ["r5", "r4", "r3"]
    assert len(store.list("runs/")) == 3


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=7), min_size=0, max_size=8), st.integers(min_value=1, max_value=9))
def test_alert_pages_cover_every_item_once_newest_first(batches: list[int], limit: int) -> None:
    clock = Clock()
    repo = StateRepository(MemoryStore(), clock=clock)
    serial = 0
    for size in batches:
        clock.advance(timedelta(seconds=1))
        repo.history.append([{"n": serial + i} for i in range(size)])
        serial += size
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(serial + 2):
        page, cursor = repo.history.page(limit=limit, cursor=cursor)
        assert len(page) <= limit
        seen.extend(item["n"] for item in page)
        if cursor is None:
            break
    assert seen == list(range(serial - 1, -1, -1))


def test_a_bad_cursor_is_an_error_and_a_pruned_batch_continues_with_older_ones() -> None:
    clock = Clock()
    store = MemoryStore()
    repo = StateRepository(store, clock=clock)
    for n in range(3):
        clock.advance(timedelta(seconds=1))
        repo.history.append([{"n": n * 10 + i} for i in range(2)])
    page, cursor = repo.history.page(limit=3)
    assert [i["n"] for i in page] == [21, 20, 11]
    assert cursor is not None
    store.delete(store.list("alerts/")[1])  # the batch the cursor points into
    rest, _ = repo.history.page(limit=5, cursor=cursor)
    assert [i["n"] for i in rest] == [1, 0]
    with pytest.raises(StateError):
        repo.history.page(cursor="../../etc/passwd")


def test_idempotent_results_expire() -> None:
    clock = Clock()
    repo = StateRepository(MemoryStore(), clock=clock, idempotency_ttl=timedelta(hours=1))
    assert repo.idempotency.begin("key-1", "fp").state == "started"
    repo.idempotency.finish("key-1", {"fingerprint": "fp", "run_id": "r1"})
    assert repo.idempotency.begin("key-1", "fp").answer == {"fingerprint": "fp", "run_id": "r1"}
    assert repo.idempotency.begin("key-1", "other").state == "mismatch"
    clock.advance(timedelta(minutes=61))
    assert repo.idempotency.begin("key-1", "other").state == "started"  # expired: the key is free again


def test_an_idempotency_key_in_progress_is_held_until_its_lease_runs_out() -> None:
    clock = Clock()
    store = MemoryStore()
    repo = StateRepository(store, clock=clock, idempotency_lease=timedelta(minutes=15))
    assert repo.idempotency.begin("key-1", "fp").state == "started"
    assert repo.idempotency.begin("key-1", "fp").state == "in_progress"
    assert repo.idempotency.begin("key-1", "other").state == "mismatch"
    clock.advance(timedelta(minutes=16))  # the first request died without an answer
    takers = [StateRepository(store, clock=clock) for _ in range(3)]
    begun = [r.idempotency.begin("key-1", "fp") for r in takers]
    assert sorted(b.state for b in begun) == ["in_progress", "in_progress", "started"]
    winner = next(b for b in begun if b.state == "started")
    assert winner.attempt == 2
    repo.idempotency.abandon("key-1", attempt=1)  # the dead request's attempt: not the record's any more
    assert repo.idempotency.begin("key-1", "fp").state == "in_progress"
    repo.idempotency.abandon("key-1", attempt=2)
    retried = repo.idempotency.begin("key-1", "another body")  # the failed request left no answer to protect
    assert (retried.state, retried.attempt) == ("started", 3)
    clock.advance(timedelta(minutes=16))  # and this one dies too: its takeover marker is a fresh one
    assert StateRepository(store, clock=clock).idempotency.begin("key-1", "fp").attempt == 4


# -- bounded size --------------------------------------------------------------------------------------


def _fill(repo: StateRepository, at: datetime, tag: str) -> None:
    did = f"ntf_{tag}.ops"
    assert repo.claims.claim(did, run_id=tag, now=at)
    repo.claims.mark_sent(did, run_id=tag, now=at, detail={})
    repo.series.save(f"traffic-{tag}", "zone-id=z1", [Point(at, Decimal(1))])
    repo.series.flush()
    repo.silences.put(Silence(f"s-{tag}", {"budget": "traffic"}, at, at + timedelta(hours=1)))
    repo.idempotency.finish(f"idem-{tag}", {"ok": True})
    repo.history.append([{"tag": tag}])


@pytest.mark.parametrize("workers", [1, 4])
def test_prune_drops_what_is_older_than_the_retention_and_keeps_the_rest(workers: int) -> None:
    clock = Clock(NOW - timedelta(days=120))
    store = MemoryStore()
    repo = StateRepository(store, clock=clock, workers=workers)
    _fill(repo, NOW - timedelta(days=120), "old")
    assert repo.claims.claim("ntf_oldpending.ops", run_id="x", now=NOW - timedelta(days=120))
    repo.outbox.put(entry("ntf_oldpending.ops", at=NOW - timedelta(days=120)))
    repo.outbox.put(entry("ntf_oldfailed.ops", at=NOW - timedelta(days=120), status="failed"))
    store.put("corrupt/ledger.json.20260701T000000000000Z", b"x")
    clock.now = NOW.timestamp()
    _fill(repo, NOW, "new")
    counts = repo.maintenance.prune()
    assert counts["sent"] == 1
    assert counts["alerts"] == 1
    assert counts["silences"] == 1
    assert counts["series"] == 1
    assert counts["outbox"] == 1
    keys = store.list("")
    assert not [k for k in keys if "old" in k and "oldpending" not in k]
    assert "sent/ntf_new.ops" in keys
    assert f"claims/ntf_oldpending.ops/{1:06d}" in keys  # still pending in the outbox: keep its claim
    assert "corrupt/ledger.json.20260701T000000000000Z" not in keys
    assert len([k for k in keys if k.startswith("idempotency/")]) == 1


def test_pruning_runs_at_most_once_a_day() -> None:
    clock = Clock()
    repo = StateRepository(MemoryStore(), clock=clock)
    assert repo.maintenance.maybe_prune().value is not None
    clock.advance(timedelta(hours=23))
    assert repo.maintenance.maybe_prune().value is None
    clock.advance(timedelta(hours=2))
    assert repo.maintenance.maybe_prune().value is not None


def test_local_state_is_plain_utf8_json_with_lf(tmp_path: Path) -> None:
    store: ObjectStore = LocalStore(tmp_path)
    repo = StateRepository(store)
    repo.ledger.save({"message": "预算\r\n超出"})
    raw = (tmp_path / "ledger.json").read_bytes()
    assert b"\r" not in raw
    assert raw.count(b"\n") == 1
    assert "预算".encode() in raw


def test_a_warm_repository_returns_each_reads_problems_with_its_answer() -> None:
    store = MemoryStore()
    repo = StateRepository(store)
    store.put("outbox/x.json", b"not json")
    assert repo.ledger.load().problems == []
    first = repo.outbox.entries()
    assert len(first.problems) == 1 and "'outbox/x.json'" in first.problems[0]
    assert repo.outbox.entries().problems == []  # moved aside: reported once, by the read that met it
    assert repo.problems == first.problems  # the status page's recent problems keep it


def test_a_local_folder_where_an_object_should_be_is_an_error_not_an_absence(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, fsync=False)
    (tmp_path / "ledger.json" / "inside").mkdir(parents=True)
    with pytest.raises(StoreError, match="it is a folder"):
        StateRepository(store).ledger.load()
    (tmp_path / "runs").write_bytes(b"a file where the runs folder should be\n")
    with pytest.raises(StoreError, match="cannot list 'runs/'"):
        store.list("runs/")
    assert store.list("nothing-here/") == []  # a missing folder is simply empty
