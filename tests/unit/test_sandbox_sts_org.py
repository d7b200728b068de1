"""The sandbox's organization and STS, in process: members paged, roles assumed, temporary keys verified."""

from __future__ import annotations

from typing import Any

import pytest

from lib.errors import ConfigError
from sandbox import organization, sts
from sandbox.api3 import Api3, RateLimiter
from sandbox.scenario import Scenario
from sandbox.verify import Credential
from tests.unit.sandbox_support import SECRET_ID, SECRET_KEY, WALL, error_code, reply_json, signed, small

ROLE = "OrganizationAccessControlRole"
MEMBERS = [{"uin": 200000000000 + i, "name": f"member-{i:03d}"} for i in range(1, 124)]
MEMBERS[1] = {"uin": 200000000002, "name": "member-002", "roles": ["ReadOnly"]}


class Wall:
    """The signature clock, moved by tests."""

    def __init__(self) -> None:
        self.now = WALL

    def __call__(self) -> float:
        return self.now


def org_scenario(members: list[dict[str, Any]] | None = None) -> Scenario:
    return small(organization={"id": 77, "members": MEMBERS if members is None else members})


def front(scenario: Scenario | None = None, wall: Wall | None = None) -> tuple[Api3, Wall]:
    wall = wall or Wall()
    scenario = scenario or org_scenario()
    service = sts.StsService(scenario, clock=wall)
    products = {"organization": organization.PRODUCT, "sts": service.product()}
    api = Api3(
        scenario,
        {SECRET_ID: Credential(SECRET_ID, SECRET_KEY)},
        products,
        signature_clock=wall,
        sleep=lambda _s: None,
        issued=service.issued,
    )
    return api, wall


def call(api: Api3, service: str, action: str, params: dict[str, Any], **keys: Any) -> Any:
    version = {"sts": sts.VERSION, "organization": organization.VERSION}[service]
    timestamp = int(api.signature_clock())
    return api.handle(signed(action, params, service=service, version=version, timestamp=timestamp, **keys))


def assume(api: Api3, uin: int = 200000000001, role: str = ROLE, **extra: Any) -> Any:
    arn = f"qcs::cam::uin/{uin}:roleName/{role}"
    return call(api, "sts", "AssumeRole", {"RoleArn": arn, "RoleSessionName": "budget-alerts", **extra})


def as_member(response: dict[str, Any]) -> dict[str, Any]:
    keys = response["Credentials"]
    return {"secret_id": keys["TmpSecretId"], "secret_key": keys["TmpSecretKey"], "token": keys["Token"]}


def test_members_come_in_pages_of_at_most_50_and_add_up_to_the_total() -> None:
    api, _ = front()
    seen: list[int] = []
    for offset in range(0, 150, 50):
        page = reply_json(call(api, "organization", "DescribeOrganizationMembers", {"Offset": offset, "Limit": 50}))
        assert page["Total"] == len(MEMBERS)
        seen += [item["MemberUin"] for item in page["Items"]]
    assert seen == [m["uin"] for m in MEMBERS]
    for bad in ({"Offset": 0, "Limit": 51}, {"Offset": 0, "Limit": 0}, {"Offset": 7, "Limit": 50}):
        assert error_code(call(api, "organization", "DescribeOrganizationMembers", bad)) == "InvalidParameter"
    assert error_code(call(api, "organization", "DescribeOrganizationMembers", {"Limit": 10})) == "MissingParameter"


def test_the_organization_answers_the_manager_and_refuses_without_one() -> None:
    api, _ = front()
    org = reply_json(call(api, "organization", "DescribeOrganization", {}))
    assert (org["OrgId"], org["IsManager"], org["HostUin"]) == (77, True, 100000000001)
    search = {"Offset": 0, "Limit": 10, "SearchKey": "member-002"}
    assert [
        i["Name"] for i in reply_json(call(api, "organization", "DescribeOrganizationMembers", search))["Items"]
    ] == ["member-002"]
    roles = {"Offset": 0, "Limit": 10, "MemberUin": 200000000002}
    identities = reply_json(call(api, "organization", "DescribeOrganizationMemberAuthIdentities", roles))
    assert [i["IdentityRoleName"] for i in identities["Items"]] == ["ReadOnly"]
    lone, _ = front(small())
    assert error_code(call(lone, "organization", "DescribeOrganization", {})) == "ResourceNotFound.OrganizationNotExist"


