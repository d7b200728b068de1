"""The package's one exception tree; every error says whether retrying can help.

    BudgetError                      base; ``retryable`` tells the caller whether to try again
    ├── ConfigError                  configuration or usage error (names the budget, field, YAML line)
    │   └── ConfigErrors             several configuration problems found at once (``errors``)
    ├── CredentialError              no usable credential was found
    │   └── AssumeRoleError          a member account's role could not be assumed (that member only)
    ├── RequestError                 a request we refuse to send (too large, not UTF-8, bad method)
    ├── ApiError                     Tencent Cloud answered with an error envelope (code, request id)
    ├── TransportError               no usable answer: network error, non-200, non-JSON (body excerpt)
    │   └── DeadlineExceeded         the overall deadline for a call ran out while retrying
    ├── CollectError                 a collector could not produce a value for a budget
    ├── StateError                   the state store failed, or refused what was asked of it
    │   ├── StoreError               the backend (folder or COS) answered with an error
    │   ├── CorruptStateError        an object could not be read back (moved aside and reported)
    │   ├── InvalidCursor            lib.state.history: a paging cursor that is not ours
    │   ├── TooManySilences          lib.state.silences: the cap on active silences is reached
    │   ├── TransitionRefused        lib.state.actions: another run or approval took this step first
    │   └── ActionNotFound           lib.state.actions: no action with that id
    ├── LinkError                    lib.links: a signed link that is tampered with, expired or used
    ├── WebRefused                   lib.web.session: no or bad dashboard session, CSRF, read-only link
    └── DeliveryError                a webhook delivery failed (outcome: retry or rejected)

The subclasses named with a module live beside the one store or module that raises them.

Chain with ``raise ... from exc``; never swallow an error.
"""

from __future__ import annotations


class BudgetError(Exception):
    """Base of every error this package raises."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class ConfigError(BudgetError):
    """The configuration or a command-line argument is wrong; the message names what and where."""

    def __init__(
        self,
        message: str,
        *,
        budget: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        where = []
        if budget:
            where.append(f"budget {budget!r}")
        if field:
            where.append(f"field {field!r}")
        if line is not None:
            where.append(f"line {line}")
        text = f"{', '.join(where)}: {message}" if where else message
        super().__init__(text, retryable=False)
        self.budget = budget
        self.field = field
        self.line = line


class ConfigErrors(ConfigError):
    """Every problem found in one configuration file; ``errors`` holds each (budget, field, line)."""

    def __init__(self, errors: list[ConfigError], *, source: str | None = None) -> None:
        lines = [str(e) for e in errors]
        head = f"{source}: " if source else ""
        if len(lines) == 1:
            text = head + lines[0]
        else:
            text = f"{head}{len(lines)} problems\n" + "\n".join(f"  - {line}" for line in lines)
        super().__init__(text)
        self.errors = list(errors)
        self.source = source


class CredentialError(BudgetError):
    """No credential could be found, or one is malformed."""


class AssumeRoleError(CredentialError):
    """The role of one member account could not be assumed; only that member's budgets are affected."""

    def __init__(
        self, account: str, role: str, reason: str, *, code: str | None = None, retryable: bool = False
    ) -> None:
        super().__init__(f"account {account}: cannot assume role {role}: {reason}", retryable=retryable)
        self.account = account
        self.role = role
        self.code = code


class RequestError(BudgetError):
    """A request the client refuses to send, such as one over the protocol's size limit."""


class ApiError(BudgetError):
    """Tencent Cloud answered ``{"Response": {"Error": ...}}``."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        action: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(f"{action + ': ' if action else ''}{code}: {message}", retryable=retryable)
        self.code = code
        self.api_message = message
        self.request_id = request_id
        self.action = action


def in_code_family(code: str, family: str) -> bool:
    """A Tencent Cloud error ``code`` is ``family`` or one of its sub-codes (``family.Something``)."""
    return code == family or code.startswith(family + ".")


class TransportError(BudgetError):
    """The request got no usable answer: network failure, HTTP status other than 200, or not JSON."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body_excerpt: str = "",
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status
        self.body_excerpt = body_excerpt


class DeadlineExceeded(TransportError):
    """The overall deadline for a call ran out before an attempt succeeded."""

    retryable = False


class CollectError(BudgetError):
    """A collector could not produce a value for a budget (the cause is chained)."""


class StateError(BudgetError):
    """The state store failed."""


class StoreError(StateError):
    """An object store backend answered with an error."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        key: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status
        self.code = code
        self.key = key


class CorruptStateError(StateError):
    """A state object could not be parsed; it is moved aside and reported, never silently reset."""

    def __init__(self, message: str, *, key: str, moved_to: str | None = None) -> None:
        super().__init__(message, retryable=False)
        self.key = key
        self.moved_to = moved_to


class DeliveryError(BudgetError):
    """A webhook delivery failed; ``retryable`` separates 'try later' from 'rejected'."""

    def __init__(
        self,
        message: str,
        *,
        channel: str,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.channel = channel
        self.retry_after = retry_after
