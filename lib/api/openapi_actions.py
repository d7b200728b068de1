"""The OpenAPI description of the ``/actions`` routes and the action schemas (issue 16), added to ``lib.api.openapi``.

Kept apart so the main document stays readable; ``add_actions`` receives that module's small builders
(``op``, ``json_``, ``error``, ``ref``) rather than importing them, so neither module imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lib.api.action_views import STATES

Builder = Callable[..., dict[str, Any]]

_TRANSITION: dict[str, Any] = {
    "type": "object",
    "required": ["state", "at", "by"],
    "properties": {
        "state": {"enum": list(STATES)},
        "at": {"type": "string", "format": "date-time"},
        "by": {"type": "string", "description": "automatic, run:<id>, resume:<id>, period-end, token-N, link …"},
        "request_ids": {"type": "array", "items": {"type": "string"}, "description": "the API's RequestIds"},
        "reason": {"type": "string"},
        "results": {"type": "array", "items": {"type": "object"}, "description": "each target's outcome"},
    },
}


def _action(ref: Builder) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "state", "type", "budget", "group", "targets"],
        "properties": {
            "id": {"type": "string", "pattern": "^act_[0-9a-f]{24}$"},
            "state": {"enum": list(STATES)},
            "type": {"enum": ["pause-zone", "domains-offline", "stop-cdn-domain"]},
            "budget": {"type": "string"},
            "group": {"type": "object", "additionalProperties": {"type": "string"}},
            "targets": {"type": "array", "items": {"type": "string"}},
            "summary": {"type": "string"},
            "approval": {"enum": ["manual", "automatic"]},
            "undo": {"enum": ["manual", "period-end"]},
            "level": {"type": ["number", "null"]},
            "period": {"type": "object"},
            "expires_at": {"type": "string", "format": "date-time"},
            "created_at": {"type": "string", "format": "date-time"},
            "changed_at": {"type": "string", "format": "date-time"},
            "by": {"type": "string"},
            "request_ids": {"type": "array", "items": {"type": "string"}},
            "trail": {"type": "array", "items": ref("ActionTransition")},
        },
    }


_ROW: dict[str, Any] = {
    "description": "A budget action this run decided or moved (DESIGN §3.4)",
    "type": "object",
    "required": ["id", "budget", "group", "type", "targets", "state"],
    "properties": {
        "id": {"type": "string"},
        "budget": {"type": "string"},
        "group": {"type": "object", "additionalProperties": {"type": "string"}},
        "type": {"type": "string"},
        "targets": {"type": "array", "items": {"type": "string"}},
        "state": {"enum": [*STATES, "dry-run"]},
        "approval": {"enum": ["manual", "automatic"]},
        "trigger": {"enum": ["measured", "forecast", "spike"]},
        "by": {"type": "string"},
        "request_ids": {"type": "array", "items": {"type": "string"}},
    },
}


def add_actions(
    schemas: dict[str, Any],
    paths: dict[str, Any],
    *,
    op: Builder,
    json_: Builder,
    error: Builder,
    ref: Builder,
    idempotency: dict[str, Any],
) -> None:
    """Add the action schemas, the result's and status's ``actions`` and the four ``/actions`` operations."""
    schemas["Action"] = _action(ref)
    schemas["ActionTransition"] = _TRANSITION
    schemas["ActionRow"] = _ROW
    schemas["Result"]["properties"]["actions"] = {"type": "array", "items": ref("ActionRow")}
    schemas["Status"]["properties"]["actions"] = {
        "type": "object",
        "properties": {
            "pending": {"type": "array", "items": ref("Action")},
            "recent": {"type": "array", "items": ref("Action")},
        },
    }
    acted = {
        "allOf": [
            ref("Action"),
            {
                "type": "object",
                "properties": {
                    "acted": {"type": "boolean", "description": "whether this request moved the action"},
                    "outcome": {"type": "string"},
                },
            },
        ]
    }
    path_id = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
    paths["/actions"] = {
        "get": op(
            "Budget actions with their state and audit trail, newest first",
            {
                "200": json_(
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": ref("Action")},
                            "total": {"type": "integer"},
                        },
                    },
                    "The actions",
                )
            },
            parameters=[
                {"name": "state", "in": "query", "schema": {"enum": list(STATES)}},
                {"name": "budget", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            ],
        )
    }
    paths["/actions/{id}"] = {
        "get": op(
            "One budget action with its audit trail",
            {"200": json_(ref("Action"), "The action"), "404": error("No such action")},
            parameters=path_id,
        )
    }
    for verb, summary, conflict in (
        ("approve", "Approve a pending action: it executes now", "It is not waiting for approval (done, expired …)"),
        ("undo", "Undo a done action: each target goes back to its status before", "There is nothing to undo"),
    ):
        paths[f"/actions/{{id}}/{verb}"] = {
            "post": op(
                summary,
                {
                    "200": json_(acted, "The action as it stands now"),
                    "404": error("No such action"),
                    "409": error(f"{conflict}; or the Idempotency-Key is in use"),
                    "422": error("The Idempotency-Key was used with another request"),
                },
                parameters=[*path_id, idempotency],
            )
        }


__all__ = ["add_actions"]
