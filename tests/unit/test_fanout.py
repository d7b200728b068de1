"""The fan-out's pure parts: the work model, shards and their events, ticks, and the shard records' leases."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from lib.app import fanout
from lib.client.ratelimit import RateLimiter
from lib.config.loader import parse_config
from lib.errors import ConfigError
from lib.settings import Settings
from lib.sources.members import MEMBER_WORKERS, Account
from lib.state.codec import Codec
from lib.state.memory import MemoryStore
from lib.state.shards import ShardStore, tick_id

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
CONFIG = """
channels: {hook: {type: webhook, url: "https://example.com/h"}}
accounts: {organization: true}
budgets:
  - {name: t, source: teo, metric: acc_flux, limit: 1TB, channels: [hook], accounts: ["*"]}
  - {name: c, source: billing, metric: cost, limit: 100, channels: [hook], accounts: ["*"]}
"""


def members(n: int) -> list[Account]:
    return [Account(str(200_000_000_000 + k), f"m{k}", "R") for k in range(1, n + 1)]


def fake_app(*, fanout_function: str | None = "timer", shard_size: int | None = None) -> Any:
    settings = Settings(fanout_function=fanout_function, shard_size=shard_size)
    client = SimpleNamespace(rate_limiter=RateLimiter())
    return SimpleNamespace(settings=settings, client=client, config=parse_config(CONFIG, environ={}))


def test_one_member_costs_its_assume_role_then_its_slowest_bound() -> None:
    from lib.sources import MAX_WORKERS

    app = fake_app()
    # The plans: teo DescribeBillingData (50/s per account) and billing DescribeBillSummaryByProduct (20/s):
    # two requests, 10 in flight, so the in-flight bound (2 x 0.25 / 10) and the slower limit (1/20) tie.
    seconds = fanout.member_seconds(app, app.config, members(1)[0], NOW)
    assert seconds == pytest.approx(fanout.LATENCY + max(1 / 20, 2 * fanout.LATENCY / MAX_WORKERS))
    app.client.rate_limiter = RateLimiter({"billing": 0.1})  # a member's limit of one bill request per 10 s
    assert fanout.member_seconds(app, app.config, members(1)[0], NOW) == pytest.approx(fanout.LATENCY + 10)


def test_members_that_fit_run_here_and_more_than_fit_fan_out() -> None:
    app = fake_app()
    usable = fanout.usable_seconds({"time_limit_in_ms": 120_000})
    assert usable == 120 - fanout.SAFETY_MARGIN
    per_member = 1.0
    fits = MEMBER_WORKERS * int(usable)  # waves of M members, one second each
    assert fanout.shard_size(app, members(fits), per_member, usable) is None
    size = fanout.shard_size(app, members(fits + 1), per_member, usable)
    assert size == fits


def test_the_shard_size_setting_splits_even_what_fits_and_no_function_means_no_fan_out() -> None:
    assert fanout.shard_size(fake_app(shard_size=8), members(9), 0.1, 90.0) == 8
    assert fanout.shard_size(fake_app(shard_size=8), members(8), 0.1, 90.0) is None
    assert fanout.shard_size(fake_app(fanout_function=None, shard_size=8), members(100), 60.0, 90.0) is None


def test_shards_keep_members_in_uin_order_and_their_events_round_trip() -> None:
    shards = fanout.split("20261122T020000Z", list(reversed(members(20))), 8)
    assert [len(s.accounts) for s in shards] == [8, 8, 4]
    assert [s.accounts[0].name for s in shards] == ["m1", "m9", "m17"]
    event = json.loads(json.dumps(shards[1].event()))
    assert fanout.Shard.from_event(event) == shards[1]
    assert fanout.Shard.from_event({"Type": "Timer"}) is None
    with pytest.raises(ConfigError, match="shard event"):
        fanout.Shard.from_event({fanout.SHARD_KEY: {"tick": "x"}})


def test_a_shard_event_over_128_kb_is_split_smaller() -> None:
    many = [Account(str(10**15 + k), "n" * 60 + str(k), "R" * 60) for k in range(1200)]
    shards = fanout.split("t", many, 1200)
    assert len(shards) > 1
    assert all(len(json.dumps(s.event()).encode()) <= fanout.EVENT_LIMIT for s in shards)
    assert sum(len(s.accounts) for s in shards) == 1200


def test_the_tick_is_the_timers_time_else_the_minute() -> None:
    assert fanout.tick_of({"Time": "2026-11-22T02:00:00Z"}, NOW.replace(second=31)) == "20261122T020000Z"
    assert fanout.tick_of({}, NOW.replace(minute=3, second=31)) == "20261122T020300Z"
    assert tick_id(NOW) == "20261122T020000Z"


def test_a_lease_is_taken_once_per_tick_and_shards_read_running_done_failed_or_lost() -> None:
    shards = ShardStore(Codec(MemoryStore()))
    start = NOW.timestamp()
    assert shards.begin("20261122T020000Z", 0, 8, start)
    assert not shards.begin("20261122T020000Z", 0, 8, start)  # a second coordinator of the tick
    assert shards.begin("20261122T020000Z", 1, 8, start)
    assert shards.begin("20261122T020000Z", 2, 4, start)
    shards.finish("20261122T020000Z", 1, "done", start + 10, errors=0)
    shards.finish("20261122T020000Z", 2, "failed", start + 10, error="not started: InternalError")
    states = {s.index: s.state for s in shards.states(start + 60, lease=300)}
    assert states == {0: "running", 1: "done", 2: "failed"}
    assert {s.index: s.state for s in shards.states(start + 301, lease=300)}[0] == "lost"
    failed = next(s for s in shards.states(start + 60, 300) if s.index == 2).to_dict()
    assert failed["error"] == "not started: InternalError" and failed["accounts"] == 4
    assert shards.prune(start + 86_401) == 5
    assert shards.states(start, 300) == []
