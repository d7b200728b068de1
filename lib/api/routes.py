"""The API's routes and the router: match the path, authenticate, check the method, run the route.

Every route but ``GET /health`` needs a bearer token; an unauthenticated caller learns nothing about
which paths exist (401 before 404/405).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from lib.api import action_routes, views
from lib.api.auth import Principal, authenticate, configured_tokens
from lib.api.errors import ApiProblem, bad_request, method_not_allowed, not_configured, not_found
from lib.api.events import Request
from lib.api.response import Response
from lib.errors import BudgetError
from lib.state.history import InvalidCursor
from lib.state.silences import TooManySilences
from lib.web import endpoints as web  # issue 17: the dashboard's pages and charts

if TYPE_CHECKING:
    from lib.app.runtime import App

MAX_PAGE = 200
MAX_PROBLEMS = 20
# A caller's clock may run a little ahead of ours; anything further is a typo, not a backtest.
FUTURE_SLACK = timedelta(minutes=5)
IN_PROGRESS_RETRY_AFTER = 2  # seconds a request meeting a running one with its Idempotency-Key waits
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_SILENCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class Call:
    """One routed request: the request, the caller, path parameters and the (lazily built) App."""

    request: Request
    principal: Principal | None
    params: dict[str, str]
    app_factory: Callable[[], App]
    _app: App | None = field(default=None, repr=False)

    def app(self) -> App:
        if self._app is None:
            try:
                self._app = self.app_factory()
            except BudgetError as exc:
                raise not_configured(exc) from exc
        return self._app


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Callable[[Call], Response]
    summary: str
    auth: bool = True

    def match(self, path: str) -> dict[str, str] | None:
        m = _compile(self.template).match(path)
        return None if m is None else m.groupdict()


@functools.cache
def _compile(template: str) -> re.Pattern[str]:
    """``/silences/{id}`` → a regex with one named group per ``{param}``."""
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


def dispatch(request: Request, *, app: Callable[[], App], environ: Callable[[], Mapping[str, str]]) -> Response:
    matches = [(route, params) for route in ROUTES if (params := route.match(request.path)) is not None]
    public = bool(matches) and not any(route.auth for route, _ in matches)
    principal = None if public else authenticate(request.header("authorization"), environ())
    if not matches:
        raise not_found(f"no route {request.path}; see GET /openapi.json")
    for route, params in matches:
        if route.method == request.method:
            return route.handler(Call(request, principal, params, app))
    raise method_not_allowed(request.method, [route.method for route, _ in matches])


# --- routes -------------------------------------------------------------------------------------------


def health(call: Call) -> Response:
    from lib.app.instance import current_app, environ

    return Response(
        200,
        {
            "status": "ok",
            "time": datetime.now(timezone.utc).isoformat(),
            "auth": "configured" if configured_tokens(environ()) else "unset",
            "warm": current_app() is not None,
        },
    )


def status(call: Call) -> Response:
    from lib.app.fanout import shard_view

    app = call.app()
    shards, names = shard_view(app)  # issue 18; empty without member accounts
    runs = app.repo.runs.list(limit=_int_param(call.request, "runs", default=5, low=1, high=50))
    doc = views.status_document(
        app.config,
        runs=runs,
        failed=app.repo.outbox.failed(),
        silences=app.repo.silences.list().value,
        problems=app.repo.problems[-MAX_PROBLEMS:],  # a warm instance accumulates them
        now=app.now().astimezone(app.tz),
        shards=shards,
        names=names,
    )
    doc["actions"] = action_routes.status_actions(app)  # issue 16: pending and recent budget actions
    return Response(200, doc)


def usage(call: Call) -> Response:
    from lib.model import group_key, group_label

    app = call.app()
    name = call.request.query.get("budget", "").strip()
    if not name:
        raise bad_request("the query parameter 'budget' is required", field="budget")
    budget = next((b for b in app.config.budgets if b.name == name), None)
    if budget is None:
        raise not_found(f"no budget named {name!r}")
    label = group_label(group_key(_parse_group(call.request.query.get("group", ""))))
    runs = app.repo.runs.list(limit=1)
    evaluations = [
        e
        for e in (runs[0].get("evaluations", []) if runs else [])
        if isinstance(e, Mapping) and e.get("budget") == name and isinstance(e.get("group"), Mapping)
    ]
    groups = sorted({group_label(group_key(e["group"])) for e in evaluations})
    unit = next((e.get("unit") for e in evaluations if group_label(group_key(e["group"])) == label), None)
    points = app.repo.series.load(name, label)
    doc = {
        "budget": name,
        "metric": budget.metric,
        "period": budget.period,
        "group": label,
        "groups": groups,
        "unit": unit,
        "points": [{"time": p.time.isoformat(), "value": p.value} for p in points],
    }
    if budget.accounts is not None:  # issue 18: a member budget's groups come from every shard's series
        from lib.periods import current_period

        since = current_period(budget.period, app.now(), app.tz).start
        stored = app.repo.series.load_budget(name)
        doc.update(views.account_usage(stored, call.request.query.get("account", "").strip(), since))
    return Response(200, doc)


def check(call: Call) -> Response:
    from lib.api.schemas import CheckRequest, validate

    body = validate(CheckRequest, call.request.json())
    key = _idempotency_key(call)
    app = call.app()
    now = app.now()
    if body.at is not None and body.at > now + FUTURE_SLACK:
        raise bad_request("'at' is in the future; it evaluates as of a past instant", field="at")
    if body.at is not None and not body.dry_run:
        # A backtest that wrote state would move the live ledger back in time; the CLI is the tool for that.
        raise bad_request("'at' needs \"dry_run\": true; a backtest must not change the live state", field="at")
    fingerprint = _fingerprint(body.model_dump(mode="json"))
    return _once(
        app,
        key,
        fingerprint,
        lambda: Response(200, app.run_check(at=body.at, dry_run=body.dry_run, trigger="api").to_dict()),
    )


def alerts(call: Call) -> Response:
    app = call.app()
    limit = _int_param(call.request, "limit", default=50, low=1, high=MAX_PAGE)
    cursor = call.request.query.get("cursor") or None
    if cursor is not None and len(cursor) > 512:
        raise bad_request("cursor is too long", field="cursor")
    try:
        items, next_cursor = app.repo.history.page(limit=limit, cursor=cursor)
    except InvalidCursor as exc:
        raise bad_request("cursor is not valid; start again without one", field="cursor") from exc
    return Response(200, {"items": [views.alert_view(i) for i in items], "next_cursor": next_cursor})


def list_silences(call: Call) -> Response:
    app = call.app()
    now = app.now()
    include_expired = call.request.query.get("expired", "").lower() in {"1", "true", "yes"}
    silences = app.repo.silences.list().value
    items = [views.silence_view(s, now) for s in silences if include_expired or now < s.ends_at]
    items.sort(key=lambda s: (s["starts_at"], s["id"]))
    return Response(200, {"items": items})


def create_silence(call: Call) -> Response:
    from lib.api.schemas import SilenceRequest, validate
    from lib.model import Silence

    body = validate(SilenceRequest, call.request.json())
    key = _idempotency_key(call)
    app = call.app()
    now = app.now()
    budget = body.matchers.get("budget")
    names = {b.name for b in app.config.budgets}
    if budget is not None and not budget.endswith("*") and budget not in names:
        raise bad_request(f"no budget named {budget!r}", field="matchers.budget")
    starts_at, ends_at = body.window(now)
    silence = Silence(
        id="sil_" + secrets.token_hex(8),
        matchers=dict(body.matchers),
        starts_at=starts_at,
        ends_at=ends_at,
        comment=body.comment,
        created_by=call.principal.name if call.principal else "",
    )

    def create() -> Response:
        try:
            app.repo.silences.add(silence, now)
        except TooManySilences as exc:
            raise ApiProblem(409, "too_many_silences", exc.message) from exc
        return Response(201, views.silence_view(silence, now), {"Location": f"/silences/{silence.id}"})

    return _once(app, key, _fingerprint({"route": "POST /silences", "body": body.model_dump(mode="json")}), create)


def delete_silence(call: Call) -> Response:
    silence_id = call.params["id"]
    if not _SILENCE_ID.match(silence_id) or not call.app().repo.silences.delete(silence_id):
        raise not_found(f"no silence {silence_id!r}")
    return Response(200, {"id": silence_id, "deleted": True})


def openapi(call: Call) -> Response:
    from lib.api.openapi import document

    return Response(200, document())


# --- issue 16: one-click links (lib.api.link_pages, imported when a link is followed) -------------------


def link_page(call: Call) -> Response:
    from lib.api import link_pages

    return link_pages.show(call)


def link_head(call: Call) -> Response:
    from lib.api import link_pages

    return link_pages.head(call)


def link_act(call: Call) -> Response:
    from lib.api import link_pages

    return link_pages.act(call)


# --- helpers ------------------------------------------------------------------------------------------


def _idempotency_key(call: Call) -> str | None:
    key = call.request.header("idempotency-key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters", field="Idempotency-Key")
    return key


def _fingerprint(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def _once(app: App, key: str | None, fingerprint: str, work: Callable[[], Response]) -> Response:
    """Run ``work`` once per Idempotency-Key: the first request creates an "in progress" record before it
    runs; a concurrent one gets 409, a later one the stored answer, one with another body 422."""
    if key is None:
        return work()
    begun = app.repo.idempotency.begin(key, fingerprint)
    if begun.state == "mismatch":
        raise ApiProblem(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request body",
            details=[{"field": "Idempotency-Key", "message": "reuse it only to retry the same request"}],
        )
    if begun.state == "in_progress":
        raise ApiProblem(
            409,
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still running; retry it later to get its answer",
            headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER)},
        )
    if begun.state == "replay" and begun.answer is not None:
        saved = begun.answer
        headers = {"Idempotent-Replayed": "true"}
        if isinstance(saved.get("location"), str):
            headers["Location"] = saved["location"]
        return Response(int(saved.get("status", 200)), saved.get("result"), headers)
    try:
        response = work()
    except BaseException:
        app.repo.idempotency.abandon(key, attempt=begun.attempt)  # a retry with this key runs again
        raise
    answer = {"fingerprint": fingerprint, "result": response.body, "status": response.status}
    answer["saved_at"] = app.now().isoformat()
    if "Location" in response.headers:
        answer["location"] = response.headers["Location"]
    app.repo.idempotency.finish(key, answer, attempt=begun.attempt)
    return response


def _int_param(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    # isdigit() alone accepts '²' and '٣', which int() refuses or reads as another number.
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def _parse_group(text: str) -> dict[str, str]:
    """``zone-id=zone-1,host=a.com`` (any order) as a mapping; empty for the whole budget."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise bad_request("group must look like 'zone-id=zone-1,host=a.com'", field="group")
        out[key.strip()] = value.strip()
    return out


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", health, "Liveness; no token needed", auth=False),
    Route("GET", "/status", status, "Budgets, latest values, firing alerts, recent runs, failed deliveries"),
    Route("GET", "/usage", usage, "The stored usage series of one budget and group"),
    Route("POST", "/check", check, "Run a check now (honours Idempotency-Key)"),
    Route("GET", "/alerts", alerts, "Alert history, newest first, paged"),
    Route("GET", "/silences", list_silences, "Current and future silences"),
    Route("POST", "/silences", create_silence, "Create a silence"),
    Route("DELETE", "/silences/{id}", delete_silence, "Delete a silence"),
    Route("GET", "/openapi.json", openapi, "This API's OpenAPI 3.1 document"),
    # --- issue 17 web: the dashboard, sign-in, its buttons, the charts (handlers in lib/web/endpoints.py).
    # No bearer from the router: each checks a session cookie, a signed view link or (charts) a bearer itself.
    Route("GET", "/", web.home, "The dashboard (session or view link); otherwise the sign-in form", auth=False),
    Route("POST", "/login", web.login, "Exchange an API token (form field token) for a session cookie", auth=False),
    Route("POST", "/logout", web.logout, "End the dashboard session", auth=False),
    Route("POST", "/dashboard/actions/{id}/approve", web.approve, "Dashboard button: approve an action", auth=False),
    Route("POST", "/dashboard/actions/{id}/undo", web.undo, "Dashboard button: undo an action", auth=False),
    Route("GET", "/charts/{budget}.svg", web.chart_svg, "One budget's chart as SVG", auth=False),
    Route("GET", "/charts/{budget}.png", web.chart_png, "One budget's chart as PNG", auth=False),
    # --- issue 16: one-click links (no bearer: the signed token is the authority) ---
    Route("GET", "/l/{token}", link_page, "A signed link's confirmation page (never acts)", auth=False),
    Route("HEAD", "/l/{token}", link_head, "A signed link's page status, no body (never acts)", auth=False),
    Route("POST", "/l/{token}", link_act, "Act on a signed link, once", auth=False),
)


