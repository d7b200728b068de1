"""TC3-HMAC-SHA256 (Tencent Cloud API signature v3), one function per step of the spec.

canonical request -> string to sign -> derived key -> signature -> Authorization header.
Pure and stdlib-only: the timestamp is always an argument.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import lru_cache

ALGORITHM = "TC3-HMAC-SHA256"
JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256, the spec's ``HashedRequestPayload`` and ``HashedCanonicalRequest``."""
    return hashlib.sha256(data).hexdigest()


def utc_date(timestamp: int) -> str:
    """The credential scope's date: the UTC calendar day of the timestamp, ``YYYY-MM-DD``."""
    return _utc_day(timestamp // 86400)


@lru_cache(maxsize=64)
def _utc_day(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m-%d")


def credential_scope(date: str, service: str) -> str:
    return f"{date}/{service}/tc3_request"


def canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """Return (CanonicalHeaders, SignedHeaders): keys and values lower-cased and trimmed, sorted by key."""
    items = sorted((k.strip().lower(), v.strip().lower()) for k, v in headers.items())
    block = "".join(f"{k}:{v}\n" for k, v in items)
    signed = ";".join(k for k, _ in items)
    return block, signed


def canonical_request(
    method: str,
    query: str,
    headers: Mapping[str, str],
    payload_hash: str,
    uri: str = "/",
) -> str:
    """CanonicalRequest over the headers to be signed; ``query`` is the raw query string as sent."""
    block, signed = canonical_headers(headers)
    return f"{method.upper()}\n{uri}\n{query}\n{block}\n{signed}\n{payload_hash}"


def string_to_sign(timestamp: int, scope: str, canonical: str) -> str:
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"


def _hmac_sha256(key: bytes, msg: str) -> bytes:
    return hmac.digest(key, msg.encode("utf-8"), "sha256")


def derived_key(secret_key: str, date: str, service: str) -> bytes:
    """SecretSigning = HMAC chain over date, service and ``tc3_request`` (raw digests, not hex)."""
    secret_date = _hmac_sha256(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = _hmac_sha256(secret_date, service)
    return _hmac_sha256(secret_service, "tc3_request")


@lru_cache(maxsize=16)
def _cached_derived_key(secret_key: str, date: str, service: str) -> bytes:
    """The derived key changes once a day per service: sign many requests with one HMAC chain."""
    return derived_key(secret_key, date, service)


def signature(key: bytes, to_sign: str) -> str:
    return hmac.digest(key, to_sign.encode("utf-8"), "sha256").hex()


def authorization(secret_id: str, scope: str, signed_headers: str, sig: str) -> str:
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={sig}"


def tc3_headers(
    secret_id: str,
    secret_key: str,
    *,
    service: str,
    host: str,
    action: str,
    version: str,
    payload: bytes,
    timestamp: int,
    region: str | None = None,
    token: str | None = None,
    method: str = "POST",
    content_type: str = JSON_CONTENT_TYPE,
    query: str = "",
    language: str | None = None,
    sign_action: bool = False,
) -> dict[str, str]:
    """Every header a TC3-signed API 3.0 request needs.

    POST JSON (default), GET (``query`` is the exact query string sent, the payload empty; a JSON
    content type is replaced by the only one GET allows) and multipart (pass the content type with its
    boundary). ``sign_action`` also signs ``x-tc-action``, as the current official demos do.
    """
    method = method.upper()
    if method == "GET":
        if content_type == JSON_CONTENT_TYPE:
            content_type = FORM_CONTENT_TYPE
        payload = b""
    else:
        query = ""
    if sign_action:
        block, signed = canonical_headers({"content-type": content_type, "host": host, "x-tc-action": action})
    else:  # the SDK's form, spelled out: canonical_headers() of these two, without the sort
        block = f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n"
        signed = "content-type;host"
    canonical = f"{method}\n/\n{query}\n{block}\n{signed}\n{hashlib.sha256(payload).hexdigest()}"
    date = utc_date(timestamp)
    scope = credential_scope(date, service)
    sig = signature(_cached_derived_key(secret_key, date, service), string_to_sign(timestamp, scope, canonical))
    headers = {
        "Authorization": authorization(secret_id, scope, signed, sig),
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": version,
    }
    if region:
        headers["X-TC-Region"] = region
    if token:
        headers["X-TC-Token"] = token
    if language:
        headers["X-TC-Language"] = language
    return headers
