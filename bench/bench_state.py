"""State load and save for a realistic state: 100 budgets x 10 groups, a month of daily usage points each.

For each backend (memory, local folder, the sandbox's COS over HTTP) it measures, in ms: saving and
loading the rules ledger (1000 entries), saving the usage series (first write, then a steady-state run
that adds one point per group), loading every series, and one run's whole state I/O (load ledger,
silences, outbox; save ledger and series; record the run). Sizes are in bytes. The baseline of each
row is the same operation on the in-memory store (pure encoding cost), so the ratio is the price of
the backend's I/O. ``python -m bench.bench_state``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any

from lib.client.credentials import Credentials
from lib.model import Point, Silence
from lib.state.cos import CosStore
from lib.state.local import LocalStore
from lib.state.memory import MemoryStore
from lib.state.repo import StateRepository
from lib.state.store import ObjectStore

BUDGETS = 100
GROUPS = 10
DAYS = 31
REPEAT = 3
START = datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=8)))
NOW = START + timedelta(days=DAYS - 1, hours=10)
BUDGET_NAMES = [f"budget-{b:03d}" for b in range(BUDGETS)]
GOALS = {"run state I/O": 1000.0}  # ms per run on the local folder; COS is reported, not judged


def _ledger() -> dict[str, Any]:
    entries = {}
    for b in range(BUDGETS):
        for g in range(GROUPS):
            group = [["zone-id", f"zone-{g:02d}{b:03d}abcdef"]]
            entries[f"budget-{b:03d}|zone-id={group[0][1]}"] = {
                "budget": f"budget-{b:03d}",
                "group": group,
                "period": {"start": START.isoformat(), "end": (START + timedelta(days=30)).isoformat()},
                "told": [50, 80] if (b + g) % 3 == 0 else [50],
                "forecast": (b + g) % 4 == 0,
                "held": {},
                "failures": 0,
                "episodes": {"no-data": {"number": 1, "active": False, "since": None, "told": False}},
            }
    return {"version": 1, "entries": entries}


def _series(day_count: int, bump: int = 0) -> dict[tuple[str, str], list[Point]]:
    out = {}
    for b in range(BUDGETS):
        for g in range(GROUPS):
            points = [
                Point(START + timedelta(days=d), Decimal(123456789 * (d + 1) + g * 1000 + b + bump) / 1000)
                for d in range(day_count)
            ]
            out[(f"budget-{b:03d}", f"zone-id=zone-{g:02d}{b:03d}abcdef")] = points
    return out


def _result() -> dict[str, Any]:
    evaluation = {
        "budget": "budget-000",
        "group": {"zone-id": "zone-00000abcdef"},
        "period": {"start": START.isoformat(), "end": (START + timedelta(days=30)).isoformat()},
        "value": 8.1e12,
        "unit": "B",
        "limit": 1e13,
        "percent": 81.0,
        "forecast": 1.1e13,
        "level": 80,
        "status": "firing",
    }
    return {"at": NOW.isoformat(), "evaluations": [evaluation] * (BUDGETS * GROUPS), "notifications": [], "errors": []}


def _ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _size(store: ObjectStore, prefix: str = "") -> int:
    total = 0
    for key in store.list(prefix):
        meta = store.get_meta(key)
        total += meta.size if meta else 0
    return total


def _measure(make: Callable[[], ObjectStore], served: Callable[[], int] = lambda: 0) -> dict[str, float]:
    ledger, first, later, result = _ledger(), _series(DAYS - 1), _series(DAYS, bump=1), _result()
    silences = [Silence(f"s{i}", {"budget": f"budget-{i:03d}"}, NOW, NOW + timedelta(hours=2)) for i in range(20)]
    samples: dict[str, list[float]] = {}

    def sample(name: str, value: float) -> None:
        samples.setdefault(name, []).append(value)

    for _ in range(REPEAT):
        store = make()
        repo = StateRepository(store, clock=NOW.timestamp)
        for silence in silences:
            repo.silences.put(silence)
        # partial, not a lambda over the loop's variables: each action is bound to this round's repository
        sample("ledger save", _ms(partial(repo.ledger.save, ledger)))
        sample("ledger load", _ms(repo.ledger.load))

        def save(r: StateRepository, series: dict[tuple[str, str], list[Point]]) -> None:
            for (budget, group), points in series.items():
                r.series.save(budget, group, points)
            r.series.flush()

        def load_all(r: StateRepository) -> None:
            for budget in BUDGET_NAMES:
                r.series.load_budget(budget)

        sample("series first save", _ms(partial(save, repo, first)))
        sample("series steady save", _ms(partial(save, repo, later)))
        sample("series load all", _ms(partial(load_all, repo)))
        sample("daily prune", _ms(repo.maintenance.prune))
        repo.maintenance.maybe_prune()  # pruning is done for the day: the run below is a steady one

        def whole_run(r: StateRepository) -> None:
            r.ledger.load()
            r.silences.list()
            r.outbox.due(NOW)
            r.ledger.save(ledger)
            for (budget, group), points in later.items():
                r.series.save(budget, group, [*points[:-1], Point(points[-1].time, points[-1].value + 1)])
            r.series.flush()
            r.runs.record({"run_id": uuid.uuid4().hex, **result})

        fresh = StateRepository(store, clock=NOW.timestamp)
        before = served()
        sample("run state I/O", _ms(partial(whole_run, fresh)))
        sample("requests per run", float(served() - before))
        sample("ledger bytes", float(_size(store, "ledger.json")))
        sample("series bytes", float(_size(store, "series/")))
        sample("state bytes", float(_size(store)))
        store.close()
    return {name: statistics.median(values) for name, values in samples.items()}


@contextmanager
def _sandbox_cos() -> Iterator[tuple[Callable[[], ObjectStore], Callable[[], int]] | None]:
    try:
        from sandbox.server import Sandbox
    except ImportError:
        yield None
        return
    with Sandbox() as sandbox:
        credentials = Credentials(sandbox.secret_id, sandbox.secret_key)

        def make() -> ObjectStore:
            return CosStore(
                "bench-1250000000", "ap-guangzhou", f"bench/{uuid.uuid4().hex}", credentials, endpoint=sandbox.url
            )

        yield make, lambda: sandbox.served


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    _measure(lambda: MemoryStore("warm-up"))
    baseline = _measure(lambda: MemoryStore("bench"))
    with tempfile.TemporaryDirectory(prefix="bench-state-") as folder:
        local = _measure(lambda: LocalStore(f"{folder}/{uuid.uuid4().hex}"))
        with _sandbox_cos() as sandbox:
            cos = _measure(*sandbox) if sandbox else None
    for backend, figures in (("memory", baseline), ("local", local), ("cos-sandbox", cos)):
        if figures is None:
            rows.append({"name": f"{backend}: not measured (sandbox.server unavailable)", "value": None})
            continue
        for name, value in figures.items():
            if name == "requests per run" and backend != "cos-sandbox":
                continue
            is_bytes = name.endswith("bytes") or name.startswith("requests")
            base = baseline[name]
            row: dict[str, Any] = {
                "name": f"{backend}: {name}",
                "value": round(value, 1),
                "unit": "req" if name.startswith("requests") else "B" if is_bytes else "ms",
                "baseline": None if is_bytes or backend == "memory" else round(base, 1),
                "ratio": None if is_bytes or backend == "memory" or base <= 0 else value / base,
                "goal": None,
            }
            if backend == "local" and name in GOALS:
                row["goal"] = f"< {GOALS[name]:.0f} ms"
                row["ok"] = value < GOALS[name]
            rows.append(row)
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table([{"bench": "state", **r} for r in run()]))
