"""Value types shared by collectors, rules, state, notify and the API: observations, evaluations, notifications.

Everything here is immutable and JSON-friendly through ``to_dict``; money and usage are ``Decimal``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from lib.errors import ApiError, BudgetError

# A group is the sorted (dimension, value) pairs a budget is grouped by: (("zone-id", "zone-1"),).
GroupKey = tuple[tuple[str, str], ...]
Status = Literal["ok", "firing", "resolved", "no-data", "error"]
Kind = Literal["threshold", "forecast", "below", "runway", "spike", "no-data", "action", "digest"]


def group_key(labels: Mapping[str, str]) -> GroupKey:
    return tuple(sorted((str(k), str(v)) for k, v in labels.items()))


def group_dict(group: GroupKey) -> dict[str, str]:
    return dict(group)


def group_label(group: GroupKey) -> str:
    """Human and storage form: ``zone-id=zone-1,host=a.com``; empty string for the whole budget."""
    return ",".join(f"{k}={v}" for k, v in group)


def number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: integers stay exact, others become floats."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


@dataclass(frozen=True)
class Period:
    """A budget period [start, end) as aware datetimes in the configured time zone."""

    start: datetime
    end: datetime

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


class Point(NamedTuple):
    """One bucket of a usage series: its start (aware, UTC) and its value.

    A named tuple, not a dataclass: a run builds one per bucket and group (174,000 for 6,000 zone
    groups over a month), and a tuple of a datetime and a Decimal is built faster and leaves the
    garbage collector's lists at its first pass.
    """

    time: datetime
    value: Decimal


@dataclass(frozen=True)
class Failure:
    """Why a source has no value for a budget, as a typed value: the error's class, the API's code, its text.

    Sources turn a ``lib.errors`` exception into this (``Failure.of``) so that observations stay plain,
    comparable values; callers decide by ``error`` (the class name) or ``retryable``, never by the text.
    """

    error: str  # the class in lib.errors: ApiError, TransportError, CollectError ...
    message: str
    code: str | None = None  # the API's error code (ApiError only)
    retryable: bool = False

    @classmethod
    def of(cls, exc: BudgetError) -> Failure:
        if isinstance(exc, ApiError):
            return cls(type(exc).__name__, exc.api_message, exc.code, exc.retryable)
        return cls(type(exc).__name__, exc.message, None, exc.retryable)

    def __str__(self) -> str:
        """``"<code>: <message>"``: the API's error code, or the error's class for failures without one."""
        return f"{self.code or self.error}: {self.message}"


@dataclass(frozen=True)
class Observation:
    """What a collector found for one (budget, group) in the current period.

    ``value`` is None when the data is missing: ``error`` says why when a fetch failed, and
    ``ready=False`` marks data the provider has not finished (billing ``Ready=0``). Never a zero.
    Sources set ``failure`` (typed); ``error`` is its text, filled in from it, for rules and the result.
    ``series`` holds the period's points only; ``history`` the points just before the period that a
    spike rule needs for its baseline (empty without one). Neither value, forecast nor charts read it.
    ``data_until`` is where late data ends (the value covers usage up to there; later buckets are
    missing, not zero), for the message to say so.
    """

    budget: str
    group: GroupKey
    period: Period
    value: Decimal | None
    unit: str
    series: tuple[Point, ...] = ()
    breakdown: tuple[tuple[str, Decimal], ...] = ()
    limit: Decimal | None = None
    error: str | None = None
    ready: bool = True
    as_of: datetime | None = None
    history: tuple[Point, ...] = ()
    failure: Failure | None = None
    data_until: datetime | None = None  # the data ends here, short of now (late billing data); None: current

    def __post_init__(self) -> None:
        if self.failure is not None and self.error is None:
            object.__setattr__(self, "error", str(self.failure))  # frozen: set once, while constructing

    @property
    def ok(self) -> bool:
        return self.error is None and self.ready and self.value is not None


@dataclass(frozen=True)
class Evaluation:
    """One row of the result document (DESIGN §3.4)."""

    budget: str
    group: GroupKey
    period: Period
    value: Decimal | None
    unit: str
    limit: Decimal | None
    percent: float | None
    forecast: Decimal | None
    level: float | None
    status: Status
    kind: Kind | None = None
    silenced: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "budget": self.budget,
            "group": group_dict(self.group),
            "period": self.period.to_dict(),
            "value": number(self.value),
            "unit": self.unit,
            "limit": number(self.limit),
            "percent": self.percent,
            "forecast": number(self.forecast),
            "level": _level(self.level),
            "status": self.status,
        }
        if self.kind:
            out["kind"] = self.kind
        if self.silenced:
            out["silenced"] = True
        if self.error:
            out["error"] = self.error
        return out


def _dec_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _level(level: float | None) -> int | float | None:
    if level is None:
        return None
    return int(level) if float(level).is_integer() else level


def notification_id(*parts: str) -> str:
    """A stable id from the identity of a crossing; no dots, so it is a valid ``webhook-id``."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return "ntf_" + digest[:32]


