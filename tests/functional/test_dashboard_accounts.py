"""The dashboard's member view through the API handler: names from the state, ?account= checked, links kept."""

from __future__ import annotations

from datetime import timedelta

from lib.links import Link, sign
from lib.state.shards import ShardStore
from tests.unit.test_web_accounts import ORG, A, B, evaluations, run
from tests.web_support import LINK_SECRET, request, sign_in, web_app


def org_app() -> object:
    app = web_app()
    app.config = ORG.model_copy(update={"accounts": ORG.accounts.model_copy(update={"members": ()})})  # type: ignore[union-attr]
    app.repo.runs.record(run(*evaluations()))
    ShardStore(app.repo.codec).save_names({A: "shop-listed", B: "blog-listed"})  # as a run that listed them does
    return app


def test_a_signed_in_page_lists_the_members_by_their_recorded_names_and_filters_one() -> None:
    app = org_app()
    cookie = sign_in(app)  # type: ignore[arg-type]
    status, _, html = request(app, "GET", "/", cookie=cookie)  # type: ignore[arg-type]
    assert status == 200 and 'id="accounts"' in html
    assert f'<a href="/?account={A}">shop-listed</a>' in html and "blog-listed" in html
    status, _, one = request(app, "GET", "/", cookie=cookie, query={"account": B})  # type: ignore[arg-type]
    assert status == 200 and "Showing member blog-listed" in one
    assert "shop-listed / zone-a" not in one and "blog-listed / zone-c" in one


def test_a_view_link_keeps_its_token_in_the_member_links() -> None:
    app = org_app()
    token = sign(LINK_SECRET, Link("view", ("*",), int((app.now() + timedelta(hours=1)).timestamp()), "n-1"))  # type: ignore[attr-defined]
    status, _, html = request(app, "GET", "/", query={"v": token, "account": A})  # type: ignore[arg-type]
    assert status == 200 and "<form" not in html
    assert "Showing member shop-listed" in html and f'href="/?v={token}">All accounts</a>' in html


def test_an_account_that_is_not_a_uin_is_refused_only_after_sign_in() -> None:
    app = org_app()
    status, _, html = request(app, "GET", "/", query={"account": "<b>x"})  # type: ignore[arg-type]
    assert status == 200 and 'name="token"' in html and "uin" not in html  # a stranger sees the sign-in form
    cookie = sign_in(app)  # type: ignore[arg-type]
    status, _, html = request(app, "GET", "/", cookie=cookie, query={"account": "<b>x"})  # type: ignore[arg-type]
    assert status == 400 and "digits only" in html and "<b>x" not in html
