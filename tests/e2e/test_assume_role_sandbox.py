"""Member accounts against the live sandbox: our AssumedRole/MemberClient and the official SDK's clients.

The sandbox issues temporary keys that act as the member and checks their token and expiry on every
call; an expired key is refused (AuthFailure.TokenFailure) and our client renews it and carries on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

from lib.client import ApiClient, Credentials, RetryPolicy
from lib.client.assume_role import MemberRole, member_client
from lib.errors import ApiError, AssumeRoleError
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

ROLE = "OrganizationAccessControlRole"
SHOP, BLOG, LOCKED = "200000000001", "200000000002", "200000000003"
SCENARIO: dict[str, Any] = {
    "name": "organization",
    "organization": {
        "members": [
            {"uin": int(SHOP), "name": "shop"},
            {"uin": int(BLOG), "name": "blog"},
            {"uin": int(LOCKED), "name": "locked", "roles": ["SomethingElse"]},
        ]
    },
}


class ShiftedWall:
    """The sandbox's signature clock: real time plus an offset the test moves (within the 300 s skew)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def cloud() -> Iterator[tuple[Sandbox, ShiftedWall]]:
    wall = ShiftedWall()
    with Sandbox(SCENARIO, signature_clock=wall) as sandbox:
        yield sandbox, wall


def host_client(sandbox: Sandbox) -> ApiClient:
    return ApiClient(
        Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url, retry=RetryPolicy(attempts=1)
    )


def identity(client: ApiClient) -> dict[str, Any]:
    return client.call("sts", "2018-08-13", "GetCallerIdentity", {}, "ap-guangzhou")


def test_a_member_client_acts_as_the_member_with_its_token(cloud: tuple[Sandbox, ShiftedWall]) -> None:
    sandbox, _ = cloud
    with host_client(sandbox) as host:
        listed = host.call("organization", "2021-03-31", "DescribeOrganizationMembers", {"Offset": 0, "Limit": 50})
        assert [str(item["MemberUin"]) for item in listed["Items"]] == [SHOP, BLOG, LOCKED]
        shop = member_client(host, MemberRole(SHOP, ROLE, name="shop"))
        me = identity(shop)
        assert (me["AccountId"], me["PrincipalId"]) == (SHOP, "100000000001")
        keys = shop.credentials()
        assert keys.token is not None
        assert sandbox.app.sts.issued[keys.secret_id].account == SHOP  # the sandbox issued what was signed with
        zones = shop.call("teo", "2022-09-01", "DescribeZones", {"Limit": 10})
        assert "Zones" in zones
        identity(shop)
        assert len(sandbox.app.sts.sessions) == 1  # one AssumeRole for all three calls
        without_token = ApiClient(Credentials(keys.secret_id, keys.secret_key), endpoint=sandbox.url)
        with pytest.raises(ApiError) as refused:
            identity(without_token)
        assert refused.value.code == "AuthFailure.TokenFailure"


def test_an_expired_key_is_refused_and_the_member_client_renews_it(cloud: tuple[Sandbox, ShiftedWall]) -> None:
    sandbox, wall = cloud
    with host_client(sandbox) as host:
        shop = member_client(host, MemberRole(SHOP, ROLE), duration=100)
        identity(shop)
        old = shop.credentials()
        wall.offset = 200.0  # the sandbox is past the keys' expiry; our clock still trusts them
        stale = ApiClient(old, endpoint=sandbox.url, retry=RetryPolicy(attempts=1))
        with pytest.raises(ApiError) as refused:
            identity(stale)
        assert refused.value.code == "AuthFailure.TokenFailure"
        assert identity(shop)["AccountId"] == SHOP  # refused once, renewed, signed again
        assert shop.credentials() != old
        assert len(sandbox.app.sts.sessions) == 2


def test_a_role_that_cannot_be_assumed_fails_that_member_only(cloud: tuple[Sandbox, ShiftedWall]) -> None:
    sandbox, _ = cloud
    with host_client(sandbox) as host:
        locked = member_client(host, MemberRole(LOCKED, ROLE, name="locked"))
        with pytest.raises(AssumeRoleError) as caught:
            identity(locked)
        assert caught.value.code == "ResourceNotFound.RoleNotFound"
        assert LOCKED in str(caught.value)
        assert identity(member_client(host, MemberRole(BLOG, ROLE)))["AccountId"] == BLOG


def test_the_official_sdk_assumes_a_role_and_calls_as_the_member(cloud: tuple[Sandbox, ShiftedWall]) -> None:
    sandbox, _ = cloud
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=sandbox.url.split("//", 1)[1], protocol="http"))
    sts = sts_client.StsClient(credential.Credential(sandbox.secret_id, sandbox.secret_key), "ap-guangzhou", profile)
    request = sts_models.AssumeRoleRequest()
    request.RoleArn = f"qcs::cam::uin/{BLOG}:roleName/{ROLE}"
    request.RoleSessionName = "budget-alerts"
    request.DurationSeconds = 900
    answer = sts.AssumeRole(request)
    assert answer.ExpiredTime > time.time()
    keys = answer.Credentials
    member = credential.Credential(keys.TmpSecretId, keys.TmpSecretKey, keys.Token)
    common = CommonClient("sts", "2018-08-13", member, "ap-guangzhou", profile)
    assert common.call_json("GetCallerIdentity", {})["Response"]["AccountId"] == BLOG
    organization = CommonClient("organization", "2021-03-31", member, "", profile)
    with pytest.raises(TencentCloudSDKException) as refused:
        organization.call_json("DescribeOrganizationMembers", {"Offset": 0, "Limit": 50})
    assert refused.value.code == "InvalidParameter.OrganizationMemberNotManager"
