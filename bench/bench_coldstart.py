"""Cold start of the SCF handlers and one whole timer run, each in a fresh interpreter (as SCF starts one).

- Cold import: ``import handlers.timer, handlers.api`` in a fresh interpreter, median of ``REPEATS``,
  against importing the official SDK's teo and billing clients the same way (goal <= 0.7x).
- The handlers import almost nothing until they run, so the honest figure for a cold SCF instance is
  import + first timer invocation (against the sandbox, the example budgets.yaml): reported too, with
  the lazy imports it pays for and a warm invocation for comparison.
- A whole timer run with 10 budgets (teo metrics grouped by zone, host, region, proxy, zone+host; a
  bandwidth peak; plan limits; billing cost and balance) against the sandbox, in a fresh subprocess:
  wall time and the child's peak RSS (VmHWM; goal < 128 MB, the function's memory).

Byte code matters as much as what is imported. SCF sets PYTHONDONTWRITEBYTECODE and the code package
ships no ``.pyc`` (scripts/package.py removes them: the build interpreter's would not fit 3.10), so a
cold SCF instance compiles every module of the package from source, while the runtime's standard
library has its ``.pyc``. Each child runs with ``-X pycache_prefix=DIR`` so both cases are measured
on equal terms for ours and the SDK: "compiled" (every module has its ``.pyc``) and "as packaged"
(standard library compiled, site-packages and this repository from source).

The sandbox and the webhook receiver run in this process, like Tencent Cloud and the chat platforms run
outside the function. ``python -m bench.bench_coldstart``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 7
RUN_REPEATS = 3
MEMORY_MB = 128  # serverless.yml memorySize: the smallest sensible SCF size
OURS = "import handlers.timer, handlers.api"
SDK = "import tencentcloud.teo.v20220901.teo_client, tencentcloud.billing.v20180709.billing_client"

# The child's own peak RSS: VmHWM of its address space. Not ru_maxrss: on Linux exec() carries the forking
# parent's high-water mark into the child's ru_maxrss, so a big parent (this one runs the sandbox) shows.
PEAK = """
def peak_mb():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

# The child: time one statement (an import) inside a fresh interpreter.
IMPORT_CHILD = (
    """
import json, sys, time
t0 = time.perf_counter()
exec(sys.argv[1])
t1 = time.perf_counter()
"""
    + PEAK
    + """
print(json.dumps({"import_ms": (t1 - t0) * 1000, "modules": len(sys.modules), "peak_mb": peak_mb()}))
"""
)

# The child: what SCF does on a cold instance: import the handler module, call it (twice: cold, warm).
INVOKE_CHILD = (
    PEAK
    + """
import json, sys, time
t0 = time.perf_counter()
from handlers.timer import main_handler
t1 = time.perf_counter()
imported = set(sys.modules)
event = json.load(open("events/timer.json", encoding="utf-8"))
context = json.load(open("events/context.json", encoding="utf-8"))
result = main_handler(event, context)
t2 = time.perf_counter()
lazy = [m for m in sys.modules if m not in imported]  # in the order they were imported
warm = main_handler(event, context) if sys.argv[1] == "twice" else None
t3 = time.perf_counter()
print(json.dumps({
    "import_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1) * 1000, "warm_ms": (t3 - t2) * 1000,
    "lazy": lazy, "evaluations": len(result["evaluations"]), "errors": result["errors"],
    "sent": sum(1 for d in result["notifications"] if d["outcome"] == "sent"),
    "warm_sent": None if warm is None else sum(1 for d in warm["notifications"] if d["outcome"] == "sent"),
    "peak_mb": peak_mb(),
}))
"""
)


