"""Sending one ``Request`` over requests and turning the answer into a ``DeliveryResult``.

Network errors and timeouts are "retry". Redirects are not followed (a webhook that moved, or one that
points a request at an internal address, is not chased). Each channel supplies ``classify`` for the
answers it knows; the shared rules for HTTP statuses, JSON bodies and in-body error codes live here.
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


def json_body(document: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the exact bytes that are sent (and signed, for webhooks)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def classify_code(
    answer: Answer,
    *,
    field: str,
    message_field: str,
    retry: Mapping[int, float | None],
    reject: Mapping[int, str],
) -> Verdict:
    """Classify an answer that reports errors as a numeric code inside a (usually) HTTP 200 JSON body.

    Codes in ``retry`` wait (the value is the default Retry-After); codes in ``reject`` are the request's
    own fault; an unknown non-zero code is retried, bounded by the retry schedule, because dropping an
    alert on a code we have not seen is worse than trying again.
    """
    data = answer.json()
    has_code = isinstance(data, dict) and isinstance(data.get(field), int)
    if not has_code:
        verdict = classify_status(answer)
        if verdict is not None:
            return verdict
        return "retry", f"unexpected answer (HTTP {answer.status}): {excerpt(answer.text)}", None
    assert isinstance(data, dict)
    code = int(data[field])
    message = str(data.get(message_field, ""))
    if code == 0 and 200 <= answer.status < 300:
        return "sent", "ok", None
    if code in retry:
        return "retry", f"{field} {code}: {message} (rate limited or busy)", answer.retry_after or retry[code]
    if code in reject:
        return "rejected", f"{field} {code}: {message} ({reject[code]})", None
    verdict = classify_status(answer)
    if verdict is not None:
        return verdict[0], f"{verdict[1]}; {field} {code}: {message}", verdict[2]
    return "retry", f"{field} {code}: {message} (unknown code, will retry)", answer.retry_after
