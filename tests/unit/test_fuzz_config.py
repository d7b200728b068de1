"""Fuzz of the configuration loader: random and hostile YAML always ends in a Config or a clear ConfigError.

A clear error is a ``ConfigError`` whose every problem names a place (field or line) and says what is
wrong in words; never another exception, never a hang, and never the value of a secret planted in the
environment, however the document misuses the variable.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.config.loader import load_config, parse_config
from lib.config.models import Config
from lib.config.yamldoc import MAX_DEPTH, MAX_NODES
from lib.errors import ConfigError, ConfigErrors

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_TEXT = (REPO / "budgets.yaml").read_text(encoding="utf-8")
EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)

# Secrets planted where a real deployment keeps them; none may ever appear in an error message.
SECRETS = {
    "WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecomkey-5b1e0c77d2",
    "DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=dingtoken-9f31aa0c",
    "DINGTALK_SECRET": "SECdingsecret-41d7e2b9",
    "FEISHU_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/feishuhook-77c0",
    "FEISHU_SECRET": "feishusecret-0b5d9e",
    "SLACK_URL": "https://hooks.slack.com/services/T000/B000/slackhook-3c9f",
    "WEBHOOK_URL": "https://example.com/hooks/budget?token=webhooktoken-e81f",
    "WEBHOOK_SECRET": "whsecret-2a6c4f81",
    "BUDGET_API_TOKEN": "apitoken-d00dfeed-1234",
    "TENCENTCLOUD_SECRETKEY": "tcsecretkey-abcdef0123456789",
    # A secret under a name that does not look like one: only the loader's own care keeps it hidden.
    "PLAIN": "plainvalue-hidden-c0ffee",
}
ENV = dict(SECRETS)
# The distinctive parts: a message showing any of them has leaked (part of) a secret.
SECRET_PARTS = (
    "wecomkey-5b1e0c77d2",
    "dingtoken-9f31aa0c",
    "dingsecret-41d7e2b9",
    "feishuhook-77c0",
    "feishusecret-0b5d9e",
    "slackhook-3c9f",
    "webhooktoken-e81f",
    "whsecret-2a6c4f81",
    "apitoken-d00dfeed",
    "tcsecretkey-abcdef",
    "plainvalue-hidden",
)
VARS = tuple(f"${{{name}}}" for name in SECRETS)

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

HOSTILE_STRINGS = [
    "",
    " ",
    "\u202eiahgnahS/aisA",  # right-to-left override
    "edge\u200bone",  # zero-width space
    "e\u0301dge",  # combining accent
    "ｅｄｇｅ",  # full-width letters
    "١٢٣",  # Arabic-Indic digits
    "流量预算",
    "💸" * 10,
    "a" * 10_000,
    "' OR 1=1 --",
    "$(rm -rf /)",
    "`id`; cat /etc/passwd",
    "{{7*7}}",
    "${jndi:ldap://x/a}",
    "%s%n%x",
    "{0.__class__}",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "a\nb: c",
    "- x",
    "&a",
    "*a",
    "!!python/object/apply:os.system ['id']",
    "\\u0000",
    "${",
    "${UNSET_VARIABLE_X}",
    "${NOT-A-NAME}",
    "$${PLAIN}",
    "10TB",
    "-5",
    "1e999",
    "9" * 400,
    "nan",
    "plan",
    "*",
]
HOSTILE_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    -(10**30),
    10**300,
    0.5,
    -0.0,
    float("nan"),
    float("inf"),
    float("-inf"),
    1e308,
    [],
    {},
    [None],
    {"a": 1},
    [[[[1]]]],
]
hostile_values = (
    st.sampled_from(HOSTILE_STRINGS)
    | st.sampled_from(HOSTILE_SCALARS)
    | st.sampled_from(VARS)
    | st.builds(lambda a, v, b: f"{a}{v}{b}", st.text(max_size=5), st.sampled_from(VARS), st.text(max_size=5))
    | st.text(max_size=40)
    | st.integers()
    | st.floats()
)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.sampled_from(VARS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)


def assert_clear(run: Callable[[], Config], *, caplog: pytest.LogCaptureFixture | None = None) -> Config | None:
    """Run the loader; it returns a Config or raises ConfigError(s) that name places and leak nothing."""
    try:
        config = run()
    except ConfigError as exc:
        problems = exc.errors if isinstance(exc, ConfigErrors) else [exc]
        assert problems, "an error must list at least one problem"
        text = str(exc)
        assert "Traceback" not in text
        for problem in problems:
            message = str(problem)
            assert message.strip(), "an empty message is not a clear error"
            if isinstance(exc, ConfigErrors):
                # Every problem of a file names where it is: its budget, field or line.
                assert problem.field or problem.line is not None or problem.budget, message
        _assert_no_secret(text)
        config = None
    else:
        assert isinstance(config, Config)
    if caplog is not None:
        for record in caplog.records:
            _assert_no_secret(record.getMessage())
    return config


def _assert_no_secret(text: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text, f"secret {part!r} leaked in: {text[:500]!r}"


def _load(text: str, environ: dict[str, str] | None = None) -> Config | None:
    return assert_clear(lambda: parse_config(text, environ=ENV if environ is None else environ))


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# --- hypothesis ---------------------------------------------------------------------------------------


@SETTINGS
@given(json_like)
def test_random_documents_load_or_fail_clearly(data: Any) -> None:
    _load(_dump(data))


@SETTINGS
@given(st.text(max_size=300))
def test_random_text_loads_or_fails_clearly(text: str) -> None:
    _load(text)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


EXAMPLE_PATHS = _paths(EXAMPLE)


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_examples(draw: st.DrawFn) -> dict[str, Any]:
    """The example budgets.yaml with 1 to 4 random edits: replace, delete, add an unknown key, rename."""
    doc = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(EXAMPLE_PATHS))
        try:
            parent = _parent(doc, path)
            parent[path[-1]]  # an earlier edit may have removed or replaced it
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(parent, dict | list):  # a string replaced a list: indexing works, editing does not
            continue
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "rename"]))
        if action == "replace":
            parent[path[-1]] = draw(hostile_values | json_like)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict) and action == "add":
            parent[draw(st.sampled_from(HOSTILE_STRINGS[:20]) | st.text(max_size=10))] = draw(hostile_values)
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = parent.pop(path[-1])
    return doc


@SETTINGS
@given(mutated_examples())
def test_mutations_of_the_example_load_or_fail_clearly(doc: dict[str, Any]) -> None:
    _load(_dump(doc))


TEXT_INSERTS = [
    "\x00",
    "\x07",
    "\ufeff",
    "\r\n",
    "\r",
    "\t",
    "\u2028",
    "\u202e",
    "\u200b",
    "&a ",
    "*a",
    "*missing",
    "!!python/object/apply:os.system ['id'] ",
    "!!binary ",
    "!custom ",
    "<<: ",
    "${",
    "${PLAIN}",
    "}",
    "- ",
    ": ",
    "[",
    "{",
    "'",
    '"',
    "#",
    "---\n",
    "\n  ",
    "9" * 5000,
]


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    """The example file's text with characters inserted, deleted or replaced at random places."""
    text = EXAMPLE_TEXT
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(TEXT_INSERTS) | st.text(max_size=4))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    return text


