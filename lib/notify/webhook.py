"""Generic webhook: the DESIGN §3.5 JSON, one POST per notification, signed per Standard Webhooks v1.

Headers: ``webhook-id`` (the notification id, the same on every retry, so receivers can deduplicate),
``webhook-timestamp`` (Unix seconds of the attempt) and, with a secret, ``webhook-signature:
v1,<base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))>``. A secret written ``whsec_<base64>`` is
base64-decoded to get the key, as the spec says; any other secret is used as its UTF-8 bytes.
Outcomes follow the spec: 2xx sent; 410 gone (rejected); 429/5xx/408 retry (honouring Retry-After);
other 4xx rejected; 3xx is not followed and is retried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

import requests

from lib.config.models import Channel
from lib.errors import ConfigError
from lib.messages import plain_body
from lib.messages.digest import KIND as DIGEST
from lib.messages.digest import digest_payload
from lib.messages.text import compose
from lib.model import Notification, group_dict
from lib.notify import http
from lib.notify.http import JSON_HEADERS, Answer, Verdict, classify_status, json_body
from lib.notify.limits import Window
from lib.notify.links import NO_OFFERS, Offers, payload_links
from lib.notify.types import DeliveryResult, Request

KIND = "webhook"
LIMITS: tuple[Window, ...] = ()  # the receiver decides; it answers 429 when it wants less
SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret


def secret_key(secret: str) -> bytes:
    """The HMAC key: base64-decoded after ``whsec_``, else the secret's UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        encoded = secret[len(SECRET_PREFIX) :]
        try:
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigError("a whsec_ secret must be base64 after the prefix", field="secret") from exc
    return secret.encode("utf-8")


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64>`` over ``{id}.{timestamp}.{body}``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def message_text(n: Notification, language: str, tz: tzinfo) -> str:
    """The payload's human-readable ``message``: title, then the facts."""
    m = compose(n, language, tz)
    return f"{m.title}\n{plain_body(m)}"


def payload(n: Notification, message: str) -> dict[str, Any]:
    """The document for one notification: ``budget.alert`` (DESIGN §3.5), or ``budget.action`` for an action's step."""
    if n.kind != "action":
        doc = n.to_payload(message)
        if n.detail.get("actions"):  # the actions this crossing set off, with their state
            doc["actions"] = [dict(a) for a in n.detail["actions"]]
        return doc
    d = n.detail
    return {
        "type": "budget.action",
        "id": n.id,
        "action": d.get("action"),
        "action_id": d.get("action_id"),
        "state": d.get("state"),
        "targets": list(d.get("targets") or ()),
        "budget": n.budget,
        "group": group_dict(n.group),
        "period": n.period.to_dict(),
        "at": n.at.isoformat(),
        "by": d.get("by"),
        "approval": d.get("approval"),
        "reason": d.get("reason") or None,
        "missing_permissions": list(d.get("missing_permissions") or ()),
        "request_ids": list(d.get("request_ids") or ()),
        "message": message,
    }


def classify(answer: Answer) -> Verdict:
    if 200 <= answer.status < 300:
        return "sent", f"HTTP {answer.status}", None
    verdict = classify_status(answer)
    assert verdict is not None
    if answer.status in (502, 504) and verdict[2] is None:
        return "retry", verdict[1], 60.0  # the spec reads 502/504 as "throttle"
    return verdict


class WebhookChannel:
    """Not a chat robot: no batching or packing, one document per notification, signed per attempt."""

    kind = KIND
    limits: Sequence[Window] = LIMITS

    def render(
        self,
        notifications: Sequence[Notification],
        language: str,
        tz: tzinfo,
        channel: Channel,
        now: datetime,
        *,
        links: Offers = NO_OFFERS,
    ) -> list[Request]:
        """One signed POST per notification (the payload is per notification); ``now`` is the attempt time."""
        timestamp = int(now.timestamp())
        out = []
        for n in notifications:
            text = message_text(n, language, tz)
            document = digest_payload(n, text) if n.kind == DIGEST else payload(n, text)
            if links.get(n.id):
                document["links"] = payload_links(links[n.id])
            body = json_body(document)
            headers = {**JSON_HEADERS, "webhook-id": n.id, "webhook-timestamp": str(timestamp)}
            if channel.secret:
                headers["webhook-signature"] = signature(channel.secret, n.id, timestamp, body)
            out.append(Request("POST", channel.url, headers, body, (n.id,), KIND, limit_key=channel.url))
        return out

    def send(self, request: Request, session: requests.Session) -> DeliveryResult:
        return http.send(request, session, classify)


CHANNEL = WebhookChannel()
