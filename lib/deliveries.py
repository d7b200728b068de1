"""Exactly-once delivery: claim → intent (outbox) → send → mark sent or release, and the outbox retries.

The one place the protocol lives. A delivery is sent only by the run that won its create-only claim; its
outbox entry (the intent) is written before the claim, so a run dying after the claim leaves the delivery
to be retried rather than lost. Each result is recorded as soon as the sender yields it, before the next
is pulled, so a run killed mid-batch re-sends at most the one request that was in flight.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypedDict

from lib.errors import BudgetError, StateError
from lib.model import Notification
from lib.notify import DeliveryResult, delivery_id, retry_schedule
from lib.state.entries import OutboxEntry
from lib.state.outbox import due
from lib.state.repo import StateRepository

log = logging.getLogger("lib.deliveries")


class DeliveryReport(TypedDict, total=False):
    """One delivery's outcome in a run (result document ``notifications``); ``reason`` when it did not go out."""

    id: str
    budget: str
    channel: str
    outcome: str  # sent | retry | failed | rejected | queued | skipped | dry-run
    reason: str


# Sends one channel's batch; yields (or returns) each notification's result once it is known.
Send = Callable[[str, Sequence[Notification]], Iterable[DeliveryResult]]


@dataclass(frozen=True)
class DeliveryRun:
    """The report items of a run's deliveries (result document ``notifications``) and the state problems."""

    report: list[DeliveryReport]
    problems: list[str] = field(default_factory=list)


@dataclass
class _Batch:
    items: list[Notification] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)  # notification id -> attempts made before


def run(
    repo: StateRepository, notifications: Sequence[Notification], *, send: Send, run_id: str, now: datetime
) -> DeliveryRun:
    """Claim this run's new deliveries and the due outbox retries; send them in one batch per channel.

    One batch per channel keeps a robot at one message per run (robots take 20 a minute).
    """
    repo.claims.write_pending_markers()  # sends of an earlier run whose markers failed: recorded first
    listed = repo.outbox.entries()  # one listing serves both: what is queued already, and the due retries
    problems = list(listed.problems)
    report: list[DeliveryReport] = []
    batches: dict[str, _Batch] = defaultdict(_Batch)
    waiting = {e.delivery_id: e for e in listed.value}
    for n in notifications:
        for channel in n.channels:
            did = delivery_id(n.id, channel)
            if did in waiting:
                # Decided by an earlier run and waiting out its backoff (or given up): the outbox owns it.
                outcome = "failed" if waiting[did].status == "failed" else "queued"
                report.append(_item(n, channel, outcome))
                continue
            if repo.claims.is_sent(did):
                report.append(_item(n, channel, "skipped"))
                continue
            intent = OutboxEntry(did, channel, n.to_dict(), 0, now, "", "pending")
            repo.outbox.add(intent)
            claimed = repo.claims.claim(did, run_id=run_id, now=now, intent=intent)
            problems.extend(claimed.problems)
            if not claimed.won:
                report.append(_item(n, channel, "skipped"))
                continue
            batches[channel].items.append(n)
            batches[channel].attempts[n.id] = 0
    for entry in due(now, listed.value):
        n = Notification.from_dict(entry.notification)
        if n.id in batches[entry.channel].attempts:
            continue  # claimed above as a new delivery in this run
        if repo.claims.is_sent(entry.delivery_id):
            repo.outbox.remove(entry.delivery_id)  # sent by a run that died before cleaning up
            continue
        claimed = repo.claims.claim(entry.delivery_id, run_id=run_id, now=now)
        problems.extend(claimed.problems)
        if not claimed.won:
            continue  # another run is retrying it right now
        batches[entry.channel].items.append(n)
        batches[entry.channel].attempts[n.id] = entry.attempts
    for channel, batch in batches.items():
        if batch.items:
            report.extend(_send(repo, channel, batch, send=send, run_id=run_id, now=now))
    return DeliveryRun(report, problems)


def _results(channel: str, items: Sequence[Notification], send: Send) -> Iterator[DeliveryResult]:
    """The sender's results as they come; an error it raises answers for the notifications not yet answered."""
    answered: set[str] = set()
    try:
        for res in send(channel, items):
            answered.update(res.notification_ids)
            yield res
    except BudgetError as exc:
        log.error("delivery to %s failed: %s", channel, exc)
        rest = tuple(n.id for n in items if n.id not in answered)
        if rest:
            yield DeliveryResult(channel, rest, "retry" if exc.retryable else "rejected", str(exc), None, None)


def _send(
    repo: StateRepository, channel: str, batch: _Batch, *, send: Send, run_id: str, now: datetime
) -> list[DeliveryReport]:
    by_id = {n.id: n for n in batch.items}
    report: list[DeliveryReport] = []
    failure: StateError | None = None
    for res in _results(channel, batch.items, send):
        for nid in res.notification_ids:
            n = by_id[nid]
            try:
                outcome = _record(repo, n, channel, res, batch.attempts.get(nid, 0), run_id=run_id, now=now)
            except StateError as exc:
                # Record the rest of what went out before giving up: an unrecorded send is a send repeated later.
                failure = failure or exc
                continue
            item = _item(n, channel, outcome)
            if res.outcome != "sent":
                item["reason"] = res.reason
            report.append(item)
    if failure is not None:
        raise failure
    return report


def _record(
    repo: StateRepository,
    n: Notification,
    channel: str,
    res: DeliveryResult,
    previous_attempts: int,
    *,
    run_id: str,
    now: datetime,
) -> str:
    did = delivery_id(n.id, channel)
    if res.outcome == "sent":
        repo.claims.mark_sent(did, run_id=run_id, now=now, detail={"status": res.status_code})
        repo.outbox.remove(did)
        return "sent"
    attempts = previous_attempts + 1
    next_at = retry_schedule(attempts, now, res.retry_after) if res.outcome == "retry" else None
    status: Literal["pending", "failed"] = "pending" if next_at else "failed"
    repo.outbox.put(OutboxEntry(did, channel, n.to_dict(), attempts, next_at or now, res.reason, status))
    repo.claims.release(did, run_id=run_id)
    log.warning("delivery %s to %s: %s (%s)", n.id, channel, res.outcome, res.reason)
    if next_at is None:
        return "rejected" if res.outcome == "rejected" else "failed"
    return "retry"


def _item(n: Notification, channel: str, outcome: str) -> DeliveryReport:
    return DeliveryReport(id=n.id, budget=n.budget, channel=channel, outcome=outcome)