# --- issue 16: budget actions (GET /actions, GET /actions/{id}, POST /actions/{id}/approve|undo) ----------


def list_actions(call: Call) -> Response:
    return action_routes.listing(call.app(), call.request.query)


def get_action(call: Call) -> Response:
    return action_routes.one(call.app(), call.params["id"])


def approve_action(call: Call) -> Response:
    return _act_on(call, "approve")


def undo_action(call: Call) -> Response:
    return _act_on(call, "undo")


def _act_on(call: Call, operation: str) -> Response:
    """Approve or undo at once through lib.app.operations; once per Idempotency-Key, like POST /silences."""
    key = _idempotency_key(call)
    app, action_id = call.app(), call.params["id"]
    by = call.principal.name if call.principal else "api"
    fingerprint = _fingerprint({"route": f"POST /actions/{{id}}/{operation}", "id": action_id})
    return _once(app, key, fingerprint, lambda: action_routes.act(app, operation, action_id, by=by))


ROUTES += (
    Route("GET", "/actions", list_actions, "Budget actions with their state and audit trail, newest first"),
    Route("GET", "/actions/{id}", get_action, "One budget action with its audit trail"),
    Route("POST", "/actions/{id}/approve", approve_action, "Approve a pending action: it executes now"),
    Route("POST", "/actions/{id}/undo", undo_action, "Undo a done action: restore what it changed"),
)
