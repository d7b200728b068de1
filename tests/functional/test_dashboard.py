"""The dashboard through the API handler: sign-in, sessions, CSRF, view links, the buttons, the charts, base paths."""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import timedelta

import pytest

from lib.links import Link, sign
from lib.web.session import MAX_AGE
from tests.api_fixtures import TOKENS
from tests.unit.action_support import FakeCloud
from tests.web_support import LINK_SECRET, csrf_of, pending_action, request, sign_in, web_app


def _view(app: object, *targets: str, hours: int = 1) -> str:
    now = app.now()  # type: ignore[attr-defined]
    return sign(LINK_SECRET, Link("view", targets or ("*",), int((now + timedelta(hours=hours)).timestamp()), "n-1"))


# --- sign-in ----------------------------------------------------------------------------------------------


def test_without_a_session_the_page_is_the_sign_in_form_and_nothing_else() -> None:
    app = web_app()
    pending_action(app)
    status, headers, html = request(app, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert 'action="/login"' in html and 'name="token"' in html
    assert "edgeone-traffic" not in html and "act_" not in html and "<svg" not in html
    assert (
        "script" not in headers["Content-Security-Policy"]
        and "default-src 'none'" in headers["Content-Security-Policy"]
    )


def test_sign_in_sets_a_strict_session_cookie_and_redirects_to_the_dashboard() -> None:
    app = web_app()
    status, headers, _ = request(app, "POST", "/login", form={"token": TOKENS[1]})
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"} <= set(cookie.split("; "))
    status, _, html = request(app, "GET", "/", cookie=cookie.split(";")[0])
    assert status == 200
    assert "edgeone-traffic" in html and "zone-a" in html and "<svg" in html and 'action="/logout"' in html


@pytest.mark.parametrize("token", ["", "not-a-token-at-all-12345", TOKENS[0] + "x"])
def test_a_wrong_token_gets_the_form_again_and_no_cookie(token: str) -> None:
    status, headers, html = request(web_app(), "POST", "/login", form={"token": token})
    assert status == 401 and "Set-Cookie" not in headers
    assert 'name="token"' in html and "not valid" in html


def test_sign_in_from_another_site_is_refused() -> None:
    status, headers, _ = request(web_app(), "POST", "/login", form={"token": TOKENS[0]}, origin="https://evil.example")
    assert status == 403 and "Set-Cookie" not in headers


# --- sessions ---------------------------------------------------------------------------------------------


def test_an_expired_session_shows_the_sign_in_form_and_clears_the_cookie() -> None:
    app = web_app()
    cookie = sign_in(app)
    later = app.now() + timedelta(seconds=MAX_AGE)
    app.clock = lambda: later
    status, headers, html = request(app, "GET", "/", cookie=cookie)
    assert status == 401 and "expired" in html and 'name="token"' in html
    assert "Max-Age=0" in headers["Set-Cookie"]
    assert "edgeone-traffic" not in html


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: c[:-4] + "AAAA",
        lambda c: c.replace("v1.0.", "v1.1."),
        lambda c: "budget_session=v1.0.9999999999.AAAAAAAAAAAAAAAAAAAAAAAA.AAAA",
    ],
)
def test_a_forged_or_tampered_cookie_is_not_a_session(forge: object) -> None:
    app = web_app()
    assert callable(forge)
    status, _, html = request(app, "GET", "/", cookie=forge(sign_in(app)))
    assert status == 401 and 'name="token"' in html and "edgeone-traffic" not in html


def test_a_signed_out_session_cannot_be_replayed() -> None:
    app = web_app()
    cookie = sign_in(app)
    _, _, html = request(app, "GET", "/", cookie=cookie)
    status, headers, _ = request(app, "POST", "/logout", cookie=cookie, form={"csrf": csrf_of(html)})
    assert status == 303 and "Max-Age=0" in headers["Set-Cookie"]
    status, _, html = request(app, "GET", "/", cookie=cookie)  # the copied cookie, after sign-out
    assert status == 401 and "signed out" in html


# --- the buttons and CSRF -------------------------------------------------------------------------------


