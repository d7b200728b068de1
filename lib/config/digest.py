"""The ``digest:`` section of ``budgets.yaml``: one summary of every budget per day (or week), and its checks.

``digest: {every: day|week, at: "09:30", channels: [ops], weekday: mon}``: ``at`` is local time in the
configuration's time zone; ``weekday`` applies to ``every: week`` only (Monday by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from lib.config.models import Config

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_AT = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Digest(BaseModel):
    """When the digest goes out and where to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every: Literal["day", "week"] = Field(default="day", description="one digest per local day or per week")
    at: str = Field(default="09:30", description='local time HH:MM (24-hour clock), e.g. "09:30"')
    weekday: Weekday | None = Field(default=None, description="every: week only; the day it goes out (mon)")
    channels: tuple[str, ...] = Field(default=(), description="channel names from channels:")

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, raw: object) -> object:
        if isinstance(raw, int):
            # YAML 1.1 reads an unquoted 9:30 as the base-60 number 570: ask for the quoted form.
            raise ValueError(f'YAML read an unquoted time as the number {raw}: write it in quotes, e.g. at: "09:30"')
        text = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(text, str) or not _AT.match(text):
            raise ValueError(f'write a local time as "HH:MM" (00:00 to 23:59), e.g. "09:30"; not {raw!r}')
        return text

    @property
    def minutes(self) -> int:
        """``at`` as minutes after local midnight."""
        hours, minutes = self.at.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def weekday_index(self) -> int:
        """The weekday of a weekly digest, Monday = 0 (``datetime.weekday``)."""
        return WEEKDAYS.index(self.weekday or "mon")


def check_digest(config: Config) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """The digest's cross-field problems: its channels exist, and ``weekday`` only with ``every: week``."""
    digest = config.digest
    if digest is None:
        return
    defined = ", ".join(sorted(config.channels)) or "none defined under channels:"
    if not digest.channels:
        yield ("digest", "channels"), f"no channels: list at least one for the digest ({defined})"
    for position, name in enumerate(digest.channels):
        if name not in config.channels:
            yield ("digest", "channels", position), f"unknown channel {name!r}; channels: {defined}"
    if len(set(digest.channels)) != len(digest.channels):
        yield ("digest", "channels"), "a channel is listed twice"
    if digest.weekday is not None and digest.every != "week":
        yield ("digest", "weekday"), "weekday applies to every: week only; remove it or set every: week"
