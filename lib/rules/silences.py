"""Which silence, if any, holds notifications for a (budget, group) at an instant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lib.model import GroupKey, Silence


def holding(silences: Sequence[Silence], budget: str, group: GroupKey, now: datetime) -> Silence | None:
    """The active silence matching ``budget`` and ``group`` that ends last (so messages say until when)."""
    active = [s for s in silences if s.active(now) and s.matches(budget, group)]
    if not active:
        return None
    return max(active, key=lambda s: (s.ends_at.timestamp(), s.id))
