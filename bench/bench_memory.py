"""Memory of a 10,000-budget configuration: peak RSS of ``check --dry-run --json`` against the sandbox.

SCF's smallest sensible function has 128 MB; the goal is a 10,000-budget dry run under 100 MB, so a
real run (state, deliveries) keeps headroom. Each measurement runs in a fresh child process that calls
``lib.cli.main`` (as ``python -m lib`` does) with stdout in a file, and reports its own ``VmHWM``.
Measured in the same run:

- ``check --dry-run --json`` with 10,000 budgets (teo metrics of three zones, whole-account and per
  zone, month and day; billing cost and balance), against the example ``budgets.yaml``'s three
  budgets: the floor that interpreter, imports and one run cost anyway;
- ``validate`` of the same 10,000 budgets, against the same with the YAML read through PyYAML's node
  graph (the loader's fallback, and how the file was read before): what the event builder saves.

The sandbox runs in this process with the bundled demo scenario. ``python -m bench.bench_memory``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = 10_000
GOAL_MB = 100.0
ZONES = ("zone-2qtuhspy7hmq", "zone-2qtuhsrnbl9w", "zone-2qtuhsu4xkzr")  # the demo scenario's zones on a plan
LIMITS = {"B": "10TB", "bps": "1Gbps", "count": "10M", "s": "1000h", "ms": "100000s"}

# The child: run one command of ``python -m lib`` with stdout in a file, then print its own peak RSS.
CHILD = """
import json, sys
from lib.cli import main
from lib.config import loader, yamldoc

if sys.argv[1] == "nodes":  # the YAML through the node graph, as before the event builder
    loader.load_yaml = lambda text: yamldoc._load(text, streaming=False)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    sys.stdout = out
    code = main(sys.argv[3:])
    sys.stdout = sys.__stdout__
with open("/proc/self/status", encoding="ascii") as status:
    peak = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
print(json.dumps({"code": code, "peak_mb": peak}))
"""


def config(n: int) -> dict[str, Any]:
    """``n`` budgets: 80 % EdgeOne (every metric, all zones or one, some per zone, month or day), 20 % billing."""
    from lib.config.metrics import TEO_METRICS

    metrics = list(TEO_METRICS.values())
    budgets: list[dict[str, Any]] = []
    for i in range(n):
        kind = i % 10
        if kind == 9:
            budget: dict[str, Any] = {"name": f"balance-{i}", "source": "billing", "metric": "balance", "below": 1000}
        elif kind == 8:
            budget = {"name": f"cost-{i}", "source": "billing", "metric": "cost", "limit": 3000 + i}
        else:
            metric = metrics[i % len(metrics)]
            budget = {"name": f"teo-{i}", "source": "teo", "metric": metric.name, "limit": LIMITS[metric.unit]}
            budget["period"] = "month" if kind < 5 else "day"
            if kind % 2:
                budget["zones"] = [ZONES[i % len(ZONES)]]
            elif kind % 3 == 0:
                budget["group_by"] = ["zone-id"]
        budgets.append({**budget, "channels": ["ops"]})
    return {
        "timezone": "Asia/Shanghai",
        "channels": {"ops": {"type": "webhook", "url": "https://hooks.example.com/budget"}},
        "budgets": budgets,
    }


def _env(sandbox_url: str, state: Path) -> dict[str, str]:
    drop = ("BUDGET_", "TENCENTCLOUD_", "TCCLI_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "BUDGET_API_ENDPOINT": sandbox_url,
            "BUDGET_STATE": f"file://{state}",
            "TENCENTCLOUD_SECRET_ID": "AKIDSANDBOX",
            "TENCENTCLOUD_SECRET_KEY": "sandbox-secret-key",
            # The example file's channels read these; a dry run sends nothing.
            **dict.fromkeys(("WECOM_URL", "DINGTALK_URL", "FEISHU_URL"), "https://hooks.example.com/x"),
            **dict.fromkeys(("SLACK_URL", "WEBHOOK_URL"), "https://hooks.example.com/x"),
            **dict.fromkeys(("DINGTALK_SECRET", "FEISHU_SECRET", "WEBHOOK_SECRET"), "secret-for-bench"),
        }
    )
    return env


def _child(mode: str, args: list[str], env: dict[str, str], tmp: Path) -> dict[str, Any]:
    out = tmp / f"out-{time.monotonic_ns()}.txt"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(out), "-q", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {proc.stderr[-2000:]}")
    doc: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    doc["wall"] = wall
    doc["output"] = out.read_text(encoding="utf-8")
    return doc


def run() -> list[dict[str, Any]]:
    from sandbox.server import Sandbox

    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp_name, Sandbox() as sandbox:
        tmp = Path(tmp_name)
        big = tmp / "budgets-10000.yaml"
        big.write_text(yaml.safe_dump(config(BUDGETS), sort_keys=False), encoding="utf-8")
        env = _env(sandbox.url, tmp / "state")
        check = ["check", "--dry-run", "--json", "--config"]

        many = _child("events", [*check, str(big)], env, tmp)
        few = _child("events", [*check, str(ROOT / "budgets.yaml")], env, tmp)
        result = json.loads(many["output"])
        if result["errors"] or many["code"] != 0:
            raise RuntimeError(f"the 10,000-budget run failed: {result['errors'][:3]}")
        evaluations = len(result["evaluations"])

        events = _child("events", ["validate", "--config", str(big)], env, tmp)
        nodes = _child("nodes", ["validate", "--config", str(big)], env, tmp)
        for doc in (events, nodes):
            if doc["code"] != 0 or not doc["output"].startswith(f"ok: {BUDGETS} budgets"):
                raise RuntimeError(f"validate failed: {doc['output'][:200]}")

    peak, floor = many["peak_mb"], few["peak_mb"]
    return [
        {
            "name": f"check --dry-run --json, {BUDGETS:,} budgets ({evaluations:,} evaluations): peak RSS"
            " vs the example's 3 budgets",
            "value": peak,
            "unit": "MB",
            "baseline": floor,
            "ratio": peak / floor,
            "goal": f"< {GOAL_MB:.0f} MB",
            "ok": peak < GOAL_MB,
        },
        {
            "name": "  same, wall time",
            "value": many["wall"],
            "unit": "s",
            "baseline": few["wall"],
            "ratio": many["wall"] / few["wall"],
            "goal": None,
            "ok": None,
        },
        {
            "name": f"validate, {BUDGETS:,} budgets: peak RSS, YAML from events vs PyYAML's node graph",
            "value": events["peak_mb"],
            "unit": "MB",
            "baseline": nodes["peak_mb"],
            "ratio": events["peak_mb"] / nodes["peak_mb"],
            "goal": "< 1x",
            "ok": events["peak_mb"] < nodes["peak_mb"],
        },
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import table

    print(table(run()))