@dataclass(frozen=True)
class Pyc:
    """Where the children look for byte code: ``compiled`` has it all, ``packaged`` only the stdlib's."""

    compiled: Path
    packaged: Path


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    drop = ("BUDGET_", "TENCENTCLOUD_", "TCCLI_", "PYTHONPROFILEIMPORTTIME", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "x"  # as SCF: a child never adds byte code, so each mode stays as set up
    env.update(extra or {})
    return env


def _child(args: list[str], env: dict[str, str], pyc: Path) -> tuple[dict[str, Any], float, float]:
    """Run ``python args...`` in ROOT; returns (its last stdout line as JSON, wall seconds, its peak RSS in MB)."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", f"pycache_prefix={pyc}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {proc.stderr[-2000:]}")
    doc: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return doc, wall, float(doc["peak_mb"])


def _mirror(prefix: Path, source_dir: str) -> Path:
    return prefix / Path(source_dir).resolve().relative_to("/")


@contextmanager
def byte_code() -> Iterator[Pyc]:
    """Fill a private byte-code tree by running everything once, then copy it without our code and deps."""
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as tmp:
        pyc = Pyc(Path(tmp) / "compiled", Path(tmp) / "packaged")
        writing = _clean_env()
        del writing["PYTHONDONTWRITEBYTECODE"]
        _child(["-c", IMPORT_CHILD, f"{OURS}\n{SDK}"], writing, pyc.compiled)
        config = Path(tmp) / "budgets-10.yaml"
        config.write_text(CONFIG_10, encoding="utf-8")
        with Sandbox(live_scenario(datetime.now(timezone.utc))) as sandbox, Receiver() as receiver:
            for i, source in enumerate((ROOT / "budgets.yaml", config)):
                env = _invoke_env(sandbox, receiver, f"{tmp}/state-{i}", str(source))
                del env["PYTHONDONTWRITEBYTECODE"]
                _child(["-c", INVOKE_CHILD, "once"], env, pyc.compiled)
        shutil.copytree(pyc.compiled, pyc.packaged)
        for tree in (str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]):
            shutil.rmtree(_mirror(pyc.packaged, tree), ignore_errors=True)
        yield pyc


def _import_rows(pyc: Pyc) -> tuple[list[dict[str, Any]], dict[str, float]]:
    env = _clean_env()
    rows: list[dict[str, Any]] = []
    sdk_ms: dict[str, float] = {}
    for mode, where in (("compiled", pyc.compiled), ("as packaged", pyc.packaged)):
        inside: dict[str, list[float]] = {"ours": [], "sdk": []}
        whole: dict[str, list[float]] = {"ours": [], "sdk": []}
        rss: dict[str, list[float]] = {"ours": [], "sdk": []}
        modules: dict[str, int] = {}
        for _ in range(REPEATS):  # interleaved, so drift on the machine hits both alike
            for key, statement in (("ours", OURS), ("sdk", SDK)):
                doc, wall, peak = _child(["-c", IMPORT_CHILD, statement], env, where)
                inside[key].append(doc["import_ms"])
                whole[key].append(wall * 1000)
                rss[key].append(peak)
                modules[key] = doc["modules"]
        o, s = statistics.median(inside["ours"]), statistics.median(inside["sdk"])
        wo, ws = statistics.median(whole["ours"]), statistics.median(whole["sdk"])
        sdk_ms[mode] = s
        rows += [
            {
                "name": f"cold import handlers.timer+api vs SDK teo+billing clients, {mode} (median of {REPEATS})",
                "value": o,
                "unit": "ms",
                "baseline": s,
                "ratio": o / s,
                "goal": "<= 0.7x",
                "ok": o / s <= 0.7,
            },
            {
                "name": f"  same, whole process: interpreter start + import, {mode}",
                "value": wo,
                "unit": "ms",
                "baseline": ws,
                "ratio": wo / ws,
                "goal": "<= 0.7x",
                "ok": wo / ws <= 0.7,
            },
        ]
        if mode == "compiled":
            ro, rs = statistics.median(rss["ours"]), statistics.median(rss["sdk"])
            rows.append(
                {
                    "name": f"  same, peak RSS ({modules['ours']} vs {modules['sdk']} modules loaded)",
                    "value": ro,
                    "unit": "MB",
                    "baseline": rs,
                    "ratio": ro / rs,
                    "goal": None,
                    "ok": None,
                }
            )
    return rows, sdk_ms


def live_scenario(now: datetime) -> dict[str, Any]:
    """Three zones on plans, hosts, regions, proxies, six metrics and priced products; data clock at ``now``."""
    now = now.astimezone(timezone(timedelta(hours=8))).replace(microsecond=0)
    start = now - timedelta(days=60)
    plan = {
        "area": "global",
        "pay_mode": 1,
        "enabled": start.isoformat(),
        "expires": (now + timedelta(days=365)).isoformat(),
    }
    web = {
        "daily": [
            0.5,
            0.4,
            0.3,
            0.3,
            0.3,
            0.4,
            0.6,
            0.9,
            1,
            1,
            1.1,
            1.1,
            1.2,
            1.1,
            1,
            1,
            1.1,
            1.2,
            1.4,
            1.6,
            1.7,
            1.6,
            1.2,
            0.8,
        ]
    }
    zones = []
    for i, (daily, hosts) in enumerate([("900 GB", 4), ("300 GB", 3), ("60 GB", 2)]):
        zid = f"zone-bench{i:04d}"
        zones.append(
            {
                "id": zid,
                "name": f"site{i}.example.com",
                "plan": f"edgeone-bench{i:04d}",
                "created": start.isoformat(),
                "regions": {"CH": 70, "AS1": 15, "NA": 10, "EU": 5},
                "hosts": {f"h{h}.site{i}.example.com": 10 * (h + 1) for h in range(hosts)},
                "proxies": {f"sid-bench{i}{p}": 50 for p in range(2)},
                "usage": {
                    "acc_flux": {"daily": daily, "pattern": "web", "growth": 0.01, "noise": 0.15},
                    "smt_flux": {"daily": "20 GB", "pattern": "web", "noise": 0.1},
                    "sec_request_clean": {"daily": "8M", "pattern": "web", "noise": 0.2},
                    "l4_flux": {"daily": "50 GB", "noise": 0.2},
                    "edgefunction_request": {"daily": "2M", "pattern": "web", "noise": 0.1},
                },
            }
        )
    return {
        "version": 1,
        "name": "bench-10-budgets",
        "timezone": "Asia/Shanghai",
        "epoch": start.isoformat(),
        "clock": {"now": now.isoformat()},
        "patterns": {"web": web},
        "plans": [
            {
                "id": f"edgeone-bench{i:04d}",
                "type": "plan-enterprise",
                **plan,
                "capacity": {"AccTrafficCapacity": "10 TB"},
            }
            for i in range(3)
        ],
        "zones": zones,
        "billing": {
            "currency": "CNY",
            "as_of": (now.replace(minute=0, second=0) - timedelta(days=2)).isoformat(),
            "cash": 3000,
            "products": [
                {
                    "code": "p_teo",
                    "name": "EdgeOne",
                    "pay_mode": "postPay",
                    "prices": {"acc_flux": {"per": "1 GB", "yuan": 0.5}},
                },
                {"code": "p_cvm", "name": "CVM", "pay_mode": "postPay", "daily": 36},
            ],
        },
    }


CONFIG_10 = """
timezone: Asia/Shanghai
language: en
channels:
  ops:     {type: wecom,    url: "${WECOM_URL}"}
  finance: {type: dingtalk, url: "${DINGTALK_URL}", secret: "${DINGTALK_SECRET}"}
  lark:    {type: feishu,   url: "${FEISHU_URL}", secret: "${FEISHU_SECRET}"}
  chat:    {type: slack,    url: "${SLACK_URL}"}
  audit:   {type: webhook,  url: "${WEBHOOK_URL}", secret: "${WEBHOOK_SECRET}"}
budgets:
  - {name: traffic-by-zone, source: teo, metric: acc_flux, group_by: [zone-id], limit: plan,
     thresholds: [1, 50, 80, 100], forecast: true, channels: [ops, audit]}
  - {name: traffic-by-host, source: teo, metric: acc_flux, group_by: [host], period: day, limit: 50GB,
     thresholds: [10, 80, 100], channels: [lark]}
  - {name: traffic-by-region, source: teo, metric: acc_flux, group_by: [region-id], limit: 5TB,
     thresholds: [5, 50, 100], channels: [chat]}
  - {name: bandwidth-peak, source: teo, metric: acc_bandwidth, group_by: [zone-id], period: day, limit: 1Gbps,
     thresholds: [10, 80], channels: [ops]}
  - {name: smart-traffic, source: teo, metric: smt_flux, zones: [zone-bench0000], limit: 1TB,
     thresholds: [10, 80, 100], channels: [audit]}
  - {name: security-requests, source: teo, metric: sec_request_clean, group_by: [zone-id, host], period: day,
     limit: 5M, thresholds: [10, 100], channels: [ops]}
  - {name: l4-traffic, source: teo, metric: l4_flux, group_by: [proxy-id], limit: 3TB, thresholds: [5, 80],
     channels: [audit]}
  - {name: edge-functions, source: teo, metric: edgefunction_request, limit: 100M, thresholds: [1, 80],
     channels: [chat]}
  - {name: monthly-spend, source: billing, metric: cost, limit: 5000, thresholds: [1, 80, 100], forecast: true,
     channels: [finance]}
  - {name: low-balance, source: billing, metric: balance, below: 100000, repeat: 24h, channels: [finance, audit]}
"""


def _invoke_env(sandbox: Any, receiver: Any, state_dir: str, config: str) -> dict[str, str]:
    from sandbox.demo import demo_environment

    env = demo_environment(sandbox.url, receiver, state_dir)
    env.update(
        BUDGET_CONFIG=config,
        TENCENTCLOUD_SECRETID=sandbox.secret_id,
        TENCENTCLOUD_SECRETKEY=sandbox.secret_key,
        HOME=state_dir,  # no tccli profile of the machine
    )
    return _clean_env(env)


def _first_invocation_rows(pyc: Pyc, sdk_ms: dict[str, float]) -> list[dict[str, Any]]:
    """SCF's first invocation on a cold instance, with the example budgets.yaml (3 budgets)."""
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    modes = {"compiled": pyc.compiled, "as packaged": pyc.packaged}
    firsts: dict[str, list[float]] = {mode: [] for mode in modes}
    warms: list[float] = []
    lazy: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp,
        Sandbox(live_scenario(datetime.now(timezone.utc))) as sandbox,
        Receiver() as receiver,
    ):
        for i in range(REPEATS):  # modes interleaved, so drift on the machine hits both alike
            for mode, where in modes.items():
                env = _invoke_env(sandbox, receiver, f"{tmp}/{i}-{mode}", str(ROOT / "budgets.yaml"))
                doc, _, _ = _child(["-c", INVOKE_CHILD, "twice"], env, where)
                if doc["errors"] or not doc["sent"] or doc["warm_sent"]:
                    raise RuntimeError(f"the first invocation did not go as expected: {doc}")
                firsts[mode].append(doc["import_ms"] + doc["first_ms"])
                warms.append(doc["warm_ms"])
                lazy = doc["lazy"]
    rows: list[dict[str, Any]] = []
    for mode, where in modes.items():
        first = statistics.median(firsts[mode])
        lazy_ms = _lazy_import_ms(lazy, where)
        rows += [
            {
                "name": f"import + first timer invocation (3 budgets, sandbox) vs SDK import, {mode}",
                "value": first,
                "unit": "ms",
                "baseline": sdk_ms[mode],
                "ratio": first / sdk_ms[mode],
                "goal": None,
                "ok": None,
            },
            {
                "name": f"  of which the imports the first invocation adds ({len(lazy)} modules), {mode}",
                "value": lazy_ms,
                "unit": "ms",
                "baseline": sdk_ms[mode],
                "ratio": lazy_ms / sdk_ms[mode],
                "goal": None,
                "ok": None,
            },
        ]
    rows.append(
        {
            "name": "warm invocation (same instance, nothing new to send)",
            "value": statistics.median(warms),
            "unit": "ms",
            "baseline": None,
            "ratio": None,
            "goal": None,
            "ok": None,
        }
    )
    return rows


