"""CDN benchmark: 300 domains x 2 areas x 1 metric (flux), month to date, against the sandbox with 50 ms latency.

The sandbox runs in this process; each collector runs in a child process (no shared GIL with the
server). Measured in the same run:

- ours: ``lib.sources.collect`` over one ``source: cdn`` budget of 300 listed domains, ``area: all``,
  grouped by domain, with the client as the product builds it (20/s per action, sent at 95 %);
- baseline: a straightforward sequential loop over the official SDK's ``CdnClient`` fetching the same
  data (the same 600 requests), summing per domain.

Rows: requests sent (goal: the lower bound for the API's limits: ``DescribeBillingData`` takes one
``Domain`` and one ``Area`` a request and a month fits one 90-day window, so 300 x 2 = 600), wall time
(goal: within 1.3x of the bound 600/20 s + 50 ms), RequestLimitExceeded answers (goal 0), peak RSS,
and the speed-up over the SDK loop; both collectors' per-domain totals are checked to agree. 20 of the
300 domains carry traffic: the sandbox computes usage in pure Python and would otherwise set the pace.

Run: ``python -m bench.bench_cdn`` (or ``python -m bench cdn``).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.children import peak_rss_mb, sdk_call

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = [f"d{i:03d}.bench.example.com" for i in range(300)]
AREAS = ("mainland", "overseas")
LATENCY = 0.050
RATE = 20.0
NOW = "2026-11-28T10:00:00+08:00"
ACTIVE = 20
REPEATS = 2


def scenario() -> dict[str, Any]:
    domains: list[dict[str, Any]] = []
    for i, name in enumerate(DOMAINS):
        domain: dict[str, Any] = {"domain": name, "area": "global", "created": "2026-10-01T00:00:00+08:00"}
        if i < ACTIVE:
            domain["areas"] = {"mainland": 3, "overseas": 1}
            domain["usage"] = {"flux": {"daily": f"{10 + i} GB", "noise": "0.2"}}
        domains.append(domain)
    return {
        "name": "bench-cdn",
        "timezone": "Asia/Shanghai",
        "clock": {"now": NOW},
        "cdn": {"domains": domains},
        "faults": [{"product": "cdn", "action": "DescribeBillingData", "latency": f"{int(LATENCY * 1000)}ms"}],
    }


def sdk_params() -> list[dict[str, Any]]:
    """The 600 requests, as a hand-written loop would send them."""
    return [
        {
            "StartTime": "2026-11-01 00:00:00",
            "EndTime": NOW[:19].replace("T", " "),
            "Interval": "hour",
            "Metric": "flux",
            "Domain": name,
            "Area": area,
            "TimeZone": "UTC+08:00",
        }
        for name in DOMAINS
        for area in AREAS
    ]


def child_ours(url: str, secret_id: str, secret_key: str) -> dict[str, Any]:
    from datetime import datetime

    import requests

    from lib.client import ApiClient, Credentials
    from lib.config.models import Config
    from lib.sources import collect

    counts = {"requests": 0, "limited": 0}

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        counts["requests"] += 1
        if b"RequestLimitExceeded" in response.content:
            counts["limited"] += 1

    budget = {"name": "cdn", "source": "cdn", "metric": "flux", "domains": DOMAINS, "group_by": ["domain"]}
    config = Config.model_validate({"timezone": "Asia/Shanghai", "budgets": [{**budget, "limit": "1PB"}]})
    session = requests.Session()
    session.hooks["response"].append(hook)
    with ApiClient(Credentials(secret_id, secret_key), endpoint=url, session=session) as client:
        started = time.perf_counter()
        found = collect(config, client, datetime.fromisoformat(NOW))
        wall = time.perf_counter() - started
    session.close()
    return {
        "wall": wall,
        "requests": counts["requests"],
        "limited": counts["limited"],
        "errors": sorted({o.error for o in found if o.error}),
        "rss_mb": peak_rss_mb(),
        "flux": {dict(o.group)["domain"]: str(o.value) for o in found},
    }


def child_sdk(url: str, secret_id: str, secret_key: str) -> dict[str, Any]:
    """One CdnClient, one request after another, summing the buckets per domain."""
    from decimal import Decimal

    from tencentcloud.cdn.v20180606 import cdn_client, models
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    host = url.split("://", 1)[1]
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=host))
    client = cdn_client.CdnClient(credential.Credential(secret_id, secret_key), "", profile)
    counts = {"requests": 0, "limited": 0}
    totals: dict[str, Decimal] = {}
    started = time.perf_counter()
    for params in sdk_params():
        request = models.DescribeBillingDataRequest()
        request.from_json_string(json.dumps(params))
        response = sdk_call(client.DescribeBillingData, request, counts)
        for resource in response.Data or []:
            for data in resource.BillingData or []:
                for point in data.DetailData or []:
                    name = params["Domain"]
                    totals[name] = totals.get(name, Decimal(0)) + Decimal(str(point.Value))
    wall = time.perf_counter() - started
    client.request.conn._session.close()
    return {
        "wall": wall,
        "requests": counts["requests"],
        "limited": counts["limited"],
        "rss_mb": peak_rss_mb(),
        "flux": {d: str(v) for d, v in totals.items()},
    }


def _run_child(kind: str, url: str, secret_id: str, secret_key: str) -> dict[str, Any]:
    time.sleep(1.2)  # let the sandbox's one-second window of the previous run drain
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_cdn", "--child", kind, url, secret_id, secret_key],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed ({out.returncode}): {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run() -> list[dict[str, Any]]:
    import yaml

    from sandbox.server import Sandbox

    lower_bound = len(DOMAINS) * len(AREAS)
    bound = lower_bound / RATE + LATENCY
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(scenario()), encoding="utf-8")
        with Sandbox(path) as sb:
            args = (sb.url, sb.secret_id, sb.secret_key)
            ours = [_run_child("ours", *args) for _ in range(REPEATS)]
            sdk = _run_child("sdk", *args)
    wall = statistics.median(r["wall"] for r in ours)
    agree = all(
        {d: float(v) for d, v in r["flux"].items()} == {d: float(v) for d, v in sdk["flux"].items()} for r in ours
    )
    errors = sorted({e for r in ours for e in r["errors"]})
    limited = sum(r["limited"] for r in ours)
    rss = max(r["rss_mb"] for r in ours)
    return [
        {
            "name": "requests, 300 domains x 2 areas x flux, month",
            "value": max(r["requests"] for r in ours),
            "unit": "requests",
            "baseline": lower_bound,
            "ratio": max(r["requests"] for r in ours) / lower_bound,
            "goal": f"= {lower_bound} (lower bound)",
            "ok": all(r["requests"] - r["limited"] == lower_bound for r in ours),
        },
        {
            "name": f"wall time, per-domain values (median of {REPEATS})",
            "value": wall,
            "unit": "s",
            "baseline": bound,
            "ratio": wall / bound,
            "goal": f"<= 1.3x {bound:.2f} s ({lower_bound}/{RATE:g} per s + {LATENCY * 1000:g} ms)",
            "ok": wall <= 1.3 * bound and not errors,
        },
        {
            "name": f"RequestLimitExceeded answers ({REPEATS} runs)",
            "value": limited,
            "unit": "answers",
            "baseline": None,
            "ratio": None,
            "goal": "0",
            "ok": limited == 0,
        },
        {
            "name": "peak RSS of the collecting process",
            "value": rss,
            "unit": "MB",
            "baseline": sdk["rss_mb"],
            "ratio": rss / sdk["rss_mb"],
            "goal": "< 100 MB",
            "ok": rss < 100,
        },
        {
            "name": "speed-up over a sequential CdnClient loop",
            "value": wall,
            "unit": "s",
            "baseline": sdk["wall"],
            "ratio": sdk["wall"] / wall,
            "goal": "> 1x, same totals",
            "ok": agree and not errors and sdk["wall"] > wall,
        },
    ]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        kind, url, secret_id, secret_key = argv[1:5]
        result = child_ours(url, secret_id, secret_key) if kind == "ours" else child_sdk(url, secret_id, secret_key)
        print(json.dumps(result))
        return 0
    from bench.__main__ import table

    print(table([{"bench": "cdn", **row} for row in run()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
