"""How a failed fetch shows up: an Observation with ``value=None`` and a typed ``failure``, never a zero."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from lib.errors import BudgetError
from lib.model import Failure, GroupKey, Observation, Period


class Caller(Protocol):
    """The one method of ``lib.client.ApiClient`` the sources use."""

    def call(
        self,
        service: str,
        version: str,
        action: str,
        params: Any = None,
        region: str | None = None,
    ) -> dict[str, Any]: ...


def failed(
    budget: str, groups: list[GroupKey], period: Period, unit: str, *, error: BudgetError, as_of: datetime
) -> list[Observation]:
    """One Observation per group, each carrying ``error`` as its ``Failure``."""
    failure = Failure.of(error)
    return [
        Observation(budget=budget, group=g, period=period, value=None, unit=unit, failure=failure, as_of=as_of)
        for g in groups
    ]
