"""The rules ledger split by account: shards writing at the same time keep each other's memory; the own account
keeps ``ledger.json``; a configuration without ``accounts`` runs exactly as before."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from lib.app.accounts import AccountLedgers, Resolved, for_run
from lib.rules.ledger import Ledger
from lib.sources.members import Account
from lib.state.memory import MemoryStore
from lib.state.repo import StateRepository

A, B = Account("200000000001", "a", "R"), Account("200000000002", "b", "R")


def ledger_with(*groups: tuple[tuple[str, str], ...], failures: int = 1) -> dict[str, Any]:
    ledger = Ledger()
    for group in groups:
        ledger.entry("traffic", group).failures = failures
    return ledger.dump()


def keys(raw: dict[str, Any] | None) -> set[str]:
    return set(Ledger.load(raw).entries)


def test_two_shards_saving_at_once_keep_each_others_entries() -> None:
    repo = StateRepository(MemoryStore())
    first, second = AccountLedgers(repo, Resolved(False, (A,))), AccountLedgers(repo, Resolved(False, (B,)))
    assert first.load().value is None and second.load().value is None  # both start before either saves
    first.save(ledger_with((("account", A.uin),)))
    second.save(ledger_with((("account", B.uin),)))
    both = AccountLedgers(repo, Resolved(True, (A, B))).load()
    assert keys(both.value) == {f"traffic|account={A.uin}", f"traffic|account={B.uin}"}
    assert sorted(repo.store.list("ledgers/")) == [f"ledgers/{A.uin}.json", f"ledgers/{B.uin}.json"]
    assert repo.store.get("ledger.json") is None  # neither shard covers the own account


def test_the_own_account_keeps_ledger_json_and_a_run_writes_only_what_it_covers() -> None:
    repo = StateRepository(MemoryStore())
    whole = AccountLedgers(repo, Resolved(True, (A,)))
    whole.load()
    whole.save(ledger_with((), (("account", A.uin),), (("account", B.uin),)))  # B is not this run's to write
    assert keys(repo.ledger.load().value) == {"traffic|"}
    assert keys(AccountLedgers(repo, Resolved(False, (A, B))).load().value) == {f"traffic|account={A.uin}"}


def test_an_unchanged_share_is_not_written_again() -> None:
    repo = StateRepository(MemoryStore())
    first = AccountLedgers(repo, Resolved(False, (A, B)))
    first.load()
    first.save(ledger_with((("account", A.uin),), (("account", B.uin),)))
    before = repo.store.get(f"ledgers/{B.uin}.json")
    again = AccountLedgers(repo, Resolved(False, (A, B)))
    loaded = again.load()
    assert loaded.value is not None
    raw = Ledger.load(loaded.value)
    raw.entries[f"traffic|account={A.uin}"].failures = 2
    again.save(raw.dump())
    assert repo.store.get(f"ledgers/{B.uin}.json") == before  # same object, same etag: not rewritten
    assert (
        Ledger.load(AccountLedgers(repo, Resolved(False, (A,))).load().value)
        .entries[f"traffic|account={A.uin}"]
        .failures
        == 2
    )


def test_without_accounts_the_run_is_the_app_itself() -> None:
    app = SimpleNamespace(config=SimpleNamespace(accounts=None))
    assert for_run(app) is app  # type: ignore[arg-type]


def test_two_shards_series_of_one_budget_both_survive() -> None:
    from datetime import datetime, timezone
    from decimal import Decimal

    from lib.model import Point

    store = MemoryStore()
    at = datetime(2026, 11, 22, tzinfo=timezone.utc)
    first, second = StateRepository(store).series, StateRepository(store).series  # two workers, one store
    first.save("traffic", f"account={A.uin}", [Point(at, Decimal(1))])
    second.save("traffic", f"account={B.uin}", [Point(at, Decimal(2))])
    second.save("traffic", "", [Point(at, Decimal(5))])  # the own account's group keeps series/traffic.json
    assert first.flush() == [] and second.flush() == []
    reader = StateRepository(store).series
    assert {label: [p.value for p in points] for label, points in reader.load_budget("traffic").items()} == {
        "": [Decimal(5)],
        f"account={A.uin}": [Decimal(1)],
        f"account={B.uin}": [Decimal(2)],
    }
    assert reader.load("traffic", f"account={B.uin}") == [Point(at, Decimal(2))]
    assert sorted(store.list("series/")) == [
        "series/traffic.json",
        f"series/traffic/{A.uin}.json",
        f"series/traffic/{B.uin}.json",
    ]
