"""YAML parsing that remembers where each key and list item is, so errors can name their line.

``safe_load`` semantics (no Python objects); a key written twice in one mapping is refused, because
YAML would silently keep the last one. Hostile documents are refused with a line before they can cost
anything: nesting deeper than ``MAX_DEPTH`` (or an alias that contains itself), more than ``MAX_NODES``
values once aliases are counted where they are used (the "billion laughs"), control characters, and
scalars Python cannot hold (a 5,000-digit integer, the 30th of February).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from lib.errors import ConfigError

Path = tuple[str | int, ...]

# A real budgets.yaml is 4-6 levels deep and a few thousand values; these bounds are far above that
# and far below what would exhaust the stack or the function's memory.
MAX_DEPTH = 64
MAX_NODES = 100_000


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops composing past ``MAX_DEPTH``, before Python's recursion limit is reached."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # int("9"*5000), date(2024, 13, 45), float("abc") ...
            text = str(node.value) if isinstance(node, yaml.ScalarNode) else node.tag
            short = text if len(text) <= 40 else text[:37] + "..."
            kind = node.tag.rsplit(":", 1)[-1]
            reason = "too many digits" if "digits" in str(exc) else str(exc)
            raise ConstructorError(None, None, f"cannot read {short!r} as {kind} ({reason})", node.start_mark) from exc


def load_yaml(text: str) -> tuple[Any, dict[Path, int]]:
    """The document's data and a map from key path (``("budgets", 0, "limit")``) to its 1-based line."""
    try:
        loader = _Loader(text)  # the reader refuses control characters as soon as it sees the text
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {_reader_problem(exc)}", line=_reader_line(text, exc)) from exc
    lines: dict[Path, int] = {(): 1}
    try:
        node = loader.get_single_node()
        if node is not None:
            # Walk before constructing: the walk is what refuses alias bombs and alias cycles.
            _walk(node, (), lines, [0])
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"not valid YAML: {problem}", line=line) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {_reader_problem(exc)}", line=_reader_line(text, exc)) from exc
    except RecursionError as exc:  # defensive: MAX_DEPTH should stop every path that recurses
        raise ConfigError(f"not valid YAML: nested too deeply (at most {MAX_DEPTH} levels)") from exc
    finally:
        loader.dispose()
    return data, lines


def _reader_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        return f"character U+{char:04X} is not allowed (YAML refuses control characters and lone surrogates)"
    return str(exc).splitlines()[0]


def _reader_line(text: str, exc: yaml.YAMLError) -> int | None:
    if isinstance(exc, yaml.reader.ReaderError) and isinstance(exc.position, int):
        return text.count("\n", 0, exc.position) + 1
    return None


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int], count: list[int]) -> None:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise ConfigError(
            f"the document has more than {MAX_NODES} values once aliases (*name) are expanded",
            line=node.start_mark.line + 1,
        )
    if len(path) > MAX_DEPTH:  # only aliases get here: an alias inside its own anchor, or a deep chain of them
        raise ConfigError(
            f"nested more than {MAX_DEPTH} levels deep (an alias inside its own anchor?)", line=node.start_mark.line + 1
        )
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError("a key must be a plain name, not a list or a mapping", line=line)
            key = str(key_node.value)
            if key in seen and key != "<<":
                raise ConfigError(f"key {key!r} appears twice (lines {seen[key]} and {line})", line=line)
            seen[key] = line
            child: Path = (*path, key)
            lines[child] = line
            _walk(value_node, child, lines, count)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines, count)


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest ancestor that is written in the file."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None