def test_approve_from_the_dashboard_acts_at_once_and_says_so() -> None:
    app = web_app()
    action_id = pending_action(app)
    cookie = sign_in(app, TOKENS[1])
    status, _, html = request(app, "GET", "/", cookie=cookie)
    assert f'action="/dashboard/actions/{action_id}/approve"' in html
    status, headers, _ = request(
        app, "POST", f"/dashboard/actions/{action_id}/approve", cookie=cookie, form={"csrf": csrf_of(html)}
    )
    assert status == 303 and headers["Location"] == f"/?did=approve&action={action_id}"
    record = app.repo.actions.get(action_id)
    assert record is not None and record.state == "done"
    assert [t.by for t in record.trail[1:]] == ["dashboard:token-2", "dashboard:token-2"]
    cloud = app.client
    assert isinstance(cloud, FakeCloud) and cloud.paused["zone-1"] is True
    status, _, html = request(app, "GET", "/", cookie=cookie, query={"did": "approve", "action": action_id})
    assert f"{action_id}" in html and "已完成" in html  # the notice and the state, in the configured zh
    assert f"/dashboard/actions/{action_id}/approve" not in html and f"/dashboard/actions/{action_id}/undo" in html


def test_a_replayed_approve_does_not_act_twice() -> None:
    app = web_app()
    action_id = pending_action(app)
    cookie = sign_in(app)
    form = {"csrf": csrf_of(request(app, "GET", "/", cookie=cookie)[2])}
    request(app, "POST", f"/dashboard/actions/{action_id}/approve", cookie=cookie, form=form)
    status, headers, _ = request(app, "POST", f"/dashboard/actions/{action_id}/approve", cookie=cookie, form=form)
    assert status == 303 and "did=refused" in headers["Location"]
    cloud = app.client
    assert isinstance(cloud, FakeCloud)
    assert [c[0] for c in cloud.mutations()] == ["ModifyZoneStatus"]


@pytest.mark.parametrize("which", ["missing", "wrong", "another session's"])
def test_a_button_without_this_sessions_csrf_token_is_refused(which: str) -> None:
    app = web_app()
    action_id = pending_action(app)
    cookie = sign_in(app)
    other = sign_in(app)
    assert other != cookie
    token = {
        "missing": None,
        "wrong": "0" * 64,
        "another session's": csrf_of(request(app, "GET", "/", cookie=other)[2]),
    }[which]
    form = {} if token is None else {"csrf": token}
    status, _, html = request(app, "POST", f"/dashboard/actions/{action_id}/approve", cookie=cookie, form=form)
    assert status == 403 and "CSRF" in html
    record = app.repo.actions.get(action_id)
    assert record is not None and record.state == "pending-approval"


def test_a_button_pressed_from_another_site_is_refused_even_with_the_token() -> None:
    app = web_app()
    action_id = pending_action(app)
    cookie = sign_in(app)
    form = {"csrf": csrf_of(request(app, "GET", "/", cookie=cookie)[2])}
    path = f"/dashboard/actions/{action_id}/approve"
    status, _, _ = request(app, "POST", path, cookie=cookie, form=form, origin="https://evil.example")
    assert status == 403
    assert app.repo.actions.get(action_id).state == "pending-approval"  # type: ignore[union-attr]


def test_a_button_without_a_session_is_refused() -> None:
    app = web_app()
    action_id = pending_action(app)
    status, _, _ = request(app, "POST", f"/dashboard/actions/{action_id}/approve", form={"csrf": "x"})
    assert status == 401
    status, _, _ = request(app, "POST", f"/dashboard/actions/{action_id}/approve", form={"csrf": "x"}, bearer=TOKENS[0])
    assert status == 401  # a bearer token is for the API's own routes, not the page's forms
    assert app.repo.actions.get(action_id).state == "pending-approval"  # type: ignore[union-attr]


def test_an_unknown_action_is_404() -> None:
    app = web_app()
    cookie = sign_in(app)
    form = {"csrf": csrf_of(request(app, "GET", "/", cookie=cookie)[2])}
    status, _, _ = request(app, "POST", "/dashboard/actions/act_nope/approve", cookie=cookie, form=form)
    assert status == 404


# --- view links -----------------------------------------------------------------------------------------


