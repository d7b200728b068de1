"""kill -9 while a run is sending a slow channel's batch: what the channel accepted is never sent again.

The red-team finding this guards: a run used to mark a whole channel batch as sent only after the last
request, so a run killed during slow webhook sends re-sent everything the webhook had already accepted
(22 POSTs for 13 notifications). Each accepted request is now marked as soon as it is answered: the
run that takes over after the dead run's claim lease may double only the one request in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from lib.app.runtime import App
from tests.e2e.live_support import CREDENTIAL_VARIABLES, ROOT, Live

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SLOW = 0.4  # seconds the webhook takes to answer each POST
KILL_AFTER = 2  # accepted webhook POSTs before the kill
BUDGETS = 6  # each crosses 100 % of its limit on the live scenario's zone: one webhook event each
CONFIG = {
    "timezone": "Asia/Shanghai",
    "channels": {"audit": {"type": "webhook", "url": "${WEBHOOK_URL}", "secret": "${WEBHOOK_SECRET}"}},
    "budgets": [
        {
            "name": f"traffic-{i}",
            "source": "teo",
            "metric": "acc_flux",
            "zones": ["*"],
            "period": "month",
            "limit": f"{i}TB",
            "thresholds": [100],
            "channels": ["audit"],
        }
        for i in range(1, BUDGETS + 1)
    ],
}


def _webhook_ids(live: Live) -> Counter[str]:
    return Counter(r.headers["webhook-id"] for r in live.receiver.received if r.kind == "webhook" and r.accepted)


def test_a_run_killed_mid_batch_resends_at_most_the_request_in_flight(live: Live, tmp_path: Path) -> None:
    config = tmp_path / "budgets.yaml"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    live.env["BUDGET_CONFIG"] = str(config)
    live.receiver.slow_down("webhook", SLOW)
    base = {k: v for k, v in os.environ.items() if not (k.startswith("BUDGET_") or k in CREDENTIAL_VARIABLES)}
    proc = subprocess.Popen(  # the timer's code path, in its own process so it can be killed
        [sys.executable, "-m", "lib", "-q", "check"],
        cwd=ROOT,
        env={**base, **live.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while sum(_webhook_ids(live).values()) < KILL_AFTER and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before the kill: slow the webhook down more"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    accepted_before = set(_webhook_ids(live))
    assert len(accepted_before) >= KILL_AFTER

    # The next run comes after the dead run's claim lease (5 minutes) and takes its deliveries over.
    later = App.from_env(live.env, clock=lambda: datetime.now(timezone.utc) + timedelta(minutes=6))
    live.receiver.slow_down("webhook", 0)
    try:
        result = later.run_check(trigger="timer").to_dict()
    finally:
        later.session.close()
        later.client.close()
        later.store.close()
    assert result["errors"] == [] or all(e["source"] != "state" for e in result["errors"]), result["errors"]

    posts = _webhook_ids(live)
    doubled = {nid: n for nid, n in posts.items() if n > 1}
    assert len(posts) == BUDGETS, "every notification went out in the end"
    assert len(doubled) <= 1, doubled  # only the request in flight at the kill may go out twice
    assert not (set(doubled) & (accepted_before - set(doubled)))
    for nid in accepted_before:  # what the webhook had accepted before the kill was not re-sent
        assert posts[nid] <= 2
    assert sum(posts.values()) <= len(posts) + 1
