"""Pydantic models of ``budgets.yaml`` (DESIGN §3.3): frozen, unknown keys refused.

Field names here are a contract used by collectors, rules, notify and tests outside the repo.
Quantities (``limit``, ``below``) are parsed to Decimal in the budget's base unit by ``lib.units``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ChannelType = Literal["wecom", "dingtalk", "feishu", "slack", "webhook"]
Dimension = Literal["zone-id", "host", "proxy-id", "region-id"]
FilterType = Literal["host", "proxy-id", "region-id"]
Aggregate = Literal["max", "p95", "avg", "sum"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(Strict):
    type: ChannelType
    url: str
    secret: str | None = None
    language: Literal["zh", "en"] | None = None  # overrides the top-level language for this channel
    mentions: tuple[str, ...] = ()  # user ids / mobiles / "@all" where the platform supports it


class Spike(Strict):
    """Alert when the current bucket is far above its baseline."""

    baseline: Literal["yesterday", "median"] = "median"
    window: int = 7  # trailing buckets (days for day series) for the median baseline
    factor: float = 3.0  # value must exceed baseline * factor ...
    min_value: Decimal = Decimal(0)  # ... and this absolute floor, so idle zones do not page


class Budget(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=64)
    source: Literal["teo", "billing"]
    metric: str
    zones: tuple[str, ...] = ("*",)
    filters: dict[FilterType, tuple[str, ...]] = Field(default_factory=dict)
    group_by: tuple[Dimension, ...] = Field(default=(), max_length=2)
    period: Literal["day", "month"] = "month"
    limit: Decimal | Literal["plan"] | None = None
    thresholds: tuple[Decimal, ...] = ()  # percent of limit; defaults to (100,) when a limit is set
    absolute: tuple[Decimal, ...] = ()  # absolute levels in the metric's unit
    forecast: bool = False
    below: Decimal | None = None
    repeat: float | None = None  # seconds between re-notifications while firing (e.g. "24h")
    spike: Spike | None = None
    aggregate: Aggregate | None = None  # bandwidth metrics: peak by default
    no_data_after: int = 3  # consecutive failed runs before a no-data alert
    channels: tuple[str, ...] = ()


class Config(Strict):
    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    channels: dict[str, Channel] = Field(default_factory=dict)
    budgets: tuple[Budget, ...] = ()
