"""Charts in messages: WeCom image payloads, the image deliveries that follow a message, and chart links."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from dataclasses import replace
from typing import Any

import pytest

from lib.errors import StoreError
from lib.links import verify
from lib.model import Notification
from lib.notify.images import (
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    chart_id,
    chart_item,
    chart_items,
    chart_link,
    chart_links,
    image_document,
    image_requests,
    is_chart,
)
from tests.unit.notify_samples import ALL, OVER, SPEND_FORECAST, TRAFFIC

URL = "https://qyapi.example.com/cgi-bin/webhook/send?key=k"


def tiny_png() -> bytes:
    """A valid 1x1 PNG, built here so the test does not depend on the chart code."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0"))
        + chunk(b"IEND", b"")
    )


def test_the_image_document_is_base64_of_the_png_and_the_md5_of_the_raw_bytes() -> None:
    png = tiny_png()
    document = image_document(png)
    assert document["msgtype"] == "image"
    encoded = document["image"]["base64"]
    assert "\n" not in encoded and base64.b64decode(encoded, validate=True) == png
    assert document["image"]["md5"] == hashlib.md5(png, usedforsecurity=False).hexdigest()
    assert len(document["image"]["md5"]) == 32


def test_one_chart_item_per_budget_in_the_messages_order_with_ids_of_their_own() -> None:
    second_group = replace(TRAFFIC, id="ntf_other_group", group=(("zone-id", "zone-x"),))
    items = chart_items([OVER, TRAFFIC, second_group, SPEND_FORECAST], "ops")
    assert [i.budget for i in items] == [OVER.budget, TRAFFIC.budget, SPEND_FORECAST.budget]
    assert [i.id for i in items] == [
        chart_id(OVER.id, OVER.budget),
        chart_id(TRAFFIC.id, "edgeone-traffic"),
        chart_id(SPEND_FORECAST.id, SPEND_FORECAST.budget),
    ]
    assert all(is_chart(i) and i.channels == ("ops",) for i in items)
    assert not any(is_chart(n) for n in ALL)
    assert items[1].detail["chart_of"] == {"of": TRAFFIC.id, "budget": "edgeone-traffic", "limit": "1E+13", "unit": "B"}
    # An item survives the outbox's JSON round trip as a chart item.
    assert Notification.from_dict(json.loads(json.dumps(items[1].to_dict()))) == items[1]


def test_a_chart_id_is_a_notification_id_of_its_own() -> None:
    assert re.fullmatch(r"ntf_[0-9a-f]{32}", chart_id(TRAFFIC.id, "edgeone-traffic"))
    assert chart_id(TRAFFIC.id, "a") != chart_id(TRAFFIC.id, "b") != chart_id(OVER.id, "b")
    assert chart_id(TRAFFIC.id, "a") == chart_id(TRAFFIC.id, "a")


def test_a_message_about_many_budgets_carries_at_most_max_images_charts() -> None:
    many = [replace(TRAFFIC, id=f"ntf_{i}", budget=f"b{i}") for i in range(MAX_IMAGES + 3)]
    assert [i.budget for i in chart_items(many, "ops")] == [f"b{i}" for i in range(MAX_IMAGES)]


def test_a_budget_without_a_chart_leaves_its_place_to_the_next() -> None:
    many = [replace(TRAFFIC, id=f"ntf_{i}", budget=f"b{i}") for i in range(MAX_IMAGES + 3)]
    items = chart_items(many, "ops", drawable=lambda item: item.budget not in ("b0", "b2"))
    assert [i.budget for i in items] == ["b1", "b3", "b4", "b5", "b6"]


def test_an_image_request_goes_to_the_robots_url_under_the_items_own_id() -> None:
    item = chart_item(TRAFFIC, "ops")
    requests, refused = image_requests("wecom", URL, [item], lambda _: tiny_png())
    assert refused == []
    (request,) = requests
    assert (request.url, request.notification_ids, request.limit_key) == (URL, (item.id,), URL)
    assert request.json() == image_document(tiny_png())


def boom(exc: Exception) -> Any:
    def draw(_: Notification) -> bytes:
        raise exc

    return draw


@pytest.mark.parametrize(
    ("kind", "images", "outcome", "reason"),
    [
        ("wecom", lambda _: None, "rejected", "no chart to draw"),
        ("wecom", lambda _: b"\x89PNG" + b"\0" * MAX_IMAGE_BYTES, "rejected", "an image message takes 1 to 2097152"),
        ("wecom", None, "rejected", "no chart drawing was set up"),
        ("slack", lambda _: tiny_png(), "rejected", "a slack channel takes no image messages"),
        ("wecom", boom(ValueError("the PNG font cannot show '流量'")), "rejected", "chart not drawn: the PNG font"),
        ("wecom", boom(StoreError("series unreadable", retryable=True)), "retry", "chart not drawn: series unreadable"),
    ],
)
def test_an_item_that_cannot_go_is_answered_at_once(kind: str, images: Any, outcome: str, reason: str) -> None:
    item = chart_item(TRAFFIC, "ops")
    requests, refused = image_requests(kind, URL, [item], images)
    assert requests == []
    (answer,) = refused
    assert (answer.notification_ids, answer.outcome) == ((item.id,), outcome)
    assert reason in answer.reason


def test_a_chart_link_is_a_signed_expiring_view_link_to_the_budgets_png() -> None:
    link = chart_link("https://api.example.com/", "s3cret", "edgeone-traffic", now=1_000_000, nonce="n1", ttl=3600)
    prefix = "https://api.example.com/charts/edgeone-traffic.png?t="
    assert link.startswith(prefix)
    token = link[len(prefix) :]
    found = verify("s3cret", token, now=1_000_000 + 3599, operation="view", target="edgeone-traffic")
    assert found.expires == 1_000_000 + 3600
    with pytest.raises(Exception, match="expired"):
        verify("s3cret", token, now=1_000_000 + 3600)
    with pytest.raises(Exception, match="signature"):
        verify("another", token, now=1_000_000)


def test_no_chart_links_without_both_the_public_url_and_the_secret() -> None:
    assert chart_links(None, "s", ["a"], now=0, nonce="n") == {}
    assert chart_links("https://x", None, ["a"], now=0, nonce="n") == {}
    assert list(chart_links("https://x", "s", ["a", "b"], now=0, nonce="n")) == ["a", "b"]
