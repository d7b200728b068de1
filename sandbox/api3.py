"""API 3.0 front door of the sandbox: transport rules, signatures, envelope, rate limits, faults, dispatch.

One request in, one ``(status, headers, body)`` out. Every API answer is HTTP 200 with
``Content-Type: application/json`` exactly (the Python SDK only reads errors with that exact type) and
``{"Response": {..., "RequestId"}}``; errors use ``{"Response": {"Error": {"Code", "Message"},
"RequestId"}}``. Only injected faults with an ``http_status`` answer otherwise.

Order of checks: method -> size -> signature (TC3 header, or v1 parameters) -> product, version and
action -> rate limit -> injected fault -> parameters -> the action itself.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import ChainMap, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from sandbox.scenario import Scenario
from sandbox.verify import AuthError, Caller, Credential, verify_tc3, verify_v1

JSON = "application/json"
GET_LIMIT = 32 * 1024  # bytes of query string
V1_POST_LIMIT = 1024 * 1024
TC3_POST_LIMIT = 10 * 1024 * 1024
V1_COMMON = frozenset(
    {
        "Action",
        "Version",
        "Region",
        "Timestamp",
        "Nonce",
        "SecretId",
        "Signature",
        "SignatureMethod",
        "Token",
        "Language",
        "RequestClient",
    }
)

Schema = Any  # type, [Schema] (a list of), or {name: Schema} (an object)


class ApiFailure(Exception):
    """An API error to answer with: ``{"Error": {"Code": code, "Message": message}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Context:
    """What an action handler may use: the scenario, the data-clock instant, who called."""

    scenario: Scenario
    now: datetime
    caller: Caller
    region: str | None = None
    language: str = "zh-CN"


Handler = Callable[[dict[str, Any], Context], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    handler: Handler
    params: Mapping[str, Schema]


@dataclass(frozen=True)
class Product:
    name: str
    version: str
    actions: Mapping[str, Action]


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    body_too_large: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


Reply = tuple[int, dict[str, str], bytes]


def envelope(payload: Mapping[str, Any], request_id: str) -> Reply:
    body = json.dumps({"Response": {**payload, "RequestId": request_id}}, ensure_ascii=False).encode("utf-8")
    return 200, {"Content-Type": JSON}, body


def error_reply(code: str, message: str, request_id: str | None = None) -> Reply:
    return envelope({"Error": {"Code": code, "Message": message}}, request_id or str(uuid.uuid4()))


# --- parameters ----------------------------------------------------------------------------------


def unflatten(flat: Mapping[str, str]) -> dict[str, Any]:
    """``{"ZoneIds.0": "*", "Filters.0.Type": "host"}`` -> ``{"ZoneIds": ["*"], "Filters": [{"Type": "host"}]}``."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ApiFailure("InvalidParameter", f"The parameter `{key}` conflicts with another one.")
        if isinstance(node.get(parts[-1]), dict):
            raise ApiFailure("InvalidParameter", f"The parameter `{key}` conflicts with another one.")
        node[parts[-1]] = value
    return _lists(root)  # type: ignore[no-any-return]


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def coerce(
    params: Mapping[str, Any], schema: Mapping[str, Schema], *, from_strings: bool, prefix: str = ""
) -> dict[str, Any]:
    """Check parameter names and types against ``schema``; flattened (string) values are converted."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in schema:
            raise ApiFailure("UnknownParameter", f"The parameter `{prefix}{name}` is not recognized.")
        out[name] = _coerce_value(value, schema[name], from_strings, f"{prefix}{name}")
    return out


def _coerce_value(value: Any, schema: Schema, from_strings: bool, path: str) -> Any:
    if value is None:
        return None
    if isinstance(schema, list):
        if from_strings and isinstance(value, dict) and not value:
            return []
        if not isinstance(value, list):
            raise ApiFailure("InvalidParameter", f"The parameter `{path}` must be an array.")
        return [_coerce_value(v, schema[0], from_strings, f"{path}.{i}") for i, v in enumerate(value)]
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise ApiFailure("InvalidParameter", f"The parameter `{path}` must be an object.")
        return coerce(value, schema, from_strings=from_strings, prefix=f"{path}.")
    if schema is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise ApiFailure("InvalidParameter", f"The parameter `{path}` must be a boolean.")
    if schema is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise ApiFailure("InvalidParameter", f"The parameter `{path}` must be an integer.")
    if schema is str:
        if isinstance(value, str):
            return value
        raise ApiFailure("InvalidParameter", f"The parameter `{path}` must be a string.")
    raise TypeError(f"bad schema for {path}: {schema!r}")


# --- rate limits ---------------------------------------------------------------------------------


class RateLimiter:
    """Sliding one-second window per (caller, action), on the monotonic clock."""

    def __init__(self, limits: Mapping[str, int], clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = dict(limits)
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def limit(self, action: str, product: str = "") -> int:
        """The product's own limit for ``action`` (key ``product.Action``), else the action's, else 0."""
        return self.limits.get(f"{product}.{action}", self.limits.get(action, 0))

    def allow(self, secret_id: str, action: str, product: str = "") -> bool:
        """Count one call by ``secret_id`` (or the account it acts as) to ``action``; False when over the limit."""
        limit = self.limit(action, product)
        if limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault((secret_id, f"{product}.{action}"), deque())
            while hits and hits[0] <= now - 1.0:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True


# --- the front door ------------------------------------------------------------------------------


class Api3:
    """Dispatches signed API 3.0 requests to the emulated products."""

    def __init__(
        self,
        scenario: Scenario,
        credentials: Mapping[str, Credential],
        products: Mapping[str, Product],
        *,
        signature_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        issued: dict[str, Credential] | None = None,
    ) -> None:
        self.scenario = scenario
        # ``issued``: temporary keys (sandbox.sts) added while serving, looked up live.
        live: dict[str, Credential] = issued if issued is not None else {}
        self.credentials: Mapping[str, Credential] = ChainMap(dict(credentials), live)
        self.products = dict(products)
        self.signature_clock = signature_clock
        self.sleep = sleep
        self.limiter = RateLimiter(scenario.rate_limits)
        self._by_version = {p.version: p.name for p in products.values()}

    def handle(self, request: Request) -> Reply:
        request_id = str(uuid.uuid4())
        try:
            return self._handle(request, request_id)
        except ApiFailure as exc:
            return error_reply(exc.code, exc.message, request_id)
        except AuthError as exc:
            return error_reply(exc.code, exc.message, request_id)

    def _handle(self, request: Request, request_id: str) -> Reply:
        method = request.method.upper()
        if method not in ("GET", "POST"):
            raise ApiFailure("UnsupportedProtocol", f"HTTP method {method} is not supported; use GET or POST.")
        headers = request.headers
        content_type = headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        self._check_size(request, method, media, "authorization" in headers)
        now_wall = self.signature_clock()
        host = headers.get("host", "")

        if "authorization" in headers:
            caller = verify_tc3(
                method=method,
                path=request.path,
                raw_query=request.query if method == "GET" else "",
                headers=headers,
                body=request.body if method == "POST" else b"",
                credentials=self.credentials,
                now=now_wall,
            )
            action = headers.get("x-tc-action", "")
            version = headers.get("x-tc-version", "")
            region = headers.get("x-tc-region") or None
            language = headers.get("x-tc-language", "zh-CN")
            raw_params, from_strings = self._tc3_params(request, method, media)
        else:
            flat = self._v1_params(request, method, media)
            caller = verify_v1(
                method=method, host=host, path=request.path, params=flat, credentials=self.credentials, now=now_wall
            )
            action, version = flat.get("Action", ""), flat.get("Version", "")
            region = flat.get("Region") or None
            language = flat.get("Language", "zh-CN")
            raw_params = unflatten({k: v for k, v in flat.items() if k not in V1_COMMON})
            from_strings = True

        if not action:
            raise ApiFailure("MissingParameter", "The request is missing a required parameter `Action`.")
        if not version:
            raise ApiFailure("MissingParameter", "The request is missing a required parameter `Version`.")
        product = self._product(caller, host, action, version)
        spec = product.actions.get(action)
        if spec is None:
            raise ApiFailure("InvalidAction", f"The action `{action}` is not valid for this product ({product.name}).")
        # Limits are per account (a member's temporary keys share its limit), the host's keys per SecretId.
        if not self.limiter.allow(caller.account or caller.secret_id, action, product.name):
            raise ApiFailure(
                "RequestLimitExceeded",
                f"Your current request times exceed the limit of {self.limiter.limit(action, product.name)} per second "
                f"for {action}, please try again later.",
            )
        fault = self.scenario.fault_for(product.name, action)
        if fault is not None:
            if fault.latency:
                self.sleep(fault.latency)
            if fault.http_status is not None:
                text = f"{fault.http_status} {fault.message}\n".encode()
                return fault.http_status, {"Content-Type": "text/plain"}, text
            if fault.code is not None:
                raise ApiFailure(fault.code, fault.message)
        if not isinstance(raw_params, dict):
            raise ApiFailure("InvalidParameter", "The request body must be a JSON object.")
        params = coerce(raw_params, spec.params, from_strings=from_strings)
        ctx = Context(self.scenario, self.scenario.now(), caller, region=region, language=language)
        result = spec.handler(params, ctx)
        return envelope(result, request_id)

    def _check_size(self, request: Request, method: str, media: str, tc3: bool) -> None:
        if method == "GET":
            if len(request.query.encode()) > GET_LIMIT:
                raise ApiFailure(
                    "RequestSizeLimitExceeded", f"The request exceeds the GET size limit ({GET_LIMIT} bytes)."
                )
            return
        limit = TC3_POST_LIMIT if tc3 and media != "application/x-www-form-urlencoded" else V1_POST_LIMIT
        if request.body_too_large or len(request.body) > limit:
            raise ApiFailure("RequestSizeLimitExceeded", f"The request body exceeds the size limit ({limit} bytes).")

    @staticmethod
    def _tc3_params(request: Request, method: str, media: str) -> tuple[Any, bool]:
        if method == "GET":
            return unflatten(dict(parse_qsl(request.query, keep_blank_values=True))), True
        if media == JSON:
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ApiFailure("InvalidParameter", "The request body must be UTF-8.") from exc
            if not text.strip():
                return {}, False
            try:
                return json.loads(text), False
            except json.JSONDecodeError as exc:
                raise ApiFailure("InvalidParameter", f"The request body is not valid JSON: {exc.msg}.") from exc
        if media == "application/x-www-form-urlencoded":
            return unflatten(dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))), True
        if media == "multipart/form-data":
            return _multipart(request), True
        raise ApiFailure(
            "InvalidParameter", f"Content-Type {media or '(none)'} is not supported; use application/json."
        )

    @staticmethod
    def _v1_params(request: Request, method: str, media: str) -> dict[str, str]:
        if method == "GET":
            return dict(parse_qsl(request.query, keep_blank_values=True))
        if media != "application/x-www-form-urlencoded":
            raise ApiFailure(
                "AuthFailure.InvalidAuthorization",
                "The Authorization header is missing: sign POST application/json requests with TC3-HMAC-SHA256, "
                "or send a v1 form (application/x-www-form-urlencoded) with Signature.",
            )
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiFailure("InvalidParameter", "The request body must be UTF-8.") from exc
        return dict(parse_qsl(text, keep_blank_values=True))

    def _product(self, caller: Caller, host: str, action: str, version: str) -> Product:
        label = host.split("://", 1)[-1].split(".", 1)[0].lower()
        by_host = self.products.get(label) if "." in host else None
        if by_host is not None and caller.service is not None and caller.service != by_host.name:
            raise AuthError(
                "AuthFailure.SignatureFailure",
                f"The credential scope's service `{caller.service}` does not match the host's service "
                f"`{by_host.name}`.",
            )
        owner_name = self._owner(action, version)
        if by_host is not None:
            product = by_host
        elif caller.service is not None:
            product_or_none = self.products.get(caller.service)
            if product_or_none is None:
                if owner_name is not None:
                    raise AuthError(
                        "AuthFailure.SignatureFailure",
                        f"The credential scope's service `{caller.service}` does not match `{action}`'s "
                        f"product `{owner_name}`.",
                    )
                raise ApiFailure("NoSuchProduct", f"The product `{caller.service}` does not exist here.")
            product = product_or_none
            if owner_name is not None and owner_name != product.name:
                raise AuthError(
                    "AuthFailure.SignatureFailure",
                    f"The credential scope's service `{caller.service}` does not match `{action}`'s product "
                    f"`{owner_name}`.",
                )
        else:
            name = owner_name or self._by_version.get(version)
            if name is None:
                raise ApiFailure("NoSuchVersion", f"The version `{version}` does not exist for any product here.")
            product = self.products[name]
        if version != product.version:
            raise ApiFailure("NoSuchVersion", f"The version `{version}` does not exist for {product.name}.")
        return product

    def _owner(self, action: str, version: str) -> str | None:
        for product in self.products.values():
            if product.version == version and action in product.actions:
                return product.name
        return None


def _multipart(request: Request) -> dict[str, Any]:
    """Fields of a TC3 multipart body; JSON-typed parts (lists, objects) are decoded."""
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        raise ApiFailure("InvalidRequest", "The multipart body could not be parsed.")
    out: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise ApiFailure("InvalidRequest", "A multipart part has no name.")
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        text = raw.decode("utf-8", "replace")
        if part.get_content_type() == JSON:
            try:
                out[name] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ApiFailure("InvalidRequest", f"The multipart part `{name}` is not valid JSON.") from exc
        else:
            out[name] = text
    return out
