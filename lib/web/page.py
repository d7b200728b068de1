"""The dashboard's HTML: the board, the sign-in form and the refusal page, as escaped Python strings.

No template library: the pages are a handful of lists and one table per budget, every inserted value
goes through ``esc`` (``html.escape``, quotes too), and nothing is loaded at import but the standard
library. No scripts at all: buttons are forms that POST with the session's CSRF token. Links and form
actions start with ``base`` (the gateway's stage or ``BUDGET_PUBLIC_URL``'s path; "" on a Function URL).
The member filter's links (``?account=<uin>``) keep the view link (``?v=``) the page was opened with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from urllib.parse import quote, urlencode

from lib.web.accounts import AccountItem
from lib.web.board import ActionItem, Board, Card, Item
from lib.web.csrf import FIELD
from lib.web.style import CSS
from lib.web.words import state_word, words


def esc(text: object) -> str:
    """``text`` safe in an element or a double-quoted attribute."""
    return escape(str(text), quote=True)


def _doc(language: str, title: str, body: str) -> str:
    lang = "zh-CN" if language == "zh" else "en"
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="same-origin">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>{body}</body></html>\n"
    )


def _badge(status: str, text: str) -> str:
    return f'<span class="badge s-{esc(status)}">{esc(text)}</span>'


def _items(items: Iterable[Item], empty: str, w: Mapping[str, str]) -> str:
    lines = [
        f'<li><span class="t">{esc(i.title)}</span>'
        + (_badge(i.status, state_word(w, i.status)) if i.status in ("firing", "error") else "")
        + f'<span class="d">{esc(i.detail)}</span></li>'
        for i in items
    ]
    return f'<ul class="items">{"".join(lines)}</ul>' if lines else f'<p class="empty">{esc(empty)}</p>'


def _section(ident: str, title: str, inner: str) -> str:
    return f'<section id="{ident}"><h2>{esc(title)}</h2>{inner}</section>'


def _form(action: str, csrf: str, label: str, css: str, *, ident: str = "") -> str:
    name = f' data-action="{esc(ident)}"' if ident else ""
    return (
        f'<form class="inline" method="post" action="{esc(action)}"{name}>'
        f'<input type="hidden" name="{FIELD}" value="{esc(csrf)}">'
        f'<button type="submit" class="{css}">{esc(label)}</button></form>'
    )


def _actions(items: Iterable[ActionItem], *, base: str, csrf: str | None, w: Mapping[str, str]) -> str:
    lines = []
    for a in items:
        buttons = ""
        path = f"{base}/dashboard/actions/{quote(a.id, safe='')}"
        if csrf is not None and a.can_approve:
            buttons += _form(f"{path}/approve", csrf, w["approve"], "primary approve", ident=a.id)
        if csrf is not None and a.can_undo:
            buttons += _form(f"{path}/undo", csrf, w["undo"], "undo", ident=a.id)
        lines.append(
            f'<li id="{esc(a.id)}"><span class="t">{esc(a.title)}</span>{_badge(a.state, a.state_text)}'
            f'<span class="d">{esc(a.id)} · {esc(a.detail)}</span>{buttons}</li>'
        )
    return f'<ul class="items">{"".join(lines)}</ul>'


def _card(card: Card, w: Mapping[str, str]) -> str:
    head = (
        f'<div class="head"><h3>{esc(card.name)}</h3>{_badge(card.status, state_word(w, card.status))}'
        f'<span class="meta">{esc(card.source)} · {esc(card.metric)}'
        + (f" · {esc(w['data_until'].format(at=card.newest))}" if card.newest else "")
        + "</span></div>"
    )
    if card.rows:
        cols = (w["group"], w["value"], w["limit"], w["percent"], w["forecast"], w["status"])
        thead = "".join(f"<th>{esc(c)}</th>" for c in cols)
        body = "".join(
            f'<tr><td class="g">{esc(r.group)}</td><td class="n" data-l="{esc(cols[1])}">{esc(r.value)}</td>'
            f'<td class="n" data-l="{esc(cols[2])}">{esc(r.limit)}</td>'
            f'<td class="n" data-l="{esc(cols[3])}">{esc(r.percent)}</td>'
            f'<td class="n" data-l="{esc(cols[4])}">{esc(r.forecast)}</td>'
            f"<td>{_badge(r.status, r.status_text)}</td></tr>"
            for r in card.rows
        )
        table = f'<table class="rows"><thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>'
        if card.hidden_rows:
            table += f'<p class="more">{esc(w["more_groups"].format(n=card.hidden_rows))}</p>'
    else:
        table = f'<p class="empty">{esc(w["no_run"])}</p>'
    # The SVG comes from lib.charts.svg, which escapes every text it writes; it is inserted as markup.
    chart = f'<figure class="chart" aria-label="{esc(w["chart"].format(name=card.name))}">{card.chart_svg}</figure>'
    return f'<section class="card" id="budget-{esc(card.name)}">{head}{chart}{table}</section>'


def home_href(base: str, *, view: str | None = None, account: str | None = None) -> str:
    """The dashboard's address with the view link it was opened with and the member filter, when any."""
    query = {k: v for k, v in (("v", view), ("account", account)) if v}
    return f"{base}/" + (f"?{urlencode(query)}" if query else "")


