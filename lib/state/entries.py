"""An outbox entry: one delivery waiting to be (re)tried, or given up on; its JSON form is stored as is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lib.state.codec import parse_time


@dataclass(frozen=True)
class OutboxEntry:
    """A delivery waiting to be (re)tried, or given up on (``failed``: kept for the status page)."""

    delivery_id: str
    channel: str
    notification: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    last_error: str
    status: Literal["pending", "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "channel": self.channel,
            "notification": self.notification,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutboxEntry:
        status = data["status"]
        if status not in ("pending", "failed"):
            raise ValueError(f"unknown outbox status {status!r}")
        at = parse_time(data["next_attempt_at"])
        return cls(
            delivery_id=str(data["delivery_id"]),
            channel=str(data["channel"]),
            notification=dict(data["notification"]),
            attempts=int(data["attempts"]),
            next_attempt_at=at,
            last_error=str(data.get("last_error", "")),
            status=status,
        )
