"""Server-side verification of API 3.0 signatures: TC3-HMAC-SHA256 and v1 HmacSHA1/HmacSHA256.

Follows the reference's emulator algorithm: parse ``Authorization`` -> look up the SecretId -> check the
timestamp against the *signature clock* (real wall time; never the scenario's data clock) -> rebuild
the canonical request from the SignedHeaders list, the raw query string and the raw body -> compare
in constant time -> check the session token when the credential has one, and its expiry (temporary
credentials that ``sandbox.sts`` issues carry one, on the same wall clock). Uses ``lib.signing`` for the
spec steps, so client and server share one implementation of each step.
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lib.signing import tc3
from lib.signing import v1 as v1_signing

MAX_SKEW = 300  # seconds; "cannot differ by more than five minutes"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=([^/\s]+)/(\d{4}-\d{2}-\d{2})/([^/\s]+)/tc3_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Credential:
    """A key pair the sandbox accepts; ``token`` set means requests must carry that session token.

    ``account``: the uin the key acts as (None: the scenario's own account); ``expires``: wall-clock
    Unix seconds from which the key is refused (None: never).
    """

    secret_id: str
    secret_key: str
    token: str | None = None
    account: str | None = None
    expires: float | None = None


@dataclass(frozen=True)
class Caller:
    """Who signed a verified request, how, and (TC3) for which service."""

    secret_id: str
    method: str  # "TC3-HMAC-SHA256", "HmacSHA1" or "HmacSHA256"
    service: str | None
    account: str | None = None  # the member uin of a temporary key; None: the scenario's own account


class AuthError(Exception):
    """A request failed authentication; ``code`` is the API 3.0 error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@functools.lru_cache(maxsize=256)
def _derived_key(secret_key: str, date: str, service: str) -> bytes:
    # One derivation per key, day and service, as a real gateway would cache it.
    return tc3.derived_key(secret_key, date, service)


def _check_time(raw: str | None, now: float, name: str) -> int:
    if raw is None or raw == "":
        raise AuthError("MissingParameter", f"The request is missing a required parameter `{name}`.")
    try:
        timestamp = int(raw)
    except ValueError as exc:
        raise AuthError("InvalidParameter", f"`{name}` must be Unix seconds, not {raw[:32]!r}.") from exc
    if abs(now - timestamp) > MAX_SKEW:
        raise AuthError(
            "AuthFailure.SignatureExpire",
            f"Signature expired: the timestamp {timestamp} is {int(now - timestamp)} s from the server time "
            f"{int(now)}; the allowed difference is {MAX_SKEW} s.",
        )
    return timestamp


def _lookup(secret_id: str, credentials: Mapping[str, Credential]) -> Credential:
    cred = credentials.get(secret_id)
    if cred is None:
        raise AuthError(
            "AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure it exists and is enabled."
        )
    return cred


class AuthFailureToken(AuthError):
    """The credential needs a session token and the request's is missing or different."""

    def __init__(self) -> None:
        super().__init__("AuthFailure.TokenFailure", "The session token is missing, invalid or expired.")


def _check_token(cred: Credential, presented: str | None, now: float) -> None:
    if cred.token is None:
        return
    if presented is None or not hmac.compare_digest(presented.encode(), cred.token.encode()):
        raise AuthFailureToken()
    if cred.expires is not None and now >= cred.expires:
        raise AuthError(
            "AuthFailure.TokenFailure",
            f"The temporary credential expired at {int(cred.expires)} (server time {int(now)}); "
            "request new credentials with sts AssumeRole.",
        )


def _signature_failure(detail: str = "") -> AuthError:
    text = "The provided credentials could not be validated. Please check your signature is correct."
    return AuthError("AuthFailure.SignatureFailure", f"{text} {detail}".strip())


def verify_tc3(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, Credential],
    now: float,
) -> Caller:
    """Verify a TC3-HMAC-SHA256 request. ``headers`` has lower-case names; ``now`` is wall time."""
    match = _AUTH.match(headers.get("authorization", "").strip())
    if not match:
        raise AuthError(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is malformed: expected `TC3-HMAC-SHA256 Credential=<SecretId>/<Date>/"
            "<service>/tc3_request, SignedHeaders=<headers>, Signature=<hex>`.",
        )
    secret_id, date, service, signed_headers, presented = match.groups()
    signed = signed_headers.split(";")
    if "content-type" not in signed or "host" not in signed or signed != sorted(set(signed)):
        raise AuthError(
            "AuthFailure.InvalidAuthorization",
            "SignedHeaders must list content-type and host (at least), lower-case, sorted, without repeats.",
        )
    cred = _lookup(secret_id, credentials)
    timestamp = _check_time(headers.get("x-tc-timestamp"), now, "X-TC-Timestamp")
    if tc3.utc_date(timestamp) != date:
        raise _signature_failure("The credential scope date must be the UTC date of X-TC-Timestamp.")
    if headers.get("x-tc-content-sha256", "").strip() == UNSIGNED_PAYLOAD:
        payload_hash = tc3.sha256_hex(UNSIGNED_PAYLOAD.encode())
    else:
        payload_hash = tc3.sha256_hex(body)
    scope = tc3.credential_scope(date, service)
    key = _derived_key(cred.secret_key, date, service)
    # The spec lower-cases header values; the official SDKs send them as they are. Either form of a
    # correctly signed request is accepted, each compared in constant time.
    values = [headers.get(name, "").strip() for name in signed]
    variants = [[v.lower() for v in values]]
    if variants[0] != values:
        variants.append(values)
    for variant in variants:
        lines = "".join(f"{name}:{value}\n" for name, value in zip(signed, variant, strict=True))
        canonical = f"{method.upper()}\n{path}\n{raw_query}\n{lines}\n{signed_headers}\n{payload_hash}"
        expected = tc3.signature(key, tc3.string_to_sign(timestamp, scope, canonical))
        if hmac.compare_digest(expected, presented):
            break
    else:
        raise _signature_failure()
    _check_token(cred, headers.get("x-tc-token"), now)
    return Caller(secret_id=secret_id, method=tc3.ALGORITHM, service=service, account=cred.account)


def verify_v1(
    *,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    credentials: Mapping[str, Credential],
    now: float,
) -> Caller:
    """Verify a v1 (HmacSHA1/HmacSHA256) request from its decoded parameters (query or form body)."""
    for name in ("SecretId", "Signature", "Timestamp", "Nonce"):
        if not params.get(name):
            raise AuthError("MissingParameter", f"The request is missing a required parameter `{name}`.")
    cred = _lookup(params["SecretId"], credentials)
    _check_time(params["Timestamp"], now, "Timestamp")
    sign_method = params.get("SignatureMethod", "HmacSHA1")
    if sign_method not in v1_signing.SIGNATURE_METHODS:
        sign_method = "HmacSHA1"  # the documented fallback for absent or unknown values
    presented = params["Signature"].encode()
    ok = False
    variants = [dict(params)]
    if any("_" in k for k in params):
        # The Python SDK replaces "_" with "." in parameter names inside the string to sign only.
        variants.append({k.replace("_", "."): v for k, v in params.items()})
    for variant in variants:
        to_sign = v1_signing.string_to_sign(method, host, variant, path)
        expected = v1_signing.signature(cred.secret_key, to_sign, sign_method).encode()
        ok = hmac.compare_digest(expected, presented) or ok
    if not ok:
        raise _signature_failure()
    _check_token(cred, params.get("Token"), now)
    return Caller(secret_id=cred.secret_id, method=sign_method, service=None, account=cred.account)
