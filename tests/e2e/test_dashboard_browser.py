"""The dashboard in a real browser: headless Chromium against the API's local HTTP server on the demo scenario.

The server is ``lib.api.http_bridge.ApiServer``, the code ``python -m lib serve`` runs, in a thread of this
process so the test can give it the demo's App (its clock is the scenario's) and record a pending action
in its state; the browser is Debian's ``chromium`` (``make chromium`` installs it), a separate process
that signs in, loads the dashboard, clicks approve and is screenshot at phone and desktop widths into
``tests/artifacts/`` (not committed). The zone really is paused in the sandbox afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.actions import Scope, action_for
from lib.actions.machine import action_id, intent_doc
from lib.api.http_bridge import ApiServer
from lib.app.runtime import App
from lib.client import ApiClient, Credentials
from lib.model import group_key
from lib.periods import current_period
from sandbox.demo import DEMO_TOKEN, demo_environment
from sandbox.receivers import Receiver
from sandbox.server import Sandbox
from tests.e2e.browser_support import Browser, find_chromium

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
ZONE = "zone-2qtuhspy7hmq"  # the demo's shop zone, past 100 % of its 10 TB budget


@pytest.fixture
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        pytest.skip(
            "NO BROWSER: Debian's chromium is not installed, so the dashboard's browser test did NOT run; "
            "`make chromium` installs it (as root or with sudo)"
        )
    return binary


@pytest.fixture
def demo() -> Iterator[tuple[App, Sandbox, str]]:
    """The demo scenario after one check, with a pause-zone action waiting for approval."""
    with (
        tempfile.TemporaryDirectory(prefix="dash-state-") as state,
        Sandbox() as sandbox,
        Receiver() as receiver,
    ):
        env = demo_environment(sandbox.url, receiver, state)
        client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)
        app = App.from_env(env, config_source=str(ROOT / "budgets.yaml"), client=client, clock=lambda: sandbox.now)
        app.run_check(trigger="demo")
        group = group_key({"zone-id": ZONE})
        period = current_period("month", app.now(), app.tz)
        intent = action_for("pause-zone").plan(Scope(dict(group), budget="edgeone-traffic"))
        doc = intent_doc(
            intent, budget="edgeone-traffic", group=group, period=period, approval="manual", undo="manual", level=100
        )
        ident = action_id("edgeone-traffic", group, period, "pause-zone")
        assert app.repo.actions.open(ident, doc, state="pending-approval", by="run:demo", at=app.now())
        yield app, sandbox, ident
        client.close()


def _zone_paused(sandbox: Sandbox) -> bool:
    with ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url) as client:
        answer = client.call("teo", "2022-09-01", "DescribeZones", {"Filters": [{"Name": "zone-id", "Values": [ZONE]}]})
    return bool(answer["Zones"][0]["Paused"])


def test_sign_in_approve_and_screenshots_at_phone_and_desktop_widths(
    chromium: str, demo: tuple[App, Sandbox, str]
) -> None:
    app, sandbox, ident = demo
    assert not _zone_paused(sandbox)
    with ApiServer(app=app) as server, Browser(chromium) as browser:
        base = f"http://localhost:{server.port}"  # localhost: a Secure cookie is kept over plain HTTP here
        browser.goto(f"{base}/")
        assert browser.js("document.querySelectorAll('form').length") == 1
        assert browser.js("!!document.querySelector('input[name=token]')")
        assert browser.js("document.body.innerText.includes('edgeone-traffic')") is False
        browser.screenshot(ARTIFACTS / "dashboard-signin-phone.png", width=390, mobile=True)

        browser.type_into("#token", DEMO_TOKEN)
        browser.click("form button[type=submit]")
        assert browser.js("location.pathname") == "/"
        assert browser.js("document.cookie") == ""  # HttpOnly: the page's scripts cannot read the session
        names = browser.js("[...document.querySelectorAll('.card h3')].map(e => e.textContent)")
        assert names == ["edgeone-traffic", "monthly-spend", "low-balance"]
        assert browser.js("document.querySelectorAll('.card svg').length") == 3
        assert browser.js("document.querySelector('#firing').innerText.includes('edgeone-traffic')")
        approve = f"form[data-action='{ident}'] button.approve"
        assert browser.js(f"!!document.querySelector({approve!r})")
        browser.screenshot(ARTIFACTS / "dashboard-phone.png", width=390, mobile=True)
        browser.screenshot(ARTIFACTS / "dashboard-desktop.png", width=1280, mobile=False)

        browser.click(approve)
        assert browser.js("location.search") == f"?did=approve&action={ident}"
        notice = browser.js("document.querySelector('.notice').innerText")
        assert ident in notice and "已完成" in notice  # zh, as budgets.yaml says; the state read back: done
        assert browser.js(f"document.getElementById({ident!r}).querySelector('.badge').className") == "badge s-done"
        assert browser.js(f"!!document.querySelector({approve!r})") is False
        assert browser.js(f"!!document.querySelector(\"form[data-action='{ident}'] button.undo\")")
        browser.screenshot(ARTIFACTS / "dashboard-approved-phone.png", width=390, mobile=True)
        dom = browser.dom()
    assert "dashboard:token-1" in dom
    assert _zone_paused(sandbox)  # acted at once on the (sandbox) cloud, not at the next tick
    record = app.repo.actions.get(ident)
    assert record is not None and record.state == "done" and record.trail[-1].by == "dashboard:token-1"
    for name in ("dashboard-signin-phone", "dashboard-phone", "dashboard-desktop", "dashboard-approved-phone"):
        assert (ARTIFACTS / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
