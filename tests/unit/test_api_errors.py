"""Error answers of the API: package errors mapped to statuses, the 500 without a traceback, masking."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

import lib.api
from handlers.api import main_handler
from lib.api.errors import from_budget_error
from lib.errors import (
    ApiError,
    BudgetError,
    ConfigError,
    CorruptStateError,
    CredentialError,
    DeadlineExceeded,
    StateError,
    StoreError,
    TransportError,
)
from tests.api_fixtures import DING_SECRET, WECOM_KEY, call, event, make_app


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (ConfigError("bad", field="budgets.0.limit"), 400, "config_error"),
        (CredentialError("no credentials"), 503, "credentials"),
        (StateError("down", retryable=True), 503, "state_unavailable"),
        (StoreError("COS 500", status=500, retryable=True), 503, "state_unavailable"),
        (CorruptStateError("bad json", key="ledger.json"), 503, "state_unavailable"),
        (TransportError("timeout"), 502, "upstream_unreachable"),
        (DeadlineExceeded("deadline"), 504, "upstream_timeout"),
        (ApiError("AuthFailure.SignatureFailure", "sig"), 502, "upstream_error"),
        (BudgetError("other"), 500, "error"),
    ],
)
def test_budget_errors_map_to_statuses(exc: BudgetError, status: int, code: str) -> None:
    app: Any = make_app()
    app.fail_with = exc
    got, headers, body = call(app, event("POST", "/check"))
    assert got == status
    assert body["error"]["code"] == code
    assert str(exc) in body["error"]["message"]
    assert ("Retry-After" in headers) == (exc.retryable and status >= 500)
    assert from_budget_error(exc).status == status


def test_config_error_names_the_field() -> None:
    problem = from_budget_error(ConfigError("must be positive", field="limit"))
    assert problem.details == [{"field": "limit", "message": "field 'limit': must be positive"}]


def test_broken_configuration_lists_every_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.app import runtime
    from lib.errors import ConfigErrors

    def broken(*args: Any, **kwargs: Any) -> Any:
        problems = [
            ConfigError("environment variable WECOM_URL is not set", field="channels.ops.url", line=8),
            ConfigError("must be positive", budget="b1", field="limit", line=20),
        ]
        raise ConfigErrors(problems, source="budgets.yaml")

    monkeypatch.setattr(runtime.App, "from_env", classmethod(broken))
    monkeypatch.setenv("BUDGET_API_TOKEN", "env-token-123456")
    lib.api.set_app(None)
    status, _, body = call(None, event("GET", "/status", token="env-token-123456"))
    assert status == 503
    assert body["error"]["message"] == "the service is not configured correctly: budgets.yaml: 2 problems"
    assert [(d["field"], d["line"]) for d in body["error"]["details"]] == [("channels.ops.url", 8), ("limit", 20)]


def test_unexpected_exception_is_a_500_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    app: Any = make_app()
    app.fail_with = ZeroDivisionError("division by zero in secret place")
    with caplog.at_level(logging.ERROR, logger="lib.api"):
        status, headers, body = call(app, event("POST", "/check"), {"request_id": "rid-42"})
    assert status == 500
    assert body == {"error": {"code": "internal", "message": "internal error, see logs (request id rid-42)"}}
    assert headers["X-Request-Id"] == "rid-42"
    assert "Traceback" in caplog.text  # the log has it, the answer does not
    assert "ZeroDivisionError" in caplog.text


def test_error_messages_are_masked() -> None:
    app: Any = make_app()
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
    app.fail_with = TransportError(f"POST {url} failed; secret was {DING_SECRET}")
    _, _, body = call(app, event("POST", "/check"))
    text = json.dumps(body)
    assert WECOM_KEY not in text
    assert DING_SECRET not in text
    assert "[redacted]" in text


def test_broken_configuration_is_503_and_health_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.app import runtime

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConfigError("budgets.yaml: line 3: unknown key 'limmit'")

    monkeypatch.setattr(runtime.App, "from_env", classmethod(broken))
    monkeypatch.setenv("BUDGET_API_TOKEN", "env-token-123456")
    lib.api.set_app(None)
    status, _, body = call(None, event("GET", "/status", token="env-token-123456"))
    assert status == 503
    assert body["error"]["code"] == "not_configured"
    assert "limmit" in body["error"]["message"]
    status, _, _ = call(None, event("GET", "/health", token=None))
    assert status == 200


def test_app_is_built_once_and_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.app import runtime

    built: list[Any] = []

    def build(*args: Any, **kwargs: Any) -> Any:
        app = make_app(tokens=("env-token-123456",))
        built.append(app)
        return app

    monkeypatch.setattr(runtime.App, "from_env", classmethod(build))
    monkeypatch.setenv("BUDGET_API_TOKEN", "env-token-123456")
    lib.api.set_app(None)
    try:
        for _ in range(3):
            response = main_handler(event("GET", "/status", token="env-token-123456"), {})
            assert response["statusCode"] == 200
        assert len(built) == 1
    finally:
        lib.api.set_app(None)


def test_the_handler_survives_a_response_it_cannot_serialise(monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.api import routes
    from lib.api.response import Response

    class Loop(dict):  # type: ignore[type-arg]
        pass

    loop = Loop()
    loop["self"] = loop  # recursion while serialising
    monkeypatch.setattr(routes, "health", lambda call: Response(200, loop))
    monkeypatch.setattr(routes, "ROUTES", (routes.Route("GET", "/health", routes.health, "x", auth=False),))
    status, _, body = call(None, event("GET", "/health", token=None), {"request_id": "rid-7"})
    assert status == 500
    assert "rid-7" in body["error"]["message"]
