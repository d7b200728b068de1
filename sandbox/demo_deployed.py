"""The demo's second part: deploy into the sandbox's SCF, then drive the product through its Function URL.

A sandbox on the wall clock (``sandbox.live_scenario``: the deployed timer reads today's date, so the
data must be today's), ``python -m lib deploy``'s own deployer pointed at it, state in the sandbox's COS.
The timer is fired through the sandbox's control endpoint twice (alerts, then nothing new); the API is
asked through the Function URL with ``requests``; then ``undeploy``. Each handler call is a new process.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
STAGE = "demo"
ROLE = "BudgetAlertsScfRole"
STATE_BUCKET, STATE_REGION = "budget-state-1250000000", "ap-guangzhou"
TIMEOUT = 120.0  # one handler run in a fresh process; generous for a loaded machine

Banner = Callable[[str], None]
Echo = Callable[[str, str], None]


def _indented(line: str) -> None:
    print(f"  {line}")


def run_deployed(banner: Banner, echo: Echo, bearer: str) -> list[str]:
    """Deploy, use, undeploy; the expectations that failed (empty when every one held).

    ``echo`` prints what a robot received; ``bearer`` is the token sent to ``GET /status`` (the deployed
    API accepts the demo's token, ``sandbox.demo.DEMO_TOKEN``).
    """
    from lib.client import ApiClient, Credentials
    from lib.deploy.commands import Deployer
    from lib.deploy.package import build
    from lib.deploy.spec import Target
    from lib.errors import BudgetError
    from sandbox.cos import CosService
    from sandbox.demo import demo_environment
    from sandbox.live_scenario import live_scenario, wait_past_month_end
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    wait_past_month_end()  # the data clock and the deployed runs must fall in the same month
    with (
        tempfile.TemporaryDirectory(prefix="budget-demo-deploy-") as tmp,
        Sandbox(live_scenario(datetime.now(timezone.utc))) as sandbox,
        Receiver(echo=echo) as receiver,
    ):
        if not isinstance(sandbox.app.cos, CosService):
            return ["the sandbox was built without COS"]
        sandbox.app.cos.create_bucket(STATE_BUCKET, STATE_REGION)
        # The functions run the package's own copy of lib; they use this machine's Python and its
        # packages, so the SCF wheels (CPython 3.10) are left out.
        package = build(Path(tmp) / "package", wheels=False)
        env = {
            **demo_environment(sandbox.url, receiver, tmp),
            "BUDGET_STATE": f"cos://{STATE_BUCKET}.{STATE_REGION}/budget-state",
            "BUDGET_COS_ENDPOINT": sandbox.url,
            "BUDGET_CONFIG": str(ROOT / "budgets.yaml"),
            "BUDGET_DEPLOY_PACKAGE": str(package),
        }
        client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)
        target = Target(stage=STAGE)
        deployer = Deployer(target, client, env, echo=_indented, poll=0.2)
        banner(
            f"deployed: a sandbox on the wall clock at {sandbox.url} (data clock {sandbox.now.isoformat()}), "
            f"state in its COS bucket {STATE_BUCKET}"
        )
        try:
            banner(f"deploy into the sandbox's SCF (python -m lib deploy --stage {STAGE} --role {ROLE})")
            deployer.deploy(role=ROLE, code_bucket=None, dry_run=False)
            failures, summary = _drive(deployer, sandbox.url, banner, bearer, receiver)
            failures += _undeploy(deployer, banner)
        except (BudgetError, requests.RequestException) as exc:
            return [f"deployed part: {type(exc).__name__}: {exc}"]
        finally:
            client.close()
    print(f"\ndemo: {summary}")
    return failures


def _drive(deployer: Any, sandbox_url: str, banner: Banner, bearer: str, receiver: Any) -> tuple[list[str], str]:
    """The deployed product at work; the failed expectations and a one-line summary."""
    from lib.deploy.commands import function_url

    failures: list[str] = []
    target = deployer.target
    url = (function_url(deployer.scf.list_triggers(target.api_function)) or "").rstrip("/")
    if not url:
        return ["deploy reported no Function URL"], "deployed: no Function URL"
    banner(f"the Function URL {url}/ (each request runs the deployed API handler in a new process)")
    health = requests.get(f"{url}/health", timeout=TIMEOUT)
    print(f"  GET /health -> {health.status_code} {health.text.strip()}")
    if health.status_code != 200:
        failures.append(f"GET /health answered {health.status_code}")

    fire = f"{sandbox_url}/_sandbox/scf/fire"
    params = {"function": target.timer_function, "namespace": target.namespace}
    banner(f"timer #1, fired through POST /_sandbox/scf/fire?function={target.timer_function}: alerts fire")
    first = _fire(fire, params)
    received = len(receiver.received)
    banner("timer #2, fired again: nothing new is sent")
    second = _fire(fire, params)
    sent_first, sent_second = _sent(first), _sent(second)
    if first.get("errors") or not sent_first or not received:
        failures.append("expected alerts on the first fired run")
    if second.get("errors") or sent_second or len(receiver.received) != received:
        failures.append("expected nothing new on the second fired run")

    banner("GET /status through the Function URL, with the bearer token")
    status = requests.get(f"{url}/status", headers={"Authorization": f"Bearer {bearer}"}, timeout=TIMEOUT)
    print(f"  GET /status -> {status.status_code}")
    if status.status_code == 200:
        for line in _status_lines(status.json()):
            _indented(line)
    else:
        failures.append(f"GET /status answered {status.status_code}")
    return failures, f"deployed timer: first run sent {len(sent_first)}, second run sent {len(sent_second)}"


def _fire(endpoint: str, params: Mapping[str, str]) -> dict[str, Any]:
    answer = requests.post(endpoint, params=params, timeout=TIMEOUT)
    if answer.status_code != 200:
        print(f"  the timer failed: {answer.status_code} {answer.text[:500]}")
        return {"errors": [answer.text[:500]], "notifications": [], "evaluations": []}
    doc: dict[str, Any] = answer.json()
    print(result_table(doc))
    return doc


def _undeploy(deployer: Any, banner: Banner) -> list[str]:
    from lib.deploy.commands import function_url

    target = deployer.target
    url = function_url(deployer.scf.list_triggers(target.api_function)) or ""
    banner(f"python -m lib undeploy --stage {STAGE}")
    deployer.undeploy()
    try:
        requests.get(f"{url.rstrip('/')}/health", timeout=5)
    except requests.ConnectionError:
        print(f"  {url} no longer answers")
        return []
    return ["the Function URL still answers after undeploy"]


def _sent(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [n for n in result.get("notifications", []) if n.get("outcome") == "sent"]


def result_table(result: Mapping[str, Any]) -> str:
    """The timer's result document (DESIGN §3.4) as the terminal table of part 1."""
    from decimal import Decimal

    from lib.messages import format_quantity

    def quantity(value: Any, unit: str) -> str:
        return "-" if value is None else format_quantity(Decimal(str(value)), unit, "en")

    rows = [("budget", "group", "value", "limit", "percent", "forecast", "status")]
    for e in result.get("evaluations", []):
        unit = str(e.get("unit") or "")
        rows.append(
            (
                str(e.get("budget")),
                ",".join(f"{k}={v}" for k, v in (e.get("group") or {}).items()) or "-",
                quantity(e.get("value"), unit),
                quantity(e.get("limit"), unit),
                "-" if e.get("percent") is None else f"{e['percent']:.1f}%",
                quantity(e.get("forecast"), unit),
                str(e.get("status")),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notifications = result.get("notifications", [])
    sent = len(_sent(result))
    lines.append(
        f"\nrun {result.get('run_id')} at {result.get('at')}: {sent} sent, "
        f"{len(notifications) - sent} other deliveries, {len(result.get('errors', []))} errors"
    )
    lines.extend(f"  error: {err}" for err in result.get("errors", []))
    return "\n".join(lines)


def _status_lines(status: Mapping[str, Any]) -> list[str]:
    """What ``GET /status`` says is firing and which runs it knows, one line each."""
    lines = []
    for e in status.get("firing", []):
        group = ",".join(f"{k}={v}" for k, v in (e.get("group") or {}).items()) or "-"
        level = "" if e.get("level") is None else f", level {e['level']}"
        lines.append(f"firing: {e.get('budget')} {group} ({e.get('kind')}{level})")
    for r in status.get("runs", []):
        deliveries = ", ".join(f"{n} {outcome}" for outcome, n in (r.get("deliveries") or {}).items()) or "none"
        lines.append(f"run: {r.get('run_id')} at {r.get('at')} ({r.get('trigger')}), deliveries: {deliveries}")
    failed = status.get("failed_deliveries", [])
    lines.append(f"failed deliveries: {len(failed)}")
    return lines
