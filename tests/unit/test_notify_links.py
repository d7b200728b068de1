"""Signed links in alerts: what the LinkMaker offers, their expiry, and each channel's native form under its limits."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from lib.config.models import Channel
from lib.links import Link, action_order, silence_order, targets_digest, verify
from lib.model import Notification
from lib.notify import dingtalk, feishu, render, slack, wecom
from lib.notify.links import LINK_TTL, LinkMaker, Offer, compact, extract, link_maker
from tests.unit.notify_samples import AT, BALANCE_OK, MONTH, TRAFFIC, TZ

SECRET = "link-secret-for-tests-0123456789"
PUBLIC = "https://1250000000-abcd.ap-guangzhou.tencentscf.com"
URL = re.compile(r"https?://[^\s)\"<>\]]+")


def maker() -> LinkMaker:
    counter = itertools.count()
    return LinkMaker(PUBLIC, SECRET, AT, nonce=lambda: f"nonce-{next(counter):04d}")


def pending(n: Notification = TRAFFIC, state: str = "pending-approval", count: int = 1) -> Notification:
    actions = [
        {
            "id": f"act_{i:024x}",
            "type": "pause-zone",
            "state": state,
            "targets": ["zone-2m2gq4dnpmd2"],
            "approval": "manual",
        }
        for i in range(count)
    ]
    return replace(n, detail={**n.detail, "actions": actions})


def token_of(url: str) -> str:
    return url.rsplit("/l/", 1)[1] if "/l/" in url else url.rsplit("?v=", 1)[1]


def check(url: str) -> Link:
    return verify(SECRET, token_of(url), now=AT.timestamp())


# --- what a notification offers -----------------------------------------------------------------------


def test_a_firing_alert_offers_three_silences_and_the_dashboard_each_signed() -> None:
    offers = maker().links(TRAFFIC)
    assert [o.key for o in offers] == ["silence_1h", "silence", "silence_period", "dashboard"]
    orders = {o.key: silence_order(check(o.url)) for o in offers if o.key.startswith("silence")}
    for order in orders.values():
        assert order.matchers == {"budget": "edgeone-traffic", "zone-id": "zone-2m2gq4dnpmd2"}
    assert (orders["silence_1h"].seconds, orders["silence"].seconds) == (3600, 86400)
    assert orders["silence_period"].until == int(MONTH.end.timestamp())
    view = check(offers[-1].url)
    assert view.operation == "view" and offers[-1].url.startswith(f"{PUBLIC}/?v=")
    assert len({token_of(o.url) for o in offers}) == len(offers)  # one nonce each: each works once


def test_expiry_short_links_a_week_period_links_at_the_period_end() -> None:
    offers = {o.key: check(o.url) for o in maker().links(pending(TRAFFIC))}
    week = int((AT + LINK_TTL).timestamp())
    assert offers["silence_1h"].expires == offers["silence"].expires == offers["dashboard"].expires == week
    assert offers["silence_period"].expires == offers["approve"].expires == int(MONTH.end.timestamp())
    with pytest.raises(Exception, match="expired"):
        verify(SECRET, token_of(maker().links(TRAFFIC)[0].url), now=(AT + LINK_TTL).timestamp())


def test_a_pending_action_gets_an_approve_link_naming_it_and_its_targets() -> None:
    offers = maker().links(pending(count=2))
    approvals = [o for o in offers if o.key == "approve"]
    assert [o.action_id for o in approvals] == [f"act_{0:024x}", f"act_{1:024x}"]
    link = check(approvals[0].url)
    assert link.operation == "approve"
    assert action_order(link) == (f"act_{0:024x}", targets_digest(["zone-2m2gq4dnpmd2"]))
    assert offers[0].key == "approve"  # what matters most comes first


def test_a_done_action_gets_an_undo_link_and_other_states_none() -> None:
    assert [o.key for o in maker().links(pending(state="done")) if o.action_id] == ["undo"]
    for state in ("executing", "failed", "undone", "expired"):
        assert not [o for o in maker().links(pending(state=state)) if o.action_id]


def test_an_action_notification_offers_undo_once_done_and_no_silence() -> None:
    detail = {"action": "pause-zone", "action_id": "act_1", "state": "done", "targets": ["zone-1"], "by": "automatic"}
    announce = replace(TRAFFIC, kind="action", detail=detail)
    offers = maker().links(announce)
    assert [o.key for o in offers] == ["undo", "dashboard"]
    assert check(offers[0].url).operation == "undo"


def test_a_resolved_alert_offers_only_the_dashboard() -> None:
    assert [o.key for o in maker().links(BALANCE_OK)] == ["dashboard"]


def test_an_approve_link_is_not_made_once_the_period_is_over() -> None:
    late = LinkMaker(PUBLIC, SECRET, MONTH.end + timedelta(minutes=1))
    assert [o.key for o in late.links(pending())] == ["silence_1h", "silence", "dashboard"]


def test_no_links_without_both_variables() -> None:
    assert link_maker(None, SECRET, AT) is None
    assert link_maker(PUBLIC, None, AT) is None
    assert link_maker(PUBLIC, "", AT) is None
    made = link_maker(PUBLIC, SECRET, AT)
    assert made is not None and made.links(TRAFFIC)


def test_compact_keeps_approve_undo_and_the_one_day_silence() -> None:
    offers = maker().links(pending())
    assert [o.key for o in compact(offers)] == ["approve", "silence"]


# --- each channel's native form ---------------------------------------------------------------------


def channel(kind: str) -> Channel:
    secret = None if kind in ("wecom", "slack") else "s"
    return Channel.model_validate({"type": kind, "url": "https://hooks.example/x?key=K", "secret": secret})


def offers_for(notifications: list[Notification]) -> dict[str, tuple[Offer, ...]]:
    return maker().offers(notifications)


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_markdown_robots_carry_markdown_links(kind: str) -> None:
    n = pending()
    (request,) = render("ops", channel(kind), [n], language="zh", tz=TZ, now=AT, links=offers_for([n]))
    text = json.loads(request.body)["markdown"]["content" if kind == "wecom" else "text"]
    found = re.findall(r"\[([^\]]+)\]\((https://[^)]+)\)", text)
    assert [label for label, _ in found] == ["批准：暂停站点", "静音 1 小时", "静音 1 天", "静音至周期结束", "查看看板"]
    assert [check(url).operation for _, url in found] == ["approve", "silence", "silence", "silence", "view"]


def test_english_labels() -> None:
    n = pending()
    (request,) = render("ops", channel("wecom"), [n], language="en", tz=TZ, now=AT, links=offers_for([n]))
    assert "[Approve: pause the zone](" in json.loads(request.body)["markdown"]["content"]


def test_feishu_card_buttons_carry_the_urls() -> None:
    n = pending(state="done")
    (request,) = render("ops", channel("feishu"), [n], language="en", tz=TZ, now=AT, links=offers_for([n]))
    elements = json.loads(request.body)["card"]["elements"]
    (action,) = [e for e in elements if e["tag"] == "action"]
    buttons = action["actions"]
    assert [b["text"]["content"] for b in buttons][:2] == ["Undo: pause the zone", "Silence 1 h"]
    assert buttons[0]["type"] == "primary" and all(b["tag"] == "button" for b in buttons)
    assert [check(b["url"]).operation for b in buttons] == ["undo", "silence", "silence", "silence", "view"]
    assert "\x1e" not in request.body.decode()  # the marker never reaches the platform


def test_slack_button_blocks_carry_the_urls() -> None:
    alerts = [pending(), replace(pending(), id="ntf_" + "b" * 32)]
    requests_ = render("ops", channel("slack"), alerts, language="en", tz=TZ, now=AT, links=offers_for(alerts))
    blocks = [b for r in requests_ for b in json.loads(r.body)["blocks"]]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 2
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert len(ids) == len(set(ids))  # unique within the message
    first = actions[0]["elements"][0]
    assert first["style"] == "danger" and first["text"]["text"] == "Approve: pause the zone"
    assert check(first["url"]).operation == "approve"
    fallback = json.loads(requests_[0].body)["text"]
    assert "\x1e" not in fallback and "https://" not in fallback


def test_webhook_payload_carries_a_links_object() -> None:
    n = pending(count=2)
    (request,) = render("audit", channel("webhook"), [n], language="en", tz=TZ, now=AT, links=offers_for([n]))
    links = json.loads(request.body)["links"]
    assert set(links) == {"silence", "silence_1h", "silence_period", "approve", "dashboard", "actions"}
    assert silence_order(check(links["silence"])).seconds == 86400  # DESIGN §3.5: silence is the one-day one
    assert check(links["approve"]).targets[0] == f"act_{0:024x}"
    assert set(links["actions"]) == {f"act_{0:024x}", f"act_{1:024x}"}


def test_no_links_no_links_key_and_no_markdown_links() -> None:
    n = pending()
    (hook,) = render("audit", channel("webhook"), [n], language="en", tz=TZ, now=AT)
    assert "links" not in json.loads(hook.body)
    (chat,) = render("ops", channel("wecom"), [n], language="en", tz=TZ, now=AT)
    assert "](" not in chat.body.decode()


# --- byte limits with links --------------------------------------------------------------------------


def _many(count: int) -> list[Notification]:
    return [
        replace(pending(), id=f"ntf_{i:032x}", group=(("host", f"主机{i}-" + "流量" * 20 + ".example.com"),))
        for i in range(count)
    ]


def _texts(kind: str, body: bytes) -> list[str]:
    doc = json.loads(body)
    if kind == "wecom":
        return [doc["markdown"]["content"]]
    if kind == "dingtalk":
        return [doc["markdown"]["text"]]
    return [body.decode()]


@pytest.mark.parametrize(("kind", "limit"), [("wecom", wecom.MAX_BYTES), ("dingtalk", dingtalk.MAX_BYTES)])
def test_markdown_batches_fit_the_byte_limit_with_every_approve_link_whole(kind: str, limit: int) -> None:
    alerts = _many(60)
    requests_ = render("ops", channel(kind), alerts, language="zh", tz=TZ, now=AT, links=offers_for(alerts))
    approved = set()
    for request in requests_:
        (text,) = _texts(kind, request.body)
        assert len(text.encode("utf-8")) <= limit
        for url in URL.findall(text):
            link = check(url)  # a URL cut by a split would not verify
            if link.operation == "approve":
                approved.add(link.targets[0])
    assert approved == {f"act_{0:024x}"} and len(requests_) > 1
    ids = {nid for r in requests_ for nid in r.notification_ids}
    assert ids == {n.id for n in alerts}


def test_a_big_batch_keeps_fewer_links_a_single_alert_keeps_them_all() -> None:
    alerts = _many(60)
    offers = offers_for(alerts)
    plain = render("ops", channel("wecom"), alerts, language="zh", tz=TZ, now=AT)
    big = render("ops", channel("wecom"), alerts, language="zh", tz=TZ, now=AT, links=offers)
    keys = [check(url).operation for r in big for url in URL.findall(r.body.decode())]
    assert keys == ["approve"] * len(alerts)  # the one that stops the bleeding survives
    assert len(plain) < len(big) <= 2 * len(plain)
    (one,) = render("ops", channel("wecom"), alerts[:1], language="zh", tz=TZ, now=AT, links=offers)
    assert len(URL.findall(one.body.decode())) == 5


def test_a_middle_batch_keeps_the_one_day_silence() -> None:
    alerts = _many(4)
    offers = offers_for(alerts)
    requests_ = render("ops", channel("wecom"), alerts, language="zh", tz=TZ, now=AT, links=offers)
    links = [check(url) for r in requests_ for url in URL.findall(r.body.decode())]
    assert [link.operation for link in links] == ["approve", "silence"] * len(alerts)
    assert {silence_order(link).seconds for link in links if link.operation == "silence"} == {86400}


def test_feishu_and_slack_stay_under_their_limits_with_links() -> None:
    alerts = _many(60)
    offers = offers_for(alerts)
    for request in render("ops", channel("feishu"), alerts, language="zh", tz=TZ, now=AT, links=offers):
        assert len(request.body) <= feishu.MAX_BODY_BYTES
    for request in render("ops", channel("slack"), alerts, language="zh", tz=TZ, now=AT, links=offers):
        doc = json.loads(request.body)
        assert len(doc["blocks"]) <= slack.MAX_BLOCKS
        for block in doc["blocks"]:
            if block["type"] == "actions":
                assert all(len(e["url"]) <= 3000 and len(e["text"]["text"]) <= 75 for e in block["elements"])


def test_a_damaged_embedding_gives_no_buttons_rather_than_broken_ones() -> None:
    assert extract('facts\x1e[["Silence","https://x/l/abc","default"]') == ("facts", ())
    assert extract("plain text") == ("plain text", ())