def test_a_view_link_shows_a_read_only_dashboard() -> None:
    app = web_app()
    action_id = pending_action(app)
    status, headers, html = request(app, "GET", "/", query={"v": _view(app)})
    assert status == 200 and "Set-Cookie" not in headers
    assert "edgeone-traffic" in html and action_id in html and "<svg" in html
    assert "<form" not in html and 'name="csrf"' not in html
    assert '<a href="/">登录</a>' in html  # the way to a session that can act


@pytest.mark.parametrize("kind", ["expired", "forged", "another operation"])
def test_a_bad_view_link_shows_nothing(kind: str) -> None:
    app = web_app()
    now = int(app.now().timestamp())
    token = {
        "expired": sign(LINK_SECRET, Link("view", ("*",), now - 1, "n")),
        "forged": sign("another-secret", Link("view", ("*",), now + 3600, "n")),
        "another operation": sign(LINK_SECRET, Link("approve", ("*",), now + 3600, "n")),
    }[kind]
    status, _, html = request(app, "GET", "/", query={"v": token})
    assert status == 403 and "edgeone-traffic" not in html


def test_a_view_link_cannot_act_even_with_a_session() -> None:
    app = web_app()
    action_id = pending_action(app)
    cookie = sign_in(app)
    form = {"csrf": csrf_of(request(app, "GET", "/", cookie=cookie)[2])}
    path = f"/dashboard/actions/{action_id}/approve"
    status, _, html = request(app, "POST", path, query={"v": _view(app)}, form=form)
    assert status == 403 and "read-only" in html
    status, _, _ = request(app, "POST", path, query={"v": _view(app)}, cookie=cookie, form=form)
    assert status == 403
    assert app.repo.actions.get(action_id).state == "pending-approval"  # type: ignore[union-attr]


# --- charts ---------------------------------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        kinds.append(kind)
        pos += 12 + length
    return kinds


def test_chart_png_through_the_function_url_is_a_valid_png_within_wecoms_limit() -> None:
    from tests.api_fixtures import event
    from tests.unit.test_api_function_url import url_event

    app = web_app()
    import lib.api
    from handlers.api import main_handler

    lib.api.set_app(app)
    try:
        shaped = main_handler(url_event("GET", "/charts/edgeone-traffic.png"), {})
        svg = main_handler(event("GET", "/charts/edgeone-traffic.svg"), {})
    finally:
        lib.api.set_app(None)
    assert shaped["statusCode"] == 200 and shaped["isBase64Encoded"] is True
    assert shaped["headers"]["Content-Type"] == "image/png"
    data = base64.b64decode(shaped["body"], validate=True)
    assert _png_chunks(data)[0] == b"IHDR" and _png_chunks(data)[-1] == b"IEND"
    assert len(data) <= 2 * 1024 * 1024
    assert svg["isBase64Encoded"] is False and svg["body"].startswith("<svg") and "edgeone-traffic" in svg["body"]


def test_a_chart_png_of_a_group_named_in_chinese_is_drawn_with_boxes_for_what_its_font_lacks() -> None:
    """A project or tag value is often Chinese (默认项目); the PNG's font has no Chinese, so those characters
    are drawn as hollow boxes rather than the chart refused (it was a 500 before)."""
    app = web_app()
    loaded = app.repo.series.load_budget("edgeone-traffic")
    points = next(points for points in loaded.values() if points)
    app.repo.series.save("edgeone-traffic", "zone-id=默认项目", [p._replace(value=p.value * 3) for p in points])
    app.repo.series.flush()
    status, headers, body = request(app, "GET", "/charts/edgeone-traffic.png", bearer=TOKENS[0])
    assert status == 200 and headers["Content-Type"] == "image/png", body
    status, _, svg = request(app, "GET", "/charts/edgeone-traffic.svg", bearer=TOKENS[0])
    assert status == 200 and "默认项目" in svg  # the page's SVG shows the name itself


def test_chart_routes_need_a_bearer_a_session_or_a_view_link_for_that_budget() -> None:
    app = web_app()
    path = "/charts/edgeone-traffic.svg"
    assert request(app, "GET", path)[0] == 401
    assert request(app, "GET", "/charts/nope.svg")[0] == 401  # 401 before 404: names are not probed
    assert request(app, "GET", path, bearer="wrong-token-0123456789")[0] == 401
    assert request(app, "GET", path, bearer=TOKENS[0])[0] == 200
    assert request(app, "GET", path, cookie=sign_in(app))[0] == 200
    assert request(app, "GET", path, query={"t": _view(app, "edgeone-traffic")})[0] == 200
    assert request(app, "GET", path, query={"t": _view(app, "monthly-spend")})[0] == 401
    assert request(app, "GET", path, query={"t": _view(app, hours=-1)})[0] == 401
    status, _, body = request(app, "GET", "/charts/nope.png", bearer=TOKENS[0])
    assert status == 404 and "nope" in body["error"]["message"]


