"""Pydantic's validation errors retold in the words of a ``budgets.yaml`` user: what is wrong, what is allowed.

Pydantic speaks of "Input should be", "Tuple should have" and "Extra inputs"; a user wrote a YAML key, a
list or a number. Each error type the models can produce has its own sentence here; the loader puts the
budget, field and line in front. ``explain`` never returns pydantic's own phrasing: a type without a
sentence of its own gets a generic one built from the error's context.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Error:
    """One pydantic error, as the sentences below read it."""

    kind: str
    ctx: Mapping[str, Any]
    value: Any
    key: str | int | None
    allowed_keys: Sequence[str]
    on_key: bool
    msg: str


def _literal(e: _Error) -> str:
    expected = e.ctx.get("expected", "")
    return (
        f"unknown key {e.key!r}; allowed: {expected}"
        if e.on_key
        else f"must be one of {expected}, not {shown(e.value)}"
    )


# An action's mapping (it has the key ``at``) requires other things under the same names.
ACTION_REQUIRED_HINTS: dict[str, str] = {
    "type": "one of 'pause-zone', 'domains-offline' or 'stop-cdn-domain'",
    "at": "one of the budget's thresholds, e.g. 100",
}


def _required(e: _Error) -> str:
    hints = ACTION_REQUIRED_HINTS if "at" in e.allowed_keys else REQUIRED_HINTS
    hint = hints.get(str(e.key))
    return f"is required: {hint}" if hint else "is required"


def _mapping(e: _Error) -> str:
    keys = f" with the keys {', '.join(e.allowed_keys)}" if e.allowed_keys else ""
    return f"must be a mapping{keys}, not {shown(e.value)}"


def _string_too_short(e: _Error) -> str:
    least = e.ctx.get("min_length")
    return "must not be empty" if least == 1 else f"must be at least {least} characters"


# One sentence per pydantic error type a configuration can produce; _KINDS covers the plain type errors.
_SENTENCES: dict[str, Callable[[_Error], str]] = {
    "extra_forbidden": lambda e: unknown_key(str(e.key), e.allowed_keys),
    "missing": _required,
    "literal_error": _literal,
    "string_pattern_mismatch": lambda e: f"{shown(e.value)}: use only letters, digits, - and _",
    "string_too_short": _string_too_short,
    "string_too_long": lambda e: f"must be at most {e.ctx.get('max_length')} characters",
    "too_short": lambda e: f"list at least {_items(e.ctx.get('min_length'))}",
    "too_long": lambda e: f"at most {_items(e.ctx.get('max_length'))} (got {e.ctx.get('actual_length')})",
    "greater_than": lambda e: f"must be greater than {_bound(e.ctx.get('gt'))}, not {shown(e.value)}",
    "greater_than_equal": lambda e: f"must be at least {_bound(e.ctx.get('ge'))}, not {shown(e.value)}",
    "less_than": lambda e: f"must be less than {_bound(e.ctx.get('lt'))}, not {shown(e.value)}",
    "less_than_equal": lambda e: f"must be at most {_bound(e.ctx.get('le'))}, not {shown(e.value)}",
    "model_type": _mapping,
    "model_attributes_type": _mapping,
    "dataclass_type": _mapping,
    "value_error": lambda e: str(e.ctx.get("error") or e.msg).strip(),
    "assertion_error": lambda e: str(e.ctx.get("error") or e.msg).strip(),
}


def explain(error: Mapping[str, Any], key: str | int | None, allowed_keys: Sequence[str]) -> str:
    """The sentence for one pydantic error; ``key`` is the last part of its path, ``allowed_keys`` the
    keys the enclosing mapping accepts (empty when unknown)."""
    e = _Error(
        kind=str(error["type"]),
        ctx=error.get("ctx") or {},
        value=error.get("input"),
        key=key,
        allowed_keys=allowed_keys,
        on_key="[key]" in tuple(error.get("loc", ())),
        msg=str(error["msg"]),
    )
    sentence = _SENTENCES.get(e.kind)
    if sentence is not None:
        return sentence(e)
    if e.kind in _KINDS:
        return f"{_KINDS[e.kind]}, not {shown(e.value)}"
    # A type with no sentence of its own: say what pydantic checked without its phrasing.
    text = e.msg.split(", ", 1)[-1] if e.msg.startswith("Value error") else e.msg
    return text.replace("Input should be", "must be").replace("should have", "must have")
