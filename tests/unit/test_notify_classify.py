"""Classifying platform answers: sent, retry later, or rejected with the reason (errors in 200 bodies too)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lib.notify import dingtalk, feishu, slack, webhook, wecom
from lib.notify.http import Answer

MODULES = {"wecom": wecom, "dingtalk": dingtalk, "feishu": feishu, "slack": slack, "webhook": webhook}


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    text = body if isinstance(body, str) else json.dumps(body)
    return Answer(status, headers or {}, text)


CASES = [
    # kind, status, body, headers, outcome, reason fragment, retry_after
    ("wecom", 200, {"errcode": 0, "errmsg": "ok"}, None, "sent", "ok", None),
    ("wecom", 200, {"errcode": 45009, "errmsg": "api freq out of limit"}, None, "retry", "45009", 60.0),
    ("wecom", 200, {"errcode": -1, "errmsg": "system busy"}, None, "retry", "-1", None),
    ("wecom", 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, None, "rejected", "check the key", None),
    ("wecom", 200, {"errcode": 40008, "errmsg": "invalid message type"}, None, "rejected", "40008", None),
    ("wecom", 200, {"errcode": 45002, "errmsg": "too long"}, None, "rejected", "content too long", None),
    ("wecom", 200, {"errcode": 77777, "errmsg": "new"}, None, "retry", "unknown code", None),
    ("wecom", 200, "<html>proxy</html>", None, "retry", "unexpected answer", None),
    ("wecom", 502, "bad gateway", None, "retry", "HTTP 502", None),
    ("wecom", 429, "", {"Retry-After": "7"}, "retry", "429", 7.0),
    ("dingtalk", 200, {"errcode": 0, "errmsg": "ok"}, None, "sent", "ok", None),
    ("dingtalk", 200, {"errcode": 130101, "errmsg": "send too fast"}, None, "retry", "130101", 600.0),
    ("dingtalk", 200, {"errcode": 310000, "errmsg": "sign not match"}, None, "rejected", "sign not match", None),
    ("dingtalk", 200, {"errcode": 310000, "errmsg": "keywords not in content"}, None, "rejected", "keyword", None),
    ("dingtalk", 200, {"errcode": 300001, "errmsg": "token is not exist"}, None, "rejected", "does not exist", None),
    ("dingtalk", 503, "", None, "retry", "HTTP 503", None),
    ("feishu", 200, {"code": 0, "msg": "success", "data": {}, "StatusCode": 0}, None, "sent", "ok", None),
    ("feishu", 200, {"code": 11232, "msg": "frequency limited psm"}, None, "retry", "11232", 60.0),
    ("feishu", 200, {"code": 9499, "msg": "Bad Request", "data": {}}, None, "retry", "9499", None),
    ("feishu", 200, {"code": 19021, "msg": "sign match fail"}, None, "rejected", "signature", None),
    ("feishu", 200, {"code": 19022, "msg": "Ip Not Allowed"}, None, "rejected", "IP not allowed", None),
    ("feishu", 200, {"code": 19024, "msg": "Key Words Not Found"}, None, "rejected", "keyword", None),
    ("feishu", 400, {"code": 19024, "msg": "Key Words Not Found"}, None, "rejected", "keyword", None),
    ("feishu", 429, {"code": 11232, "msg": "frequency limited"}, {"Retry-After": "3"}, "retry", "11232", 3.0),
    ("feishu", 400, {"code": 123, "msg": "odd"}, None, "rejected", "HTTP 400", None),
    ("slack", 200, "ok", None, "sent", "ok", None),
    ("slack", 200, "something else", None, "retry", "unexpected", None),
    ("slack", 429, "rate_limited", {"Retry-After": "30"}, "retry", "429", 30.0),
    ("slack", 500, "rollup_error", None, "retry", "rollup_error", None),
    ("slack", 400, "invalid_payload", None, "rejected", "invalid_payload", None),
    ("slack", 403, "action_prohibited", None, "rejected", "action_prohibited", None),
    ("slack", 404, "no_service", None, "rejected", "removed", None),
    ("slack", 404, "channel_not_found", None, "rejected", "channel_not_found", None),
    ("slack", 410, "channel_is_archived", None, "rejected", "gone", None),
    ("webhook", 204, "", None, "sent", "HTTP 204", None),
    ("webhook", 200, "anything", None, "sent", "HTTP 200", None),
    ("webhook", 410, "", None, "rejected", "gone", None),
    ("webhook", 401, "bad signature", None, "rejected", "HTTP 401", None),
    ("webhook", 429, "", {"Retry-After": "120"}, "retry", "429", 120.0),
    ("webhook", 502, "", None, "retry", "HTTP 502", 60.0),
    ("webhook", 503, "", {"Retry-After": "5"}, "retry", "HTTP 503", 5.0),
    ("webhook", 408, "", None, "retry", "HTTP 408", None),
    ("webhook", 301, "", {"Location": "http://169.254.169.254/"}, "retry", "redirect not followed", None),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[5]}" for c in CASES])
def test_classify(case: tuple[Any, ...]) -> None:
    kind, status, body, headers, outcome, fragment, retry_after = case
    got_outcome, reason, got_retry_after = MODULES[kind].classify(_answer(status, body, headers))
    assert (got_outcome, got_retry_after) == (outcome, retry_after), reason
    assert fragment in reason


def test_errors_inside_200_bodies_are_errors() -> None:
    for kind, body in (("wecom", {"errcode": 93000}), ("dingtalk", {"errcode": 310000}), ("feishu", {"code": 19021})):
        outcome, _, _ = MODULES[kind].classify(_answer(200, body))
        assert outcome == "rejected", kind


def test_retry_after_http_date() -> None:
    from datetime import datetime, timezone

    from lib.notify.retry import parse_retry_after

    now = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Sun, 22 Nov 2026 02:01:30 GMT", now) == 90.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after("2.5", now) == 2.5
