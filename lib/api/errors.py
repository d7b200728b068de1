"""HTTP errors of the API as JSON ``{"error": {"code", "message", "details"?}}``, and how package errors map to them.

Nothing here ever carries a stack trace: an unexpected exception becomes a 500 that names the request id,
and the traceback goes to the function log only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lib.errors import (
    ApiError,
    BudgetError,
    CollectError,
    ConfigError,
    ConfigErrors,
    CredentialError,
    DeadlineExceeded,
    DeliveryError,
    RequestError,
    StateError,
    TransportError,
)

if TYPE_CHECKING:
    from pydantic import ValidationError

    from lib.api.response import Response


class ApiProblem(Exception):
    """An answer other than success, raised anywhere below the handler and shaped by it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details) if details else None
        self.headers = dict(headers or {})


def bad_request(message: str, *, field: str | None = None, code: str = "bad_request") -> ApiProblem:
    details = [{"field": field, "message": message}] if field else None
    return ApiProblem(400, code, message, details=details)


def not_found(message: str) -> ApiProblem:
    return ApiProblem(404, "not_found", message)


def unauthorized(message: str) -> ApiProblem:
    # RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
    return ApiProblem(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="budget-alerts"'})


def method_not_allowed(method: str, allowed: Sequence[str]) -> ApiProblem:
    allow = ", ".join(sorted(allowed))
    return ApiProblem(405, "method_not_allowed", f"{method} is not allowed here; use {allow}", headers={"Allow": allow})


def too_large(limit: int) -> ApiProblem:
    return ApiProblem(413, "payload_too_large", f"the request body is larger than {limit} bytes")


def invalid_input(exc: ValidationError, *, prefix: str = "") -> ApiProblem:
    """A 400 listing every field pydantic refused; input values are not echoed back."""
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        # pydantic marks a refused mapping key with a trailing "[key]" part; the key itself says enough.
        path = ".".join(str(part) for part in err.get("loc", ()) if part != "[key]")
        field = ".".join(p for p in (prefix, path) if p) or "body"
        details.append({"field": field, "message": str(err.get("msg", "invalid")), "type": str(err.get("type", ""))})
    count = len(details)
    noun = "field" if count == 1 else "fields"
    return ApiProblem(400, "invalid_input", f"{count} invalid {noun}", details=details)


# (error class, HTTP status, code): first match wins, so subclasses come before their parents.
_BUDGET_ERRORS: tuple[tuple[type[BudgetError], int, str], ...] = (
    (ConfigError, 400, "config_error"),
    (CredentialError, 503, "credentials"),
    (StateError, 503, "state_unavailable"),
    (DeadlineExceeded, 504, "upstream_timeout"),
    (TransportError, 502, "upstream_unreachable"),
    (ApiError, 502, "upstream_error"),
    (CollectError, 502, "collect_failed"),
    (DeliveryError, 502, "delivery_failed"),
    (RequestError, 502, "upstream_request_refused"),
)


def from_budget_error(exc: BudgetError) -> ApiProblem:
    """Map a package error to a status; retryable ones carry ``Retry-After`` so clients back off."""
    status, code = 500, "error"
    for cls, cls_status, cls_code in _BUDGET_ERRORS:
        if isinstance(exc, cls):
            status, code = cls_status, cls_code
            break
    headers = {"Retry-After": "30"} if exc.retryable and status >= 500 else None
    return ApiProblem(status, code, str(exc), details=_config_details(exc), headers=headers)


def not_configured(exc: BudgetError) -> ApiProblem:
    """The function itself could not start (bad configuration, no state store): not the caller's fault."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ApiProblem(
        503, "not_configured", f"the service is not configured correctly: {first}", details=_config_details(exc)
    )


def _config_details(exc: BudgetError) -> list[dict[str, Any]] | None:
    """One detail per configuration problem, naming the field (and YAML line) where known."""
    if not isinstance(exc, ConfigError):
        return None
    problems = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    details: list[dict[str, Any]] = []
    for problem in problems:
        item: dict[str, Any] = {"field": problem.field or "config", "message": str(problem)}
        if problem.line is not None:
            item["line"] = problem.line
        details.append(item)
    return details if any(p.field for p in problems) else None


def internal(request_id: str) -> ApiProblem:
    return ApiProblem(500, "internal", f"internal error, see logs (request id {request_id})")


def problem_response(problem: ApiProblem) -> Response:
    from lib.api.response import Response

    error: dict[str, Any] = {"code": problem.code, "message": problem.message}
    if problem.details:
        error["details"] = problem.details
    return Response(problem.status, {"error": error}, dict(problem.headers))