@dataclass(frozen=True)
class Notification:
    """One thing to tell people, with an id that is the same in every run that decides to send it."""

    id: str
    budget: str
    group: GroupKey
    kind: Kind
    status: Literal["firing", "resolved"]
    period: Period
    at: datetime
    value: Decimal | None
    unit: str
    limit: Decimal | None = None
    percent: float | None = None
    forecast: Decimal | None = None
    level: float | None = None
    channels: tuple[str, ...] = ()
    breakdown: tuple[tuple[str, Decimal], ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A lossless JSON form (Decimals as strings) for the outbox and the alert history."""
        return {
            "id": self.id,
            "budget": self.budget,
            "group": [list(pair) for pair in self.group],
            "kind": self.kind,
            "status": self.status,
            "period": self.period.to_dict(),
            "at": self.at.isoformat(),
            "value": _dec_str(self.value),
            "unit": self.unit,
            "limit": _dec_str(self.limit),
            "percent": self.percent,
            "forecast": _dec_str(self.forecast),
            "level": self.level,
            "channels": list(self.channels),
            "breakdown": [[name, str(amount)] for name, amount in self.breakdown],
            "detail": dict(self.detail),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notification:
        period = data["period"]
        return cls(
            id=str(data["id"]),
            budget=str(data["budget"]),
            group=tuple((str(k), str(v)) for k, v in data["group"]),
            kind=data["kind"],
            status=data["status"],
            period=Period(datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])),
            at=datetime.fromisoformat(str(data["at"])),
            value=_dec(data.get("value")),
            unit=str(data["unit"]),
            limit=_dec(data.get("limit")),
            percent=data.get("percent"),
            forecast=_dec(data.get("forecast")),
            level=data.get("level"),
            channels=tuple(data.get("channels", ())),
            breakdown=tuple((str(n), Decimal(str(a))) for n, a in data.get("breakdown", ())),
            detail=dict(data.get("detail", {})),
        )

    def to_payload(self, message: str) -> dict[str, Any]:
        """The generic webhook document (DESIGN §3.5)."""
        return {
            "type": "budget.alert",
            "id": self.id,
            "status": self.status,
            "kind": self.kind,
            "budget": self.budget,
            "group": group_dict(self.group),
            "level": _level(self.level),
            "value": number(self.value),
            "unit": self.unit,
            "limit": number(self.limit),
            "percent": self.percent,
            "forecast": number(self.forecast),
            "period": self.period.to_dict(),
            "at": self.at.isoformat(),
            "message": message,
        }


@dataclass(frozen=True)
class Silence:
    """Holds notifications whose budget and group labels match, between ``starts_at`` and ``ends_at``.

    ``matchers`` maps ``budget`` and group dimensions (``zone-id``, ``host`` ...) to exact values;
    a value ending in ``*`` matches by prefix.
    """

    id: str
    matchers: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime
    comment: str = ""
    created_by: str = ""

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, budget: str, group: GroupKey) -> bool:
        labels = {"budget": budget, **group_dict(group)}
        for key, want in self.matchers.items():
            have = labels.get(key)
            if have is None:
                return False
            if want.endswith("*") and have.startswith(want[:-1]):
                continue
            if have != want:
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "matchers": dict(self.matchers),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "comment": self.comment,
            "created_by": self.created_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Silence:
        return cls(
            id=str(data["id"]),
            matchers={str(k): str(v) for k, v in dict(data["matchers"]).items()},
            starts_at=datetime.fromisoformat(str(data["starts_at"])),
            ends_at=datetime.fromisoformat(str(data["ends_at"])),
            comment=str(data.get("comment", "")),
            created_by=str(data.get("created_by", "")),
        )
