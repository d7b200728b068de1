"""Addresses of the dashboard and of a chart, as messages carry them (``BUDGET_PUBLIC_URL`` + a view token)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

VIEW_ALL = "*"  # a view link's target that opens every budget's chart, not one


def dashboard_url(public_url: str, token: str) -> str:
    """The read-only dashboard a ``view`` link opens: ``<public url>/?v=<token>``."""
    return f"{public_url.rstrip('/')}/?v={quote(token, safe='')}"


def chart_url(public_url: str, budget: str, token: str, *, image: str = "png") -> str:
    """One budget's chart for a ``view`` token naming that budget (or ``*``): ``/charts/<budget>.png?t=``."""
    if image not in ("png", "svg"):
        raise ValueError("a chart is png or svg")
    return f"{public_url.rstrip('/')}/charts/{quote(budget, safe='')}.{image}?t={quote(token, safe='')}"


def base_path(public_url: str | None, stage_prefix: str) -> str:
    """What the page puts in front of its links and form actions: the public URL's path when it is set
    (a gateway or custom domain that maps a path to the function), else the stage a gateway's default
    domain put in front of the route ("" on a Function URL)."""
    if public_url:
        return urlsplit(public_url).path.rstrip("/")
    return stage_prefix
