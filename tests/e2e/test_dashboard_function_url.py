"""The dashboard over real HTTP through the sandbox's Function URL: the URL's event in, its answer out.

The handler runs in this process (the sandbox's SCF would run it in a fresh one per request; the
event and the integrated response are the same): the session cookie travels in ``Set-Cookie``, the page
as HTML and a chart PNG as the base64 body the URL decodes back into bytes.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

import lib.api
from sandbox.function_url import FunctionUrl
from sandbox.scf_runtime import Outcome
from tests.api_fixtures import TOKENS
from tests.web_support import csrf_of, pending_action, web_app

pytestmark = pytest.mark.e2e


@pytest.fixture
def url() -> Iterator[tuple[str, Any]]:
    app = web_app()
    lib.api.set_app(app)
    function_url = FunctionUrl(lambda event: Outcome(True, lib.api.handle(event, {}), "", "", "", 0.0))
    function_url.start()
    try:
        yield function_url.url, app
    finally:
        function_url.stop()
        lib.api.set_app(None)


def _http(base: str, method: str, path: str, *, headers: dict[str, str] | None = None, form: Any = None) -> Any:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        hdrs = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form).encode()
            hdrs |= {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://{parts.netloc}"}
        conn.request(method, path, body=body, headers=hdrs)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def test_sign_in_page_chart_and_approve_through_a_function_url(url: tuple[str, Any]) -> None:
    base, app = url
    action_id = pending_action(app)
    status, headers, body = _http(base, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html") and b'name="token"' in body
    status, headers, _ = _http(base, "POST", "/login", form={"token": TOKENS[0]})
    assert status == 303 and headers["location"] == "/" and "HttpOnly" in headers["set-cookie"]
    cookie = {"Cookie": headers["set-cookie"].split(";")[0]}
    status, _, page = _http(base, "GET", "/", headers=cookie)
    assert status == 200 and "edgeone-traffic" in page.decode()
    status, headers, png = _http(base, "GET", "/charts/edgeone-traffic.png", headers=cookie)
    assert status == 200 and headers["content-type"] == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int(headers["content-length"]) == len(png)
    path = f"/dashboard/actions/{action_id}/approve"
    status, headers, _ = _http(base, "POST", path, headers=cookie, form={"csrf": csrf_of(page.decode())})
    assert status == 303 and headers["location"] == f"/?did=approve&action={action_id}"
    assert app.repo.actions.get(action_id).state == "done"
