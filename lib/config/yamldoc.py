"""YAML parsing that remembers where each key and list item is, so errors can name their line.

``safe_load`` semantics (no Python objects); a key written twice in one mapping is refused, because
YAML would silently keep the last one. Hostile documents are refused with a line before they can cost
anything: nesting deeper than ``MAX_DEPTH`` (or an alias that contains itself), more than ``MAX_NODES``
values once aliases are counted where they are used (the "billion laughs"), control characters, and
scalars Python cannot hold (a 5,000-digit integer, the 30th of February).

The document is built straight from the parser's events (``_Events``), without PyYAML's node graph:
the graph of a 10,000-budget file costs about 80 MB (a node and two marks per value), more than the
rest of a run together. A document the event builder does not handle the way ``safe_load`` would (a
tag on a list or mapping, an alias to an unfinished or unknown anchor, a repeated anchor, an alias
expansion past the bounds) is read again through the node graph, so it gets the same answer and the
same error as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

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
        return _load(text, streaming=True)
    except _NeedsNodes:
        return _load(text, streaming=False)


def _load(text: str, *, streaming: bool) -> tuple[Any, dict[Path, int]]:
    try:
        loader = _Loader(text)  # the reader refuses control characters as soon as it sees the text
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {_reader_problem(exc)}", line=_reader_line(text, exc)) from exc
    lines: dict[Path, int] = {(): 1}
    try:
        if streaming:
            return _Events(loader, lines).document(), lines
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


class _NeedsNodes(Exception):
    """The document uses YAML the event builder leaves to the node graph (see the module docstring)."""


_DEFAULT_TAGS = (None, "!")
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"
_STR = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class _Anchor:
    value: Any
    line: int  # where it starts: the line a list item that is an alias to it is reported at, as the node graph does
    count: int  # values in it, itself included (what an alias to it adds to the document's count)
    depth: int  # its deepest path below itself
    lines: tuple[tuple[Path, int], ...]  # lines of its keys and items, relative to it


class _Events:
    """Builds ``safe_load``'s data and the line map from parser events, one value at a time."""

    def __init__(self, loader: _Loader, lines: dict[Path, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.count = 0
        self.anchors: dict[str, _Anchor] = {}
        self.recording: list[tuple[int, list[tuple[Path, int]]]] = []  # (root path length, lines) per open anchor
        self.open_anchors: list[str] = []  # anchors being built: an alias to one of them is a cycle

    def document(self) -> Any:
        loader = self.loader
        loader.get_event()  # type: ignore[no-untyped-call]  # StreamStartEvent
        if loader.check_event(StreamEndEvent):
            return None
        if not loader.check_event(DocumentStartEvent):
            raise _NeedsNodes
        loader.get_event()  # type: ignore[no-untyped-call]
        value = self.value((), 1)
        loader.get_event()  # type: ignore[no-untyped-call]  # DocumentEndEvent
        if not loader.check_event(StreamEndEvent):
            raise _NeedsNodes  # another document: the composer's own error says so
        return value

    def line(self, path: Path, line: int) -> None:
        self.lines[path] = line
        for root, recorded in self.recording:
            recorded.append((path[root:], line))

    def value(self, path: Path, depth: int) -> Any:
        loader = self.loader
        event = loader.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if depth > MAX_DEPTH:
            raise ConfigError(f"not valid YAML: nested more than {MAX_DEPTH} levels deep", line=line)
        if isinstance(event, AliasEvent):
            return self.alias(event.anchor, path)
        anchor = getattr(event, "anchor", None)
        if anchor is None:
            return self.node(path, depth)
        if anchor in self.anchors or anchor in self.open_anchors:
            raise _NeedsNodes  # a repeated anchor: the composer refuses it
        self.open_anchors.append(anchor)
        recorded: list[tuple[Path, int]] = []
        self.recording.append((len(path), recorded))
        before = self.count
        try:
            value = self.node(path, depth)
        finally:
            self.recording.pop()
            self.open_anchors.pop()
        deepest = max((len(rel) for rel, _ in recorded), default=0)
        self.anchors[anchor] = _Anchor(value, line, self.count - before, deepest, tuple(recorded))
        return value

    def alias(self, name: str | None, path: Path) -> Any:
        anchor = self.anchors.get(name or "")
        # Unknown, unfinished (an alias inside its own anchor) or too deep: the node graph's answer.
        if anchor is None or len(path) + anchor.depth > MAX_DEPTH:
            raise _NeedsNodes
        event = self.loader.get_event()  # type: ignore[no-untyped-call]
        self.count += anchor.count - 1
        self.counted(event.start_mark.line + 1)  # the "billion laughs" stops here, at the alias that overflows
        for rel, line in anchor.lines:
            self.line((*path, *rel), line)
        return anchor.value

    def counted(self, line: int) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise ConfigError(
                f"the document has more than {MAX_NODES} values once aliases (*name) are expanded", line=line
            )

    def node(self, path: Path, depth: int) -> Any:
        loader = self.loader
        event = loader.get_event()  # type: ignore[no-untyped-call]
        self.counted(event.start_mark.line + 1)
        if isinstance(event, ScalarEvent):
            return self.scalar(event)
        if event.tag not in (*_DEFAULT_TAGS, _MAP, _SEQ):
            raise _NeedsNodes  # !!set, !!omap, !!pairs or a custom tag on a collection
        if isinstance(event, SequenceStartEvent):
            items: list[Any] = []
            while not loader.check_event(SequenceEndEvent):
                child: Path = (*path, len(items))
                self.line(child, self.item_line(loader.peek_event()))  # type: ignore[no-untyped-call]
                items.append(self.value(child, depth + 1))
            loader.get_event()  # type: ignore[no-untyped-call]
            return items
        if isinstance(event, MappingStartEvent):
            return self.mapping(path, depth)
        raise _NeedsNodes  # not reached: the parser gives a value here

    def item_line(self, event: Any) -> int:
        """A list item's line: where its value starts, which for an alias is its anchor's line."""
        anchor = self.anchors.get(event.anchor or "") if isinstance(event, AliasEvent) else None
        return anchor.line if anchor is not None else int(event.start_mark.line) + 1

    def scalar(self, event: ScalarEvent) -> Any:
        tag = event.tag
        if tag in _DEFAULT_TAGS:
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        start: Any = event.start_mark  # a Mark from either the Python or the C parser
        end: Any = event.end_mark
        node = yaml.ScalarNode(tag, event.value, start, end, style=event.style)
        try:
            return self.loader.construct_object(node, deep=True)
        finally:
            self.loader.constructed_objects.clear()  # the constructor's memo would keep every node alive

    def mapping(self, path: Path, depth: int) -> Any:
        loader = self.loader
        own: dict[Any, Any] = {}
        merged: list[tuple[Any, Any]] = []
        seen: dict[str, int] = {}
        while not loader.check_event(MappingEndEvent):
            key_event = loader.peek_event()  # type: ignore[no-untyped-call]
            line = key_event.start_mark.line + 1
            if depth + 1 > MAX_DEPTH:
                raise ConfigError(f"not valid YAML: nested more than {MAX_DEPTH} levels deep", line=line)
            if isinstance(key_event, MappingStartEvent | SequenceStartEvent):
                raise ConfigError("a key must be a plain name, not a list or a mapping", line=line)
            if not isinstance(key_event, ScalarEvent) or key_event.anchor is not None:
                raise _NeedsNodes  # an alias or an anchor as a key
            loader.get_event()  # type: ignore[no-untyped-call]
            key = str(key_event.value)
            if key in seen and key != "<<":
                raise ConfigError(f"key {key!r} appears twice (lines {seen[key]} and {line})", line=line)
            seen[key] = line
            child: Path = (*path, key)
            self.line(child, line)
            tag = key_event.tag
            if tag in _DEFAULT_TAGS:
                tag = loader.resolve(yaml.ScalarNode, key_event.value, key_event.implicit)  # type: ignore[no-untyped-call]
            if tag == _MERGE:
                merged.extend(self.merge(self.value(child, depth + 1)))
                continue
            if tag == _VALUE:
                key_event = ScalarEvent(
                    None, _STR, (True, False), key_event.value, key_event.start_mark, key_event.end_mark
                )
            own[self.scalar(key_event)] = self.value(child, depth + 1)
        loader.get_event()  # type: ignore[no-untyped-call]
        if not merged:
            return own
        # safe_load's order: merged keys first (the first mapping listed wins), the mapping's own keys win over all.
        data = dict(merged)
        data.update(own)
        return data

    @staticmethod
    def merge(value: Any) -> list[tuple[Any, Any]]:
        """The pairs a ``<<`` value adds, in the order ``safe_load`` applies them (later pairs win)."""
        if isinstance(value, dict):
            return list(value.items())
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return [pair for item in reversed(value) for pair in item.items()]
        raise _NeedsNodes  # the composer's own error names what it found instead


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
