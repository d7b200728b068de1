"""``accounts:`` (DESIGN §3.3): which member accounts the product reaches, and the budgets' ``accounts`` checks.

Two forms: ``{organization: true, role: NAME}`` lists every member of the organization at run time
(``DescribeOrganizationMembers``) and assumes ``role`` in each; or an explicit list of
``{name, uin, role}``. A budget's ``accounts: ["*"]`` covers every member, ``[name, ...]`` the members
named (by name or uin); a budget without ``accounts`` watches the function's own account, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

if TYPE_CHECKING:
    from lib.config.models import Config

DEFAULT_ROLE = "OrganizationAccessControlRole"  # the role an organization creates in every member it makes
ROLE_PATTERN = r"^[\w+=,.@-]{1,128}$"
ALL_MEMBERS = "*"

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _role_name(value: str) -> str:
    if not re.match(ROLE_PATTERN, value, re.ASCII):
        raise ValueError(f"a CAM role name is 1-128 letters, digits or +=,.@_-, not {value!r}")
    return value


class Member(_Strict):
    """One member account named in the configuration."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=64, description="what messages call the account")
    uin: str = Field(description="the account's uin (digits)")
    role: str = Field(default=DEFAULT_ROLE, description="the CAM role assumed in the account")

    @field_validator("uin", mode="before")
    @classmethod
    def _uin(cls, raw: Any) -> Any:
        # YAML reads an unquoted uin as a number; a uin is an identifier, kept as its digits.
        value = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
        if not isinstance(value, str) or not (value.isascii() and value.isdigit() and 5 <= len(value) <= 20):
            raise ValueError(f"a uin is the account's number, 5-20 digits, not {raw!r}")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        return _role_name(value)


class Accounts(_Strict):
    """``{organization: true, role}`` (every member, found at run time) or ``members`` (a list; also written bare)."""

    organization: bool = Field(default=False, description="list the members with DescribeOrganizationMembers")
    role: str = Field(default=DEFAULT_ROLE, description="organization: the CAM role assumed in every member")
    members: tuple[Member, ...] = Field(default=(), description="explicit member accounts {name, uin, role}")

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # The bare-list form is a second shape of the same field in the schema too.
        schema = handler(core)
        items = handler.resolve_ref_schema(schema)["properties"]["members"]["items"]
        return {"anyOf": [schema, {"type": "array", "items": items, "description": "the members, written bare"}]}

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, raw: Any) -> Any:
        return {"members": raw} if isinstance(raw, list | tuple) else raw

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        return _role_name(value)

    @model_validator(mode="after")
    def _one_form(self) -> Accounts:
        if self.organization and self.members:
            raise ValueError("use organization: true or a list of members, not both")
        if not self.organization and not self.members:
            raise ValueError("write organization: true (every member), or list the members as {name, uin, role}")
        return self


def budget_accounts(raw: Any) -> Any:
    """A budget's ``accounts`` list: ``["*"]`` or distinct names, never empty."""
    if raw is None:
        return raw
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError('write a list of member account names or uins, or ["*"] for every member')
    names = [str(item) if isinstance(item, int) and not isinstance(item, bool) else item for item in raw]
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError("account names are non-empty text (a name or a uin)")
    if ALL_MEMBERS in names and len(names) > 1:
        raise ValueError('"*" means every member account; do not list names with it')
    if len(set(names)) != len(names):
        raise ValueError("an account is listed twice")
    return tuple(names)


def check_accounts(config: Config) -> Iterator[Problem]:
    """Problems between the top-level ``accounts`` and the budgets' ``accounts`` lists."""
    accounts = config.accounts
    members = accounts.members if accounts is not None else ()
    for field in ("name", "uin"):
        values = [getattr(m, field) for m in members]
        for position, value in enumerate(values):
            if values.index(value) != position:
                yield ("accounts", position, field), f"account {field} {value!r} is listed twice"
    for index, budget in enumerate(config.budgets):
        if budget.accounts is None:
            continue
        at: Path = ("budgets", index, "accounts")
        if accounts is None:
            yield (
                at,
                "a budget with accounts needs a top-level accounts: section (organization: true, or a list of members)",
            )
            continue
        if not accounts.organization:
            known = {m.name for m in members} | {m.uin for m in members}
            listed = ", ".join(m.name for m in members)
            for position, name in enumerate(budget.accounts):
                if name != ALL_MEMBERS and name not in known:
                    yield (*at, position), f'unknown account {name!r}; accounts: {listed}, or "*" for all'


__all__ = ["ALL_MEMBERS", "DEFAULT_ROLE", "Accounts", "Member", "budget_accounts", "check_accounts"]
