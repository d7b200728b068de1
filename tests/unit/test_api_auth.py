"""Bearer-token authentication of the API (``lib.api.auth``) and where the handler applies it."""

from __future__ import annotations

from typing import Any

import pytest

from lib.api.auth import Principal, authenticate, bearer, configured_tokens
from lib.api.errors import ApiProblem
from tests.api_fixtures import TOKENS, call, event, make_app


def test_configured_tokens_split_and_strip() -> None:
    assert configured_tokens({"BUDGET_API_TOKEN": " a1 , ,b2,"}) == ("a1", "b2")
    assert configured_tokens({}) == ()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
        ("abc", None),
    ],
)
def test_bearer_parsing(header: str | None, token: str | None) -> None:
    assert bearer(header) == token


def test_each_token_authenticates_as_its_position() -> None:
    env = {"BUDGET_API_TOKEN": ",".join(TOKENS)}
    assert authenticate(f"Bearer {TOKENS[0]}", env) == Principal(0)
    assert authenticate(f"Bearer {TOKENS[1]}", env).name == "token-2"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong",
        f"Bearer {TOKENS[0]}x",
        f"Bearer {TOKENS[0][:-1]}",
        f"Basic {TOKENS[0]}",
        "Bearer tok-alpha",
    ],
)
def test_wrong_tokens_are_401(header: str | None) -> None:
    with pytest.raises(ApiProblem) as info:
        authenticate(header, {"BUDGET_API_TOKEN": ",".join(TOKENS)})
    assert info.value.status == 401
    assert info.value.headers["WWW-Authenticate"].startswith("Bearer")


def test_unset_variable_refuses_everything_and_says_why() -> None:
    with pytest.raises(ApiProblem) as info:
        authenticate("Bearer anything", {})
    assert "BUDGET_API_TOKEN is not set" in info.value.message


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/status"),
        ("GET", "/usage"),
        ("POST", "/check"),
        ("GET", "/alerts"),
        ("GET", "/silences"),
        ("POST", "/silences"),
        ("DELETE", "/silences/sil_1"),
        ("GET", "/openapi.json"),
        ("GET", "/no-such-route"),  # 401 before 404: no route map for strangers
        ("PUT", "/status"),  # 401 before 405
    ],
)
def test_every_route_but_health_needs_a_token(method: str, path: str) -> None:
    app: Any = make_app()
    status, headers, body = call(app, event(method, path, token=None))
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    assert "WWW-Authenticate" in headers
    status, _, _ = call(app, event(method, path, token="not-the-token"))
    assert status == 401
    assert app.calls == []


def test_no_token_configured_refuses_all_but_health() -> None:
    app: Any = make_app(tokens=())
    status, _, body = call(app, event("GET", "/status", token="anything"))
    assert status == 401
    assert "BUDGET_API_TOKEN is not set" in body["error"]["message"]
    status, _, body = call(app, event("GET", "/health", token=None))
    assert status == 200
    assert body["auth"] == "unset"


def test_second_token_works_and_tokens_never_echo() -> None:
    app: Any = make_app()
    status, _, body = call(app, event("GET", "/status", token=TOKENS[1]))
    assert status == 200
    assert TOKENS[1] not in str(body)
