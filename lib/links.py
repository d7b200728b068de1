"""Signed one-click links (``GET|POST /l/{token}``): HMAC-SHA256 tokens naming one operation, its targets and expiry.

A token is ``v1.<payload>.<mac>``, both parts base64url without padding. The payload is compact JSON
``{"op", "t", "exp", "n"}``: the operation (approve, undo, silence, view), the target ids, the expiry
in epoch seconds and a random nonce (what the create-only "used" marker is keyed on, so a link works
once: ``lib.state.actions.ActionStore.use_link``). It never carries a secret: anyone may read it; only
``BUDGET_LINK_SECRET`` can make one. The key used is derived from that secret for links alone, and the
MAC is compared in constant time. Pure: the time and the nonce are arguments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lib.errors import BudgetError, ConfigError

VERSION = "v1"
OPERATIONS = ("approve", "undo", "silence", "view")
MAX_TOKEN = 2048  # characters; longer tokens are refused before any decoding
MAX_TARGETS = 50
_LABEL = b"budget-alerts link v1"


class LinkError(BudgetError):
    """A link that must not act: malformed, tampered with, expired, or for another operation or target."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, retryable=False)
        self.reason = reason  # malformed | signature | expired | operation | target


@dataclass(frozen=True)
class Link:
    """What a token says: do ``operation`` on ``targets`` until ``expires`` (epoch seconds); ``nonce`` makes it one."""

    operation: str
    targets: tuple[str, ...]
    expires: int
    nonce: str

    def payload(self) -> bytes:
        doc = {"op": self.operation, "t": list(self.targets), "exp": self.expires, "n": self.nonce}
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_nonce() -> str:
    """A fresh random nonce for a link (the one impure helper here)."""
    return secrets.token_urlsafe(16)


