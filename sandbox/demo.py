"""``python -m sandbox demo``: the whole product offline — sandbox, local state, a webhook receiver.

Part 1, in-process against demo.yaml's fixed clock: runs a check (alerts fire), runs it again (nothing
new is sent), then shows the status endpoint. Part 2 (``sandbox.demo_deployed``): deploys into the
sandbox's SCF and does the same through the deployed functions and their Function URL. Part 3
(``sandbox.demo_actions``): traffic crosses 100 %; one site is paused automatically, one waits for approval.
No credentials and no network: everything listens on 127.0.0.1 and stops at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO_TOKEN = "demo-token-for-the-local-demo"  # noqa: S105 - a local demo token, not a secret


def _banner(text: str) -> None:
    print(f"\n=== {text}")


def _print_received(channel: str, text: str) -> None:
    print(f"  [receiver:{channel}] {text}")


def main(args: argparse.Namespace | None = None) -> int:
    from lib.app.report import status_table
    from lib.app.runtime import App
    from lib.client import ApiClient, Credentials
    from sandbox.demo_actions import run_actions_demo
    from sandbox.demo_dashboard import write_dashboard
    from sandbox.demo_deployed import run_deployed
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    # The demo shows what the robots receive; per-request progress lines would bury it.
    logging.getLogger("lib").setLevel(logging.WARNING)

    with (
        tempfile.TemporaryDirectory(prefix="budget-demo-") as state_dir,
        Sandbox() as sandbox,
        Receiver(echo=_print_received) as receiver,
    ):
        env = demo_environment(sandbox.url, receiver, state_dir)
        client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)
        # The scenario's data clock is the demo's "now": a run at that instant, not a backtest.
        app = App.from_env(env, config_source=str(ROOT / "budgets.yaml"), client=client, clock=lambda: sandbox.now)
        now = sandbox.now
        _banner(f"sandbox at {sandbox.url}, receiver at {receiver.url('webhook')}, state in {state_dir}")

        _banner(f"check #1 as of {now.isoformat()}: alerts fire")
        first = app.run_check(trigger="demo")
        print(status_table(first))

        _banner("check #2, same instant: nothing new is sent")
        second = app.run_check(trigger="demo")
        print(status_table(second))
        resent = [d for d in second.notifications if d["outcome"] == "sent"]

        _banner("GET /status through the API handler (firing alerts, last runs, failed deliveries)")
        status = _api_status(app)
        print(json.dumps(_status_summary(status), ensure_ascii=False, indent=2))
        _banner("the dashboard (GET / after POST /login) and one chart, written to build/demo/")
        write_dashboard(app, DEMO_TOKEN)

        sent = [d for d in first.notifications if d["outcome"] == "sent"]
        print(f"\ndemo: first run sent {len(sent)}, second run sent {len(resent)}")
        failures = []
        if not sent or resent or first.failed:
            failures.append("expected alerts on the first run and none on the second")

    failures += run_deployed(_banner, _print_received, DEMO_TOKEN)
    failures += run_actions_demo(_banner, _print_received).failures
    if failures:
        print(f"demo: FAILED ({'; '.join(failures)})")
        return 1
    print("demo: ok")
    return 0


def _status_summary(status: dict[str, Any]) -> dict[str, Any]:
    """The parts of ``GET /status`` a person looks at first; the full document is in the API."""
    return {
        "firing": [
            {k: e.get(k) for k in ("budget", "group", "value", "unit", "limit", "percent", "level", "kind")}
            for e in status.get("firing", [])
        ],
        "runs": [{k: r.get(k) for k in ("run_id", "at", "trigger", "deliveries")} for r in status.get("runs", [])],
        "failed_deliveries": status.get("failed_deliveries", []),
    }


def demo_environment(sandbox_url: str, receiver: Any, state_dir: str) -> dict[str, str]:
    return {
        "BUDGET_STATE": f"file://{state_dir}",
        "BUDGET_API_ENDPOINT": sandbox_url,
        "BUDGET_API_TOKEN": DEMO_TOKEN,
        "WECOM_URL": receiver.url("wecom"),
        "DINGTALK_URL": receiver.url("dingtalk"),
        "DINGTALK_SECRET": receiver.secret("dingtalk"),
        "FEISHU_URL": receiver.url("feishu"),
        "FEISHU_SECRET": receiver.secret("feishu"),
        "SLACK_URL": receiver.url("slack"),
        "WEBHOOK_URL": receiver.url("webhook"),
        "WEBHOOK_SECRET": receiver.secret("webhook"),
    }


def _api_status(app: Any) -> Any:
    from handlers import api
    from lib.app.instance import set_app

    set_app(app)
    event = {
        "httpMethod": "GET",
        "path": "/status",
        "headers": {"Authorization": f"Bearer {DEMO_TOKEN}"},
        "queryString": {},
        "requestContext": {"httpMethod": "GET", "path": "/status", "stage": "release"},
    }
    response = api.main_handler(event, {})
    return json.loads(response["body"])
