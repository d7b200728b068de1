"""The organization requests the product sends (members, AssumeRole, the fan-out's Invoke), each checked
against its shape in the API reference, so a misspelt field fails here and not in a customer's account."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from lib.app.accounts import list_members
from lib.app.fanout import Shard, _invoke
from lib.client.assume_role import AssumedRole, MemberRole
from lib.config.accounts import Accounts
from lib.sources.members import Account
from tests.api_contract import check_request

VERSIONS = {"organization": "2021-03-31", "sts": "2018-08-13", "scf": "2018-04-16"}


class Recorder:
    """A Caller that keeps each request and answers what the product reads."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def call(self, service: str, version: str, action: str, params: Any = None, region: str | None = None) -> Any:
        assert version == VERSIONS[service], (service, version)
        self.sent.append((service, action, dict(params or {})))
        if action == "DescribeOrganizationMembers":
            offset = params["Offset"]
            items = [{"MemberUin": 200000000000 + i, "Name": f"m{i}"} for i in range(offset, min(offset + 50, 70))]
            return {"Items": items, "Total": 70}
        if action == "AssumeRole":
            keys = {"TmpSecretId": "AKIDtmp", "TmpSecretKey": "tmpkey", "Token": "tok"}
            return {"Credentials": keys, "ExpiredTime": 4102444800, "Expiration": "2100-01-01T00:00:00Z"}
        return {"Result": {"InvokeResult": 0}}

    def problems(self) -> list[str]:
        return [
            p for service, action, body in self.sent for p in check_request(service, VERSIONS[service], action, body)
        ]


def test_the_contract_check_can_fail() -> None:
    assert check_request("sts", "2018-08-13", "AssumeRole", {"RoleArn": "qcs::cam::uin/1:roleName/r"})  # no session
    assert check_request("organization", "2021-03-31", "DescribeOrganizationMembers", {"Offset": 0, "Limt": 50})
    assert check_request("scf", "2018-04-16", "Invoke", {"FunctionName": "f", "InvocationType": "Async"})


def test_listing_the_members_pages_by_fifty_in_the_documented_shape() -> None:
    cloud = Recorder()
    members = list_members(Accounts(organization=True), cloud)
    assert len(members) == 70
    assert [body for _, _, body in cloud.sent] == [{"Offset": 0, "Limit": 50}, {"Offset": 50, "Limit": 50}]
    assert cloud.problems() == []


def test_assume_role_is_asked_in_the_documented_shape() -> None:
    cloud = Recorder()
    role = AssumedRole(cloud, MemberRole("200000000001", "OrganizationAccessControlRole"))  # type: ignore[arg-type]
    assert role.credentials(0.0).secret_id == "AKIDtmp"
    [(_, action, body)] = cloud.sent
    assert (
        action == "AssumeRole"
        and body["RoleArn"] == "qcs::cam::uin/200000000001:roleName/OrganizationAccessControlRole"
    )
    assert cloud.problems() == []


def test_a_shard_is_started_with_the_documented_invoke() -> None:
    cloud = Recorder()
    app = SimpleNamespace(settings=SimpleNamespace(fanout_function="budget-alerts-timer"), client=cloud)
    shard = Shard("20261122T0200Z", 0, 2, (Account("200000000001", "shop", "OrganizationAccessControlRole"),))
    _invoke(app, shard, {"namespace": "default", "tencentcloud_region": "ap-guangzhou"})  # type: ignore[arg-type]
    [(_, action, body)] = cloud.sent
    assert action == "Invoke" and body["InvocationType"] == "Event" and body["FunctionName"] == "budget-alerts-timer"
    assert cloud.problems() == []
