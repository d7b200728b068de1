"""``accounts:`` in budgets.yaml: the organization form, the explicit list, and the budgets that name members."""

from __future__ import annotations

import pytest

from lib.config.loader import parse_config
from lib.errors import ConfigError, ConfigErrors

HEAD = """channels:
  ops: {type: webhook, url: "https://example.com/hook"}
"""
BUDGET = "  - {name: b, source: teo, metric: acc_flux, limit: 1TB, channels: [ops]%s}\n"


def _doc(accounts: str, budget_accounts: str = "") -> str:
    extra = f", accounts: {budget_accounts}" if budget_accounts else ""
    return HEAD + (f"accounts: {accounts}\n" if accounts else "") + "budgets:\n" + BUDGET % extra


def _problems(text: str) -> list[str]:
    with pytest.raises((ConfigError, ConfigErrors)) as caught:
        parse_config(text, environ={})
    errors = getattr(caught.value, "errors", [caught.value])
    return [str(e) for e in errors]


def test_the_organization_form_defaults_its_role() -> None:
    config = parse_config(_doc("{organization: true}", '["*"]'), environ={})
    assert config.accounts is not None
    assert (config.accounts.organization, config.accounts.role, config.accounts.members) == (
        True,
        "OrganizationAccessControlRole",
        (),
    )
    assert config.budgets[0].accounts == ("*",)


def test_a_bare_list_names_members_and_numbers_become_uins() -> None:
    config = parse_config(
        _doc("[{name: shop, uin: 200000000001}, {name: blog, uin: '200000000002', role: R}]", "[shop]"), environ={}
    )
    assert config.accounts is not None
    assert [(m.name, m.uin, m.role) for m in config.accounts.members] == [
        ("shop", "200000000001", "OrganizationAccessControlRole"),
        ("blog", "200000000002", "R"),
    ]
    assert config.budgets[0].accounts == ("shop",)


def test_without_accounts_a_budget_watches_the_own_account() -> None:
    config = parse_config(_doc(""), environ={})
    assert config.accounts is None
    assert config.budgets[0].accounts is None


@pytest.mark.parametrize(
    ("accounts", "budget", "expected"),
    [
        ("{organization: false}", "", "field 'accounts', line 3: write organization: true"),
        ("{organization: true, role: 'a role'}", "", "field 'accounts.role', line 3: a CAM role name is 1-128"),
        ("[{name: shop}]", "", "field 'accounts[0].uin', line 3: is required"),
        ("[{name: shop, uin: 12a}]", "", "field 'accounts[0].uin', line 3: a uin is the account's number"),
        ("[{name: a, uin: 12345}, {name: a, uin: 12346}]", "", "field 'accounts[1].name', line 3: account name 'a'"),
        ("[{name: a, uin: 12345}]", "[a, nope]", "field 'accounts[1]', line 5: unknown account 'nope'; accounts: a"),
        ("{organization: true}", '["*", a]', '"*" means every member account'),
        ("{organization: true}", "[a, a]", "an account is listed twice"),
        ("{organization: true}", "[]", 'write a list of member account names or uins, or ["*"] for every member'),
        ("", '["*"]', "needs a top-level accounts: section"),
    ],
)
def test_mistakes_are_named_in_the_users_words(accounts: str, budget: str, expected: str) -> None:
    problems = _problems(_doc(accounts, budget))
    assert any(expected in p for p in problems), problems
