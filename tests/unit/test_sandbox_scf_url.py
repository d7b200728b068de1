"""The sandbox's Function URL shapes (``sandbox.function_url``): HTTP request → event, outcome → HTTP answer."""

from __future__ import annotations

import base64
import json

from sandbox.function_url import http_answer, url_event
from sandbox.scf_runtime import Outcome

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def ok(result: object) -> Outcome:
    return Outcome(True, result, "", "", "", 1.0)


def test_event_has_the_function_url_shape() -> None:
    event = url_event(
        "post",
        "/silences?b=1&a=x&a=y",
        [("Content-Type", "application/json"), ("X-Dup", "1"), ("x-dup", "2"), ("X-SCF-Remote-Addr", "6.6.6.6")],
        b'{"k": "\xc3\xa9"}',
        "192.0.2.5",
    )
    assert set(event) == {"body", "headers", "httpMethod", "path", "queryString"}
    assert event["httpMethod"] == "POST" and event["path"] == "/silences"
    assert event["queryString"] == {"b": "1", "a": ["x", "y"]}
    assert event["headers"] == {"content-type": "application/json", "x-dup": "1, 2", "x-scf-remote-addr": "192.0.2.5"}
    assert event["body"] == '{"k": "é"}'


def test_event_without_body_and_with_a_binary_body() -> None:
    assert "body" not in url_event("GET", "/", [], b"", "192.0.2.5")
    binary = url_event("POST", "/upload", [], PNG, "192.0.2.5")
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == PNG


def test_path_is_percent_decoded_and_defaults_to_root() -> None:
    assert url_event("GET", "/l/a%20b", [], b"", "x")["path"] == "/l/a b"
    assert url_event("GET", "?q=1", [], b"", "x")["path"] == "/"


def test_integrated_response_with_a_png_becomes_raw_bytes() -> None:
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png", "Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(PNG).decode(),
        "isBase64Encoded": True,
    }
    status, headers, data = http_answer(ok(result))
    assert status == 200 and data == PNG
    assert ("Content-Type", "image/png") in headers
    assert [v for k, v in headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_integrated_response_with_text() -> None:
    status, headers, data = http_answer(
        ok({"statusCode": 404, "headers": {}, "body": "nope", "isBase64Encoded": False})
    )
    assert (status, data, headers) == (404, b"nope", [])


def test_json_without_status_code_is_a_200_json_answer() -> None:
    status, headers, data = http_answer(ok({"hello": "world"}))
    assert status == 200 and headers == [("Content-Type", "application/json")]
    assert json.loads(data) == {"hello": "world"}


def test_handler_error_and_bad_base64_are_502() -> None:
    status, _, data = http_answer(Outcome(False, None, "ValueError", "boom", "", 1.0))
    assert status == 502 and json.loads(data)["errorMessage"] == "boom"
    bad = {"statusCode": 200, "headers": {}, "body": "%%%", "isBase64Encoded": True}
    assert http_answer(ok(bad))[0] == 502
