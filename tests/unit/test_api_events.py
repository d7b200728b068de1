"""Parsing API-gateway events and shaping integrated responses (``lib.api.events``)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from lib.api.errors import ApiProblem
from lib.api.events import MAX_BODY, integrated_response, jsonable, mask, parse_event, request_id
from lib.api.response import Response
from tests.api_fixtures import event


def test_parse_the_reference_event() -> None:
    req = parse_event(event("POST", "/check", body={"dry_run": True}, query={"a": "1"}), {"request_id": "ctx-1"})
    assert req.method == "POST"
    assert req.path == "/check"
    assert req.query == {"a": "1"}
    assert req.json() == {"dry_run": True}
    assert req.request_id == "ctx-1"
    assert req.source_ip == "10.0.0.1"


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("/status", "/status"),
        ("/release/status", "/status"),
        ("/test/silences/sil_1", "/silences/sil_1"),
        ("/prepub", "/"),
        ("/status/", "/status"),
        ("//status", "/status"),
        ("/status?x=1", "/status"),
        ("/releases/status", "/releases/status"),
    ],
)
def test_path_is_normalised_and_stage_stripped(raw: str, path: str) -> None:
    ev = event("GET", raw)
    assert parse_event(ev, {}).path == path


def test_path_falls_back_to_request_context() -> None:
    ev = event("GET", "/status")
    del ev["path"]
    assert parse_event(ev, {}).path == "/status"
    ev["httpMethod"] = None
    assert parse_event(ev, {}).method == "GET"


def test_headers_are_case_insensitive_and_lists_are_joined() -> None:
    ev = event("GET", "/status", token=None, headers={"AUTHORIZATION": "Bearer x", "X-Multi": ["a", "b"]})  # type: ignore[dict-item]
    req = parse_event(ev, {})
    assert req.header("authorization") == "Bearer x"
    assert req.header("Authorization") == "Bearer x"
    assert req.header("x-multi") == "a, b"


def test_query_string_is_preferred_and_lists_take_the_first() -> None:
    ev = event("GET", "/usage")
    ev["queryString"] = {"budget": ["a", "b"], "n": 5, "empty": None}
    ev["queryStringParameters"] = {"budget": "declared-only"}
    assert parse_event(ev, {}).query == {"budget": "a", "n": "5", "empty": ""}
    ev["queryString"] = {}
    assert parse_event(ev, {}).query == {"budget": "declared-only"}


def test_base64_body_is_decoded() -> None:
    ev = event("POST", "/check", body={"dry_run": True}, base64_body=True)
    assert parse_event(ev, {}).json() == {"dry_run": True}
    ev["isBase64Encoded"] = "true"  # some invokers send the flag as a string
    assert parse_event(ev, {}).json() == {"dry_run": True}


def test_bad_base64_is_400() -> None:
    ev = event("POST", "/check", body="{}")
    ev["isBase64Encoded"] = True
    ev["body"] = "%%%not base64%%%"
    with pytest.raises(ApiProblem) as info:
        parse_event(ev, {})
    assert info.value.status == 400


@pytest.mark.parametrize("b64", [False, True])
def test_body_size_limit(b64: bool) -> None:
    ok = parse_event(event("POST", "/check", body=b"x" * MAX_BODY, base64_body=b64), {})
    assert len(ok.body) == MAX_BODY
    with pytest.raises(ApiProblem) as info:
        parse_event(event("POST", "/check", body=b"x" * (MAX_BODY + 1), base64_body=b64), {})
    assert info.value.status == 413


def test_multibyte_body_over_the_limit_in_bytes() -> None:
    text = "预" * (MAX_BODY // 3 + 1)  # fewer characters than the limit, more bytes
    with pytest.raises(ApiProblem) as info:
        parse_event(event("POST", "/check", body=text), {})
    assert info.value.status == 413


def test_object_body_from_hand_written_events() -> None:
    ev = event("POST", "/silences")
    ev["body"] = {"matchers": {"budget": "x"}}
    assert parse_event(ev, {}).json() == {"matchers": {"budget": "x"}}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda ev: ev.update(httpMethod="GE T", requestContext={}),
        lambda ev: ev.update(httpMethod=None, requestContext={}),
        lambda ev: ev.update(path=5, requestContext={}),
        lambda ev: ev.update(path="status", requestContext={}),
        lambda ev: ev.update(body=12),
    ],
)
def test_malformed_events_are_400(mutate: Any) -> None:
    ev = event("GET", "/status")
    mutate(ev)
    with pytest.raises(ApiProblem) as info:
        parse_event(ev, {})
    assert info.value.status == 400


@pytest.mark.parametrize("not_an_event", [None, [], "GET /", 5])
def test_non_object_event_is_400(not_an_event: Any) -> None:
    with pytest.raises(ApiProblem) as info:
        parse_event(not_an_event, {})
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "line 1 column 2"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"a": NaN}', "NaN"),
        (b"[" * 60_000, "nested"),
    ],
)
def test_bad_json_bodies(body: bytes, message: str) -> None:
    ev = event("POST", "/check", body=body, base64_body=True)
    req = parse_event(ev, {})
    with pytest.raises(ApiProblem) as info:
        req.json()
    assert info.value.status == 400
    assert info.value.code == "invalid_json"
    assert message in info.value.message


def test_request_id_sources() -> None:
    assert request_id({}, {"request_id": "ctx"}) == "ctx"
    assert request_id({"requestContext": {"requestId": "gw"}}, {}) == "gw"
    generated = request_id(None, None)
    assert len(generated) == 32
    assert generated != request_id(None, None)


def test_integrated_response_shape() -> None:
    out = integrated_response(Response(201, {"v": Decimal("1.5"), "n": Decimal(3)}, {"Location": "/x"}), request_id="r")
    assert out["isBase64Encoded"] is False
    assert out["statusCode"] == 201
    assert out["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert out["headers"]["Location"] == "/x"
    assert out["headers"]["X-Request-Id"] == "r"
    assert json.loads(out["body"]) == {"v": 1.5, "n": 3}
    empty = integrated_response(Response(204), request_id="r")
    assert empty["body"] == ""
    assert "Content-Type" not in empty["headers"]


def test_jsonable_handles_what_json_cannot() -> None:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    value = {"t": when, "nan": float("nan"), "inf": Decimal("Infinity"), "s": {1}, "tuple": (1, 2), "o": object}
    out = jsonable(value)
    assert out["t"] == when.isoformat()
    assert out["nan"] is None
    assert out["inf"] is None
    assert out["s"] == [1]
    assert out["tuple"] == [1, 2]
    assert isinstance(out["o"], str)
    json.dumps(out, allow_nan=False)


def test_mask_hides_known_secrets_and_credential_parameters() -> None:
    text = "POST https://x.example/send?key=abc123&foo=1 failed; secret s3cr3t-value"
    masked = mask(text, ("s3cr3t-value",))
    assert "abc123" not in masked
    assert "s3cr3t-value" not in masked
    assert "foo=1" in masked
    assert mask("zone-id=zone-1", ()) == "zone-id=zone-1"


def test_unicode_body_round_trip() -> None:
    body = {"comment": "周末压测 🚀"}
    req = parse_event(event("POST", "/silences", body=body), {})
    assert req.json() == body
    raw = base64.b64encode(json.dumps(body, ensure_ascii=False).encode()).decode()
    ev = event("POST", "/silences")
    ev.update(body=raw, isBase64Encoded=True)
    assert parse_event(ev, {}).json() == body


def test_caller_text_is_escaped_before_it_reaches_the_log() -> None:
    from lib.logtext import loggable

    line = loggable("/status\ud800\n200 OK forged\x1b[31m")
    line.encode("utf-8")  # a lone surrogate would make every log handler fail
    assert "\n" not in line and "\x1b" not in line
    assert line == "/status\\ud800\\n200 OK forged\\x1b[31m"
    assert loggable("/usage?budget=流量") == "/usage?budget=流量"
