"""The COS object store: the XML API over requests, signed with ``lib.signing.cos_authorization``.

Virtual-host addressing (``https://<bucket-appid>.cos.<region>.myqcloud.com/<prefix>/<key>``); with an
``endpoint`` (``BUDGET_COS_ENDPOINT``, e.g. the sandbox) requests go to that base URL but keep the
canonical ``Host`` header, which is signed. ``put_if_absent`` sends ``x-cos-forbid-overwrite: true`` and
reads ``409 FileAlreadyExists`` as "someone else created it"; that header is only enforced on a bucket
that has never had versioning enabled. Errors come back as XML and become ``StoreError(code, status)``;
5xx answers, throttling and timeouts are retried with backoff, each attempt signed afresh.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import requests

from lib.errors import StoreError
from lib.signing import cos_authorization
from lib.signing.cos import cos_quote
from lib.state.store import Meta, Obj, ObjectStore, check_key, check_prefix

if TYPE_CHECKING:
    from lib.client.credentials import Credentials

log = logging.getLogger("lib.state.cos")

_SIGNED = {"host", "content-length", "content-md5", "content-type"}
_RETRY_CODES = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "TooManyRequests"}
_PAGE = 1000  # ListObjects max-keys


def cos_host(bucket: str, region: str) -> str:
    """The canonical virtual host of a bucket (``examplebucket-1250000000.cos.ap-beijing.myqcloud.com``)."""
    return f"{bucket}.cos.{region}.myqcloud.com"


class CosStore(ObjectStore):
    """Objects under ``prefix/`` in one COS bucket (``<name>-<appid>``) of one region."""

    concurrency = 8  # requests' connection pool keeps 10 per host

    def __init__(
        self,
        bucket: str,
        region: str,
        prefix: str,
        credentials: Credentials,
        *,
        endpoint: str | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout: tuple[float, float] = (3.05, 20.0),
        retries: int = 3,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        sign_seconds: int = 900,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.host = cos_host(bucket, region)
        self.base_url = endpoint.rstrip("/") if endpoint else f"https://{self.host}"
        self._credentials = credentials
        self._own_session = session is None
        self._session = session or requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._sign_seconds = sign_seconds

    # -- plumbing ----------------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _signed_headers(
        self, method: str, path: str, params: Mapping[str, str], headers: dict[str, str]
    ) -> dict[str, str]:
        out = {"Host": self.host, **headers}
        if self._credentials.token:
            out["x-cos-security-token"] = self._credentials.token
        to_sign: dict[str, str | None] = {
            k.lower(): v for k, v in out.items() if k.lower() in _SIGNED or k.lower().startswith("x-cos-")
        }
        now = int(self._clock())
        out["Authorization"] = cos_authorization(
            self._credentials.secret_id,
            self._credentials.secret_key,
            method=method,
            path=path,
            params=dict(params),
            headers=to_sign,
            start=now - 60,  # tolerate a client clock slightly ahead of COS
            end=now + self._sign_seconds,
        )
        return out

    def _request(
        self,
        method: str,
        full_key: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[requests.Response, bool]:
        """Send with retries; returns the final answer and whether an earlier attempt may have landed."""
        params = dict(params or {})
        path = "/" + full_key
        url = self.base_url + "/" + cos_quote(full_key).replace("%2F", "/")
        if params:
            url += "?" + "&".join(f"{cos_quote(k)}={cos_quote(v)}" for k, v in sorted(params.items()))
        extra = dict(headers or {})
        if body is not None:
            extra["Content-Length"] = str(len(body))
        ambiguous = False
        last: StoreError | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(self._backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))
            signed = self._signed_headers(method, path, params, extra)
            try:
                resp = self._session.request(
                    method, url, data=body, headers=signed, timeout=self._timeout, allow_redirects=False
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                ambiguous = True
                last = StoreError(
                    f"COS {method} {full_key!r}: {type(exc).__name__} talking to {self.base_url}",
                    code=type(exc).__name__,
                    key=full_key,
                    retryable=True,
                )
                last.__cause__ = exc
                log.warning("COS %s %s attempt %d: %s", method, full_key, attempt + 1, type(exc).__name__)
                continue
            if resp.status_code >= 500 or (resp.status_code in (429, 503) or _error_code(resp) in _RETRY_CODES):
                ambiguous = True
                last = self._error(method, full_key, resp)
                log.warning("COS %s %s attempt %d: HTTP %d", method, full_key, attempt + 1, resp.status_code)
                resp.close()
                continue
            return resp, ambiguous
        assert last is not None
        raise last

    def _error(self, method: str, full_key: str, resp: requests.Response) -> StoreError:
        code, message = _parse_error(resp)
        request_id = resp.headers.get("x-cos-request-id", "")
        retryable = resp.status_code >= 500 or resp.status_code == 429 or code in _RETRY_CODES
        hint = ""
        if code == "RequestTimeTooSkewed" or (code == "AccessDenied" and "expired" in message.lower()):
            # COS answers a signature whose time window has passed with AccessDenied "Request has expired".
            hint = " (check the machine's clock)"
        elif code in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken", "AccessDenied"):
            hint = " (check the credentials and the CAM policy on the bucket and prefix)"
        return StoreError(
            f"COS {method} {full_key!r}: HTTP {resp.status_code} {code}: {message}{hint}"
            + (f" [request {request_id}]" if request_id else ""),
            status=resp.status_code,
            code=code,
            key=full_key,
            retryable=retryable,
        )

    # -- primitives --------------------------------------------------------------------------------

    def get(self, key: str) -> Obj | None:
        full = self._full(check_key(key))
        resp, _ = self._request("GET", full)
        if resp.status_code == 200:
            return Obj(resp.content, _etag(resp))
        if resp.status_code == 404 and _error_code(resp) in ("NoSuchKey", ""):
            return None
        raise self._error("GET", full, resp)

    def get_meta(self, key: str) -> Meta | None:
        full = self._full(check_key(key))
        resp, _ = self._request("HEAD", full)
        if resp.status_code == 200:
            return Meta(_etag(resp), int(resp.headers.get("Content-Length", "0")))
        if resp.status_code == 404:  # HEAD answers carry no body to tell NoSuchKey from NoSuchBucket
            return None
        raise self._error("HEAD", full, resp)

    def put(self, key: str, data: bytes) -> None:
        full = self._full(check_key(key))
        resp, _ = self._request("PUT", full, body=data, headers=_put_headers(data))
        if resp.status_code != 200:
            raise self._error("PUT", full, resp)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        full = self._full(check_key(key))
        headers = {**_put_headers(data), "x-cos-forbid-overwrite": "true"}
        resp, ambiguous = self._request("PUT", full, body=data, headers=headers)
        if resp.status_code == 200:
            version = resp.headers.get("x-cos-version-id")
            if version and version != "null":
                raise StoreError(
                    f"COS bucket {self.bucket} has versioning enabled: x-cos-forbid-overwrite is not enforced "
                    "there, so create-only markers are unsafe; use a bucket that never had versioning",
                    status=200,
                    code="VersioningEnabled",
                    key=full,
                    retryable=False,
                )
            return True
        if resp.status_code == 409 and _error_code(resp) in ("FileAlreadyExists", "ObjectAlreadyExists", ""):
            if ambiguous:
                # An earlier attempt may have created it and lost the answer: it is ours if the bytes are.
                mine = self.get(key)
                return mine is not None and mine.data == data
            return False
        raise self._error("PUT", full, resp)

    def delete(self, key: str) -> None:
        full = self._full(check_key(key))
        resp, _ = self._request("DELETE", full)
        if resp.status_code not in (200, 204, 404):
            raise self._error("DELETE", full, resp)

    def list(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        full_prefix = self._full(prefix) if prefix else (self.prefix + "/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        marker = ""
        while True:
            params = {"prefix": full_prefix, "max-keys": str(_PAGE)}
            if marker:
                params["marker"] = marker
            resp, _ = self._request("GET", "", params=params)
            if resp.status_code != 200:
                raise self._error("GET (list)", full_prefix, resp)
            page, truncated, next_marker = _parse_listing(resp.content)
            keys.extend(k[strip:] for k in page if not k.endswith("/"))
            if not truncated:
                break
            marker = next_marker or (page[-1] if page else "")
            if not marker:
                raise StoreError("COS listing is truncated but gives no marker", code="BadListing", key=full_prefix)
        return sorted(k for k in keys if k.startswith(prefix))

    def describe(self) -> str:
        where = f" via {self.base_url}" if self.base_url != f"https://{self.host}" else ""
        return f"cos://{self.bucket}.{self.region}/{self.prefix}{where}"

    def close(self) -> None:
        if self._own_session:
            self._session.close()


def _put_headers(data: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/octet-stream",
        "Content-MD5": base64.b64encode(hashlib.md5(data).digest()).decode("ascii"),
    }


def _etag(resp: requests.Response) -> str:
    return resp.headers.get("ETag", "").strip('"')


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(body: bytes) -> ET.Element | None:
    if not body.strip():
        return None
    try:
        # The body comes from the configured COS endpoint; expat does not resolve external entities.
        return ET.fromstring(body)  # noqa: S314
    except ET.ParseError:
        return None


def _parse_error(resp: requests.Response) -> tuple[str, str]:
    root = _xml(resp.content)
    if root is None:
        return ("" if resp.status_code != 404 else "NoSuchKey"), (resp.reason or "no error body")
    fields = {_local(child.tag): (child.text or "") for child in root}
    return fields.get("Code", ""), fields.get("Message", "")


def _error_code(resp: requests.Response) -> str:
    if resp.status_code < 300:
        return ""
    root = _xml(resp.content)
    if root is None:
        return ""
    for child in root:
        if _local(child.tag) == "Code":
            return child.text or ""
    return ""


def _parse_listing(body: bytes) -> tuple[list[str], bool, str]:
    root = _xml(body)
    if root is None or _local(root.tag) != "ListBucketResult":
        raise StoreError("COS listing answer is not a ListBucketResult", code="BadListing")
    keys: list[str] = []
    truncated = False
    next_marker = ""
    for child in root:
        tag = _local(child.tag)
        if tag == "Contents":
            for item in child:
                if _local(item.tag) == "Key" and item.text:
                    keys.append(item.text)
        elif tag == "IsTruncated":
            truncated = (child.text or "").strip().lower() == "true"
        elif tag == "NextMarker":
            next_marker = child.text or ""
    return keys, truncated, next_marker
