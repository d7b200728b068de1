"""Shared pieces for the tests of deciding and running budget actions: a configuration, evaluations, an App."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from lib.app.runtime import App
from lib.config.models import Config
from lib.model import Evaluation, Notification, Observation, Period, Silence, group_key, notification_id
from lib.state.memory import MemoryStore
from lib.state.repo import StateRepository
from tests.unit.action_support import NOW, PERIOD, FakeCloud

LIMIT = Decimal(10**13)
NEXT_PERIOD = Period(PERIOD.end, datetime(2026, 12, 31, 16, 0, tzinfo=PERIOD.end.tzinfo))


def config(*actions: dict[str, Any], **budget: Any) -> Config:
    """One teo budget ``traffic`` grouped by zone, thresholds 80/100, with ``actions``; a webhook channel."""
    doc = {
        "name": "traffic",
        "source": "teo",
        "metric": "acc_flux",
        "group_by": ["zone-id"],
        "limit": "10TB",
        "thresholds": [80, 100],
        "channels": ["hook"],
        "actions": list(actions),
        **budget,
    }
    return Config.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "language": "en",
            "channels": {"hook": {"type": "webhook", "url": "https://hooks.example.com/budget"}},
            "budgets": [doc],
        }
    )


def evaluation(
    percent: float,
    *,
    zone: str = "zone-1",
    status: str = "firing",
    error: str | None = None,
    forecast_percent: float | None = None,
    kind: str | None = "threshold",
    period: Period = PERIOD,
) -> Evaluation:
    value = None if status in ("error", "no-data") else LIMIT * Decimal(str(percent)) / 100
    forecast = None if forecast_percent is None else LIMIT * Decimal(str(forecast_percent)) / 100
    return Evaluation(
        budget="traffic",
        group=group_key({"zone-id": zone}),
        period=period,
        value=value,
        unit="B",
        limit=LIMIT,
        percent=percent,
        forecast=forecast,
        level=100 if percent >= 100 else None,
        status=status,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        error=error,
    )


def observation(ev: Evaluation, *, data_until: datetime | None = None, error: str | None = None) -> Observation:
    return Observation(
        budget=ev.budget,
        group=ev.group,
        period=ev.period,
        value=ev.value if error is None else None,
        unit="B",
        error=error,
        data_until=data_until,
    )


def crossing(ev: Evaluation, kind: str = "threshold") -> Notification:
    return Notification(
        id=notification_id("traffic", kind, str(ev.group)),
        budget="traffic",
        group=ev.group,
        kind=kind,  # type: ignore[arg-type]
        status="firing",
        period=ev.period,
        at=NOW,
        value=ev.value,
        unit="B",
        limit=LIMIT,
        level=100,
        channels=("hook",),
    )


def silence(zone: str, *, hours: int = 1) -> Silence:
    return Silence(
        "sil_1", {"budget": "traffic", "zone-id": zone}, NOW - timedelta(hours=1), NOW + timedelta(hours=hours)
    )


class Clock:
    """A settable clock for an App: ``clock.now`` moves, ``clock()`` reads it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def app(cfg: Config, cloud: FakeCloud, *, state: StateRepository | None = None, clock: Clock | None = None) -> App:
    """An App over an in-memory store whose API client is the fake cloud (the machine acts through it)."""
    store = MemoryStore()
    repo = state or StateRepository(store)
    return App(
        config=cfg,
        store=store,
        repo=repo,
        client=cloud,  # type: ignore[arg-type]
        session=requests.Session(),
        clock=clock or Clock(),
    )
