"""Conditions that fire and clear (low balance, spike, no data): when to say firing, repeat, or resolved.

People are told when what they last heard differs from what holds now: ``firing`` when a condition
begins, ``resolved`` when it clears after they heard it fire. While it keeps firing, a repeat goes out
every ``repeat`` seconds counted from the first message (ordinal 1, 2, ...; after a gap only the
latest ordinal goes out, never a burst). A silence holds the message: nothing is marked as told, so
the first run after the silence tells whatever is still true, under the same notification id.

Ids come from the episode number and the local date it began, not from the run's clock, so a run
retried after a crash decides the same ids as the run it replaces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from lib.rules.ledger import Episode


@dataclass(frozen=True)
class Action:
    status: Literal["firing", "resolved"]
    episode: str  # "<number>@<local date it began>"
    ordinal: int  # 0 for the first firing message, n for the n-th repeat; 0 for resolved
    since: str  # ISO instant the episode began


IdMaker = Callable[[Action], str]


def episode_label(episode: Episode, tz: tzinfo) -> str:
    since = datetime.fromisoformat(episode.since) if episode.since else None
    day = since.astimezone(tz).date().isoformat() if since else "-"
    return f"{episode.number}@{day}"


def advance(
    episode: Episode,
    firing: bool,
    now: datetime,
    tz: tzinfo,
    *,
    repeat: float | None,
    held: bool,
    make_id: IdMaker,
) -> tuple[Action | None, bool]:
    """Move ``episode`` to what holds now. Returns the action to take (or None) and whether a silence held one.

    ``held`` says a silence covers this (budget, group) now. The episode is updated in place.
    """
    if firing and not episode.active:
        episode.active = True
        episode.number += 1
        episode.since = now.isoformat()
    elif not firing:
        episode.active = False

    if firing and not episode.told:
        action = Action("firing", episode_label(episode, tz), 0, episode.since or now.isoformat())
        return _tell(episode, action, now, held, make_id)
    if firing and episode.told and repeat:
        told_at = datetime.fromisoformat(episode.told_at or now.isoformat())
        ordinal = int((now.timestamp() - told_at.timestamp()) // repeat)
        if ordinal > episode.ordinal:
            if held:  # repeats are reminders: a silence skips them (consumed, so none is owed when it ends)
                episode.ordinal = ordinal
                return None, True
            episode.ordinal = ordinal
            return Action("firing", episode_label(episode, tz), ordinal, episode.since or now.isoformat()), False
        return None, False
    if not firing and episode.told:
        action = Action("resolved", episode_label(episode, tz), 0, episode.since or now.isoformat())
        return _tell(episode, action, now, held, make_id)
    episode.held = None  # whatever a silence held is no longer true
    return None, False


def _tell(episode: Episode, action: Action, now: datetime, held: bool, make_id: IdMaker) -> tuple[Action | None, bool]:
    if held:
        episode.held = make_id(action)
        return None, True
    episode.held = None
    if action.status == "firing":
        episode.told = True
        episode.told_at = now.isoformat()
        episode.ordinal = 0
    else:
        episode.told = False
        episode.told_at = None
        episode.ordinal = 0
    return action, False
