"""``${VAR}`` expansion in configuration values, so secrets stay in the function's environment.

``${VAR}`` is replaced by the variable's value; ``${VAR:-default}`` falls back when it is unset or
empty; ``$${`` writes a literal ``${``. A missing variable is an error naming it (never its value).
Only values are expanded, never keys, and only after YAML parsing, so a value cannot change the
document's structure; an expanded value is never expanded again. ``used`` collects which variable gave
which value, so an error about the value can name the variable instead of showing it (it may be a secret).
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


def expand_text(text: str, environ: Mapping[str, str], used: dict[str, str] | None = None) -> str:
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
            if used is not None:
                used[name] = value
            return value
        if sep:
            return default
        if value is None:
            raise ValueError(f"environment variable {name} is not set")
        return value

    return _TOKEN.sub(replace, text)


def expand(
    data: Any, environ: Mapping[str, str], path: Path = (), *, used: dict[str, str] | None = None
) -> tuple[Any, list[ExpansionProblem]]:
    """A copy of ``data`` with every string value expanded, and every problem found (all, not just the first)."""
    problems: list[ExpansionProblem] = []
    if isinstance(data, str):
        try:
            return expand_text(data, environ, used), problems
        except ValueError as exc:
            return data, [ExpansionProblem(path, str(exc))]
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            out[key], found = expand(value, environ, (*path, str(key)), used=used)
            problems.extend(found)
        return out, problems
    if isinstance(data, list):
        items = []
        for index, value in enumerate(data):
            item, found = expand(value, environ, (*path, index), used=used)
            items.append(item)
            problems.extend(found)
        return items, problems
    return data, problems


# Shorter values are not secrets, and masking them would garble unrelated words of a message.
MIN_HIDDEN = 6


def hide_values(text: str, used: Mapping[str, str]) -> str:
    """``text`` with every expanded value (of ``MIN_HIDDEN`` characters or more) written as its ``${VAR}``."""
    for name, value in sorted(used.items(), key=lambda item: len(item[1]), reverse=True):
        if len(value) < MIN_HIDDEN:
            continue
        # Messages quote values with repr(), which escapes quotes, backslashes and control characters.
        for form in (value, repr(value)[1:-1], repr(value)):
            if form in text:
                text = text.replace(form, "${" + name + "}")
    return text
