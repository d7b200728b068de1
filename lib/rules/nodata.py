"""No-data rule: consecutive failed fetches, counted per (budget, group); data that is not ready is neither."""

from __future__ import annotations

from lib.model import Observation
from lib.rules.ledger import Entry


def failed(obs: Observation) -> bool:
    """A fetch that failed (an error, or no value although the provider said it was ready)."""
    return obs.error is not None or (obs.ready and obs.value is None)


def record(entry: Entry, obs: Observation, after: int) -> bool:
    """Count this run in ``entry``; True when the no-data condition holds (``after`` failures in a row)."""
    if failed(obs):
        entry.failures += 1
    elif obs.ready:
        entry.failures = 0
    return after > 0 and entry.failures >= after
