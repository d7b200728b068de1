"""Dashboard sessions: a signed cookie from ``POST /login``, checked on every request; pure (time is an argument).

A session cookie is ``v1.<token index>.<expires>.<sid>.<mac>``: which API token signed in (by position,
as ``Principal`` names callers), until when (epoch seconds), a random session id (what CSRF tokens and
sign-out are bound to) and an HMAC-SHA256 over the rest. The key is derived from the API token the
session was opened with and, when it is set, ``BUDGET_LINK_SECRET``: rotating or removing that token,
or rotating the link secret, ends its sessions; a leaked link secret alone cannot make one. Nothing in
the cookie is secret; only the MAC needs the key, and it is compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from lib.errors import BudgetError

VERSION = "v1"
COOKIE = "budget_session"
MAX_AGE = 12 * 3600  # seconds: a working day; signing in again costs one paste of the token
MAX_COOKIE = 256  # characters; a longer value is refused before any parsing
_LABEL = b"budget-alerts dashboard session v1\x00"
_SID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class WebRefused(BudgetError):
    """A dashboard request that must not go on: no or bad session, a CSRF or origin failure, a read-only link.

    ``reason``: signed-out | malformed | forged | expired | ended | csrf | origin | read-only;
    ``status``: the HTTP status the page answers with.
    """

    def __init__(self, message: str, *, reason: str, status: int = 401) -> None:
        super().__init__(message, retryable=False)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the API token it signed in with (by position), its id and its expiry."""

    token_index: int
    sid: str
    expires: int

    @property
    def name(self) -> str:
        """``token-N``, as the API names a caller (``lib.api.auth.Principal``)."""
        return f"token-{self.token_index + 1}"


def session_key(api_token: str, link_secret: str | None) -> bytes:
    """The key of the sessions opened with ``api_token`` (see the module docstring for why both)."""
    return hmac.new(
        api_token.encode("utf-8", "surrogatepass"), _LABEL + (link_secret or "").encode(), "sha256"
    ).digest()


def new_sid() -> str:
    """A fresh random session id (the one impure helper here)."""
    return secrets.token_urlsafe(18)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _mac(key: bytes, signed: str) -> str:
    return _b64(hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest())


def issue(tokens: Sequence[str], index: int, link_secret: str | None, *, now: float, sid: str) -> str:
    """The cookie value of a new session for the token at ``index``, valid ``MAX_AGE`` seconds from ``now``."""
    if not 0 <= index < len(tokens) or not _SID.match(sid):
        raise ValueError("a session needs a configured token and a session id of 16-64 URL-safe characters")
    signed = f"{VERSION}.{index}.{int(now) + MAX_AGE}.{sid}"
    return f"{signed}.{_mac(session_key(tokens[index], link_secret), signed)}"


def read(value: str | None, tokens: Sequence[str], link_secret: str | None, *, now: float) -> Session:
    """The session a cookie value names, if its MAC is right for a configured token and it has not expired."""
    if not value:
        raise WebRefused("sign in with an API token to see the dashboard", reason="signed-out")
    parts = value.split(".") if len(value) <= MAX_COOKIE and value.isascii() else []
    if len(parts) != 5 or parts[0] != VERSION or not parts[1].isdigit() or not parts[2].isdigit():
        raise WebRefused("the session cookie is damaged; sign in again", reason="malformed")
    index, expires, sid = int(parts[1]), int(parts[2]), parts[3]
    if not _SID.match(sid) or index >= len(tokens):
        # A token removed from BUDGET_API_TOKEN ends the sessions it opened.
        raise WebRefused("the session is not valid any more; sign in again", reason="forged")
    signed = ".".join(parts[:4])
    if not hmac.compare_digest(_mac(session_key(tokens[index], link_secret), signed), parts[4]):
        raise WebRefused("the session is not valid (changed, or its token was rotated); sign in again", reason="forged")
    if now >= expires:
        raise WebRefused("the session has expired; sign in again", reason="expired")
    return Session(index, sid, expires)


def cookie_value(header: str | None, name: str = COOKIE) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header (the first, if a browser sent several)."""
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return None


def set_cookie(value: str, *, path: str, max_age: int = MAX_AGE) -> str:
    """The ``Set-Cookie`` header of a session: never readable by scripts, never sent cross-site or over HTTP."""
    return f"{COOKIE}={value}; Path={path or '/'}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"


def clear_cookie(*, path: str) -> str:
    """The ``Set-Cookie`` header that removes the session cookie."""
    return set_cookie("", path=path, max_age=0)


__all__ = ["COOKIE", "MAX_AGE", "Session", "WebRefused", "clear_cookie", "cookie_value", "issue", "read", "set_cookie"]
