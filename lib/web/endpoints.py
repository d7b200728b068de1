"""The dashboard's routes (issue 17): ``GET /``, ``POST /login|/logout``, the buttons, ``GET /charts/…``.

Parse → check → delegate → shape, like the API's routes, but answering HTML (and SVG or PNG for
charts). None of these needs a bearer token from the router: each checks its own authority — a session
cookie (``lib.web.session``), a signed ``view`` link (``lib.links``), or, for charts, a bearer token too.
Acting goes through ``lib.app.operations`` with ``by="dashboard:<token name>"``, the one path the API and
the links use as well. This module does not import ``lib.api.routes`` (it is imported by it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from lib.api.auth import api_tokens, authenticate
from lib.api.errors import ApiProblem, bad_request, not_configured, not_found, unauthorized
from lib.api.response import Content, Response
from lib.app.instance import environ
from lib.errors import ConfigError
from lib.web.session import COOKIE, Session, WebRefused, clear_cookie, cookie_value, issue, new_sid, read, session_key
from lib.web.urls import VIEW_ALL, base_path

if TYPE_CHECKING:
    from lib.api.routes import Call
    from lib.app.runtime import App
    from lib.links import Link

HTML = "text/html; charset=utf-8"
MAX_FIELDS = 10
# No scripts, nothing from elsewhere; inline styles only (the page's stylesheet and the charts' attributes).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a view link's token never leaves in a Referer to another site
}
_ENDED = "session-"  # prefix of the create-only marker that ends a session at sign-out (lib.state.actions)


def _page(status: int, html: str, **headers: str) -> Response:
    return Response(status, Content(HTML, html), {**PAGE_HEADERS, **headers})


def _base(call: Call, app: App) -> str:
    return base_path(app.settings.public_url, call.request.base_path)


def _environ(app: App) -> Mapping[str, str]:
    return app.environ or environ()


def _tokens(app: App) -> tuple[str, ...]:
    """The configured API tokens; 503 (as on every API route) while one of them is too short."""
    try:
        return api_tokens(_environ(app))
    except ConfigError as exc:
        raise not_configured(exc) from exc


def _key(app: App, session: Session) -> bytes:
    return session_key(_tokens(app)[session.token_index], app.settings.link_secret)


def _session(call: Call, app: App) -> Session:
    """The request's session, or WebRefused: none, damaged, forged, expired, or signed out."""
    session = read(
        cookie_value(call.request.header("cookie"), COOKIE),
        _tokens(app),
        app.settings.link_secret,
        now=app.now().timestamp(),
    )
    if app.repo.actions.link_used(_ENDED + session.sid):
        raise WebRefused("this session was signed out; sign in again", reason="ended")
    return session


def _view(app: App, token: str) -> Link:
    """The ``view`` link ``token`` names, or WebRefused (403): links off, damaged, forged, expired."""
    from lib.links import LinkError, verify

    secret = app.settings.link_secret
    if not secret:
        raise WebRefused("view links are off: BUDGET_LINK_SECRET is not set", reason="forged", status=403)
    try:
        return verify(secret, token, now=app.now().timestamp(), operation="view")
    except LinkError as exc:
        raise WebRefused(exc.message, reason="expired" if exc.reason == "expired" else "forged", status=403) from exc


