"""Helpers every chat channel shares: ordering, composing, JSON bodies, body-code classification."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from lib.messages import Message, compose
from lib.model import Notification
from lib.notify.http import Answer, Verdict, classify_status, excerpt

_TONE_ORDER = {"critical": 0, "warning": 1, "info": 2, "ok": 3}


def messages(notifications: Sequence[Notification], language: str, tz: tzinfo) -> list[Message]:
    """Composed messages, the most urgent first (stable within a tone)."""
    composed = [compose(n, language, tz) for n in notifications]
    return sorted(composed, key=lambda m: _TONE_ORDER[m.tone])


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
