"""The digest: when it is due (pure), its configuration, its rows and words, and its splits under byte limits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lib.app.digest import digest_id, last_slot, slot_period
from lib.config.digest import Digest
from lib.config.loader import parse_config
from lib.config.models import Channel
from lib.errors import ConfigErrors
from lib.messages.digest import MAX_ROWS, digest_message, digest_rows
from lib.model import Evaluation, Notification, Period, group_key
from lib.notify import render
from lib.notify.batch import utf8_len

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
DAILY = Digest(every="day", at="09:30", channels=("ops",))


def at(text: str, tz: Any = SH) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


# --- when it is due -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        ("2026-11-22 09:29:59", "2026-11-21 09:30"),  # before today's time: yesterday's digest is the current one
        ("2026-11-22 09:30:00", "2026-11-22 09:30"),  # at the time
        ("2026-11-22 09:31:00", "2026-11-22 09:30"),  # the first run after it
        ("2026-11-22 23:59:00", "2026-11-22 09:30"),
        ("2026-11-23 00:00:00", "2026-11-22 09:30"),
    ],
)
def test_a_daily_digest_is_due_from_its_local_time(now: str, slot: str) -> None:
    assert last_slot(at(now), SH, DAILY) == at(slot)


def test_the_slot_follows_the_configured_zone_not_utc() -> None:
    # 01:31 UTC is 09:31 in Shanghai: due; in New York it is 20:31 the day before.
    now = datetime(2026, 11, 22, 1, 31, tzinfo=timezone.utc)
    assert last_slot(now, SH, DAILY) == at("2026-11-22 09:30")
    assert last_slot(now, NY, DAILY) == at("2026-11-21 09:30", NY)


def test_a_daily_slot_keeps_its_local_time_across_a_dst_change() -> None:
    # New York leaves DST on 1 November 2026: the 09:30 slot moves from 13:30 UTC to 14:30 UTC.
    before = last_slot(at("2026-10-31 12:00", NY), NY, DAILY)
    after = last_slot(at("2026-11-01 12:00", NY), NY, DAILY)
    assert before.astimezone(timezone.utc).hour == 13
    assert after.astimezone(timezone.utc).hour == 14
    assert slot_period(before, NY, DAILY).end == after


@pytest.mark.parametrize(
    ("weekday", "now", "slot"),
    [
        (None, "2026-11-23 09:31", "2026-11-23 09:30"),  # 23 November 2026 is a Monday: the default day
        (None, "2026-11-23 09:29", "2026-11-16 09:30"),  # before it: last week's
        (None, "2026-11-29 20:00", "2026-11-23 09:30"),  # Sunday: still this week's Monday digest
        ("wed", "2026-11-23 10:00", "2026-11-18 09:30"),
        ("wed", "2026-11-25 09:30", "2026-11-25 09:30"),
    ],
)
def test_a_weekly_digest_is_due_on_its_weekday(weekday: Any, now: str, slot: str) -> None:
    weekly = Digest(every="week", at="09:30", weekday=weekday, channels=("ops",))
    found = last_slot(at(now), SH, weekly)
    assert found == at(slot)
    assert slot_period(found, SH, weekly).end - found == timedelta(days=7)


def test_the_id_names_the_schedule_and_the_local_day() -> None:
    slot = last_slot(datetime(2026, 11, 22, 1, 31, tzinfo=timezone.utc), SH, DAILY)
    assert digest_id(slot, SH, DAILY) == "digest-day-2026-11-22"
    weekly = Digest(every="week", channels=("ops",))
    assert digest_id(last_slot(at("2026-11-25 12:00"), SH, weekly), SH, weekly) == "digest-week-2026-11-23"


# --- configuration ----------------------------------------------------------------------------------

BASE = """
channels:
  ops: {type: wecom, url: "https://example.com/hook"}
budgets:
  - {name: a, source: teo, metric: acc_flux, limit: 1TB, channels: [ops]}
