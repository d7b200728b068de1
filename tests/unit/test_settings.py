"""``Settings``: every BUDGET_* variable read once, with defaults, and bad values refused by name."""

from __future__ import annotations

import pytest

from lib.errors import ConfigError
from lib.settings import DEFAULT_CONFIG, DEFAULT_STATE, Settings


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_environ({})
    assert (settings.config, settings.state, settings.site) == (DEFAULT_CONFIG, DEFAULT_STATE, "cn")
    assert settings.api_endpoint is None and settings.cos_endpoint is None
    assert settings.shard_size is None and settings.fanout_function is None
    assert not settings.links_enabled


def test_every_variable_is_read() -> None:
    settings = Settings.from_environ(
        {
            "BUDGET_CONFIG": "cos://conf-1250000000.ap-guangzhou/budgets.yaml",
            "BUDGET_STATE": "file:///tmp/state",
            "BUDGET_SITE": "intl",
            "BUDGET_API_ENDPOINT": "http://127.0.0.1:9",
            "BUDGET_COS_ENDPOINT": "http://127.0.0.1:10",
            "BUDGET_API_TOKEN": "a,b",
            "BUDGET_PUBLIC_URL": "https://1250000000-abc.ap-guangzhou.tencentscf.com/",
            "BUDGET_LINK_SECRET": "link-secret",
            "BUDGET_FANOUT_FUNCTION": "budget-alerts-prod-timer",
            "BUDGET_SHARD_SIZE": "25",
        }
    )
    assert settings.config.startswith("cos://") and settings.state == "file:///tmp/state"
    assert settings.site == "intl" and settings.api_endpoint == "http://127.0.0.1:9"
    assert settings.cos_endpoint == "http://127.0.0.1:10" and settings.api_tokens_text == "a,b"
    assert settings.public_url == "https://1250000000-abc.ap-guangzhou.tencentscf.com"  # no trailing slash
    assert settings.links_enabled
    assert settings.fanout_function == "budget-alerts-prod-timer" and settings.shard_size == 25


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_environ({"BUDGET_CONFIG": " ", "BUDGET_STATE": "", "BUDGET_SHARD_SIZE": ""})
    assert (settings.config, settings.state, settings.shard_size) == (DEFAULT_CONFIG, DEFAULT_STATE, None)


@pytest.mark.parametrize("value", ["0", "-3", "ten", "١٢", "10001", "2.5"])
def test_a_bad_shard_size_names_the_variable_and_the_range(value: str) -> None:
    with pytest.raises(ConfigError, match=r"BUDGET_SHARD_SIZE.*whole number of accounts from 1 to 10000"):
        Settings.from_environ({"BUDGET_SHARD_SIZE": value})


def test_a_public_url_must_be_a_url() -> None:
    with pytest.raises(ConfigError, match="BUDGET_PUBLIC_URL"):
        Settings.from_environ({"BUDGET_PUBLIC_URL": "example.com/api"})
