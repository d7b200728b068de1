"""The API over real HTTP through the local bridge: in a thread (``ApiServer``) and as ``python -m lib serve``."""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from lib.api.events import MAX_BODY
from lib.api.http_bridge import ApiServer, build_event
from lib.notify.images import chart_id
from tests.api_fixtures import TOKENS, WECOM_KEY, make_app
from tests.e2e.live_support import serve_process

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def request(
    base: str,
    method: str,
    path: str,
    *,
    token: str | None = TOKENS[0],
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One request on a fresh connection; returns (status, headers, parsed JSON body or None)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        got_headers = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, got_headers, json.loads(payload) if payload else None
    finally:
        conn.close()


@pytest.fixture
def server() -> Iterator[tuple[str, Any]]:
    app = make_app()
    with ApiServer(app=app) as srv:
        assert srv.port > 0
        yield srv.url, app


def test_health_and_auth_over_http(server: tuple[str, Any]) -> None:
    url, _ = server
    status, headers, body = request(url, "GET", "/health", token=None)
    assert (status, body["status"]) == (200, "ok")
    assert headers["content-type"] == "application/json; charset=utf-8"
    status, headers, body = request(url, "GET", "/status", token=None)
    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")
    assert request(url, "GET", "/status", token="wrong")[0] == 401
    assert request(url, "GET", "/status", headers={"authorization": f"bearer {TOKENS[1]}"}, token=None)[0] == 200


def test_every_route_over_http(server: tuple[str, Any]) -> None:
    url, app = server
    status, headers, result = request(url, "POST", "/check", headers={"Idempotency-Key": "e2e-1"})
    assert status == 200
    assert result["trigger"] == "api"
    status, headers, again = request(url, "POST", "/check", headers={"Idempotency-Key": "e2e-1"})
    assert (status, headers.get("idempotent-replayed"), again) == (200, "true", result)
    assert len(app.calls) == 1

    status, _, doc = request(url, "GET", "/status")
    assert status == 200
    assert doc["last_run"]["run_id"] == result["run_id"]
    assert len(doc["firing"]) == 1
    assert WECOM_KEY not in json.dumps(doc)

    status, _, usage = request(url, "GET", "/usage?budget=edgeone-traffic&group=zone-id%3Dzone-a")
    assert status == 200
    assert len(usage["points"]) == 2

    status, _, page = request(url, "GET", "/alerts?limit=10")
    assert (status, page["next_cursor"]) == (200, None)

    status, headers, created = request(
        url, "POST", "/silences", body={"matchers": {"budget": "monthly-spend"}, "duration": "30m", "comment": "周末"}
    )
    assert status == 201
    assert created["comment"] == "周末"
    assert headers["location"] == f"/silences/{created['id']}"
    status, _, listing = request(url, "GET", "/silences")
    assert [s["id"] for s in listing["items"]] == [created["id"]]
    assert request(url, "DELETE", headers["location"])[0] == 200
    assert request(url, "DELETE", headers["location"])[0] == 404

    status, _, spec = request(url, "GET", "/openapi.json")
    assert status == 200
    assert "/silences/{id}" in spec["paths"]

    # A Function URL has no stage: /release/status is not /status (only a gateway's stage is stripped).
    assert request(url, "GET", "/release/status")[0] == 404


def test_bad_inputs_over_http(server: tuple[str, Any]) -> None:
    url, app = server
    status, _, body = request(url, "POST", "/check", raw=b'{"dry_run": tru')
    assert (status, body["error"]["code"]) == (400, "invalid_json")
    status, _, body = request(url, "POST", "/silences", body={"matchers": {"budget": "monthly-spend"}})
    assert status == 400
    assert body["error"]["details"]
    status, headers, body = request(url, "PATCH", "/silences")
    assert (status, headers["allow"]) == (405, "GET, POST")
    status, _, body = request(url, "GET", "/nowhere")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, _, body = request(url, "GET", "/usage")
    assert (status, body["error"]["details"][0]["field"]) == (400, "budget")
    status, _, body = request(url, "POST", "/check", raw=b"\xff\xfe\x00garbage")
    assert (status, body["error"]["code"]) == (400, "invalid_json")
    assert app.calls == []


def test_body_size_limit_over_http(server: tuple[str, Any]) -> None:
    url, app = server
    status, headers, body = request(url, "POST", "/check", raw=b" " * (MAX_BODY + 10_000))
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    assert headers.get("connection") == "close"
    assert request(url, "POST", "/check", raw=b" " * MAX_BODY)[0] == 200  # exactly the limit is fine
    assert len(app.calls) == 1


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        ([b'{"dry_run"', b": true}"], 200),
        ([b" " * 40_000, b" " * 40_000], 413),
    ],
)
def test_chunked_bodies(server: tuple[str, Any], chunks: list[bytes], status: int) -> None:
    url, app = server
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(
            "POST",
            "/check",
            body=iter(chunks),
            headers={"Authorization": f"Bearer {TOKENS[0]}", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert resp.status == status, body
    finally:
        conn.close()
    assert [c["dry_run"] for c in app.calls] == ([True] if status == 200 else [])


def test_head_gets_headers_only(server: tuple[str, Any]) -> None:
    url, _ = server
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("HEAD", "/health")
        resp = conn.getresponse()
        assert resp.status == 405  # only GET is routed; the answer still has no body
        assert resp.read() == b""
        assert resp.getheader("Allow") == "GET"
    finally:
        conn.close()


def test_build_event_is_shaped_like_a_function_url() -> None:
    event = build_event(
        "POST",
        "/release/check?a=1&a=2&b=",
        headers=[("Authorization", "Bearer x"), ("X-Dup", "1"), ("X-Dup", "2"), ("X-SCF-Remote-Addr", "6.6.6.6")],
        body=b"\xff\x00",
        client_ip="127.0.0.1",
    )
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/release/check"
    assert event["queryString"] == {"a": ["1", "2"], "b": ""}
    assert event["headers"]["x-dup"] == "1, 2"
    assert event["headers"]["authorization"] == "Bearer x"
    assert event["headers"]["x-scf-remote-addr"] == "127.0.0.1"  # the client cannot choose its address
    assert all(name == name.lower() for name in event["headers"])
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"
    reference = json.loads((ROOT / "events" / "url-check.json").read_text(encoding="utf-8"))
    assert set(event) - {"isBase64Encoded"} == set(reference)
    gateway_only = {"requestContext", "headerParameters", "pathParameters", "queryStringParameters"}
    assert not gateway_only & set(event)


def test_build_event_text_body_and_no_body() -> None:
    text = build_event("POST", "/check", headers=[], body='{"a": "é"}'.encode(), client_ip="10.0.0.9")
    assert text["body"] == '{"a": "é"}'
    assert "isBase64Encoded" not in text
    empty = build_event("GET", "/status", headers=[], body=b"", client_ip="10.0.0.9")
    assert "body" not in empty
    assert empty["queryString"] == {}


# --- python -m lib serve ------------------------------------------------------------------------------

CONFIG_YAML = """
timezone: Asia/Shanghai
language: en
channels:
  ops: {type: wecom, url: "${WECOM_URL}"}
budgets:
  - name: edgeone-traffic
    source: teo
    metric: acc_flux
    group_by: [zone-id]
    limit: 10TB
    thresholds: [50, 80, 100]
    channels: [ops]
"""


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            return proc.stdout.readline()
        if proc.poll() is not None:
            break
    raise AssertionError(f"serve printed nothing (exit {proc.poll()})")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "budgets.yaml"
    config.write_text(CONFIG_YAML, encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BUDGET_", "TENCENTCLOUD_"))},
        "BUDGET_CONFIG": str(config),
        "BUDGET_STATE": f"file://{tmp_path / 'state'}",
        "BUDGET_API_TOKEN": ",".join(TOKENS),
        "BUDGET_API_ENDPOINT": "http://127.0.0.1:9",  # never called by these routes
        "WECOM_URL": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
        "PYTHONPATH": str(ROOT),
    }
    proc = serve_process(env)
    try:
        line = _first_line(proc, timeout=20)
        assert line.startswith("serving the API on http://127.0.0.1:"), line
        yield line.strip().rsplit(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def test_python_m_lib_serve(served: str) -> None:
    url = served
    assert request(url, "GET", "/health", token=None)[0] == 200
    assert request(url, "GET", "/status", token=None)[0] == 401
    status, _, doc = request(url, "GET", "/status")
    assert status == 200, doc
    assert [b["name"] for b in doc["budgets"]] == ["edgeone-traffic"]
    assert doc["budgets"][0]["limit"] == 10 * 10**12
    assert doc["channels"] == [{"name": "ops", "type": "wecom"}]
    assert WECOM_KEY not in json.dumps(doc)

    status, _, created = request(
        url, "POST", "/silences", body={"matchers": {"budget": "edgeone-traffic"}, "duration": "1h"}, token=TOKENS[1]
    )
    assert (status, created["created_by"]) == (201, "token-2")
    # A second request sees the silence: the state lives in the folder, the App stays warm.
    status, _, listing = request(url, "GET", "/silences")
    assert [s["id"] for s in listing["items"]] == [created["id"]]
    assert request(url, "DELETE", f"/silences/{created['id']}")[0] == 200

    assert request(url, "GET", "/usage?budget=edgeone-traffic&group=zone-id=zone-x")[2]["points"] == []
    assert request(url, "GET", "/alerts")[2] == {"items": [], "next_cursor": None}
    assert request(url, "GET", "/openapi.json")[0] == 200
    status, _, body = request(url, "POST", "/silences", raw=b"[")
    assert (status, body["error"]["code"]) == (400, "invalid_json")


# --- the whole product behind the API ---------------------------------------------------------------


def test_check_over_http_against_the_sandbox(tmp_path: Path) -> None:
    """POST /check runs the real pipeline (sandbox, rules, state, receiver); the other routes show it."""
    from lib.app.runtime import App
    from lib.client import ApiClient, Credentials
    from sandbox.demo import DEMO_TOKEN, demo_environment
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    with Sandbox() as sandbox, Receiver() as receiver:
        env = demo_environment(sandbox.url, receiver, str(tmp_path / "state"))
        client = ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url)
        app = App.from_env(env, config_source=str(ROOT / "budgets.yaml"), client=client, clock=lambda: sandbox.now)
        try:
            with ApiServer(app=app) as srv:
                status, _, first = request(srv.url, "POST", "/check", token=DEMO_TOKEN)
                assert status == 200, first
                sent = [d for d in first["notifications"] if d["outcome"] == "sent"]
                assert sent
                assert len(receiver.received) >= len({d["channel"] for d in sent})
                received_after_first = len(receiver.received)

                status, _, second = request(srv.url, "POST", "/check", token=DEMO_TOKEN)
                assert status == 200
                assert [d for d in second["notifications"] if d["outcome"] == "sent"] == []
                assert len(receiver.received) == received_after_first

                status, _, doc = request(srv.url, "GET", "/status", token=DEMO_TOKEN)
                assert doc["last_run"]["run_id"] == second["run_id"]
                assert doc["firing"]
                assert [r["run_id"] for r in doc["runs"][:2]] == [second["run_id"], first["run_id"]]
                text = json.dumps(doc)
                for name in ("WECOM_URL", "DINGTALK_URL", "DINGTALK_SECRET", "WEBHOOK_SECRET", "FEISHU_SECRET"):
                    assert env[name] not in text

                status, _, page = request(srv.url, "GET", "/alerts?limit=200", token=DEMO_TOKEN)
                # The history holds the alerts; the charts sent after them (WeCom images) are deliveries only.
                charts = {chart_id(d["id"], d["budget"]) for d in first["notifications"]}
                assert {i["id"] for i in page["items"]} == {d["id"] for d in first["notifications"]} - charts

                teo = next(e for e in doc["firing"] if e["group"])
                group = ",".join(f"{k}={v}" for k, v in sorted(teo["group"].items()))
                status, _, usage = request(
                    srv.url, "GET", f"/usage?budget={teo['budget']}&group={group}", token=DEMO_TOKEN
                )
                assert status == 200
                assert usage["points"]
                assert group in usage["groups"]

                status, _, dry = request(
                    srv.url, "POST", "/check", token=DEMO_TOKEN, body={"dry_run": True, "at": sandbox.now.isoformat()}
                )
                assert status == 200
                assert {d["outcome"] for d in dry["notifications"]} <= {"dry-run"}
                assert dry["dry_run"] is True
                assert len(receiver.received) == received_after_first
        finally:
            client.close()
            app.session.close()
