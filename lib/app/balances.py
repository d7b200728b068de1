"""The balances earlier runs recorded, read back into the observations of budgets with ``runway``.

A balance observation carries the balance as a one-point series, which the series store keeps (one
point an hour, ``lib.sources.billing``); the runway rule, pure, gets them as the observation's
``history``. Only budgets with ``runway`` pay for the read: one series object each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lib.model import Observation, group_label

if TYPE_CHECKING:
    from lib.config.models import Config
    from lib.state.series import SeriesStore


def with_recorded_balances(
    series: SeriesStore, config: Config, observations: Sequence[Observation]
) -> list[Observation]:
    """``observations`` with the recorded balances before each one as its ``history`` (runway budgets only)."""
    wanted = {b.name for b in config.budgets if b.runway is not None}
    out: list[Observation] = []
    for obs in observations:
        if obs.budget in wanted and obs.ok and obs.as_of is not None:
            recorded = series.load(obs.budget, group_label(obs.group))
            before = obs.as_of
            out.append(dataclasses.replace(obs, history=tuple(p for p in recorded if p.time < before)))
        else:
            out.append(obs)
    return out
