"""Collecting for member accounts: each member's budgets through that member's client, every group tagged ``account``.

``collect_accounts`` runs the ordinary ``collect`` once per member (the budgets that cover it, the
member's own client) on a small pool, so members collect in parallel: each has its own API limits and
the client's limiter is keyed by (account, action). Budgets without ``accounts`` go through the
function's own client exactly as before, their groups untouched. A member whose role cannot be assumed
fails that member's budgets only: one error Observation per budget at group ``(("account", uin),)``,
which the rules count towards ``no-data`` like any failed fetch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from lib.config.accounts import ALL_MEMBERS
from lib.errors import AssumeRoleError, BudgetError, CollectError
from lib.model import GroupKey, Observation, group_key
from lib.periods import current_period, zone
from lib.sources.failures import Caller, failed

if TYPE_CHECKING:
    from lib.config.models import Budget, Config

ACCOUNT = "account"  # the group dimension every member's observation carries (DESIGN §3.4)
MEMBER_WORKERS = 8  # members collected at once; each runs its own request pool under its own limits


@dataclass(frozen=True)
class Account:
    """A member account as a run knows it: uin, the name messages show, the role assumed in it."""

    uin: str
    name: str
    role: str

    def to_dict(self) -> dict[str, str]:
        return {"uin": self.uin, "name": self.name, "role": self.role}


class MemberCaller(Caller, Protocol):
    """A member's client: ``Caller`` plus ``ready``, which assumes the role now (or raises AssumeRoleError)."""

    def ready(self) -> None: ...


def covers(budget: Budget, account: Account) -> bool:
    """Does ``budget`` watch ``account``? (Budgets without ``accounts`` watch the function's own account only.)"""
    names = budget.accounts
    if names is None:
        return False
    return ALL_MEMBERS in names or account.name in names or account.uin in names


def own_budgets(config: Config) -> tuple[Budget, ...]:
    return tuple(b for b in config.budgets if b.accounts is None)


def with_account(obs: Observation, uin: str) -> Observation:
    """``obs`` with ``("account", uin)`` added to its group."""
    return replace(obs, group=group_key({**dict(obs.group), ACCOUNT: uin}))


def account_of(group: GroupKey) -> str | None:
    """The member uin a group belongs to; None for the function's own account."""
    return next((value for key, value in group if key == ACCOUNT), None)


def unreached(
    budgets: Sequence[Budget], uin: str, error: BudgetError, now: datetime, tz_name: str
) -> list[Observation]:
    """One failed Observation per budget at group ``(("account", uin),)``: the member could not be reached."""
    from lib.sources import find_metric

    tz = zone(tz_name)
    out: list[Observation] = []
    for budget in budgets:
        metric = find_metric(budget.source, budget.metric)
        period = current_period(budget.period, now, tz)
        group = ((ACCOUNT, uin),)
        out.extend(failed(budget.name, [group], period, metric.unit if metric else "", error=error, as_of=now))
    return out


def collect_accounts(
    config: Config,
    own: Caller | None,
    members: Sequence[Account],
    client_for: Callable[[Account], MemberCaller],
    now: datetime,
    *,
    missing: Sequence[str] = (),
    workers: int = MEMBER_WORKERS,
) -> list[Observation]:
    """Observations of the own account's budgets (when ``own`` is given) and of every member's, in budget order.

    ``missing``: account names budgets list that the organization does not have; each such budget gets
    an error Observation at ``(("account", name),)`` rather than silently watching nothing.
    """
    from lib.sources import collect

    found: list[Observation] = []
    mine = own_budgets(config)
    if own is not None and mine:
        found.extend(collect(config.model_copy(update={"budgets": mine}), own, now))

    def one(account: Account) -> list[Observation]:
        budgets = tuple(b for b in config.budgets if covers(b, account))
        if not budgets:
            return []
        client = client_for(account)
        try:
            client.ready()  # one AssumeRole up front: a refusal fails this member's budgets once, not per request
        except AssumeRoleError as exc:
            return unreached(budgets, account.uin, exc, now, config.timezone)
        observations = collect(config.model_copy(update={"budgets": budgets}), client, now)
        return [with_account(obs, account.uin) for obs in observations]

    if members:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(members))), thread_name_prefix="member") as pool:
            for part in pool.map(one, members):
                found.extend(part)
    for name in missing:
        budgets = [b for b in config.budgets if b.accounts is not None and name in b.accounts]
        error = CollectError(f"no member account named {name!r} in the organization")
        found.extend(unreached(budgets, name, error, now, config.timezone))
    order = {b.name: i for i, b in enumerate(config.budgets)}
    return sorted(found, key=lambda obs: order.get(obs.budget, len(order)))


__all__ = ["ACCOUNT", "Account", "MemberCaller", "account_of", "collect_accounts", "covers", "with_account"]
