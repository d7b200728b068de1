"""Channel renderers are pure: exact payload shapes, signatures, batching and byte limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from lib.config.models import Channel
from lib.errors import ConfigError
from lib.model import Notification
from lib.notify import dingtalk, feishu, render, webhook
from lib.notify.batch import Block, pack, split_text, utf8_len, utf8_prefix
from lib.notify.webhook import message_text
from tests.unit.notify_samples import ALL, AT, NO_DATA, TRAFFIC, TZ


def _many(count: int) -> list[Notification]:
    """``count`` distinct alerts with long Chinese group values (three UTF-8 bytes a character)."""
    return [
        replace(TRAFFIC, id=f"ntf_{i:032x}", group=(("host", f"主机{i}-" + "流量" * 20 + ".example.com"),))
        for i in range(count)
    ]


def test_same_input_same_bytes() -> None:
    for kind in ("wecom", "dingtalk", "feishu", "slack", "webhook"):
        channel = Channel(type=kind, url="https://x.example/h?key=k", secret="s" if kind != "wecom" else None)
        first = render("ops", channel, list(ALL), language="zh", tz=TZ, now=AT)
        again = render("ops", channel, list(ALL), language="zh", tz=TZ, now=AT)
        assert [r.body for r in first] == [r.body for r in again]
        assert all(r.channel == "ops" and r.kind == kind for r in first)


def test_wecom_markdown_payload() -> None:
    channel = Channel(
        type="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", mentions=("zhangsan",)
    )
    (request,) = render("ops", channel, [TRAFFIC], language="zh", tz=TZ, now=AT)
    assert request.method == "POST" and request.url == channel.url
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    document = json.loads(request.body)
    assert set(document) == {"msgtype", "markdown"} and document["msgtype"] == "markdown"
    content = document["markdown"]["content"]
    assert content.startswith("### 🟠 预算告警：edgeone-traffic")
    assert '<font color="warning">**8.1 TB / 10 TB（81%）**</font>' in content
    assert content.endswith("<@zhangsan>")
    assert request.notification_ids == (TRAFFIC.id,)


def test_wecom_splits_under_4096_bytes_on_character_boundaries() -> None:
    channel = Channel(type="wecom", url="https://q.example/send?key=K")
    alerts = _many(40)
    requests_ = render("ops", channel, alerts, language="zh", tz=TZ, now=AT)
    assert len(requests_) > 1
    seen: list[str] = []
    for number, request in enumerate(requests_, 1):
        content = json.loads(request.body)["markdown"]["content"]
        assert utf8_len(content) <= 4096
        assert f"({number}/{len(requests_)})" in content.splitlines()[0]
        seen.extend(request.notification_ids)
    assert sorted(seen) == sorted(n.id for n in alerts)  # each alert in exactly one message


def test_one_huge_notification_is_split_into_valid_pieces() -> None:
    huge = replace(NO_DATA, detail={"failures": 3, "error": "错" * 150}, group=(("host", "长" * 3000),))
    channel = Channel(type="wecom", url="https://q.example/send?key=K")
    requests_ = render("ops", channel, [huge], language="zh", tz=TZ, now=AT)
    assert len(requests_) >= 3
    assert all(r.notification_ids == (huge.id,) for r in requests_)
    text = ""
    for request in requests_:
        content = json.loads(request.body.decode("utf-8"))["markdown"]["content"]  # valid UTF-8 and JSON
        assert utf8_len(content) <= 4096
        text += content.split("\n", 1)[1]
    assert "分组：域名 " + "长" * 3000 in text  # the group line survives the cuts whole


def test_dingtalk_signed_url_and_markdown() -> None:
    channel = Channel(
        type="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=TOKEN",
        secret="SECtest",
        mentions=("13800000000", "user1", "@all"),
    )
    (request,) = render("finance", channel, [TRAFFIC], language="zh", tz=TZ, now=AT)
    query = parse_qs(urlsplit(request.url).query)
    timestamp = query["timestamp"][0]
    assert timestamp == str(int(AT.timestamp() * 1000))
    expected = base64.b64encode(
        hmac.new(b"SECtest", f"{timestamp}\nSECtest".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected] and query["access_token"] == ["TOKEN"]
    document = json.loads(request.body)
    assert document["msgtype"] == "markdown"
    assert document["markdown"]["title"].startswith("🟠 预算告警：edgeone-traffic")
    assert document["markdown"]["text"].startswith("#### 🟠 预算告警")
    assert document["at"] == {"atMobiles": ["13800000000"], "atUserIds": ["user1"], "isAtAll": True}
    assert "@13800000000" in document["markdown"]["text"]


def test_dingtalk_reference_vector_and_resign() -> None:
    assert dingtalk.sign("SECtest", 1577262236757) == "Za%2Fne6w2koB8B4ROVlgTNd%2FX%2B%2FFbyDpZrXLz57xNZSA%3D"
    stale = "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1&sign=old"
    fresh = dingtalk.signed_url(stale, "SECtest", AT)
    assert fresh.count("timestamp=") == 1 and "sign=old" not in fresh
    assert dingtalk.signed_url(stale, None, AT) == stale


def test_feishu_card_and_body_signature() -> None:
    channel = Channel(type="feishu", url="https://open.larksuite.com/open-apis/bot/v2/hook/TOKEN", secret="demo")
    (request,) = render("lark", channel, [TRAFFIC], language="en", tz=TZ, now=AT)
    assert request.url == channel.url  # Lark host kept as given
    document = json.loads(request.body)
    timestamp = int(AT.timestamp())
    assert document["timestamp"] == str(timestamp)
    assert document["sign"] == feishu.sign("demo", timestamp)
    assert document["msg_type"] == "interactive" and "content" not in document
    card = document["card"]
    assert card["header"]["template"] == "orange"
    assert card["header"]["title"]["content"].startswith("🟠 Budget alert: edgeone-traffic")
    assert [e["tag"] for e in card["elements"]] == ["div", "note"]
    assert card["elements"][1]["elements"][0]["content"].startswith(TRAFFIC.id)


def test_feishu_reference_vector() -> None:
    assert feishu.sign("demo", 100) == "jquNHnVOwmDRfw+vqTIrY5dooJAgi5EcRtLsQE4wfXg="


def test_feishu_without_secret_has_no_signature_and_stays_under_20kb() -> None:
    channel = Channel(type="feishu", url="https://open.feishu.cn/open-apis/bot/v2/hook/T")
    requests_ = render("f", channel, _many(120), language="zh", tz=TZ, now=AT)
    assert len(requests_) > 1
    for request in requests_:
        document = json.loads(request.body)
        assert "sign" not in document and "timestamp" not in document
        assert len(request.body) <= 20 * 1024


def test_slack_blocks_and_fallback() -> None:
    channel = Channel(type="slack", url="https://hooks.slack.com/services/T/B/X", mentions=("@all", "U123"))
    (request,) = render("chat", channel, list(ALL), language="en", tz=TZ, now=AT)
    document = json.loads(request.body)
    assert document["text"].startswith("Budget alerts: 6 firing, 1 resolved")
    assert len(document["text"].splitlines()) == 1 + len(ALL)  # a line per alert for notifications
    blocks = document["blocks"]
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    assert sum(1 for b in blocks if b["type"] == "context") == len(ALL)
    assert blocks[-1]["text"]["text"] == "<!channel> <@U123>"
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_slack_respects_50_blocks() -> None:
    channel = Channel(type="slack", url="https://hooks.slack.com/services/T/B/X")
    requests_ = render("chat", channel, _many(40), language="en", tz=TZ, now=AT)
    assert len(requests_) >= 3
    for request in requests_:
        assert len(json.loads(request.body)["blocks"]) <= 50


def test_slack_escapes_control_characters() -> None:
    odd = replace(TRAFFIC, group=(("host", "<a&b>"),))
    channel = Channel(type="slack", url="https://hooks.slack.com/services/T/B/X")
    (request,) = render("chat", channel, [odd], language="en", tz=TZ, now=AT)
    section = json.loads(request.body)["blocks"][1]["text"]["text"]
    assert "&lt;a&amp;b&gt;" in section and "<a&b>" not in section


def test_webhook_payload_is_design_3_5_exactly() -> None:
    channel = Channel(
        type="webhook", url="https://example.com/hooks/budget", secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    )
    requests_ = render("audit", channel, [TRAFFIC, NO_DATA], language="en", tz=TZ, now=AT)
    assert [r.notification_ids for r in requests_] == [(TRAFFIC.id,), (NO_DATA.id,)]
    request = requests_[0]
    document = json.loads(request.body)
    assert document == TRAFFIC.to_payload(message_text(TRAFFIC, "en", TZ))
    assert list(document) == [
        "type", "id", "status", "kind", "budget", "group", "level", "value", "unit", "limit", "percent",
        "forecast", "period", "at", "message",
    ]  # fmt: skip
    assert document["value"] == 8100000000000 and document["limit"] == 10000000000000
    assert request.headers["webhook-id"] == TRAFFIC.id
    assert request.headers["webhook-timestamp"] == str(int(AT.timestamp()))
    assert request.headers["webhook-signature"] == webhook.signature(
        channel.secret or "", TRAFFIC.id, int(AT.timestamp()), request.body
    )
    assert json.loads(requests_[1].body)["value"] is None  # no data is null, never 0


def test_webhook_standard_reference_vector_and_secret_forms() -> None:
    body = b'{"test": 2432232314}'
    assert (
        webhook.signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    assert webhook.secret_key("plain-secret") == b"plain-secret"
    assert webhook.secret_key("whsec_" + base64.b64encode(b"k" * 24).decode()) == b"k" * 24
    with pytest.raises(ConfigError, match="base64"):
        webhook.secret_key("whsec_not*base64")


def test_webhook_without_secret_sends_no_signature() -> None:
    channel = Channel(type="webhook", url="http://127.0.0.1:9/h")
    (request,) = render("audit", channel, [TRAFFIC], language="zh", tz=TZ, now=AT)
    assert "webhook-signature" not in request.headers


def test_nothing_to_send_renders_nothing() -> None:
    for kind in ("wecom", "dingtalk", "feishu", "slack", "webhook"):
        assert render("x", Channel(type=kind, url="https://h.example/"), [], language="en", tz=TZ, now=AT) == []


@pytest.mark.parametrize("limit", [4, 5, 7, 100])
def test_utf8_helpers_never_cut_a_character(limit: int) -> None:
    text = "a预算🟠b" * 20 + "\n" + "¥" * 50
    prefix = utf8_prefix(text, limit)
    assert utf8_len(prefix) <= limit and text.startswith(prefix)
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    assert all(0 < utf8_len(p) <= limit for p in pieces)


def test_pack_counts_separators_and_caps_counts() -> None:
    blocks = [Block(f"n{i}", "x" * 100) for i in range(10)]
    groups = pack(blocks, max_bytes=350, overhead=40, separator="\n\n")
    assert [len(g) for g in groups] == [3, 3, 3, 1]  # 3*100 + 2*2 = 304 <= 310; a fourth would not fit
    groups = pack(blocks, max_bytes=100000, overhead=0, separator="", max_count=4)
    assert [len(g) for g in groups] == [4, 4, 2]


def test_decimal_values_are_exact_in_the_webhook_payload() -> None:
    n = replace(TRAFFIC, value=Decimal("4120.50"), unit="CNY", limit=Decimal("5000"))
    channel = Channel(type="webhook", url="https://example.com/h")
    (request,) = render("a", channel, [n], language="en", tz=TZ, now=AT)
    assert json.loads(request.body)["value"] == 4120.5
