"""8 processes × 50 overlapping runs on one local store: every delivery reaches the receiver exactly once.

Every run decides to send every crossing (as if each had loaded a stale ledger), so only the create-only
markers stand between a delivery and a duplicate. Some deliveries fail on their first attempt (503) and
go through release → outbox → another run's claim, while the other processes keep racing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lib.state.local import LocalStore
from lib.state.repo import StateRepository
from tests.state_support import CountingReceiver

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
RUNS = 50
CROSSINGS = 40


@pytest.mark.e2e
@pytest.mark.slow
def test_overlapping_runs_in_eight_processes_send_each_delivery_once(tmp_path: Path) -> None:
    ids = [f"ntf_{i:032x}.hook" for i in range(CROSSINGS)]
    fail_first = frozenset(ids[::5])
    state = tmp_path / "state"
    started = time.monotonic()
    with CountingReceiver(fail_first) as receiver:
        start_at = time.time() + 1.5  # every process is up before the first run starts
        command = [sys.executable, "-m", "tests.e2e.state_worker", "--store", str(state), "--receiver", receiver.url]
        command += ["--ids", ",".join(ids), "--runs", str(RUNS), "--start-at", str(start_at), "--decide-all"]
        procs = [
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(PROCESSES)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
    elapsed = time.monotonic() - started

    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip().endswith("DONE"), out
        assert "PROBLEMS" not in out, out

    counts = receiver.counts()
    duplicates = {k: v for k, v in counts.items() if v != 1}
    assert duplicates == {}
    assert set(counts) == set(ids)  # nothing lost
    assert set(receiver.refused) == fail_first  # the retry path was exercised

    repo = StateRepository(LocalStore(state))
    assert all(repo.claims.is_sent(did) for did in ids)
    far = datetime.now(timezone.utc) + timedelta(days=1)
    assert repo.outbox.due(far) == []
    assert repo.outbox.failed() == []
    assert repo.ledger.load().value == {"told": sorted(ids)}
    assert len(repo.runs.list(limit=100)) == 50
    assert repo.problems == []
    takeovers = sum(len(repo.store.list(f"claims/{did}/")) for did in ids)
    print(
        f"\nconcurrency: {PROCESSES}x{RUNS} runs, {CROSSINGS} deliveries, "
        f"{sum(counts.values())} accepted, {sum(len(v) for v in receiver.refused.values())} refused first, "
        f"{takeovers} claim generations, {elapsed:.1f}s"
    )
