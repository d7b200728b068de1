"""The pages behind one-click links: ``GET /l/{token}`` asks, ``POST /l/{token}`` acts (once).

The token is the authority (no bearer): it names one operation, its targets and an expiry
(``lib.links``). ``GET`` and ``HEAD`` never act, so a chat client's link preview or a crawler changes
nothing; they show what the link will do, to what, until when, and a form that ``POST``s to the same
address (the form has no ``action``: it posts to the page's own URL, under any base path). ``POST`` marks the
token used first (create-only: of two racing POSTs exactly one goes on), then acts through
``lib.app.operations`` with ``by="link"``. Refusals are pages too, with the status that says why:
400 damaged, 403 tampered / a view link acting / the action names other targets, 404 nothing to act
on, 409 used already or the action's state forbids it, 410 expired. A page never shows the secret or
the token; only what the reader needs: the action, its targets, the budget, the times.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from lib.api.response import Content, Response
from lib.errors import BudgetError
from lib.links import Link, LinkError, action_order, silence_order, targets_digest, verify
from lib.messages import local_time
from lib.messages.link_words import action_name, hours_text, page_words

if TYPE_CHECKING:
    from lib.api.routes import Call
    from lib.app.runtime import App
    from lib.state.actions import ActionRecord

HTML_TYPE = "text/html; charset=utf-8"
# The page loads nothing, posts only to itself, is never framed, and sends no Referer (the URL holds the token).
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
STATUS = {"malformed": 400, "signature": 403, "operation": 403, "target": 403, "expired": 410}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "dt{font-weight:600}dd{margin:0 0 .5rem}button{font-size:1rem;padding:.5rem 1.5rem}.no{color:#a8071a}"
)


class Refused(Exception):
    """A link that must not be shown as actionable: the status and the key of the words that say why."""

    def __init__(self, status: int, key: str, **fields: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.fields = fields


def show(call: Call) -> Response:
    """``GET /l/{token}``: what the link will do, and a confirming form; never acts."""
    app = call.app()
    words = page_words(app.config.language)
    try:
        link = _checked(app, call.params["token"])
        if link.operation == "view":
            return _page(200, words["view.title"], [words["view.what"]], extra=_view_link(words, call))
        title, lines, facts = _describe(app, link)
    except Refused as refused:
        return _refusal(words, refused)
    facts.append((words["expires"], _when(app, link.expires)))
    return _page(200, title, lines, facts=facts, form=words["confirm"], note=words["once"])


def head(call: Call) -> Response:
    """``HEAD /l/{token}``: the GET page's status and headers, no body; never acts."""
    page = show(call)
    return Response(page.status, Content(HTML_TYPE, ""), page.headers)


def act(call: Call) -> Response:
    """``POST /l/{token}``: mark the token used (create-only), then act through lib.app.operations."""
    from lib.app import operations

    app = call.app()
    words = page_words(app.config.language)
    now = app.now()
    try:
        link = _checked(app, call.params["token"])
        if link.operation == "view":
            raise Refused(403, "operation")
        title, _, facts = _describe(app, link)  # refuses what may not act before the token is spent
        if not app.repo.actions.use_link(link.nonce, at=now, operation=link.operation, by="link"):
            raise Refused(409, "used")
        if link.operation == "silence":
            order = silence_order(link)
            until = _silence_end(now, order.seconds, order.until)
            held = operations.silence(app, order.matchers, until=until, by="link", comment="one-click link", now=now)
            done = words["done.silence"].format(until=_when(app, int(held.ends_at.timestamp())), id=held.id)
            return _page(200, title, [done], facts=facts)
        action_id = action_order(link)[0]
        step = operations.approve if link.operation == "approve" else operations.undo
        outcome = step(app, action_id, by="link", now=now)
    except Refused as refused:
        return _refusal(words, refused)
    except BudgetError as exc:
        return _refusal(words, _refusal_of(exc))
    state = outcome.record.state if outcome.record is not None else "?"
    line = words[f"done.{link.operation}"].format(state=state)
    if not outcome.acted:
        line = words["not.acted"].format(reason=outcome.reason or state)
    return _page(200 if outcome.acted else 409, title, [line], facts=facts)


# --- checks -------------------------------------------------------------------------------------------


def _checked(app: App, token: str) -> Link:
    """The token's link when links are on here, it verifies, and it was not used yet."""
    secret = app.settings.link_secret
    if not secret or not app.settings.public_url:
        raise Refused(404, "disabled")
    try:
        link = verify(secret, token, now=app.now().timestamp())
    except LinkError as exc:
        raise Refused(STATUS.get(exc.reason, 400), exc.reason) from exc
    if link.operation != "view" and app.repo.actions.link_used(link.nonce):
        raise Refused(409, "used")
    return link


