"""The per-account plumbing of a run: which members it covers, their clients, and their share of the ledger.

A run covers a ``Scope``: the function's own account and/or some members. By default (``check``,
``POST /check``, a timer that does not fan out) that is the own account and every member, listed once
per run; a shard worker covers the members in its event only (``lib.app.fanout``).

Members are reached through ``lib.client.assume_role``: one ``MemberClient`` per (member, role),
kept with the instance's API client, so a warm instance reuses temporary keys until shortly before
they expire. The rules ledger is split by account: the own account's entries stay in ``ledger.json``,
each member's in ``ledgers/<uin>.json``. Shards running at the same time then never overwrite each
other's memory of what fired (their budgets are the same, their accounts are not).
"""

from __future__ import annotations

import contextlib
import copy
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lib.errors import BudgetError
from lib.sources.members import ACCOUNT, Account, MemberCaller, account_of
from lib.state.ledger import LedgerStore

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.client.api import ApiClient
    from lib.client.assume_role import MemberClient
    from lib.config.accounts import Accounts
    from lib.config.models import Config
    from lib.model import Observation
    from lib.rules.engine import Outcome
    from lib.sources.failures import Caller
    from lib.state.codec import Loaded
    from lib.state.repo import StateRepository

ORGANIZATION_VERSION = "2021-03-31"
PAGE = 50  # DescribeOrganizationMembers takes at most 50 a page
LEDGER_PREFIX = "ledgers/"
STORE_WORKERS = 8  # member ledgers read and written at once (one object each)


@dataclass(frozen=True)
class Scope:
    """What one run covers: the own account's budgets (``own``) and these members (None: list them all now)."""

    own: bool = True
    members: tuple[Account, ...] | None = None
    missing: tuple[str, ...] = ()  # names no member has, when another run listed the members


_SCOPE: ContextVar[Scope | None] = ContextVar("budget_run_scope", default=None)


@contextlib.contextmanager
def scoped(scope: Scope) -> Iterator[None]:
    """Runs started inside cover ``scope`` (a shard worker's members, a coordinator's own account)."""
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


# -- members -------------------------------------------------------------------------------------------


def list_members(accounts: Accounts, client: Caller) -> list[Account]:
    """The member accounts ``accounts:`` stands for: the explicit list, or the organization's, page by page."""
    if not accounts.organization:
        return [Account(m.uin, m.name, m.role) for m in accounts.members]
    found: list[Account] = []
    offset = 0
    while True:
        answer = client.call(
            "organization", ORGANIZATION_VERSION, "DescribeOrganizationMembers", {"Offset": offset, "Limit": PAGE}
        )
        items = answer.get("Items") or []
        for item in items:
            uin = str(item.get("MemberUin", ""))
            if uin.isdigit():
                found.append(Account(uin, str(item.get("Name") or uin), accounts.role))
        offset += PAGE
        total = answer.get("Total")
        if not items or not isinstance(total, int) or offset >= total:
            return found


def missing_names(config: Config, members: Sequence[Account]) -> list[str]:
    """Names budgets list that no member has (by name or uin)."""
    known = {m.name for m in members} | {m.uin for m in members}
    listed = (n for b in config.budgets if b.accounts for n in b.accounts if n != "*")
    return sorted({n for n in listed if n not in known})


class _Member:
    """A member's client as the sources see it: ``call`` through the assumed role; ``ready`` assumes it now."""

    def __init__(self, client: MemberClient) -> None:
        self.client = client

    def call(
        self, service: str, version: str, action: str, params: Any = None, region: str | None = None
    ) -> dict[str, Any]:
        return self.client.call(service, version, action, params, region)

    def ready(self) -> None:
        self.client.credentials()


_clients: weakref.WeakKeyDictionary[ApiClient, dict[tuple[str, str], MemberClient]] = weakref.WeakKeyDictionary()
_clients_lock = threading.Lock()


def member_client(caller: ApiClient, uin: str, role: str, **options: Any) -> MemberClient:
    """The instance's client for member ``uin`` in ``role``: made once, its keys cached until near expiry.

    ``options`` (``AssumedRole``'s: duration, margin) apply when the client is first made.
    """
    from lib.client.assume_role import MemberRole
    from lib.client.assume_role import member_client as make

    with _clients_lock:
        held = _clients.setdefault(caller, {})
        found = held.get((uin, role))
        if found is None:
            found = held[(uin, role)] = make(caller, MemberRole(uin, role), **options)
        return found


def client_for_target_account(app: App, uin: str) -> MemberClient:
    """The client acting in member ``uin`` (an action's target there), with the role ``accounts:`` names."""
    from lib.config.accounts import DEFAULT_ROLE

    accounts = app.config.accounts
    role = DEFAULT_ROLE if accounts is None else accounts.role
    if accounts is not None:
        role = next((m.role for m in accounts.members if m.uin == uin), role)
    return member_client(app.client, uin, role)


