"""kill -9 in the middle of a run, then run again: nothing is lost, and the only duplicates are deliveries
the receiver had accepted when the run died but that the state had not recorded as sent yet.

Two ways to pick the moment: at a chosen checkpoint (between claim and send, between send and the sent
marker, between the marker and the outbox clean-up, before the ledger is saved), and after a random delay
(which can land inside a store write). After each kill, one run inside the dead run's claim lease and
one after it finish the job. The seed is fixed for reproducibility (``STATE_CRASH_SEED`` overrides it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from lib.state.local import LocalStore
from lib.state.repo import StateRepository
from tests.e2e.state_worker import simulate_run
from tests.state_support import CountingReceiver

ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("STATE_CRASH_SEED", "20261122"))
POINTS = ("after_claim", "after_send", "after_mark", "before_ledger")
TRIALS = 20
PER_RUN = 6
BASE = datetime(2026, 11, 22, tzinfo=timezone.utc)


def _read_until(proc: subprocess.Popen[str], wanted: tuple[str, ...]) -> str:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line or line.startswith(wanted):
            return line.strip()


def _kill(proc: subprocess.Popen[str]) -> bool:
    """SIGKILL; False if the process had already finished its run."""
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    return alive and proc.returncode == -signal.SIGKILL


def _crash_trials(tmp_path: Path, mode: str) -> dict[str, object]:
    rng = random.Random(f"{SEED}-{mode}")
    state = tmp_path / "state"
    store = LocalStore(state)
    expected: set[str] = set()
    every: list[str] = []
    kills: Counter[str] = Counter()
    with CountingReceiver() as receiver, requests.Session() as session:
        for trial in range(TRIALS):
            ids = [f"ntf_{mode}{trial:03d}x{i:02d}.hook" for i in range(PER_RUN)]
            every.extend(ids)
            now = BASE + timedelta(hours=trial)
            command = [sys.executable, "-m", "tests.e2e.state_worker", "--store", str(state)]
            command += ["--receiver", receiver.url, "--ids", ",".join(ids), "--now", str(now.timestamp())]
            if mode == "checkpoint":
                point = rng.choice(POINTS)
                command += ["--pause", f"{point}:{rng.randrange(PER_RUN) if point != 'before_ledger' else '*'}"]
            else:
                command += ["--announce"]
            proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if mode == "checkpoint":
                line = _read_until(proc, ("PAUSED", "DONE"))
                assert line.startswith("PAUSED"), line
                kills[line.split()[1]] += 1
                assert _kill(proc)
            else:
                assert _read_until(proc, ("READY",)) == "READY"
                time.sleep(rng.uniform(0.0, 0.12))  # a run takes about 40-80 ms
                kills["random" if _kill(proc) else "finished first"] += 1
            session.close()  # our own kept-alive connection, so that idle means the dead run's are done too
            receiver.wait_idle()  # a request the dead process had in flight is counted before we look
            check = StateRepository(store)
            expected |= {did for did in ids if receiver.counts().get(did) and not check.claims.is_sent(did)}
            for minutes in (1, 6):  # inside the dead run's 5-minute lease, then after it
                result = simulate_run(
                    StateRepository(store), session, receiver.url, ids, now + timedelta(minutes=minutes)
                )
                assert result["problems"] == []
        counts = receiver.counts()
    lost = [did for did in every if counts.get(did, 0) == 0]
    duplicates = {did for did, n in counts.items() if n > 1}
    assert lost == []
    assert duplicates == expected
    assert max(counts.values()) <= 2
    repo = StateRepository(store)
    assert repo.outbox.due(BASE + timedelta(days=30)) == []
    assert all(repo.claims.is_sent(did) for did in every)
    figures = {"mode": mode, "kills": dict(kills), "deliveries": len(every), "duplicates": len(duplicates)}
    print(f"\ncrash ({mode}, seed {SEED}): {figures}")
    return figures


@pytest.mark.e2e
@pytest.mark.slow
def test_kill_9_at_checkpoints_loses_nothing(tmp_path: Path) -> None:
    figures = _crash_trials(tmp_path, "checkpoint")
    kills = figures["kills"]
    assert isinstance(kills, dict)
    # exactly the runs killed between the send and the sent marker cause a duplicate each
    assert figures["duplicates"] == kills.get("after_send", 0)


@pytest.mark.e2e
@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    _crash_trials(tmp_path, "random")
