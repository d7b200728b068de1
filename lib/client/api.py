"""``ApiClient``: Tencent Cloud API 3.0 over one pooled ``requests`` session (sign, limit, send, retry, map errors).

``requests`` is imported when a client is built, not when this module is imported, to keep cold
start small for code paths that never call the API.
"""

from __future__ import annotations

import json
import logging
import random as _random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from lib.client.credentials import Credentials, resolve_credentials
from lib.client.endpoints import Target, check_site, check_token, parse_override, resolve
from lib.client.ratelimit import RateLimiter
from lib.client.retry import (
    SIGNATURE_EXPIRE,
    TOKEN_FAILURE,
    RetryPolicy,
    is_retryable_code,
    is_retryable_status,
    is_throttled,
)
from lib.errors import ApiError, DeadlineExceeded, RequestError, TransportError
from lib.signing import flatten_params, tc3_headers, v1_params

if TYPE_CHECKING:
    import requests

log = logging.getLogger("lib.client")

KB = 1024
MB = 1024 * KB
# Request Structure: GET packets <= 32 KB; POST <= 1 MB with HmacSHA1/HmacSHA256, <= 10 MB with TC3.
SIZE_LIMITS = {"GET": 32 * KB, "v1": 1 * MB, "TC3": 10 * MB}
TC3 = "TC3-HMAC-SHA256"
V1_METHODS = ("HmacSHA1", "HmacSHA256")
REQUEST_CLIENT = "BUDGET_ALERTS_0.1"  # X-TC-RequestClient: ^[0-9a-zA-Z-_,;.]+$
EXCERPT = 300  # characters of a bad body kept in a TransportError
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)  # built once, reused


@dataclass(frozen=True)
class Call:
    """What one ``ApiClient.call`` asks for; it is signed afresh for every attempt."""

    service: str
    version: str
    action: str
    params: dict[str, Any]
    region: str | None
    method: str
    signature: str
    target: Target
    body: bytes | None  # the JSON body of a TC3 POST, encoded once

    @property
    def name(self) -> str:
        return f"{self.service}.{self.action}"


@dataclass(frozen=True)
class Prepared:
    """One signed request, ready to send."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    size: int  # request line + headers + body, the "packet" the size limits apply to


def encode_json(params: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; anything that is not JSON or not encodable as UTF-8 is refused before sending."""
    try:
        return _JSON.encode(params).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RequestError(f"parameters are not valid UTF-8 text: {exc.reason}") from exc
    except (TypeError, ValueError) as exc:
        raise RequestError(f"parameters cannot be sent as JSON: {exc}") from exc


def encode_form(params: Mapping[str, Any]) -> str:
    """``k=v&...`` in the given order with ``quote_plus`` (what the SDK sends and signs for GET)."""
    try:
        return urlencode(params, encoding="utf-8", errors="strict")
    except UnicodeEncodeError as exc:
        raise RequestError(f"parameters are not valid UTF-8 text: {exc.reason}") from exc


def packet_size(method: str, target: str, headers: Mapping[str, str], body: bytes | None) -> int:
    line = len(method) + len(target) + len(" HTTP/1.1\r\n") + 1
    head = sum(len(k) + len(v) + 4 for k, v in headers.items()) + 2  # header values are ASCII (checked)
    return line + head + (len(body) if body else 0)


def excerpt(content: bytes) -> str:
    text = content[: EXCERPT * 4].decode("utf-8", errors="replace")
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


