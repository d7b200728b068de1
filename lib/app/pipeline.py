"""One check run: collect → evaluate → claim → deliver → record, in the order that loses nothing.

Why this order: the rules ledger is saved last. A run that dies before saving it is re-evaluated by the
next run, which decides the same crossings with the same notification ids; the create-only delivery
markers then say what was already sent. A run that dies after saving it has left an outbox entry for
every claimed delivery before sending it, so the next run finds and retries those.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from lib.app.balances import series_to_record, with_recorded_balances
from lib.app.result import RunError, RunResult, Skipped
from lib.deliveries import DeliveryReport
from lib.model import Notification

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.config.models import Config
    from lib.deliveries import Send

log = logging.getLogger("lib.app")


def run_check(app: App, *, at: datetime | None, dry_run: bool, trigger: str) -> RunResult:
    from lib.app.accounts import collect_for_run, for_run, with_account_names
    from lib.app.actions_step import run_actions
    from lib.app.digest import after_alerts
    from lib.deliveries import run as deliver_all
    from lib.rules import evaluate

    app = for_run(app)  # issue 18: with accounts:, the members this run covers and their ledger shares
    now = at or app.now()
    run_id = uuid.uuid4().hex
    errors: list[RunError] = []
    state_problems: list[str] = []

    errors.extend(RunError("config", p) for p in app.config_problems)
    app.config_problems.clear()
    ledger = app.repo.ledger.load()
    silences = app.repo.silences.list()
    state_problems += ledger.problems + silences.problems

    collected, skipped = _backtest_view(app, at)
    log.info("run %s: collecting %d budgets as of %s", run_id, len(collected.budgets), now.isoformat())
    observations = with_recorded_balances(app.repo.series, app.config, collect_for_run(app, collected, now))
    for obs in observations:
        if obs.error:
            errors.append(RunError("collect", obs.error, budget=obs.budget))

    outcome = with_account_names(app, evaluate(app.config, observations, ledger.value, now, silences=silences.value))
    errors.extend(RunError("rules", p) for p in outcome.problems)
    # Issue 16: budget actions, recorded (and automatic ones executed) before the crossings are delivered.
    acted = run_actions(
        app,
        evaluations=outcome.evaluations,
        observations=observations,
        notifications=outcome.notifications,
        silences=silences.value,
        now=now,
        run_id=run_id,
        dry_run=dry_run or (at is not None and app.now() - at > BACKTEST_SLACK),  # a backtest never acts
    )
    errors.extend(RunError("actions", message, budget=budget) for budget, message in acted.problems)
    notifications = acted.notifications
    log.info(
        "run %s: %d evaluations, %d notifications decided", run_id, len(outcome.evaluations), len(outcome.notifications)
    )
    deliveries: list[DeliveryReport] = []
    prune = False
    if dry_run:
        for n in notifications:
            deliveries.extend(
                DeliveryReport(id=n.id, budget=n.budget, channel=ch, outcome="dry-run") for ch in n.channels
            )
    else:
        # Claims, leases and retry times follow the wall clock, not the evaluation instant (--at).
        wall = app.now()
        sent = deliver_all(app.repo, notifications, send=_sender(app, wall), run_id=run_id, now=wall)
        deliveries = sent.report
        state_problems += sent.problems
        app.repo.ledger.save(outcome.ledger)
        for budget, label, points in series_to_record(app.config, observations):
            app.repo.series.save(budget, label, points)
        state_problems += app.repo.series.flush()  # now, so a damaged series object is in this run's errors
        if notifications:
            app.repo.history.append([_history_item(n, deliveries) for n in notifications])
        maintenance = app.repo.maintenance.due()
        state_problems += maintenance.problems
        prune = maintenance.value
    # Issue 17: the alerts' charts, then the daily/weekly digest when due (lib/app/digest.py).
    rehearsal = dry_run or (at is not None and app.now() - at > BACKTEST_SLACK)
    after = after_alerts(app, outcome, deliveries, now=now, rehearsal=rehearsal, run_id=run_id)
    deliveries, state_problems = [*deliveries, *after.report], [*state_problems, *after.problems]
    errors.extend(RunError("state", p) for p in dict.fromkeys(state_problems))

    result = RunResult(
        run_id=run_id,
        at=now.astimezone(app.tz).isoformat(),
        trigger=trigger,
        dry_run=dry_run,
        evaluations=outcome.evaluations,
        skipped=skipped,
        notifications=deliveries,
        errors=errors,
        actions=acted.rows,
    )
    if not dry_run:
        app.repo.runs.record(result.to_dict())
        if prune:
            app.repo.maintenance.maybe_prune()  # at most about once a day; what it finds shows in the next runs
    log.info(
        "run %s done: %d evaluations, %d deliveries, %d errors",
        run_id,
        len(outcome.evaluations),
        len(deliveries),
        len(errors),
    )
    return result


def _sender(app: App, now: datetime) -> Send:
    """The send step of lib.deliveries for the alerts: ``lib.app.sending.sender``, the one the digest uses too."""
    from lib.app.images import chart_images
    from lib.app.sending import sender

    return sender(app, now, images=chart_images(app))  # outbox retries of chart items are drawn here


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


def _history_item(n: Notification, deliveries: Sequence[DeliveryReport]) -> dict[str, Any]:
    item = n.to_dict()
    item["deliveries"] = [{"channel": d["channel"], "outcome": d["outcome"]} for d in deliveries if d["id"] == n.id]
    return item
