"""Each API route through ``handlers.api.main_handler`` with a stub App and an in-memory state repository."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from lib.model import Silence
from tests.api_fixtures import DING_SECRET, DING_TOKEN, NOW, TOKENS, WECOM_KEY, call, event, make_app


@pytest.fixture
def app() -> Any:
    return make_app()


def test_health_needs_no_token_and_builds_no_app() -> None:
    status, headers, body = call(None, event("GET", "/health", token=None))
    assert status == 200
    assert body["status"] == "ok"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Request-Id"] == "req-0001"


def test_status_before_any_run(app: Any) -> None:
    status, _, body = call(app, event("GET", "/status"))
    assert status == 200
    assert body["last_run"] is None
    assert body["evaluations"] == []
    assert [b["name"] for b in body["budgets"]] == ["edgeone-traffic", "monthly-spend"]
    assert body["budgets"][0]["limit"] == 10**13
    assert body["budgets"][0]["thresholds"] == [50, 80, 100]


def test_status_shows_values_forecasts_firing_and_runs(app: Any) -> None:
    call(app, event("POST", "/check"))
    call(app, event("POST", "/check"))
    status, _, body = call(app, event("GET", "/status"))
    assert status == 200
    assert body["last_run"]["run_id"] == "run-2"
    assert body["last_run"]["deliveries"] == {"sent": 1}
    assert body["last_run"]["age_seconds"] == 0
    assert [r["run_id"] for r in body["runs"]] == ["run-2", "run-1"]
    assert len(body["evaluations"]) == 3
    firing = body["firing"]
    assert [(e["budget"], e["group"]) for e in firing] == [("edgeone-traffic", {"zone-id": "zone-a"})]
    assert firing[0]["forecast"] == pytest.approx(8.1e12 * 1.3)
    assert body["now"] == "2026-11-22T10:00:00+08:00"  # in the configured zone


def test_status_never_shows_webhook_urls_or_secrets(app: Any) -> None:
    call(app, event("POST", "/check"))
    _, _, body = call(app, event("GET", "/status"))
    text = json.dumps(body)
    for secret in (WECOM_KEY, DING_TOKEN, DING_SECRET, "qyapi.weixin", "oapi.dingtalk", *TOKENS):
        assert secret not in text
    assert body["channels"] == [{"name": "finance", "type": "dingtalk"}, {"name": "ops", "type": "wecom"}]


def test_status_lists_failed_deliveries(app: Any) -> None:
    from lib.state.repo import OutboxEntry

    entry = OutboxEntry(
        delivery_id="dlv_1",
        channel="ops",
        notification={"id": "ntf_1", "budget": "edgeone-traffic", "kind": "threshold", "status": "firing"},
        attempts=3,
        next_attempt_at=NOW,
        last_error=f"HTTP 400 from https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
        status="failed",
    )
    app.repo.outbox.put(entry)
    _, _, body = call(app, event("GET", "/status"))
    [failed] = body["failed_deliveries"]
    assert failed["delivery_id"] == "dlv_1"
    assert failed["attempts"] == 3
    assert failed["notification"]["budget"] == "edgeone-traffic"
    assert WECOM_KEY not in json.dumps(body)
    assert "[redacted]" in failed["last_error"]


def test_status_runs_param_is_checked(app: Any) -> None:
    status, _, body = call(app, event("GET", "/status", query={"runs": "0"}))
    assert status == 400
    assert body["error"]["details"][0]["field"] == "runs"


def test_usage_returns_the_series_and_known_groups(app: Any) -> None:
    call(app, event("POST", "/check"))
    status, _, body = call(app, event("GET", "/usage", query={"budget": "edgeone-traffic", "group": "zone-id=zone-a"}))
    assert status == 200
    assert body["group"] == "zone-id=zone-a"
    assert body["groups"] == ["zone-id=zone-a", "zone-id=zone-b"]
    assert body["unit"] == "B"
    assert [p["value"] for p in body["points"]] == [4 * 10**12, 41 * 10**11]
    assert body["points"][1]["time"] == NOW.isoformat()


def test_usage_of_a_group_without_series_is_empty(app: Any) -> None:
    status, _, body = call(app, event("GET", "/usage", query={"budget": "monthly-spend"}))
    assert status == 200
    assert body["points"] == []
    assert body["group"] == ""


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({}, 400, "budget"),
        ({"budget": "nope"}, 404, None),
        ({"budget": "edgeone-traffic", "group": "zone-a"}, 400, "group"),
    ],
)
def test_usage_bad_params(app: Any, query: dict[str, str], code: int, field: str | None) -> None:
    status, _, body = call(app, event("GET", "/usage", query=query))
    assert status == code
    if field:
        assert body["error"]["details"][0]["field"] == field


def test_check_runs_with_trigger_api_and_records(app: Any) -> None:
    status, _, body = call(app, event("POST", "/check"))
    assert status == 200
    assert body["run_id"] == "run-1"
    assert app.calls == [{"at": None, "dry_run": False, "trigger": "api"}]
    assert app.repo.runs.list(limit=5)[0]["run_id"] == "run-1"


def test_check_dry_run_and_at(app: Any) -> None:
    at = "2026-11-20T00:00:00Z"
    status, _, body = call(app, event("POST", "/check", body={"dry_run": True, "at": at}))
    assert status == 200
    assert app.calls[0]["dry_run"] is True
    assert app.calls[0]["at"] == datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert body["dry_run"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"dry_run": "maybe"}, "dry_run"),
        ({"at": "yesterday"}, "at"),
        ({"at": "2026-11-20T00:00:00"}, "at"),  # no offset: refused, not guessed
        ({"at": "2027-01-01T00:00:00Z", "dry_run": True}, "at"),  # the future
        ({"at": "2026-11-20T00:00:00Z"}, "at"),  # a backtest must be a dry run
        ({"bogus": 1}, "bogus"),
        ([1, 2], "body"),
        ({"at": "0001-01-01T00:00:00+23:59"}, "at"),
        ({"at": "9999-12-31T23:59:59-23:59"}, "at"),
    ],
)
def test_check_bad_bodies_name_the_field(app: Any, payload: Any, field: str) -> None:
    status, _, body = call(app, event("POST", "/check", body=payload))
    assert status == 400
    assert field in [d["field"] for d in body["error"]["details"]]
    assert app.calls == []


def test_check_idempotency_key_replays_the_first_result(app: Any) -> None:
    headers = {"Idempotency-Key": "retry-123"}
    s1, h1, first = call(app, event("POST", "/check", headers=headers))
    s2, h2, second = call(app, event("POST", "/check", headers={"idempotency-key": "retry-123"}))
    assert (s1, s2) == (200, 200)
    assert first == second
    assert len(app.calls) == 1
    assert "Idempotent-Replayed" not in h1
    assert h2["Idempotent-Replayed"] == "true"
    s3, _, third = call(app, event("POST", "/check", headers={"Idempotency-Key": "other"}))
    assert s3 == 200
    assert third["run_id"] == "run-2"


def test_check_idempotency_key_with_another_body_is_refused(app: Any) -> None:
    headers = {"Idempotency-Key": "k1"}
    call(app, event("POST", "/check", headers=headers))
    status, _, body = call(app, event("POST", "/check", headers=headers, body={"dry_run": True}))
    assert status == 422
    assert body["error"]["code"] == "idempotency_key_reused"
    assert len(app.calls) == 1


def test_check_idempotency_key_must_be_printable(app: Any) -> None:
    status, _, body = call(app, event("POST", "/check", headers={"Idempotency-Key": "a b"}))
    assert status == 400
    assert body["error"]["details"][0]["field"] == "Idempotency-Key"


def test_alerts_are_paged(app: Any) -> None:
    items = [
        {"id": f"ntf_{i}", "budget": "edgeone-traffic", "group": [["zone-id", "zone-a"]], "value": "8.1E+12"}
        for i in range(5)
    ]
    app.repo.history.append(items)
    status, _, page1 = call(app, event("GET", "/alerts", query={"limit": "2"}))
    assert status == 200
    assert len(page1["items"]) == 2
    assert page1["items"][0]["group"] == {"zone-id": "zone-a"}
    assert page1["items"][0]["value"] == 8.1e12
    seen = [i["id"] for i in page1["items"]]
    cursor = page1["next_cursor"]
    while cursor:
        _, _, page = call(app, event("GET", "/alerts", query={"limit": "2", "cursor": cursor}))
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == [f"ntf_{i}" for i in range(5)]
    assert len(set(seen)) == 5


@pytest.mark.parametrize("limit", ["0", "201", "x", "-1"])
def test_alerts_limit_is_checked(app: Any, limit: str) -> None:
    status, _, body = call(app, event("GET", "/alerts", query={"limit": limit}))
    assert status == 400
    assert body["error"]["details"][0]["field"] == "limit"


def test_create_list_delete_silence(app: Any) -> None:
    payload = {"matchers": {"budget": "edgeone-traffic", "zone-id": "zone-a"}, "duration": "2h", "comment": "drill"}
    status, headers, created = call(app, event("POST", "/silences", body=payload, token=TOKENS[1]))
    assert status == 201
    assert created["id"].startswith("sil_")
    assert headers["Location"] == f"/silences/{created['id']}"
    assert created["created_by"] == "token-2"
    assert created["ends_at"] == (NOW + timedelta(hours=2)).isoformat()
    assert created["state"] == "active"
    stored = app.repo.silences.list().value
    assert [s.id for s in stored] == [created["id"]]
    assert stored[0].matches("edgeone-traffic", (("zone-id", "zone-a"),))

    _, _, listing = call(app, event("GET", "/silences"))
    assert [s["id"] for s in listing["items"]] == [created["id"]]

    status, _, body = call(app, event("DELETE", f"/silences/{created['id']}"))
    assert status == 200
    assert body == {"id": created["id"], "deleted": True}
    assert app.repo.silences.list().value == []
    status, _, body = call(app, event("DELETE", f"/silences/{created['id']}"))
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_silence_with_ends_at_and_starts_at(app: Any) -> None:
    payload = {
        "matchers": {"budget": "edge*"},
        "starts_at": "2026-11-22T12:00:00+08:00",
        "ends_at": "2026-11-23T12:00:00+08:00",
    }
    status, _, created = call(app, event("POST", "/silences", body=payload))
    assert status == 201
    assert created["state"] == "pending"
    assert datetime.fromisoformat(created["ends_at"]) == datetime(2026, 11, 23, 4, tzinfo=timezone.utc)


def test_expired_silences_are_listed_only_on_request(app: Any) -> None:
    old = Silence("sil_old", {"budget": "monthly-spend"}, NOW - timedelta(days=2), NOW - timedelta(days=1))
    app.repo.silences.put(old)
    _, _, body = call(app, event("GET", "/silences"))
    assert body["items"] == []
    _, _, body = call(app, event("GET", "/silences", query={"expired": "true"}))
    assert [(s["id"], s["state"]) for s in body["items"]] == [("sil_old", "expired")]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"matchers"}),
        ({"matchers": {}, "duration": "1h"}, {"matchers"}),
        ({"matchers": {"colour": "red"}, "duration": "1h"}, {"matchers.colour"}),
        ({"matchers": {"budget": ""}, "duration": "1h"}, {"matchers"}),
        ({"matchers": {"budget": "a*b"}, "duration": "1h"}, {"matchers"}),
        ({"matchers": {"budget": "monthly-spend"}}, {"body"}),  # neither ends_at nor duration
        ({"matchers": {"budget": "monthly-spend"}, "duration": "1h", "ends_at": "2026-12-01T00:00:00Z"}, {"body"}),
        ({"matchers": {"budget": "monthly-spend"}, "duration": "soon"}, {"duration"}),
        ({"matchers": {"budget": "monthly-spend"}, "duration": "0h"}, {"duration"}),
        ({"matchers": {"budget": "monthly-spend"}, "duration": "400d"}, {"duration"}),
        ({"matchers": {"budget": "monthly-spend"}, "ends_at": "2026-11-21T00:00:00Z"}, {"ends_at"}),
        ({"matchers": {"budget": "monthly-spend"}, "ends_at": "2026-12-01T00:00:00"}, {"ends_at"}),
        ({"matchers": {"budget": "no-such-budget"}, "duration": "1h"}, {"matchers.budget"}),
        ({"matchers": {"budget": "monthly-spend"}, "duration": "1h", "comment": "x" * 1001}, {"comment"}),
        ({"matchers": {"budget": "monthly-spend"}, "duration": "1h", "id": "mine"}, {"id"}),
        (
            {"matchers": {"budget": "monthly-spend"}, "duration": "2h", "starts_at": "9999-12-31T23:59:59-23:59"},
            {"starts_at"},
        ),
        (
            {"matchers": {"budget": "monthly-spend"}, "duration": "2h", "starts_at": "2028-01-01T00:00:00Z"},
            {"starts_at"},
        ),
        ({"matchers": {"budget": "monthly-spend"}, "ends_at": "0001-01-01T00:00:00+23:59"}, {"ends_at"}),
        ({"matchers": {"budget": "monthly-spend"}, "duration": "999999w"}, {"duration"}),
    ],
)
def test_silence_bad_input_names_fields(app: Any, payload: Any, fields: set[str]) -> None:
    status, _, body = call(app, event("POST", "/silences", body=payload))
    assert status == 400, body
    assert fields <= {d["field"] for d in body["error"].get("details", [])}, body
    assert app.repo.silences.list().value == []


def test_silence_id_that_cannot_exist_is_404(app: Any) -> None:
    status, _, _ = call(app, event("DELETE", "/silences/..%2f..%2fledger"))
    assert status == 404


def test_openapi_document(app: Any) -> None:
    status, _, doc = call(app, event("GET", "/openapi.json"))
    assert status == 200
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) >= {"/health", "/status", "/usage", "/check", "/alerts", "/silences", "/silences/{id}"}


def test_alerts_bad_cursor_is_400(app: Any) -> None:
    status, _, body = call(app, event("GET", "/alerts", query={"cursor": "not-a-cursor"}))
    assert status == 400
    assert body["error"]["details"][0]["field"] == "cursor"
