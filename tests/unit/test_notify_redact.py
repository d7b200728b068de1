"""Webhook tokens and secrets never show in logs, results or API answers."""

from __future__ import annotations

import pytest

from lib.notify.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***",
        ),
        (
            "https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=1577262236757&sign=Za%2Fne",
            "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1577262236757&sign=***",
        ),
        ("https://open.feishu.cn/open-apis/bot/v2/hook/0f3a-token", "https://open.feishu.cn/open-apis/bot/v2/hook/***"),
        ("https://open.larksuite.com/open-apis/bot/v2/hook/x", "https://open.larksuite.com/open-apis/bot/v2/hook/***"),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX", "https://hooks.slack.com/services/***"),
        ("https://discord.com/api/webhooks/123/tok", "https://discord.com/api/webhooks/***"),
        ("https://user:pass@example.com:8443/hooks/budget", "https://***@example.com:8443/hooks/budget"),
        ("https://example.com/hooks/budget", "https://example.com/hooks/budget"),
        ("https://example.com/h/3f2a9c1e0b7d4a8e9f6c/x#frag", "https://example.com/h/***/x#***"),
        ("http://[::1]:9000/hook?token=t", "http://[::1]:9000/hook?token=***"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_scrubs_urls_their_parts_and_known_patterns() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY123"
    message = (
        "HTTPSConnectionPool(host='qyapi.weixin.qq.com', port=443): Max retries exceeded with url: "
        "/cgi-bin/webhook/send?key=SECRETKEY123 (Caused by NewConnectionError) while posting to " + url
    )
    out = redact_text(message, url)
    assert "SECRETKEY123" not in out
    assert "url: /cgi-bin/webhook/send?key=***" in out
    assert "posting to https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***" in out


def test_redact_text_masks_raw_secrets_and_token_patterns_without_being_told() -> None:
    text = (
        "secret SECabcdef0123456789abcdef0123456789 and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, "
        "access_token=tok&x=1, https://open.feishu.cn/open-apis/bot/v2/hook/abc-def, my-own-secret"
    )
    out = redact_text(text, extra=["my-own-secret"])
    for leaked in ("SECabcdef", "MfKQ9r8", "tok&", "abc-def", "my-own-secret"):
        assert leaked not in out, leaked
    assert "access_token=***" in out and "/hook/***" in out


def test_redact_text_leaves_ordinary_text_alone() -> None:
    text = "errcode 45009: api freq out of limit (rate limited or busy)"
    assert redact_text(text, "https://q.example/send?key=abcd") == text
