"""Keeping webhook tokens and secrets out of logs, results and API answers.

``redact_url`` shows where a webhook points without what unlocks it:
``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***``. ``redact_text`` scrubs free text (an
exception message quoting the URL, say) of the given URLs' secret parts and of known token patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote_plus, unquote, urlsplit

MASK = "***"
# Query parameters whose values are harmless to show; every other value is masked.
_PUBLIC_QUERY = frozenset({"timestamp", "wait", "api-version", "type", "format", "thread_id"})
# Path prefixes whose remaining segments are the secret: Feishu/Lark, Slack, Discord, generic hooks.
_SECRET_PATH_AFTER = (
    "/open-apis/bot/v2/hook/",
    "/services/",
    "/api/webhooks/",
    "/workflows/",
)
_TOKENISH = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-=.~%+]{16,}$|^[0-9a-fA-F-]{16,}$")
_TEXT_PATTERNS = (
    # key=..., access_token=..., sign=... in any text (query strings quoted in error messages)
    re.compile(r"(?i)\b(key|access_token|token|sign|signature|sig|secret|code|apikey|api_key|password)=([^&\s'\"<>]+)"),
    re.compile(r"(/open-apis/bot/v2/hook/)[^\s'\"<>/?#]+"),
    re.compile(r"(hooks\.slack\.com/services/)[^\s'\"<>?#]+"),
    re.compile(r"(/api/webhooks/)[^\s'\"<>?#]+"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"),
    re.compile(r"\bSEC[0-9a-f]{32,}\b"),
)


def _redact_path(path: str) -> str:
    for prefix in _SECRET_PATH_AFTER:
        at = path.find(prefix)
        if at >= 0 and len(path) > at + len(prefix):
            return path[: at + len(prefix)] + MASK
    parts = path.split("/")
    return "/".join(MASK if _TOKENISH.match(part) else part for part in parts)


def redact_url(url: str) -> str:
    """The URL with credentials, token-like path segments, query values and fragment masked."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme and not host:
        return MASK if url else url
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    if parts.username or parts.password:
        netloc = f"{MASK}@{netloc}"
    out = f"{parts.scheme}://{netloc}{_redact_path(parts.path)}"
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        shown = [f"{k}={v if k.lower() in _PUBLIC_QUERY else MASK}" for k, v in pairs]
        out += "?" + "&".join(shown)
    if parts.fragment:
        out += "#" + MASK
    return out


def _secret_parts(url: str) -> list[str]:
    """The pieces of a URL that must not be shown: itself, query values, userinfo, token segments."""
    found = [url]
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    if parts.query:
        found.append(f"{parts.path}?{parts.query}")
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() not in _PUBLIC_QUERY and len(value) >= 4:
                found.extend({value, quote_plus(value), unquote(value)})
    if parts.password:
        found.append(parts.password)
    if parts.username:
        found.append(parts.username)
    redacted = _redact_path(parts.path)
    if redacted != parts.path:
        found.append(parts.path)
        found.extend(seg for seg in parts.path.split("/") if len(seg) >= 8 and seg not in redacted.split("/"))
    return found


def redact_text(text: str, *sensitive: str | None, extra: Iterable[str] = ()) -> str:
    """``text`` with each sensitive URL (or raw secret) and known token patterns masked."""
    out = text
    pieces: list[str] = []
    for item in (*sensitive, *extra):
        if not item:
            continue
        pieces.extend(_secret_parts(item) if "://" in item else [item])
    # Longest first, so a whole URL is replaced before its parts.
    for piece in sorted({p for p in pieces if len(p) >= 4}, key=len, reverse=True):
        if piece in out:
            out = out.replace(piece, _masked(piece))
    for pattern in _TEXT_PATTERNS:
        out = pattern.sub(_mask_match, out)
    return out


def _masked(piece: str) -> str:
    if "://" in piece:
        return redact_url(piece)
    if piece.startswith("/"):
        return redact_url("http://h" + piece)[len("http://h") :]
    return MASK


def _mask_match(match: re.Match[str]) -> str:
    if match.lastindex and match.lastindex >= 2:
        return f"{match.group(1)}={MASK}"
    if match.lastindex == 1:
        return f"{match.group(1)}{MASK}"
    return MASK
