"""Tencent Cloud credentials: the value type, and the lookup chain of DESIGN §3.2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    """A SecretId/SecretKey pair, with the session token that temporary (role) credentials carry."""

    secret_id: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return f"Credentials(secret_id={self.secret_id[:6]}…, token={'set' if self.token else 'none'})"
