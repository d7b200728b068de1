"""One check run: collect → evaluate → claim → deliver → record, in the order that loses nothing.

Why this order: the rules ledger is saved last. A run that dies before saving it is re-evaluated by the
next run, which decides the same crossings with the same notification ids; the create-only delivery
markers then say what was already sent. A run that dies after saving it has left an outbox entry for
every claimed delivery before sending it, so the next run finds and retries those.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lib.app.result import DeliveryReport, RunError, RunResult, Skipped
from lib.errors import BudgetError, StateError
from lib.model import Notification, group_label

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.config.models import Config
    from lib.notify import DeliveryResult
    from lib.state.repo import OutboxEntry

log = logging.getLogger("lib.app")


def run_check(app: App, *, at: datetime | None, dry_run: bool, trigger: str) -> RunResult:
    from lib.rules import evaluate
    from lib.sources import collect

    now = at or app.now()
    run_id = uuid.uuid4().hex
    errors: list[RunError] = []

    if not dry_run:
        app.repo.write_pending_markers()  # sends of an earlier run whose markers failed: recorded before anything else
    errors.extend(RunError("config", p) for p in app.config_problems)
    app.config_problems.clear()
    ledger = app.repo.load_ledger()
    errors.extend(RunError("state", p) for p in ledger.problems)
    silences = app.repo.list_silences()

    collected, skipped = _backtest_view(app, at)
    log.info("run %s: collecting %d budgets as of %s", run_id, len(collected.budgets), now.isoformat())
    observations = collect(collected, app.client, now)
    for obs in observations:
        if obs.error:
            errors.append(RunError("collect", obs.error, budget=obs.budget))

    outcome = evaluate(app.config, observations, ledger.value, now, silences=silences)
    errors.extend(RunError("rules", p) for p in outcome.problems)
    log.info(
        "run %s: %d evaluations, %d notifications decided", run_id, len(outcome.evaluations), len(outcome.notifications)
    )
    deliveries: list[DeliveryReport] = []
    if dry_run:
        for n in outcome.notifications:
            deliveries.extend(
                DeliveryReport(id=n.id, budget=n.budget, channel=ch, outcome="dry-run") for ch in n.channels
            )
    else:
        # Claims, leases and retry times follow the wall clock, not the evaluation instant (--at).
        deliveries = _deliver(app, outcome.notifications, run_id, app.now())
        app.repo.save_ledger(outcome.ledger)
        for obs in observations:
            if obs.series:
                app.repo.save_series(obs.budget, group_label(obs.group), list(obs.series))
        app.repo.flush()  # write the series now, so a damaged series object is reported in this run's errors
        if outcome.notifications:
            app.repo.append_alerts([_history_item(n, deliveries) for n in outcome.notifications])
        errors.extend(RunError("state", p) for p in app.repo.problems if p not in ledger.problems)

    result = RunResult(
        run_id=run_id,
        at=now.astimezone(app.tz).isoformat(),
        trigger=trigger,
        dry_run=dry_run,
        evaluations=outcome.evaluations,
        skipped=skipped,
        notifications=deliveries,
        errors=errors,
    )
    if not dry_run:
        app.repo.record_run(result.to_dict())
    log.info(
        "run %s done: %d evaluations, %d deliveries, %d errors",
        run_id,
        len(outcome.evaluations),
        len(deliveries),
        len(errors),
    )
    return result


# An --at instant this close to the clock is "now", not a backtest (a timer tick, a demo clock).
BACKTEST_SLACK = timedelta(minutes=15)


def _backtest_view(app: App, at: datetime | None) -> tuple[Config, list[Skipped]]:
    """The budgets a run can answer as of ``at``, and the ones it skips with the reason.

    A source that reports only the present (billing: cost and balance as they are now) would show
    today's numbers under an old date, so a backtest leaves its budgets out (their state untouched)
    rather than show a wrong figure; sources with history (EdgeOne usage) are backtested.
    """
    from lib.sources import source_for

    if at is None or app.now() - at <= BACKTEST_SLACK:
        return app.config, []
    kept = tuple(b for b in app.config.budgets if source_for(b.source).supports_backtest)
    skipped = [
        Skipped(b.name, source_for(b.source).backtest_note)
        for b in app.config.budgets
        if not source_for(b.source).supports_backtest
    ]
    return app.config.model_copy(update={"budgets": kept}), skipped


def _deliver(app: App, notifications: Sequence[Notification], run_id: str, now: datetime) -> list[DeliveryReport]:
    """Claim this run's new deliveries and the due outbox retries; send them in one batch per channel.

    One batch per channel keeps a robot at one message per run (robots take 20 a minute). A delivery is
    sent only by the run that won its create-only claim; the intent is in the outbox before the send.
    """
    from lib.notify import delivery_id
    from lib.state.repo import OutboxEntry

    report: list[DeliveryReport] = []
    batches: dict[str, list[Notification]] = defaultdict(list)
    attempts: dict[str, dict[str, int]] = defaultdict(dict)
    listed = app.repo.outbox_entries()  # one listing serves both: what is queued already, and the due retries
    waiting = {e.delivery_id: e for e in listed}
    for n in notifications:
        for channel in n.channels:
            did = delivery_id(n.id, channel)
            if did in waiting:
                # Already decided by an earlier run and waiting out its backoff (or given up): the outbox owns it.
                outcome = "failed" if waiting[did].status == "failed" else "queued"
                report.append({"id": n.id, "budget": n.budget, "channel": channel, "outcome": outcome})
                continue
            intent = OutboxEntry(
                delivery_id=did,
                channel=channel,
                notification=n.to_dict(),
                attempts=0,
                next_attempt_at=now,
                last_error="",
                status="pending",
            )
            if app.repo.is_sent(did) or not app.repo.claim(did, run_id=run_id, now=now, intent=intent):
                report.append({"id": n.id, "budget": n.budget, "channel": channel, "outcome": "skipped"})
                continue
            batches[channel].append(n)
            attempts[channel][n.id] = 0
    for entry in app.repo.outbox_due(now, listed):
        n = Notification.from_dict(entry.notification)
        if n.id in attempts[entry.channel]:
            continue  # claimed above as a new delivery in this run
        if app.repo.is_sent(entry.delivery_id):
            app.repo.outbox_remove(entry.delivery_id)  # sent by a run that died before cleaning up
            continue
        if not app.repo.claim(entry.delivery_id, run_id=run_id, now=now):
            continue  # another run is retrying it right now
        batches[entry.channel].append(n)
        attempts[entry.channel][n.id] = entry.attempts
    for channel, items in batches.items():
        report.extend(_send(app, channel, items=items, attempts=attempts[channel], run_id=run_id, now=now))
    return report


def _send(
    app: App,
    channel_name: str,
    *,
    items: list[Notification],
    attempts: dict[str, int],
    run_id: str,
    now: datetime,
) -> list[DeliveryReport]:
    from lib.notify import deliver, delivery_id

    channel = app.config.channels.get(channel_name)
    by_id = {n.id: n for n in items}
    results: Iterable[DeliveryResult]
    if channel is None:
        results = [_missing_channel(channel_name, items)]
    else:
        language = channel.language or app.config.language
        try:
            results = deliver(channel_name, channel, items, language=language, tz=app.tz, session=app.session, now=now)
        except BudgetError as exc:
            log.error("delivery to %s failed: %s", channel_name, exc)
            results = [_error_result(channel_name, items, str(exc), exc.retryable)]
    report = []
    failure: StateError | None = None
    for res in results:
        for nid in res.notification_ids:
            n = by_id[nid]
            did = delivery_id(nid, channel_name)
            try:
                outcome = _record(
                    app,
                    n,
                    did=did,
                    channel=channel_name,
                    res=res,
                    previous_attempts=attempts.get(nid, 0),
                    run_id=run_id,
                    now=now,
                )
            except StateError as exc:
                # Record the rest of what went out before giving up: an unrecorded send is a send repeated later.
                failure = failure or exc
                continue
            item = DeliveryReport(id=nid, budget=n.budget, channel=channel_name, outcome=outcome)
            if res.outcome != "sent":
                item["reason"] = res.reason
            report.append(item)
    if failure is not None:
        raise failure
    return report


def _record(
    app: App,
    n: Notification,
    *,
    did: str,
    channel: str,
    res: DeliveryResult,
    previous_attempts: int,
    run_id: str,
    now: datetime,
) -> str:
    from lib.notify import retry_schedule
    from lib.state.repo import OutboxEntry

    if res.outcome == "sent":
        app.repo.mark_sent(did, run_id=run_id, now=now, detail={"status": res.status_code})
        app.repo.outbox_remove(did)
        return "sent"
    attempts = previous_attempts + 1
    next_at = retry_schedule(attempts, now, res.retry_after) if res.outcome == "retry" else None
    entry: OutboxEntry = OutboxEntry(
        delivery_id=did,
        channel=channel,
        notification=n.to_dict(),
        attempts=attempts,
        next_attempt_at=next_at or now,
        last_error=res.reason,
        status="pending" if next_at else "failed",
    )
    app.repo.outbox_put(entry)
    app.repo.release(did, run_id=run_id)
    log.warning("delivery %s to %s: %s (%s)", n.id, channel, res.outcome, res.reason)
    if next_at is None:
        return "rejected" if res.outcome == "rejected" else "failed"
    return "retry"


def _missing_channel(channel: str, items: list[Notification]) -> DeliveryResult:
    return _error_result(channel, items, f"channel {channel!r} is not configured", retryable=False)


def _error_result(channel: str, items: list[Notification], reason: str, retryable: bool) -> DeliveryResult:
    from lib.notify import DeliveryResult

    return DeliveryResult(
        channel=channel,
        notification_ids=tuple(n.id for n in items),
        outcome="retry" if retryable else "rejected",
        reason=reason,
        status_code=None,
        retry_after=None,
    )


def _history_item(n: Notification, deliveries: list[DeliveryReport]) -> dict[str, Any]:
    item = n.to_dict()
    item["deliveries"] = [{"channel": d["channel"], "outcome": d["outcome"]} for d in deliveries if d["id"] == n.id]
    return item
