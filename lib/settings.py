"""``Settings``: every ``BUDGET_*`` variable (DESIGN §3.2), read and checked once, in one place.

The composition root (``lib.app.runtime.App.from_env``) builds one ``Settings`` from the environment
and hands its fields to the parts it builds; no other module reads a ``BUDGET_*`` variable. A bad
value is a ``ConfigError`` naming the variable and what is allowed, never echoing a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lib.errors import ConfigError

DEFAULT_CONFIG = "budgets.yaml"
DEFAULT_STATE = "file://.state"
MAX_SHARD_SIZE = 10_000


@dataclass(frozen=True)
class Settings:
    """The deployment's settings; ``None`` where a variable is unset (its feature is off)."""

    config: str = DEFAULT_CONFIG  # BUDGET_CONFIG: a path or cos://<bucket-appid>.<region>/<key>
    state: str = DEFAULT_STATE  # BUDGET_STATE: file://<dir>, cos://…/<prefix> or memory://
    site: str = "cn"  # BUDGET_SITE: cn | intl (checked by the API client, which knows the sites)
    api_endpoint: str | None = None  # BUDGET_API_ENDPOINT
    cos_endpoint: str | None = None  # BUDGET_COS_ENDPOINT
    api_tokens_text: str | None = None  # BUDGET_API_TOKEN, as set (the API's auth module parses it)
    public_url: str | None = None  # BUDGET_PUBLIC_URL
    link_secret: str | None = None  # BUDGET_LINK_SECRET
    fanout_function: str | None = None  # BUDGET_FANOUT_FUNCTION
    shard_size: int | None = None  # BUDGET_SHARD_SIZE
    deploy_package: str | None = None  # BUDGET_DEPLOY_PACKAGE: the deployer's prebuilt zip or folder (never deployed)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read every ``BUDGET_*`` variable; an empty value counts as unset."""

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        public_url = get("BUDGET_PUBLIC_URL")
        if public_url is not None and not public_url.startswith(("https://", "http://")):
            raise ConfigError("must be the API's base URL, starting with https://", field="BUDGET_PUBLIC_URL")
        return cls(
            config=get("BUDGET_CONFIG") or DEFAULT_CONFIG,
            state=get("BUDGET_STATE") or DEFAULT_STATE,
            site=get("BUDGET_SITE") or "cn",
            api_endpoint=get("BUDGET_API_ENDPOINT"),
            cos_endpoint=get("BUDGET_COS_ENDPOINT"),
            api_tokens_text=environ.get("BUDGET_API_TOKEN") or None,
            public_url=public_url.rstrip("/") if public_url else None,
            link_secret=environ.get("BUDGET_LINK_SECRET") or None,
            fanout_function=get("BUDGET_FANOUT_FUNCTION"),
            shard_size=_shard_size(get("BUDGET_SHARD_SIZE")),
            deploy_package=get("BUDGET_DEPLOY_PACKAGE"),
        )

    @property
    def links_enabled(self) -> bool:
        """Messages carry signed links only when both the public URL and the signing key are set."""
        return self.public_url is not None and self.link_secret is not None


def _shard_size(text: str | None) -> int | None:
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_SHARD_SIZE:
        raise ConfigError(f"must be a whole number of accounts from 1 to {MAX_SHARD_SIZE}", field="BUDGET_SHARD_SIZE")
    return int(text)
