"""The series a run records, and the balances earlier runs recorded, read back for budgets with ``runway``.

A balance observation carries the balance as a one-point series, which the series store keeps (one
point an hour, ``lib.sources.billing``); the runway rule, pure, gets them as the observation's
``history``. Only budgets with ``runway`` pay for the read: one series object each. A month-to-date
cost has no series of its own (Billing answers a total), so its reading is recorded the same way, one
point an hour: the dashboard's chart draws the cost's course from them instead of an empty line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import timezone
from typing import TYPE_CHECKING

from lib.model import Observation, Point, group_label

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


def series_to_record(config: Config, observations: Sequence[Observation]) -> Iterator[tuple[str, str, list[Point]]]:
    """(budget, group label, points) for the series store: each observation's own series, or, for a
    billing total without one, its reading stamped with the start of its hour (a failed or not-ready
    fetch records nothing: a missing reading is never a zero)."""
    billing = {b.name for b in config.budgets if b.source == "billing"}
    for obs in observations:
        if obs.series:
            yield obs.budget, group_label(obs.group), list(obs.series)
        elif obs.budget in billing and obs.ok and obs.value is not None and obs.as_of is not None:
            hour = obs.as_of.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
            yield obs.budget, group_label(obs.group), [Point(hour, obs.value)]
