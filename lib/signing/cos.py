"""COS XML API request signature (``q-sign-algorithm=sha1``), one function per step of the spec.

KeyTime -> SignKey -> HttpString -> StringToSign -> Signature -> Authorization. Pure and stdlib-only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote


def cos_quote(text: str) -> str:
    """UTF-8 percent-encoding of all but RFC 3986 unreserved characters (space is ``%20``)."""
    return quote(text, safe="-_.~")


def key_time(start: int, end: int) -> str:
    return f"{start};{end}"


def sign_key(secret_key: str, key_time_value: str) -> str:
    """SignKey: lower-case hex HMAC-SHA1 of the KeyTime under the SecretKey."""
    return hmac.new(secret_key.encode("utf-8"), key_time_value.encode("utf-8"), hashlib.sha1).hexdigest()


def encoded_pairs(items: Mapping[str, str | None]) -> tuple[str, str]:
    """Return (``k1=v1&k2=v2``, ``k1;k2``) with lower-cased encoded keys and encoded values, sorted."""
    pairs = sorted((cos_quote(k).lower(), cos_quote("" if v is None else str(v))) for k, v in items.items())
    return "&".join(f"{k}={v}" for k, v in pairs), ";".join(k for k, _ in pairs)


def http_string(method: str, path: str, params: Mapping[str, str | None], headers: Mapping[str, str | None]) -> str:
    """HttpString over the decoded path and the given parameters and headers."""
    http_params, _ = encoded_pairs(params)
    http_headers, _ = encoded_pairs(headers)
    return f"{method.lower()}\n{path}\n{http_params}\n{http_headers}\n"


def string_to_sign(key_time_value: str, http: str) -> str:
    return f"sha1\n{key_time_value}\n{hashlib.sha1(http.encode('utf-8')).hexdigest()}\n"


def signature(sign_key_value: str, to_sign: str) -> str:
    return hmac.new(sign_key_value.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).hexdigest()


def cos_authorization(
    secret_id: str,
    secret_key: str,
    *,
    method: str,
    path: str,
    params: dict[str, str | None],
    headers: dict[str, str | None],
    start: int,
    end: int,
) -> str:
    """The ``Authorization`` value for a COS request signing every given parameter and header.

    ``path`` is the decoded object path (``/key``); choose the headers to sign before calling.
    """
    if not path.startswith("/"):
        path = "/" + path
    kt = key_time(start, end)
    to_sign = string_to_sign(kt, http_string(method, path, params, headers))
    _, url_param_list = encoded_pairs(params)
    _, header_list = encoded_pairs(headers)
    return (
        f"q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={kt}&q-key-time={kt}"
        f"&q-header-list={header_list}&q-url-param-list={url_param_list}"
        f"&q-signature={signature(sign_key(secret_key, kt), to_sign)}"
    )
