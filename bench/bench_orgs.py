"""Organizations: 200 members x (2 EdgeOne budgets + 1 cost budget), one tick fanned out over SCF vs one process.

Both runs are the deployed timer handler in the sandbox's SCF, each invocation a process of its own
(``bench_timer.main_handler`` wraps the product's handler and adds its peak RSS to the result):

- one process: ``BUDGET_FANOUT_FUNCTION`` unset, every member collected in that invocation;
- fan-out: the function fans out to itself in shards of ``SHARD`` members (Invoke ``Event``), wall
  time from the tick until the last shard worker has finished.

Every EdgeOne and billing request carries ``LATENCY`` seconds of sandbox latency (an API call from SCF
in the same region), so the bounds are the product's, not the sandbox's single-core speed. The bound
set by per-account rate limits: one member's requests under its own limits (``limit_for``) plus one
round trip per dependent step (AssumeRole, then its requests), the best any schedule can do when every
account runs at once; the same work under ONE shared limit (a limiter not keyed by account) is shown
for comparison. AssumeRole calls per tick are counted by the sandbox's STS.
"""

from __future__ import annotations

import base64
import json
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

MEMBERS = 200
SHARD = 25
LATENCY = 0.05  # seconds the sandbox adds to each teo and billing request
ROLE = "OrganizationAccessControlRole"
FUNCTION_ONE, FUNCTION_FAN = "orgs-one-process", "orgs-fanout"
FUNCTION_COORDINATOR, FUNCTION_NOOP = "orgs-coordinator", "orgs-noop"  # a coordinator whose shards do nothing
CST = timezone(timedelta(hours=8))
WRAPPER = '''"""Benchmark entry: the product's timer handler, plus this invocation's peak RSS."""

from bench_rss import peak_rss_mb
from handlers.timer import main_handler as product


def main_handler(event, context):
    result = product(event, context)
    result["peak_rss_mb"] = peak_rss_mb()
    return result
'''


def scenario(now: datetime) -> dict[str, Any]:
    start = now - timedelta(days=400)
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    latency = [{"product": p, "action": "*", "latency": LATENCY} for p in ("teo", "billing")]
    return {
        "version": 1,
        "name": "orgs-bench",
        "timezone": "Asia/Shanghai",
        "epoch": start.isoformat(),
        "clock": {"now": now.isoformat()},
        "plans": [{"id": "edgeone-bench", "capacity": {"AccTrafficCapacity": "10 TB"}}],
        "zones": [
            {
                "id": "zone-bench1",
                "name": "a.example.com",
                "plan": "edgeone-bench",
                "hosts": {"a.example.com": 1},
                "usage": {"acc_flux": {"daily": 10**9}},
            },
        ],
        "billing": {
            "as_of": (month - timedelta(days=1)).isoformat(),
            "cash": "100000.00",
            "products": [{"code": "p_cvm", "name": "CVM", "daily": "36.00"}],
        },
        "organization": {"members": [{"uin": 300_000_000_000 + k, "name": f"m{k:03d}"} for k in range(1, MEMBERS + 1)]},
        "faults": latency,
    }


def config() -> dict[str, Any]:
    hook = {"hook": {"type": "webhook", "url": "https://example.com/never-called"}}
    every: dict[str, Any] = {"channels": ["hook"], "accounts": ["*"], "period": "month"}
    return {
        "timezone": "Asia/Shanghai",
        "channels": hook,
        "accounts": {"organization": True, "role": ROLE},
        "budgets": [
            {"name": "traffic", "source": "teo", "metric": "acc_flux", "limit": "1PB", **every},
            {"name": "zone-traffic", "source": "teo", "metric": "acc_flux", "group_by": ["zone-id"], "limit": "1PB",
             **every},
            {"name": "spend", "source": "billing", "metric": "cost", "limit": 10**9, **every},
        ],
    }  # fmt: skip


def _package(folder: Path) -> str:
    import yaml

    from lib.deploy.package import build, zip_bytes

    out = build(folder / "package", wheels=False)  # the sandbox runs it with this machine's Python
    (out / "bench_timer.py").write_text(WRAPPER, encoding="utf-8")
    (out / "bench_rss.py").write_text((Path(__file__).parent / "children.py").read_text(encoding="utf-8"))
    (out / "budgets.yaml").write_text(yaml.safe_dump(config()), encoding="utf-8")
    return base64.b64encode(zip_bytes(out)).decode("ascii")


