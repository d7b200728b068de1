"""Money and the billing clock: exact Decimal amounts, the account currency, and the UTC+8 bill month and day.

Amounts arrive as strings of yuan or integers of fen, and ``Decimal(str(x))`` is exact for anything the
JSON parser produced from them. Tencent bills by its own clock (UTC+8), whatever the configured zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from lib.errors import CollectError
from lib.model import Period
from lib.periods import PeriodKind, current_period

BILLING_TZ = timezone(timedelta(hours=8), "UTC+8")
FEN = Decimal(100)


def currency(client: object) -> str:
    """The account currency: CNY on the China site, USD on the international site."""
    return "USD" if getattr(client, "site", "cn") == "intl" else "CNY"


def bill_month(now: datetime) -> str:
    return now.astimezone(BILLING_TZ).strftime("%Y-%m")


def bill_period(kind: PeriodKind, now: datetime, tz: tzinfo) -> Period:
    """The UTC+8 bill month (or day) containing ``now``, expressed in the configured zone."""
    found = current_period(kind, now, BILLING_TZ)
    return Period(found.start.astimezone(tz), found.end.astimezone(tz))


def money(raw: Any, what: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise CollectError(f"{what} is not an amount: {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise CollectError(f"{what} is not an amount: {raw!r}") from exc
    if not value.is_finite():
        raise CollectError(f"{what} is not an amount: {raw!r}")
    return value
