"""The OpenAPI 3.1 document of the HTTP API, written as data (``GET /openapi.json``).

A test checks that every route in ``lib.api.routes.ROUTES`` is described here and nothing else is.
"""

from __future__ import annotations

import copy
from typing import Any

from lib.api.events import MAX_BODY
from lib.api.openapi_actions import add_actions
from lib.api.schemas import MATCHER_KEYS
from lib.sources import SOURCES
from lib.web.api_doc import WEB_PATHS

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_COMMON_ERRORS: dict[str, Any] = {
    "400": _error("Bad input: the message and details name each field"),
    "401": _error("Missing or wrong bearer token, or BUDGET_API_TOKEN is not set"),
    "413": _error(f"The body is larger than {MAX_BODY} bytes"),
    "500": _error("Unexpected error; the message names the request id to look up in the function log"),
    "503": _error("The function is not configured correctly, or the state store is unavailable"),
}


def _op(summary: str, ok: dict[str, Any], *, public: bool = False, **extra: Any) -> dict[str, Any]:
    responses = {**ok, **({} if public else _COMMON_ERRORS)}
    op: dict[str, Any] = {"summary": summary, "responses": responses, **extra}
    if public:
        op["security"] = []
    return op


# Read from the source registry, so a new source's metrics are described without editing this file.
_METRIC: dict[str, Any] = {
    "type": "string",
    "enum": [name for source in SOURCES.values() for name in source.metrics],
    "description": "a metric of the budget's source; " + "; ".join(s.description for s in SOURCES.values()),
}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_STRING_OR_NULL = {"type": ["string", "null"]}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": ["invalid_input", "unauthorized", "not_found"]},
                    "message": {"type": "string"},
                    "details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["field", "message"],
                            "properties": {
                                "field": {"type": "string"},
                                "message": {"type": "string"},
                                "type": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    },
    "Period": {
        "type": "object",
        "properties": {
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
        },
    },
    "Evaluation": {
        "type": "object",
        "required": ["budget", "group", "period", "value", "unit", "limit", "percent", "forecast", "level", "status"],
        "properties": {
            "budget": {"type": "string"},
            "group": {"type": "object", "additionalProperties": {"type": "string"}},
            "period": _ref("Period"),
            "value": _NUMBER_OR_NULL,
            "unit": {"type": "string"},
            "limit": _NUMBER_OR_NULL,
            "percent": _NUMBER_OR_NULL,
            "forecast": _NUMBER_OR_NULL,
            "level": _NUMBER_OR_NULL,
            "status": {"enum": ["ok", "firing", "resolved", "no-data", "error"]},
            "kind": {"enum": ["threshold", "forecast", "below", "runway", "spike", "no-data"]},
            "silenced": {"type": "boolean"},
            "error": {"type": "string"},
        },
    },
    "Result": {
        "description": "The result document of one check run (the same as `check --json` and the timer's)",
        "type": "object",
        "required": ["run_id", "at", "evaluations", "notifications", "errors"],
        "properties": {
            "run_id": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "trigger": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "evaluations": {"type": "array", "items": _ref("Evaluation")},
            "notifications": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "budget": {"type": "string"},
                        "channel": {"type": "string"},
                        "outcome": {"enum": ["sent", "skipped", "retry", "failed", "rejected", "dry-run"]},
                        "reason": {"type": "string"},
                    },
                },
            },
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Status": {
        "type": "object",
        "required": ["now", "budgets", "channels", "last_run", "evaluations", "firing", "runs", "failed_deliveries"],
        "properties": {
            "now": {"type": "string", "format": "date-time"},
            "timezone": {"type": "string"},
            "budgets": {"type": "array", "items": {"type": "object"}},
            "channels": {
                "description": "Channel names and types only; URLs and secrets are never shown",
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}, "type": {"type": "string"}}},
            },
            "last_run": {"oneOf": [_ref("RunSummary"), {"type": "null"}]},
            "evaluations": {"type": "array", "items": _ref("Evaluation")},
            "firing": {"type": "array", "items": _ref("Evaluation")},
            "runs": {"type": "array", "items": _ref("RunSummary")},
            "failed_deliveries": {"type": "array", "items": {"type": "object"}},
            "silences": {"type": "array", "items": _ref("Silence")},
            "problems": {"type": "array", "items": {"type": "string"}},
            "accounts": {
                "description": "With accounts: per member uin, evaluations, firing, errors and each budget's total",
                "type": "array",
                "items": {"type": "object", "properties": {"uin": {"type": "string"}, "totals": {"type": "object"}}},
            },
            "shards": {
                "description": "With accounts: the newest record of each fan-out shard",
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "tick": {"type": "string"},
                        "state": {"enum": ["running", "done", "failed", "lost"]},
                        "accounts": {"type": "integer"},
                    },
                },
            },
        },
    },
    "RunSummary": {
        "type": "object",
        "properties": {
            "run_id": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "trigger": {"type": "string"},
            "evaluations": {"type": "integer"},
            "deliveries": {"type": "object", "additionalProperties": {"type": "integer"}},
            "errors": {"type": "array", "items": {"type": "object"}},
            "age_seconds": _NUMBER_OR_NULL,
        },
    },
    "Usage": {
        "type": "object",
        "required": ["budget", "group", "points"],
        "properties": {
            "budget": {"type": "string"},
            "metric": _METRIC,
            "period": {"enum": ["day", "month"]},
            "group": {"type": "string", "description": "group label, e.g. zone-id=zone-1; empty for the whole budget"},
            "groups": {"type": "array", "items": {"type": "string"}, "description": "groups seen in the last run"},
            "unit": _STRING_OR_NULL,
            "account": _STRING_OR_NULL,
            "accounts": {
                "type": "object",
                "additionalProperties": {"type": "number"},
                "description": "a member budget: each member uin's total of the stored points this period",
            },
            "points": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"time": {"type": "string", "format": "date-time"}, "value": {"type": "number"}},
                },
            },
        },
    },
    "AlertPage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "next_cursor": {"type": ["string", "null"], "description": "pass as ?cursor= for the next page"},
        },
    },
    "Matchers": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "description": "exact values; a value ending in * matches by prefix",
        "properties": {k: {"type": "string"} for k in MATCHER_KEYS},
    },
    "Silence": {
        "type": "object",
        "required": ["id", "matchers", "starts_at", "ends_at", "comment", "created_by"],
        "properties": {
            "id": {"type": "string"},
            "matchers": _ref("Matchers"),
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"},
            "comment": {"type": "string"},
            "created_by": {"type": "string", "description": "token-N: the position of the caller's token"},
            "state": {"enum": ["active", "pending", "expired"]},
        },
    },
    "SilenceRequest": {
        "type": "object",
        "required": ["matchers"],
        "additionalProperties": False,
        "description": "give exactly one of ends_at or duration",
        "properties": {
            "matchers": _ref("Matchers"),
            "starts_at": {"type": "string", "format": "date-time", "description": "default: now"},
            "ends_at": {"type": "string", "format": "date-time"},
            "duration": {"type": "string", "examples": ["30m", "2h", "1d", "1h30m"]},
            "comment": {"type": "string", "maxLength": 1000},
        },
    },
    "CheckRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "dry_run": {"type": "boolean", "default": False, "description": "send nothing and write no state"},
            "at": {
                "type": "string",
                "format": "date-time",
                "description": "evaluate as of this past instant; needs dry_run: true",
            },
        },
    },
}

_IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "repeat a request with the same key to get the first answer back",
    "schema": {"type": "string", "maxLength": 255},
}


def _link_page_ops() -> dict[str, Any]:
    """``/l/{token}``: HTML pages, no bearer (the signed token is the authority)."""
    page = {"content": {"text/html": {"schema": {"type": "string"}}}}
    param = [{"name": "token", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 2048}}]
    refusals = {
        "400": {"description": "The link is damaged", **page},
        "403": {"description": "Tampered, a view link used to act, or the action names other targets", **page},
        "404": {"description": "Links are off here, or the action or budget is gone", **page},
        "409": {"description": "The link was used already, or the action's state forbids it", **page},
        "410": {"description": "The link has expired", **page},
    }
    ok = {"200": {"description": "What the link will do, and a form that posts to the same address", **page}}
    done = {"200": {"description": "Done: the result page", **page}}
    return {
        "get": _op("A signed link's confirmation page (never acts)", {**ok, **refusals}, public=True, parameters=param),
        "head": _op("The confirmation page's status, no body", {**ok, **refusals}, public=True, parameters=param),
        "post": _op("Act on a signed link, once", {**done, **refusals}, public=True, parameters=param),
    }


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Budget alerts for Tencent Cloud",
        "version": "1",
        "description": "Status, usage, on-demand checks, silences and budget actions. Every route but /health needs "
        "`Authorization: Bearer <token>` with a token from BUDGET_API_TOKEN.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": _SCHEMAS,
    },
    "security": [{"bearer": []}],
    "paths": {
        "/health": {
            "get": _op(
                "Liveness; no token needed",
                {"200": _json({"type": "object", "properties": {"status": {"const": "ok"}}}, "Alive")},
                public=True,
            )
        },
        "/status": {
            "get": _op(
                "Budgets, latest values and forecasts, firing alerts, recent runs, failed deliveries",
                {"200": _json(_ref("Status"), "Current status")},
                parameters=[
                    {
                        "name": "runs",
                        "in": "query",
                        "description": "how many recent runs to list",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
                    }
                ],
            )
        },
        "/usage": {
            "get": _op(
                "The stored usage series of one budget and group",
                {"200": _json(_ref("Usage"), "The series"), "404": _error("No such budget")},
                parameters=[
                    {"name": "budget", "in": "query", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "group",
                        "in": "query",
                        "description": "group label such as zone-id=zone-1 (several joined by commas)",
                        "schema": {"type": "string", "default": ""},
                    },
                    {
                        "name": "account",
                        "in": "query",
                        "description": "a member budget: only this member uin's groups (issue 18)",
                        "schema": {"type": "string", "default": ""},
                    },
                ],
            )
        },
        "/check": {
            "post": _op(
                "Run a check now: collect, evaluate, notify, record",
                {
                    "200": _json(_ref("Result"), "The result document (a replay when Idempotent-Replayed is true)"),
                    "409": _error("A request with this Idempotency-Key is still running; retry after Retry-After"),
                    "422": _error("The Idempotency-Key was used with a different body"),
                    "502": _error("Tencent Cloud could not be reached or answered with an error"),
                },
                parameters=[_IDEMPOTENCY_KEY],
                requestBody={
                    "required": False,
                    "content": {"application/json": {"schema": _ref("CheckRequest")}},
                },
            )
        },
        "/alerts": {
            "get": _op(
                "Alert history, newest first",
                {"200": _json(_ref("AlertPage"), "One page")},
                parameters=[
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    },
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
            )
        },
        "/silences": {
            "get": _op(
                "Current and future silences",
                {
                    "200": _json(
                        {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Silence")}}},
                        "The silences",
                    )
                },
                parameters=[
                    {
                        "name": "expired",
                        "in": "query",
                        "description": "also list silences that are over",
                        "schema": {"type": "boolean", "default": False},
                    }
                ],
            ),
            "post": _op(
                "Create a silence",
                {
                    "201": _json(_ref("Silence"), "Created; Location names it"),
                    "409": _error("Too many current and future silences, or the Idempotency-Key is in use"),
                    "422": _error("The Idempotency-Key was used with a different body"),
                },
                parameters=[_IDEMPOTENCY_KEY],
                requestBody={"required": True, "content": {"application/json": {"schema": _ref("SilenceRequest")}}},
            ),
        },
        "/silences/{id}": {
            "delete": _op(
                "Delete a silence",
                {
                    "200": _json({"type": "object", "properties": {"id": {"type": "string"}}}, "Deleted"),
                    "404": _error("No such silence"),
                },
                parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            )
        },
        "/openapi.json": {"get": _op("This document", {"200": _json({"type": "object"}, "OpenAPI 3.1")})},
        # --- issue 16: one-click links ---
        "/l/{token}": _link_page_ops(),
        **WEB_PATHS,  # issue 17 web: the dashboard's pages and charts (lib/web/api_doc.py)
    },
}

# Issue 16: GET /actions, GET /actions/{id}, POST /actions/{id}/approve|undo and the action schemas.
add_actions(_SCHEMAS, _DOCUMENT["paths"], op=_op, json_=_json, error=_error, ref=_ref, idempotency=_IDEMPOTENCY_KEY)


def document() -> dict[str, Any]:
    """A fresh copy, so a caller cannot change what the next request sees."""
    return copy.deepcopy(_DOCUMENT)
