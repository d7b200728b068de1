"""The dashboard with member accounts: a summary per member (the /status numbers), names, and ?account=."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lib.api.views import account_views
from lib.config.accounts import Accounts, Member
from lib.messages.units import format_quantity
from lib.model import Point
from lib.web import page
from lib.web.board import Board, build
from tests.api_fixtures import CONFIG, NOW, evaluation

A, B, C = "200000000001", "200000000002", "200000000003"
ACCOUNTS = Accounts(members=(Member(name="shop", uin=A), Member(name="blog", uin=B)))
MEMBER_BUDGETS = tuple(b.model_copy(update={"accounts": ("*",)}) for b in CONFIG.budgets)
OWN = CONFIG.budgets[0].model_copy(update={"name": "own-traffic"})
ORG = CONFIG.model_copy(update={"accounts": ACCOUNTS, "budgets": (*MEMBER_BUDGETS, OWN), "language": "en"})


def evaluations() -> list[dict[str, Any]]:
    return [
        evaluation("edgeone-traffic", {"account": A, "zone-id": "zone-a"}, 8.1e12, 1e13, "firing").to_dict(),
        evaluation("edgeone-traffic", {"account": A, "zone-id": "zone-b"}, 1.5e12, 1e13, "ok").to_dict(),
        evaluation("monthly-spend", {"account": A}, 1200.5, 5000, "ok").to_dict(),
        evaluation("edgeone-traffic", {"account": B, "zone-id": "zone-c"}, 2e12, 1e13, "ok").to_dict(),
        evaluation("monthly-spend", {"account": B}, 6000, 5000, "firing").to_dict(),
        evaluation("own-traffic", {"zone-id": "zone-x"}, 3e12, 1e13, "ok").to_dict(),
    ]


def run(*found: dict[str, Any], at: str = NOW.isoformat()) -> dict[str, Any]:
    return {"run_id": "r1", "at": at, "trigger": "timer", "evaluations": list(found)}


def board(config: Any = ORG, **overrides: Any) -> Board:
    args: dict[str, Any] = {
        "runs": [run(*evaluations())],
        "series": {},
        "silences": [],
        "actions": [],
        "failed": [],
        "problems": [],
        "now": NOW,
    }
    args.update(overrides)
    return build(config, **args)


def test_each_member_has_its_name_counts_and_totals_as_status_gives_them() -> None:
    shards = [{"index": 0, "summary": {C: {"evaluations": 1, "firing": 0, "errors": 1, "totals": {}, "name": "api"}}}]
    items = {a.uin: a for a in board(shards=shards, names={C: "api"}).accounts}
    assert [(a.uin, a.name) for a in items.values()] == [(A, "shop"), (B, "blog"), (C, "api")]
    # Worked out by hand from the evaluations above, not by the code under test.
    shop = items[A]
    assert (shop.firing, shop.ok, shop.errors, shop.status) == (1, 2, 0, "firing")
    traffic = format_quantity(Decimal("8.1e12") + Decimal("1.5e12"), "B", "en")
    assert dict(shop.totals) == {
        "edgeone-traffic": traffic,
        "monthly-spend": format_quantity(Decimal("1200.5"), "CNY", "en"),
    }
    assert dict(items[B].totals)["monthly-spend"] == format_quantity(Decimal(6000), "CNY", "en")
    assert (items[C].errors, items[C].status) == (1, "error")
    # The same numbers as GET /status's accounts.
    views = {v["uin"]: v for v in account_views(evaluations(), shards)}
    assert {u: (a.firing, a.errors) for u, a in items.items()} == {
        u: (v["firing"], v["errors"]) for u, v in views.items()
    }


def test_groups_show_the_members_name_not_its_uin() -> None:
    b = board(names={A: "shop", B: "blog"})
    traffic = next(c for c in b.cards if c.name == "edgeone-traffic")
    assert [r.group for r in traffic.rows] == [
        "shop / zone-a",
        "blog / zone-c",
        "shop / zone-b",
    ]  # firing first, then by name
    assert [i.title for i in b.firing] == ["edgeone-traffic · shop / zone-a", "monthly-spend · blog"]
    assert A not in page.dashboard(b, base="", csrf=None).split('id="accounts"')[0]  # only the summary has uins


def test_the_filter_shows_one_members_rows_alerts_and_series_only() -> None:
    series = {
        "edgeone-traffic": {
            f"account={A},zone-id=zone-a": [Point(NOW, Decimal(1))],
            f"account={B},zone-id=zone-c": [Point(NOW, Decimal(2))],
        }
    }
    older = run(*[e for e in evaluations() if e["group"].get("account") == B])
    newest = run(*[e for e in evaluations() if e["group"].get("account") != B])  # a shard without member B
    b = board(runs=[newest, older], series=series, names={B: "blog"}, account=B)
    assert b.account == (B, "blog")
    assert [c.name for c in b.cards] == ["edgeone-traffic", "monthly-spend"]  # not the own account's budget
    rows = [(c.name, r.group, r.status) for c in b.cards for r in c.rows]
    assert rows == [("edgeone-traffic", "blog / zone-c", "ok"), ("monthly-spend", "blog", "firing")]
    assert [i.title for i in b.firing] == ["monthly-spend · blog"]
    unfiltered = board(series=series, names={B: "blog"})
    assert b.cards[0].chart_svg != unfiltered.cards[0].chart_svg  # drawn from member B's series alone


def test_links_between_the_summary_and_a_member_keep_the_view_link_and_the_base_path() -> None:
    html = page.dashboard(board(), base="/release", csrf=None, view_until="later", view="tok&en")
    assert f'href="/release/?v=tok%26en&amp;account={A}"' in html
    filtered = page.dashboard(board(account=A), base="/release", csrf=None, view_until="later", view="tok&en")
    assert 'id="account-filter"' in filtered and "Showing member shop (200000000001) only." in filtered
    assert 'href="/release/?v=tok%26en">All accounts</a>' in filtered
    signed_in = page.dashboard(board(), base="", csrf="t")
    assert f'href="/?account={A}"' in signed_in


def test_without_accounts_the_page_has_no_member_summary() -> None:
    plain = CONFIG.model_copy(update={"language": "en"})
    own = [e for e in evaluations() if "account" not in e["group"]]
    b = board(plain, runs=[run(*own)])
    assert b.accounts == () and b.account is None
    html = page.dashboard(b, base="", csrf="t")
    assert 'id="accounts"' not in html and "account=" not in html


def test_status_accounts_carry_the_recorded_names_where_the_summaries_have_none() -> None:
    views = {v["uin"]: v for v in account_views(evaluations(), [], {A: "shop", C: "api"})}
    assert views[A]["name"] == "shop"
    assert "name" not in views[B]  # never recorded: no name is made up
    assert C not in views  # a recorded name alone does not make a member appear