@SETTINGS
@given(mutated_texts())
def test_text_mutations_of_the_example_load_or_fail_clearly(text: str) -> None:
    _load(text)


# Values an attacker (or a careless pipeline) might put in a variable: YAML, other references, newlines.
VARIABLE_VALUES = st.sampled_from(
    [
        "${PLAIN}",
        "${WECOM_URL}",
        "$${PLAIN}",
        "a\nbudgets: []",
        "x}\n- name: injected",
        "&anchor",
        "*alias",
        "!!python/object/apply:os.system ['id']",
        "{a: 1}",
        "[1, 2]",
        "'quoted'",
        '"dq"',
        "# comment",
        "\u202e\u200b",
    ]
) | st.text(min_size=1, max_size=40)


@SETTINGS
@given(VARIABLE_VALUES)
def test_a_variable_value_is_never_expanded_again_nor_changes_the_structure(value: str) -> None:
    text = EXAMPLE_TEXT.replace('url: "${WEBHOOK_URL}"', 'url: "https://example.com/hook/${HOSTILE}"')
    text = text.replace('secret: "${WEBHOOK_SECRET}"', 'secret: "${HOSTILE}"')
    config = parse_config(text, environ={**ENV, "HOSTILE": value})
    audit = config.channels["audit"]
    assert audit.secret == value  # verbatim: ${PLAIN} inside stays literal, YAML inside stays text
    assert audit.url == "https://example.com/hook/" + value
    assert [b.name for b in config.budgets] == ["edgeone-traffic", "monthly-spend", "low-balance"]
    assert sorted(config.channels) == ["audit", "chat", "finance", "lark", "ops"]


