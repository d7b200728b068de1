"""How the code package reaches SCF: inline as base64 ``ZipFile``, or as an object in a COS bucket.

A TC3 POST is at most 10 MB, so the base64 zip (4/3 of its size) must leave room for the rest of the
request: past ``INLINE_LIMIT`` the package goes to COS (``--code-bucket``), which SCF reads directly.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lib.client import ApiClient
from lib.errors import ConfigError
from lib.settings import Settings

INLINE_LIMIT = 7 * 1024 * 1024  # zipped bytes; base64 makes 9.3 MB, under the 10 MB TC3 request limit
CODE_PREFIX = "budget-alerts-code"
_BUCKET = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*)-(?P<appid>\d+)$")


@dataclass(frozen=True)
class CodeLocation:
    """Where SCF takes the code from: ``zip_file`` (base64) or a COS object."""

    zip_file: str | None = None
    bucket: str | None = None  # without the -appid suffix, as SCF wants it
    key: str | None = None  # with a leading /
    region: str | None = None

    def for_create(self) -> dict[str, Any]:
        """The ``Code`` object of CreateFunction."""
        if self.zip_file is not None:
            return {"Code": {"ZipFile": self.zip_file}}
        return {"Code": {"CosBucketName": self.bucket, "CosObjectName": self.key, "CosBucketRegion": self.region}}

    def for_update(self) -> dict[str, Any]:
        """The top-level code fields of UpdateFunctionCode."""
        if self.zip_file is not None:
            return {"ZipFile": self.zip_file}
        return {"CosBucketName": self.bucket, "CosObjectName": self.key, "CosBucketRegion": self.region}

    def describe(self) -> str:
        return "inline" if self.zip_file is not None else f"cos://{self.bucket}{self.key}"


def split_bucket(bucket: str) -> tuple[str, str]:
    """``name-appid`` -> (name, appid); SCF wants the name alone, COS hosts the full one."""
    found = _BUCKET.match(bucket)
    if not found:
        raise ConfigError(f"{bucket!r} is not a COS bucket of the form <name>-<appid>", field="--code-bucket")
    return found.group("name"), found.group("appid")


def place_code(
    archive: bytes,
    digest: str,
    *,
    stage: str,
    region: str,
    code_bucket: str | None,
    client: ApiClient,
    environ: Mapping[str, str],
) -> CodeLocation:
    """Inline when small enough, else upload to ``--code-bucket`` (same region as the functions)."""
    if len(archive) <= INLINE_LIMIT:
        return CodeLocation(zip_file=base64.b64encode(archive).decode("ascii"))
    if not code_bucket:
        raise ConfigError(
            f"the package is {len(archive) / 1e6:.1f} MB zipped, over the {INLINE_LIMIT / 1e6:.1f} MB that fits in "
            "one API request: pass --code-bucket <bucket-appid> (a COS bucket in the functions' region)",
            field="--code-bucket",
        )
    from lib.state.cos import CosStore

    name, _appid = split_bucket(code_bucket)
    key = f"{stage}/{digest}.zip"
    store = CosStore(
        code_bucket, region, CODE_PREFIX, client.credentials(), endpoint=Settings.from_environ(environ).cos_endpoint
    )
    try:
        store.put(key, archive)
    finally:
        store.close()
    return CodeLocation(bucket=name, key=f"/{CODE_PREFIX}/{key}", region=region)
