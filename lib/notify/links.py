"""The one-click links an alert carries (silence, approve, undo, dashboard), made at send time; pure.

``LinkMaker`` (the public URL, the signing secret, the time and a nonce source passed in) turns one
notification into its ``Offer``s; every channel marks them up in its own form. Expiry, chosen so that no
link outlives what it acts on:

- silence 1 h / 1 day, undo, dashboard: ``LINK_TTL`` (7 days) after the message is sent;
- silence until period end and approve: the notification's period end (a pending intent expires then).

Each link is its own token with its own nonce, so it works once (``lib.api.link_pages``). Chat formats
that need structure (Feishu buttons, Slack button blocks) carry the offers inside a block's text after
``MARK`` as JSON (``embed``/``extract``); a piece that a split cut through simply loses its buttons.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lib.links import Link, action_targets, link_url, new_nonce, sign, silence_targets
from lib.messages.link_words import label
from lib.model import Notification
from lib.web.urls import dashboard_url

LINK_TTL = timedelta(days=7)
HOUR, DAY = 3600, 86400
ACTION_KIND = "action"  # the kind of a notification announcing an action's transition
PENDING, DONE = "pending-approval", "done"
MARK = "\x1e"  # separates a block's text from its embedded offers (see ``embed``)
# The order offers are shown in; ``COMPACT`` are the ones kept when a batch is short of room.
ORDER = ("approve", "undo", "silence_1h", "silence", "silence_period", "dashboard")
COMPACT = frozenset({"approve", "undo", "silence"})
ESSENTIAL = frozenset({"approve", "undo"})
STYLES = {"approve": "danger", "undo": "primary"}  # approving stops traffic: the button says so


@dataclass(frozen=True)
class Offer:
    """One link of one notification: what it does (``key``), where it goes, and the action it names."""

    key: str  # silence_1h | silence | silence_period | approve | undo | dashboard
    url: str
    action: str = ""  # approve/undo: the action type (pause-zone …), for the label
    action_id: str = ""

    def label(self, language: str) -> str:
        return label(self.key, language, self.action)

    @property
    def style(self) -> str:
        return STYLES.get(self.key, "default")


Offers = Mapping[str, Sequence[Offer]]  # notification id -> its offers
NO_OFFERS: Offers = {}


@dataclass(frozen=True)
class LinkMaker:
    """Makes the signed links of notifications as of ``now`` (the sending time)."""

    public_url: str
    secret: str
    now: datetime
    nonce: Callable[[], str] = new_nonce
    ttl: timedelta = LINK_TTL

    def offers(self, notifications: Sequence[Notification]) -> dict[str, tuple[Offer, ...]]:
        return {n.id: self.links(n) for n in notifications}

    def links(self, n: Notification) -> tuple[Offer, ...]:
        """The links ``n`` carries, in ``ORDER``."""
        made: list[Offer] = []
        soon = self._epoch(self.now + self.ttl)
        period_end = self._epoch(n.period.end)
        now = self._epoch(self.now)
        if str(n.kind) == ACTION_KIND:
            made += self._action_offers([_action_entry(n.detail)], period_end, soon)
        else:
            made += self._action_offers(_entries(n.detail.get("actions")), period_end, soon)
            if n.status == "firing":
                made += [
                    self._silence("silence_1h", n, seconds=HOUR, expires=soon),
                    self._silence("silence", n, seconds=DAY, expires=soon),
                ]
                if period_end > now:
                    made.append(self._silence("silence_period", n, until=period_end, expires=period_end))
        made.append(Offer("dashboard", self._url("view", ("dashboard",), soon, dashboard=True)))
        return tuple(sorted(made, key=lambda o: ORDER.index(o.key)))

    def _action_offers(self, entries: Sequence[Mapping[str, Any]], period_end: int, soon: int) -> list[Offer]:
        out = []
        for entry in entries:
            state, ident, kind = entry.get("state"), str(entry.get("id") or ""), str(entry.get("type") or "")
            ids = [str(t) for t in entry.get("targets") or ()]
            if not ident or not ids:
                continue
            if state == PENDING and period_end > self._epoch(self.now):
                url = self._url("approve", action_targets(ident, ids), period_end)
                out.append(Offer("approve", url, kind, ident))
            elif state == DONE:
                out.append(Offer("undo", self._url("undo", action_targets(ident, ids), soon), kind, ident))
        return out

    def _silence(
        self, key: str, n: Notification, *, expires: int, seconds: int | None = None, until: int | None = None
    ) -> Offer:
        targets = silence_targets(n.budget, n.group, seconds=seconds, until=until)
        return Offer(key, self._url("silence", targets, expires))

    def _url(self, operation: str, targets: Sequence[str], expires: int, *, dashboard: bool = False) -> str:
        token = sign(self.secret, Link(operation, tuple(targets), expires, self.nonce()))
        if dashboard:
            return dashboard_url(self.public_url, token)
        return link_url(self.public_url, token)

    @staticmethod
    def _epoch(instant: datetime) -> int:
        return int(instant.timestamp())


def link_maker(public_url: str | None, secret: str | None, now: datetime) -> LinkMaker | None:
    """A LinkMaker when both ``BUDGET_PUBLIC_URL`` and ``BUDGET_LINK_SECRET`` are set, else None (no links)."""
    if not public_url or not secret:
        return None
    return LinkMaker(public_url, secret, now)


def _entries(raw: Any) -> list[Mapping[str, Any]]:
    return [e for e in raw if isinstance(e, Mapping)] if isinstance(raw, (list, tuple)) else []


def _action_entry(detail: Mapping[str, Any]) -> Mapping[str, Any]:
    """An action notification's detail in the shape of a ``detail["actions"]`` entry."""
    return {
        "id": detail.get("action_id"),
        "type": detail.get("action"),
        "state": detail.get("state"),
        "targets": detail.get("targets"),
    }


