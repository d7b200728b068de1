"""STS (sts 2018-08-13) in the sandbox: AssumeRole issues temporary keys the verifier then accepts; GetCallerIdentity.

AssumeRole takes ``RoleArn`` as ``qcs::cam::uin/<uin>:roleName/<name>`` (the form the product sends;
``…:role/<id>`` names a role by id, which no scenario role has) and answers, from the SDK's
``errorcodes.py``: a malformed ARN ``InvalidParameter.ResouceError``; a uin that is not a member of
the scenario's organization ``InvalidParameter.AccountNotAvaliable``; a role the member does not have
``ResourceNotFound.RoleNotFound``; a caller other than the organization's own account (a member's
temporary key) ``UnauthorizedOperation``; ``RoleSessionName`` not 2-128 of ``[\\w+=,.@-]``
``InvalidParameter.ParamError``; ``DurationSeconds`` outside 1-43200 ``InvalidParameter.OverTimeError``.

The issued key acts as the member (``Credential.account``), carries its token and expires after
``DurationSeconds`` on the signature (wall) clock; the verifier refuses it from then on with
``AuthFailure.TokenFailure``. Expired keys are forgotten a day later (then ``SecretIdNotFound``).
GetCallerIdentity answers ``Type`` ``CAMRole`` for an assumed role and ``RootAccount`` for the
scenario's own keys (the documentation shows only ``CAMUser``: the sandbox's choice).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sandbox.api3 import Action, ApiFailure, Context, Product
from sandbox.scenario import Scenario
from sandbox.scenario_spec import MemberSpec
from sandbox.verify import Credential

VERSION = "2018-08-13"
MAX_DURATION = 43200
DEFAULT_DURATION = 7200
FORGET_AFTER = 86400.0  # seconds past expiry before an issued key is dropped
_ROLE_ARN = re.compile(r"^qcs::cam::uin/(\d+):(roleName|role)/([\w+=,.@-]+)$", re.ASCII)
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,128}$", re.ASCII)


@dataclass(frozen=True)
class Session:
    """Who a temporary key is: the member, the role and session name, and the account that asked."""

    member: str
    role: str
    role_id: str
    name: str
    principal: str


def role_id(member: str, role: str) -> str:
    """A stable numeric role id, shaped like CAM's (``4611686018…``)."""
    return str(4611686018427387904 + (int(member) * 7919 + sum(map(ord, role))) % 10_000_000_000)


class StsService:
    """Issues and remembers temporary keys; ``issued`` is the live map the API front door verifies against."""

    def __init__(self, scenario: Scenario, *, clock: Callable[[], float] = time.time) -> None:
        self.scenario = scenario
        self.clock = clock
        self.issued: dict[str, Credential] = {}
        self.sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def product(self) -> Product:
        return Product(
            "sts",
            VERSION,
            {
                "AssumeRole": Action(
                    self.assume_role,
                    {
                        "RoleArn": str,
                        "RoleSessionName": str,
                        "DurationSeconds": int,
                        "Policy": str,
                        "ExternalId": str,
                        "Tags": [{"Key": str, "Value": str}],
                        "SourceIdentity": str,
                        "SerialNumber": str,
                        "TokenCode": str,
                    },
                ),
                "GetCallerIdentity": Action(self.get_caller_identity, {}),
            },
        )

    def _member(self, uin: str) -> MemberSpec:
        organization = self.scenario.spec.organization
        for member in organization.members if organization is not None else ():
            if str(member.uin) == uin:
                return member
        raise ApiFailure("InvalidParameter.AccountNotAvaliable", f"The account {uin} is not available to assume.")

    def assume_role(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        arn = params.get("RoleArn") or ""
        session_name = params.get("RoleSessionName") or ""
        if not arn or not session_name:
            missing = "RoleArn" if not arn else "RoleSessionName"
            raise ApiFailure("MissingParameter", f"The request is missing a required parameter `{missing}`.")
        match = _ROLE_ARN.match(arn)
        if match is None:
            raise ApiFailure(
                "InvalidParameter.ResouceError",
                f"RoleArn {arn[:160]!r} is not qcs::cam::uin/<uin>:roleName/<name> or qcs::cam::uin/<uin>:role/<id>.",
            )
        if not _SESSION_NAME.match(session_name):
            raise ApiFailure(
                "InvalidParameter.ParamError",
                "RoleSessionName must be 2 to 128 characters of letters, digits and =,.@_-.",
            )
        duration = params.get("DurationSeconds")
        duration = DEFAULT_DURATION if duration is None else duration
        if not 1 <= duration <= MAX_DURATION:
            raise ApiFailure(
                "InvalidParameter.OverTimeError", f"DurationSeconds must be 1 to {MAX_DURATION}, not {duration}."
            )
        uin, kind, role = match.groups()
        if ctx.caller.account is not None:
            raise ApiFailure(
                "UnauthorizedOperation",
                f"The temporary key of account {ctx.caller.account} may not assume roles of other accounts.",
            )
        member = self._member(uin)
        if kind != "roleName" or role not in member.roles:
            raise ApiFailure("ResourceNotFound.RoleNotFound", f"The role {role} does not exist in account {uin}.")
        now = self.clock()
        expires = int(now) + duration
        secret_id = "AKID" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")
        credential = Credential(
            secret_id, secrets.token_urlsafe(30), secrets.token_urlsafe(48), account=uin, expires=float(expires)
        )
        principal = str(self.scenario.spec.account.uin)
        with self._lock:
            for stale in [k for k, c in self.issued.items() if (c.expires or now) + FORGET_AFTER < now]:
                self.issued.pop(stale, None)
                self.sessions.pop(stale, None)
            self.sessions[secret_id] = Session(uin, role, role_id(uin, role), session_name, principal)
            self.issued[secret_id] = credential
        return {
            "Credentials": {
                "Token": credential.token,
                "TmpSecretId": credential.secret_id,
                "TmpSecretKey": credential.secret_key,
            },
            "ExpiredTime": expires,
            "Expiration": datetime.fromtimestamp(expires, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def get_caller_identity(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        session = self.sessions.get(ctx.caller.secret_id)
        if session is None:
            uin = str(self.scenario.spec.account.uin)
            return {"Arn": f"qcs::cam::uin/{uin}:uin/{uin}", "AccountId": uin, "UserId": uin, "PrincipalId": uin,
                    "Type": "RootAccount"}  # fmt: skip
        return {
            "Arn": f"qcs::sts:{session.member}:assumed-role/{session.role_id}/{session.name}",
            "AccountId": session.member,
            "UserId": f"{session.role_id}:{session.name}",
            "PrincipalId": session.principal,
            "Type": "CAMRole",
        }
