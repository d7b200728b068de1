"""The OpenAPI document describes exactly the routes the router serves, and its references resolve."""

from __future__ import annotations

import json
import re
from typing import Any

from lib.api.openapi import document
from lib.api.routes import ROUTES


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_document_matches_the_router() -> None:
    doc = document()
    described = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    served = {(r.method, r.template) for r in ROUTES}
    assert described == served


def test_public_and_protected_routes_agree() -> None:
    doc = document()
    for route in ROUTES:
        op = doc["paths"][route.template][route.method.lower()]
        assert (op.get("security") == []) == (not route.auth), route.template
        if route.auth:
            assert "401" in op["responses"]


def test_every_reference_resolves_and_path_params_are_declared() -> None:
    doc = document()
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"], ref
    for path, ops in doc["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
            assert all(code.isdigit() for code in op["responses"])


def test_document_is_json_and_a_fresh_copy() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    json.dumps(doc, allow_nan=False)
    doc["paths"].clear()
    assert document()["paths"]
