"""Delivering notifications to WeCom, DingTalk, Feishu/Lark, Slack and signed webhooks.

Each channel is a plug-in (``lib.notify.channel.Channel``) found by its ``type:`` in ``CHANNELS``:
a pure ``render(notifications, language, tz, channel, now) -> list[Request]`` and ``send(request,
session) -> DeliveryResult`` that classifies the answer: ``sent``, ``retry`` later (5xx, 429, platform
rate codes, network errors) or ``rejected`` (the request itself is wrong: bad signature, missing
keyword, bad payload, webhook gone). Chat robots share compose, batch, pack and numbering
(``lib.notify.packing``). ``deliver`` renders, respects per-robot rate limits, sends, and yields each
notification's result as soon as it is known.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo
from types import MappingProxyType

import requests

from lib.config.models import Channel as ChannelConfig
from lib.errors import ConfigError
from lib.model import Notification
from lib.notify import dingtalk, feishu, slack, webhook, wecom
from lib.notify.channel import Channel
from lib.notify.images import ChartImages, image_requests, is_chart
from lib.notify.limits import DEFAULT_LIMITER, RateLimiter
from lib.notify.links import NO_OFFERS, LinkMaker, Offers
from lib.notify.redact import redact_url
from lib.notify.retry import MAX_ATTEMPTS, retry_schedule
from lib.notify.types import DeliveryResult, Outcome, Request, delivery_id

__all__ = [
    "CHANNELS",
    "MAX_ATTEMPTS",
    "Channel",
    "DeliveryResult",
    "Outcome",
    "Request",
    "channel_for",
    "deliver",
    "delivery_id",
    "redact_url",
    "render",
    "retry_schedule",
]

CHANNELS: Mapping[str, Channel] = MappingProxyType(
    {
        wecom.CHANNEL.kind: wecom.CHANNEL,
        dingtalk.CHANNEL.kind: dingtalk.CHANNEL,
        feishu.CHANNEL.kind: feishu.CHANNEL,
        slack.CHANNEL.kind: slack.CHANNEL,
        webhook.CHANNEL.kind: webhook.CHANNEL,
    }
)
_SEVERITY = {"sent": 0, "retry": 1, "rejected": 2}


def _wall_clock() -> datetime:
    return datetime.fromtimestamp(time.time(), timezone.utc)


def channel_for(kind: str) -> Channel:
    """The channel plug-in for ``type: kind``, or a ConfigError naming the types there are."""
    try:
        return CHANNELS[kind]
    except KeyError:
        allowed = ", ".join(CHANNELS)
        raise ConfigError(f"unknown channel type {kind!r}; types: {allowed}", field="type") from None


def render(
    channel_name: str,
    channel: ChannelConfig,
    notifications: Sequence[Notification],
    *,
    language: str,
    tz: tzinfo,
    now: datetime,
    links: Offers = NO_OFFERS,
) -> list[Request]:
    """The requests ``deliver`` would send (pure); ``now`` is the signing time; ``links`` each one's links."""
    requests_ = channel_for(channel.type).render(list(notifications), language, tz, channel, now, links=links)
    return [replace(r, channel=channel_name) for r in requests_]


def deliver(
    channel_name: str,
    channel: ChannelConfig,
    notifications: list[Notification],
    *,
    language: str,
    tz: tzinfo,
    session: requests.Session,
    now: datetime,
    limiter: RateLimiter | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    links: LinkMaker | None = None,
    images: ChartImages | None = None,
) -> Generator[DeliveryResult, None, None]:
    """Send ``notifications`` to one channel, batched, yielding each notification's final result at once.

    A notification's result comes as soon as the last request carrying a part of it is answered, so the
    caller can record it before the next request goes out (a crash re-sends at most the request in
    flight). Its outcome is the worst across its parts. After a "retry" answer (rate limit, outage)
    the rest of the channel's requests are not attempted this run: they are reported as "retry" too.

    The requests are rendered when ``deliver`` is called, so a configuration error (an unknown type, a
    bad secret) raises there, before anything is sent; the sending happens as the results are read.
    ``now`` is the evaluation instant (it may be in the past for ``check --at``). Signatures and
    ``webhook-timestamp`` use ``clock()`` (the wall clock by default), because platforms refuse
    timestamps more than an hour off. ``links`` makes each notification's signed links (none without it).

    A digest is a message of its own, after the alerts' batch. Chart items (``lib.notify.images``) become
    image messages, drawn here by ``images`` and sent after the text; an item that cannot be drawn or
    sent to this channel is answered first, without a request.
    """
    del now  # the evaluation instant plays no part in delivery; see the docstring
    if not notifications:
        return _nothing()
    plugin = channel_for(channel.type)
    signed_at = (clock or _wall_clock)()
    # Alerts share one batch; a digest (an outbox retry may meet alerts here) is always a message of its own.
    texts = [n for n in notifications if not is_chart(n) and n.kind != "digest"]
    digests = [n for n in notifications if n.kind == "digest" and not is_chart(n)]
    offers = links.offers(texts + digests) if links is not None else NO_OFFERS
    batches = ([texts] if texts else []) + [[n] for n in digests]
    planned = [
        r
        for b in batches
        for r in render(channel_name, channel, b, language=language, tz=tz, now=signed_at, links=offers)
    ]
    charts, refused = image_requests(channel.type, channel.url, [n for n in notifications if is_chart(n)], images)
    planned += [replace(r, channel=channel_name) for r in charts]
    sender = _Sender(plugin, channel_name, channel, session, limiter or DEFAULT_LIMITER, sleep)
    return _answered_first([replace(r, channel=channel_name) for r in refused], sender.results(planned))


