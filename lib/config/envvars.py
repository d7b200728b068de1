"""``${VAR}`` expansion in configuration values, so secrets stay in the function's environment.

``${VAR}`` is replaced by the variable's value; ``${VAR:-default}`` falls back when it is unset or
empty; ``$${`` writes a literal ``${``. A missing variable is an error naming it (never its value).
Only values are expanded, never keys, and only after YAML parsing, so a value cannot change the
document's structure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Path = tuple[str | int, ...]

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ExpansionProblem(ValueError):
    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def expand_text(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with every ``${VAR}`` replaced; raises ValueError naming the first problem."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        inner = match.group(1)
        if inner is None:
            raise ValueError("'${' is not closed by '}' (write $${ for a literal ${)")
        name, sep, default = inner.partition(":-")
        if not _NAME.match(name):
            raise ValueError(f"${{{inner}}} is not a variable reference: names are letters, digits and _")
        value = environ.get(name)
        if value:
            return value
        if sep:
            return default
        if value is None:
            raise ValueError(f"environment variable {name} is not set")
        return value

    return _TOKEN.sub(replace, text)


def expand(data: Any, environ: Mapping[str, str], path: Path = ()) -> tuple[Any, list[ExpansionProblem]]:
    """A copy of ``data`` with every string value expanded, and every problem found (all, not just the first)."""
    problems: list[ExpansionProblem] = []
    if isinstance(data, str):
        try:
            return expand_text(data, environ), problems
        except ValueError as exc:
            return data, [ExpansionProblem(path, str(exc))]
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            out[key], found = expand(value, environ, (*path, str(key)))
            problems.extend(found)
        return out, problems
    if isinstance(data, list):
        items = []
        for index, value in enumerate(data):
            item, found = expand(value, environ, (*path, index))
            items.append(item)
            problems.extend(found)
        return items, problems
    return data, problems