def _describe(app: App, link: Link) -> tuple[str, list[str], list[tuple[str, str]]]:
    """Title, what will happen, and the facts, for an approve, undo or silence link; Refused when it cannot act."""
    words = page_words(app.config.language)
    language = app.config.language
    try:
        if link.operation == "silence":
            order = silence_order(link)
            budget = order.matchers["budget"]
            if budget not in {b.name for b in app.config.budgets}:
                raise Refused(404, "missing")
            if order.until is not None and order.until <= int(app.now().timestamp()):
                raise Refused(410, "expired")
            group = ", ".join(f"{k}={v}" for k, v in order.matchers.items() if k != "budget")
            until = (
                words["silence.for"].format(hours=hours_text(order.seconds, language))
                if order.seconds is not None
                else words["silence.until"].format(when=_when(app, order.until or 0))
            )
            facts = [(words["group"], group)] if group else []
            return words["silence.title"], [words["silence.what"].format(budget=budget, until=until)], facts
        action_id, digest = action_order(link)
    except LinkError as exc:
        raise Refused(400, "malformed") from exc
    record = app.repo.actions.get(action_id)
    if record is None:
        raise Refused(404, "missing")
    targets = [str(t.get("id", "")) for t in record.intent.get("targets") or () if isinstance(t, Mapping)]
    if targets_digest(targets) != digest:
        raise Refused(403, "target")
    _check_state(record, link.operation, words)
    action = action_name(str(record.intent.get("action", "")), language)
    budget = str(record.intent.get("budget", ""))
    what = words[f"{link.operation}.what"].format(action=action, budget=budget)
    facts = [(words["targets"], ", ".join(targets)), (words["state"], record.state)]
    labels = record.intent.get("group")
    if isinstance(labels, Mapping) and labels:
        facts.insert(1, (words["group"], ", ".join(f"{k}={v}" for k, v in labels.items())))
    return words[f"{link.operation}.title"], [what], facts


def _check_state(record: ActionRecord, operation: str, words: Mapping[str, str]) -> None:
    from lib.actions.machine import DONE, FAILED, NEXT, PENDING, UNDO_FAILED

    wanted = words[f"wanted.{operation}"]
    allowed = (PENDING,) if operation == "approve" else (DONE, FAILED, UNDO_FAILED)
    if record.state not in allowed or not NEXT.get(record.state):
        raise Refused(409, "state.refused", state=record.state, wanted=wanted)


def _refusal_of(exc: BudgetError) -> Refused:
    from lib.state.actions import ActionNotFound, TransitionRefused

    if isinstance(exc, ActionNotFound):
        return Refused(404, "missing")
    if isinstance(exc, TransitionRefused):
        return Refused(409, "state.refused", state=exc.state, wanted=exc.wanted)
    return Refused(503 if exc.retryable else 500, "failed", reason=exc.message)


def _silence_end(now: datetime, seconds: int | None, until: int | None) -> datetime:
    if seconds is not None:
        return now + timedelta(seconds=seconds)
    return datetime.fromtimestamp(until or 0, timezone.utc)


# --- pages --------------------------------------------------------------------------------------------


def _when(app: App, epoch: int) -> str:
    return local_time(datetime.fromtimestamp(epoch, timezone.utc), app.tz)


def _view_link(words: Mapping[str, str], call: Call) -> str:
    # Relative to /l/<token>: the dashboard at the API's root, whatever base path it is served under.
    token = html.escape(call.params["token"], quote=True)
    return f'<p><a href="../?v={token}">{html.escape(words["view.open"])}</a></p>'


def _refusal(words: Mapping[str, str], refused: Refused) -> Response:
    text = words[refused.key].format(**refused.fields) if refused.fields else words[refused.key]
    return _page(refused.status, words["refused"], [text], css_class="no")


def _page(
    status: int,
    title: str,
    lines: list[str],
    *,
    facts: list[tuple[str, str]] | None = None,
    form: str | None = None,
    note: str | None = None,
    extra: str = "",
    css_class: str = "",
) -> Response:
    """A small self-contained HTML page; every piece of text is escaped here."""
    esc = html.escape
    klass = f' class="{css_class}"' if css_class else ""
    parts = [f"<h1>{esc(title)}</h1>", *(f"<p{klass}>{esc(line)}</p>" for line in lines)]
    if facts:
        parts.append("<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts) + "</dl>")
    if form:
        button = f'<button type="submit">{esc(form)}</button>'
        parts.append(f'<form method="post"><input type="hidden" name="confirm" value="1">{button}</form>')
    if note:
        parts.append(f"<p><small>{esc(note)}</small></p>")
    parts.append(extra)
    body = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )
    return Response(status, Content(HTML_TYPE, body), dict(HEADERS))


__all__ = ["act", "head", "show"]
