"""The dashboard's board (what is shown, in words) and its HTML (escaped, read-only without a session)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from lib.model import Evaluation, Silence
from lib.state.entries import OutboxEntry
from lib.web import page
from lib.web.board import Board, Item, build
from tests.api_fixtures import CONFIG, NOW, evaluation
from tests.unit.action_support import FakeCloud, machine, pause_intent, repo

EVIL = '<script>alert("x")</script>&'


def _run(*evaluations: object) -> dict[str, object]:
    return {"run_id": "r1", "at": NOW.isoformat(), "trigger": "timer", "evaluations": list(evaluations)}


def _board(**overrides: object) -> Board:
    args: dict[str, object] = {
        "runs": [_run(*(e.to_dict() for e in _evaluations()))],
        "series": {},
        "silences": [],
        "actions": [],
        "failed": [],
        "problems": [],
        "now": NOW,
    }
    args.update(overrides)
    return build(CONFIG, **args)  # type: ignore[arg-type]


def _evaluations() -> list[Evaluation]:
    return [
        evaluation("edgeone-traffic", {"zone-id": "zone-b"}, 1.0e12, 1e13, "ok"),
        evaluation("edgeone-traffic", {"zone-id": "zone-a"}, 8.1e12, 1e13, "firing"),
        evaluation("monthly-spend", {}, 1200.5, 5000, "ok"),
    ]


def test_the_board_puts_each_budget_in_words_worst_group_first() -> None:
    board = _board()
    traffic, spend = board.cards
    assert (traffic.name, traffic.status) == ("edgeone-traffic", "firing")
    assert [(r.group, r.value, r.limit, r.percent, r.status) for r in traffic.rows] == [
        ("zone-a", "8.1 TB", "10 TB", "81%", "firing"),
        ("zone-b", "1 TB", "10 TB", "10%", "ok"),
    ]
    assert spend.rows[0].group == "整个预算" and spend.rows[0].value == "¥1,200.50"
    assert [(i.title, i.detail) for i in board.firing] == [("edgeone-traffic · zone-a", "8.1 TB · 81% · 80 档")]
    assert board.as_of == "截至 11-22 10:00(Asia/Shanghai)"
    assert traffic.chart_svg.startswith("<svg") and "edgeone-traffic" in traffic.chart_svg


def test_a_budget_without_a_run_says_so_and_has_no_data() -> None:
    board = _board(runs=[])
    assert all(c.status == "no-data" and not c.rows for c in board.cards)
    assert "还没有运行评估过这个预算" in page.dashboard(board, base="", csrf="t")


def test_only_pending_actions_get_approve_and_only_changed_ones_undo() -> None:
    store, cloud = repo(), FakeCloud(**{"zone-1": False, "zone-2": True})
    m = machine(store, cloud)
    pending_id, pending = pause_intent(("zone-1",))
    store.actions.open(pending_id, pending, state="pending-approval", by="run:1", at=NOW)
    unchanged_id, unchanged = pause_intent(("zone-2",))  # already paused: done, nothing to undo
    store.actions.open(unchanged_id, unchanged, state="pending-approval", by="run:1", at=NOW)
    m.approve(unchanged_id, by="api:token-1", now=NOW + timedelta(minutes=1))
    records = [r for r in (store.actions.get(i) for i in store.actions.ids()) if r is not None]
    board = _board(actions=records)
    assert [(a.id, a.can_approve, a.can_undo) for a in board.pending] == [(pending_id, True, False)]
    assert [(a.id, a.state, a.can_approve, a.can_undo) for a in board.other_actions] == [
        (unchanged_id, "done", False, False)
    ]
    m.approve(pending_id, by="dashboard:token-1", now=NOW + timedelta(minutes=2))
    records = [r for r in (store.actions.get(i) for i in store.actions.ids()) if r is not None]
    done = {a.id: a for a in _board(actions=records).other_actions}
    assert done[pending_id].can_undo and "dashboard:token-1" in done[pending_id].detail


def test_everything_shown_is_escaped() -> None:
    silence = Silence("sil_1", {"budget": EVIL}, NOW, NOW + timedelta(hours=1), comment=EVIL, created_by="token-1")
    failure = OutboxEntry("d1", "ops", {"budget": "edgeone-traffic", "kind": "threshold"}, 3, NOW, EVIL, "failed")
    board = _board(silences=[silence], failed=[failure], problems=[EVIL])
    board = replace(board, runs=(Item(EVIL, EVIL),))
    html = page.dashboard(board, base='/x"y', csrf='"><b>', notice=(EVIL, False))
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html
    assert 'value="&quot;&gt;&lt;b&gt;"' in html and 'action="/x&quot;y/logout"' in html
    assert "<script" not in page.sign_in("en", base="", error=EVIL)
    assert "<script" not in page.refused("zh", base="", message=EVIL)


def test_without_a_csrf_token_the_page_has_no_forms() -> None:
    store = repo()
    action_id, intent = pause_intent()
    store.actions.open(action_id, intent, state="pending-approval", by="run:1", at=NOW)
    board = _board(actions=[store.actions.get(action_id)])
    read_only = page.dashboard(board, base="", csrf=None, view_until="2026-11-22 11:00")
    assert "<form" not in read_only and action_id in read_only and "2026-11-22 11:00" in read_only
    signed_in = page.dashboard(board, base="", csrf="tok")
    assert signed_in.count("<form") == 2  # approve and sign out


def test_english_configuration_gives_an_english_page() -> None:
    config = CONFIG.model_copy(update={"language": "en"})
    board = build(config, runs=[_run(*(e.to_dict() for e in _evaluations()))], series={}, silences=[], actions=[],
                  failed=[], problems=[], now=NOW)  # fmt: skip
    html = page.dashboard(board, base="", csrf="t")
    assert '<html lang="en">' in html and "Firing alerts" in html and "firing" in html and "预算" not in html


def test_freshness_is_how_far_each_sources_data_reaches() -> None:
    from lib.model import Point

    hourly = [Point(NOW - timedelta(hours=h), Decimal(1)) for h in (4, 3)]  # buckets stamped with their start
    reading = [Point(NOW - timedelta(hours=5), Decimal(1)), Point(NOW - timedelta(hours=4), Decimal(2))]
    series = {"edgeone-traffic": {"zone-id=zone-a": hourly}, "monthly-spend": {"": reading}}
    board = _board(series=series)
    assert [(i.title, i.detail, i.status) for i in board.freshness] == [
        ("billing", "11-22 06:00 · 4 小时", "ok"),  # a reading: its own instant
        ("teo", "11-22 08:00 · 2 小时", "ok"),  # the newest bucket's end (07:00 + 1 h)
    ]
    assert board.cards[0].newest == "11-22 08:00"
    assert [(i.title, i.status) for i in _board().freshness] == [("billing", "no-data"), ("teo", "no-data")]
