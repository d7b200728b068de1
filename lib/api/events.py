"""HTTP trigger events in, integrated responses out: the only module that knows their shapes.

Two event shapes arrive. A Function URL (SCF 583/96099) sends ``body``, ``headers`` (lower-case names,
the caller's address in ``x-scf-remote-addr``), ``httpMethod``, ``path`` and ``queryString``, and none of
``requestContext``, ``headerParameters``, ``isBase64Encoded``, ``pathParameters`` or
``queryStringParameters``. An API-gateway-shaped event (the retired API gateway, a TSE gateway) adds
``requestContext`` (with ``sourceIp`` and the ``stage``, whose name a default-domain URL puts in front of
the path), ``isBase64Encoded`` and the ``…Parameters`` maps, and may send headers in any case. An event
with a ``requestContext`` is read as a gateway's; any other as a Function URL's, whose path has no stage.
How a Function URL delivers a binary request body is not documented: ``isBase64Encoded`` is honoured
whenever it is present, and a body without it is text.

The answer is the integrated response (``isBase64Encoded``, ``statusCode``, ``headers``, ``body`` as a
string), which both callers understand. Events are trusted for shape only: every field may be missing or
of the wrong type, and a bad one is a 400, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lib.api.errors import ApiProblem, bad_request, too_large
from lib.api.response import Content, Response

MAX_BODY = 64 * 1024
JSON_TYPE = "application/json; charset=utf-8"
# Stage names an API-gateway service can publish to; a default-domain URL puts one in front of the path.
_STAGES = ("release", "test", "prepub")
_METHOD = re.compile(r"^[A-Z]{1,16}$")
REMOTE_ADDR_HEADER = "x-scf-remote-addr"  # where a Function URL puts the caller's address


@dataclass(frozen=True)
class Request:
    """One HTTP request, normalised: upper-case method, clean path, lower-case header names."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    request_id: str = ""
    source_ip: str = ""
    base_path: str = ""  # the stage prefix a gateway's default-domain URL put in front of the route ("/release")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body parsed as JSON (None when empty); a 400 naming the position when it is not JSON."""
        if not self.body.strip():
            return None
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise bad_request("the body is not UTF-8", field="body", code="invalid_json") from exc
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            msg = f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            raise bad_request(msg, field="body", code="invalid_json") from exc
        except ValueError as exc:  # NaN / Infinity, refused by _refuse_constant; an integer of 4,300+ digits
            reason = "a number has too many digits" if "digits" in str(exc) else str(exc)
            raise bad_request(f"the body is not JSON: {reason}", field="body", code="invalid_json") from exc
        except RecursionError as exc:
            raise bad_request("the body is nested too deeply", field="body", code="invalid_json") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def request_id(event: Any, context: Any) -> str:
    """SCF's request id when there is one (it is what the function log shows), else a fresh one."""
    for source in (context, _dict(event).get("requestContext")):
        value = _dict(source).get("request_id" if source is context else "requestId")
        if isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return uuid.uuid4().hex


def parse_event(event: Any, context: Any) -> Request:
    """Turn a Function URL or API-gateway event into a Request, or raise ApiProblem (400, 413)."""
    if not isinstance(event, Mapping):
        raise bad_request("the event is not a JSON object", field="event")
    from_gateway = isinstance(event.get("requestContext"), Mapping)
    ctx = _dict(event.get("requestContext"))
    method = event.get("httpMethod") or ctx.get("httpMethod")
    if not isinstance(method, str) or not _METHOD.match(method.upper()):
        raise bad_request("the event has no valid httpMethod", field="httpMethod")
    headers = _headers(event.get("headers"))
    path, base_path = _path(event.get("path"), ctx, strip_stage=from_gateway)
    return Request(
        method=method.upper(),
        path=path,
        base_path=base_path,
        headers=headers,
        query=_query(event),
        body=_body(event.get("body"), _truthy(event.get("isBase64Encoded"))),
        request_id=request_id(event, context),
        source_ip=_source_ip(ctx, headers),
    )


