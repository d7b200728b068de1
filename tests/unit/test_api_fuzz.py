"""Fuzz of the API handler: random events, headers, queries and bodies never raise and never answer 500."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lib.api
from handlers.api import main_handler
from tests.api_fixtures import TOKENS, make_app

APP: Any = make_app()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
paths = st.sampled_from(
    [
        "/health",
        "/status",
        "/usage",
        "/check",
        "/alerts",
        "/silences",
        "/silences/sil_x",
        "/openapi.json",
        "/release/status",
        "/",
        "/nope",
        "/silences/",
        "//check",
        "/silences/a/b",
    ]
) | st.text(max_size=40).map(lambda s: "/" + s)
methods = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]) | st.text(max_size=8)
auth_headers = st.sampled_from(
    [f"Bearer {TOKENS[0]}", f"Bearer {TOKENS[1]}", "Bearer nope", "Basic x", "", "Bearer"]
) | st.text(max_size=30)
datetimes = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | st.sampled_from(
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-11-22T00:00:00Z", "2026-11-22"]
)
durations = st.sampled_from(["2h", "1h30m", "0s", "999999w", "1000000d", "5", "", "1d"]) | st.text(max_size=8)
silence_bodies = st.fixed_dictionaries(
    {},
    optional={
        "matchers": st.dictionaries(
            st.sampled_from(["budget", "zone-id", "host", "proxy-id", "region-id", "x"]),
            st.sampled_from(["edgeone-traffic", "monthly-spend", "edge*", "*", "", "a*b"]) | st.text(max_size=10),
            max_size=3,
        )
        | json_values,
        "duration": durations | json_values,
        "ends_at": datetimes | json_values,
        "starts_at": datetimes | json_values,
        "comment": st.text(max_size=20) | json_values,
    },
)
# Mostly valid silences with one extreme part: the path most likely to reach date arithmetic.
plausible_silences = st.fixed_dictionaries(
    {"matchers": st.just({"budget": "edge*"})},
    optional={"starts_at": datetimes, "comment": st.text(max_size=20)},
).flatmap(
    lambda d: st.one_of(
        st.builds(lambda v: {**d, "duration": v}, durations),
        st.builds(lambda v: {**d, "ends_at": v}, datetimes),
    )
)
check_bodies = st.fixed_dictionaries(
    {}, optional={"dry_run": st.booleans() | json_values, "at": datetimes | json_values}
)
queries = st.dictionaries(
    st.sampled_from(["budget", "group", "limit", "cursor", "runs", "expired"]) | st.text(max_size=6),
    st.sampled_from(["edgeone-traffic", "zone-id=zone-a", "2", "0", "x", "", "a=b=c", ",,", "99999999999999999999"])
    | st.text(max_size=20)
    | st.lists(st.text(max_size=5), max_size=3),
    max_size=4,
)


def _body(draw: st.DrawFn) -> tuple[Any, bool]:
    kind = draw(st.sampled_from(["none", "silence", "plausible", "check", "json", "text", "bytes"]))
    if kind == "none":
        return None, False
    if kind == "silence":
        raw = json.dumps(draw(silence_bodies)).encode()
    elif kind == "plausible":
        raw = json.dumps(draw(plausible_silences)).encode()
    elif kind == "check":
        raw = json.dumps(draw(check_bodies)).encode()
    elif kind == "json":
        raw = json.dumps(draw(json_values)).encode()
    elif kind == "text":
        raw = draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    else:
        raw = draw(st.binary(max_size=200))
    if draw(st.booleans()):
        return base64.b64encode(raw).decode(), True
    return raw.decode("utf-8", "replace"), False


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    path = draw(paths)
    method = draw(methods)
    body, b64 = _body(draw)
    headers: dict[str, Any] = draw(st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=3))
    if draw(st.booleans()):
        headers[draw(st.sampled_from(["Authorization", "authorization", "AUTHORIZATION"]))] = draw(auth_headers)
    if draw(st.booleans()):
        headers["Idempotency-Key"] = draw(st.sampled_from(["k1", "k2", "a b", ""]) | st.text(max_size=10))
    event: dict[str, Any] = {
        "requestContext": {"path": path, "httpMethod": method, "requestId": "fuzz", "stage": "release"},
        "headers": headers,
        "body": body,
        "isBase64Encoded": b64 if draw(st.booleans()) else draw(json_scalars),
        "path": path,
        "queryString": draw(queries),
        "httpMethod": method,
    }
    for key in draw(st.lists(st.sampled_from(list(event)), max_size=2)):
        event[key] = draw(json_values)  # some fields of the wrong type, or missing
    return event


def _check(response: Any) -> None:
    assert isinstance(response, dict)
    kind = response["headers"].get("Content-Type", "")
    assert response["isBase64Encoded"] is (kind == "image/png")  # only a chart is binary
    status = response["statusCode"]
    assert isinstance(status, int)
    assert 200 <= status < 600
    assert status != 500, response["body"]
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in response["headers"].items())
    if response["body"] and not kind.startswith("application/json"):  # the dashboard's pages and charts
        assert kind.startswith(("text/html", "image/")) and status < 500 and "Traceback" not in response["body"]
    elif response["body"]:
        doc = json.loads(response["body"])
        if status >= 400:
            assert set(doc) == {"error"}
            assert isinstance(doc["error"]["code"], str)
            assert isinstance(doc["error"]["message"], str)
            assert "Traceback" not in response["body"]
    for token in TOKENS:
        assert token not in response["body"]


@SETTINGS
@given(events(), st.none() | st.just({}) | json_values)
def test_structured_events_never_fail(event: dict[str, Any], context: Any) -> None:
    lib.api.set_app(APP)
    try:
        _check(main_handler(event, context))
    finally:
        lib.api.set_app(None)


@SETTINGS
@given(json_values, json_values)
def test_arbitrary_json_events_never_fail(event: Any, context: Any) -> None:
    lib.api.set_app(APP)
    try:
        _check(main_handler(event, context))
    finally:
        lib.api.set_app(None)


@SETTINGS
@given(st.sampled_from(["/check", "/silences"]), st.data())
def test_authorised_posts_with_random_bodies(path: str, data: st.DataObject) -> None:
    body = data.draw((silence_bodies | plausible_silences) if path == "/silences" else check_bodies)
    event = {
        "httpMethod": "POST",
        "path": path,
        "headers": {"Authorization": f"Bearer {TOKENS[0]}"},
        "body": json.dumps(body),
        "requestContext": {"stage": "release"},
    }
    lib.api.set_app(APP)
    try:
        response = main_handler(event, {})
    finally:
        lib.api.set_app(None)
    _check(response)
    assert response["statusCode"] in {200, 201, 400, 422}
