"""The OpenAPI description of the dashboard's routes (issue 17), merged into ``lib.api.openapi``'s document.

These routes answer HTML pages or chart images and check their own authority (a session cookie, a signed
view link, or a bearer token for charts), so the router asks for no bearer: ``security: []``.
"""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _json_error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": responses, "security": [], **extra}


def _form(field: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {field: {"type": "string"}}}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


_ACTION_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
_BUTTON = {
    "303": {"description": "Done: back to the dashboard (Location)"},
    "401": _html("No valid session"),
    "403": _html("A view link, a missing or wrong CSRF token, or a form from another site"),
    "404": _html("No such action"),
}
_CHART_PARAMS = [
    {"name": "budget", "in": "path", "required": True, "schema": {"type": "string"}},
    {
        "name": "t",
        "in": "query",
        "description": "a signed view link naming the budget or *",
        "schema": {"type": "string"},
    },
    {"name": "width", "in": "query", "description": "phone: laid out 400 px wide", "schema": {"enum": ["phone"]}},
]
_CHART_ERRORS = {
    "401": _json_error("No bearer token, session or valid view link for this budget"),
    "404": _json_error("No such budget"),
}

WEB_PATHS: dict[str, Any] = {
    "/": {
        "get": _op(
            "The dashboard for a session cookie or a signed view link (?v=, read-only); otherwise the sign-in form",
            {"200": _html("The dashboard or the sign-in form"), "401": _html("The session is not valid: sign in")},
            parameters=[
                {"name": "v", "in": "query", "description": "a signed view link", "schema": {"type": "string"}}
            ],
        )
    },
    "/login": {
        "post": _op(
            "Exchange an API token (form field token) for a session cookie (HttpOnly, Secure, SameSite=Strict)",
            {"303": {"description": "Signed in: Set-Cookie, Location /"}, "401": _html("Not a valid token")},
            requestBody=_form("token"),
        )
    },
    "/logout": {"post": _op("End the dashboard session", _BUTTON, requestBody=_form("csrf"))},
    "/dashboard/actions/{id}/approve": {
        "post": _op("Dashboard button: approve an action", _BUTTON, parameters=_ACTION_ID, requestBody=_form("csrf"))
    },
    "/dashboard/actions/{id}/undo": {
        "post": _op("Dashboard button: undo an action", _BUTTON, parameters=_ACTION_ID, requestBody=_form("csrf"))
    },
    "/charts/{budget}.svg": {
        "get": _op(
            "One budget's chart as SVG (bearer token, session cookie or view link)",
            {"200": {"description": "The chart", "content": {"image/svg+xml": {}}}, **_CHART_ERRORS},
            parameters=_CHART_PARAMS,
        )
    },
    "/charts/{budget}.png": {
        "get": _op(
            "One budget's chart as PNG with English labels (bearer token, session cookie or view link)",
            {
                "200": {"description": "The chart (base64 through a Function URL)", "content": {"image/png": {}}},
                **_CHART_ERRORS,
            },
            parameters=_CHART_PARAMS,
        )
    },
}
