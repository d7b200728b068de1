"""Values passed between render, send and deliver: an outgoing ``Request`` and its ``DeliveryResult``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["sent", "retry", "rejected"]
_SAFE_CHANNEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Request:
    """One HTTP request a channel wants sent, carrying the notifications it delivers."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    notification_ids: tuple[str, ...]
    kind: str = ""  # wecom | dingtalk | feishu | slack | webhook
    channel: str = ""  # the configured channel name, for results
    limit_key: str = ""  # requests with the same key share a rate limit (the configured URL)

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass(frozen=True)
class DeliveryResult:
    """What became of a request: ``sent``, ``retry`` later, or ``rejected`` (do not retry), and why.

    ``reason`` never carries a webhook URL's secret part or a signing secret (see ``lib.notify.redact``).
    """

    channel: str
    notification_ids: tuple[str, ...]
    outcome: Outcome
    reason: str = ""
    status_code: int | None = None
    retry_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "notification_ids": list(self.notification_ids),
            "outcome": self.outcome,
            "reason": self.reason,
            "status_code": self.status_code,
            "retry_after": self.retry_after,
        }


def delivery_id(notification_id: str, channel: str) -> str:
    """Stable key of one (notification, channel) delivery; safe as a file or object name.

    Channel names that are not plain identifiers are replaced by a digest so the key stays safe.
    """
    if _SAFE_CHANNEL.match(channel):
        return f"{notification_id}__{channel}"
    digest = hashlib.sha256(channel.encode("utf-8")).hexdigest()[:16]
    return f"{notification_id}__ch{digest}"
