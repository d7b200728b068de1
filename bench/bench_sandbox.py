"""Sandbox throughput: signed API 3.0 requests per second the local Tencent Cloud sustains.

The sandbox runs as its own process (``python -m sandbox cloud``, the demo scenario with rate limits off
so the measurement is not capped at the documented 20-50 requests/s); a few client threads, each with a
pooled keep-alive ``requests.Session``, sign every request with TC3 (``lib.signing``) and send it.
Measured: DescribeZones and DescribeBillingData (one zone, one day, hourly) with signature checks, and
as the baseline, in the same run, requests the server answers without any signature work (no
Authorization header: the cheapest error). Bounded: at most N requests or SECONDS per measure, each
measure run REPEATS times (interleaved), the best kept.

Run: ``python -m bench.bench_sandbox`` (or ``python -m bench sandbox``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
THREADS = 4
N = 3000
SECONDS = 15.0
REPEATS = 2
GOAL = 500.0
SECRET_ID, SECRET_KEY = "AKIDSANDBOX", "sandbox-secret-key"  # the sandbox's own fixed test credential
BILLING_DATA = {
    "StartTime": "2026-11-21T00:00:00+08:00",
    "EndTime": "2026-11-21T23:59:59+08:00",
    "ZoneIds": ["zone-2qtuhspy7hmq"],
    "MetricName": "acc_flux",
    "Interval": "hour",
}


def _scenario_file(folder: Path) -> Path:
    import yaml

    from sandbox.catalogue import DEFAULT_RATE_LIMITS
    from sandbox.scenario import DEMO_SCENARIO

    data = yaml.safe_load(DEMO_SCENARIO.read_text(encoding="utf-8"))
    data["rate_limits"] = dict.fromkeys(DEFAULT_RATE_LIMITS, 0)
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _start(scenario: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "cloud", "--port", "0", "--scenario", str(scenario)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("sandbox listening on "):
        process.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return process, int(line.rsplit(":", 1)[1])


def _load(port: int, action: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """Send up to N requests from THREADS threads; ``action=None`` sends unsigned ones (the baseline)."""
    import requests

    from lib.signing import tc3_headers

    url = f"http://127.0.0.1:{port}/"
    host = f"127.0.0.1:{port}"
    body = json.dumps(params).encode()
    lock = threading.Lock()
    state = {"sent": 0, "errors": 0}
    latencies: list[float] = []
    deadline = time.perf_counter() + SECONDS
    start_gate = threading.Barrier(THREADS + 1)

    def worker() -> None:
        mine: list[float] = []
        with requests.Session() as session:
            start_gate.wait()
            while True:
                with lock:
                    if state["sent"] >= N or time.perf_counter() > deadline:
                        break
                    state["sent"] += 1
                if action is None:
                    headers = {"Content-Type": "application/json", "Host": host}
                else:
                    headers = tc3_headers(
                        SECRET_ID,
                        SECRET_KEY,
                        service="teo",
                        host=host,
                        action=action,
                        version="2022-09-01",
                        payload=body,
                        timestamp=int(time.time()),
                    )
                began = time.perf_counter()
                reply = session.post(url, data=body, headers=headers, timeout=30)
                mine.append(time.perf_counter() - began)
                failed = reply.status_code != 200 or ("Error" in reply.json()["Response"]) != (action is None)
                if failed:
                    with lock:
                        state["errors"] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "count": len(latencies),
        "errors": state["errors"],
        "p50": latencies[len(latencies) // 2] * 1000 if latencies else None,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000 if latencies else None,
    }


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as folder:
        process, port = _start(_scenario_file(Path(folder)))
        try:
            _load(port, "DescribeBillingData", BILLING_DATA)  # warm the usage caches
            # Interleaved and best of REPEATS, so a busy neighbour on the machine skews all three alike.
            runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "zones": [], "data": []}
            for _ in range(REPEATS):
                runs["baseline"].append(_load(port, None, {}))
                runs["zones"].append(_load(port, "DescribeZones", {}))
                runs["data"].append(_load(port, "DescribeBillingData", BILLING_DATA))
            baseline, zones, data = (max(runs[k], key=lambda r: r["rps"]) for k in ("baseline", "zones", "data"))
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
    rows: list[dict[str, Any]] = []
    for label, measured in (("DescribeZones", zones), ("DescribeBillingData 1 zone, 1 day, hourly", data)):
        rows.append(
            {
                "name": f"signed (TC3) {label}: {THREADS} threads, {measured['count']} requests, "
                f"{measured['errors']} errors",
                "value": measured["rps"],
                "unit": "requests/s",
                "baseline": baseline["rps"],
                "ratio": measured["rps"] / baseline["rps"],
                "goal": f">= {GOAL:.0f}",
                "ok": measured["rps"] >= GOAL and measured["errors"] == 0,
            }
        )
        rows.append(
            {
                "name": f"{label}: latency p50 / p95",
                "value": measured["p50"],
                "unit": f"ms (p95 {measured['p95']:.2f} ms)",
                "baseline": baseline["p50"],
                "ratio": measured["p50"] / baseline["p50"],
                "goal": None,
                "ok": None,
            }
        )
    rows.append(
        {
            "name": f"baseline: unsigned requests answered without signature work ({baseline['count']})",
            "value": baseline["rps"],
            "unit": "requests/s",
            "baseline": None,
            "ratio": None,
            "goal": None,
            "ok": None,
        }
    )
    for row in rows:
        row["bench"] = "sandbox"
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import table

    print(table(run()))
