"""After a run's alerts: their charts to the channels that show images, then the digest when it is due.

The digest (``digest:`` in ``budgets.yaml``) goes out once per local day (or week) at ``at``, or at the
first run after it: every run after that instant tries to send the current one, and the create-only
delivery markers of ``lib.deliveries`` let exactly one run send it to each channel. It is a notification
of kind ``digest`` with a stable id (``digest-day-2026-11-22``) whose ``detail`` holds the rows it shows,
so an outbox retry sends the same words. Dry runs and backtests report it as ``dry-run``, never send it.

With member accounts (issue 18) the digest has a line per member. A run that covers every member
builds it from its own evaluations. Under fan-out only the coordinator sends it (a shard worker covers
some members: its run never sends a digest, its outcome records the rows and member lines instead,
``shard_digest``); the coordinator, inside ``for_organization``, joins its own account's rows with the
newest finished outcome of every shard (``lib.state.shards``), so the digest covers the whole
organization, each member's line saying when its numbers were read. The create-only delivery markers
still let one coordinator of many send it.

The due logic (``last_slot``) is pure: ``now``, the zone and the schedule are arguments.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from lib.deliveries import DeliveryReport, DeliveryRun
from lib.errors import BudgetError, StateError
from lib.messages.digest import KIND, MAX_ACTIONS, account_lines, digest_rows, merge_accounts, merge_rows
from lib.messages.words import as_decimal
from lib.model import Notification, Period
from lib.notify.images import MAX_IMAGES, chart_item, chart_items, chart_links, takes_images
from lib.notify.types import delivery_id

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.config.digest import Digest
    from lib.model import Evaluation
    from lib.notify.images import ChartImages
    from lib.rules.engine import Outcome
    from lib.sources.members import Account

log = logging.getLogger("lib.app.digest")
SCANNED_ACTIONS = 200  # actions read for the digest's "waiting for approval" lines, at most
# Set by a fan-out coordinator around its own run: the organization's members this tick (lib.app.fanout).
_ORGANIZATION: ContextVar[tuple[Account, ...] | None] = ContextVar("budget_digest_organization", default=None)


@contextlib.contextmanager
def for_organization(members: Sequence[Account]) -> Iterator[None]:
    """Runs started inside send the organization's digest: their own rows joined with every shard's outcome."""
    token = _ORGANIZATION.set(tuple(members))
    try:
        yield
    finally:
        _ORGANIZATION.reset(token)


def _local(day: date, minutes: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)


def last_slot(now: datetime, tz: tzinfo, digest: Digest) -> datetime:
    """The latest scheduled digest instant at or before ``now``: today's (this week's) ``at``, else the one before."""
    local = now.astimezone(tz)
    day = local.date()
    step = 1
    if digest.every == "week":
        step = 7
        day -= timedelta(days=(day.weekday() - digest.weekday_index) % 7)
    slot = _local(day, digest.minutes, tz)
    if slot > now:
        slot = _local(day - timedelta(days=step), digest.minutes, tz)
    return slot


def slot_period(slot: datetime, tz: tzinfo, digest: Digest) -> Period:
    """The day (or week) a digest stands for: from its slot to the next one."""
    step = 7 if digest.every == "week" else 1
    end = _local(slot.astimezone(tz).date() + timedelta(days=step), digest.minutes, tz)
    return Period(slot, end)


def digest_id(slot: datetime, tz: tzinfo, digest: Digest) -> str:
    """Stable per (schedule, local date of the slot): the same in every run that sends this digest."""
    return f"digest-{digest.every}-{slot.astimezone(tz).date().isoformat()}"


def after_alerts(
    app: App, outcome: Outcome, alerts: Sequence[DeliveryReport], *, now: datetime, rehearsal: bool, run_id: str
) -> DeliveryRun:
    """Send the charts of this run's alerts, then the digest if it is due; their report items and problems.

    ``now`` is the evaluation instant (it says whether the digest is due); claims and retries follow the
    wall clock. ``rehearsal`` (a dry run or a backtest) sends nothing and reports a due digest as dry-run.
    """
    from lib.app.images import chart_images

    report: list[DeliveryReport] = []
    problems: list[str] = []
    images = chart_images(app)
    if not rehearsal:
        done = _deliver(app, _alert_charts(app, outcome.notifications, alerts, images), images=images, run_id=run_id)
        report += done.report
        problems += done.problems
    members = _run_members(app)
    if members and not rehearsal:
        _remember_names(app, members, problems)
    digest = app.config.digest
    if digest is None or _is_shard_worker(app):
        return DeliveryRun(report, problems)  # a shard's members are in its outcome; the coordinator tells them
    due = _due_digest(app, outcome, digest, now, problems)
    if rehearsal:
        report += [
            DeliveryReport(id=n.id, budget=n.budget, channel=ch, outcome="dry-run") for n in due for ch in n.channels
        ]
        return DeliveryRun(report, problems)
    done = _deliver(app, due, images=images, run_id=run_id)
    sent = [d["channel"] for d in done.report if d["outcome"] == "sent"]
    charts = [c for ch in sent for c in _digest_charts(app, due[0], ch, images)]
    more = _deliver(app, charts, images=images, run_id=run_id)
    return DeliveryRun([*report, *done.report, *more.report], [*problems, *done.problems, *more.problems])


def _deliver(app: App, items: Sequence[Notification], *, images: ChartImages, run_id: str) -> DeliveryRun:
    """Run ``items`` through the delivery protocol (claim, outbox, send, mark), images drawn by ``images``."""
    from lib.app.sending import sender
    from lib.deliveries import run as deliver_all

    if not items:
        return DeliveryRun([])
    wall = app.now()
    return deliver_all(app.repo, items, send=sender(app, wall, images=images), run_id=run_id, now=wall)


def _alert_charts(
    app: App, notifications: Sequence[Notification], alerts: Sequence[DeliveryReport], images: ChartImages
) -> list[Notification]:
    """A chart item per budget for each image channel a message of this run went out to, in the message's order."""
    from lib.notify.packing import messages

    by_id = {n.id: n for n in notifications}
    sent: dict[str, list[Notification]] = {}
    for d in alerts:
        channel = app.config.channels.get(d["channel"])
        if d["outcome"] == "sent" and d["id"] in by_id and channel is not None and takes_images(channel.type):
            sent.setdefault(d["channel"], []).append(by_id[d["id"]])
    out: list[Notification] = []
    for name, items in sent.items():
        channel = app.config.channels[name]
        order = [m.id for m in messages(items, channel.language or app.config.language, app.tz)]
        ordered = sorted(items, key=lambda n: order.index(n.id))
        out += chart_items(ordered, name, drawable=lambda item: _drawable(images, item))
    return out


