"""One contract for every object store backend: memory, local folder (with and without hard links), COS.

COS runs against the sandbox (``sandbox``) over real HTTP with signature checks; each test gets its
own prefix in one bucket. The same repository-level checks run on every backend at the end.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from lib.client.credentials import Credentials
from lib.errors import StoreError
from lib.model import Point, Silence
from lib.state.cos import CosStore
from lib.state.local import LocalStore
from lib.state.memory import MemoryStore
from lib.state.repo import OutboxEntry, StateRepository
from lib.state.store import ObjectStore
from tests.state_support import BUCKET, REGION, CosEndpoint, cos_endpoint

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def cos_server() -> Iterator[CosEndpoint | None]:
    with cos_endpoint() as endpoint:
        if endpoint is not None:  # the first PUT creates the bucket
            boot = CosStore(
                BUCKET, REGION, "boot", Credentials(endpoint.secret_id, endpoint.secret_key), endpoint=endpoint.url
            )
            boot.put("hello", b"")
            boot.close()
        yield endpoint


@pytest.fixture(params=["memory", "local", "local-nolink", "cos"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    kind = request.param
    if kind == "memory":
        backend: ObjectStore = MemoryStore("contract")
    elif kind == "local":
        backend = LocalStore(tmp_path / "state")
    elif kind == "local-nolink":
        backend = LocalStore(tmp_path / "state", hard_links=False)
    else:
        endpoint = request.getfixturevalue("cos_server")
        if endpoint is None:
            pytest.skip("sandbox is not available yet")
        credentials = Credentials(endpoint.secret_id, endpoint.secret_key)
        backend = CosStore(BUCKET, REGION, f"contract/{uuid.uuid4().hex}", credentials, endpoint=endpoint.url)
    yield backend
    backend.close()


def test_missing_object_reads_as_none(store: ObjectStore) -> None:
    assert store.get("nothing/here.json") is None
    assert store.get_meta("nothing/here.json") is None
    store.delete("nothing/here.json")  # deleting a missing object is fine
    assert store.list("nothing/") == []


def test_round_trip_keeps_every_byte(store: ObjectStore) -> None:
    data = b'{"a":"\xe9\xa2\x84\xe7\xae\x97"}\r\n\x00\xff\xfe tail'
    store.put("docs/raw.bin", data)
    obj = store.get("docs/raw.bin")
    assert obj is not None
    assert obj.data == data
    assert obj.etag
    meta = store.get_meta("docs/raw.bin")
    assert meta is not None
    assert meta.size == len(data)
    assert meta.etag == obj.etag


def test_empty_and_large_objects(store: ObjectStore) -> None:
    store.put("empty", b"")
    big = bytes(range(256)) * 8192  # 2 MiB
    store.put("big.bin", big)
    empty = store.get("empty")
    assert empty is not None
    assert empty.data == b""
    got = store.get("big.bin")
    assert got is not None
    assert got.data == big


def test_put_replaces_and_changes_the_version_tag(store: ObjectStore) -> None:
    store.put("ledger.json", b"one")
    first = store.get("ledger.json")
    store.put("ledger.json", b"two")
    second = store.get("ledger.json")
    assert first is not None
    assert second is not None
    assert second.data == b"two"
    assert first.etag != second.etag


def test_put_if_absent_creates_only_once(store: ObjectStore) -> None:
    assert store.put_if_absent("claims/d1/000001", b"run-a") is True
    assert store.put_if_absent("claims/d1/000001", b"run-b") is False
    obj = store.get("claims/d1/000001")
    assert obj is not None
    assert obj.data == b"run-a"
    store.delete("claims/d1/000001")
    assert store.get("claims/d1/000001") is None
    assert store.put_if_absent("claims/d1/000001", b"run-c") is True


def test_put_if_absent_refuses_a_key_written_by_put(store: ObjectStore) -> None:
    store.put("sent/d2", b"x")
    assert store.put_if_absent("sent/d2", b"y") is False


def test_list_by_prefix_is_sorted_and_exact(store: ObjectStore) -> None:
    keys = [
        "runs/20261122T020000000000Z-b.json",
        "runs/20261121T020000000000Z-a.json",
        "runs/20261201T020000000000Z-c.json",
        "runs-other/x.json",
        "claims/ntf_1.ops/000002",
        "claims/ntf_1.ops/000001",
        "claims/ntf_10.ops/000001",
        "series/预算/zone-id%3Dz1.json",
    ]
    for key in keys:
        store.put(key, key.encode("utf-8"))
    assert store.list("runs/") == sorted(k for k in keys if k.startswith("runs/"))
    assert store.list("runs/202611") == [keys[1], keys[0]]
    assert store.list("claims/ntf_1.ops/") == ["claims/ntf_1.ops/000001", "claims/ntf_1.ops/000002"]
    assert store.list("claims/ntf_1") == sorted(k for k in keys if k.startswith("claims/"))
    assert store.list("series/预算/") == ["series/预算/zone-id%3Dz1.json"]
    assert store.list("") == sorted(keys)
    store.delete("claims/ntf_1.ops/000001")
    assert store.list("claims/ntf_1.ops/") == ["claims/ntf_1.ops/000002"]


@pytest.mark.parametrize("bad", ["", "../escape", "/absolute", "a//b", "a/../b", "a/./b", ".hidden", "a\\b", "x\x00"])
def test_unsafe_keys_are_refused(store: ObjectStore, bad: str) -> None:
    with pytest.raises(StoreError):
        store.put(bad, b"x")
    with pytest.raises(StoreError):
        store.put_if_absent(bad, b"x")
    with pytest.raises(StoreError):
        store.get(bad)


def test_racing_creators_have_exactly_one_winner(store: ObjectStore) -> None:
    winners: list[int] = []
    start = threading.Barrier(12)

    def contender(i: int) -> None:
        start.wait()
        if store.put_if_absent("claims/race/000001", f"run-{i}".encode()):
            winners.append(i)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    obj = store.get("claims/race/000001")
    assert obj is not None
    assert obj.data == f"run-{winners[0]}".encode()


def test_readers_never_see_a_half_written_object(store: ObjectStore) -> None:
    payloads = [bytes([65 + i]) * 300_000 for i in range(3)]
    store.put("ledger.json", payloads[0])
    stop = threading.Event()
    torn: list[int] = []

    def writer() -> None:
        for i in range(15):
            store.put("ledger.json", payloads[i % 3])
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            obj = store.get("ledger.json")
            if obj is None or obj.data not in payloads:
                torn.append(len(obj.data) if obj else -1)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert torn == []


# -- the repository on every backend -----------------------------------------------------------------


def test_repository_round_trips_on_every_backend(store: ObjectStore) -> None:
    repo = StateRepository(store)
    assert repo.ledger.load().value is None
    repo.ledger.save({"version": 3, "crossings": {"b|z1|80": "2026-11-22T02:00:00+00:00"}, "名": "预算"})
    assert repo.ledger.load().value == {
        "version": 3,
        "crossings": {"b|z1|80": "2026-11-22T02:00:00+00:00"},
        "名": "预算",
    }

    silence = Silence("s1", {"budget": "edgeone-traffic"}, NOW, NOW + timedelta(hours=2), comment="维护")
    repo.silences.put(silence)
    assert repo.silences.list().value == [silence]
    assert repo.silences.delete("s1") is True
    assert repo.silences.delete("s1") is False

    points = [Point(NOW + timedelta(hours=i), Decimal(i) * Decimal("1.5")) for i in range(24)]
    repo.series.save("edgeone-traffic", "zone-id=z1", points)
    assert repo.series.load("edgeone-traffic", "zone-id=z1") == points

    repo.history.append([{"n": i} for i in range(5)])
    repo.history.append([{"n": i} for i in range(5, 8)])
    page, cursor = repo.history.page(limit=5)
    rest, end = repo.history.page(limit=5, cursor=cursor)
    assert [a["n"] for a in page + rest] == [7, 6, 5, 4, 3, 2, 1, 0]
    assert end is None

    for i in range(3):
        repo.runs.record({"run_id": f"r{i}", "errors": []})
    assert [r["run_id"] for r in repo.runs.list(limit=2)] == ["r2", "r1"]
    assert repo.problems == []


def test_delivery_markers_on_every_backend(store: ObjectStore) -> None:
    first, second = StateRepository(store), StateRepository(store)
    did = "ntf_0123456789abcdef.ops"
    entry = OutboxEntry(did, "ops", {"id": "ntf_0123456789abcdef"}, 0, NOW, "", "pending")
    assert first.outbox.add(entry) is True  # the intent, written before the claim (lib.deliveries)
    assert first.outbox.add(entry) is False
    assert first.claims.claim(did, run_id="run-a", now=NOW, intent=entry).won is True
    assert second.claims.claim(did, run_id="run-b", now=NOW).won is False
    assert [e.delivery_id for e in second.outbox.due(NOW)] == [did]
    first.claims.release(did, run_id="run-a")
    assert second.claims.claim(did, run_id="run-b", now=NOW).won is True
    second.claims.mark_sent(did, run_id="run-b", now=NOW, detail={"status": 200})
    second.outbox.remove(did)
    assert first.claims.is_sent(did) is True
    assert first.claims.claim(did, run_id="run-c", now=NOW + timedelta(hours=1)).won is False
    assert first.outbox.due(NOW) == []
