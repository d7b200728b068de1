"""Pydantic's validation errors retold in the words of a ``budgets.yaml`` user: what is wrong, what is allowed.

Pydantic speaks of "Input should be", "Tuple should have" and "Extra inputs"; a user wrote a YAML key, a
list or a number. Each error type the models can produce has its own sentence here; the loader puts the
budget, field and line in front. ``explain`` never returns pydantic's own phrasing: a type without a
sentence of its own gets a generic one built from the error's context.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

# What a required key holds, for "is required" (the only required keys: Budget's and Channel's).
REQUIRED_HINTS: dict[str, str] = {
    "name": "a unique name of letters, digits, - and _",
    "source": "one of 'teo' or 'billing'",
    "metric": "the metric to watch, e.g. acc_flux or cost",
    "type": "one of 'wecom', 'dingtalk', 'feishu', 'slack' or 'webhook'",
    "url": "the robot's or webhook's http(s):// URL",
}

_KINDS: dict[str, str] = {
    "string_type": "must be text, e.g. a quoted string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number like 3",
    "int_parsing": "must be a whole number like 3 (digits 0-9)",
    "int_from_float": "must be a whole number like 3, without a fraction",
    "float_type": "must be a number like 2.5",
    "float_parsing": "must be a number like 2.5 (digits 0-9)",
    "finite_number": "must be a finite number like 2.5",
    "decimal_type": "must be a number like 10 or a quantity like 10TB",
    "decimal_parsing": "must be a number like 10 or a quantity like 10TB",
    "tuple_type": "must be a list, e.g. [a, b]",
    "list_type": "must be a list, e.g. [a, b]",
    "set_type": "must be a list, e.g. [a, b]",
    "dict_type": "must be a mapping of key: value",
    "mapping_type": "must be a mapping of key: value",
}

_MAX_SHOWN = 40


def shown(value: Any) -> str:
    """A scalar the user wrote, quoted, when short; containers and long text are only described.

    Never cut short: the loader hides values that came from ``${VAR}`` by finding them whole.
    """
    if isinstance(value, dict | list | tuple | set):
        return "a list" if isinstance(value, list | tuple | set) else "a mapping"
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else f"a value of {len(str(value))} characters"


def _bound(value: Any) -> str:
    """A bound from a Field constraint as the user would write it: 1, not 1.0."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _items(count: Any) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def unknown_key(key: str, allowed: Sequence[str]) -> str:
    """``unknown key 'limt' (did you mean 'limit'?); allowed: name, source, ...``."""
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}; allowed: {', '.join(allowed)}" if allowed else f"unknown key {key!r}{hint}"


def explain(error: Mapping[str, Any], key: str | int | None, allowed_keys: Sequence[str]) -> str:
    """The sentence for one pydantic error; ``key`` is the last part of its path, ``allowed_keys`` the
    keys the enclosing mapping accepts (empty when unknown)."""
    kind = str(error["type"])
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    on_key = "[key]" in tuple(error.get("loc", ()))
    if kind == "extra_forbidden":
        return unknown_key(str(key), allowed_keys)
    if kind == "missing":
        hint = REQUIRED_HINTS.get(str(key))
        return f"is required: {hint}" if hint else "is required"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        if on_key:
            return f"unknown key {key!r}; allowed: {expected}"
        return f"must be one of {expected}, not {shown(value)}"
    if kind == "string_pattern_mismatch":
        return f"{shown(value)}: use only letters, digits, - and _"
    if kind == "string_too_short":
        return (
            "must not be empty"
            if ctx.get("min_length") == 1
            else f"must be at least {ctx.get('min_length')} characters"
        )
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"list at least {_items(ctx.get('min_length'))}"
    if kind == "too_long":
        return f"at most {_items(ctx.get('max_length'))} (got {ctx.get('actual_length')})"
    if kind == "greater_than":
        return f"must be greater than {_bound(ctx.get('gt'))}, not {shown(value)}"
    if kind == "greater_than_equal":
        return f"must be at least {_bound(ctx.get('ge'))}, not {shown(value)}"
    if kind == "less_than":
        return f"must be less than {_bound(ctx.get('lt'))}, not {shown(value)}"
    if kind == "less_than_equal":
        return f"must be at most {_bound(ctx.get('le'))}, not {shown(value)}"
    if kind in ("model_type", "model_attributes_type", "dataclass_type"):
        keys = f" with the keys {', '.join(allowed_keys)}" if allowed_keys else ""
        return f"must be a mapping{keys}, not {shown(value)}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or error["msg"]).strip()
    if kind in _KINDS:
        return f"{_KINDS[kind]}, not {shown(value)}"
    # A type with no sentence of its own: say what pydantic checked without its phrasing.
    text = str(error["msg"]).split(", ", 1)[-1] if str(error["msg"]).startswith("Value error") else str(error["msg"])
    return text.replace("Input should be", "must be").replace("should have", "must have")
