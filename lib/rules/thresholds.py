"""Threshold levels: percent of a limit and absolute amounts, and which one (if any) to tell now.

One notification per crossing per (budget, group, period, level). When one run finds the value past
several levels, the highest is told and the lower ones count as told. Levels only rise within a
period: a level below one already told is never told, even if the value dipped and rose again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True)
class Level:
    key: str  # stable identity within a budget: "80%" or "5000000000000"
    trigger: Decimal  # the value at which the level is crossed (>=)
    number: float  # what the notification's ``level`` says: the percent, or the amount
    kind: Literal["percent", "absolute"]


def plain(value: Decimal) -> str:
    """``Decimal('80.0')`` → ``'80'``, never scientific notation."""
    text = format(value.normalize(), "f")
    return text


def build_levels(thresholds: tuple[Decimal, ...], absolute: tuple[Decimal, ...], limit: Decimal | None) -> list[Level]:
    """All levels of a budget, lowest trigger first (ties: percent first, then by key)."""
    levels: list[Level] = []
    if limit is not None:
        for percent in thresholds:
            levels.append(Level(f"{plain(percent)}%", limit * percent / 100, float(percent), "percent"))
    for amount in absolute:
        levels.append(Level(plain(amount), amount, float(amount), "absolute"))
    levels.sort(key=lambda level: (level.trigger, level.kind != "percent", level.key))
    return levels


def crossed(levels: list[Level], value: Decimal) -> list[Level]:
    return [level for level in levels if value >= level.trigger]


def to_tell(levels: list[Level], value: Decimal, told: set[str]) -> Level | None:
    """The level to announce now: the highest crossed one, unless it or a higher one was already told."""
    past = crossed(levels, value)
    if not past:
        return None
    highest = past[-1]
    rank = levels.index(highest)
    if any(level.key in told for level in levels[rank:]):
        return None
    return highest