@SETTINGS
@given(st.sampled_from(EXAMPLE_PATHS), st.sampled_from(sorted(SECRETS)), st.sampled_from(["", "x", "10", " "]))
def test_a_secret_variable_in_any_field_is_never_echoed(path: tuple[Any, ...], name: str, around: str) -> None:
    doc = copy.deepcopy(EXAMPLE)
    _parent(doc, path)[path[-1]] = f"{around}${{{name}}}{around}"
    _load(_dump(doc))


@SETTINGS
@given(st.sampled_from(sorted(SECRETS)), st.sampled_from(["name", "budgets", "channels", "metric", "x"]))
def test_a_secret_variable_as_a_budget_name_or_key_is_never_echoed(name: str, key: str) -> None:
    doc = copy.deepcopy(EXAMPLE)
    doc["budgets"][0]["name"] = f"${{{name}}}"
    doc["budgets"][1][key] = f"${{{name}}}!"
    doc["channels"][f"${{{name}}}"] = {"type": f"${{{name}}}", "url": f"${{{name}}}"}
    _load(_dump(doc))


# --- hand-written hostile documents -------------------------------------------------------------------


def _budget(**fields: Any) -> str:
    budget = {"name": "b", "source": "teo", "metric": "acc_flux", "limit": "10TB", "channels": ["ops"], **fields}
    return _dump({"channels": {"ops": {"type": "wecom", "url": "${WECOM_URL}"}}, "budgets": [budget]})


