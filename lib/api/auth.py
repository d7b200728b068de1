"""Bearer-token check against ``BUDGET_API_TOKEN`` (comma-separated), in constant time.

Callers are known by the position of their token in the list (``token-1``, ``token-2`` …), so a token
never has to be stored or shown to say who created a silence.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from lib.api.errors import unauthorized

TOKEN_VARIABLE = "BUDGET_API_TOKEN"  # noqa: S105 - the variable's name, not a token


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


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; the scheme is case-insensitive."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate(authorization: str | None, environ: Mapping[str, str]) -> Principal:
    """The caller, or ApiProblem 401; which configured token matched takes the same time for any input."""
    tokens = configured_tokens(environ)
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
