"""Fan-out: when one invocation cannot cover every member account, the timer becomes a coordinator of shards.

The model (stated in docs/organizations.md too). For the budgets covering a member the sources plan
``R`` requests, ``R_a`` of them for action ``a`` whose per-account limit is ``L_a`` per second; the
client keeps at most ``W`` (``lib.sources.MAX_WORKERS``) in flight, each taking about ``LATENCY``
seconds. One member then takes ``t = LATENCY + max(max_a R_a / L_a, R × LATENCY / W)`` (the
AssumeRole, then whichever bound binds: its own rate limits or the requests in flight). Members run
``M`` (``MEMBER_WORKERS``) at a time, each under its own limits, so ``n`` members take
``ceil(n / M) × t``. They fit one invocation when that is at most the function's timeout (120 s unless
the context says otherwise) minus ``SAFETY_MARGIN`` for evaluation, deliveries and state.

A timer invocation fans out when ``BUDGET_FANOUT_FUNCTION`` is set and either the members do not fit,
or there are more of them than ``BUDGET_SHARD_SIZE``. Shards are ``BUDGET_SHARD_SIZE`` members, or
the most that fit by the model. For each shard the coordinator takes a create-only lease
(``lib.state.shards``) and calls SCF ``Invoke`` (``InvocationType=Event``) on the fan-out function
with the shard's event (at most 128 KB of JSON) as ``ClientContext``; SCF queues it, retries a failed
one twice, and the worker (the same handler) works that shard only. The coordinator itself runs the
budgets of the function's own account and returns, listing the shards in the result's ``shards``; when
the digest is due it sends it for the whole organization, from the shards' recorded outcomes
(``lib.app.digest``). A worker never sends the digest.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lib.app.accounts import Scope, account_summary, list_members, missing_names, scoped
from lib.app.result import RunError
from lib.errors import BudgetError, ConfigError, StateError
from lib.sources.members import MEMBER_WORKERS, Account, covers
from lib.state.shards import tick_id

if TYPE_CHECKING:
    from lib.app.result import RunResult
    from lib.app.runtime import App
    from lib.config.models import Config

log = logging.getLogger("lib.app.fanout")

SHARD_KEY = "budget_shard"  # the event field that makes a timer invocation a shard worker
SCF_VERSION = "2018-04-16"
EVENT_LIMIT = 128 * 1024  # bytes of ClientContext SCF takes for an asynchronous Invoke
DEFAULT_TIMEOUT = 120.0  # the timer function's timeout as deploy sets it
SAFETY_MARGIN = 30.0  # seconds kept for evaluation, deliveries and state writes
LATENCY = 0.25  # seconds one API request takes, a conservative median from SCF in the same region
RETRIES = 2  # SCF's retries of a failed asynchronous invocation, about a minute apart
MAX_SHARD = 1000  # members in one shard at most, however fast the model says they are


@dataclass(frozen=True)
class Shard:
    """One worker's share: the tick it belongs to, its position, and its members."""

    tick: str
    index: int
    count: int
    accounts: tuple[Account, ...]

    def event(self) -> dict[str, Any]:
        accounts = [a.to_dict() for a in self.accounts]
        return {SHARD_KEY: {"tick": self.tick, "index": self.index, "count": self.count, "accounts": accounts}}

    @classmethod
    def from_event(cls, event: Any) -> Shard | None:
        """The shard an event carries, or None for an ordinary timer event."""
        doc = event.get(SHARD_KEY) if isinstance(event, Mapping) else None
        if not isinstance(doc, Mapping):
            return None
        try:
            accounts = tuple(Account(str(a["uin"]), str(a["name"]), str(a["role"])) for a in doc["accounts"])
            return cls(str(doc["tick"]), int(doc["index"]), int(doc["count"]), accounts)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"the shard event lacks or garbles {exc}; it needs tick, index, count, accounts") from exc


# -- the model -------------------------------------------------------------------------------------------


