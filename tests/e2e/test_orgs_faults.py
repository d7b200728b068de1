"""Member accounts under faults, against the sandbox over HTTP: a refused role, throttling, keys that expire
mid-run; and what a warm instance saves (one AssumeRole per member, not per run).

Each test runs the product's own App in this process against a sandbox whose organization is
``org_support``'s: member k sees k times the host account's data, so every value is checked exactly.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from lib.app import accounts
from lib.app.runtime import App
from lib.client import ApiClient, Credentials
from lib.client.retry import RetryPolicy
from lib.config.loader import parse_config
from sandbox.receivers import Receiver
from sandbox.server import Sandbox
from tests.e2e import org_support as org

pytestmark = pytest.mark.e2e


class ShiftedWall:
    """The sandbox's signature clock: real time plus an offset the test moves (within the 300 s skew)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Rig:
    sandbox: Sandbox
    receiver: Receiver
    wall: ShiftedWall
    app: App

    def run(self) -> dict[str, Any]:
        doc: dict[str, Any] = self.app.run_check(trigger="timer").to_dict()
        return doc

    def alerts(self) -> Counter[tuple[str, str, str]]:
        counted: Counter[tuple[str, str, str]] = Counter()
        for item in self.receiver.received:
            doc = item.json
            if item.kind == "webhook" and isinstance(doc, dict) and doc.get("type") == "budget.alert":
                counted[(doc["budget"], doc["group"].get("account", ""), doc["kind"])] += 1
        return counted


def _rig(tmp_path: Path, members: int, fanout: str = "", **options: Any) -> Iterator[Rig]:
    wall = ShiftedWall()
    with Sandbox(org.scenario(members, **options), signature_clock=wall) as sandbox, Receiver() as receiver:
        env = {
            "BUDGET_STATE": f"file://{tmp_path / 'state'}",
            "WEBHOOK_URL": receiver.url("webhook"),
            "WEBHOOK_SECRET": receiver.secret("webhook"),
            "BUDGET_FANOUT_FUNCTION": fanout,
        }
        config = parse_config(yaml.safe_dump(org.config()), environ=env)
        retry = RetryPolicy(attempts=12, base=0.25, cap=2.0, deadline=60.0)  # backoff past a 1-second window, ample
        client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url, retry=retry)
        app = App.from_env(env, config=config, client=client, clock=lambda: org.NOW)
        yield Rig(sandbox, receiver, wall, app)


@pytest.fixture
def rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Rig]:
    members, options = getattr(request, "param", (6, {}))
    yield from _rig(tmp_path, members, **options)


def _values(result: dict[str, Any]) -> dict[tuple[str, str], Decimal | None]:
    return {
        (e["budget"], e["group"].get("account", "")): None if e["value"] is None else Decimal(str(e["value"]))
        for e in result["evaluations"]
    }


def _truth(members: int, skip: tuple[int, ...] = ()) -> dict[tuple[str, str], Decimal | None]:
    out: dict[tuple[str, str], Decimal | None] = {
        (b, org.uin(k)): v for k in range(1, members + 1) if k not in skip for b, v in org.truth(k).items()
    }
    out.update({(b, org.uin(k)): None for k in skip for b in ("traffic", "zone-traffic", "spend")})
    out[("own-traffic", "")] = org.truth(1)["traffic"]
    return out


@pytest.mark.parametrize("rig", [(6, {"refused": (2,)})], indirect=True)
def test_a_refused_role_fails_that_members_budgets_only_then_turns_no_data(rig: Rig) -> None:
    first = rig.run()
    assert _values(first) == _truth(6, skip=(2,))
    refused = [e for e in first["errors"] if org.uin(2) in e["message"]]
    assert {e["budget"] for e in refused} == {"traffic", "zone-traffic", "spend"}
    assert all("RoleNotFound" in e["message"] for e in refused)
    assert len(first["errors"]) == 3  # nobody else is affected
    for _ in range(2):  # no_data_after defaults to 3 failed runs in a row
        rig.run()
    no_data = {(b, a) for (b, a, kind), n in rig.alerts().items() if kind == "no-data"}
    assert no_data == {(b, org.uin(2)) for b in ("traffic", "zone-traffic", "spend")}
    assert set(rig.alerts().values()) == {1}
    messages = [i.json for i in rig.receiver.received if isinstance(i.json, dict) and i.json.get("budget") == "spend"]
    by_account = {m["group"]["account"]: m["message"] for m in messages if m["kind"] == "threshold"}
    assert "account member-004" in by_account[org.uin(4)]  # the member's name, not its uin, in the text
    assert org.uin(4) not in by_account[org.uin(4)]


@pytest.mark.parametrize("rig", [(10, {"rate_limits": {"DescribeBillingData": 1}})], indirect=True)
def test_members_throttled_by_their_own_limits_still_read_exact_values(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    # One DescribeBillingData a second per account: each member's second request is refused, then retried.
    caplog.set_level("INFO", logger="lib.client")
    result = rig.run()
    assert result["errors"] == []
    assert _values(result) == _truth(10)
    assert any("RequestLimitExceeded" in r.getMessage() for r in caplog.records), "the sandbox did throttle"
    buckets = rig.app.client.rate_limiter._buckets
    assert {k.split("/")[0] for k in buckets if "/" in k} >= {org.uin(k) for k in range(1, 11)}  # one per account


def test_keys_that_expire_mid_run_are_renewed_and_a_warm_instance_assumes_once(rig: Rig) -> None:
    for k in range(1, 7):  # short-lived keys: valid 100 s, renewed 25 s before (our clock's view)
        accounts.member_client(rig.app.client, org.uin(k), org.ROLE, duration=100)
    first = rig.run()
    assert first["errors"] == []
    assert len(rig.sandbox.app.sts.sessions) == 6  # one AssumeRole per member
    second = rig.run()
    assert second["errors"] == [] and len(rig.sandbox.app.sts.sessions) == 6  # warm: the keys are reused
    rig.wall.offset = 200.0  # the sandbox is now past the keys' expiry; our clock still trusts them
    third = rig.run()
    assert third["errors"] == []
    assert _values(third) == _truth(6)
    assert len(rig.sandbox.app.sts.sessions) == 12  # each member's keys refused once, renewed once


@pytest.mark.parametrize("rig", [(120, {})], indirect=True)
def test_members_are_listed_fifty_a_page(rig: Rig) -> None:
    assert rig.app.config.accounts is not None
    listed = accounts.list_members(rig.app.config.accounts, rig.app.client)
    assert [m.uin for m in listed] == [org.uin(k) for k in range(1, 121)]
    assert [m.name for m in listed[:2]] == ["member-001", "member-002"]


@pytest.mark.parametrize("rig", [(6, {"fanout": "budget-alerts-timer"})], indirect=True)
def test_members_that_fit_one_invocation_run_in_the_timer_itself(rig: Rig) -> None:
    from lib.app import instance
    from lib.app.timer import run_timer

    instance.set_app(rig.app)
    try:
        result = run_timer({"Type": "Timer", "Time": "2026-11-22T02:00:00Z"}, {"time_limit_in_ms": 120_000})
    finally:
        instance.set_app(None)
    assert "shards" not in result and result["errors"] == []
    assert _values(result) == _truth(6)
    assert rig.sandbox.app.scf.async_records == []  # nothing was invoked