def _ten_budget_rows(pyc: Pyc) -> list[dict[str, Any]]:
    """A whole timer run with 10 budgets in a fresh interpreter, fresh state each time (so it sends)."""
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    walls, peaks, evaluations, sent = [], [], 0, 0
    with (
        tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp,
        Sandbox(live_scenario(datetime.now(timezone.utc))) as sandbox,
        Receiver() as receiver,
    ):
        config = Path(tmp) / "budgets-10.yaml"
        config.write_text(CONFIG_10, encoding="utf-8")
        for i in range(RUN_REPEATS):
            env = _invoke_env(sandbox, receiver, f"{tmp}/run-{i}", str(config))
            doc, wall, peak = _child(["-c", INVOKE_CHILD, "once"], env, pyc.packaged)
            if doc["errors"] or not doc["sent"]:
                raise RuntimeError(f"the 10-budget run did not go as expected: {doc}")
            walls.append(wall * 1000)
            peaks.append(peak)
            evaluations, sent = doc["evaluations"], doc["sent"]
    _, _, sdk_rss = _child(["-c", IMPORT_CHILD, SDK], _clean_env(), pyc.packaged)
    peak = max(peaks)
    wall = statistics.median(walls)
    return [
        {
            "name": (
                f"10-budget timer run, fresh process, as packaged ({evaluations} evaluations, {sent} sent; "
                f"median of {RUN_REPEATS})"
            ),
            "value": wall,
            "unit": "ms",
            "baseline": None,
            "ratio": None,
            "goal": "< 120000 (timeout)",
            "ok": wall < 120_000,
        },
        {
            "name": "10-budget timer run, peak RSS of the child (max) vs a process that imports the SDK clients",
            "value": peak,
            "unit": "MB",
            "baseline": sdk_rss,
            "ratio": peak / sdk_rss,
            "goal": f"< {MEMORY_MB} MB",
            "ok": peak < MEMORY_MB,
        },
    ]


def _lazy_import_ms(modules: list[str], pyc: Path) -> float:
    """Import, in a fresh interpreter after the handlers, what the first invocation imported (median)."""
    statement = (
        f"{OURS}\nimport importlib\nfor name in {modules!r}:\n"
        "    try:\n        importlib.import_module(name)\n    except ImportError:\n        pass  # an alias entry"
    )
    env = _clean_env()
    differences = []
    for _ in range(5):  # pairs, so drift on the machine hits both alike
        ours = float(_child(["-c", IMPORT_CHILD, OURS], env, pyc)[0]["import_ms"])
        both = float(_child(["-c", IMPORT_CHILD, statement], env, pyc)[0]["import_ms"])
        differences.append(both - ours)
    return max(0.0, statistics.median(differences))


def run() -> list[dict[str, Any]]:
    with byte_code() as pyc:
        rows, sdk_ms = _import_rows(pyc)
        return rows + _first_invocation_rows(pyc, sdk_ms) + _ten_budget_rows(pyc)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import table

    print(table(run()))
