"""The state layer: object stores (local folder, COS, memory) and the repository built on them.

``open_store(url)`` is the one place a backend is chosen from ``BUDGET_STATE``:

    file://<dir>                          a local folder (default ``file://.state``)
    cos://<bucket-appid>.<region>/<prefix> a COS bucket; credentials from the environment chain
    memory://[name]                       in-process only (tests, dry runs)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lib.errors import ConfigError
from lib.settings import DEFAULT_STATE, Settings
from lib.state.store import Meta, Obj, ObjectStore

if TYPE_CHECKING:
    from lib.client.credentials import Credentials

__all__ = ["DEFAULT_STATE", "Meta", "Obj", "ObjectStore", "open_store", "parse_cos_url"]

_BUCKET = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+$")
_REGION = re.compile(r"^[a-z]+(?:-[a-z0-9]+)+$")
_memory: dict[str, ObjectStore] = {}
_memory_lock = threading.Lock()


def parse_cos_url(url: str, *, variable: str = "BUDGET_STATE") -> tuple[str, str, str]:
    """Split ``cos://<bucket-appid>.<region>/<path>`` into (bucket, region, path); ConfigError if malformed."""
    rest = url[len("cos://") :] if url.startswith("cos://") else None
    if rest is None:
        raise ConfigError(f"{variable}={url!r}: expected cos://<bucket-appid>.<region>/<path>")
    host, _, path = rest.partition("/")
    bucket, _, region = host.partition(".")
    if not _BUCKET.match(bucket):
        raise ConfigError(
            f"{variable}={url!r}: bucket {bucket!r} must be '<name>-<appid>' "
            "(lower-case letters, digits and '-', then '-' and the numeric APPID)"
        )
    if not _REGION.match(region):
        raise ConfigError(f"{variable}={url!r}: region {region!r} is not a COS region like 'ap-guangzhou'")
    return bucket, region, path.strip("/")


def open_store(
    url: str | None,
    *,
    environ: Mapping[str, str],
    credentials: Credentials | None = None,
) -> ObjectStore:
    """The store named by ``url`` (or ``BUDGET_STATE``, default ``file://.state``)."""
    settings = Settings.from_environ(environ)
    url = url or settings.state
    if url.startswith("file://"):
        from lib.state.local import LocalStore

        path = url[len("file://") :]
        if not path:
            raise ConfigError(f"BUDGET_STATE={url!r}: file:// needs a folder, e.g. file://.state")
        return LocalStore(path)
    if url.startswith("memory://"):
        from lib.state.memory import MemoryStore

        name = url[len("memory://") :]
        if not name:
            return MemoryStore()
        with _memory_lock:  # a named memory store is shared within the process (tests, the demo)
            return _memory.setdefault(name, MemoryStore(name))
    if url.startswith("cos://"):
        from lib.state.cos import CosStore

        bucket, region, prefix = parse_cos_url(url)
        if prefix:
            from lib.errors import StoreError
            from lib.state.store import check_key

            try:
                check_key(prefix)
            except StoreError as exc:
                raise ConfigError(f"BUDGET_STATE={url!r}: bad prefix: {exc}") from exc
        if credentials is None:
            from lib.client.credentials import resolve_credentials  # type: ignore[attr-defined,unused-ignore]

            credentials = resolve_credentials(environ)
        return CosStore(bucket, region, prefix, credentials, endpoint=settings.cos_endpoint)
    raise ConfigError(
        f"BUDGET_STATE={url!r}: expected file://<dir>, cos://<bucket-appid>.<region>/<prefix> or memory://"
    )
