"""Every message ``python -m lib validate`` can print speaks the user's language, never pydantic's.

Two walks: every field of every model fed values of every wrong kind (so each pydantic error type the
models can produce is met), and a table of typical mistakes with the exact help each one must give.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from lib.config.commands import validate
from lib.config.loader import parse_config
from lib.config.models import Budget, Channel, Config, Spike
from lib.errors import ConfigError, ConfigErrors

PYDANTIC_PHRASES = (
    "Input should",
    "should have",
    "Field required",
    "Extra inputs",
    "Value error,",
    "validation error",
    "Assertion failed",
    "[type=",
    "pydantic",
)
CHANNEL = {"type": "wecom", "url": "https://qyapi.example/hook"}
BUDGET = {"name": "b", "source": "teo", "metric": "acc_flux", "limit": "10TB", "channels": ["ops"]}
# One value of every kind YAML can give, each wrong for most fields.
WRONG: list[Any] = [
    "x",
    "",
    "١٢",
    "a" * 100,
    "fast ",
    5,
    -1,
    0,
    0.5,
    1e400,
    10**30,
    True,
    None,
    [],
    ["x"],
    ["a", "b", "c"],
    ["zone-id", "host", "region-id"],
    [1, 1],
    {},
    {"k": "v"},
]
# The pydantic error types the walk must meet, so it cannot pass by testing nothing.
EXPECTED_TYPES = {
    "extra_forbidden",
    "missing",
    "literal_error",
    "string_type",
    "string_pattern_mismatch",
    "string_too_long",
    "string_too_short",
    "too_short",
    "too_long",
    "tuple_type",
    "dict_type",
    "model_type",
    "bool_type",
    "bool_parsing",
    "float_type",
    "int_type",
    "int_parsing",
    "int_from_float",
    "float_parsing",
    "finite_number",
    "greater_than",
    "greater_than_equal",
    "less_than_equal",
    "value_error",
}
# Words with which a message says what is allowed or what to do instead.
HELP_WORDS = (
    "must",
    "use ",
    "allowed",
    "write",
    "at most",
    "at least",
    "one of",
    "list at least",
    "is required",
    "known:",
    "set limit",
    "e.g.",
    "digits 0-9",
    "not a",
    "listed twice",
    "unknown",
    "http(s)://",
    "applies to",
    "needs",
)


def _documents() -> list[tuple[str, dict[str, Any]]]:
    docs: list[tuple[str, dict[str, Any]]] = []

    def base() -> dict[str, Any]:
        return {"timezone": "Asia/Shanghai", "channels": {"ops": dict(CHANNEL)}, "budgets": [dict(BUDGET)]}

    for value in WRONG:
        for name in [*Config.model_fields, "colour"]:
            doc = base()
            doc[name] = value
            docs.append((f"top.{name}={value!r:.20}", doc))
        for name in [*Budget.model_fields, "colour"]:
            doc = base()
            doc["budgets"][0][name] = value
            docs.append((f"budget.{name}={value!r:.20}", doc))
        for name in [*Spike.model_fields, "colour"]:
            doc = base()
            doc["budgets"][0]["spike"] = {name: value}
            docs.append((f"spike.{name}={value!r:.20}", doc))
        for name in [*Channel.model_fields, "colour"]:
            doc = base()
            doc["channels"]["ops"][name] = value
            docs.append((f"channel.{name}={value!r:.20}", doc))
        doc = base()
        doc["budgets"][0] = value
        docs.append((f"budget={value!r:.20}", doc))
        doc = base()
        doc["budgets"][0]["filters"] = {"region-id": value, "country": value}
        docs.append((f"filters={value!r:.20}", doc))
    for name in ("name", "source", "metric"):
        doc = base()
        del doc["budgets"][0][name]
        docs.append((f"missing budget.{name}", doc))
    for name in ("type", "url"):
        doc = base()
        del doc["channels"]["ops"][name]
        docs.append((f"missing channel.{name}", doc))
    doc = base()
    doc["budgets"][0]["spike"] = {"window": 5000}
    docs.append(("spike.window too big", doc))
    return docs


DOCUMENTS = _documents()


def _problems(doc: dict[str, Any]) -> list[ConfigError]:
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    try:
        parse_config(text, environ={})
    except ConfigErrors as exc:
        return exc.errors
    return []


def test_the_walk_meets_every_error_type_the_models_produce() -> None:
    seen: set[str] = set()
    for _, doc in DOCUMENTS:
        try:
            Config.model_validate(doc)
        except ValidationError as exc:
            seen.update(str(e["type"]) for e in exc.errors())
    assert seen >= EXPECTED_TYPES, sorted(EXPECTED_TYPES - seen)
    assert seen <= EXPECTED_TYPES, (
        f"a new error type appeared; add it to EXPECTED_TYPES: {sorted(seen - EXPECTED_TYPES)}"
    )


@pytest.mark.parametrize(("case", "doc"), DOCUMENTS, ids=[case for case, _ in DOCUMENTS])
def test_every_message_is_in_the_users_words_and_names_its_place(case: str, doc: dict[str, Any]) -> None:
    for problem in _problems(doc):
        text = str(problem)
        assert not any(phrase in text for phrase in PYDANTIC_PHRASES), text
        assert problem.field or problem.budget, text  # names where: the budget, the field or both
        assert problem.line is not None, text
        assert any(word in problem.message for word in HELP_WORDS), text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"colour": "red"}, "colour", "unknown key 'colour'; allowed: name, source, metric, zones,"),
        ({"limt": "1TB"}, "limt", "unknown key 'limt' (did you mean 'limit'?); allowed: name, source"),
        ({"source": "cvm"}, "source", "must be one of 'teo', 'cdn' or 'billing', not 'cvm'"),
        ({"period": "week"}, "period", "must be one of 'day' or 'month', not 'week'"),
        ({"zones": []}, "zones", "list at least 1 item"),
        ({"zones": "zone-1"}, "zones", "must be a list, e.g. [a, b], not 'zone-1'"),
        ({"group_by": ["zone-id", "host", "region-id"]}, "group_by", "at most 2 items (got 3)"),
        ({"forecast": "maybe"}, "forecast", "must be true or false, not 'maybe'"),
        ({"no_data_after": 1.5}, "no_data_after", "must be a whole number like 3, without a fraction"),
        ({"no_data_after": -1}, "no_data_after", "must be at least 0, not -1"),
        ({"no_data_after": "١٢"}, "no_data_after", "must be a whole number like 3 (digits 0-9)"),
        ({"name": "a" * 65}, "name", "must be at most 64 characters"),
        ({"name": "a b"}, "name", "'a b': use only letters, digits, - and _"),
        ({"name": 5}, "name", "must be text, e.g. a quoted string, not 5"),
        ({"spike": {"factor": 1}}, "spike.factor", "must be greater than 1, not 1"),
        ({"spike": {"window": 2}}, "spike.window", "must be at least 3, not 2"),
        ({"spike": {"window": 5000}}, "spike.window", "must be at most 1000, not 5000"),
        ({"spike": {"factor": 1e400}}, "spike.factor", "must be a finite number like 2.5"),
        ({"spike": 3}, "spike", "must be a mapping with the keys baseline, window, factor, min_value, spread"),
        ({"filters": {"country": ["CN"]}}, "filters.country", "unknown key 'country'; allowed: 'host', 'proxy-id'"),
        ({"filters": ["host"]}, "filters", "must be a mapping of key: value"),
        ({"repeat": "١٢h"}, "repeat", "has the digit '١' (U+0661): write numbers with the digits 0-9"),
        ({"limit": "１０TB"}, "limit", "has the digit '１' (U+FF11): write numbers with the digits 0-9"),
        ({"thresholds": ["٨٠%"]}, "thresholds", "write numbers with the digits 0-9"),
    ],
)
def test_typical_mistakes_say_what_is_allowed(change: dict[str, Any], field: str, message: str) -> None:
    doc = {"channels": {"ops": dict(CHANNEL)}, "budgets": [{**BUDGET, **change}]}
    problems = _problems(doc)
    matching = [p for p in problems if p.field == field]
    assert matching, [str(p) for p in problems]
    assert message in str(matching[0]), str(matching[0])
    name = change.get("name", "b")
    assert matching[0].budget == (name if isinstance(name, str) else "#1")


@pytest.mark.parametrize(
    ("doc", "field", "message"),
    [
        ({"budgets": [{**BUDGET, "source": None}]}, "source", "must be one of 'teo', 'cdn' or 'billing', not None"),
        ({"budgets": [{k: v for k, v in BUDGET.items() if k != "source"}]}, "source", "is required: one of 'teo'"),
        ({"budgets": ["b"]}, None, "must be a mapping with the keys name, source, metric"),
        ({"budgets": {"b": BUDGET}}, "budgets", "must be a list"),
        ({"channels": {"ops": {"url": "https://x.example"}}}, "channels.ops.type", "is required: one of 'wecom'"),
        ({"channels": {"ops": {**CHANNEL, "kind": "x"}}}, "channels.ops.kind", "allowed: type, url, secret"),
        ({"channels": ["ops"]}, "channels", "must be a mapping of key: value"),
        ({"language": "fr"}, "language", "must be one of 'zh' or 'en', not 'fr'"),
        (
            {"timezon": "UTC"},
            "timezon",
            "(did you mean 'timezone'?); allowed: timezone, language, channels, digest, budgets",
        ),
    ],
)
def test_top_level_and_channel_mistakes_say_what_is_allowed(
    doc: dict[str, Any], field: str | None, message: str
) -> None:
    problems = _problems({"channels": {"ops": dict(CHANNEL)}, **doc})
    matching = [p for p in problems if p.field == field]
    assert matching, [str(p) for p in problems]
    assert message in str(matching[0]), str(matching[0])


def test_validate_prints_only_user_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "budgets.yaml"
    bad = {**BUDGET, "zones": [], "forecast": "maybe", "colour": 1, "spike": {"window": "x"}}
    path.write_text(yaml.safe_dump({"channels": {"ops": CHANNEL}, "budgets": [bad]}), encoding="utf-8")
    assert validate(argparse.Namespace(config=str(path))) == 2
    err = capsys.readouterr().err
    assert "4 problems" in err
    assert not any(phrase in err for phrase in PYDANTIC_PHRASES), err
    for field in ("zones", "forecast", "colour", "spike.window"):
        assert f"budget 'b', field '{field}'" in err
