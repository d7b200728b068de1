"""The interface every channel plug-in implements (``Channel``), and the smaller one a chat robot fills in.

A channel renders notifications into requests (pure) and classifies the answer to one request. Chat
robots share every step but their own format: compose, batch, pack under the byte limit and number the
parts are written once in ``lib.notify.packing``; a robot module supplies a ``ChatFormat``. Register a
channel in ``lib.notify.CHANNELS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

import requests

from lib.messages import Message
from lib.model import Notification
from lib.notify.batch import Block, utf8_len
from lib.notify.http import Answer, Verdict
from lib.notify.limits import Window
from lib.notify.links import Offer, Offers
from lib.notify.types import DeliveryResult, Request

if TYPE_CHECKING:
    from lib.config.models import Channel as ChannelConfig


class Channel(Protocol):
    """Where alerts go: a chat robot or a signed webhook, by its ``type:`` in the configuration."""

    kind: str
    limits: Sequence[Window]  # sends per window for one webhook URL (empty: the receiver decides)

    def render(
        self,
        notifications: Sequence[Notification],
        language: str,
        tz: tzinfo,
        channel: ChannelConfig,
        now: datetime,
        *,
        links: Offers = ...,
    ) -> list[Request]:
        """Every request that carries ``notifications`` (pure); ``now`` is the signing time; ``links`` by id."""
        ...

    def send(self, request: Request, session: requests.Session) -> DeliveryResult:
        """Send one request and classify the answer: sent, retry later, or rejected."""
        ...


@dataclass(frozen=True)
class Packing:
    """How a robot's message is measured: its limit, what the frame around the blocks takes, the separator."""

    max_bytes: int
    overhead: int
    separator: str
    size: Callable[[str], int] = utf8_len
    max_piece: int | None = None
    max_count: int | None = None


@dataclass(frozen=True)
class Part:
    """One message of a batch, ready for the robot's format."""

    title: str  # the batch's title (clipped to the robot's title limit), without the part number
    number: str  # " (2/3)" when the batch takes several messages, else ""
    blocks: tuple[Block, ...]
    tone: str  # the most urgent tone in the batch
    single: bool  # the batch is one notification (its title is the message's title)


class ChatFormat(Protocol):
    """What is a chat robot's own: its message format, signature, byte limit and answer codes."""

    kind: str
    limits: Sequence[Window]
    title_bytes: int | None  # titles are clipped to this many UTF-8 bytes (None: the format cuts them)

    def block(self, message: Message, single: bool, offers: Sequence[Offer]) -> str:
        """One notification's text, with its links in the robot's form."""
        ...

    def packing(self, title: str, channel: ChannelConfig) -> Packing: ...

    def document(self, part: Part, channel: ChannelConfig, now: datetime) -> tuple[str, Mapping[str, Any]]:
        """The URL to post to (signed, where the robot signs it) and the JSON document of one message."""
        ...

    def classify(self, answer: Answer) -> Verdict: ...