def _drawable(images: ChartImages, item: Notification) -> bool:
    """Whether ``item`` has a chart; one that fails to draw is kept, so its delivery reports why."""
    try:
        return images(item) is not None
    except (BudgetError, ValueError):
        return True


def _due_digest(app: App, outcome: Outcome, digest: Digest, now: datetime, problems: list[str]) -> list[Notification]:
    """This period's digest if it is due and some channel has not had it (one item per way of telling it)."""
    slot = last_slot(now, app.tz, digest)
    nid = digest_id(slot, app.tz, digest)
    waiting = tuple(ch for ch in digest.channels if not app.repo.claims.is_sent(delivery_id(nid, ch)))
    if not waiting:
        return []
    detail: dict[str, Any] = {
        "every": digest.every,
        **_contents(app, outcome.evaluations, now, problems),
        "actions": _pending_actions(app, problems),
    }
    rows = detail["rows"]
    base = Notification(
        id=nid,
        budget="*",
        group=(),
        kind=KIND,
        status="firing",
        period=slot_period(slot, app.tz, digest),
        at=now,
        value=None,
        unit="",
        channels=waiting,
        detail={KIND: detail},
    )
    plain = tuple(ch for ch in waiting if not takes_images(app.config.channels[ch].type))
    links = _chart_links(app, [str(r["budget"]) for r in rows]) if plain else {}
    if not links:
        return [base]
    # The same digest (one id), told two ways: with the images after it, or with links to the charts.
    pictured = tuple(ch for ch in waiting if ch not in plain)
    linked = replace(base, channels=plain, detail={KIND: {**detail, "links": links}})
    return [replace(base, channels=pictured), linked] if pictured else [linked]


def _run_members(app: App) -> tuple[Account, ...]:
    """The member accounts this run knows by name: its own scope's, or the organization a coordinator listed."""
    from lib.app.accounts import AccountLedgers

    listed = _ORGANIZATION.get()
    if listed is not None:
        return listed
    ledgers = app.repo.ledger
    return ledgers.resolved.members if isinstance(ledgers, AccountLedgers) else ()


