"""``deliver`` yields each notification's result as soon as its last request is answered (HTTP mocked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
import requests
import responses

from lib.config.models import Channel
from lib.errors import ConfigError
from lib.model import Notification
from lib.notify import CHANNELS, DeliveryResult, channel_for, deliver, merge, render
from lib.notify.limits import Unlimited, Window
from lib.notify.types import Outcome
from tests.unit.notify_samples import ALL, AT, OVER, TRAFFIC, TZ

WECOM = Channel(type="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K")
HOOK = Channel(type="webhook", url="https://example.com/hooks/budget")


def _huge(i: int) -> Notification:
    """A notification whose text needs more than one WeCom message (4096 bytes)."""
    return replace(TRAFFIC, id=f"ntf_{i:032x}", group=(("host", "主机" * 900 + str(i)),))


def _sent_so_far(results: Any, calls: responses.CallList) -> list[tuple[int, tuple[str, ...], str]]:
    """Each yielded result with the number of requests sent by the time it was yielded."""
    return [(len(calls), r.notification_ids, r.outcome) for r in results]


def test_the_first_result_comes_before_the_second_request_is_sent() -> None:
    with responses.RequestsMock() as mock, requests.Session() as session:
        mock.post(HOOK.url, status=204)
        results = deliver(
            "audit", HOOK, [TRAFFIC, OVER], language="en", tz=TZ, session=session, now=AT, limiter=Unlimited()
        )
        assert len(mock.calls) == 0  # nothing is sent until the results are read
        first = next(results)
        assert (first.notification_ids, first.outcome, len(mock.calls)) == ((TRAFFIC.id,), "sent", 1)
        second = next(results)
        assert (second.notification_ids, second.outcome, len(mock.calls)) == ((OVER.id,), "sent", 2)
        assert list(results) == []


def test_a_notification_split_over_several_messages_is_final_after_its_last_part() -> None:
    big = _huge(1)
    planned = render("ops", WECOM, [big], language="zh", tz=TZ, now=AT)
    assert len(planned) >= 2
    with responses.RequestsMock() as mock, requests.Session() as session:
        mock.post(WECOM.url, json={"errcode": 0, "errmsg": "ok"})
        got = _sent_so_far(
            deliver("ops", WECOM, [big], language="zh", tz=TZ, session=session, now=AT, limiter=Unlimited()), mock.calls
        )
    assert got == [(len(planned), (big.id,), "sent")]


def test_outcomes_per_notification_equal_the_merged_result() -> None:
    """Sent, then "retry" (rate limited): the rest are not attempted; each id gets the worst of its parts."""
    many = [_huge(i) for i in range(4)]
    planned = render("ops", WECOM, many, language="zh", tz=TZ, now=AT)
    answers: list[tuple[Outcome, float | None]] = [("sent", None), ("retry", 60.0)]
    answers += [("retry", 60.0)] * (len(planned) - 2)
    expected = merge(
        [
            DeliveryResult("ops", r.notification_ids, o, "", None, wait)
            for r, (o, wait) in zip(planned, answers, strict=True)
        ],
        "ops",
    )
    with responses.RequestsMock() as mock, requests.Session() as session:
        mock.post(WECOM.url, json={"errcode": 0, "errmsg": "ok"})
        mock.post(WECOM.url, json={"errcode": 45009, "errmsg": "api freq out of limit"})
        results = list(deliver("ops", WECOM, many, language="zh", tz=TZ, session=session, now=AT, limiter=Unlimited()))
        assert len(mock.calls) == 2
    ids = [nid for r in results for nid in r.notification_ids]
    assert sorted(ids) == sorted(n.id for n in many)  # each notification exactly once
    outcomes = {nid: (r.outcome, r.retry_after) for r in results for nid in r.notification_ids}
    assert outcomes == {nid: (r.outcome, r.retry_after) for r in expected for nid in r.notification_ids}
    assert "retry" in {o for o, _ in outcomes.values()}


def test_a_configuration_error_raises_when_deliver_is_called_before_anything_is_sent() -> None:
    bad = Channel(type="webhook", url="https://example.com/h", secret="whsec_%%%")
    with responses.RequestsMock() as mock, requests.Session() as session:
        with pytest.raises(ConfigError):
            deliver("audit", bad, list(ALL), language="en", tz=TZ, session=session, now=AT, limiter=Unlimited())
        assert len(mock.calls) == 0


def test_channel_registry_lookup() -> None:
    assert list(CHANNELS) == ["wecom", "dingtalk", "feishu", "slack", "webhook"]
    for kind, plugin in CHANNELS.items():
        assert channel_for(kind) is plugin and plugin.kind == kind
    with pytest.raises(ConfigError) as caught:
        channel_for("telegram")
    assert "'telegram'" in str(caught.value) and "wecom, dingtalk, feishu, slack, webhook" in str(caught.value)


class _PlainFormat:
    """A made-up robot: plain text, 300 bytes a message; everything else comes from the shared steps."""

    kind = "plain"
    limits: Sequence[Window] = ()
    title_bytes: int | None = 40

    def block(self, message: Any, single: bool, offers: Sequence[Any]) -> str:
        return "\n".join(f"{f.label}: {f.value}" for f in message.facts)

    def packing(self, title: str, channel: Channel) -> Any:
        from lib.notify.channel import Packing

        return Packing(300, len(title.encode()) + 16, "\n--\n")

    def document(self, part: Any, channel: Channel, now: Any) -> tuple[str, dict[str, str]]:
        return channel.url, {"text": part.title + part.number + "\n" + "\n--\n".join(b.text for b in part.blocks)}

    def classify(self, answer: Any) -> Any:
        return "sent", "ok", None


def test_a_new_robot_supplies_only_its_format() -> None:
    from lib.notify.packing import ChatChannel, part_number

    assert (part_number(1, 1), part_number(2, 3)) == ("", " (2/3)")
    plain = ChatChannel(_PlainFormat())
    requests_ = plain.render(list(ALL), "en", TZ, WECOM, AT)
    texts = [r.json()["text"] for r in requests_]
    assert len(texts) > 1 and all(len(r.body) <= 400 for r in requests_)
    assert [t.split("\n", 1)[0][-len(f" (1/{len(texts)})") :] for t in texts[:1]] == [f" (1/{len(texts)})"]
    assert {nid for r in requests_ for nid in r.notification_ids} == {n.id for n in ALL}
