"""Shared builders for the rules tests: configs, observations, linear series, and a runner that keeps the ledger."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lib.config.models import Config
from lib.model import GroupKey, Notification, Observation, Point, Silence
from lib.periods import current_period, zone
from lib.rules import Outcome, evaluate

CHANNELS = {"ops": {"type": "wecom", "url": "https://qyapi.example/hook"}}


def config(*budgets: dict[str, Any], timezone: str = "Asia/Shanghai") -> Config:
    return Config.model_validate({"timezone": timezone, "channels": CHANNELS, "budgets": list(budgets)})


def budget(name: str = "traffic", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": name, "source": "teo", "metric": "acc_flux", "channels": ["ops"]}
    base.update(fields)
    return base


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def observation(
    cfg: Config,
    name: str,
    value: Decimal | int | str | None,
    now: datetime,
    *,
    group: GroupKey = (),
    series: Sequence[Point] = (),
    error: str | None = None,
    ready: bool = True,
    limit: Decimal | None = None,
    unit: str = "B",
    breakdown: tuple[tuple[str, Decimal], ...] = (),
) -> Observation:
    b = cfg.budget(name)
    assert b is not None
    period = current_period(b.period, now, zone(cfg.timezone))
    return Observation(
        budget=name,
        group=group,
        period=period,
        value=None if value is None else Decimal(str(value)),
        unit=unit,
        series=tuple(series),
        breakdown=breakdown,
        limit=limit,
        error=error,
        ready=ready,
        as_of=now,
    )


def hourly_series(start: datetime, now: datetime, per_hour: Decimal) -> tuple[Point, ...]:
    """Hourly buckets from ``start`` up to ``now``: full hours hold ``per_hour``, the current one its share so far."""
    points = []
    utc = zone("UTC")
    t, now = start.astimezone(utc), now.astimezone(utc)  # UTC arithmetic: real hours, also on DST days
    while t < now:
        end = min(t + timedelta(hours=1), now)
        share = per_hour * Decimal(int((end - t).total_seconds())) / Decimal(3600)
        points.append(Point(t, share))
        t += timedelta(hours=1)
    return tuple(points)


@dataclass
class Runner:
    """Runs evaluate() again and again like the timer does, carrying the ledger through JSON."""

    cfg: Config
    ledger: dict[str, Any] | None = None
    sent: list[Notification] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def step(self, now: datetime, observations: Sequence[Observation], silences: Sequence[Silence] = ()) -> Outcome:
        outcome = evaluate(self.cfg, observations, self.ledger, now, silences=silences)
        self.ledger = json.loads(json.dumps(outcome.ledger))
        self.sent.extend(outcome.notifications)
        self.outcomes.append(outcome)
        return outcome


def summary(notifications: Sequence[Notification]) -> list[tuple[str, str, str, Any]]:
    """(at, kind, status, level) per notification: what a person would see, in order."""
    return [(n.at.isoformat(), n.kind, n.status, n.level) for n in notifications]