# --- base paths -----------------------------------------------------------------------------------------


def test_behind_a_gateway_stage_every_link_and_form_keeps_the_stage() -> None:
    app = web_app()
    action_id = pending_action(app)
    status, _, html = request(app, "GET", "/", stage_path="/release/")
    assert status == 200 and 'action="/release/login"' in html
    status, headers, _ = request(app, "POST", "/login", form={"token": TOKENS[0]}, stage_path="/release/login")
    assert headers["Location"] == "/release/" and "Path=/release;" in headers["Set-Cookie"]
    cookie = headers["Set-Cookie"].split(";")[0]
    _, _, html = request(app, "GET", "/", cookie=cookie, stage_path="/release")
    assert f'action="/release/dashboard/actions/{action_id}/approve"' in html and 'action="/release/logout"' in html
    path = f"/release/dashboard/actions/{action_id}/approve"
    status, headers, _ = request(app, "POST", path, cookie=cookie, form={"csrf": csrf_of(html)}, stage_path=path)
    assert status == 303 and headers["Location"].startswith("/release/?did=approve")


def test_behind_a_custom_domain_the_public_urls_path_is_the_base() -> None:
    app = web_app(public_url="https://ops.example.com/budget")
    status, _, html = request(app, "GET", "/")
    assert 'action="/budget/login"' in html
    status, headers, _ = request(app, "POST", "/login", form={"token": TOKENS[0]}, origin="https://ops.example.com")
    assert status == 303 and headers["Location"] == "/budget/" and "Path=/budget;" in headers["Set-Cookie"]


def test_on_a_function_url_links_start_at_the_root() -> None:
    import lib.api
    from handlers.api import main_handler
    from tests.unit.test_api_function_url import url_event

    app = web_app()
    lib.api.set_app(app)
    try:
        shaped = main_handler(url_event("GET", "/", token=None), {})
    finally:
        lib.api.set_app(None)
    assert shaped["statusCode"] == 200 and 'action="/login"' in shaped["body"]


def test_a_phone_asks_for_the_narrow_layout() -> None:
    app = web_app()
    wide = request(app, "GET", "/charts/edgeone-traffic.svg", bearer=TOKENS[0])[2]
    narrow = request(app, "GET", "/charts/edgeone-traffic.svg", bearer=TOKENS[0], query={"width": "phone"})[2]
    assert 'viewBox="0 0 640 ' in wide and 'viewBox="0 0 400 ' in narrow


def test_a_too_short_configured_token_refuses_sign_in_as_the_api_does() -> None:
    from tests.api_fixtures import make_app

    app = make_app(tokens=("short",))
    status, _, body = request(app, "POST", "/login", form={"token": "short"})
    assert status == 503 and "shorter than 16" in body["error"]["message"]


def test_the_addresses_messages_carry_open_the_page_and_the_chart() -> None:
    from urllib.parse import parse_qs, urlsplit

    from lib.web.urls import chart_url, dashboard_url

    app = web_app(public_url="https://ops.example.com/budget")
    token = _view(app, "edgeone-traffic")
    page_url = urlsplit(dashboard_url("https://ops.example.com/budget/", token))
    assert (page_url.netloc, page_url.path) == ("ops.example.com", "/budget/")
    status, _, html = request(app, "GET", "/", query={"v": parse_qs(page_url.query)["v"][0]})
    assert status == 200 and "edgeone-traffic" in html
    image = urlsplit(chart_url("https://ops.example.com/budget", "edgeone-traffic", token))
    assert image.path == "/budget/charts/edgeone-traffic.png"
    route = image.path.removeprefix("/budget")
    status, headers, _ = request(app, "GET", route, query={"t": parse_qs(image.query)["t"][0]})
    assert status == 200 and headers["Content-Type"] == "image/png"
