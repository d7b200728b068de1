"""How a failed fetch shows up: an Observation with ``value=None`` and ``error="<code>: <message>"``, never a zero."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from lib.errors import ApiError, BudgetError
from lib.model import GroupKey, Observation, Period


class Caller(Protocol):
    """The one method of ``lib.client.ApiClient`` the collectors use."""

    def call(
        self,
        service: str,
        version: str,
        action: str,
        params: Any = None,
        region: str | None = None,
    ) -> dict[str, Any]: ...


def describe(exc: BudgetError) -> str:
    """``"<code>: <message>"``: the API's error code, or the error's class for failures without one."""
    if isinstance(exc, ApiError):
        return f"{exc.code}: {exc.api_message}"
    return f"{type(exc).__name__}: {exc.message}"


def failed(
    budget: str, groups: list[GroupKey], period: Period, unit: str, *, error: str, as_of: datetime
) -> list[Observation]:
    return [
        Observation(budget=budget, group=g, period=period, value=None, unit=unit, error=error, as_of=as_of)
        for g in groups
    ]