def _form(call: Call) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (what the page's forms send); 400 otherwise."""
    try:
        text = call.request.body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad_request("the form is not URL-encoded UTF-8 with at most 10 fields", field="body") from exc
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


# --- GET / ---------------------------------------------------------------------------------------------


def home(call: Call) -> Response:
    """The dashboard for a session or a view link (read-only); the sign-in form for anyone else."""
    from lib.web import page
    from lib.web.board import gather

    app = call.app()
    base, lang = _base(call, app), app.config.language
    now = app.now()
    view = call.request.query.get("v")
    account = _account(call, app)
    if view:
        try:
            link = _view(app, view)
        except WebRefused as exc:
            return _page(exc.status, page.refused(lang, base=base, message=exc.message))
        until = datetime.fromtimestamp(link.expires, timezone.utc)
        if isinstance(account, WebRefused):
            return _page(account.status, page.refused(lang, base=base, message=account.message))
        board = gather(app, now=now, account=account)
        html = page.dashboard(board, base=base, csrf=None, view_until=_local(until, app), view=view)
        return _page(200, html)
    if cookie_value(call.request.header("cookie"), COOKIE) is None:
        return _page(200, page.sign_in(lang, base=base))
    try:
        session = _session(call, app)
    except WebRefused as exc:
        return _page(401, page.sign_in(lang, base=base, error=exc.message), **{"Set-Cookie": clear_cookie(path=base)})
    from lib.web.csrf import csrf_token

    if isinstance(account, WebRefused):
        return _page(account.status, page.refused(lang, base=base, message=account.message))
    board = gather(app, now=now, account=account)
    html = page.dashboard(board, base=base, csrf=csrf_token(_key(app, session), session.sid), notice=_notice(call, app))
    return _page(200, html)


def _account(call: Call, app: App) -> str | WebRefused | None:
    """The member filter ``?account=<uin>``: None without one (or without ``accounts:``), a refusal (400) when
    it is not a uin. Checked after the session or view link, so a visitor learns nothing from it."""
    from lib.web.accounts import valid_uin

    text = call.request.query.get("account", "").strip()
    if not text or app.config.accounts is None:
        return None
    if not valid_uin(text):
        return WebRefused(
            f"account must be a member's uin (digits only), not {text[:40]!r}", reason="malformed", status=400
        )
    return text


def _notice(call: Call, app: App) -> tuple[str, bool] | None:
    """What the last button did, from the redirect's query: fixed words and the action's current state."""
    from lib.web.words import state_word, words

    did, action = call.request.query.get("did"), call.request.query.get("action", "")
    if did not in ("approve", "undo", "refused") or not action.startswith("act_") or len(action) > 64:
        return None
    record = app.repo.actions.get(action)
    w = words(app.config.language)
    state = state_word(w, record.state) if record else "?"
    if did == "refused":
        return w["notice_refused"].format(id=action, reason=state), False
    good = record is not None and record.state in ("done", "undone", "executing", "undoing")
    return w["notice_approved" if did == "approve" else "notice_undone"].format(id=action, state=state), good


def _local(at: datetime, app: App) -> str:
    return at.astimezone(app.tz).strftime("%Y-%m-%d %H:%M")


# --- POST /login, POST /logout ----------------------------------------------------------------------


def login(call: Call) -> Response:
    """Exchange an API token (form field ``token``) for a session cookie, and go to the dashboard."""
    from lib.web import page
    from lib.web.csrf import check_origin

    app = call.app()
    base, lang = _base(call, app), app.config.language
    try:
        check_origin(call.request.headers, app.settings.public_url)
    except WebRefused as exc:
        return _page(exc.status, page.refused(lang, base=base, message=exc.message))
    token = _form(call).get("token", "").strip()
    tokens = _tokens(app)
    try:
        principal = authenticate(f"Bearer {token}", _environ(app))
    except ApiProblem as exc:
        message = "BUDGET_API_TOKEN is not set" if not tokens else "the token is not valid; paste an API token"
        return _page(exc.status, page.sign_in(lang, base=base, error=message))
    value = issue(tokens, principal.index, app.settings.link_secret, now=app.now().timestamp(), sid=new_sid())
    return Response(303, None, {"Location": f"{base}/", "Set-Cookie": _cookie(value, base)})


def _cookie(value: str, base: str) -> str:
    from lib.web.session import set_cookie

    return set_cookie(value, path=base or "/")


def logout(call: Call) -> Response:
    """End the session (recorded, so the cookie stops working even if it was copied) and clear the cookie."""
    app = call.app()
    base = _base(call, app)
    refused = _checked(call, app)
    if isinstance(refused, Response):
        return refused
    app.repo.actions.use_link(_ENDED + refused.sid, at=app.now(), operation="sign-out", by=f"dashboard:{refused.name}")
    return Response(303, None, {"Location": f"{base}/", "Set-Cookie": clear_cookie(path=base or "/")})


def _checked(call: Call, app: App) -> Session | Response:
    """The session of a POST from the page: not a view link, a live session, this site, this session's token."""
    from lib.web import page
    from lib.web.csrf import FIELD, check_origin, check_token

    base, lang = _base(call, app), app.config.language
    try:
        if call.request.query.get("v") or call.request.query.get("t"):
            raise WebRefused("a view link is read-only: it cannot act; sign in to act", reason="read-only", status=403)
        session = _session(call, app)
        check_origin(call.request.headers, app.settings.public_url)
        check_token(_key(app, session), session.sid, _form(call).get(FIELD))
    except WebRefused as exc:
        return _page(exc.status, page.refused(lang, base=base, message=exc.message))
    return session


# --- the buttons ---------------------------------------------------------------------------------------


def approve(call: Call) -> Response:
    return _act(call, "approve")


def undo(call: Call) -> Response:
    return _act(call, "undo")


def _act(call: Call, operation: str) -> Response:
    """Approve or undo at once through ``lib.app.operations``; then back to the dashboard (303), which
    says what happened (a reload does not press the button again)."""
    from lib.app import operations
    from lib.state.actions import ActionNotFound, TransitionRefused
    from lib.web import page

    app = call.app()
    base = _base(call, app)
    session = _checked(call, app)
    if isinstance(session, Response):
        return session
    action_id = call.params["id"]
    act = operations.approve if operation == "approve" else operations.undo
    did = operation
    try:
        act(app, action_id, by=f"dashboard:{session.name}")
    except ActionNotFound as exc:
        return _page(404, page.refused(app.config.language, base=base, message=exc.message))
    except TransitionRefused:
        did = "refused"  # another door (or an earlier press) got there first; the page shows the state
    return Response(303, None, {"Location": f"{base}/?{urlencode({'did': did, 'action': action_id})}"})


# --- GET /charts/{budget}.svg|.png ---------------------------------------------------------------------


def chart_svg(call: Call) -> Response:
    return _chart(call, "svg")


def chart_png(call: Call) -> Response:
    return _chart(call, "png")


def _chart(call: Call, image: str) -> Response:
    """One budget's chart for a bearer token, a session, or a view link naming the budget (or ``*``)."""
    from lib.web.charts import budget_spec, png, svg

    app = call.app()
    name = call.params["budget"]
    _chart_access(call, app, name)
    budget = next((b for b in app.config.budgets if b.name == name), None)
    if budget is None:
        raise not_found(f"no budget named {name!r}")
    runs = app.repo.runs.list(limit=1)
    evaluations = [e for e in (runs[0].get("evaluations") or []) if isinstance(e, Mapping)] if runs else []
    series = app.repo.series.load_budget(name)
    # The PNG's bitmap font has no Chinese: its labels are English (the message around it is not).
    language = app.config.language if image == "svg" else "en"
    spec = budget_spec(app.config, budget, series, evaluations, now=app.now(), language=language)
    phone = call.request.query.get("width") == "phone"
    if image == "svg":
        return Response(200, Content("image/svg+xml; charset=utf-8", svg(spec, phone=phone)), _IMAGE_HEADERS)
    return Response(200, Content("image/png", png(spec, phone=phone)), _IMAGE_HEADERS)


_IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


def _chart_access(call: Call, app: App, budget: str) -> None:
    """ApiProblem 401 unless the caller may see ``budget``'s chart (checked before 404: no probing names)."""
    request = call.request
    if request.header("authorization"):
        authenticate(request.header("authorization"), _environ(app))
        return
    token = request.query.get("t")
    try:
        if token:
            link = _view(app, token)
            if budget not in link.targets and VIEW_ALL not in link.targets:
                raise WebRefused("the link is for another budget's chart", reason="forged", status=403)
            return
        if cookie_value(request.header("cookie"), COOKIE) is None:
            raise WebRefused(
                "send 'Authorization: Bearer <token>', a dashboard session or a view link (?t=)", reason="signed-out"
            )
        _session(call, app)
    except WebRefused as exc:
        raise unauthorized(exc.message) from exc
