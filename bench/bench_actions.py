"""Budget actions: the time from a measured crossing to the executed action, for ``approval: automatic``.

The sandbox (live scenario: one EdgeOne site far over a 10 TB budget, 50 ms added latency on every teo
call, like the collect benchmark) runs in this process; each repeat starts from a fresh state folder
and an open site. Measured, wall clock:

- in-process tick: from the start of ``run_check`` (collect, evaluate, decide, record, execute) to the
  ``done`` transition's recorded instant, and from the recorded intent to ``done`` (read the site's
  status, record ``executing``, ``ModifyZoneStatus``, record ``done``);
- fresh process: ``python -m lib check`` as a timer invocation in a new process (imports included), from
  the process start to ``done``.

The baseline is EdgeOne's own usage cap (console only), which takes effect about 10 minutes after the
threshold (``../shared/reference/actions-and-peers.md``); the goal is within one 5-minute timer tick.
Both are counted from the moment a run can see the crossing: the data's own delay (5-minute buckets,
reported minutes late) comes on top of either.

Run: ``python -m bench.bench_actions`` (or ``python -m bench actions``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 5
LATENCY = 0.050
TICK = 300.0  # a 5-minute timer
NATIVE_CAP = 600.0  # EdgeOne's console usage cap: about 10 minutes to act


def _config(hook: str, secret: str) -> dict[str, Any]:
    from sandbox.live_scenario import ZONE

    return {
        "timezone": "Asia/Shanghai",
        "language": "en",
        "channels": {"hook": {"type": "webhook", "url": hook, "secret": secret}},
        "budgets": [
            {
                "name": "traffic",
                "source": "teo",
                "metric": "acc_flux",
                "zones": [ZONE],
                "group_by": ["zone-id"],
                "limit": "10TB",
                "thresholds": [100],
                "channels": ["hook"],
                "actions": [{"type": "pause-zone", "at": 100, "approval": "automatic"}],
            }
        ],
    }


def _done_after(state: str, started: float) -> tuple[float, float]:
    """(seconds from ``started`` to ``done``, seconds from the recorded intent to ``done``) of the one action."""
    from lib.state import open_store
    from lib.state.repo import StateRepository

    repo = StateRepository(open_store(f"file://{state}", environ={}))
    [ident] = repo.actions.ids()
    record = repo.actions.get(ident)
    if record is None or record.state != "done":
        raise RuntimeError(f"the action did not end done: {record}")
    done = datetime.fromisoformat(record.last.at).timestamp()
    intent = datetime.fromisoformat(record.trail[0].at).timestamp()
    return done - started, done - intent


def _reopen(client: Any) -> None:
    from sandbox.live_scenario import ZONE

    client.call("teo", "2022-09-01", "ModifyZoneStatus", {"ZoneId": ZONE, "Paused": False})


def run() -> list[dict[str, Any]]:
    from lib.app.runtime import App
    from lib.client import ApiClient, Credentials
    from lib.config.models import Config
    from sandbox.live_scenario import live_scenario, wait_past_month_end
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    wait_past_month_end()
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 5)
    faults = [{"product": "teo", "action": "*", "latency": f"{int(LATENCY * 1000)}ms"}]
    tick, execute, process = [], [], []
    with Sandbox(live_scenario(now, faults=faults)) as sandbox, Receiver() as receiver:
        client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)
        config = _config(receiver.url("webhook"), receiver.secret("webhook"))
        for _ in range(REPEATS):
            with tempfile.TemporaryDirectory(prefix="bench-actions-") as state:
                app = App.from_env(
                    {"BUDGET_STATE": f"file://{state}"}, config=Config.model_validate(config), client=client
                )
                started = time.time()
                app.run_check(at=sandbox.now, trigger="timer")
                whole, intent_to_done = _done_after(state, started)
                tick.append(whole)
                execute.append(intent_to_done)
            _reopen(client)
        for _ in range(REPEATS):
            with tempfile.TemporaryDirectory(prefix="bench-actions-proc-") as state:
                path = Path(state) / "budgets.yaml"
                path.write_text(yaml.safe_dump(config), encoding="utf-8")
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": state,
                    "PYTHONPATH": str(ROOT),
                    "BUDGET_CONFIG": str(path),
                    "BUDGET_STATE": f"file://{state}/state",
                    "BUDGET_API_ENDPOINT": sandbox.url,
                    "TENCENTCLOUD_SECRET_ID": sandbox.secret_id,
                    "TENCENTCLOUD_SECRET_KEY": sandbox.secret_key,
                }
                started = time.time()
                subprocess.run(
                    [sys.executable, "-m", "lib", "check", "--at", sandbox.now.isoformat()],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    check=False,
                    timeout=120,
                )
                process.append(_done_after(f"{state}/state", started)[0])
            _reopen(client)
        client.close()
    rows = []
    for name, values in (
        ("crossing to done, in-process timer run (median of 5)", tick),
        ("crossing to done, timer run in a fresh process (median of 5)", process),
    ):
        value = statistics.median(values)
        rows.append(
            {
                "name": name,
                "value": round(value, 3),
                "unit": "s",
                "baseline": NATIVE_CAP,
                "ratio": value / NATIVE_CAP,
                "goal": f"< {TICK:.0f} s (one tick)",
                "ok": value < TICK,
                "range": [round(min(values), 3), round(max(values), 3)],
            }
        )
    rows.append(
        {
            "name": "intent recorded to done (status read, executing, ModifyZoneStatus, done)",
            "value": round(statistics.median(execute), 3),
            "unit": "s",
            "baseline": None,
            "ratio": None,
            "goal": None,
        }
    )
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run()))