def _nothing() -> Generator[DeliveryResult, None, None]:
    yield from ()


def _answered_first(
    answered: list[DeliveryResult], rest: Generator[DeliveryResult, None, None]
) -> Generator[DeliveryResult, None, None]:
    yield from answered
    yield from rest


@dataclass(frozen=True)
class _Sender:
    """One channel's sending for one ``deliver`` call: the plug-in, its rate limit, the session."""

    plugin: Channel
    name: str
    channel: ChannelConfig
    session: requests.Session
    limiter: RateLimiter
    sleep: Callable[[float], None]

    def results(self, planned: list[Request]) -> Generator[DeliveryResult, None, None]:
        left = Counter(nid for request in planned for nid in request.notification_ids)
        worst: dict[str, DeliveryResult] = {}
        stopped: DeliveryResult | None = None
        for request in planned:
            if stopped is not None:
                result = _not_attempted(request, stopped)
            else:
                result = self.attempt(request)
                if result.outcome == "retry":
                    stopped = result
            finished: list[tuple[str, DeliveryResult]] = []
            for nid in request.notification_ids:
                seen = worst.get(nid)
                if seen is None or _worse(result, seen):
                    worst[nid] = result
                left[nid] -= 1
                if left[nid] == 0:  # its last part is answered: its result is final
                    finished.append((nid, worst.pop(nid)))
            yield from _grouped(finished, self.name)

    def attempt(self, request: Request) -> DeliveryResult:
        wait = self.limiter.reserve(request.limit_key or request.url, self.plugin.limits)
        if wait > self.limiter.max_wait:
            return DeliveryResult(
                self.name,
                request.notification_ids,
                "retry",
                f"not sent: {self.channel.type} rate limit reached for this webhook (next slot in {wait:.0f} s)",
                None,
                wait,
            )
        if wait > 0:
            self.sleep(wait)
        return self.plugin.send(request, self.session)


def _not_attempted(request: Request, cause: DeliveryResult) -> DeliveryResult:
    return DeliveryResult(
        request.channel,
        request.notification_ids,
        "retry",
        f"not attempted after an earlier request to this channel failed: {cause.reason}",
        None,
        cause.retry_after,
    )


def _worse(a: DeliveryResult, b: DeliveryResult) -> bool:
    """``a`` tells more than ``b``: a worse outcome, or a longer wait for the same "retry"."""
    if _SEVERITY[a.outcome] != _SEVERITY[b.outcome]:
        return _SEVERITY[a.outcome] > _SEVERITY[b.outcome]
    return a.outcome == "retry" and (a.retry_after or 0) > (b.retry_after or 0)


def merge(results: Sequence[DeliveryResult], channel_name: str) -> list[DeliveryResult]:
    """One result per notification id: a notification split over several requests takes the worst."""
    worst: dict[str, DeliveryResult] = {}
    for result in results:
        for nid in result.notification_ids:
            seen = worst.get(nid)
            if seen is None or _worse(result, seen):
                worst[nid] = result
    return _grouped(worst.items(), channel_name)


def _grouped(results: Iterable[tuple[str, DeliveryResult]], channel_name: str) -> list[DeliveryResult]:
    """One result per (notification id, result) pair, the ids that share an outcome and reason in one."""
    grouped: dict[tuple[object, ...], list[str]] = {}
    firsts: dict[tuple[object, ...], DeliveryResult] = {}
    for nid, result in results:
        key = (result.outcome, result.reason, result.status_code, result.retry_after)
        grouped.setdefault(key, []).append(nid)
        firsts.setdefault(key, result)
    return [
        DeliveryResult(
            channel_name,
            tuple(ids),
            firsts[key].outcome,
            firsts[key].reason,
            firsts[key].status_code,
            firsts[key].retry_after,
        )
        for key, ids in grouped.items()
    ]
