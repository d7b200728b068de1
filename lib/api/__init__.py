"""The HTTP API behind API gateway: ``handle(event, context)`` parses, routes and shapes one request.

The App (``lib.app.instance``) is built lazily on the first request that needs it and kept while the
instance stays warm; ``set_app`` injects one (demo, tests). ``GET /health`` never builds it, so a broken
configuration still answers health checks (and every other route says what is wrong with a 503).
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

from lib.api.errors import ApiProblem, from_budget_error, internal, problem_response
from lib.api.events import integrated_response, mask, parse_event, request_id
from lib.api.response import Response
from lib.app.instance import current_app, environ, set_app
from lib.errors import BudgetError
from lib.logtext import loggable

if TYPE_CHECKING:
    from lib.app.runtime import App

log = logging.getLogger("lib.api")
# Environment variables whose values must never appear in an answer, even inside an error message.
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|KEY")
_LINK_TOKEN = re.compile(r"/l/[^/]+")  # a one-click link's token: whoever reads the log could use it


def get_app() -> App:
    """The instance's App (``lib.app.instance``): built once, its configuration re-read per request."""
    from lib.app.instance import warm_app

    return warm_app()


def secrets_to_mask() -> tuple[str, ...]:
    found: set[str] = set()
    env = environ()
    for name, value in env.items():
        upper = name.upper()
        if _SECRET_NAME.search(upper) or (upper.endswith("_URL") and not upper.startswith("BUDGET_")):
            found.update(v.strip() for v in value.split(","))
    app = current_app()
    if app is not None:
        for channel in app.config.channels.values():
            found.add(channel.url)
            if channel.secret:
                found.add(channel.secret)
    # Longest first so a URL is masked whole before a secret inside it; short values would mask noise.
    return tuple(sorted((s for s in found if len(s) >= 6), key=len, reverse=True))


def handle(event: Any, context: Any) -> dict[str, Any]:
    """Parse → route → shape. Always returns an integrated response; never raises, never shows a traceback."""
    from lib.api.routes import dispatch

    started = time.monotonic()
    rid = request_id(event, context)
    method = path = "?"
    try:
        request = parse_event(event, context)
        method, path = request.method, request.path
        response = dispatch(request, app=get_app, environ=environ)
    except ApiProblem as problem:
        response = problem_response(problem)
    except BudgetError as exc:
        # Masked like the answer: the message may quote the caller's input, which may be a secret.
        log.warning("request %s failed: %s", loggable(rid), loggable(mask(str(exc), secrets_to_mask())))
        response = problem_response(from_budget_error(exc))
    except Exception:
        log.exception("request %s: unexpected error", loggable(rid))
        response = problem_response(internal(rid))
    secrets = secrets_to_mask()  # after dispatch: a request may have built the App (its channels count)
    try:
        shaped = integrated_response(response, request_id=rid, secrets=secrets)
    except Exception:
        log.exception("request %s: could not shape the response", loggable(rid))
        shaped = integrated_response(problem_response(internal(rid)), request_id=rid)
    log.info(
        "api %s %s -> %d in %.1f ms (request %s)",
        loggable(method),
        loggable(mask(_LINK_TOKEN.sub("/l/[token]", path), secrets)),  # tokens in URLs stay out of the log
        shaped["statusCode"],
        (time.monotonic() - started) * 1000,
        loggable(rid),
    )
    return shaped


__all__ = ["Response", "current_app", "get_app", "handle", "set_app"]
