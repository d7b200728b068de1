"""Retry schedule, rate limiter, result merging and ``deliver``'s control flow (HTTP mocked)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import responses

from lib.config.models import Channel
from lib.model import Notification
from lib.notify import DeliveryResult, deliver, delivery_id, merge, retry_schedule
from lib.notify.limits import RateLimiter, Unlimited
from lib.notify.retry import MAX_ATTEMPTS, backoff, total_span
from tests.unit.notify_samples import ALL, AT, TRAFFIC, TZ

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)


def test_backoff_doubles_from_one_minute_to_an_hour() -> None:
    assert [backoff(k) for k in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_schedule_and_give_up() -> None:
    assert retry_schedule(1, NOW, None) == NOW + timedelta(minutes=1)
    assert retry_schedule(3, NOW, None) == NOW + timedelta(minutes=4)
    assert retry_schedule(MAX_ATTEMPTS - 1, NOW, None) == NOW + timedelta(hours=1)
    assert retry_schedule(MAX_ATTEMPTS, NOW, None) is None
    assert timedelta(hours=12) < total_span() < timedelta(hours=24)


def test_schedule_honours_retry_after_but_not_forever() -> None:
    assert retry_schedule(1, NOW, 600) == NOW + timedelta(minutes=10)
    assert retry_schedule(5, NOW, 1) == NOW + timedelta(minutes=16)  # never sooner than the backoff
    assert retry_schedule(1, NOW, 10**9) == NOW + timedelta(days=1)


def test_delivery_id_is_stable_and_safe() -> None:
    assert delivery_id("ntf_ab", "ops") == "ntf_ab__ops"
    odd = delivery_id("ntf_ab", "财务/alerts")
    assert odd == delivery_id("ntf_ab", "财务/alerts") and "/" not in odd and odd.isascii()
    assert delivery_id("ntf_ab", "a") != delivery_id("ntf_ab", "b")


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_limiter_allows_twenty_a_minute_then_books_or_refuses() -> None:
    clock = FakeClock()
    limiter = RateLimiter(max_wait=5.0, clock=clock)
    windows = ((20, 60.0),)
    assert [limiter.reserve("u", windows) for _ in range(20)] == [0.0] * 20
    clock.t += 50
    assert limiter.reserve("u", windows) == pytest.approx(10.0)  # over max_wait: not booked
    clock.t += 6
    assert limiter.reserve("u", windows) == pytest.approx(4.0)  # booked for t+4
    assert limiter.reserve("other", windows) == 0.0  # per URL
    clock.t += 4
    assert limiter.reserve("u", windows) == pytest.approx(0.0)  # the second of the first 20 left too


def test_limiter_is_thread_safe() -> None:
    clock = FakeClock()
    limiter = RateLimiter(max_wait=0.0, clock=clock)
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            wait = limiter.reserve("u", ((20, 60.0),))
            if wait == 0.0:
                with lock:
                    granted.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 20


def test_merge_takes_the_worst_per_notification() -> None:
    results = [
        DeliveryResult("c", ("a", "b"), "sent", "ok", 200),
        DeliveryResult("c", ("b", "c"), "retry", "busy", 200, 60.0),
        DeliveryResult("c", ("d",), "rejected", "bad", 200),
        DeliveryResult("c", ("c",), "retry", "busy", 200, 600.0),
    ]
    merged = {nid: r for r in merge(results, "c") for nid in r.notification_ids}
    assert sorted(merged) == ["a", "b", "c", "d"]
    assert [merged[k].outcome for k in "abcd"] == ["sent", "retry", "retry", "rejected"]
    assert merged["c"].retry_after == 600.0
    assert sum(len(r.notification_ids) for r in merge(results, "c")) == 4  # each id exactly once


WECOM = Channel(type="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY")


def _deliver(channel: Channel, items: list[Notification], **kw: Any) -> list[DeliveryResult]:
    limiter = kw.pop("limiter", Unlimited())
    with requests.Session() as session:
        return list(
            deliver("ops", channel, items, language="zh", tz=TZ, session=session, now=AT, limiter=limiter, **kw)
        )


@responses.activate
def test_deliver_batches_into_one_request() -> None:
    responses.post(WECOM.url, json={"errcode": 0, "errmsg": "ok"})
    results = _deliver(WECOM, list(ALL))
    assert len(responses.calls) == 1
    assert [r.outcome for r in results] == ["sent"]
    assert set(results[0].notification_ids) == {n.id for n in ALL}


@responses.activate
def test_after_a_retry_answer_the_rest_wait() -> None:
    many = [replace(TRAFFIC, id=f"ntf_{i:032x}", group=(("host", "主机" * 200 + str(i)),)) for i in range(12)]
    responses.post(WECOM.url, json={"errcode": 0, "errmsg": "ok"})
    responses.post(WECOM.url, json={"errcode": 45009, "errmsg": "api freq out of limit"})
    results = _deliver(WECOM, many)
    assert len(responses.calls) == 2  # the third and later requests were not attempted
    by_outcome = {r.outcome: r for r in results}
    assert set(by_outcome) == {"sent", "retry"}
    assert sum(len(r.notification_ids) for r in results) == len(many)
    assert all(r.retry_after == 60.0 for r in results if r.outcome == "retry")


@responses.activate
def test_network_error_is_retry_and_redacted() -> None:
    responses.post(WECOM.url, body=requests.ConnectionError(f"cannot reach {WECOM.url}"))
    (result,) = _deliver(WECOM, [TRAFFIC])
    assert result.outcome == "retry" and result.status_code is None
    assert "ConnectionError" in result.reason
    assert "SECRETKEY" not in result.reason and "key=***" in result.reason


@responses.activate
def test_rate_limiter_turns_excess_into_retry_without_sending() -> None:
    clock = FakeClock()
    limiter = RateLimiter(max_wait=0.0, clock=clock)
    for _ in range(20):
        limiter.reserve(WECOM.url, ((20, 60.0),))
    (result,) = _deliver(WECOM, [TRAFFIC], limiter=limiter)
    assert len(responses.calls) == 0
    assert result.outcome == "retry" and result.retry_after == pytest.approx(60.0)
    assert "rate limit" in result.reason


@responses.activate
def test_short_waits_sleep_then_send() -> None:
    clock = FakeClock()
    limiter = RateLimiter(max_wait=5.0, clock=clock)
    slept: list[float] = []
    responses.post("https://hooks.slack.com/services/T/B/X", body="ok")
    slack = Channel(type="slack", url="https://hooks.slack.com/services/T/B/X")
    limiter.reserve(slack.url, ((1, 1.0),))
    (result,) = _deliver(slack, [TRAFFIC], limiter=limiter, sleep=slept.append)
    assert result.outcome == "sent" and slept == [pytest.approx(1.0)]


def test_signing_uses_the_clock_not_the_evaluation_instant() -> None:
    """``check --at`` evaluates the past; platforms refuse signatures more than an hour old."""
    signed_at = datetime(2030, 1, 1, tzinfo=timezone.utc)
    channel = Channel(type="webhook", url="https://example.com/h", secret="s")
    with responses.RequestsMock() as mock:
        mock.post("https://example.com/h", status=204)
        _deliver(channel, [TRAFFIC], clock=lambda: signed_at)
        assert mock.calls[0].request.headers["webhook-timestamp"] == str(int(signed_at.timestamp()))
