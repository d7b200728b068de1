"""Request bodies are strict: every field of every request model takes its own JSON type, nothing coerced.

``"dry_run": "yes"`` is not a boolean and ``"at": 1700000000`` is not an instant; both are a 400 that
names the field, through ``validate`` and through the routes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from lib.api.errors import ApiProblem
from lib.api.schemas import CheckRequest, SilenceRequest, validate
from tests.api_fixtures import call, event, make_app

SILENCE = {"matchers": {"budget": "monthly-spend"}, "duration": "1h"}

# (model, the rest of a valid body, field, a value of the wrong JSON type that lax pydantic would coerce or take)
WRONG_TYPES: list[tuple[type[Any], dict[str, Any], str, Any]] = [
    (CheckRequest, {}, "dry_run", "yes"),
    (CheckRequest, {}, "dry_run", "true"),
    (CheckRequest, {}, "dry_run", "false"),
    (CheckRequest, {}, "dry_run", 1),
    (CheckRequest, {}, "dry_run", 0),
    (CheckRequest, {}, "dry_run", 1.0),
    (CheckRequest, {}, "dry_run", "on"),
    (CheckRequest, {"dry_run": True}, "at", 1763596800),
    (CheckRequest, {"dry_run": True}, "at", "1763596800"),
    (CheckRequest, {"dry_run": True}, "at", 1763596800.5),
    (CheckRequest, {"dry_run": True}, "at", True),
    (CheckRequest, {"dry_run": True}, "at", {"year": 2026}),
    (SilenceRequest, {"duration": "1h"}, "matchers", [["budget", "monthly-spend"]]),
    (SilenceRequest, {"duration": "1h"}, "matchers", {"budget": 5}),
    (SilenceRequest, {"duration": "1h"}, "matchers", {"budget": True}),
    (SilenceRequest, {"duration": "1h"}, "matchers", {"budget": None}),
    (SilenceRequest, SILENCE, "starts_at", 1763596800),
    (SilenceRequest, SILENCE, "starts_at", "1763596800"),
    (SilenceRequest, {"matchers": {"budget": "monthly-spend"}}, "ends_at", 1893456000),
    (SilenceRequest, {"matchers": {"budget": "monthly-spend"}}, "ends_at", "1893456000"),
    (SilenceRequest, {"matchers": {"budget": "monthly-spend"}}, "duration", 3600),
    (SilenceRequest, {"matchers": {"budget": "monthly-spend"}}, "duration", 1.5),
    (SilenceRequest, SILENCE, "comment", 5),
    (SilenceRequest, SILENCE, "comment", True),
    (SilenceRequest, SILENCE, "comment", ["drill"]),
]


@pytest.mark.parametrize(
    ("model", "rest", "field", "value"), WRONG_TYPES, ids=[f"{m.__name__}.{f}={v!r}" for m, _, f, v in WRONG_TYPES]
)
def test_a_value_of_the_wrong_type_is_refused_and_named(
    model: type[Any], rest: dict[str, Any], field: str, value: Any
) -> None:
    with pytest.raises(ApiProblem) as info:
        validate(model, {**rest, field: value})
    assert info.value.status == 400
    fields = [d["field"] for d in info.value.details or []]
    assert any(f == field or f.startswith(f"{field}.") for f in fields), fields


def test_every_field_of_every_request_model_is_walked() -> None:
    walked = {(model, field) for model, _, field, _ in WRONG_TYPES}
    every = {(model, field) for model in (CheckRequest, SilenceRequest) for field in model.model_fields}
    assert walked == every


def test_the_right_types_still_validate() -> None:
    check = validate(CheckRequest, {"dry_run": True, "at": "2026-11-20T00:00:00Z"})
    assert check.dry_run is True
    assert check.at == datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert validate(CheckRequest, {"at": " 2026-11-20 08:00:00+08:00 "}).at == check.at
    silence = validate(
        SilenceRequest,
        {
            "matchers": {"budget": "monthly-spend", "zone-id": "zone-*"},
            "starts_at": "2026-11-22T10:00:00+08:00",
            "ends_at": "2026-11-22T12:00:00+08:00",
            "comment": "drill",
        },
    )
    assert silence.matchers == {"budget": "monthly-spend", "zone-id": "zone-*"}
    assert silence.ends_at == datetime(2026, 11, 22, 4, tzinfo=timezone.utc)


@pytest.mark.parametrize("duration", ["١h", "１h", "2h٣٠m"])
def test_silence_durations_take_ascii_digits_only(duration: str) -> None:
    with pytest.raises(ApiProblem) as info:
        validate(SilenceRequest, {"matchers": {"budget": "monthly-spend"}, "duration": duration})
    assert [d["field"] for d in info.value.details or []] == ["duration"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"dry_run": "yes"}, "dry_run"), ({"dry_run": True, "at": 1763596800}, "at"), ({"dry_run": 1}, "dry_run")],
)
def test_check_route_refuses_coercible_values(payload: dict[str, Any], field: str) -> None:
    app: Any = make_app()
    status, _, body = call(app, event("POST", "/check", body=payload))
    assert status == 400
    assert [d["field"] for d in body["error"]["details"]] == [field]
    assert app.calls == []  # nothing ran on a guessed value


def test_silence_route_refuses_a_numeric_duration() -> None:
    app: Any = make_app()
    status, _, body = call(
        app, event("POST", "/silences", body={"matchers": {"budget": "monthly-spend"}, "duration": 3600})
    )
    assert status == 400
    assert [d["field"] for d in body["error"]["details"]] == ["duration"]
