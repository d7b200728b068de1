"""The demo's third part: budget actions. Traffic crosses 100 %; one site is paused automatically, one waits.

A sandbox on the wall clock with two sites of equal traffic (20.8 TB per 5 minutes each), two budgets set
6 buckets above their month-to-date usage, and a webhook receiver. The in-process App's clock is the
sandbox's data clock, so moving the data clock is a timer tick later:

1. check at the start: both below 100 %, nothing acts;
2. 30 minutes on: both cross. ``traffic-auto`` pauses its site in the same run (``approval: automatic``);
   ``traffic-manual`` records its intent as ``pending-approval`` and the alert carries it;
3. an hour on: the paused site's usage is flat, the other's still grows.

The pending action's id is printed and passed to ``approve`` (when given) while everything still runs:
the links part of the demo follows its approve link over HTTP there.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

Banner = Callable[[str], None]
Echo = Callable[[str, str], None]
# Called with the App and the pending action's id while the sandbox runs; returns failed expectations.
Approve = Callable[[Any, str], list[str]]

SECOND_ZONE = "zone-live0002"


@dataclass
class ActionsDemo:
    """What the part did: the expectations that failed, the automatic action's id and the pending one's."""

    failures: list[str] = field(default_factory=list)
    automatic: str | None = None
    pending: str | None = None


def scenario(now: datetime) -> dict[str, Any]:
    """The live scenario with a second site like the first (its own plan-free copy)."""
    from sandbox.live_scenario import ZONE, live_scenario

    doc = live_scenario(now)
    first = next(z for z in doc["zones"] if z["id"] == ZONE)
    doc["zones"].append(
        {**first, "id": SECOND_ZONE, "name": "live2.example.com", "hosts": {"www.live2.example.com": 100}}
    )
    return doc


def config(limit: int, hook_url: str, hook_secret: str) -> Any:
    from lib.config.models import Config
    from sandbox.live_scenario import ZONE

    def budget(name: str, zone: str, approval: str) -> dict[str, Any]:
        return {
            "name": name,
            "source": "teo",
            "metric": "acc_flux",
            "zones": [zone],
            "group_by": ["zone-id"],
            "limit": limit,
            "thresholds": [80, 100],
            "channels": ["audit"],
            "actions": [{"type": "pause-zone", "at": 100, "approval": approval}],
        }

    return Config.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "language": "en",
            "channels": {"audit": {"type": "webhook", "url": hook_url, "secret": hook_secret}},
            "budgets": [budget("traffic-auto", ZONE, "automatic"), budget("traffic-manual", SECOND_ZONE, "manual")],
        }
    )


def run_actions_demo(banner: Banner, echo: Echo, *, approve: Approve | None = None) -> ActionsDemo:
    import requests

    from lib.app.report import status_table
    from lib.app.runtime import App
    from lib.client import ApiClient, Credentials
    from sandbox.demo_links import LinkDemo
    from sandbox.live_scenario import PER_BUCKET, ZONE, wait_past_month_end
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    wait_past_month_end()
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 5)  # a whole bucket: a pause leaves no partial one behind
    done = ActionsDemo()
    with (
        tempfile.TemporaryDirectory(prefix="budget-demo-actions-") as state_dir,
        Sandbox(scenario(now)) as sandbox,
        Receiver(echo=echo) as receiver,
        LinkDemo() as links,
    ):
        client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)
        limit = _month_to_date(client, ZONE, sandbox.now) + 6 * PER_BUCKET
        app = App.from_env(
            {"BUDGET_STATE": f"file://{state_dir}", **links.environment()},
            config=config(limit, receiver.url("webhook"), receiver.secret("webhook")),
            client=client,
            clock=lambda: sandbox.now,
        )
        links.attach(app)  # the API behind the links in the messages, on 127.0.0.1
        board = links.dashboard(sandbox.now.timestamp())
        print(f"demo: while this part runs, the dashboard is served at {board}")
        if requests.get(board, timeout=10).status_code != 200:
            done.failures.append("the served dashboard did not open with its view link")
        banner(f"actions: two sites, budgets 6 buckets above their usage, state in {state_dir}")
        t0 = sandbox.now
        banner(f"action check #1 as of {t0.isoformat()}: below 100 %, nothing acts")
        first = app.run_check(trigger="demo")
        print(status_table(first))
        if first.actions:
            done.failures.append("an action ran below 100 %")

        sandbox.set_now(t0 + timedelta(minutes=30))
        banner("action check #2, 30 minutes on: both cross 100 %")
        second = app.run_check(trigger="demo")
        print(status_table(second))
        rows = {a["budget"]: a for a in second.actions}
        auto, manual = rows.get("traffic-auto"), rows.get("traffic-manual")
        if auto is None or auto["state"] != "done" or not _paused(client, ZONE):
            done.failures.append("the automatic action did not pause its site")
        if manual is None or manual["state"] != "pending-approval" or _paused(client, SECOND_ZONE):
            done.failures.append("the manual action is not waiting for approval")
        done.automatic = auto["id"] if auto else None
        done.pending = manual["id"] if manual else None
        print(f"demo: automatic action {done.automatic} done; site {ZONE} paused")
        print(f"demo: manual action {done.pending} pending-approval (POST /actions/{done.pending}/approve)")

        sandbox.set_now(t0 + timedelta(hours=1))
        banner("action check #3, an hour on: the paused site is flat, the other still grows")
        third = app.run_check(trigger="demo")
        print(status_table(third))
        values = {e.budget: e.value for e in third.evaluations}
        before = {e.budget: e.value for e in second.evaluations}
        flat = values.get("traffic-auto") == before.get("traffic-auto")
        grows = (values.get("traffic-manual") or 0) > (before.get("traffic-manual") or 0)
        print(f"demo: paused site flat: {flat}; waiting site still grows: {grows}")
        if not (flat and grows):
            done.failures.append("usage did not stop for the paused site only")
        if approve is not None and done.pending is not None:
            done.failures += approve(app, done.pending)
        elif done.pending is not None:
            banner("approving the manual action by following its link over HTTP (GET shows, only POST acts)")
            visit = links.approve_pending(receiver.received)
            if visit is None or not visit.acted or not _paused(client, SECOND_ZONE):
                done.failures.append("following the approve link did not pause the second site")
            else:
                print(f"demo: manual action {done.pending} approved by its link; site {SECOND_ZONE} paused")
        client.close()
    return done


def _month_to_date(client: Any, zone: str, until: datetime) -> int:
    from sandbox.live_scenario import month_start

    params = {
        "StartTime": month_start(until).isoformat(),
        "EndTime": (until - timedelta(seconds=1)).isoformat(),
        "ZoneIds": [zone],
        "MetricName": "acc_flux",
        "Interval": "5min",
    }
    answer = client.call("teo", "2022-09-01", "DescribeBillingData", params)
    return sum(int(row["Value"]) for row in answer["Data"])


def _paused(client: Any, zone: str) -> bool:
    answer = client.call("teo", "2022-09-01", "DescribeZones", {"Filters": [{"Name": "zone-id", "Values": [zone]}]})
    return bool(answer["Zones"][0]["Paused"])
