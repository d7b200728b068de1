"""The event builder of ``lib.config.yamldoc`` gives what the node graph gives: the same data, the same
line map, the same error; and it does so without holding the document's node graph in memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.config import yamldoc
from lib.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _answer(load: Any, text: str) -> Any:
    try:
        return load(text)
    except ConfigError as exc:
        return ("error", exc.message.split(": ", 1)[-1], exc.line)


def both(text: str) -> tuple[Any, Any]:
    """(``load_yaml``'s answer, the node graph's answer): each ``(data, lines)`` or the error's text and line."""
    return _answer(yamldoc.load_yaml, text), _answer(lambda t: yamldoc._load(t, streaming=False), text)


def streams(text: str) -> bool:
    """Whether the event builder answers ``text`` itself, without falling back to the node graph."""
    try:
        yamldoc._load(text, streaming=True)
    except yamldoc._NeedsNodes:
        return False
    except ConfigError:
        pass
    return True


DOCUMENTS = [
    "",
    "# only a comment\n",
    "a: 1\n",
    "- 1\n- two\n- [3, {four: 4}]\n",
    "just text\n",
    (REPO / "budgets.yaml").read_text(encoding="utf-8"),
    "a: &x {b: 1, c: [1, 2]}\nd: *x\ne: {f: *x}\n",
    "base: &base {period: day, limit: 1TB}\nbudgets:\n- <<: *base\n  name: a\n  limit: 2TB\n- {<<: *base, name: b}\n",
    "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc: {<<: [*a, *b], w: 0}\nd: {<<: [*b, *a]}\n",
    "a: &a {x: 1}\nb: {<<: *a, <<: {x: 2, y: 2}}\n",
    "a: {<<: {x: 1}, x: 2}\n",
    "a: {=: 1}\n",
    "a: !!str 1\nb: !!int '2'\nc: !!float '3'\nd: !!binary aGk=\ne: 2026-11-01\nf: 2026-11-01T00:00:00+08:00\n",
    "a: ~\nb: null\nc: yes\nd: no\ne: 0x1F\nf: 1_000\ng: .inf\nh: -.nan\ni: 0o17\n",
    "1: a\n2.5: b\nnull: c\ntrue: d\n",
    "a: !!set {x, y}\n",
    "a: !!omap [x: 1, y: 2]\n",
    "a: !!pairs [x: 1, x: 2]\n",
    "a: !custom [1]\n",
    "a: &a [*a]\n",
    "a: &a {b: *a}\n",
    "a: &a {<<: *a}\n",
    "a: *nowhere\n",
    "a: &x 1\nb: &x 2\nc: *x\n",
    "&k a: 1\n",
    "? *k\n: 1\n",
    "a: {<<: [1, 2]}\n",
    "a: {<<: 3}\n",
    "a: 1\n---\nb: 2\n",
    "--- a\n",
    "a: 1\na: 2\n",
    "<<: {a: 1}\n<<: {b: 2}\n",
    "? [a, b]\n: 1\n",
    "a: [1, 2\n",
    "timezone: 2024-13-45\n",
    "a: !!python/object/apply:os.system ['true']\n",
    "budgets: " + "[" * 70 + "]" * 70 + "\n",
    "budgets: " + "{a: " * 70 + "1" + "}" * 70 + "\n",
    "a:\n" + "".join("  " * i + "- \n" for i in range(1, 66)),
    "a: &a [" + ", ".join(["x"] * 40) + "]\n" + "".join(f"b{i}: *a\n" for i in range(2000)),
]
# Documents the event builder must answer itself (the rest may fall back to the node graph).
STREAMED = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 29, 30, 31, 32, 33, 34, 36, 37, 38, 39}
BOMBS = [
    "\n".join(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, 7)).replace("*l0", '"lol"')
    + "\n",
    "a: &a [" + ", ".join(["x"] * 40) + "]\n" + "".join(f"b{i}: *a\n" for i in range(2600)),
]


@pytest.mark.parametrize("index", range(len(DOCUMENTS)))
def test_the_event_builder_answers_as_the_node_graph(index: int) -> None:
    text = DOCUMENTS[index]
    streamed, composed = both(text)
    assert streamed == composed
    assert streams(text) == (index in STREAMED)


@pytest.mark.parametrize("text", BOMBS, ids=["laughs", "wide"])
def test_alias_bombs_stop_at_the_alias_that_overflows(text: str) -> None:
    streamed, composed = both(text)
    assert (
        streamed[:2]
        == composed[:2]
        == ("error", "the document has more than 100000 values once aliases (*name) are expanded")
    )
    # The node graph names a line inside the expansion; the events name the alias that crosses the bound.
    assert "*" in text.splitlines()[streamed[2] - 1]
    assert streams(text)


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False)
plain_keys = st.text(alphabet="abcxyz_-<=", min_size=1, max_size=4)
documents = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(plain_keys, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.sampled_from([None, True, False]), st.booleans())
def test_generated_documents_with_shared_parts(data: Any, flow: bool | None, share: bool) -> None:
    # safe_dump writes an object met twice as an anchor and an alias: ``share`` makes sure some are.
    doc = {"first": data, "second": data, "third": [data, {"<<": data} if isinstance(data, dict) else data]}
    text = yaml.safe_dump(doc if share else data, default_flow_style=flow, allow_unicode=True)
    streamed, composed = both(text)
    assert streamed == composed
    assert streams(text)


def test_a_large_document_is_built_without_its_node_graph() -> None:
    budget = "- {{name: b{i}, source: teo, metric: acc_flux, limit: 10TB, channels: [ops]}}\n"
    text = "budgets:\n" + "".join(budget.format(i=i) for i in range(5000))
    peaks = {}
    for streaming in (True, False):
        tracemalloc.start()
        data, lines = yamldoc._load(text, streaming=streaming)
        peaks[streaming] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(data["budgets"]) == 5000 and lines[("budgets", 4999, "limit")] == 5001
        del data, lines
    # The node graph holds a node and two marks per value; the events only the data and the line map.
    assert peaks[True] * 2 < peaks[False], peaks