def _noop_code() -> str:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("noop.py", "def main_handler(event, context):\n    return {}\n")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _create(client: Any, name: str, code: str, env: dict[str, str], handler: str = "bench_timer.main_handler") -> None:
    variables = [{"Key": k, "Value": v} for k, v in env.items()]
    client.call("scf", "2018-04-16", "CreateFunction", {
        "FunctionName": name, "Handler": handler, "Runtime": "Python3.10", "MemorySize": 128,
        "Timeout": 900, "Code": {"ZipFile": code}, "Environment": {"Variables": variables},
    })  # fmt: skip
    while client.call("scf", "2018-04-16", "GetFunction", {"FunctionName": name})["Status"] != "Active":
        time.sleep(0.1)


def _tick(client: Any, name: str, at: datetime) -> dict[str, Any]:
    event = {"Type": "Timer", "TriggerName": "tick", "Time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "Message": ""}
    params = {"FunctionName": name, "InvocationType": "RequestResponse", "ClientContext": json.dumps(event)}
    result = client.call("scf", "2018-04-16", "Invoke", params)["Result"]
    if result["InvokeResult"] != 0:
        raise RuntimeError(f"{name} failed: {result['ErrMsg'][:2000]}")
    doc: dict[str, Any] = json.loads(result["RetMsg"])
    return doc


def _shards(tick: datetime) -> list[Any]:
    """The shards the coordinator made (the split is deterministic: members in uin order, ``SHARD`` a shard)."""
    from lib.app.fanout import split, tick_of
    from lib.sources.members import Account

    members = [Account(str(300_000_000_000 + k), f"m{k:03d}", ROLE) for k in range(1, MEMBERS + 1)]
    return split(tick_of({"Time": tick.strftime("%Y-%m-%dT%H:%M:%SZ")}, tick), members, SHARD)


def _invoke_shard(client: Any, shard: Any) -> dict[str, Any]:
    params = {
        "FunctionName": FUNCTION_FAN,
        "InvocationType": "RequestResponse",
        "ClientContext": json.dumps(shard.event()),
    }
    result = client.call("scf", "2018-04-16", "Invoke", params)["Result"]
    if result["InvokeResult"] != 0:
        raise RuntimeError(f"shard {shard.index} failed: {result['ErrMsg'][:2000]}")
    doc: dict[str, Any] = json.loads(result["RetMsg"])
    return doc


def bounds() -> tuple[float, float, float, float]:
    """(bound by per-account limits, by the admin's AssumeRole limit, under one shared limit, requests a member).

    Per-account limits let every member run at once; what remains is one member's requests under its own
    limits, and the admin account's own AssumeRole limit across all members (it assumes every role).
    """
    from lib.client.ratelimit import RateLimiter
    from lib.config.models import Config
    from lib.periods import zone
    from lib.sources import SOURCES

    parsed = Config.model_validate({**config(), "budgets": config()["budgets"]})
    now = datetime.now(CST)
    per_action: dict[tuple[str, str], int] = {}
    for name, source in SOURCES.items():
        mine = [b for b in parsed.budgets if b.source == name]
        for call in source.plan(mine, now, zone("Asia/Shanghai")) if mine else ():
            per_action[(call.service, call.action)] = per_action.get((call.service, call.action), 0) + 1
    limiter = RateLimiter()
    own = max(n / limiter.limit_for(s, a) for (s, a), n in per_action.items())
    assume = MEMBERS / limiter.limit_for("sts", "AssumeRole")  # every role, from the admin account
    shared = max(MEMBERS * n / limiter.limit_for(s, a) for (s, a), n in per_action.items())
    steps = 2 * LATENCY  # AssumeRole, then the member's requests (sent together)
    return own + steps, assume + LATENCY, shared + steps, float(sum(per_action.values()))


def run() -> list[dict[str, Any]]:
    from lib.client import ApiClient, Credentials
    from lib.client.retry import RetryPolicy
    from sandbox.server import Sandbox

    now = datetime.now(CST).replace(second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as tmp, Sandbox(scenario(now)) as sb:
        folder = Path(tmp)
        code = _package(folder)
        client = ApiClient(
            Credentials(sb.secret_id, sb.secret_key), endpoint=sb.url, timeout=(5.0, 900.0),
            retry=RetryPolicy(attempts=1, deadline=900.0),
        )  # fmt: skip
        common = {"BUDGET_CONFIG": "budgets.yaml", "BUDGET_API_ENDPOINT": sb.url}
        _create(client, FUNCTION_ONE, code, {**common, "BUDGET_STATE": f"file://{folder / 'one'}"})
        fan_env = {**common, "BUDGET_STATE": f"file://{folder / 'fan'}", "BUDGET_FANOUT_FUNCTION": FUNCTION_FAN,
                   "BUDGET_SHARD_SIZE": str(SHARD)}  # fmt: skip
        _create(client, FUNCTION_FAN, code, fan_env)
        _create(client, FUNCTION_NOOP, _noop_code(), {"UNUSED": "1"}, handler="noop.main_handler")
        coordinator_env = {**fan_env, "BUDGET_STATE": f"file://{folder / 'coordinator'}",
                           "BUDGET_FANOUT_FUNCTION": FUNCTION_NOOP}  # fmt: skip
        _create(client, FUNCTION_COORDINATOR, code, coordinator_env)
        tick = now.astimezone(timezone.utc)

        sessions = len(sb.app.sts.sessions)
        started = time.perf_counter()
        one = _tick(client, FUNCTION_ONE, tick)
        one_wall = time.perf_counter() - started
        one_assumed = len(sb.app.sts.sessions) - sessions

        sessions = len(sb.app.sts.sessions)
        started = time.perf_counter()
        coordinator = _tick(client, FUNCTION_FAN, tick)
        sb.app.scf.wait_async(timeout=900)
        fan_wall = time.perf_counter() - started
        fan_assumed = len(sb.app.sts.sessions) - sessions
        workers = [r.outcome.result for r in sb.app.scf.async_records if r.outcome.ok]

        # The same coordinator and shards again, one at a time, as SCF runs them: each on an instance of
        # its own. This machine's two shared cores cannot host 8 workers at once without each slowing
        # the others down (and the coordinator's own run, which overlaps them).
        sb.app.scf.wait_async(timeout=60)
        started = time.perf_counter()
        _tick(client, FUNCTION_COORDINATOR, tick)
        coordinator_wall = time.perf_counter() - started
        alone = []
        for shard in _shards(tick):
            started = time.perf_counter()
            _invoke_shard(client, shard)
            alone.append(time.perf_counter() - started)
        client.close()

    per_account, assume, shared, requests = bounds()
    bound = max(per_account, assume)  # cold keys: every role assumed this tick
    values_one = {(e["budget"], e["group"].get("account")): e["value"] for e in one["evaluations"]}
    values_fan = {(e["budget"], e["group"].get("account")): e["value"] for w in workers for e in w["evaluations"]}
    agree = values_one == values_fan and len(values_one) == 3 * MEMBERS
    errors = len(one["errors"]) + sum(len(w["errors"]) for w in workers) + len(coordinator["errors"])
    rss = max([one["peak_rss_mb"], coordinator["peak_rss_mb"], *(w["peak_rss_mb"] for w in workers)])
    shards = len(coordinator.get("shards", []))
    return [
        {"name": f"tick, {MEMBERS} members, one process", "value": one_wall, "unit": "s", "baseline": bound,
         "ratio": one_wall / bound, "goal": "< 120 s SCF timeout", "ok": one_wall < 120 and agree},
        {"name": f"tick, fan-out in {shards} shards of {SHARD}, all on this machine", "value": fan_wall, "unit": "s",
         "baseline": one_wall, "ratio": fan_wall / one_wall, "goal": "every shard done, values agree",
         "ok": len(workers) == shards and agree},
        {"name": "fan-out on SCF: coordinator + slowest shard alone", "value": coordinator_wall + max(alone),
         "unit": "s", "baseline": one_wall, "ratio": (coordinator_wall + max(alone)) / one_wall,
         "goal": "faster than one process", "ok": coordinator_wall + max(alone) < one_wall},
        {"name": "bound: every member at once under its own limits", "value": per_account, "unit": "s",
         "goal": f"{requests:.0f} requests a member"},
        {"name": "bound: the admin's AssumeRole limit, cold keys", "value": assume, "unit": "s",
         "goal": f"{MEMBERS} roles at 20/s; warm keys skip it"},
        {"name": "bound: one limit shared by all accounts", "value": shared, "unit": "s",
         "goal": "what keying by account avoids"},
        {"name": "peak RSS of any invocation", "value": rss, "unit": "MB", "goal": "< 128 MB", "ok": rss < 128},
        {"name": "AssumeRole calls a tick, one process", "value": one_assumed, "unit": "calls",
         "goal": f"<= {MEMBERS} (one a member)", "ok": one_assumed <= MEMBERS},
        {"name": "AssumeRole calls a tick, fan-out", "value": fan_assumed, "unit": "calls",
         "goal": f"<= {MEMBERS} (one a member)", "ok": fan_assumed <= MEMBERS},
        {"name": "errors in both ticks", "value": errors, "unit": "", "goal": "0", "ok": errors == 0 and agree},
    ]  # fmt: skip


if __name__ == "__main__":
    for row in run():
        print(row)
