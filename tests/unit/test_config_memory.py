"""What keeps a large configuration small, and the limit past which it is refused.

Budgets that set the same keys share one ``model_fields_set``; equal amounts written alike share one
Decimal; neither sharing may be visible: copies get their own set, values keep what the user wrote.
"""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal
from typing import Any

import pytest

from lib.config.checks import check_config
from lib.config.loader import parse_config
from lib.config.models import MAX_BUDGETS, Budget, Config
from lib.errors import ConfigErrors

CHANNELS = {"ops": {"type": "wecom", "url": "https://qyapi.example/hook"}}


def budget(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "source": "teo", "metric": "acc_flux", "limit": "10TB", "channels": ["ops"], **fields}


def test_budgets_with_the_same_keys_share_one_fields_set_that_reads_as_before() -> None:
    config = Config.model_validate(
        {"channels": CHANNELS, "budgets": [budget("a"), budget("b"), budget("c", forecast=True)]}
    )
    a, b, c = config.budgets
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    assert a.model_fields_set == {"name", "source", "metric", "limit", "channels", "thresholds"}
    assert c.model_fields_set == a.model_fields_set | {"forecast"}
    assert c.__pydantic_fields_set__ is not a.__pydantic_fields_set__


def test_a_copy_gets_a_fields_set_of_its_own() -> None:
    a, b = Config.model_validate({"channels": CHANNELS, "budgets": [budget("a"), budget("b")]}).budgets
    before = set(a.model_fields_set)
    changed = a.model_copy(update={"forecast": True})
    assert "forecast" in changed.model_fields_set
    assert a.model_fields_set == before == b.model_fields_set  # the shared set is untouched
    for other in (copy.copy(a), copy.deepcopy(a), pickle.loads(pickle.dumps(a))):  # noqa: S301 - our own bytes
        assert other == a and other.model_fields_set == before


def test_explicit_keys_are_still_seen_by_the_checks() -> None:
    config = Config.model_validate(
        {
            "channels": CHANNELS,
            "budgets": [
                {"name": "a", "source": "billing", "metric": "cost", "limit": 1, "channels": ["ops"]},
                {"name": "b", "source": "billing", "metric": "cost", "limit": 1, "channels": ["ops"], "zones": ["*"]},
            ],
        }
    )
    assert check_config(config) == [
        (("budgets", 1, "zones"), "zones applies to source teo only; billing figures are for the whole account")
    ]


def test_equal_amounts_share_one_value_and_keep_how_they_were_written() -> None:
    budgets = [budget("a"), budget("b"), budget("c", limit="10000GB"), budget("d", limit=100, thresholds=[100.0])]
    a, b, c, d = Config.model_validate({"channels": CHANNELS, "budgets": budgets}).budgets
    assert a.limit is b.limit and a.thresholds is b.thresholds
    assert a.limit == c.limit == Decimal(10**13)
    assert str(d.thresholds[0]) == "100.0" and str(a.thresholds[0]) == "100"  # equal, but as written


def test_more_budgets_than_the_limit_are_refused_before_they_are_validated() -> None:
    many = [{"name": f"b{i}", "bogus": True} for i in range(MAX_BUDGETS + 1)]
    text = "channels: {}\nbudgets:\n" + "".join(f"- {{name: {b['name']}, bogus: true}}\n" for b in many)
    with pytest.raises(ConfigErrors) as info:
        parse_config(text, environ={})
    (error,) = info.value.errors  # one problem: none of the 10,001 invalid budgets was looked at
    assert error.field == "budgets" and error.line == 2
    assert f"at most {MAX_BUDGETS:,} budgets in one configuration, not {MAX_BUDGETS + 1:,}" in str(error)
    assert "split them over several deployments" in str(error)


def test_budget_models_still_validate_alone() -> None:
    assert Budget.model_validate(budget("solo")).model_fields_set >= {"name", "limit"}
