"""``Response``: what a route answers, before it is shaped into the trigger's integrated response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    """What a route answers: a status, a JSON-able body (None for no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


__all__ = ["Response"]