def _key(secret: str) -> bytes:
    if not secret:
        raise ConfigError("BUDGET_LINK_SECRET is empty; links cannot be signed or checked", field="BUDGET_LINK_SECRET")
    return hmac.new(secret.encode("utf-8"), _LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        raise LinkError("the link is damaged (not base64url)", reason="malformed")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise LinkError("the link is damaged (not base64url)", reason="malformed") from exc
    if _b64(data) != text:  # unused low bits set: one token has exactly one spelling
        raise LinkError("the link is damaged (not base64url)", reason="malformed")
    return data


def _mac(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()


def sign(secret: str, link: Link) -> str:
    """The token for ``link``."""
    if link.operation not in OPERATIONS:
        raise ConfigError(f"unknown link operation {link.operation!r}; operations: {', '.join(OPERATIONS)}")
    if not link.targets or len(link.targets) > MAX_TARGETS or not link.nonce:
        raise ConfigError(f"a link names 1 to {MAX_TARGETS} targets and a nonce")
    signed = f"{VERSION}.{_b64(link.payload())}"
    token = f"{signed}.{_b64(_mac(_key(secret), signed))}"
    if len(token) > MAX_TOKEN:
        raise ConfigError(f"a link's token would be {len(token)} characters; at most {MAX_TOKEN} are allowed")
    return token


def verify(secret: str, token: str, *, now: float, operation: str | None = None, target: str | None = None) -> Link:
    """The link a token names, if its MAC is right, it has not expired, and it is for ``operation``/``target``."""
    key = _key(secret)
    if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 2:
        raise LinkError("the link is damaged or incomplete", reason="malformed")
    version, body, mac = token.split(".")
    if version != VERSION:
        raise LinkError(f"the link is of an unknown version {version[:10]!r}", reason="malformed")
    if not hmac.compare_digest(_mac(key, f"{version}.{body}"), _unb64(mac)):
        raise LinkError("the link's signature does not match: it was changed or not made here", reason="signature")
    link = _parse(_unb64(body))
    if now >= link.expires:
        raise LinkError("the link has expired; open the alert's newer link or use the API", reason="expired")
    if operation is not None and link.operation != operation:
        raise LinkError(f"the link is for {link.operation}, not {operation}", reason="operation")
    if target is not None and target not in link.targets:
        raise LinkError("the link is for another target", reason="target")
    return link


def _parse(data: bytes) -> Link:
    try:
        doc = json.loads(data.decode("utf-8"))
        op, targets, expires, nonce = doc["op"], doc["t"], doc["exp"], doc["n"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise LinkError("the link's content is damaged", reason="malformed") from exc
    fine = (
        op in OPERATIONS
        and isinstance(targets, list)
        and all(isinstance(t, str) for t in targets)
        and isinstance(expires, int)
        and not isinstance(expires, bool)
        and isinstance(nonce, str)
        and bool(nonce)
    )
    if not fine:
        raise LinkError("the link's content is damaged", reason="malformed")
    return Link(op, tuple(targets), expires, nonce)


def link_url(public_url: str, token: str) -> str:
    """The address a message carries: ``<BUDGET_PUBLIC_URL>/l/<token>``."""
    return f"{public_url.rstrip('/')}/l/{token}"


# --- what the targets of each operation say -------------------------------------------------------------
# A silence link's targets are its matchers (``budget=<name>``, ``<dimension>=<value>``) and how long it
# holds (``@for=<seconds>`` from the click, or ``@until=<epoch seconds>``); an approve or undo link's are
# the action id and a digest of its target ids (``@targets=<hex>``), so the page can refuse a link whose
# action now names other targets than the ones the alert showed. Dimension names never start with "@".
_FOR, _UNTIL, _DIGEST = "@for=", "@until=", "@targets="


@dataclass(frozen=True)
class SilenceOrder:
    """What a silence link asks for: the matchers, and either a length from the click or an end."""

    matchers: dict[str, str]
    seconds: int | None
    until: int | None


def silence_targets(
    budget: str, group: Sequence[tuple[str, str]], *, seconds: int | None = None, until: int | None = None
) -> tuple[str, ...]:
    """A silence link's targets for ``budget`` and its group, holding ``seconds`` from the click or ``until``."""
    if (seconds is None) == (until is None):
        raise ConfigError("a silence link holds either for some seconds or until an instant")
    hold = f"{_FOR}{seconds}" if seconds is not None else f"{_UNTIL}{until}"
    return (f"budget={budget}", *(f"{k}={v}" for k, v in group), hold)


def silence_order(link: Link) -> SilenceOrder:
    """The order a silence link carries; LinkError ("malformed") when its targets do not say one."""
    matchers: dict[str, str] = {}
    seconds = until = None
    for item in link.targets:
        if item.startswith((_FOR, _UNTIL)):
            text = item.partition("=")[2]
            if not (text.isascii() and text.isdigit()) or len(text) > 12:
                raise LinkError("the silence link's length is damaged", reason="malformed")
            if item.startswith(_FOR):
                seconds = int(text)
            else:
                until = int(text)
            continue
        key, sep, value = item.partition("=")
        if not sep or not key or not value or key.startswith("@") or key in matchers:
            raise LinkError("the silence link's matchers are damaged", reason="malformed")
        matchers[key] = value
    if "budget" not in matchers or (seconds is None) == (until is None) or seconds == 0:
        raise LinkError("the silence link does not name a budget and a length", reason="malformed")
    return SilenceOrder(matchers, seconds, until)


def targets_digest(target_ids: Iterable[str]) -> str:
    """A short digest of an action's target ids (order does not matter)."""
    text = "\n".join(sorted(set(target_ids)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def action_targets(action_id: str, target_ids: Iterable[str]) -> tuple[str, str]:
    """An approve or undo link's targets: the action id and the digest of its target ids."""
    return (action_id, _DIGEST + targets_digest(target_ids))


def action_order(link: Link) -> tuple[str, str]:
    """``(action id, targets digest)`` of an approve or undo link; LinkError ("malformed") otherwise."""
    if len(link.targets) != 2 or not link.targets[1].startswith(_DIGEST) or link.targets[0].startswith("@"):
        raise LinkError("the link does not name one action", reason="malformed")
    return link.targets[0], link.targets[1][len(_DIGEST) :]


__all__ = [
    "MAX_TOKEN",
    "OPERATIONS",
    "Link",
    "LinkError",
    "SilenceOrder",
    "action_order",
    "action_targets",
    "link_url",
    "new_nonce",
    "sign",
    "silence_order",
    "silence_targets",
    "targets_digest",
    "verify",
]
