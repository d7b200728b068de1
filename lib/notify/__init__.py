"""Delivering notifications to WeCom, DingTalk, Feishu/Lark, Slack and signed webhooks.

Each channel module has a pure ``render(notifications, language, tz, channel, now) -> list[Request]``
and ``send(request, session) -> DeliveryResult`` that classifies the answer: ``sent``, ``retry`` later
(5xx, 429, platform rate codes, network errors) or ``rejected`` (the request itself is wrong: bad
signature, missing keyword, bad payload, webhook gone). ``deliver`` renders, respects per-robot rate
limits, sends, and reports exactly one result per notification.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone, tzinfo
from types import ModuleType

import requests

from lib.config.models import Channel
from lib.errors import ConfigError
from lib.model import Notification
from lib.notify import dingtalk, feishu, slack, webhook, wecom
from lib.notify.limits import DEFAULT_LIMITER, RateLimiter
from lib.notify.redact import redact_url
from lib.notify.retry import MAX_ATTEMPTS, retry_schedule
from lib.notify.types import DeliveryResult, Outcome, Request, delivery_id

__all__ = [
    "CHANNELS",
    "MAX_ATTEMPTS",
    "DeliveryResult",
    "Outcome",
    "Request",
    "deliver",
    "delivery_id",
    "redact_url",
    "render",
    "retry_schedule",
]

CHANNELS: dict[str, ModuleType] = {
    "wecom": wecom,
    "dingtalk": dingtalk,
    "feishu": feishu,
    "slack": slack,
    "webhook": webhook,
}
_SEVERITY = {"sent": 0, "retry": 1, "rejected": 2}


def _wall_clock() -> datetime:
    return datetime.fromtimestamp(time.time(), timezone.utc)


def _module(channel: Channel) -> ModuleType:
    try:
        return CHANNELS[channel.type]
    except KeyError as exc:
        raise ConfigError(f"unknown channel type {channel.type!r}", field="type") from exc


def render(
    channel_name: str,
    channel: Channel,
    notifications: Sequence[Notification],
    *,
    language: str,
    tz: tzinfo,
    now: datetime,
) -> list[Request]:
    """The requests ``deliver`` would send (pure); ``now`` is the signing time."""
    requests_ = _module(channel).render(list(notifications), language, tz, channel, now)
    return [_named(r, channel_name) for r in requests_]


def _named(request: Request, channel_name: str) -> Request:
    from dataclasses import replace

    return replace(request, channel=channel_name)


def deliver(
    channel_name: str,
    channel: Channel,
    notifications: list[Notification],
    *,
    language: str,
    tz: tzinfo,
    session: requests.Session,
    now: datetime,
    limiter: RateLimiter | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryResult]:
    """Send ``notifications`` to one channel, batched; one result per notification id, merged.

    ``now`` is the evaluation instant (it may be in the past for ``check --at``). Signatures and
    ``webhook-timestamp`` use ``clock()`` (the wall clock by default), because platforms refuse
    timestamps more than an hour off. After a "retry" answer (rate limit, outage) the rest of the
    channel's requests are not attempted this run: they are reported as "retry" too.
    """
    del now  # the evaluation instant plays no part in delivery; see the docstring
    if not notifications:
        return []
    module = _module(channel)
    limiter = limiter or DEFAULT_LIMITER
    signed_at = (clock or _wall_clock)()
    planned = render(channel_name, channel, notifications, language=language, tz=tz, now=signed_at)
    results: list[DeliveryResult] = []
    stopped: DeliveryResult | None = None
    for request in planned:
        if stopped is not None:
            results.append(_not_attempted(request, stopped))
            continue
        wait = limiter.reserve(request.limit_key or request.url, module.LIMITS)
        if wait > limiter.max_wait:
            result = DeliveryResult(
                channel_name,
                request.notification_ids,
                "retry",
                f"not sent: {channel.type} rate limit reached for this webhook (next slot in {wait:.0f} s)",
                None,
                wait,
            )
        else:
            if wait > 0:
                sleep(wait)
            result = module.send(request, session)
        results.append(result)
        if result.outcome == "retry":
            stopped = result
    return merge(results, channel_name)


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
    grouped: dict[tuple[object, ...], list[str]] = {}
    firsts: dict[tuple[object, ...], DeliveryResult] = {}
    for nid, result in worst.items():
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
