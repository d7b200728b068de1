"""An in-memory object store for tests and dry runs; thread-safe, same contract as the real backends."""

from __future__ import annotations

import threading

from lib.state.store import Obj, ObjectStore, check_key, check_prefix, content_etag


class MemoryStore(ObjectStore):
    """Objects in a dict behind a lock; ``name`` only labels it in logs."""

    def __init__(self, name: str = "") -> None:
        self._name = name
        self._objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Obj | None:
        check_key(key)
        with self._lock:
            data = self._objects.get(key)
        return None if data is None else Obj(data, content_etag(data))

    def put(self, key: str, data: bytes) -> None:
        check_key(key)
        with self._lock:
            self._objects[key] = bytes(data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        check_key(key)
        with self._lock:
            if key in self._objects:
                return False
            self._objects[key] = bytes(data)
            return True

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def list(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        with self._lock:
            keys = [k for k in self._objects if k.startswith(prefix)]
        return sorted(keys)  # code-point order is UTF-8 byte order

    def describe(self) -> str:
        return f"memory://{self._name}"
