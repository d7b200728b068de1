"""Helpers of the dashboard tests: requests through the API handler with cookies and forms, a pending action."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from lib.settings import Settings
from tests.api_fixtures import TOKENS, StubApp, call, event, make_app
from tests.unit.action_support import FakeCloud, pause_intent

LINK_SECRET = "link-secret-for-the-dashboard-tests"
FORM = "application/x-www-form-urlencoded"
HOST = "service-abc-1250000000.gz.apigw.tencentcs.com"  # the Host header tests.api_fixtures.event sends


def web_app(*, public_url: str | None = None, link_secret: str | None = LINK_SECRET) -> StubApp:
    """The API tests' stub App with one run recorded, a fake cloud for actions and the link settings."""
    app = make_app()
    app.settings = replace(Settings(), public_url=public_url, link_secret=link_secret)
    app.client = FakeCloud()  # type: ignore[assignment]
    app.run_check()
    return app


def request(
    app: StubApp | None,
    method: str,
    path: str,
    *,
    cookie: str | None = None,
    form: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    bearer: str | None = None,
    origin: str | None = f"https://{HOST}",
    stage_path: str | None = None,
) -> tuple[int, dict[str, Any], Any]:
    """One request as a browser sends it (no bearer unless given); ``stage_path``: the path as a gateway's
    default domain sends it (``/release/...``)."""
    hdrs = dict(headers or {})
    if cookie is not None:
        hdrs["Cookie"] = cookie
    if form is not None:
        hdrs["Content-Type"] = FORM
        if origin is not None:
            hdrs["Origin"] = origin
    ev = event(method, path, token=bearer, body=None if form is None else urlencode(form), query=query, headers=hdrs)
    if stage_path is not None:
        ev["path"] = stage_path
    return call(app, ev)


def sign_in(app: StubApp, token: str = TOKENS[0]) -> str:
    """The ``Cookie`` header value of a new session."""
    status, headers, _ = request(app, "POST", "/login", form={"token": token})
    assert status == 303, headers
    return str(headers["Set-Cookie"]).split(";", 1)[0]


def csrf_of(html: str) -> str:
    """The CSRF token the page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def pending_action(app: StubApp, zone: str = "zone-1") -> str:
    """Record a pause-zone action waiting for approval (as a run with ``approval: manual`` would)."""
    action_id, intent = pause_intent((zone,))
    assert app.repo.actions.open(action_id, intent, state="pending-approval", by="run:test", at=app.now())
    cloud = app.client
    assert isinstance(cloud, FakeCloud)
    cloud.paused.setdefault(zone, False)
    return action_id