def _laughs(levels: int, width: int = 10) -> str:
    lines = ['l0: &l0 "lol"']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    lines.append(f"budgets: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def _errors(text: str, environ: dict[str, str] | None = None) -> list[ConfigError]:
    with pytest.raises(ConfigErrors) as info:
        parse_config(text, environ=ENV if environ is None else environ)
    assert_clear(lambda: parse_config(text, environ=ENV if environ is None else environ))
    return info.value.errors


@pytest.mark.parametrize("levels", [9, 12, 30])
def test_a_billion_laughs_is_refused_quickly_without_expanding(levels: int) -> None:
    started = time.perf_counter()
    (error,) = _errors(_laughs(levels))
    assert (
        time.perf_counter() - started < 20.0
    )  # a hang guard: the refusal is immediate, the margin is for loaded machines
    assert f"more than {MAX_NODES} values once aliases" in str(error)
    assert error.line is not None


def test_aliases_within_bounds_still_work() -> None:
    text = EXAMPLE_TEXT.replace("channels: [ops, audit, lark]", "channels: &three [ops, audit, lark]")
    text = text.replace("channels: [finance, chat]", "channels: *three")
    config = parse_config(text, environ=ENV)
    assert config.budgets[1].channels == ("ops", "audit", "lark")


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [*a]\n",
        "a: &a {b: *a}\n",
        "a: &a {<<: *a}\n",
        "budgets: &b [{name: x, channels: *b}]\n",
    ],
)
def test_an_alias_inside_its_own_anchor_is_refused(text: str) -> None:
    (error,) = _errors(text)
    assert "levels deep" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        "budgets: " + "[" * 100_000 + "]" * 100_000,
        "budgets: " + "{a: " * 5000 + "1" + "}" * 5000,
        "budgets:\n" + "- " * 5000 + "1\n",
        "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n",
    ],
    ids=["flow-lists", "flow-maps", "block-lists", "block-maps"],
)
def test_deep_nesting_is_refused_quickly(text: str) -> None:
    started = time.perf_counter()
    (error,) = _errors(text)
    assert (
        time.perf_counter() - started < 20.0
    )  # a hang guard: the refusal is immediate, the margin is for loaded machines
    assert f"nested more than {MAX_DEPTH} levels deep" in str(error)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:subprocess.check_output [['touch', '{marker}']]",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/object:pathlib.Path {{}}",
        "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
        "!custom value",
    ],
)
def test_python_and_custom_tags_are_refused_and_never_run(tag: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (error,) = _errors(f"timezone: {tag.format(marker=marker)}\n")
    assert "not valid YAML" in str(error) and error.line == 1
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("timezone: UTC\nlanguage: en\ntimezone: UTC\n", 3),
        ("channels:\n  ops: {type: wecom, url: 'https://a', url: 'https://b'}\n", 2),
        ("budgets:\n- name: a\n  name: b\n", 3),
        ("1: a\n'1': b\n", 2),
    ],
)
def test_duplicate_keys_are_refused_with_both_lines(text: str, line: int) -> None:
    (error,) = _errors(text)
    assert "appears twice" in str(error) and error.line == line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("? [a, b]\n: 1\n", "a key must be a plain name"),
        ("? {a: 1}\n: 1\n", "a key must be a plain name"),
        ("timezone: a\x00b\n", "U+0000 is not allowed"),
        ("timezone: a\x1bb\n", "U+001B is not allowed"),
        ("timezone: a\ud800\n", "U+D800 is not allowed"),
        ("budgets:\n- limit: " + "9" * 5000 + "\n", "as int (too many digits)"),
        ("timezone: 2024-13-45\n", "as timestamp (month must be in 1..12)"),
        ("timezone: 2024-02-30 10:00:00\n", "as timestamp"),
        ("timezone: !!int abc\n", "as int"),
        ("timezone: !!float abc\n", "as float"),
        ("timezone: !!binary 'a'\n", "not valid YAML"),
        ("a: 1\n---\nb: 2\n", "another document"),
        ("a: *nowhere\n", "undefined alias"),
        ("a: [1, 2\n", "not valid YAML"),
        ("- a list\n", "must be a mapping"),
        ("just text\n", "must be a mapping"),
    ],
)
def test_malformed_yaml_is_a_clear_error(text: str, message: str) -> None:
    (error,) = _errors(text)
    assert message in str(error)
    assert error.line is not None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"limit": float("nan")}, "limit", "not a finite number"),
        ({"limit": float("inf")}, "limit", "not a finite number"),
        ({"limit": -5}, "limit", "more than zero"),
        ({"limit": 0}, "limit", "more than zero"),
        ({"limit": "-10TB"}, "limit", ""),
        ({"limit": "1e999TB"}, "limit", "too large"),
        ({"limit": 10**400}, "limit", "a number of 401 digits is too large"),
        ({"limit": 10**30}, "limit", "too large"),
        ({"absolute": [10**30]}, "absolute", "too large"),
        ({"limit": [1]}, "limit", "not a quantity"),
        ({"limit": {"a": 1}}, "limit", "not a quantity"),
        ({"limit": True}, "limit", "not a quantity"),
        ({"thresholds": [float("nan")]}, "thresholds", "not a finite number"),
        ({"thresholds": [-50]}, "thresholds", ""),
        ({"thresholds": "80"}, "thresholds", "list of percentages"),
        ({"repeat": float("inf")}, "repeat", "not a finite number"),
        ({"repeat": "99999999999999999999999999w"}, "repeat", "too large"),
        ({"repeat": -60}, "repeat", ""),
        ({"spike": {"factor": float("inf")}}, "spike.factor", "finite number"),
        ({"spike": {"spread": float("inf")}}, "spike.spread", "finite number"),
        ({"spike": {"factor": float("nan")}}, "spike.factor", ""),
        ({"spike": {"window": 10**30}}, "spike.window", ""),
        ({"spike": {"min_value": float("nan")}}, "spike", "finite"),
        ({"no_data_after": float("inf")}, "no_data_after", ""),
        ({"no_data_after": -1}, "no_data_after", ""),
        ({"name": "edge\u200bone"}, "name", "letters, digits"),
        ({"name": "\u202eegde"}, "name", "letters, digits"),
        ({"name": "ｅｄｇｅ"}, "name", "letters, digits"),
        ({"name": "١٢٣"}, "name", "letters, digits"),
        ({"name": "a" * 100_000}, "name", ""),
        ({"name": 5}, "name", ""),
        ({"metric": "acc_flux\u200b"}, "metric", "unknown teo metric"),
        ({"metric": "a" * 100_000}, "metric", "unknown teo metric"),
        ({"zones": ["zone-1"] * 101}, "zones", ""),
        ({"zones": []}, "zones", ""),
        ({"group_by": ["zone-id"] * 3}, "group_by", ""),
        ({"channels": ["ops", "ops"]}, "channels", "twice"),
        ({"channels": ["' OR 1=1 --"]}, "channels[0]", "unknown channel"),
        ({"channels": "ops"}, "channels", ""),
        ({"source": "teo; rm -rf /"}, "source", ""),
        ({"period": "{{7*7}}"}, "period", ""),
        ({"filters": {"host": []}}, "filters", "at least one value"),
        ({"colour": "red"}, "colour", "unknown key"),
    ],
)
def test_hostile_field_values_are_errors_naming_the_field(fields: dict[str, Any], field: str, message: str) -> None:
    errors = _errors(_budget(**fields))
    matching = [e for e in errors if e.field == field]
    assert matching, [str(e) for e in errors]
    assert message in str(matching[0])
    assert matching[0].line is not None


