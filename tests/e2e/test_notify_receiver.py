"""Delivering to a real local HTTP receiver that answers like each platform.

The receiver checks signatures with its own code (lib/notify/receiver.py), so these tests cross-check
the senders; the reference vectors from the platforms' documents are checked against it too.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from lib.config.models import Channel
from lib.model import Notification
from lib.notify import deliver, dingtalk, http, render, wecom
from lib.notify.limits import Unlimited
from lib.notify.types import DeliveryResult
from sandbox.receivers import ERRORS, Receiver
from tests.unit.notify_samples import ALL, AT, NO_DATA, TRAFFIC, TZ

pytestmark = pytest.mark.e2e
KINDS = ("wecom", "dingtalk", "feishu", "slack", "webhook")


@pytest.fixture
def receiver() -> Any:
    with Receiver() as r:
        yield r


@pytest.fixture
def session() -> Any:
    with requests.Session() as s:
        yield s


def channel_for(r: Receiver, kind: str, **changes: Any) -> Channel:
    secret = r.secret(kind) or None
    return Channel(type=kind, url=r.url(kind), secret=secret).model_copy(update=changes)  # type: ignore[arg-type]


def send(
    r: Receiver, session: requests.Session, kind: str, items: list[Notification], **kw: Any
) -> list[DeliveryResult]:
    channel = kw.pop("channel", None) or channel_for(r, kind)
    return list(deliver(
        kind, channel, items, language=kw.pop("language", "zh"), tz=TZ, session=session, now=AT,
        limiter=Unlimited(), **kw,
    ))  # fmt: skip


def outcomes(results: list[DeliveryResult]) -> dict[str, str]:
    return {nid: r.outcome for r in results for nid in r.notification_ids}


@pytest.mark.parametrize("kind", KINDS)
def test_batch_is_accepted_byte_for_byte_and_signatures_verify(receiver: Receiver, session: Any, kind: str) -> None:
    signed_at = datetime.now(timezone.utc).replace(microsecond=0)
    results = send(receiver, session, kind, list(ALL), clock=lambda: signed_at)
    assert outcomes(results) == {n.id: "sent" for n in ALL}
    planned = render(kind, channel_for(receiver, kind), list(ALL), language="zh", tz=TZ, now=signed_at)
    got = receiver.received
    assert [g.body for g in got] == [p.body for p in planned]  # exactly the rendered payloads
    assert len(got) == (len(ALL) if kind == "webhook" else 1)  # one message per run where allowed
    assert all(g.accepted for g in got)
    if kind in ("dingtalk", "feishu", "webhook"):
        assert all(g.verified is True for g in got)
    else:
        assert all(g.verified is None for g in got)


def test_exact_payload_shapes_seen_by_the_receiver(receiver: Receiver, session: Any) -> None:
    for kind in KINDS:
        send(receiver, session, kind, [TRAFFIC], language="en")
    by_kind = {g.kind: g for g in receiver.received}
    assert set(by_kind["wecom"].json) == {"msgtype", "markdown"}
    assert by_kind["dingtalk"].json["msgtype"] == "markdown"
    assert set(by_kind["dingtalk"].query) == {"access_token", "timestamp", "sign"}
    feishu = by_kind["feishu"].json
    assert {"timestamp", "sign", "msg_type", "card"} <= set(feishu) and feishu["msg_type"] == "interactive"
    assert set(by_kind["slack"].json) == {"text", "blocks"}
    hook = by_kind["webhook"]
    assert hook.json["type"] == "budget.alert" and hook.json["id"] == TRAFFIC.id
    assert hook.headers["webhook-id"] == TRAFFIC.id
    assert hook.headers["content-type"] == "application/json; charset=utf-8"
    assert by_kind["webhook"].status == 204


# Reference vectors from the platforms' documents, checked by the receiver's own verifier ----------


def test_dingtalk_reference_vector_verifies(session: Any) -> None:
    with Receiver(secrets_by_kind={"dingtalk": "SECtest"}, tolerance=None) as r:
        assert dingtalk.sign("SECtest", 1577262236757) == "Za%2Fne6w2koB8B4ROVlgTNd%2FX%2B%2FFbyDpZrXLz57xNZSA%3D"
        url = r.url("dingtalk") + "&timestamp=1577262236757&sign=Za%2Fne6w2koB8B4ROVlgTNd%2FX%2B%2FFbyDpZrXLz57xNZSA%3D"
        body = {"msgtype": "text", "text": {"content": "hi"}}
        assert session.post(url, json=body).json() == {"errcode": 0, "errmsg": "ok"}
        bad = url.replace("Za%2F", "Zb%2F")
        assert session.post(bad, json=body).json() == {"errcode": 310000, "errmsg": "sign not match"}
        assert [g.verified for g in r.received] == [True, False]


def test_feishu_reference_vector_verifies(session: Any) -> None:
    with Receiver(secrets_by_kind={"feishu": "demo"}, tolerance=None) as r:
        body = {
            "timestamp": "100",
            "sign": "jquNHnVOwmDRfw+vqTIrY5dooJAgi5EcRtLsQE4wfXg=",
            "msg_type": "text",
            "content": {"text": "hi"},
        }
        answer = session.post(r.url("feishu"), json=body).json()
        assert answer["code"] == 0 and answer["msg"] == "success"
        answer = session.post(r.url("feishu"), json={**body, "timestamp": "101"}).json()
        assert answer["code"] == 19021
        assert [g.verified for g in r.received] == [True, False]


def test_standard_webhooks_reference_vector_verifies(session: Any) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    with Receiver(secrets_by_kind={"webhook": secret}, webhook_tolerance=None) as r:
        headers = {
            "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "webhook-timestamp": "1614265330",
            # A rotated-out key's signature first: any listed v1 signature may match.
            "webhook-signature": "v1,bm9ldHUjKzFob2VudXRob2VodWUzMjRvdWVvdW9ldQo= "
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "Content-Type": "application/json",
        }
        raw = b'{"test": 2432232314}'
        assert session.post(r.url("webhook"), data=raw, headers=headers).status_code == 204
        headers["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        assert session.post(r.url("webhook"), data=raw + b" ", headers=headers).status_code == 401
        assert [g.verified for g in r.received] == [True, False]


# Each platform error body, injected, and how the sender classifies it -----------------------------

EXPECTED = {
    ("wecom", "rate_limited"): "retry",
    ("wecom", "busy"): "retry",
    ("wecom", "invalid_key"): "rejected",
    ("wecom", "bad_msgtype"): "rejected",
    ("wecom", "too_long"): "rejected",
    ("wecom", "bad_image_size"): "rejected",
    ("wecom", "md5_mismatch"): "rejected",
    ("wecom", "bad_image_type"): "rejected",
    ("dingtalk", "rate_limited"): "retry",
    ("dingtalk", "sign_mismatch"): "rejected",
    ("dingtalk", "keyword_missing"): "rejected",
    ("dingtalk", "ip_not_allowed"): "rejected",
    ("dingtalk", "invalid_token"): "rejected",
    ("feishu", "rate_limited"): "retry",
    ("feishu", "bad_request"): "retry",
    ("feishu", "sign_mismatch"): "rejected",
    ("feishu", "ip_not_allowed"): "rejected",
    ("feishu", "keyword_missing"): "rejected",
    ("feishu", "invalid_token"): "rejected",
    ("slack", "rate_limited"): "retry",
    ("slack", "invalid_payload"): "rejected",
    ("slack", "no_text"): "rejected",
    ("slack", "action_prohibited"): "rejected",
    ("slack", "no_service"): "rejected",
    ("slack", "channel_not_found"): "rejected",
    ("slack", "channel_is_archived"): "rejected",
    ("slack", "rollup_error"): "retry",
    ("webhook", "rate_limited"): "retry",
    ("webhook", "unavailable"): "retry",
    ("webhook", "bad_signature"): "rejected",
    ("webhook", "gone"): "rejected",
}


def test_every_error_body_is_covered() -> None:
    assert set(EXPECTED) == {(kind, name) for kind, errors in ERRORS.items() for name in errors}


@pytest.mark.parametrize(("kind", "error"), sorted(EXPECTED))
def test_platform_error_bodies(receiver: Receiver, session: Any, kind: str, error: str) -> None:
    receiver.fail(kind, error=error)
    (result,) = send(receiver, session, kind, [TRAFFIC])
    assert result.outcome == EXPECTED[(kind, error)], result.reason
    status, body, _ = ERRORS[kind][error]
    assert result.status_code == status
    if isinstance(body, dict):
        code = body.get("errcode", body.get("code"))
        if code is not None:
            assert str(code) in result.reason
    elif isinstance(body, str):
        assert body in result.reason
    if kind == "slack" and error == "rate_limited":
        assert result.retry_after == 1.0  # the Retry-After header
    (after,) = send(receiver, session, kind, [TRAFFIC])  # the failure was one-off
    assert after.outcome == "sent"


def test_fails_n_times_then_succeeds(receiver: Receiver, session: Any) -> None:
    receiver.fail("wecom", times=2, error="busy")
    assert [send(receiver, session, "wecom", [TRAFFIC])[0].outcome for _ in range(3)] == ["retry", "retry", "sent"]
    assert [g.accepted for g in receiver.received] == [False, False, True]


# Real checks, not injected ------------------------------------------------------------------------


def test_wrong_secrets_are_rejected_by_the_platform_checks(receiver: Receiver, session: Any) -> None:
    for kind, code in (("dingtalk", "310000"), ("feishu", "19021"), ("webhook", "HTTP 401")):
        channel = channel_for(receiver, kind, secret="not-the-secret")
        (result,) = send(receiver, session, kind, [TRAFFIC], channel=channel)
        assert result.outcome == "rejected" and code in result.reason, (kind, result.reason)
    assert [g.verified for g in receiver.received] == [False, False, False]


def test_missing_secret_is_rejected_when_the_robot_requires_signing(receiver: Receiver, session: Any) -> None:
    (result,) = send(receiver, session, "dingtalk", [TRAFFIC], channel=channel_for(receiver, "dingtalk", secret=None))
    assert result.outcome == "rejected" and "310000" in result.reason


def test_stale_signatures_are_rejected(receiver: Receiver, session: Any) -> None:
    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    for kind in ("dingtalk", "feishu", "webhook"):
        (result,) = send(receiver, session, kind, [TRAFFIC], clock=lambda: two_hours_ago)
        assert result.outcome == "rejected", (kind, result.reason)


def test_wrong_tokens_are_rejected(receiver: Receiver, session: Any) -> None:
    cases = {
        "wecom": receiver.url("wecom").replace("key=demo", "key=other"),
        "slack": receiver.url("slack").replace("/demo", "/other"),
        "feishu": receiver.url("feishu").replace("/demo", "/other"),
        "dingtalk": receiver.url("dingtalk").replace("=demo", "=other"),
    }
    for kind, url in cases.items():
        channel = channel_for(receiver, kind, url=url)
        (result,) = send(receiver, session, kind, [TRAFFIC], channel=channel)
        assert result.outcome == "rejected", (kind, result.reason)
        assert "other" not in result.reason or kind == "slack"  # query tokens are masked in reasons


def test_keywords_required_by_the_robot(receiver: Receiver, session: Any) -> None:
    receiver.require_keyword("dingtalk", "预算")
    receiver.require_keyword("feishu", "Budget")
    assert send(receiver, session, "dingtalk", [TRAFFIC], language="zh")[0].outcome == "sent"
    assert send(receiver, session, "feishu", list(ALL), language="en")[0].outcome == "sent"
    receiver.require_keyword("dingtalk", "发布")
    (result,) = send(receiver, session, "dingtalk", [TRAFFIC])
    assert result.outcome == "rejected" and "keywords not in content" in result.reason


def test_big_batches_are_split_and_every_part_is_accepted(receiver: Receiver, session: Any) -> None:
    many = [replace(TRAFFIC, id=f"ntf_{i:032x}", group=(("host", f"站点{i}.example.com"),)) for i in range(150)]
    for kind in ("wecom", "feishu", "slack", "dingtalk"):
        receiver.clear()
        results = send(receiver, session, kind, many)
        assert outcomes(results) == {n.id: "sent" for n in many}, kind
        got = receiver.received
        assert len(got) > 1 and all(g.accepted for g in got), kind
        text = "".join(g.body.decode("utf-8") for g in got)
        assert all(text.count(n.id) == 1 for n in many), kind  # each alert told exactly once


def test_network_failures_are_retry_and_redacted(session: Any) -> None:
    with Receiver(token="TOPSECRETKEY") as r:
        url = r.url("wecom")
    # The receiver is stopped: nothing listens on its port any more.
    channel = Channel(type="wecom", url=url)
    (result,) = list(
        deliver("ops", channel, [TRAFFIC], language="en", tz=TZ, session=session, now=AT, limiter=Unlimited())
    )
    assert result.outcome == "retry" and result.status_code is None
    assert "TOPSECRETKEY" not in result.reason


def test_timeouts_are_retry(receiver: Receiver, session: Any) -> None:
    receiver.fail("wecom", delay=1.0, body={"errcode": 0, "errmsg": "ok"})
    (request,) = render("ops", channel_for(receiver, "wecom"), [TRAFFIC], language="zh", tz=TZ, now=AT)
    result = http.send(request, session, wecom.classify, timeout=(1.0, 0.2))
    # A read timeout, not the answer the receiver gives after a second: had the 0.2 s not been applied,
    # the request would have waited for it and been "sent". (No wall-clock bound: on a loaded machine
    # the process may stall for longer than the timeout without the timeout being wrong.)
    assert result.outcome == "retry" and "Timeout" in result.reason


def test_reasons_never_carry_the_token(session: Any) -> None:
    with Receiver(token="TOPSECRETKEY") as r:
        r.fail("wecom", error="invalid_key")
        r.fail("dingtalk", error="sign_mismatch")
        for kind in ("wecom", "dingtalk"):
            (result,) = send(r, session, kind, [TRAFFIC])
            assert "TOPSECRETKEY" not in json.dumps(result.to_dict())


def test_concurrent_deliveries_are_all_recorded(receiver: Receiver) -> None:
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with requests.Session() as s:
                items = [replace(NO_DATA, id=f"ntf_{index:02d}{i:030x}") for i in range(10)]
                results = send(receiver, s, "webhook", items)
                assert all(r.outcome == "sent" for r in results)
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = receiver.received
    assert len(got) == 60 and len({g.headers["webhook-id"] for g in got}) == 60
    assert all(g.verified for g in got)


def test_echo_prints_one_line_per_message(session: Any) -> None:
    lines: list[tuple[str, str]] = []
    with Receiver(echo=lambda kind, text: lines.append((kind, text))) as r:
        for kind in KINDS:
            send(r, session, kind, [TRAFFIC], language="en")
        r.fail("slack", error="no_service")
        send(r, session, "slack", [TRAFFIC], language="en")
    assert [k for k, _ in lines] == [*KINDS, "slack"]
    assert all("\n" not in text for _, text in lines)
    assert "edgeone-traffic" in lines[0][1] and "81%" in lines[0][1]
    assert lines[-1][1].startswith("REFUSED")


def test_receiver_stops_cleanly_and_refuses_unknown_kinds() -> None:
    r = Receiver()
    with pytest.raises(RuntimeError):
        r.url("wecom")
    with r:
        with pytest.raises(ValueError, match="unknown kind"):
            r.url("teams")
        assert r.secret("wecom") == "" and r.secret("dingtalk").startswith("SEC")
        assert r.secret("webhook").startswith("whsec_")
    with pytest.raises(RuntimeError):
        r.url("wecom")