def _is_shard_worker(app: App) -> bool:
    """A run covering some members and not the own account: a fan-out worker (it never sends the digest)."""
    from lib.app.accounts import AccountLedgers

    ledgers = app.repo.ledger
    return isinstance(ledgers, AccountLedgers) and not ledgers.resolved.own


def _remember_names(app: App, members: Sequence[Account], problems: list[str]) -> None:
    """Keep the members' names for the dashboard (a listing's names are not in the run's record)."""
    names = {m.uin: m.name for m in members}
    if _is_shard_worker(app):
        return  # a shard knows a part of the organization; its names travel in its outcome
    try:
        app.repo.shards.save_names(names)
    except StateError as exc:
        problems.append(f"member names not recorded ({exc})")


def _order(app: App) -> tuple[list[str], set[str]]:
    budgets = app.config.budgets
    return [b.name for b in budgets], {b.name for b in budgets if b.below is not None}


def shard_digest(
    app: App, evaluations: Sequence[Evaluation], members: Sequence[Account], at: datetime
) -> dict[str, Any]:
    """What a shard's outcome records for the organization's digest: its rows and its members' lines."""
    order, floors = _order(app)
    names = {m.uin: m.name for m in members}
    as_of = at.astimezone(app.tz).isoformat()
    return {
        "rows": digest_rows(evaluations, order, floors, names),
        "accounts": account_lines(evaluations, names, as_of),
    }


def _contents(app: App, evaluations: Sequence[Evaluation], now: datetime, problems: list[str]) -> dict[str, Any]:
    """The digest's rows and, with member accounts, its member lines: this run's own, or the organization's."""
    order, floors = _order(app)
    members = _run_members(app)
    names = {m.uin: m.name for m in members}
    rows = digest_rows(evaluations, order, floors, names)
    if app.config.accounts is None:
        return {"rows": rows}
    accounts = account_lines(evaluations, names, now.astimezone(app.tz).isoformat())
    if _ORGANIZATION.get() is None:
        return {"rows": rows, "accounts": accounts}
    try:
        outcomes = app.repo.shards.latest_done()
    except StateError as exc:
        problems.append(f"digest: the shards' outcomes not read ({exc})")
        outcomes = []
    parts = [o["digest"] for o in outcomes if isinstance(o.get("digest"), Mapping)]
    rows = merge_rows([rows, *(p.get("rows") or () for p in parts)], order)
    merged = merge_accounts([accounts, *(p.get("accounts") or {} for p in parts)])
    # The members listed this tick, each once: a member that left is not told; one not run yet says so.
    return {"rows": rows, "accounts": {uin: {**merged[uin], "name": names[uin]} for uin in names if uin in merged}}


def _chart_links(app: App, budgets: Sequence[str]) -> dict[str, str]:
    """Signed, expiring links to the budgets' charts, where the deployment has a public URL and a link key."""
    from lib.links import new_nonce

    settings = app.settings
    found = chart_links(
        settings.public_url, settings.link_secret, budgets, now=app.now().timestamp(), nonce=new_nonce()
    )
    return dict(found)


def _digest_charts(app: App, n: Notification, channel: str, images: ChartImages) -> list[Notification]:
    """The digest's charts for one image channel: the most urgent budgets first, those that have a chart."""
    if not takes_images(app.config.channels[channel].type):
        return []
    out = []
    for row in n.detail[KIND]["rows"]:
        budget = str(row["budget"])
        item = chart_item(
            n, channel, budget=budget, limit=as_decimal(row.get("limit")), unit=str(row.get("unit") or "")
        )
        if _drawable(images, item):
            out.append(item)
        if len(out) >= MAX_IMAGES:
            break
    return out


def _pending_actions(app: App, problems: list[str]) -> list[dict[str, Any]]:
    """Actions waiting for approval (at most ``MAX_ACTIONS``, from the first ``SCANNED_ACTIONS`` recorded)."""
    out: list[dict[str, Any]] = []
    try:
        for aid in app.repo.actions.ids()[:SCANNED_ACTIONS]:
            record = app.repo.actions.get(aid)
            if record is None or record.state != "pending-approval":
                continue
            intent = record.intent
            targets = [t.get("id") if isinstance(t, dict) else t for t in intent.get("targets", ())]
            out.append({"id": aid, "budget": intent.get("budget"), "type": intent.get("action"), "targets": targets})
            if len(out) >= MAX_ACTIONS:
                break
    except StateError as exc:
        problems.append(f"digest: pending actions not read ({exc})")
    return out