def _source_ip(ctx: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """The caller's address: the gateway's ``sourceIp``, else the Function URL's ``x-scf-remote-addr``."""
    value = ctx.get("sourceIp")
    if isinstance(value, str) and value:
        return value
    return headers.get(REMOTE_ADDR_HEADER, "").strip()


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def _path(raw: Any, ctx: Mapping[str, Any], *, strip_stage: bool) -> tuple[str, str]:
    """The route path (no query, no doubled or trailing slashes, no stage prefix behind a gateway) and
    the stage prefix taken off it ("" when none), which pages put back in front of their links."""
    if not isinstance(raw, str) or not raw:
        raw = ctx.get("path")
    if not isinstance(raw, str) or not raw.startswith("/") or len(raw) > 2048:
        raise bad_request("the event has no valid path", field="path")
    path = re.sub(r"/{2,}", "/", raw.split("?", 1)[0])
    # A default-domain URL is https://service-….apigw…/release/status; the stage is not part of the route.
    # A Function URL has no stage: its path is the route as the client sent it.
    base = ""
    for name in _STAGES if strip_stage else ():
        prefix = f"/{name}"
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix) :] or "/"
            base = prefix
            break
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path, base


def _headers(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _dict(raw).items():
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif value is None:
            text = ""
        else:
            text = str(value)
        out[str(key).strip().lower()] = text
    return out


def _query(event: Mapping[str, Any]) -> dict[str, str]:
    # queryString holds every parameter; queryStringParameters only the ones declared on the API.
    raw = event.get("queryString")
    if not isinstance(raw, Mapping) or not raw:
        raw = event.get("queryStringParameters")
    out: dict[str, str] = {}
    for key, raw_value in _dict(raw).items():
        value = raw_value
        if isinstance(value, list):
            value = value[0] if value else ""  # a repeated parameter: the first one counts
        out[str(key)] = "" if value is None else str(value)
    return out


def _body(raw: Any, is_base64: bool) -> bytes:
    if raw is None:
        return b""
    if isinstance(raw, (dict, list)):  # hand-written events for `invoke` sometimes carry the object itself
        try:
            raw = json.dumps(raw)
        except (TypeError, ValueError, RecursionError) as exc:  # nested too deeply, a cycle, a non-text key
            raise bad_request("the event body object cannot be written as JSON", field="body") from exc
    if not isinstance(raw, str):
        raise bad_request("the event body is not a string", field="body")
    if is_base64:
        if len(raw) > (MAX_BODY * 4) // 3 + 4:
            raise too_large(MAX_BODY)
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_request("isBase64Encoded is set but the body is not Base64", field="body") from exc
    else:
        if len(raw) > MAX_BODY:  # a character is at least one byte
            raise too_large(MAX_BODY)
        data = raw.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY:
        raise too_large(MAX_BODY)
    return data


def jsonable(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """A copy of ``value`` made of JSON types only, with every secret string masked.

    Decimals become numbers, datetimes ISO strings, NaN/infinity null (JSON has no word for them).
    """
    if isinstance(value, str):
        return mask(value, secrets)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {mask(str(k), secrets): jsonable(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, secrets) for v in value]
    return mask(str(value), secrets)


# Query parameters that carry credentials in webhook URLs (WeCom key, DingTalk access_token, signatures).
_SECRET_PARAM = re.compile(r"(?i)\b(key|access_token|token|sign|signature|secret)=[^&\s\"']+")


def mask(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return _SECRET_PARAM.sub(r"\1=[redacted]", text) if "=" in text else text


def integrated_response(response: Response, *, request_id: str, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """The SCF integrated-response document: a string body, JSON unless there is no body or it is a
    ``Content`` (text as it is, secrets masked; bytes base64-encoded with ``isBase64Encoded``)."""
    headers = {"Cache-Control": "no-store", "X-Request-Id": request_id}
    if isinstance(response.body, Content):
        headers["Content-Type"] = response.body.media_type
        headers.update(response.headers)
        data = response.body.data
        if isinstance(data, bytes):
            encoded = base64.b64encode(data).decode("ascii")
            return {"isBase64Encoded": True, "statusCode": response.status, "headers": headers, "body": encoded}
        text = mask(data, secrets).encode("utf-8", "replace").decode("utf-8")  # a lone surrogate: never invalid
        return {"isBase64Encoded": False, "statusCode": response.status, "headers": headers, "body": text}
    if response.body is None:
        body = ""
    else:
        doc = jsonable(response.body, secrets)
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        try:
            body.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate echoed from the request: \uXXXX escapes keep it valid UTF-8
            body = json.dumps(doc, separators=(",", ":"))
        headers["Content-Type"] = JSON_TYPE
    headers.update(response.headers)
    return {"isBase64Encoded": False, "statusCode": response.status, "headers": headers, "body": body}


__all__ = ["MAX_BODY", "ApiProblem", "Request", "Response", "integrated_response", "parse_event", "request_id"]
