"""The alert ledger store: ``ledger.json``, the rules' memory of what fired, saved last in a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lib.state.codec import Codec, Loaded, stamp

LEDGER_KEY = "ledger.json"


def _ledger_field(doc: dict[str, Any]) -> dict[str, Any]:
    ledger = doc["ledger"]
    if not isinstance(ledger, dict):
        raise TypeError("the ledger field is not an object")
    return ledger


class LedgerStore:
    """``ledger.json``: ``{"schema", "saved_at", "ledger": <opaque dict from lib.rules>}``."""

    def __init__(self, codec: Codec, *, key: str = LEDGER_KEY) -> None:
        self._codec = codec
        self.key = key  # another key holds one member account's share (lib.app.accounts)

    def load(self) -> Loaded[dict[str, Any] | None]:
        """The rules ledger; a missing one is None, an unreadable one is moved aside and reported.

        A ledger the store cannot read at all (a folder in its place, no permission) raises StoreError:
        starting afresh would be a guess, not a recovery.
        """
        loaded = self._codec.load(self.key, "ledger", _ledger_field)
        if loaded.value is not None or not loaded.problems:
            return loaded
        fresh = self._codec.problem(
            "the alert ledger starts afresh; deliveries already made are recognised by their "
            "sent markers and are not repeated"
        )
        return Loaded(None, [*loaded.problems, fresh])

    def save(self, ledger: Mapping[str, Any]) -> None:
        self._codec.write(self.key, {"saved_at": stamp(self._codec.clock()), "ledger": dict(ledger)})