def test_an_assumed_role_acts_as_the_member_until_it_expires() -> None:
    api, wall = front()
    response = reply_json(assume(api, DurationSeconds=900))
    assert response["ExpiredTime"] == int(WALL) + 900
    assert response["Expiration"].endswith("Z")
    member = as_member(response)
    me = reply_json(call(api, "sts", "GetCallerIdentity", {}, **member))
    assert (me["AccountId"], me["PrincipalId"], me["Type"]) == ("200000000001", "100000000001", "CAMRole")
    assert me["UserId"].endswith(":budget-alerts")
    org = reply_json(call(api, "organization", "DescribeOrganization", {}, **member))
    assert org["IsManager"] is False
    listing = call(api, "organization", "DescribeOrganizationMembers", {"Offset": 0, "Limit": 10}, **member)
    assert error_code(listing) == "InvalidParameter.OrganizationMemberNotManager"
    assert error_code(call(api, "sts", "GetCallerIdentity", {}, **{**member, "token": None})) == (
        "AuthFailure.TokenFailure"
    )
    assert error_code(call(api, "sts", "GetCallerIdentity", {}, **{**member, "token": "forged"})) == (
        "AuthFailure.TokenFailure"
    )
    wall.now += 899
    assert error_code(call(api, "sts", "GetCallerIdentity", {}, **member)) is None
    wall.now += 1
    assert error_code(call(api, "sts", "GetCallerIdentity", {}, **member)) == "AuthFailure.TokenFailure"


@pytest.mark.parametrize(
    ("arn", "extra", "code"),
    [
        ("qcs::cam::uin/200000000001:roleName/NoSuchRole", {}, "ResourceNotFound.RoleNotFound"),
        (f"qcs::cam::uin/200000000002:roleName/{ROLE}", {}, "ResourceNotFound.RoleNotFound"),
        (f"qcs::cam::uin/300000000000:roleName/{ROLE}", {}, "InvalidParameter.AccountNotAvaliable"),
        ("qcs::cam::uin/200000000001:role/4611686018427397919", {}, "ResourceNotFound.RoleNotFound"),
        (f"uin/200000000001:roleName/{ROLE}", {}, "InvalidParameter.ResouceError"),
        (f"qcs::cam::uin/200000000001:roleName/{ROLE}", {"DurationSeconds": 43201}, "InvalidParameter.OverTimeError"),
        (f"qcs::cam::uin/200000000001:roleName/{ROLE}", {"DurationSeconds": 0}, "InvalidParameter.OverTimeError"),
        (f"qcs::cam::uin/200000000001:roleName/{ROLE}", {"RoleSessionName": "x"}, "InvalidParameter.ParamError"),
        (f"qcs::cam::uin/200000000001:roleName/{ROLE}", {"RoleSessionName": "a b"}, "InvalidParameter.ParamError"),
    ],
)
def test_assume_role_refuses_with_the_documented_codes(arn: str, extra: dict[str, Any], code: str) -> None:
    api, _ = front()
    params = {"RoleArn": arn, "RoleSessionName": "budget-alerts", **extra}
    assert error_code(call(api, "sts", "AssumeRole", params)) == code


def test_a_member_key_cannot_assume_further_roles_and_the_host_identity_is_the_root() -> None:
    api, _ = front()
    member = as_member(reply_json(assume(api)))
    assert error_code(assume(api, 200000000003, **{})) is None
    params = {"RoleArn": f"qcs::cam::uin/200000000003:roleName/{ROLE}", "RoleSessionName": "hop"}
    assert error_code(call(api, "sts", "AssumeRole", params, **member)) == "UnauthorizedOperation"
    me = reply_json(call(api, "sts", "GetCallerIdentity", {}))
    assert (me["AccountId"], me["Type"]) == ("100000000001", "RootAccount")


def test_rate_limits_count_per_member_account_not_per_key() -> None:
    api, _ = front()
    api.limiter = RateLimiter({"GetCallerIdentity": 2}, clock=lambda: 5.0)
    first = as_member(reply_json(assume(api)))
    second = as_member(reply_json(assume(api)))  # another session of the same member: the same account
    other = as_member(reply_json(assume(api, 200000000003)))
    codes = [error_code(call(api, "sts", "GetCallerIdentity", {}, **keys)) for keys in (first, second, first, other)]
    assert codes == [None, None, "RequestLimitExceeded", None]
    assert error_code(call(api, "sts", "GetCallerIdentity", {})) is None  # the host's own key has its own window


def test_member_uins_must_be_unique() -> None:
    with pytest.raises(ConfigError, match="unique"):
        org_scenario([{"uin": 1, "name": "a"}, {"uin": 1, "name": "b"}])


def test_a_member_sees_the_accounts_data_scaled_by_its_position_or_its_scale() -> None:
    from sandbox.scenario import Scenario

    members = [{"uin": 200000000001, "name": "a"}, {"uin": 200000000002, "name": "b"},
               {"uin": 200000000003, "name": "c", "scale": 0}]  # fmt: skip
    scenario = Scenario.from_dict({"organization": {"members": members}})
    assert [scenario.scale_for(a) for a in (None, "200000000001", "200000000002", "200000000003")] == [1, 1, 2, 0]
    assert scenario.scale_for("999") == 1  # not a member: the account's own keys
