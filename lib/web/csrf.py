"""Cross-site request forgery: a per-session token in every form, and the request's Origin (or Referer).

The token is an HMAC of the session id under the session's key, so it is bound to one session (a token
from another session, or from before signing in again, fails) and needs no storage: the form carries it,
the cookie carries the session, and a forged page can read neither. A browser's ``Origin`` (else its
``Referer``), where present, must be this site: the request's ``Host`` or ``BUDGET_PUBLIC_URL``'s host.
The session cookie is ``SameSite=Strict`` on top of both.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from lib.web.session import WebRefused

FIELD = "csrf"  # the form field that carries the token
_LABEL = b"csrf\x00"


def csrf_token(key: bytes, sid: str) -> str:
    """The token every form of session ``sid`` carries."""
    return hmac.new(key, _LABEL + sid.encode("ascii"), hashlib.sha256).hexdigest()


def check_token(key: bytes, sid: str, given: str | None) -> None:
    """WebRefused (403) unless ``given`` is this session's token."""
    if not given:
        raise WebRefused("the form has no CSRF token; reload the dashboard and try again", reason="csrf", status=403)
    if not hmac.compare_digest(csrf_token(key, sid).encode("ascii"), given.encode("utf-8", "surrogatepass")):
        raise WebRefused(
            "the form's CSRF token is not this session's; reload the dashboard and try again", reason="csrf", status=403
        )


def check_origin(headers: Mapping[str, str], public_url: str | None) -> None:
    """WebRefused (403) when the browser says the form came from another site.

    ``headers`` have lower-case names. No ``Origin`` and no ``Referer`` (some clients send neither) is
    let through: the CSRF token and the SameSite cookie still stand.
    """
    claimed = headers.get("origin") or headers.get("referer")
    if claimed is None:
        return
    site = _host(claimed)
    allowed = {h for h in (headers.get("host", "").strip().lower(), _host(public_url or "")) if h}
    if site is None or site not in allowed:
        raise WebRefused(
            "the form was sent from another site; open the dashboard itself and try again", reason="origin", status=403
        )


def _host(url: str) -> str | None:
    """``https://a.example.com:8443/x`` → ``a.example.com:8443``; None for ``null`` or a non-URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.lower()