def _accounts(items: Iterable[AccountItem], *, base: str, view: str | None, w: Mapping[str, str]) -> str:
    rows = []
    for a in items:
        href = home_href(base, view=view, account=a.uin)
        totals = " · ".join(f"{budget} {total}" for budget, total in a.totals) or "–"
        rows.append(
            f'<tr data-uin="{esc(a.uin)}"><td class="g"><a href="{esc(href)}">{esc(a.name)}</a></td>'
            f'<td data-l="{esc(w["uin"])}">{esc(a.uin)}</td>'
            f'<td class="n" data-l="{esc(w["firing_n"])}">{a.firing}</td>'
            f'<td class="n" data-l="{esc(w["ok_n"])}">{a.ok}</td>'
            f'<td class="n" data-l="{esc(w["errors_n"])}">{a.errors}</td>'
            f'<td data-l="{esc(w["totals"])}">{esc(totals)}</td>'
            f"<td>{_badge(a.status, state_word(w, a.status))}</td></tr>"
        )
    if not rows:
        return f'<p class="empty">{esc(w["none_accounts"])}</p>'
    cols = (w["account"], w["uin"], w["firing_n"], w["ok_n"], w["errors_n"], w["totals"], w["status"])
    thead = "".join(f"<th>{esc(c)}</th>" for c in cols)
    return f'<table class="rows"><thead><tr>{thead}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _filter(board: Board, *, base: str, view: str | None, w: Mapping[str, str]) -> str:
    """The banner of a member's view: whose numbers these are, and the way back to every account."""
    if board.account is None:
        return ""
    uin, name = board.account
    back = home_href(base, view=view)
    empty = "" if any(c.rows for c in board.cards) else f' <span class="empty">{esc(w["no_account_run"])}</span>'
    return (
        f'<section class="notice" id="account-filter"><p>{esc(w["filtered"].format(name=name, uin=uin))}{empty} '
        f'<a href="{esc(back)}">{esc(w["all_accounts"])}</a></p></section>'
    )


def dashboard(
    board: Board,
    *,
    base: str,
    csrf: str | None,
    view_until: str | None = None,
    notice: tuple[str, bool] | None = None,
    view: str | None = None,
) -> str:
    """The dashboard; ``csrf`` None: read-only (a view link, ``view`` its token), with no forms at all."""
    w = words(board.language)
    out = [f'<header><h1>{esc(w["title"])}</h1><p class="asof">{esc(board.as_of)}</p>']
    if csrf is not None:
        out.append(_form(f"{base}/logout", csrf, w["sign_out"], "signout"))
    out.append("</header><main>")
    if notice is not None:
        text, good = notice
        out.append(f'<section class="notice{"" if good else " bad"}" role="status"><p>{esc(text)}</p></section>')
    if view_until is not None:
        banner = esc(w["read_only"].format(until=view_until))
        out.append(
            f'<section class="readonly"><p>{banner} <a href="{esc(base)}/">{esc(w["sign_in"])}</a></p></section>'
        )
    out.append(_filter(board, base=base, view=view, w=w))
    out.append(_section("firing", w["firing"], _items(board.firing, w["none_firing"], w)))
    if board.accounts and board.account is None:
        out.append(_section("accounts", w["accounts"], _accounts(board.accounts, base=base, view=view, w=w)))
    if board.pending or board.other_actions:
        inner = ""
        if board.pending:
            inner += f"<h3>{esc(w['pending'])}</h3>" + _actions(board.pending, base=base, csrf=csrf, w=w)
        if board.other_actions:
            inner += f"<h3>{esc(w['done'])}</h3>" + _actions(board.other_actions, base=base, csrf=csrf, w=w)
        out.append(_section("actions", w["actions"], inner))
    else:
        out.append(_section("actions", w["actions"], f'<p class="empty">{esc(w["none_actions"])}</p>'))
    cards = "".join(_card(c, w) for c in board.cards)
    out.append(f'<h2 class="sec">{esc(w["budgets"])}</h2><div class="cards" id="budgets">{cards}</div>')
    out.append('<div class="cols">')
    out.append(_section("silences", w["silences"], _items(board.silences, w["none_silences"], w)))
    out.append(_section("failed", w["failed"], _items(board.failed, w["none_failed"], w)))
    out.append(_section("runs", w["runs"], _items(board.runs, w["none_runs"], w)))
    out.append(_section("freshness", w["freshness"], _items(board.freshness, w["no_data"], w)))
    out.append("</div>")
    if board.problems:
        lines = "".join(f"<li>{esc(p)}</li>" for p in board.problems)
        out.append(_section("problems", w["problems"], f'<ul class="items problems">{lines}</ul>'))
    out.append("</main>")
    return _doc(board.language, w["title"], "".join(out))


def sign_in(language: str, *, base: str, error: str = "") -> str:
    """The sign-in form, and nothing else (what a visitor without a session or view link sees)."""
    w = words(language)
    err = f'<p class="err" role="alert">{esc(error)}</p>' if error else ""
    body = (
        f'<main><section class="signin"><h1>{esc(w["title"])}</h1><p>{esc(w["sign_in_help"])}</p>{err}'
        f'<form method="post" action="{esc(base)}/login"><label for="token">{esc(w["token"])}</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" required>'
        f'<button type="submit" class="primary">{esc(w["sign_in"])}</button></form></section></main>'
    )
    return _doc(language, f"{w['sign_in']} · {w['title']}", body)


def refused(language: str, *, base: str, message: str) -> str:
    """A page that says why a request was refused, with the way back."""
    w = words(language)
    body = (
        f'<main><section class="notice bad"><h1>{esc(w["refused"])}</h1><p>{esc(message)}</p>'
        f'<p><a href="{esc(base)}/">{esc(w["back"])}</a></p></section></main>'
    )
    return _doc(language, w["refused"], body)
