"""The alert history store: ``alerts/<recorded>-<nonce>.json``, one batch of history items per run."""

from __future__ import annotations

import os
import re
from typing import Any

from lib.errors import StateError
from lib.state.codec import Codec, stamp

_CURSOR = re.compile(r"^([0-9]{8}T[0-9]{12}Z-[0-9a-f]{12})\.([0-9]{1,6})$")
MAX_LIMIT = 1000


class InvalidCursor(StateError):
    """A history cursor that this store did not hand out."""


class AlertHistory:
    """Batches of alert-history items, read newest first a page at a time."""

    def __init__(self, codec: Codec) -> None:
        self._codec = codec

    def append(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        key = f"alerts/{stamp(self._codec.clock())}-{os.urandom(6).hex()}.json"
        self._codec.write(key, {"items": list(items)})

    def page(self, limit: int = 50, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """Alert history, newest first, ``limit`` at a time; pass the returned cursor for the next page."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        keys = self._codec.store.list("alerts/")[::-1]
        start, skip = 0, 0
        if cursor:
            match = _CURSOR.match(cursor)
            if not match:
                raise InvalidCursor(f"invalid alert history cursor {cursor!r}", retryable=False)
            name, skip = f"alerts/{match.group(1)}.json", int(match.group(2))
            # The batch may have been pruned since: continue with the next older one.
            start = next((i for i, k in enumerate(keys) if k <= name), len(keys))
            if start < len(keys) and keys[start] != name:
                skip = 0
        items: list[dict[str, Any]] = []
        for index in range(start, len(keys)):
            doc = self._codec.read(keys[index], "alerts").value
            batch = list(reversed(doc.get("items", []))) if doc else []
            offset = skip if index == start else 0
            for position in range(offset, len(batch)):
                if len(items) == limit:
                    return items, f"{keys[index][len('alerts/') : -len('.json')]}.{position}"
                items.append(batch[position])
        return items, None
