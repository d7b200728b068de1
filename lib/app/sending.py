"""The one send step of a run's deliveries: a configured channel's batch through ``lib.notify``.

The alerts, their chart images, the digest and every outbox retry go out through ``sender``, so each
gets the same one-click links (``links=``) and chart drawing (``images=``) whichever step sent it first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from lib.errors import ConfigError
from lib.model import Notification

if TYPE_CHECKING:
    from lib.app.runtime import App
    from lib.deliveries import Send
    from lib.notify import DeliveryResult
    from lib.notify.images import ChartImages


def sender(app: App, now: datetime, *, images: ChartImages) -> Send:
    """The send step of ``lib.deliveries``: one channel's batch, by the configured channel, with links and images.

    ``images`` draws a chart item's PNG (``lib.app.images.chart_images``); the caller makes it, so one
    run's steps can share what was drawn."""
    from lib.notify import deliver
    from lib.notify.links import link_maker

    def send(channel_name: str, items: Sequence[Notification]) -> Iterable[DeliveryResult]:
        channel = app.config.channels.get(channel_name)
        if channel is None:
            raise ConfigError(f"channel {channel_name!r} is not configured")
        language = channel.language or app.config.language
        links = link_maker(app.settings.public_url, app.settings.link_secret, now)
        return deliver(
            channel_name,
            channel,
            list(items),
            language=language,
            tz=app.tz,
            session=app.session,
            now=now,
            links=links,
            images=images,
        )

    return send
