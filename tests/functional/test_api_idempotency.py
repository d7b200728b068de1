"""Idempotency-Key through the real handler (``lib.api.handle``) with requests on concurrent threads."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

import lib.api
import lib.state.silences
from lib.app.result import RunResult
from lib.model import Silence
from tests.api_fixtures import NOW, StubApp, event, make_app

WAIT = 30  # seconds before a test that would otherwise hang gives up (it then fails)


class BlockingApp(StubApp):
    """A check run that holds until the test lets it go, so the other requests meet it in progress."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered = threading.Event()
        self.release = threading.Event()

    def run_check(self, *, at: datetime | None = None, dry_run: bool = False, trigger: str = "cli") -> RunResult:
        self.entered.set()
        assert self.release.wait(WAIT), "the test never let the check run finish"
        return super().run_check(at=at, dry_run=dry_run, trigger=trigger)


def blocking_app() -> BlockingApp:
    plain = make_app()
    return BlockingApp(
        config=plain.config,
        store=plain.store,
        repo=plain.repo,
        client=plain.client,
        session=plain.session,
        clock=plain.clock,
        environ=plain.environ,
    )


@pytest.fixture
def installed() -> Iterator[None]:
    yield
    lib.api.set_app(None)


def request(method: str, path: str, key: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    answer = lib.api.handle(event(method, path, body=body, headers={"Idempotency-Key": key}), {})
    return answer["statusCode"], answer["headers"], json.loads(answer["body"]) if answer["body"] else None


def concurrently(count: int, make: Any) -> tuple[queue.Queue[tuple[int, tuple[int, dict[str, str], Any]]], list[Any]]:
    answers: queue.Queue[tuple[int, tuple[int, dict[str, str], Any]]] = queue.Queue()
    threads = [threading.Thread(target=lambda i=i: answers.put((i, make(i)))) for i in range(count)]
    for t in threads:
        t.start()
    return answers, threads


def test_eight_concurrent_checks_with_one_key_run_the_check_once(installed: None) -> None:
    app = blocking_app()
    lib.api.set_app(app)
    answers, threads = concurrently(8, lambda i: request("POST", "/check", "same-key", {}))
    assert app.entered.wait(WAIT)
    early = [answers.get(timeout=WAIT) for _ in range(7)]  # the seven that met the first one running
    assert {status for _, (status, _, _) in early} == {409}
    assert all(body["error"]["code"] == "idempotency_key_in_use" for _, (_, _, body) in early)
    assert all(headers.get("Retry-After") for _, (_, headers, _) in early)
    app.release.set()
    _, (status, _, first) = answers.get(timeout=WAIT)
    for t in threads:
        t.join(WAIT)
    assert status == 200 and len(app.calls) == 1
    replay_status, replay_headers, replay = request("POST", "/check", "same-key", {})
    assert (replay_status, replay, replay_headers.get("Idempotent-Replayed")) == (200, first, "true")
    assert len(app.calls) == 1


def test_concurrent_checks_with_one_key_and_different_bodies_run_once(installed: None) -> None:
    app = blocking_app()
    lib.api.set_app(app)
    bodies = [{} if i % 2 else {"dry_run": True} for i in range(8)]
    answers, threads = concurrently(8, lambda i: request("POST", "/check", "shared", bodies[i]))
    assert app.entered.wait(WAIT)
    early = [answers.get(timeout=WAIT) for _ in range(7)]
    app.release.set()
    last = answers.get(timeout=WAIT)
    for t in threads:
        t.join(WAIT)
    winner_index, (winner_status, _, _) = last
    assert winner_status == 200 and len(app.calls) == 1
    for i, (status, _, _) in early:
        same = bodies[i] == bodies[winner_index]
        assert status == (409 if same else 422), (i, status)
    # After the first answer, the other body is still refused and the same body is replayed.
    other = next(b for b in bodies if b != bodies[winner_index])
    assert request("POST", "/check", "shared", other)[0] == 422
    assert request("POST", "/check", "shared", bodies[winner_index])[0] == 200
    assert len(app.calls) == 1


def test_concurrent_silences_with_one_key_create_one_silence(installed: None) -> None:
    app = make_app()
    lib.api.set_app(app)
    payload = {"matchers": {"budget": "monthly-spend"}, "duration": "2h", "comment": "maintenance"}
    answers, threads = concurrently(8, lambda i: request("POST", "/silences", "one-silence", payload))
    for t in threads:
        t.join(WAIT)
    got = [answers.get(timeout=WAIT)[1] for _ in range(8)]
    assert {status for status, _, _ in got} <= {201, 409}
    created = [body for status, _, body in got if status == 201]
    assert created and len({body["id"] for body in created}) == 1
    assert [s.id for s in app.repo.silences.list().value] == [created[0]["id"]]
    status, headers, again = request("POST", "/silences", "one-silence", payload)
    assert (status, again["id"], headers["Location"]) == (201, created[0]["id"], f"/silences/{created[0]['id']}")
    assert request("POST", "/silences", "one-silence", {**payload, "comment": "other"})[0] == 422
    assert len(app.repo.silences.list().value) == 1


def test_a_failed_check_frees_its_key_for_a_retry(installed: None) -> None:
    app = make_app()
    lib.api.set_app(app)
    app.fail_with = RuntimeError("the check crashed")
    assert request("POST", "/check", "retry-me", {})[0] == 500
    app.fail_with = None
    assert request("POST", "/check", "retry-me", {})[0] == 200
    assert len(app.calls) == 1


def test_active_silences_are_capped_with_an_error_naming_the_limit(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lib.state.silences, "MAX_ACTIVE_SILENCES", 3)
    app = make_app()
    lib.api.set_app(app)
    app.repo.silences.put(Silence("sil_old", {"budget": "x"}, NOW - timedelta(days=2), NOW - timedelta(days=1)))
    payload = {"matchers": {"budget": "monthly-spend"}, "duration": "2h"}
    statuses = [request("POST", "/silences", f"k{i}", payload)[0] for i in range(3)]
    assert statuses == [201, 201, 201]  # the expired one does not count
    status, _, body = request("POST", "/silences", "k3", payload)
    assert status == 409
    assert body["error"]["code"] == "too_many_silences"
    assert "the most allowed is 3" in body["error"]["message"]
    assert len(app.repo.silences.list().value) == 4
    assert request("POST", "/silences", "k4", payload)[0] == 409  # the refused key did not stick


def test_the_silence_limit_is_a_thousand() -> None:
    assert lib.state.silences.MAX_ACTIVE_SILENCES == 1000
