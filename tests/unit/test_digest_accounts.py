"""The digest with member accounts: a line per member, rows and lines joined across shards, its words and splits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lib.config.models import Channel
from lib.messages.digest import (
    MAX_ACCOUNTS,
    account_lines,
    digest_message,
    digest_payload,
    digest_rows,
    merge_accounts,
    merge_rows,
)
from lib.model import Evaluation, Notification, Period, group_key
from lib.notify import render
from lib.notify.batch import utf8_len

SH = ZoneInfo("Asia/Shanghai")
SLOT = datetime(2026, 11, 22, 9, 30, tzinfo=SH)
PERIOD = Period(datetime(2026, 11, 1, tzinfo=SH), datetime(2026, 12, 1, tzinfo=SH))


def uin(k: int) -> str:
    return str(200_000_000_000 + k)


def ev(budget: str, k: int, value: int, limit: int, status: str, **group: str) -> Evaluation:
    return Evaluation(
        budget=budget,
        group=group_key({"account": uin(k), **group}),
        period=PERIOD,
        value=Decimal(value),
        unit="B",
        limit=Decimal(limit),
        percent=value / limit * 100,
        forecast=None,
        level=None,
        status=status,  # type: ignore[arg-type]
    )


def member_evaluations(k: int) -> list[Evaluation]:
    """Member k: traffic at 50k % (firing from k = 2), spend at 25k % (firing from k = 4)."""
    return [
        ev("traffic", k, 50 * k, 100, "firing" if k >= 2 else "ok"),
        ev("spend", k, 25 * k, 100, "firing" if k >= 4 else "ok"),
    ]


NAMES = {uin(k): f"member-{k:03d}" for k in range(1, 7)}


def test_a_line_per_member_counts_its_firing_and_names_its_worst_budget() -> None:
    evaluations = [e for k in range(1, 6) for e in member_evaluations(k)]
    lines = account_lines(evaluations, NAMES, "2026-11-22T09:25:00+08:00")
    assert set(lines) == set(NAMES)  # member 6 listed but not evaluated: a line without numbers
    five = lines[uin(5)]
    assert (five["name"], five["evaluations"], five["firing"], five["budget"]) == ("member-005", 2, 2, "traffic")
    assert five["percent"] == 250.0 and five["as_of"] == "2026-11-22T09:25:00+08:00"
    one = lines[uin(1)]
    assert (one["firing"], one["budget"], one["percent"]) == (0, "traffic", 50.0)  # ok: the highest percent
    assert lines[uin(6)]["evaluations"] == 0 and lines[uin(6)]["as_of"] is None
    assert json.loads(json.dumps(lines)) == lines  # lines travel in shard outcomes and the outbox


def test_rows_and_lines_of_shards_join_into_the_organizations() -> None:
    first = [e for k in (1, 2, 3) for e in member_evaluations(k)]
    second = [e for k in (4, 5) for e in member_evaluations(k)]
    whole = digest_rows(first + second, ["traffic", "spend"], (), NAMES)
    joined = merge_rows([digest_rows(first, (), (), NAMES), digest_rows(second, (), (), NAMES)], ["traffic", "spend"])
    assert joined == whole
    traffic = joined[0]
    assert (traffic["budget"], traffic["groups"], traffic["firing"], traffic["group"]) == (
        "traffic",
        5,
        4,
        "member-005",
    )

    old = account_lines(first, NAMES, "2026-11-22T09:20:00+08:00")
    new = account_lines([e for e in first if dict(e.group)["account"] == uin(2)], NAMES, "2026-11-22T01:25:00+00:00")
    merged = merge_accounts([old, new])
    assert merged[uin(2)]["as_of"] == "2026-11-22T01:25:00+00:00"  # 09:25 Shanghai: newer, in another offset
    assert merged[uin(1)]["as_of"] == "2026-11-22T09:20:00+08:00"  # the newer record has no numbers for it
    assert merged[uin(6)]["as_of"] is None


def notification(lines: dict[str, dict[str, Any]], rows: list[dict[str, Any]]) -> Notification:
    return Notification(
        id="digest-day-2026-11-22",
        budget="*",
        group=(),
        kind="digest",
        status="firing",
        period=Period(SLOT, SLOT + timedelta(days=1)),
        at=SLOT + timedelta(minutes=1),
        value=None,
        unit="",
        channels=("ops",),
        detail={"digest": {"every": "day", "rows": rows, "actions": [], "accounts": lines}},
    )


def test_member_lines_in_zh_and_en_the_firing_first_with_when_they_were_read() -> None:
    evaluations = [e for k in range(1, 6) for e in member_evaluations(k)]
    n = notification(account_lines(evaluations, NAMES, "2026-11-22T09:25:00+08:00"), digest_rows(evaluations))
    en = {f.label: f.value for f in digest_message(n, "en", SH).facts}
    zh = {f.label: f.value for f in digest_message(n, "zh", SH).facts}
    assert en["Member accounts"] == "6, 4 with alerts firing"
    assert en["🔴 member-005"] == f"{uin(5)} · 2 of 2 firing · worst traffic 250% · as of 11-22 09:25"
    assert en["👤 member-001"] == f"{uin(1)} · 0 of 2 firing · worst traffic 50% · as of 11-22 09:25"
    assert en["👤 member-006"] == f"{uin(6)} · no numbers yet"
    assert zh["成员账号"] == "6 个，4 个有告警"
    assert zh["🔴 member-004"] == f"{uin(4)} · 2 项中 2 项告警 · 最高 traffic 200% · 数据 11-22 09:25"
    labels = [f.label for f in digest_message(n, "en", SH).facts]
    members = [label for label in labels if "member-" in label]
    assert members[:4] == ["🔴 member-005", "🔴 member-004", "🔴 member-003", "🔴 member-002"]


def test_two_hundred_members_are_split_under_wecoms_limit_and_the_rest_counted() -> None:
    names = {uin(k): f"member-with-a-long-name-{k:03d}" for k in range(1, 201)}
    evaluations = [e for k in range(1, 201) for e in member_evaluations(k)]
    n = notification(account_lines(evaluations, names, "2026-11-22T09:25:00+08:00"), digest_rows(evaluations))
    channel = Channel(type="wecom", url="https://example.com/w")
    requests = render("wecom", channel, [n], language="zh", tz=SH, now=SLOT)
    assert len(requests) > 1
    for request in requests:
        assert utf8_len(request.json()["markdown"]["content"]) <= 4096
    joined = "".join(r.json()["markdown"]["content"] for r in requests)
    shown = [k for k in range(1, 201) if f"member-with-a-long-name-{k:03d}" in joined]
    assert len(shown) == MAX_ACCOUNTS and shown == list(range(201 - MAX_ACCOUNTS, 201))  # the fullest first
    rest = range(1, 201 - MAX_ACCOUNTS)
    hot = sum(1 for k in rest if k >= 2)  # traffic fires from member 2 on
    assert f"另有 {len(rest)} 个成员（{hot} 个有告警）" in joined


def test_the_webhook_document_carries_every_member_line() -> None:
    evaluations = [e for k in range(1, 4) for e in member_evaluations(k)]
    lines = account_lines(evaluations, NAMES, "2026-11-22T09:25:00+08:00")
    doc = digest_payload(notification(lines, digest_rows(evaluations)), "text")
    assert sorted(a["uin"] for a in doc["accounts"]) == sorted(NAMES)
    without = digest_payload(notification({}, digest_rows(evaluations)), "text")
    assert "accounts" not in without
