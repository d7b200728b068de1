"""SCF API 3.0 (``scf`` 2018-04-16) calls for the deployer, over the shared ``ApiClient``.

Refusals are turned into errors that say what to do: a missing permission names the CAM action the
deployer needs; a missing role prints the role to create (carrier ``scf.qcloud.com``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lib.client import ApiClient
from lib.errors import ApiError, BudgetError

log = logging.getLogger("lib.deploy")

SERVICE = "scf"
VERSION = "2018-04-16"
NOT_FOUND = ("ResourceNotFound.Function", "ResourceNotFound.FunctionName")
# From the SDK's scf errorcodes.py: the role does not exist or cannot be read.
ROLE_CODES = (
    "ResourceNotFound.Role",
    "ResourceNotFound.RoleCheck",
    "FailedOperation.QcsRoleNotFound",
    "FailedOperation.CallRoleFailed",
    "InvalidParameter.RoleCheck",
)
COS_REFUSED = "UnauthorizedOperation.Role"  # "no permission to access your COS resources" (the code object)
PERMISSION_PREFIXES = ("AuthFailure.UnauthorizedOperation", "UnauthorizedOperation")
SETTLED = "Active"
FAILED_SUFFIX = "Failed"  # CreateFailed, UpdateFailed, PublishFailed...
ROLE_HELP = (
    "create the execution role first: a CAM service role whose carrier (trusted entity) is scf.qcloud.com, "
    "for example\n"
    "  tccli cam CreateRole --RoleName {role} --ConsoleLogin 0 --PolicyDocument "
    '\'{{"version":"2.0","statement":[{{"action":"name/sts:AssumeRole","effect":"allow",'
    '"principal":{{"service":["scf.qcloud.com"]}}}}]}}\'\n'
    "then attach the functions' policy (JSON in docs/deployment.md): teo:DescribeBillingData, teo:DescribeZones, "
    "teo:DescribePlans, billing:DescribeBillSummaryByProduct, billing:DescribeAccountBalance, "
    "cos:GetObject/HeadObject/PutObject/DeleteObject on the state prefix and cos:GetBucket on its bucket, "
    "scf:InvokeFunction on the timer function; and pass --role {role}"
)


@contextmanager
def _expected_failures() -> Iterator[None]:
    """Hold back the client's failure warning for a call whose error answer is expected (not found).

    Any other error is raised to the caller, which shows it, so nothing is lost.
    """
    client_log = logging.getLogger("lib.client")
    previous = client_log.level
    client_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        client_log.setLevel(previous)


class Scf:
    """The deployer's view of SCF in one region and namespace."""

    def __init__(
        self,
        client: ApiClient,
        region: str,
        namespace: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        poll: float = 1.0,
        wait_limit: float = 300.0,
    ) -> None:
        self.client = client
        self.region = region
        self.namespace = namespace
        self._sleep = sleep
        self._monotonic = monotonic
        self.poll = poll
        self.wait_limit = wait_limit

    def call(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One SCF action; refusals for permissions and roles come back as errors that say what to do."""
        try:
            return self.client.call(SERVICE, VERSION, action, dict(params), region=self.region)
        except ApiError as exc:
            if exc.code == COS_REFUSED:
                raise ApiError(
                    exc.code,
                    f"SCF may not read the code package from COS for {action}: the bucket given with --code-bucket "
                    f"must be in the functions' region and readable by SCF. SCF said: {exc.api_message}",
                    request_id=exc.request_id,
                    action=action,
                ) from exc
            if exc.code.startswith(PERMISSION_PREFIXES):
                raise ApiError(
                    exc.code,
                    f"the deployer's credentials may not call {action}: grant the CAM action scf:{action} "
                    f"(the deployer policy in docs/deployment.md lists every action deploy uses; binding a role "
                    f"also needs cam:PassRole). SCF said: {exc.api_message}",
                    request_id=exc.request_id,
                    action=action,
                ) from exc
            if exc.code in ROLE_CODES:
                role = str(params.get("Role") or "BudgetAlertsScfRole")
                raise ApiError(
                    exc.code,
                    f"SCF refused the role {role!r} ({exc.api_message}); " + ROLE_HELP.format(role=role),
                    request_id=exc.request_id,
                    action=action,
                ) from exc
            raise

    # -- reads -------------------------------------------------------------------------------------

    def get_function(self, name: str) -> dict[str, Any] | None:
        """GetFunction's answer, or None when there is no such function."""
        try:
            with _expected_failures():
                return self.call("GetFunction", {"FunctionName": name, "Namespace": self.namespace})
        except ApiError as exc:
            if exc.code in NOT_FOUND:
                return None
            raise

    def list_triggers(self, name: str) -> list[dict[str, Any]]:
        """Every trigger of a function (ListTriggers pages through 20 at a time by default)."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.call(
                "ListTriggers",
                {"FunctionName": name, "Namespace": self.namespace, "Offset": len(found), "Limit": 100},
            )
            triggers = page.get("Triggers") or []
            found.extend(triggers)
            if not triggers or len(found) >= int(page.get("TotalCount") or 0):
                return found

    def get_invoke_config(self, name: str) -> dict[str, Any] | None:
        """The function's async retry policy (``AsyncTriggerConfig``), or None if it has none."""
        answer = self.call("GetFunctionEventInvokeConfig", {"FunctionName": name, "Namespace": self.namespace})
        config = answer.get("AsyncTriggerConfig")
        return config if isinstance(config, dict) else None

    # -- waiting -----------------------------------------------------------------------------------

    def wait_active(self, name: str) -> dict[str, Any]:
        """Poll GetFunction until the function is Active (SCF refuses changes while it is not)."""
        deadline = self._monotonic() + self.wait_limit
        while True:
            state = self.get_function(name)
            if state is None:
                raise BudgetError(f"function {name} disappeared while waiting for it to become Active")
            status = str(state.get("Status") or "")
            if status == SETTLED:
                return state
            if status.endswith(FAILED_SUFFIX):
                reasons = "; ".join(
                    f"{r.get('ErrorCode', '')} {r.get('ErrorMessage', '')}".strip()
                    for r in state.get("StatusReasons") or []
                )
                raise BudgetError(
                    f"function {name} is {status}: {reasons or state.get('StatusDesc') or 'no reason given'}"
                )
            if self._monotonic() >= deadline:
                raise BudgetError(
                    f"function {name} is still {status or 'not ready'} after {self.wait_limit:g} s; "
                    "run deploy again later",
                    retryable=True,
                )
            log.info("%s is %s; waiting", name, status)
            self._sleep(self.poll)

    def wait_gone(self, name: str) -> None:
        """Poll GetFunction until the function no longer exists (DeleteFunction finishes in the background)."""
        deadline = self._monotonic() + self.wait_limit
        while self.get_function(name) is not None:
            if self._monotonic() >= deadline:
                raise BudgetError(f"function {name} still exists {self.wait_limit:g} s after DeleteFunction")
            self._sleep(self.poll)
