"""Credentials for an organization member through sts AssumeRole, cached until shortly before they expire.

``AssumedRole`` asks STS (``sts`` 2018-08-13 ``AssumeRole``, RoleArn
``qcs::cam::uin/<member>:roleName/<role>``, session name ``budget-alerts``) over our own ``ApiClient``
signed with the caller's credentials, and keeps the answer until ``margin`` seconds before its
``ExpiredTime``; ``MemberClient`` is an ``ApiClient`` that signs with those credentials (so every call
carries ``X-TC-Token``), shares the caller's connection pool and endpoint, and is rate-limited per
(member, action). A refusal becomes ``AssumeRoleError`` naming the member and the role.

Why not the SDK's ``tencentcloud.common.credential.STSAssumeRoleCredential`` (3.1.195): it signs
AssumeRole with a bare SecretId/SecretKey and drops the session token, so it cannot assume a role from
the temporary keys SCF gives a function's execution role, which is where this runs; its endpoint
parameter is a host name only, always reached over HTTPS, so ``BUDGET_API_ENDPOINT`` (an http sandbox,
a proxy with a path) cannot be honoured; it reads ``time.time`` itself (no injected clock) and raises
``TencentCloudSDKException`` without our retries, rate limits, skew correction or typed errors; and
importing it pulls in the SDK's whole client stack at cold start. The call is one request; ours is
a few lines over the client every other call already uses.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from lib.client.api import ApiClient
from lib.client.credentials import Credentials
from lib.errors import AssumeRoleError, BudgetError

STS_SERVICE = "sts"
STS_VERSION = "2018-08-13"
STS_REGION = "ap-guangzhou"  # STS is global; the SDK's own provider names this region
SESSION_NAME = "budget-alerts"  # shows in the member's CloudAudit records as who acted
DEFAULT_DURATION = 7200  # the API's default lifetime; a warm function instance reuses the keys
MAX_DURATION = 43200
REFRESH_MARGIN = 300.0  # seconds before expiry at which the keys are renewed
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,128}$", re.ASCII)
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,128}$", re.ASCII)


@dataclass(frozen=True)
class MemberRole:
    """A member account (uin, optional display name) and the role the product assumes in it."""

    uin: str
    role: str
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.uin.isdigit():
            raise ValueError(f"a member uin is digits only, not {self.uin!r}")
        if not _ROLE_NAME.match(self.role):
            raise ValueError(f"a role name is 1-128 letters, digits or +=,.@_-, not {self.role!r}")

    @property
    def arn(self) -> str:
        return f"qcs::cam::uin/{self.uin}:roleName/{self.role}"

    @property
    def label(self) -> str:
        return f"{self.uin} ({self.name})" if self.name else self.uin


@dataclass(frozen=True)
class TemporaryCredentials:
    """Keys from AssumeRole and the server's expiry (Unix seconds)."""

    credentials: Credentials
    expires: float


class AssumedRole:
    """Temporary credentials for one member: fetched on first use, renewed ``margin`` s before they expire.

    Thread-safe: concurrent callers wait for one AssumeRole instead of each sending their own. ``now``
    is passed in (Unix seconds), so the cache is tested with any clock.
    """

    def __init__(
        self,
        client: ApiClient,
        member: MemberRole,
        *,
        session_name: str = SESSION_NAME,
        duration: int = DEFAULT_DURATION,
        margin: float = REFRESH_MARGIN,
    ) -> None:
        if not _SESSION_NAME.match(session_name):
            raise ValueError(f"a session name is 2-128 letters, digits or +=,.@_-, not {session_name!r}")
        if not 1 <= duration <= MAX_DURATION:
            raise ValueError(f"duration must be 1 to {MAX_DURATION} seconds, not {duration}")
        self.client = client
        self.member = member
        self.session_name = session_name
        self.duration = duration
        self.margin = min(margin, duration / 4)  # short-lived keys are still used for most of their life
        self._cached: TemporaryCredentials | None = None
        self._lock = threading.Lock()

    def credentials(self, now: float, *, refresh: bool = False) -> Credentials:
        """Valid keys at ``now``; ``refresh`` renews them even if they look valid (the server refused them)."""
        with self._lock:
            cached = self._cached
            if cached is None or refresh or now >= cached.expires - self.margin:
                cached = self._cached = self._assume()
            return cached.credentials

    def _assume(self) -> TemporaryCredentials:
        params = {"RoleArn": self.member.arn, "RoleSessionName": self.session_name, "DurationSeconds": self.duration}
        try:
            response = self.client.call(STS_SERVICE, STS_VERSION, "AssumeRole", params, STS_REGION)
        except BudgetError as exc:
            code = getattr(exc, "code", None)
            raise AssumeRoleError(
                self.member.label, self.member.role, str(exc), code=code, retryable=exc.retryable
            ) from exc
        return parse_assume_role(response, self.member)


def parse_assume_role(response: dict[str, Any], member: MemberRole) -> TemporaryCredentials:
    """The keys and expiry of an AssumeRole answer; anything missing is an AssumeRoleError."""
    keys = response.get("Credentials")
    expires = response.get("ExpiredTime")
    if not isinstance(keys, dict) or not isinstance(expires, int) or isinstance(expires, bool):
        raise AssumeRoleError(member.label, member.role, "the AssumeRole answer has no Credentials or ExpiredTime")
    values = [keys.get(name) for name in ("TmpSecretId", "TmpSecretKey", "Token")]
    if not all(isinstance(v, str) and v for v in values):
        raise AssumeRoleError(
            member.label, member.role, "the AssumeRole answer lacks TmpSecretId, TmpSecretKey or Token"
        )
    secret_id, secret_key, token = (str(v) for v in values)
    return TemporaryCredentials(Credentials(secret_id, secret_key, token), float(expires))


class MemberClient(ApiClient):
    """An ``ApiClient`` acting as a member: the caller's endpoint, session and policies, the member's keys.

    Its rate limiter is the caller's, keyed by (member uin, action). A TokenFailure from the server (the
    keys expired early, e.g. a clock ahead of ours) renews the keys and signs the call again once.
    """

    def __init__(self, caller: ApiClient, role: AssumedRole) -> None:
        super().__init__(
            None,
            session=caller.session,
            site=caller.site,
            regional=caller.regional,
            language=caller.language,
            timeout=caller.timeout,
            retry=caller.retry,
            rate_limiter=caller.rate_limiter.for_account(role.member.uin),
            clock=caller._clock,
            monotonic=caller._monotonic,
            sleep=caller._sleep,
            random=caller._random,
        )
        self.override = caller.override
        self.role = role

    def credentials(self, *, refresh: bool = False) -> Credentials:
        return self.role.credentials(self._clock() + self.skew, refresh=refresh)


def member_client(caller: ApiClient, member: MemberRole, **options: Any) -> MemberClient:
    """A client for ``member``, assuming its role through ``caller`` (``options``: AssumedRole's)."""
    return MemberClient(caller, AssumedRole(caller, member, **options))


__all__ = ["AssumedRole", "MemberClient", "MemberRole", "TemporaryCredentials", "member_client"]
