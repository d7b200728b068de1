"""Sending one ``Request`` over requests and turning the answer into a ``DeliveryResult``.

Network errors and timeouts are "retry". Redirects are not followed (a webhook that moved, or one that
points a request at an internal address, is not chased). Each channel supplies ``classify`` for the
answers it knows; the shared rules for HTTP statuses live here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from lib.notify.redact import redact_text
from lib.notify.retry import parse_retry_after
from lib.notify.types import DeliveryResult, Outcome, Request

TIMEOUT = (5.0, 15.0)  # connect, read: seconds
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "tencent-budget-alerts/0.1"


@dataclass(frozen=True)
class Answer:
    """The parts of an HTTP response a classifier looks at."""

    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After") or self.headers.get("retry-after"))


Verdict = tuple[Outcome, str, float | None]  # outcome, reason, retry_after
Classifier = Callable[[Answer], Verdict]


def excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def classify_status(answer: Answer) -> Verdict | None:
    """Shared meaning of non-2xx statuses; None for 2xx (the channel reads the body)."""
    status = answer.status
    body = excerpt(answer.text)
    if 200 <= status < 300:
        return None
    if status == 429:
        return "retry", f"HTTP 429 rate limited: {body}".rstrip(": "), answer.retry_after or 60.0
    if status >= 500 or status == 408:
        return "retry", f"HTTP {status}: {body}".rstrip(": "), answer.retry_after
    if 300 <= status < 400:
        return "retry", f"HTTP {status} redirect not followed", None
    if status in (404, 410):
        return "rejected", f"HTTP {status} webhook gone: {body}".rstrip(": "), None
    return "rejected", f"HTTP {status}: {body}".rstrip(": "), None


def _read(response: requests.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_ANSWER_BYTES:
            break
    return b"".join(chunks)[:MAX_ANSWER_BYTES].decode("utf-8", "replace")


def send(
    request: Request,
    session: requests.Session,
    classify: Classifier,
    *,
    timeout: tuple[float, float] = TIMEOUT,
) -> DeliveryResult:
    """POST the request and classify the answer; never raises for network trouble (that is "retry")."""
    headers = {"User-Agent": USER_AGENT, **request.headers}
    try:
        with session.request(
            request.method,
            request.url,
            data=request.body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            answer = Answer(response.status_code, dict(response.headers), _read(response))
    except requests.RequestException as exc:
        reason = redact_text(f"{type(exc).__name__}: {exc}", request.url)
        return DeliveryResult(request.channel, request.notification_ids, "retry", reason, None, None)
    outcome, reason, retry_after = classify(answer)
    return DeliveryResult(
        channel=request.channel,
        notification_ids=request.notification_ids,
        outcome=outcome,
        reason=redact_text(reason, request.url),
        status_code=answer.status,
        retry_after=retry_after,
    )
