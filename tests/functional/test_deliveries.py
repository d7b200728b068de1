"""lib.deliveries: claim → intent → send → record, each result recorded as soon as the sender yields it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from lib.deliveries import run
from lib.errors import TransportError
from lib.model import Notification, Period
from lib.notify import DeliveryResult, delivery_id
from lib.state.local import LocalStore
from lib.state.memory import MemoryStore
from lib.state.repo import StateRepository

NOW = datetime(2026, 7, 15, 10, 0, tzinfo=timezone.utc)
PERIOD = Period(datetime(2026, 7, 1, tzinfo=timezone.utc), datetime(2026, 8, 1, tzinfo=timezone.utc))


class Killed(Exception):
    """Stands for the process dying in the middle of a batch (SIGKILL, the SCF timeout)."""


def note(n: int) -> Notification:
    return Notification(
        id=f"ntf_{n:032x}",
        budget=f"budget-{n}",
        group=(),
        kind="threshold",
        status="firing",
        period=PERIOD,
        at=NOW,
        value=Decimal(n),
        unit="GB",
        limit=Decimal(100),
        level=0.8,
        channels=("ops",),
    )


NOTES = [note(1), note(2), note(3)]


def sent(channel: str, n: Notification) -> DeliveryResult:
    return DeliveryResult(channel, (n.id,), "sent", "", 200, None)


class Recorder:
    """A sender that accepts everything and remembers what it was asked to send."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, channel: str, items: Sequence[Notification]) -> Iterator[DeliveryResult]:
        for n in items:
            self.asked.append(n.id)
            yield sent(channel, n)


def test_a_run_killed_mid_batch_does_not_resend_what_the_channel_accepted() -> None:
    store = MemoryStore()

    def dies_after_the_first(channel: str, items: Sequence[Notification]) -> Iterator[DeliveryResult]:
        yield sent(channel, items[0])
        raise Killed("killed while the second request was in flight")

    with pytest.raises(Killed):
        run(StateRepository(store), NOTES, send=dies_after_the_first, run_id="killed", now=NOW)
    repo = StateRepository(store)
    assert repo.claims.is_sent(delivery_id(NOTES[0].id, "ops"))
    assert [e.delivery_id for e in repo.outbox.pending()] == [delivery_id(n.id, "ops") for n in NOTES[1:]]

    # The next run decides the same notifications again (the ledger was not saved) after the lease ran out.
    recorder = Recorder()
    later = run(StateRepository(store), NOTES, send=recorder, run_id="next", now=NOW + timedelta(minutes=6))
    assert recorder.asked == [NOTES[1].id, NOTES[2].id]
    assert [(d["id"], d["outcome"]) for d in later.report if d["outcome"] in {"sent", "skipped"}] == [
        (NOTES[0].id, "skipped"),
        (NOTES[1].id, "sent"),
        (NOTES[2].id, "sent"),
    ]
    assert later.problems == [] and repo.outbox.entries().value == []


def test_each_result_is_recorded_before_the_next_is_pulled() -> None:
    store = MemoryStore()
    seen: list[bool] = []

    def checks_its_predecessor(channel: str, items: Sequence[Notification]) -> Iterator[DeliveryResult]:
        for index, n in enumerate(items):
            if index:
                seen.append(StateRepository(store).claims.is_sent(delivery_id(items[index - 1].id, channel)))
            yield sent(channel, n)

    result = run(StateRepository(store), NOTES, send=checks_its_predecessor, run_id="r", now=NOW)
    assert seen == [True, True]
    assert [d["outcome"] for d in result.report] == ["sent", "sent", "sent"]


def test_a_sender_returning_a_list_is_recorded_the_same_way() -> None:
    repo = StateRepository(MemoryStore())
    result = run(repo, NOTES, send=lambda ch, items: [sent(ch, n) for n in items], run_id="r", now=NOW)
    assert [d["outcome"] for d in result.report] == ["sent", "sent", "sent"]
    assert all(repo.claims.is_sent(delivery_id(n.id, "ops")) for n in NOTES)
    again = run(repo, NOTES, send=Recorder(), run_id="r2", now=NOW + timedelta(minutes=1))
    assert [d["outcome"] for d in again.report] == ["skipped", "skipped", "skipped"]


def test_a_channel_error_mid_batch_answers_for_the_notifications_not_yet_answered() -> None:
    repo = StateRepository(MemoryStore())

    def breaks(channel: str, items: Sequence[Notification]) -> Iterator[DeliveryResult]:
        yield sent(channel, items[0])
        raise TransportError("connection reset by the robot", retryable=True)

    result = run(repo, NOTES, send=breaks, run_id="r", now=NOW)
    assert [d["outcome"] for d in result.report] == ["sent", "retry", "retry"]
    assert "connection reset" in result.report[1]["reason"]
    pending = repo.outbox.pending()
    assert [(e.delivery_id, e.attempts) for e in pending] == [(delivery_id(n.id, "ops"), 1) for n in NOTES[1:]]


def test_an_outbox_replaced_by_a_file_is_reported_and_rebuilt_from_the_claims(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, fsync=False)

    def unavailable(channel: str, items: Sequence[Notification]) -> Iterator[DeliveryResult]:
        raise TransportError("HTTP 503", retryable=True)
        yield  # a generator, like lib.notify.deliver

    first = run(StateRepository(store), NOTES, send=unavailable, run_id="r1", now=NOW)
    assert [d["outcome"] for d in first.report] == ["retry", "retry", "retry"]
    outbox = tmp_path / "outbox"
    for child in outbox.iterdir():
        child.unlink()
    outbox.rmdir()
    outbox.write_bytes(b"a file where the outbox folder was\n")

    recorder = Recorder()
    second = run(StateRepository(store), [], send=recorder, run_id="r2", now=NOW + timedelta(hours=1))
    assert any("the outbox" in p and "cannot be read" in p for p in second.problems), second.problems
    assert any("recovered 3 pending deliveries from their claims" in p for p in second.problems), second.problems
    assert sorted(recorder.asked) == sorted(n.id for n in NOTES)
    assert [d["outcome"] for d in second.report] == ["sent", "sent", "sent"]
    assert not outbox.is_file() and store.list("outbox/") == []
    assert [k.rsplit(".", 1)[0] for k in store.list("corrupt/")] == ["corrupt/outbox"]
    third = run(StateRepository(store), [], send=recorder, run_id="r3", now=NOW + timedelta(hours=2))
    assert third.problems == [] and third.report == [] and len(recorder.asked) == 3