"""


def problems(digest: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        parse_config(BASE + digest, environ={})
    return [str(e) for e in caught.value.errors]


def test_a_digest_section_is_read() -> None:
    config = parse_config(BASE + 'digest: {every: week, at: "18:05", weekday: fri, channels: [ops]}', environ={})
    assert config.digest == Digest(every="week", at="18:05", weekday="fri", channels=("ops",))
    assert config.digest.minutes == 18 * 60 + 5 and config.digest.weekday_index == 4


@pytest.mark.parametrize(
    ("digest", "expected"),
    [
        ("digest: {at: 9:30, channels: [ops]}", "YAML read an unquoted time as the number 570: write it in quotes"),
        ('digest: {at: "24:00", channels: [ops]}', 'write a local time as "HH:MM" (00:00 to 23:59)'),
        ('digest: {at: "9h30", channels: [ops]}', "'9h30'"),
        ("digest: {channels: [ops, pager]}", "unknown channel 'pager'; channels: ops"),
        ("digest: {channels: []}", "no channels: list at least one for the digest (ops)"),
        ("digest: {weekday: mon, channels: [ops]}", "weekday applies to every: week only"),
        ("digest: {every: month, channels: [ops]}", "must be one of 'day' or 'week'"),
        ("digest: {every: day, chanels: [ops]}", "unknown key 'chanels'"),
    ],
)
def test_a_bad_digest_is_refused_in_the_users_words(digest: str, expected: str) -> None:
    found = problems(digest)
    assert any(expected in p and "digest" in p for p in found), found


def test_the_json_schema_describes_the_digest() -> None:
    from lib.config.commands import json_schema

    schema = json_schema()
    digest = schema["$defs"]["Digest"]["properties"]
    assert digest["every"]["enum"] == ["day", "week"] and "HH:MM" in digest["at"]["description"]


# --- rows and words ------------------------------------------------------------------------------

AT_0931 = at("2026-11-22 09:31")
MONTH = Period(at("2026-11-01 00:00"), at("2026-12-01 00:00"))


def evaluation(budget: str, zone: str, value: str, percent: float | None, status: Any, **kw: Any) -> Evaluation:
    return Evaluation(
        budget=budget,
        group=group_key({"zone-id": zone}) if zone else (),
        period=MONTH,
        value=Decimal(value),
        unit=kw.pop("unit", "B"),
        limit=Decimal(kw.pop("limit", "1e13")),
        percent=percent,
        forecast=kw.pop("forecast", None),
        level=None,
        status=status,
        **kw,
    )


EVALUATIONS = [
    evaluation("quiet", "", "1e12", 10.0, "ok"),
    evaluation("traffic", "zone-a", "2e12", 20.0, "ok"),
    evaluation("traffic", "zone-b", "9e12", 90.0, "firing", forecast=Decimal("1.2e13")),
    evaluation("traffic", "zone-c", "1e12", 10.0, "ok"),
    evaluation("balance", "", "759.34", None, "firing", unit="CNY", limit="1000"),
    evaluation("broken", "", "0", None, "error"),
]


def test_rows_take_each_budgets_most_urgent_group_and_put_firing_budgets_first() -> None:
    rows = digest_rows(EVALUATIONS, ["quiet", "traffic", "balance", "broken"], {"balance"})
    assert [r["budget"] for r in rows] == ["traffic", "balance", "broken", "quiet"]
    traffic = rows[0]
    assert (traffic["group"], traffic["groups"], traffic["firing"]) == ("zone-b", 3, 1)
    assert (traffic["value"], traffic["limit"], traffic["forecast"]) == ("9E+12", "1E+13", "1.2E+13")
    assert rows[1]["floor"] is True and rows[0]["floor"] is False
    assert json.loads(json.dumps(rows)) == rows  # rows travel in the outbox as JSON


def digest_notification(rows: list[dict[str, Any]], every: str = "day") -> Notification:
    slot = at("2026-11-22 09:30")
    return Notification(
        id="digest-day-2026-11-22",
        budget="*",
        group=(),
        kind="digest",
        status="firing",
        period=Period(slot, slot + timedelta(days=1)),
        at=at("2026-11-22 09:31"),
        value=None,
        unit="",
        channels=("ops",),
        detail={"digest": {"every": every, "rows": rows, "actions": []}},
    )


def test_the_digest_message_in_zh_and_en() -> None:
    rows = digest_rows(EVALUATIONS, (), {"balance"})
    zh = digest_message(digest_notification(rows), "zh", SH)
    en = digest_message(digest_notification(rows, "week"), "en", SH)
    assert zh.title == "📊 预算日报 · 2026年11月22日"
    assert en.title == "📊 Budget weekly digest · 22 November 2026"
    facts = {f.label: f.value for f in zh.facts}
    assert facts["🔴 traffic"] == "9 TB / 10 TB（90%） · 预测 12 TB · 告警中 · 3 个分组，1 个告警，最高 zone-b"
    assert facts["🔴 balance"] == "¥759.34 · 下限 ¥1,000.00 · 告警中"
    assert facts["⚠️ broken"].endswith("出错")
    en_facts = {f.label: f.value for f in en.facts}
    assert en_facts["🟢 quiet"] == "1 TB / 10 TB (10%) · ok"
    assert [f.strong for f in zh.facts] == [True, True, False, False]
    assert zh.tone == "warning" and zh.footer.startswith("digest-day-2026-11-22 · 数据时间 2026-11-22 09:31")


def test_pending_actions_and_what_is_left_out_are_told() -> None:
    rows = [dict(r, budget=f"b{i:03d}") for i, r in enumerate(digest_rows(EVALUATIONS) * 20)]
    n = digest_notification(rows)
    detail = dict(n.detail["digest"])
    detail["actions"] = [{"id": "act_1", "budget": "traffic", "type": "pause-zone", "targets": ["zone-b"]}]
    message = digest_message(Notification(**{**n.__dict__, "detail": {"digest": detail}}), "en", SH)
    assert len([f for f in message.facts if f.label.endswith(tuple(r["budget"] for r in rows))]) == MAX_ROWS
    assert any(f.value.startswith(f"{len(rows) - MAX_ROWS} more budgets") for f in message.facts)
    assert ("Waiting for approval", "traffic · pause-zone → zone-b · act_1") in [
        (f.label, f.value) for f in message.facts
    ]


LONG_ROWS = [
    dict(r, budget=f"budget-with-a-rather-long-name-for-this-test-{i:03d}")
    for i, r in enumerate(digest_rows(EVALUATIONS) * 15)
]


def test_a_long_digest_is_split_under_wecoms_4096_bytes_and_numbered() -> None:
    channel = Channel(type="wecom", url="https://example.com/w")
    requests = render("wecom", channel, [digest_notification(LONG_ROWS)], language="zh", tz=SH, now=AT_0931)
    assert len(requests) > 1
    for i, request in enumerate(requests, 1):
        text = request.json()["markdown"]["content"]
        assert text.startswith(f"### 📊 预算日报 · 2026年11月22日 ({i}/{len(requests)})")
        assert utf8_len(text) <= 4096
        assert request.notification_ids == ("digest-day-2026-11-22",)
    joined = "".join(r.json()["markdown"]["content"] for r in requests)
    assert all(f"budget-with-a-rather-long-name-for-this-test-{i:03d}" in joined for i in range(MAX_ROWS))
    assert f"另有 {len(LONG_ROWS) - MAX_ROWS} 个预算" in joined


def test_the_same_digest_fits_one_dingtalk_message() -> None:
    channel = Channel(type="dingtalk", url="https://example.com/d")
    (request,) = render("dingtalk", channel, [digest_notification(LONG_ROWS)], language="en", tz=SH, now=AT_0931)
    assert len(request.body) <= 20000 and "Budget daily digest" in request.json()["markdown"]["title"]