def member_seconds(app: App, config: Config, account: Account, now: datetime) -> float:
    """Seconds one member's collection takes by the model (0 when no budget covers it)."""
    from lib.periods import zone
    from lib.sources import MAX_WORKERS, SOURCES

    budgets = [b for b in config.budgets if covers(b, account)]
    if not budgets:
        return 0.0
    tz = zone(config.timezone)
    per_action: dict[tuple[str, str], int] = {}
    for name, source in SOURCES.items():
        mine = [b for b in budgets if b.source == name]
        for call in source.plan(mine, now, tz) if mine else ():
            per_action[(call.service, call.action)] = per_action.get((call.service, call.action), 0) + 1
    total = sum(per_action.values())
    limiter = app.client.rate_limiter
    by_rate = max((n / limiter.limit_for(s, a) for (s, a), n in per_action.items()), default=0.0)
    return LATENCY + max(by_rate, total * LATENCY / MAX_WORKERS)


def run_seconds(members: int, per_member: float) -> float:
    """Seconds ``members`` members take, ``MEMBER_WORKERS`` at a time."""
    return math.ceil(members / MEMBER_WORKERS) * per_member


def usable_seconds(context: Any) -> float:
    """The invocation's timeout (from SCF's context when given) minus the safety margin."""
    limit = context.get("time_limit_in_ms") if isinstance(context, Mapping) else None
    timeout = limit / 1000 if isinstance(limit, int | float) and limit > 0 else DEFAULT_TIMEOUT
    return max(1.0, timeout - SAFETY_MARGIN)


