"""Low-balance rule: fires while the value is strictly below the configured amount."""

from __future__ import annotations

from decimal import Decimal


def is_below(value: Decimal, below: Decimal) -> bool:
    # Strict: a balance exactly at the line is not yet below it.
    return value < below
