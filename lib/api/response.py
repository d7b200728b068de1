"""``Response``: what a route answers, before it is shaped into the trigger's integrated response.

A body is JSON unless it is a ``Content`` (an HTML page, an SVG, a PNG), which is sent as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    """What a route answers: a status, a JSON-able body (None for no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Content:
    """A body sent as it is rather than as JSON: text (HTML, SVG) or bytes (PNG, sent base64-encoded)."""

    media_type: str
    data: str | bytes


__all__ = ["Content", "Response"]
