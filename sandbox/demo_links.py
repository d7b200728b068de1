"""The demo's one-click links: find a link in what the robots received, follow it over HTTP like a person.

Following a link is two requests, as in a browser: ``GET`` the confirmation page (which never acts),
then ``POST`` its form to the same address (which acts, once). ``LinkDemo`` serves the API on
127.0.0.1 so that links made with ``environment()`` point at it; the demo attaches its App and calls
``approve_pending`` after a run that left an action waiting for approval.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

DEMO_LINK_SECRET = "demo-link-secret-for-the-local-demo"  # noqa: S105 - a local demo key, not a secret
_MARKDOWN_LINK = re.compile(r"\]\((https?://[^)\s]+/l/[^)\s]+)\)")
_TITLE = re.compile(r"<h1>(.*?)</h1>.*?<p[^>]*>(.*?)</p>", re.S)


@dataclass(frozen=True)
class Visit:
    """What following one link did: the page's status and headline, then the form's."""

    url: str
    page_status: int
    page: str  # the confirmation page's title and first line, as text
    result_status: int
    result: str

    @property
    def acted(self) -> bool:
        return self.page_status == 200 and self.result_status == 200


def _fetch(url: str, method: str, body: bytes | None = None) -> tuple[int, str]:
    parts = urlsplit(url)
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname or "127.0.0.1", parts.port, timeout=15)
    try:
        headers = {"Accept": "text/html", "User-Agent": "budget-demo-browser"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def headline(page: str) -> str:
    """A page's title and first paragraph, as one line of text."""
    import html

    found = _TITLE.search(page)
    if found is None:
        return page[:120]
    return f"{html.unescape(found.group(1))}: {html.unescape(found.group(2))}"


def follow(url: str) -> Visit:
    """GET the link's page, then POST its form (``confirm=1``) to the same address."""
    page_status, page = _fetch(url, "GET")
    result_status, result = _fetch(url, "POST", b"confirm=1")
    return Visit(url, page_status, headline(page), result_status, headline(result))


def links_in(documents: Iterable[Any], key: str = "approve") -> list[str]:
    """Links of ``key`` (approve, undo, silence …) in received webhook payloads, in order, each once.

    Chat messages carry the same links as markdown; ``markdown_links`` finds those.
    """
    found: list[str] = []
    for doc in documents:
        links = doc.get("links") if isinstance(doc, dict) else None
        if isinstance(links, dict) and isinstance(links.get(key), str) and links[key] not in found:
            found.append(links[key])
    return found


def markdown_links(texts: Iterable[str]) -> list[str]:
    """Every ``[label](…/l/…)`` link in markdown texts (WeCom, DingTalk)."""
    return [url for text in texts for url in _MARKDOWN_LINK.findall(text)]


class LinkDemo:
    """The API on 127.0.0.1 for links to point at; ``environment()`` gives the two variables that turn links on."""

    def __init__(self) -> None:
        from lib.api.http_bridge import ApiServer

        self._server = ApiServer()

    def __enter__(self) -> LinkDemo:
        self._server.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        import lib.api

        lib.api.set_app(None)
        self._server.__exit__(exc_type, exc, tb)

    @property
    def url(self) -> str:
        return self._server.url

    def environment(self) -> dict[str, str]:
        """``BUDGET_PUBLIC_URL`` and ``BUDGET_LINK_SECRET`` for the demo's App."""
        return {"BUDGET_PUBLIC_URL": self.url, "BUDGET_LINK_SECRET": DEMO_LINK_SECRET}

    def attach(self, app: Any) -> None:
        """Serve ``app`` (built with ``environment()``) behind the links."""
        import lib.api

        lib.api.set_app(app)

    def dashboard(self, now: float) -> str:
        """A signed read-only view link to the dashboard this server answers while the demo runs (1 hour)."""
        from lib.links import Link, new_nonce, sign
        from lib.web.urls import dashboard_url

        token = sign(DEMO_LINK_SECRET, Link("view", ("dashboard",), int(now) + 3600, new_nonce()))
        return dashboard_url(self.url, token)

    def approve_pending(self, received: Iterable[Any], *, echo: Callable[[str], None] = print) -> Visit | None:
        """Follow the first approve link the webhook receiver got (``Received`` items); None when there is none."""
        documents = [r.json for r in received if getattr(r, "kind", "") == "webhook"]
        urls = links_in(documents, "approve")
        if not urls:
            echo("  no approve link was received (no action waits for approval)")
            return None
        visit = follow(urls[0])
        echo(f"  GET  {_short(visit.url)} -> {visit.page_status} {visit.page}")
        echo(f"  POST {_short(visit.url)} -> {visit.result_status} {visit.result}")
        return visit


def _short(url: str) -> str:
    base, _, token = url.partition("/l/")
    return f"{base}/l/{token[:12]}…" if token else url


__all__ = ["DEMO_LINK_SECRET", "LinkDemo", "Visit", "follow", "headline", "links_in", "markdown_links"]
