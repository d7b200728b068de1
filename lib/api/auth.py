"""Bearer-token check against ``BUDGET_API_TOKEN`` (comma-separated), in constant time.

Callers are known by the position of their token in the list (``token-1``, ``token-2`` …), so a token
never has to be stored or shown to say who created a silence. A configured token shorter than
``MIN_TOKEN_LENGTH`` is a configuration error (a short token can be guessed): every request but
``/health`` answers 503 until it is replaced, and ``serve`` refuses to start.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from lib.api.errors import not_configured, unauthorized
from lib.errors import ConfigError

TOKEN_VARIABLE = "BUDGET_API_TOKEN"  # noqa: S105 - the variable's name, not a token
# 16 URL-safe characters carry about 96 bits: beyond guessing over HTTP, and easy to generate.
MIN_TOKEN_LENGTH = 16
MAKE_TOKEN = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'  # noqa: S105 - a command, not a token


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the 0-based index of the token it presented."""

    index: int

    @property
    def name(self) -> str:
        return f"token-{self.index + 1}"


def configured_tokens(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = environ.get(TOKEN_VARIABLE, "")
    return tuple(t.strip() for t in raw.split(",") if t.strip())


def api_tokens(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The configured tokens; ConfigError (naming the variable and the token's position, never the token)
    when one is shorter than ``MIN_TOKEN_LENGTH``."""
    tokens = configured_tokens(environ)
    short = [str(index + 1) for index, token in enumerate(tokens) if len(token) < MIN_TOKEN_LENGTH]
    if short:
        which = f"token {short[0]}" if len(short) == 1 else f"tokens {', '.join(short)}"
        of = f" of {len(tokens)}" if len(tokens) > 1 else ""
        raise ConfigError(
            f"{TOKEN_VARIABLE}: {which}{of} {'is' if len(short) == 1 else 'are'} shorter than {MIN_TOKEN_LENGTH} "
            f"characters; use long random tokens, e.g. from: {MAKE_TOKEN}"
        )
    return tokens


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; the scheme is case-insensitive."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate(authorization: str | None, environ: Mapping[str, str]) -> Principal:
    """The caller, or ApiProblem 401 (503 when a configured token is too short); which configured token
    matched takes the same time for any input."""
    try:
        tokens = api_tokens(environ)
    except ConfigError as exc:  # the operator's mistake, not the caller's: refuse everyone until it is fixed
        raise not_configured(exc) from exc
    if not tokens:
        raise unauthorized(f"{TOKEN_VARIABLE} is not set: the API refuses every request except GET /health")
    presented = bearer(authorization)
    if presented is None:
        raise unauthorized("send the header 'Authorization: Bearer <token>'")
    # Compare fixed-length digests so neither the token lengths nor the matching index leak through timing.
    given = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
    match = -1
    for index, token in enumerate(tokens):
        same = hmac.compare_digest(given, hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest())
        if same and match < 0:
            match = index
    if match < 0:
        raise unauthorized("the bearer token is not valid")
    return Principal(match)
