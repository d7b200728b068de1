"""Tencent Cloud API signature v1 (HmacSHA1 / HmacSHA256) for form posts and GET query strings.

Steps of the spec: sorted raw parameters -> string to sign -> base64 HMAC. Pure and stdlib-only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

SIGNATURE_METHODS = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten nested lists and objects to the dotted form GET and v1 use (``Filters.0.Name``)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_params(value, name + "."))
        elif isinstance(value, (list, tuple)):
            flat.update(flatten_params({str(i): v for i, v in enumerate(value)}, name + "."))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif value is None:
            continue
        else:
            flat[name] = str(value)
    return flat


def canonical_params(params: Mapping[str, str]) -> str:
    """All parameters but ``Signature``, sorted by name in ASCII order, joined raw (not URL-encoded)."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "Signature")


def string_to_sign(method: str, host: str, params: Mapping[str, str], path: str = "/") -> str:
    return f"{method.upper()}{host}{path}?{canonical_params(params)}"


def signature(secret_key: str, to_sign: str, signature_method: str = "HmacSHA256") -> str:
    digest = SIGNATURE_METHODS.get(signature_method, hashlib.sha1)
    mac = hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def v1_params(
    secret_id: str,
    secret_key: str,
    *,
    host: str,
    params: dict[str, Any],
    timestamp: int,
    nonce: int,
    method: str = "POST",
    signature_method: str = "HmacSHA256",
    token: str | None = None,
) -> dict[str, str]:
    """The full parameter set, ``Signature`` included, for a v1 form POST or GET.

    ``params`` holds the API's parameters and the common ones the caller sets (``Action``,
    ``Version``, ``Region``, ``Language``); nested values are flattened. Values are returned raw:
    URL-encode them once when sending.
    """
    if signature_method not in SIGNATURE_METHODS:
        raise ValueError(f"signature_method must be HmacSHA1 or HmacSHA256, not {signature_method!r}")
    full = flatten_params(params)
    full.update(
        {
            "SecretId": secret_id,
            "Timestamp": str(timestamp),
            "Nonce": str(nonce),
            "SignatureMethod": signature_method,
        }
    )
    if token:
        full["Token"] = token
    full["Signature"] = signature(secret_key, string_to_sign(method, host, full), signature_method)
    return full