class ApiClient:
    """Calls ``service``/``version``/``action`` and returns the ``Response`` object, or raises a typed error.

    - ``credentials`` None: resolved from ``environ`` (the chain of DESIGN §3.2) at the first call; a call
      without credentials raises CredentialError, it is never sent unsigned.
    - ``endpoint``: a base URL replacing the API host for every call (``BUDGET_API_ENDPOINT``); the Host
      header sent is the override's host and is what gets signed; the signature's service stays the API's.
    - ``site``: ``cn`` or ``intl``; ``regional``: send to ``<service>.<region>.tencentcloudapi.com`` when a
      region is given (otherwise the nearest-region domain is used and the region goes in X-TC-Region).
    - ``clock`` gives the signing time (Unix seconds); ``sleep``/``random``/``monotonic`` drive backoff,
      rate limiting and the deadline. All are injectable for tests and for a sandbox with a fixed clock.
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        endpoint: str | None = None,
        site: str = "cn",
        session: requests.Session | None = None,
        environ: Mapping[str, str] | None = None,
        regional: bool = False,
        language: str | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        pool_size: int = 16,
    ) -> None:
        import requests
        import requests.adapters

        self.site = check_site(site)
        self.override: Target | None = parse_override(endpoint) if endpoint else None
        self.regional = regional
        if language is not None and language not in ("zh-CN", "en-US"):
            raise ValueError(f"language must be zh-CN or en-US, not {language!r}")
        self.language = language
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._random = random
        self.rate_limiter = rate_limiter or RateLimiter(clock=monotonic, sleep=sleep)
        self._explicit = credentials
        self._environ = environ
        self._credentials: Credentials | None = None
        self._credentials_lock = threading.Lock()
        self.skew = 0.0  # seconds to add to clock(), learnt from the server's Date on SignatureExpire
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **options: Any) -> ApiClient:
        """Built from ``BUDGET_SITE``, ``BUDGET_API_ENDPOINT`` and, lazily, the credential chain."""
        from lib.settings import Settings

        env = dict(environ)
        settings = Settings.from_environ(env)
        options.setdefault("site", settings.site)
        options.setdefault("endpoint", settings.api_endpoint)
        return cls(options.pop("credentials", None), environ=env, **options)

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- credentials -------------------------------------------------------------------------------

    def credentials(self, *, refresh: bool = False) -> Credentials:
        """The credentials calls are signed with (resolved once, or again when ``refresh``)."""
        with self._credentials_lock:
            if self._credentials is None or refresh:
                self._credentials = resolve_credentials(self._environ, self._explicit)
            return self._credentials

    # -- the call ----------------------------------------------------------------------------------

    def call(
        self,
        service: str,
        version: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        region: str | None = None,
        *,
        method: str = "POST",
        signature: str = TC3,
    ) -> dict[str, Any]:
        """The API's ``Response`` object (``RequestId`` included).

        ``method`` POST (JSON body) or GET (query string); ``signature`` TC3-HMAC-SHA256 (default) or
        HmacSHA1/HmacSHA256 (v1: form POST or GET). Raises RequestError before sending anything too big
        or not UTF-8, ApiError for an error envelope, TransportError when no usable answer came back,
        DeadlineExceeded when retries ran out of time, CredentialError when there is nothing to sign with.
        """
        method = method.upper()
        if method not in ("POST", "GET"):
            raise RequestError(f"unsupported method {method!r}: Tencent Cloud API 3.0 takes POST or GET")
        if signature != TC3 and signature not in V1_METHODS:
            raise RequestError(f"unknown signature method {signature!r}")
        for what, value in (("service", service), ("version", version), ("action", action)):
            check_token(what, value)
        if region:
            check_token("region", region)
        target = resolve(service, site=self.site, region=region, regional=self.regional, override=self.override)
        params = dict(params or {})
        body = encode_json(params) if method == "POST" and signature == TC3 else None
        return self._call(Call(service, version, action, params, region or None, method, signature, target, body))

    def _call(self, request: Call) -> dict[str, Any]:
        """Limit, sign, send; retry what can be retried within the attempts and the deadline."""
        name = request.name
        deadline = self._monotonic() + self.retry.deadline
        attempt = 0
        resigned = refreshed = False
        while True:
            attempt += 1
            prepared = self._prepare(request)
            self.rate_limiter.acquire(request.service, request.action)
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(
                    f"{name}: the {self.retry.deadline:g} s deadline ran out before attempt {attempt}"
                )
            started = self._monotonic()
            try:
                result = self._send(prepared, request.action, (self.timeout[0], min(self.timeout[1], remaining)))
            except ApiError as exc:
                error: ApiError | TransportError = exc
                if exc.code == SIGNATURE_EXPIRE and not resigned:
                    resigned = True
                    log.warning("%s: %s; re-signing once (clock skew now %+.0f s)", name, exc.code, self.skew)
                    attempt -= 1
                    continue
                if exc.code == TOKEN_FAILURE and not refreshed and self._explicit is None:
                    refreshed = True
                    before = self.credentials()
                    # Another thread's call may have renewed the keys since this one was signed: use those.
                    signed_with = prepared.headers.get("X-TC-Token")
                    renewed = signed_with is not None and before.token != signed_with
                    if renewed or self.credentials(refresh=True) != before:
                        log.warning("%s: %s; credentials changed, re-signing once", name, exc.code)
                        attempt -= 1
                        continue
            except TransportError as exc:
                error = exc
            else:
                latency = (self._monotonic() - started) * 1000
                log.info(
                    "%s ok request_id=%s latency_ms=%.0f attempt=%d", name, result.get("RequestId"), latency, attempt
                )
                return result
            latency = (self._monotonic() - started) * 1000
            if not error.retryable or attempt >= self.retry.attempts:
                log.warning("%s failed after %d attempt(s) latency_ms=%.0f: %s", name, attempt, latency, error)
                raise error
            throttled = isinstance(error, ApiError) and is_throttled(error.code)
            delay = self.retry.delay(attempt - 1, self._random, throttled=throttled)
            if self._monotonic() + delay >= deadline:
                raise DeadlineExceeded(
                    f"{name}: the {self.retry.deadline:g} s deadline leaves no time for attempt {attempt + 1} "
                    f"(last error: {error})"
                ) from error
            log.info(
                "%s attempt %d failed latency_ms=%.0f: %s; retrying in %.2f s", name, attempt, latency, error, delay
            )
            self._sleep(delay)

    # -- steps -------------------------------------------------------------------------------------

    def _prepare(self, request: Call) -> Prepared:
        """Sign ``request`` with the current credentials and clock; refuse it if it is over the size limit."""
        creds = self.credentials()
        timestamp = int(self._clock() + self.skew)
        if request.signature == TC3:
            query, body, headers = self._sign_tc3(request, creds, timestamp)
            kind = "GET" if request.method == "GET" else "TC3"
        else:
            query, body, headers = self._sign_v1(request, creds, timestamp)
            kind = "GET" if request.method == "GET" else "v1"
        url = f"{request.target.url}?{query}" if query else request.target.url
        size = packet_size(request.method, "/" + url.split("/", 3)[3], headers, body)
        if size > SIZE_LIMITS[kind]:
            what = "GET" if kind == "GET" else f"{kind} POST"
            hint = " (use POST)" if kind == "GET" else ""
            raise RequestError(
                f"{request.name}: the request is {size:,} bytes; the limit for {what} is {SIZE_LIMITS[kind]:,}{hint}"
            )
        return Prepared(request.method, url, headers, body, size)

    def _sign_tc3(self, request: Call, creds: Credentials, timestamp: int) -> tuple[str, bytes | None, dict[str, str]]:
        query = encode_form(flatten_params(request.params)) if request.method == "GET" else ""
        headers = tc3_headers(
            creds.secret_id,
            creds.secret_key,
            service=request.service,
            host=request.target.host,
            action=request.action,
            version=request.version,
            payload=request.body or b"",
            timestamp=timestamp,
            region=request.region,
            token=creds.token,
            method=request.method,
            query=query,
            language=self.language,
        )
        headers["X-TC-RequestClient"] = REQUEST_CLIENT
        return query, request.body, headers

    def _sign_v1(self, request: Call, creds: Credentials, timestamp: int) -> tuple[str, bytes | None, dict[str, str]]:
        common: dict[str, Any] = {"Action": request.action, "Version": request.version}
        if request.region:
            common["Region"] = request.region
        if self.language:
            common["Language"] = self.language
        signed = v1_params(
            creds.secret_id,
            creds.secret_key,
            host=request.target.host,
            params={**request.params, **common},
            timestamp=timestamp,
            nonce=1 + int(self._random() * 2_147_483_646),
            method=request.method,
            signature_method=request.signature,
            token=creds.token,
        )
        form = encode_form(signed)
        headers = {"Host": request.target.host, "Content-Type": "application/x-www-form-urlencoded"}
        if request.method == "GET":
            return form, None, headers
        return "", form.encode("ascii"), headers

    def _send(self, prepared: Prepared, action: str, timeout: tuple[float, float]) -> dict[str, Any]:
        import requests

        try:
            response = self.session.request(
                prepared.method,
                prepared.url,
                headers=prepared.headers,
                data=prepared.body,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise TransportError(f"{action}: TLS error: {exc}", retryable=False) from exc
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"{action}: network error: {type(exc).__name__}: {exc}", retryable=True) from exc
        return self._parse(response, action)

    def _parse(self, response: requests.Response, action: str) -> dict[str, Any]:
        content = response.content
        if response.status_code != 200:
            raise TransportError(
                f"{action}: HTTP {response.status_code} from {response.url.split('?', 1)[0]}",
                status=response.status_code,
                body_excerpt=excerpt(content),
                retryable=is_retryable_status(response.status_code),
            )
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise TransportError(
                f"{action}: the answer is not JSON", status=200, body_excerpt=excerpt(content), retryable=False
            ) from exc
        inner = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(inner, dict):
            raise TransportError(
                f"{action}: the answer has no Response object",
                status=200,
                body_excerpt=excerpt(content),
                retryable=False,
            )
        error = inner.get("Error")
        if error is None:
            return inner
        if not isinstance(error, dict):
            raise TransportError(
                f"{action}: malformed Error object", status=200, body_excerpt=excerpt(content), retryable=False
            )
        code = str(error.get("Code") or "UnknownError")
        if code == SIGNATURE_EXPIRE:
            self._learn_skew(response.headers.get("Date"))
        raise ApiError(
            code,
            str(error.get("Message") or ""),
            request_id=inner.get("RequestId"),
            action=action,
            retryable=is_retryable_code(code),
        )

    def _learn_skew(self, date_header: str | None) -> None:
        """The server said our timestamp is too far off: take its Date header as the clock to sign with."""
        if not date_header:
            return
        from email.utils import parsedate_to_datetime

        try:
            server = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError, IndexError):
            return  # no usable Date: the re-sign just uses a fresh local timestamp
        self.skew = server - self._clock()


__all__ = ["ApiClient", "Prepared"]
