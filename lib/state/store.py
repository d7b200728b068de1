"""The object store interface: the few primitives every state backend implements, and key rules.

Keys are '/'-separated relative names (``claims/ntf_1.ops/000001``). Every backend gives the same
guarantees, checked by one contract test suite: ``put`` replaces an object atomically (a reader sees
the old bytes or the new, never a mix), and ``put_if_absent`` creates an object only if no object
has that key, atomically, so exactly one of any number of racing creators wins. Correctness against
duplicate notifications rests on that one primitive (COS has no compare-and-swap on PUT).
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from lib.errors import StoreError

# COS allows 850 bytes of key; file systems allow 255 bytes per name. Keep well inside both.
MAX_KEY_BYTES = 700
MAX_SEGMENT_BYTES = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


@dataclass(frozen=True)
class Obj:
    """An object's bytes and its version tag (opaque: an ETag on COS, a content digest elsewhere)."""

    data: bytes
    etag: str


@dataclass(frozen=True)
class Meta:
    """What a HEAD tells: the version tag and size, without the bytes."""

    etag: str
    size: int


def content_etag(data: bytes) -> str:
    """The version tag local backends use: MD5 of the content, like a simple COS upload's ETag."""
    return hashlib.md5(data).hexdigest()


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative name, else raise StoreError (path traversal, empty parts)."""
    if not isinstance(key, str) or not key:
        raise StoreError("object key must be a non-empty string", key=str(key), retryable=False)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise StoreError(f"object key longer than {MAX_KEY_BYTES} bytes", key=key[:80], retryable=False)
    if _CONTROL.search(key):
        raise StoreError("object key has a control character or backslash", key=key, retryable=False)
    for part in key.split("/"):
        if not part:
            raise StoreError("object key has an empty part (leading, trailing or double '/')", key=key, retryable=False)
        if part.startswith("."):
            raise StoreError("object key parts must not start with '.' ('..', hidden names)", key=key, retryable=False)
        if len(part.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise StoreError(f"object key part longer than {MAX_SEGMENT_BYTES} bytes", key=key, retryable=False)
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key (checked as one) optionally ending with '/'."""
    if prefix == "":
        return prefix
    check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


class ObjectStore(ABC):
    """A flat namespace of byte objects with atomic replace and atomic create-if-absent.

    ``concurrency`` says how many requests callers may usefully have in flight at once (a remote store
    answers faster in parallel; a local one does not). Every backend is safe to call from threads.
    """

    concurrency: int = 1

    @abstractmethod
    def get(self, key: str) -> Obj | None:
        """The object's bytes and version tag, or None when there is no such object."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Create or replace the object atomically."""

    @abstractmethod
    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Create the object only if the key is free; True if this call created it."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Every key starting with ``prefix``, sorted (byte order of the UTF-8 key)."""

    def get_meta(self, key: str) -> Meta | None:
        """The version tag and size without the bytes (backends with a cheaper HEAD override this)."""
        obj = self.get(key)
        return None if obj is None else Meta(obj.etag, len(obj.data))

    def describe(self) -> str:
        """Where the objects live, for logs and error messages (never a secret)."""
        return type(self).__name__

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections; the store must not be used afterwards."""