def every(offers: Sequence[Offer]) -> Sequence[Offer]:
    return offers


def compact(offers: Sequence[Offer]) -> tuple[Offer, ...]:
    """The offers kept when room is short: approve, undo and the one-day silence."""
    return tuple(o for o in offers if o.key in COMPACT)


def essential(offers: Sequence[Offer]) -> tuple[Offer, ...]:
    """The offers kept when room is shorter still: approve and undo (stopping or restoring traffic)."""
    return tuple(o for o in offers if o.key in ESSENTIAL)


def markdown(offers: Sequence[Offer], language: str) -> str:
    """``[label](url)`` links on one line (WeCom and DingTalk markdown)."""
    return "  ".join(f"[{o.label(language)}]({o.url})" for o in offers)


def embed(offers: Sequence[Offer], language: str) -> str:
    """The offers as ``MARK`` + JSON ``[[label, url, style], …]``, to ride inside a block's text."""
    if not offers:
        return ""
    rows = [[o.label(language), o.url, o.style] for o in offers]
    return MARK + json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Button:
    label: str
    url: str
    style: str


def extract(text: str) -> tuple[str, tuple[Button, ...]]:
    """A block's text without its embedded offers, and the buttons they make (none when damaged)."""
    content, mark, rest = text.partition(MARK)
    if not mark:
        return text, ()
    try:
        rows = json.loads(rest)
        buttons = tuple(Button(str(r[0]), str(r[1]), str(r[2])) for r in rows)
    except (ValueError, TypeError, IndexError, KeyError):
        return content, ()
    return content, buttons


def payload_links(offers: Sequence[Offer]) -> dict[str, Any]:
    """The webhook payload's ``links`` (DESIGN §3.5): silence (1 day), silence_1h, silence_period,
    approve and undo (the first action's), dashboard; and ``actions`` ({id: {approve|undo: url}}) for all."""
    out: dict[str, Any] = {}
    actions: dict[str, dict[str, str]] = {}
    for offer in offers:
        out.setdefault(offer.key, offer.url)
        if offer.action_id:
            actions.setdefault(offer.action_id, {})[offer.key] = offer.url
    if actions:
        out["actions"] = actions
    return out


__all__ = [
    "LINK_TTL",
    "NO_OFFERS",
    "Button",
    "LinkMaker",
    "Offer",
    "Offers",
    "compact",
    "embed",
    "essential",
    "every",
    "extract",
    "link_maker",
    "markdown",
    "payload_links",
]