def shard_size(app: App, members: Sequence[Account], per_member: float, usable: float) -> int | None:
    """Members per shard, or None when every member fits this invocation (no fan-out)."""
    if app.settings.fanout_function is None or not members:
        return None
    configured = app.settings.shard_size
    fits = run_seconds(len(members), per_member) <= usable
    if fits and (configured is None or len(members) <= configured):
        return None
    if configured is not None:
        return configured
    waves = max(1, int(usable // per_member)) if per_member > 0 else MAX_SHARD
    return max(1, min(MAX_SHARD, waves * MEMBER_WORKERS))


def split(tick: str, members: Sequence[Account], size: int) -> list[Shard]:
    """Members in shards of ``size`` (in uin order, so a shard keeps its members from tick to tick)."""
    ordered = sorted(members, key=lambda m: (len(m.uin), m.uin))
    parts = [tuple(ordered[i : i + size]) for i in range(0, len(ordered), size)]
    shards = [Shard(tick, i, len(parts), part) for i, part in enumerate(parts)]
    too_big = [s for s in shards if len(json.dumps(s.event()).encode("utf-8")) > EVENT_LIMIT]
    if too_big:
        return split(tick, members, max(1, size // 2))  # never happens below ~1,000 members a shard
    return shards


# -- the coordinator --------------------------------------------------------------------------------------


def lease_seconds(context: Any) -> float:
    """How long a started shard counts as running: its first run and SCF's retries, a minute apart."""
    return (usable_seconds(context) + SAFETY_MARGIN) * (RETRIES + 1) + 60.0 * RETRIES


def shard_view(app: App) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """What ``/status`` and the dashboard show of the fan-out: the newest record of every shard, and the
    member names the runs recorded (both empty without member accounts)."""
    if app.config.accounts is None:
        return [], {}
    states = app.repo.shards.states(app.now().timestamp(), lease_seconds(None))
    return [s.to_dict() for s in states], app.repo.shards.names()


def tick_of(event: Any, now: datetime) -> str:
    """The tick an event stands for: the timer's scheduled ``Time`` (the same in a repeated delivery), else now."""
    text = event.get("Time") if isinstance(event, Mapping) else None
    if isinstance(text, str):
        try:
            return tick_id(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass  # not a timestamp: the clock names the tick
    return tick_id(now.replace(second=0, microsecond=0))


@dataclass(frozen=True)
class Plan:
    """This tick's members (listed once) and its shards: none when every member fits this invocation."""

    members: tuple[Account, ...]
    missing: tuple[str, ...]  # names budgets list that no member has
    shards: tuple[Shard, ...] = ()

    def here(self) -> Scope:
        """The scope of a run that covers every member in this invocation (no second listing)."""
        return Scope(own=True, members=self.members, missing=self.missing)


def plan(app: App, event: Any, context: Any) -> Plan | None:
    """This tick's plan; None without member accounts or ``BUDGET_FANOUT_FUNCTION`` (the run lists them itself)."""
    accounts = app.config.accounts
    if accounts is None or app.settings.fanout_function is None:
        return None
    try:
        members = list_members(accounts, app.client)
    except BudgetError as exc:
        log.warning("members not listed (%s): this invocation runs every budget itself and reports it", exc)
        return None
    now = app.now()
    kinds: dict[tuple[str, ...], Account] = {}  # members covered by the same budgets cost the same
    for m in members:
        kinds.setdefault(tuple(b.name for b in app.config.budgets if covers(b, m)), m)
    slowest = max((member_seconds(app, app.config, m, now) for m in kinds.values()), default=0.0)
    size = shard_size(app, members, slowest, usable_seconds(context))
    missing = tuple(missing_names(app.config, members))
    if size is None:
        return Plan(tuple(members), missing)
    return Plan(tuple(members), missing, tuple(split(tick_of(event, now), members, size)))


def coordinate(app: App, planned: Plan, context: Any) -> RunResult:
    """Start every shard not already running, then run the own account's budgets; the result lists the shards."""
    shards, missing = planned.shards, planned.missing
    store = app.repo.shards
    wall = app.now().timestamp()
    lease = lease_seconds(context)
    running = {s.index: s for s in store.states(wall, lease) if s.state == "running"}
    reports: list[dict[str, Any]] = []
    errors: list[RunError] = []
    for shard in shards:
        report: dict[str, Any] = {"index": shard.index, "tick": shard.tick, "accounts": len(shard.accounts)}
        busy = running.get(shard.index)
        if busy is not None and busy.tick != shard.tick:
            reports.append({**report, "state": "running", "since": busy.tick})  # the last tick's is not done
            continue
        if not store.begin(shard.tick, shard.index, len(shard.accounts), wall):
            reports.append({**report, "state": "started-elsewhere"})  # this tick, by another coordinator
            continue
        try:
            _invoke(app, shard, context)
        except BudgetError as exc:
            store.finish(shard.tick, shard.index, "failed", wall, error=f"not started: {exc}")
            errors.append(RunError("fanout", f"shard {shard.index} of {shard.count} was not started: {exc}"))
            reports.append({**report, "state": "failed"})
            continue
        reports.append({**report, "state": "started"})
    store.prune(wall)
    log.info("coordinator: %d shards, %d started", len(shards), sum(r["state"] == "started" for r in reports))
    from lib.app.digest import for_organization

    with scoped(Scope(own=True, members=(), missing=tuple(missing))), for_organization(planned.members):
        result = app.run_check(trigger="timer")
    return replace(result, shards=tuple(reports), errors=(*result.errors, *errors))


def _invoke(app: App, shard: Shard, context: Any) -> None:
    function = app.settings.fanout_function
    namespace = context.get("namespace") if isinstance(context, Mapping) else None
    region = context.get("tencentcloud_region") if isinstance(context, Mapping) else None
    params = {
        "FunctionName": function,
        "InvocationType": "Event",
        "ClientContext": json.dumps(shard.event(), separators=(",", ":")),
        "Namespace": namespace or "default",
    }
    app.client.call("scf", SCF_VERSION, "Invoke", params, region or None)


# -- the worker -------------------------------------------------------------------------------------------


def work(app: App, shard: Shard) -> dict[str, Any]:
    """Run one shard's members; record the outcome so ``/status`` shows it. A retryable state error propagates
    (SCF retries the invocation); anything else is in the returned result."""
    store = app.repo.shards
    try:
        with scoped(Scope(own=False, members=shard.accounts)):
            result = app.run_check(trigger="timer")
    except StateError as exc:
        try:
            store.finish(shard.tick, shard.index, "failed", app.now().timestamp(), error=str(exc))
        except StateError:
            log.warning("shard %d: its failure could not be recorded either", shard.index)
        raise
    from lib.app.digest import shard_digest

    doc = result.to_dict()
    summary = account_summary(doc["evaluations"])
    names = {a.uin: a.name for a in shard.accounts}
    for uin, view in summary.items():
        view["name"] = names.get(uin, uin)  # /status and the dashboard show members by name
    at = datetime.fromisoformat(result.at)
    store.finish(
        shard.tick, shard.index, "done", app.now().timestamp(), run_id=result.run_id, errors=len(result.errors),
        summary=summary, digest=shard_digest(app, result.evaluations, shard.accounts, at),
    )  # fmt: skip
    doc["shard"] = {"tick": shard.tick, "index": shard.index, "count": shard.count, "accounts": len(shard.accounts)}
    return doc


__all__ = ["SHARD_KEY", "Shard", "coordinate", "plan", "split", "work"]
