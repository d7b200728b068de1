"""Numbers in Tencent Cloud answers, read as exact Decimals (every source reads them the same way)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def number(raw: Any) -> Decimal:
    """A JSON number as an exact Decimal (``str`` of a float is its shortest round-trip form)."""
    if isinstance(raw, bool):
        raise TypeError("boolean is not a number")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float | str):
        value = Decimal(str(raw))
        if value.is_finite():
            return value
    raise TypeError(f"not a number: {raw!r}")
