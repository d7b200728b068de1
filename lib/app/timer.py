"""The timer trigger's work: one check run per tick, the result document returned (DESIGN §3.4).

What raises and what returns: SCF retries a raised exception twice. A retry is worth it only when the
run could not reach its state store (nothing was claimed or sent, and a moment later it may work), so
only retryable state errors propagate. Everything else is returned in the result: fetch failures become
``error``/``no-data`` evaluations, delivery failures wait in the outbox, and a configuration error would
fail the same way three times. Retries never double-send: delivery markers are create-only.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any

from lib.app.result import failed_to_start
from lib.errors import BudgetError, StateError
from lib.logtext import loggable

log = logging.getLogger("lib.app.timer")


def run_timer(event: Any, context: Any) -> dict[str, Any]:
    """One tick: the clock, not the trigger's ``Time``, says when the data is read.

    With member accounts and ``BUDGET_FANOUT_FUNCTION`` (issue 18), a tick whose members do not fit one
    invocation starts shard workers and runs only the own account's budgets (``lib.app.fanout``); an event
    carrying a shard works that shard's members only. The trigger's ``Time`` names the tick, so a tick
    delivered twice starts each shard once.
    """
    from lib.app import fanout
    from lib.app.accounts import scoped
    from lib.app.instance import warm_app
    from lib.config.models import NO_BUDGETS

    try:
        app = warm_app()
        shard = fanout.Shard.from_event(event)
        if shard is not None:
            return fanout.work(app, shard)
        if not app.config.budgets:
            log.warning(NO_BUDGETS)
        planned = fanout.plan(app, event, context)
        if planned is not None and planned.shards:
            return fanout.coordinate(app, planned, context).to_dict()
        if planned is not None:  # members listed already: every one of them runs here
            with scoped(planned.here()):
                return app.run_check(trigger="timer").to_dict()
        return app.run_check(trigger="timer").to_dict()
    except StateError as exc:
        if exc.retryable:
            raise
        return _failure(exc)
    except BudgetError as exc:
        return _failure(exc)


def _failure(exc: BudgetError) -> dict[str, Any]:
    """A run that could not start or finish, in the result document's shape (DESIGN §3.4); ``at`` in UTC,
    since the configuration (and its time zone) may be what failed."""
    log.error("check run failed: %s", loggable(str(exc)))
    at = datetime.fromtimestamp(time.time(), timezone.utc).isoformat()
    return failed_to_start(str(exc), at=at, trigger="timer").to_dict()