@pytest.mark.parametrize(
    ("head", "field"),
    [
        ("timezone: '\u202eiahgnahS/aisA'\n", "timezone"),
        ("timezone: ../../../../etc/passwd\n", "timezone"),
        ("timezone: /etc/localtime\n", "timezone"),
        ("timezone: 'Asia/\\0Shanghai'\n", "timezone"),
        ("timezone: America\n", "timezone"),
        ("timezone: " + "x" * 100_000 + "\n", "timezone"),
        ("language: '{{7*7}}'\n", "language"),
        ("channels: {'x\u200b': {type: wecom, url: 'https://a'}}\n", "channels.x\u200b"),
        ("channels: {ops: {type: wecom, url: 'javascript:alert(1)'}}\n", "channels.ops.url"),
        ("channels: {ops: {type: wecom, url: 'file:///etc/passwd'}}\n", "channels.ops.url"),
        ("channels: {ops: {type: smtp, url: 'https://a'}}\n", "channels.ops.type"),
        ("channels: {ops: [1]}\n", "channels.ops"),
        ("channels: [ops]\n", "channels"),
        ("budgets: {a: 1}\n", "budgets"),
    ],
)
def test_hostile_top_level_values_are_errors_naming_the_field(head: str, field: str) -> None:
    errors = _errors(head)
    assert any(e.field == field for e in errors), [str(e) for e in errors]


def test_very_long_strings_and_many_budgets_stay_quick() -> None:
    budgets = [
        {"name": f"b{i}", "source": "teo", "metric": "acc_flux", "limit": "1TB", "channels": ["ops"]}
        for i in range(500)
    ]
    text = _dump({"channels": {"ops": {"type": "wecom", "url": "https://a/" + "x" * 1_000_000}}, "budgets": budgets})
    started = time.perf_counter()
    config = parse_config(text, environ={})
    assert len(config.budgets) == 500
    assert (
        time.perf_counter() - started < 30.0
    )  # a hang guard: the refusal is immediate, the margin is for loaded machines


# --- encodings ----------------------------------------------------------------------------------------


def test_a_byte_order_mark_and_crlf_line_ends_load_and_keep_lines() -> None:
    text = "\ufeff" + EXAMPLE_TEXT.replace("\n", "\r\n")
    config = parse_config(text, environ=ENV)
    assert [b.name for b in config.budgets] == ["edgeone-traffic", "monthly-spend", "low-balance"]
    errors = _errors(text.replace("limit: 5000", "limit: -5000"))
    line = EXAMPLE_TEXT.splitlines().index("    limit: 5000") + 1
    assert [(e.budget, e.field, e.line) for e in errors] == [("monthly-spend", "limit", line)]


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe" + "timezone: UTC\n".encode("utf-16-le"),  # UTF-16 with its BOM
        "timezone: UTC\n".encode("utf-32"),
        b"timezone: \xc3\x28\n",  # an invalid two-byte sequence
        b"timezone: \xed\xa0\x80\n",  # an encoded surrogate (CESU-8)
        b"\x80\x81\x82",
        bytes(range(256)),
    ],
)
def test_files_that_are_not_utf8_are_a_clear_error(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_config(str(path), environ=ENV)


@pytest.mark.parametrize("name", ["missing.yaml", "", "."])
def test_unreadable_sources_are_a_clear_error(name: str, tmp_path: Path) -> None:
    source = str(tmp_path / name) if name else str(tmp_path)
    assert_clear(lambda: load_config(source, environ=ENV))


@pytest.mark.parametrize("url", ["cos://", "cos://bucket/key", "cos://UPPER-125.ap-guangzhou/k", "cos://b-1.r/"])
def test_malformed_cos_sources_are_a_clear_error(url: str) -> None:
    with pytest.raises(ConfigError, match="is not cos://"):
        load_config(url, environ=ENV)


# --- logs ---------------------------------------------------------------------------------------------


def test_the_loader_logs_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    doc = copy.deepcopy(EXAMPLE)
    doc["timezone"] = "${DINGTALK_SECRET}"
    doc["budgets"][0]["limit"] = "${PLAIN}"
    doc["budgets"][2]["below"] = 10**30  # also a money amount Decimal cannot format: refused, not a crash
    doc["budgets"][1]["name"] = "${TENCENTCLOUD_SECRETKEY}!"
    with pytest.raises(ConfigErrors) as info:
        parse_config(_dump(doc), environ=ENV)
    text = str(info.value)
    # The variable is named instead, so the user still knows what to fix.
    assert "${DINGTALK_SECRET}" in text and "${PLAIN}" in text and "${TENCENTCLOUD_SECRETKEY}" in text
    assert_clear(lambda: parse_config(_dump(doc), environ=ENV), caplog=caplog)
