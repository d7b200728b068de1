"""The API handler behind a Function URL: the URL's event shape in, the integrated response out.

A Function URL event is the API-gateway event without ``requestContext``, ``headerParameters``,
``isBase64Encoded``, ``pathParameters`` and ``queryStringParameters``, with lower-case headers and the
caller's address in ``x-scf-remote-addr``. Gateway-shaped events (a TSE gateway) keep working.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from lib.api.events import parse_event
from lib.api.routes import ROUTES
from tests.api_fixtures import TOKENS, call, event, make_app

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONTEXT = json.loads((EVENTS / "context.json").read_text(encoding="utf-8"))
EXPECTED = {
    "url-health.json": 200,
    "url-status.json": 200,
    "url-usage.json": 200,
    "url-check.json": 200,
    "url-alerts.json": 200,
    "url-silences-list.json": 200,
    "url-silences-create.json": 201,
    "url-silences-delete.json": 404,  # the sample id does not exist in an empty state
    "url-openapi.json": 200,
    "url-actions-list.json": 200,
    "url-actions-get.json": 404,  # the sample action does not exist in an empty state
    "url-actions-approve.json": 404,
    "url-actions-undo.json": 404,
    "url-link-page.json": 404,  # links are off in the sample app (no BUDGET_LINK_SECRET): a page says so
    "url-link-preview.json": 404,
    "url-link-confirm.json": 404,
    # issue 17 web: the dashboard's pages and charts
    "url-dashboard.json": 200,  # the sign-in form
    "url-login.json": 303,
    "url-logout.json": 401,  # no session
    "url-dashboard-approve.json": 401,
    "url-dashboard-undo.json": 401,
    "url-chart-svg.json": 200,
    "url-chart-png.json": 200,
}
URL_KEYS = {"body", "headers", "httpMethod", "path", "queryString"}
GATEWAY_ONLY = {"requestContext", "headerParameters", "isBase64Encoded", "pathParameters", "queryStringParameters"}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


def url_event(
    method: str,
    path: str,
    *,
    token: str | None = TOKENS[0],
    body: str | None = None,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    remote: str = "198.51.100.4",
) -> dict[str, Any]:
    """A Function URL event as 583/96099 shows it."""
    hdrs = {"accept": "*/*", "host": "1250000000-abcd1234.ap-guangzhou.tencentscf.com", "x-scf-remote-addr": remote}
    if token is not None:
        hdrs["authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    ev: dict[str, Any] = {"headers": hdrs, "httpMethod": method, "path": path, "queryString": dict(query or {})}
    if body is not None:
        ev["body"] = body
    return ev


# --- the samples ------------------------------------------------------------------------------------


def test_there_is_a_url_sample_for_every_route() -> None:
    found = {(_load(n)["httpMethod"], _load(n)["path"]) for n in EXPECTED}
    templates = {(r.method, r.template) for r in ROUTES}
    # Samples name concrete ids where a route has a placeholder: each stands for the route it matches.
    found = {(m, next(r.template for r in ROUTES if r.method == m and r.match(p) is not None)) for m, p in found}
    assert found == templates
    assert sorted(p.name for p in EVENTS.glob("url-*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "status"), sorted(EXPECTED.items()))
def test_url_sample_is_shaped_like_a_function_url_and_answers(name: str, status: int) -> None:
    ev = _load(name)
    assert set(ev) <= URL_KEYS
    assert not GATEWAY_ONLY & set(ev)
    assert all(h == h.lower() for h in ev["headers"])
    assert ev["headers"]["x-scf-remote-addr"]
    got, headers, body = call(make_app(tokens=("change-me-to-a-long-random-token",)), ev, CONTEXT)
    assert got == status, body
    assert headers["X-Request-Id"] == CONTEXT["request_id"]


# --- every route through the handler ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "status"),
    [
        ("GET", "/health", None, None, 200),
        ("GET", "/status", None, None, 200),
        ("GET", "/usage", {"budget": "monthly-spend"}, None, 200),
        ("GET", "/usage", None, None, 400),  # budget is a required query parameter
        ("POST", "/check", None, '{"dry_run": true}', 200),
        ("GET", "/alerts", None, None, 200),
        ("GET", "/silences", None, None, 200),
        ("POST", "/silences", None, '{"matchers": {"budget": "monthly-spend"}, "duration": "1h"}', 201),
        ("DELETE", "/silences/sil_missing", None, None, 404),
        ("GET", "/openapi.json", None, None, 200),
    ],
)
def test_every_route_answers_a_url_event(
    method: str, path: str, query: dict[str, str] | None, body: str | None, status: int
) -> None:
    ev = url_event(method, path, body=body, query=query)
    got, headers, doc = call(make_app(), ev, {"request_id": "rid-url"})
    assert got == status, doc
    assert headers["X-Request-Id"] == "rid-url"


def test_token_is_required_and_read_from_a_lowercase_header() -> None:
    app = make_app()
    assert call(app, url_event("GET", "/status", token=None))[0] == 401
    assert call(app, url_event("GET", "/status", token="wrong"))[0] == 401
    assert call(app, url_event("GET", "/status"))[0] == 200


def test_mixed_case_headers_from_a_gateway_still_work() -> None:
    gateway = event("GET", "/status", token=None, headers={"AuThOrIzAtIoN": f"Bearer {TOKENS[1]}"})
    assert call(make_app(), gateway)[0] == 200
    url = url_event("GET", "/status", token=None, headers={"Authorization": f"Bearer {TOKENS[1]}"})
    assert call(make_app(), url)[0] == 200


def test_created_silence_round_trips_through_url_events() -> None:
    app = make_app()
    body = json.dumps({"matchers": {"budget": "monthly-spend"}, "duration": "30m", "comment": "周末"})
    status, headers, created = call(app, url_event("POST", "/silences", body=body))
    assert status == 201 and created["comment"] == "周末"
    status, _, listing = call(app, url_event("GET", "/silences"))
    assert [s["id"] for s in listing["items"]] == [created["id"]]
    assert call(app, url_event("DELETE", headers["Location"]))[0] == 200


# --- optional fields ----------------------------------------------------------------------------------


def test_missing_optional_fields() -> None:
    app = make_app()
    bare = {"httpMethod": "GET", "path": "/health"}  # no headers, no queryString, no body
    assert call(app, bare)[0] == 200
    no_query = url_event("GET", "/status")
    del no_query["queryString"]
    assert call(app, no_query)[0] == 200
    no_body = url_event("POST", "/check")
    assert "body" not in no_body
    assert call(app, no_body)[0] == 200
    no_headers = url_event("GET", "/status")
    del no_headers["headers"]
    assert call(app, no_headers)[0] == 401  # no headers means no token


def test_query_string_reaches_the_route() -> None:
    app = make_app()
    status, _, doc = call(app, url_event("GET", "/alerts", query={"limit": "abc"}))
    assert status == 400, doc
    assert call(app, url_event("GET", "/alerts", query={"limit": ["5", "9"]}))[0] == 200  # the first one counts


# --- bodies -------------------------------------------------------------------------------------------


def test_plain_and_base64_bodies() -> None:
    app = make_app()
    raw = json.dumps({"matchers": {"budget": "monthly-spend"}, "duration": "1h"})
    plain = url_event("POST", "/silences", body=raw)
    assert call(app, plain)[0] == 201
    encoded = url_event("POST", "/silences", body=base64.b64encode(raw.encode()).decode())
    encoded["isBase64Encoded"] = True
    assert call(app, encoded)[0] == 201
    # Without the flag a base64 body is text, and not JSON.
    unflagged = url_event("POST", "/silences", body=base64.b64encode(raw.encode()).decode())
    status, _, doc = call(app, unflagged)
    assert (status, doc["error"]["code"]) == (400, "invalid_json")


def test_binary_body_with_the_flag_is_decoded_then_refused_as_json() -> None:
    ev = url_event("POST", "/check", body=base64.b64encode(b"\x89PNG\r\n\x1a\n").decode())
    ev["isBase64Encoded"] = True
    status, _, doc = call(make_app(), ev)
    assert (status, doc["error"]["code"]) == (400, "invalid_json")
    assert "UTF-8" in doc["error"]["message"]


# --- path and caller ----------------------------------------------------------------------------------


def test_a_function_url_path_has_no_stage_but_a_gateway_path_does() -> None:
    app = make_app()
    assert call(app, url_event("GET", "/release/status"))[0] == 404
    assert call(app, event("GET", "/release/status", token=TOKENS[0]))[0] == 200


def test_client_address_comes_from_x_scf_remote_addr() -> None:
    assert parse_event(url_event("GET", "/health", remote="203.0.113.9"), {}).source_ip == "203.0.113.9"
    shouted = url_event("GET", "/health", headers={"X-SCF-Remote-Addr": " 203.0.113.10 "})
    del shouted["headers"]["x-scf-remote-addr"]
    assert parse_event(shouted, {}).source_ip == "203.0.113.10"
    assert parse_event({"httpMethod": "GET", "path": "/health"}, {}).source_ip == ""
    # A gateway's own sourceIp wins over a header a client could have set.
    gateway = event("GET", "/health", headers={"x-scf-remote-addr": "6.6.6.6"})
    assert parse_event(gateway, {}).source_ip == "10.0.0.1"


def test_answer_is_the_integrated_response() -> None:
    app = make_app()
    import lib.api
    from handlers.api import main_handler

    lib.api.set_app(app)
    try:
        response = main_handler(url_event("GET", "/health"), {"request_id": "r"})
    finally:
        lib.api.set_app(None)
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"])