# -- the run's view --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """The scope of one run once its members are known (``error``: the organization could not be listed)."""

    own: bool
    members: tuple[Account, ...]
    missing: tuple[str, ...] = ()
    error: BudgetError | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The accounts whose ledger shares this run reads and writes."""
        listing = ("*",) if self.error is not None else ()
        return tuple(dict.fromkeys([*(m.uin for m in self.members), *self.missing, *listing]))


def resolve(app: App, scope: Scope) -> Resolved:
    """``scope`` with its members listed (at most one organization listing per run)."""
    accounts = app.config.accounts
    if accounts is None:
        return Resolved(scope.own, ())
    if scope.members is not None:
        return Resolved(scope.own, scope.members, scope.missing)
    try:
        members = tuple(list_members(accounts, app.client))
    except BudgetError as exc:
        return Resolved(scope.own, (), error=exc)
    return Resolved(scope.own, members, tuple(missing_names(app.config, members)))


class AccountLedgers(LedgerStore):
    """The rules ledger of one run, read from and written back to each covered account's own object.

    A ``LedgerStore`` (same ``load``/``save``), so the pipeline does not know the difference.
    """

    def __init__(self, repo: StateRepository, resolved: Resolved) -> None:
        from lib.state.codec import segment

        super().__init__(repo.codec)
        self.resolved = resolved
        self._own = LedgerStore(repo.codec) if resolved.own else None
        self._shares = {k: LedgerStore(repo.codec, key=f"{LEDGER_PREFIX}{segment(k)}.json") for k in resolved.keys}
        self._loaded: dict[str | None, dict[str, Any]] = {}

    def _stores(self) -> list[tuple[str | None, LedgerStore]]:
        own: list[tuple[str | None, LedgerStore]] = [(None, self._own)] if self._own is not None else []
        return own + list(self._shares.items())

    def load(self) -> Loaded[dict[str, Any] | None]:
        from lib.rules.ledger import Ledger
        from lib.state.codec import Loaded

        stores = self._stores()
        with ThreadPoolExecutor(max_workers=STORE_WORKERS, thread_name_prefix="ledger") as pool:
            parts = list(pool.map(lambda item: item[1].load(), stores))
        merged = Ledger()
        problems: list[str] = []
        for (key, _), part in zip(stores, parts, strict=True):
            problems += part.problems
            share = Ledger.load(part.value)
            problems += share.problems if part.value is not None else []
            merged.entries.update(share.entries)
            self._loaded[key] = Ledger(dict(share.entries)).dump()
        return Loaded(merged.dump() if merged.entries else None, problems)

    def save(self, ledger: Mapping[str, Any]) -> None:
        from lib.rules.ledger import Ledger

        whole = Ledger.load(ledger)
        split: dict[str | None, Ledger] = {key: Ledger() for key, _ in self._stores()}
        for key, entry in whole.entries.items():
            share = split.get(account_of(entry.group))
            if share is not None:  # an account outside this run's scope is another run's to write
                share.entries[key] = entry
        changed = [
            (store, split[key].dump())
            for key, store in self._stores()
            if split[key].dump() != self._loaded.get(key, Ledger().dump())
        ]
        with ThreadPoolExecutor(max_workers=STORE_WORKERS, thread_name_prefix="ledger") as pool:
            list(pool.map(lambda item: item[0].save(item[1]), changed))


def for_run(app: App) -> App:
    """``app`` as this run sees it: with ``accounts:``, a ledger split by account over the run's scope."""
    if app.config.accounts is None:
        return app
    resolved = resolve(app, _SCOPE.get() or Scope())
    repo = copy.copy(app.repo)
    repo.ledger = AccountLedgers(app.repo, resolved)
    return replace(app, repo=repo)


def collect_for_run(app: App, config: Config, now: datetime) -> list[Observation]:
    """The run's observations: the own account's budgets as ever, plus each covered member's."""
    from lib.sources import collect
    from lib.sources.members import collect_accounts, unreached

    ledgers = app.repo.ledger
    if config.accounts is None or not isinstance(ledgers, AccountLedgers):
        return collect(config, app.client, now)
    resolved = ledgers.resolved

    def client_for(account: Account) -> MemberCaller:
        return _Member(member_client(app.client, account.uin, account.role))

    own = app.client if resolved.own else None
    found = collect_accounts(config, own, resolved.members, client_for, now, missing=resolved.missing)
    if resolved.error is not None:
        members_budgets = [b for b in config.budgets if b.accounts is not None]
        found += unreached(members_budgets, "*", resolved.error, now, config.timezone)
    return found


def with_account_names(app: App, outcome: Outcome) -> Outcome:
    """``outcome`` with each member notification naming its account (messages show the name, not the uin)."""
    ledgers = app.repo.ledger
    if not isinstance(ledgers, AccountLedgers) or not outcome.notifications:
        return outcome
    from lib.messages.words import ACCOUNT_NAME

    names = {m.uin: m.name for m in ledgers.resolved.members}
    named = [
        replace(n, detail={**n.detail, ACCOUNT_NAME: names[uin]}) if (uin := account_of(n.group)) in names else n
        for n in outcome.notifications
    ]
    return replace(outcome, notifications=named)


def account_summary(evaluations: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per member uin: how many evaluations, firing and errors, and each budget's total value."""
    out: dict[str, dict[str, Any]] = {}
    for e in evaluations:
        group = e.get("group")
        account = group.get("account") if isinstance(group, Mapping) else None
        if not isinstance(account, str):
            continue
        view = out.setdefault(account, {"evaluations": 0, "firing": 0, "errors": 0, "totals": {}})
        view["evaluations"] += 1
        view["firing"] += e.get("status") == "firing"
        view["errors"] += e.get("status") in ("error", "no-data")
        value = e.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            totals = view["totals"]
            totals[str(e.get("budget"))] = totals.get(str(e.get("budget")), 0) + value
    return out


__all__ = [
    "ACCOUNT",
    "AccountLedgers",
    "Resolved",
    "Scope",
    "account_summary",
    "client_for_target_account",
    "collect_for_run",
    "for_run",
    "list_members",
    "member_client",
    "scoped",
]
