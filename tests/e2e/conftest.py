"""Fixtures of the end-to-end tests: a live sandbox and receiver (``live``) and an SCF-like process (``scf``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lib.app import instance
from sandbox.demo import demo_environment
from sandbox.receivers import Receiver
from sandbox.server import Sandbox
from tests.e2e.live_support import CONFIG, CREDENTIAL_VARIABLES, Live, close_app, live_scenario, wait_past_month_end


@pytest.fixture
def live(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Live]:
    wait_past_month_end()
    faults = getattr(request, "param", None)
    state_dir = tmp_path / "state"
    with Sandbox(live_scenario(datetime.now(timezone.utc), faults=faults)) as sandbox, Receiver() as receiver:
        env = demo_environment(sandbox.url, receiver, str(state_dir))
        env.update(
            BUDGET_CONFIG=str(CONFIG),
            TENCENTCLOUD_SECRETID=sandbox.secret_id,  # the names SCF gives the execution role's keys
            TENCENTCLOUD_SECRETKEY=sandbox.secret_key,
            HOME=str(tmp_path / "home"),  # no tccli profile of the machine can stand in for a missing key
        )
        yield Live(sandbox, receiver, env, state_dir)


@pytest.fixture
def scf(live: Live, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """The process environment of an SCF instance (cold: no ``App`` built yet) for the timer handler."""
    for name in list(os.environ):
        if name.startswith("BUDGET_") or name in CREDENTIAL_VARIABLES:
            monkeypatch.delenv(name)
    for name, value in live.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(instance._slot, "app", None)
    yield live
    if instance._slot.app is not None:
        close_app(instance._slot.app)
