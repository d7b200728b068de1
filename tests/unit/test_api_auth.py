"""Bearer-token authentication of the API (``lib.api.auth``) and where the handler applies it."""

from __future__ import annotations

from typing import Any

import pytest

from lib.api.auth import Principal, api_tokens, authenticate, bearer, configured_tokens
from lib.api.errors import ApiProblem
from lib.errors import ConfigError
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


@pytest.mark.parametrize(
    ("configured", "which"),
    [
        ("x", "token 1 is shorter than 16 characters"),
        ("demo-token", "token 1 is shorter than 16 characters"),
        ("a" * 15, "token 1 is shorter than 16 characters"),
        (f"{TOKENS[0]},short-tok", "token 2 of 2 is shorter than 16 characters"),
        ("short-one,short-two,tok-alpha-0123456789", "tokens 1, 2 of 3 are shorter than 16 characters"),
    ],
)
def test_a_short_configured_token_is_a_configuration_error(configured: str, which: str) -> None:
    env = {"BUDGET_API_TOKEN": configured}
    with pytest.raises(ConfigError) as info:
        api_tokens(env)
    message = str(info.value)
    assert message.startswith(f"BUDGET_API_TOKEN: {which}")
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    for token in configured.split(","):
        assert token not in message  # never echoed, not even the short ones
    # Every caller is refused, even one presenting the short token: the operator must fix the variable.
    for presented in configured.split(","):
        with pytest.raises(ApiProblem) as refused:
            authenticate(f"Bearer {presented}", env)
        assert (refused.value.status, refused.value.code) == (503, "not_configured")
        assert "BUDGET_API_TOKEN" in refused.value.message
        assert presented not in refused.value.message


def test_sixteen_characters_are_enough() -> None:
    env = {"BUDGET_API_TOKEN": "a" * 16}
    assert api_tokens(env) == ("a" * 16,)
    assert authenticate("Bearer " + "a" * 16, env) == Principal(0)


def test_a_short_token_makes_every_route_but_health_answer_503() -> None:
    app: Any = make_app(tokens=("tiny",))
    status, _, body = call(app, event("GET", "/status", token="tiny"))
    assert status == 503
    assert body["error"]["code"] == "not_configured"
    assert "BUDGET_API_TOKEN" in body["error"]["message"] and "tiny" not in str(body)
    status, _, _ = call(app, event("GET", "/health", token=None))
    assert status == 200
    assert app.calls == []


def test_serve_refuses_to_start_with_a_short_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.api import http_bridge

    monkeypatch.setenv("BUDGET_API_TOKEN", "short-secret")
    monkeypatch.setattr(http_bridge, "make_server", lambda host, port: pytest.fail("must not listen"))
    with pytest.raises(ConfigError, match="BUDGET_API_TOKEN: token 1 is shorter than 16") as info:
        http_bridge.serve("127.0.0.1", 0)
    assert "short-secret" not in str(info.value)


def test_the_fixtures_and_the_demo_use_tokens_the_api_accepts() -> None:
    from sandbox.demo import DEMO_TOKEN
    from tests.e2e.fault_support import TOKEN as FAULTS_TOKEN
    from tests.soak_support import API_TOKEN as SOAK_TOKEN

    assert api_tokens({"BUDGET_API_TOKEN": ",".join((*TOKENS, DEMO_TOKEN, FAULTS_TOKEN, SOAK_TOKEN))})
