"""Request bodies of ``POST /check`` and ``POST /silences``, validated by pydantic (unknown keys refused)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from lib.api.errors import ApiProblem, bad_request, invalid_input

MatcherKey = Literal["budget", "zone-id", "host", "proxy-id", "region-id"]
MATCHER_KEYS: tuple[str, ...] = get_args(MatcherKey)
MAX_SILENCE = timedelta(days=366)
# Instants a request may name: Tencent Cloud has no billing data before this, and far-future dates
# would only overflow date arithmetic further down.
EARLIEST = datetime(2010, 1, 1, tzinfo=timezone.utc)
MAX_AHEAD = timedelta(days=366)
# [0-9], not \d: int() would read other scripts' digits ("١h" as one hour).
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")
_DURATION = re.compile(r"^(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1d``, ``1w`` or combinations such as ``1h30m``; ValueError otherwise."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError("use a number and a unit, e.g. 30m, 2h, 1d or 1h30m")
    weeks, days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if max(weeks, days, hours, minutes, seconds) > 10**6:
        raise ValueError("duration is too long")
    value = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value > MAX_SILENCE:
        raise ValueError("a silence may last at most 366 days")
    if value <= timedelta(0):
        raise ValueError("duration must be positive")
    return value


def _instant_text(value: Any) -> Any:
    """Only ISO 8601 text is an instant: pydantic would also read 1700000000 (or "1700000000") as one."""
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        raise ValueError("write an ISO 8601 instant with an offset, e.g. 2026-11-20T08:00:00+08:00")
    return value.strip()  # like every other string of a body (str_strip_whitespace)


# The one place a string becomes a datetime; everything else in a body must already have its JSON type.
Instant = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_instant_text)]


class _Strict(BaseModel):
    # strict: "yes", 1 or "true" are not a boolean, 5 is not text; a request says what it means.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, strict=True)


class CheckRequest(_Strict):
    """``POST /check``: an optional dry run and an optional instant to evaluate at (backtest)."""

    dry_run: bool = False
    at: Instant | None = None

    @field_validator("at")
    @classmethod
    def _after_earliest(cls, value: datetime | None) -> datetime | None:
        if value is not None and value < EARLIEST:
            raise ValueError(f"must be after {EARLIEST.date().isoformat()}")
        return value


class SilenceRequest(_Strict):
    """``POST /silences``: matchers plus either ``ends_at`` or ``duration``."""

    matchers: dict[MatcherKey, str] = Field(min_length=1)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    duration: str | None = Field(default=None, max_length=32)
    comment: str = Field(default="", max_length=1000)

    @field_validator("matchers")
    @classmethod
    def _values(cls, value: dict[str, str]) -> dict[str, str]:
        for key, want in value.items():
            if not want or len(want) > 256:
                raise ValueError(f"matcher {key!r} needs a value of 1 to 256 characters")
            if "*" in want[:-1]:
                raise ValueError(f"matcher {key!r}: '*' is only allowed at the end (prefix match)")
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _one_end(self) -> SilenceRequest:
        if (self.ends_at is None) == (self.duration is None):
            raise ValueError("give exactly one of ends_at or duration")
        return self

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """(starts_at, ends_at) as of ``now``; ApiProblem 400 when the window is empty, past or too long."""
        start = self.starts_at or now
        for name, value in (("starts_at", self.starts_at), ("ends_at", self.ends_at)):
            if value is not None and not EARLIEST <= value <= now + MAX_AHEAD + MAX_SILENCE:
                raise bad_request("the date is too far in the past or the future", field=name)
        if start > now + MAX_AHEAD:
            raise bad_request("a silence may start at most 366 days ahead", field="starts_at")
        if self.ends_at is not None:
            end, field = self.ends_at, "ends_at"
        else:
            end, field = start + parse_duration(self.duration or ""), "duration"
        if end <= start:
            raise bad_request("the silence must end after it starts", field=field)
        if end <= now:
            raise bad_request("the silence would already be over", field=field)
        if end - start > MAX_SILENCE:
            raise bad_request("a silence may last at most 366 days", field=field)
        return start, end


def validate(model: type[_Strict], data: Any) -> Any:
    """``model`` built from a parsed JSON body; ApiProblem 400 with field details otherwise."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    except (ValueError, OverflowError) as exc:  # dates pydantic parses but datetime cannot hold
        raise ApiProblem(400, "invalid_input", str(exc)) from exc
