"""The WeCom receiver takes image messages and refuses bad ones as the robot does; deliver sends charts to it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lib.config.models import Channel
from lib.messages.digest import digest_rows
from lib.notify import deliver
from lib.notify.images import chart_item, image_document
from lib.notify.limits import Unlimited
from sandbox.receivers import WECOM_IMAGE_BYTES, Receiver
from tests.unit.notify_samples import AT, OVER, TRAFFIC, TZ
from tests.unit.test_notify_images import tiny_png

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def post(r: Receiver, document: Any) -> dict[str, Any]:
    answer = requests.post(r.url("wecom"), json=document, timeout=10)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def image(raw: bytes, md5: str | None = None) -> dict[str, Any]:
    digest = md5 or hashlib.md5(raw, usedforsecurity=False).hexdigest()
    return {"msgtype": "image", "image": {"base64": base64.b64encode(raw).decode(), "md5": digest}}


def test_a_good_png_is_accepted_and_summarised(receiver: Receiver) -> None:
    assert post(receiver, image_document(tiny_png()))["errcode"] == 0
    (got,) = receiver.received
    assert got.accepted and got.summary == f"[image {len(tiny_png())} B PNG]"


@pytest.mark.parametrize(
    ("document", "errcode"),
    [
        (image(tiny_png(), md5="0" * 32), 301019),  # the MD5 of something else
        ({"msgtype": "image", "image": {"base64": "not base64!", "md5": "0" * 32}}, 40009),
        (image(b""), 40009),  # nothing
        (image(b"\x89PNG\r\n\x1a\n" + b"\0" * WECOM_IMAGE_BYTES), 40009),  # one byte over 2 MB before base64
        (image(b"GIF89a" + b"\0" * 64), 40005),  # neither PNG nor JPEG
        ({"msgtype": "image", "image": {"base64": base64.b64encode(tiny_png()).decode()}}, 40008),  # no md5
        ({"msgtype": "image"}, 40008),
    ],
)
def test_bad_images_are_refused_with_the_robots_codes(receiver: Receiver, document: Any, errcode: int) -> None:
    assert post(receiver, document)["errcode"] == errcode
    assert not receiver.received[0].accepted


def test_base64_split_over_lines_is_refused(receiver: Receiver) -> None:
    # A common mistake (base64 tools wrap at 76 characters): the robot reads it as no image.
    wrapped = base64.encodebytes(tiny_png() * 20).decode()
    assert "\n" in wrapped
    document = {"msgtype": "image", "image": {"base64": wrapped, "md5": hashlib.md5(tiny_png() * 20).hexdigest()}}
    assert post(receiver, document)["errcode"] == 40009


def test_deliver_sends_the_markdown_then_one_image_per_chart_item(receiver: Receiver) -> None:
    channel = Channel(type="wecom", url=receiver.url("wecom"))
    items = [TRAFFIC, OVER, chart_item(TRAFFIC, "ops"), chart_item(OVER, "ops")]
    with requests.Session() as session:
        results = list(
            deliver(
                "ops", channel, items, language="zh", tz=TZ, session=session, now=AT,
                limiter=Unlimited(), images=lambda _: tiny_png(),
            )
        )  # fmt: skip
    assert {nid: r.outcome for r in results for nid in r.notification_ids} == {i.id: "sent" for i in items}
    assert [r.json["msgtype"] for r in receiver.received] == ["markdown", "image", "image"]
    assert all(r.accepted for r in receiver.received)


def test_a_refused_image_does_not_touch_the_message_it_follows(receiver: Receiver) -> None:
    receiver.fail("wecom", error="md5_mismatch", msgtype="image")
    channel = Channel(type="wecom", url=receiver.url("wecom"))
    chart = chart_item(TRAFFIC, "ops")
    with requests.Session() as session:
        results = list(
            deliver(
                "ops", channel, [TRAFFIC, chart], language="en", tz=TZ, session=session, now=AT,
                limiter=Unlimited(), images=lambda _: tiny_png(),
            )
        )  # fmt: skip
    outcomes = {nid: (r.outcome, r.reason) for r in results for nid in r.notification_ids}
    assert outcomes[TRAFFIC.id][0] == "sent"
    assert outcomes[chart.id] == (
        "rejected",
        "errcode 301019: media md5 not match (image MD5 does not match its content)",
    )


def test_a_digest_retried_with_alerts_is_still_a_message_of_its_own(receiver: Receiver) -> None:
    from tests.unit.test_digest import EVALUATIONS, digest_notification

    digest = digest_notification(digest_rows(EVALUATIONS))
    channel = Channel(type="wecom", url=receiver.url("wecom"))
    with requests.Session() as session:
        results = list(
            deliver("ops", channel, [digest, TRAFFIC, OVER], language="zh", tz=TZ, session=session, now=AT,
                    limiter=Unlimited())
        )  # fmt: skip
    assert {nid for r in results for nid in r.notification_ids} == {digest.id, TRAFFIC.id, OVER.id}
    contents = [r.json["markdown"]["content"] for r in receiver.received]
    assert len(contents) == 2
    assert contents[0].startswith("### 预算通知：2 条告警") and "预算日报" not in contents[0]
    assert contents[1].startswith("### 📊 预算日报")
