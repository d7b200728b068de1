"""The sample events in ``events/api-*.json``: one per route, shaped like API gateway's, each answered as expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lib.api.routes import ROUTES
from tests.api_fixtures import call, make_app

EVENTS = Path(__file__).resolve().parents[2] / "events"
EXPECTED = {
    "api-health.json": 200,
    "api-status.json": 200,
    "api-usage.json": 200,
    "api-check.json": 200,
    "api-alerts.json": 200,
    "api-silences-list.json": 200,
    "api-silences-create.json": 201,
    "api-silences-delete.json": 404,  # the sample id does not exist in an empty state
    "api-openapi.json": 200,
    "api-actions-list.json": 200,
    "api-actions-get.json": 404,  # the sample action does not exist in an empty state
    "api-actions-approve.json": 404,
    "api-actions-undo.json": 404,
    "api-link-page.json": 404,  # links are off in the sample app (no BUDGET_LINK_SECRET): a page says so
    "api-link-preview.json": 404,
    "api-link-confirm.json": 404,
    # issue 17 web: the dashboard's pages and charts
    "api-dashboard.json": 200,  # the sign-in form
    "api-login.json": 303,
    "api-logout.json": 401,  # no session
    "api-dashboard-approve.json": 401,
    "api-dashboard-undo.json": 401,
    "api-chart-svg.json": 200,
    "api-chart-png.json": 200,
}
REFERENCE_KEYS = {"requestContext", "headers", "pathParameters", "queryStringParameters", "headerParameters",
                  "stageVariables", "path", "queryString", "httpMethod"}  # fmt: skip


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


def test_there_is_a_sample_for_every_route() -> None:
    found = {(_load(n)["httpMethod"], _load(n)["requestContext"]["path"]) for n in EXPECTED}
    assert found == {(r.method, r.template) for r in ROUTES}
    assert sorted(p.name for p in EVENTS.glob("api-*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "status"), sorted(EXPECTED.items()))
def test_sample_event_answers(name: str, status: int) -> None:
    event = _load(name)
    assert set(event) >= REFERENCE_KEYS
    assert event["requestContext"]["stage"] == "release"
    app = make_app(tokens=("change-me-to-a-long-random-token",))
    got, _, body = call(app, event, json.loads((EVENTS / "context.json").read_text(encoding="utf-8")))
    assert got == status, body
