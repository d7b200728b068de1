"""The run log store: ``runs/<recorded>-<run_id>.json``, the result documents of the last ``keep`` runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lib.state.codec import Codec, segment, stamp


class RunLog:
    """The last ``keep`` result documents, newest last in key order."""

    def __init__(self, codec: Codec, *, keep: int) -> None:
        self._codec = codec
        self.keep = keep

    def record(self, result: Mapping[str, Any]) -> None:
        """Keep the run's result document and trim to the last ``keep``."""
        run_id = str(result.get("run_id", "run"))
        self._codec.write(f"runs/{stamp(self._codec.clock())}-{segment(run_id)}.json", {"run": dict(result)})
        keys = self._codec.store.list("runs/")
        for key in keys[: max(0, len(keys) - self.keep)]:
            self._codec.store.delete(key)

    def list(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest ``limit`` result documents, newest first."""
        keys = self._codec.store.list("runs/")[::-1][: max(0, limit)]
        docs = self._codec.map(lambda key: self._codec.read(key, "run").value, keys)
        return [doc["run"] for doc in docs if doc is not None and isinstance(doc.get("run"), dict)]
