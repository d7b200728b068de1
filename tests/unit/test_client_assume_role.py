"""AssumedRole with an injected clock and a fake STS: caching until shortly before expiry, typed refusals."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

import pytest

from lib.client.api import ApiClient
from lib.client.assume_role import AssumedRole, MemberRole
from lib.client.ratelimit import RateLimiter
from lib.errors import ApiError, AssumeRoleError, CredentialError, TransportError

MEMBER = MemberRole("200000000001", "OrganizationAccessControlRole", name="shop")
T0 = 1_800_000_000


class FakeSts:
    """Answers AssumeRole with numbered keys expiring ``lifetime`` s after ``now``, or raises ``error``."""

    def __init__(self, lifetime: int = 7200, error: Exception | None = None, pause: float = 0.0) -> None:
        self.now = T0
        self.lifetime = lifetime
        self.error = error
        self.pause = pause
        self.calls: list[tuple[str, str, str, dict[str, Any], str | None]] = []

    def call(self, service: str, version: str, action: str, params: dict[str, Any], region: str | None) -> Any:
        self.calls.append((service, version, action, params, region))
        if self.pause:
            time.sleep(self.pause)  # holds the first caller inside AssumeRole while others arrive
        if self.error is not None:
            raise self.error
        n = len(self.calls)
        keys = {"TmpSecretId": f"AKIDtmp{n}", "TmpSecretKey": f"key{n}", "Token": f"token{n}"}
        return {"Credentials": keys, "ExpiredTime": self.now + self.lifetime, "Expiration": "…", "RequestId": "r"}


def provider(sts: FakeSts, **options: Any) -> AssumedRole:
    return AssumedRole(cast(ApiClient, sts), MEMBER, **options)


def test_keys_are_reused_until_the_margin_before_expiry_then_renewed() -> None:
    sts = FakeSts(lifetime=7200)
    role = provider(sts, margin=300)
    first = role.credentials(T0)
    assert (first.secret_id, first.token) == ("AKIDtmp1", "token1")
    assert role.credentials(T0 + 6899) is first
    assert len(sts.calls) == 1
    sts.now = T0 + 6900
    renewed = role.credentials(T0 + 6900)
    assert (renewed.secret_id, renewed.token) == ("AKIDtmp2", "token2")
    assert role.credentials(T0 + 6901, refresh=True).token == "token3"  # the server refused them: renew at once
    service, version, action, params, region = sts.calls[0]
    assert (service, version, action, region) == ("sts", "2018-08-13", "AssumeRole", "ap-guangzhou")
    assert params == {
        "RoleArn": "qcs::cam::uin/200000000001:roleName/OrganizationAccessControlRole",
        "RoleSessionName": "budget-alerts",
        "DurationSeconds": 7200,
    }


def test_short_lived_keys_are_still_used_for_most_of_their_life() -> None:
    sts = FakeSts(lifetime=100)
    role = provider(sts, duration=100, margin=300)
    role.credentials(T0)
    role.credentials(T0 + 74)
    assert len(sts.calls) == 1
    role.credentials(T0 + 75)
    assert len(sts.calls) == 2


def test_concurrent_callers_on_a_cold_cache_share_one_assume_role() -> None:
    sts = FakeSts(pause=0.05)
    role = provider(sts)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(role.credentials(T0).secret_id)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["AKIDtmp1"] * 8
    assert len(sts.calls) == 1


def test_a_refused_role_is_a_typed_error_naming_the_member_and_role() -> None:
    refusal = ApiError("ResourceNotFound.RoleNotFound", "no such role", action="AssumeRole", retryable=False)
    role = provider(FakeSts(error=refusal))
    with pytest.raises(AssumeRoleError) as caught:
        role.credentials(T0)
    error = caught.value
    assert isinstance(error, CredentialError)
    assert (error.account, error.role) == (MEMBER.label, MEMBER.role)
    assert error.code == "ResourceNotFound.RoleNotFound"
    assert not error.retryable
    assert "200000000001 (shop)" in str(error)
    assert "OrganizationAccessControlRole" in str(error)
    assert error.__cause__ is refusal


def test_a_network_failure_stays_retryable_and_nothing_is_cached() -> None:
    sts = FakeSts(error=TransportError("AssumeRole: network error", retryable=True))
    role = provider(sts)
    with pytest.raises(AssumeRoleError) as caught:
        role.credentials(T0)
    assert caught.value.retryable
    sts.error = None
    assert role.credentials(T0).secret_id == "AKIDtmp2"


@pytest.mark.parametrize(
    "answer",
    [
        {"ExpiredTime": T0 + 60},
        {"Credentials": {"TmpSecretId": "a", "TmpSecretKey": "b", "Token": "c"}},
        {"Credentials": {"TmpSecretId": "a", "TmpSecretKey": "", "Token": "c"}, "ExpiredTime": T0 + 60},
        {"Credentials": {"TmpSecretId": "a", "TmpSecretKey": "b", "Token": "c"}, "ExpiredTime": "soon"},
    ],
)
def test_an_answer_without_keys_or_expiry_is_refused(answer: dict[str, Any]) -> None:
    class Odd(FakeSts):
        def call(self, *args: Any) -> Any:
            return answer

    with pytest.raises(AssumeRoleError, match="AssumeRole answer"):
        provider(Odd()).credentials(T0)


@pytest.mark.parametrize(
    ("uin", "role_name", "options"),
    [
        ("20000x", "OrganizationAccessControlRole", {}),
        ("200000000001", "bad role", {}),
        ("200000000001", "R", {"session_name": "a"}),
        ("200000000001", "R", {"duration": 43201}),
    ],
)
def test_bad_members_and_options_are_refused_before_any_call(uin: str, role_name: str, options: dict[str, Any]) -> None:
    sts = FakeSts()
    with pytest.raises(ValueError):
        AssumedRole(cast(ApiClient, sts), MemberRole(uin, role_name), **options)
    assert sts.calls == []


def test_the_rate_limiter_counts_each_account_apart_and_shares_buckets_per_account() -> None:
    now = [0.0]
    slept: list[float] = []
    limiter = RateLimiter({"teo": 1.0}, clock=lambda: now[0], sleep=slept.append)
    shop, shop_again = limiter.for_account("200000000001"), limiter.for_account("200000000001")
    blog = limiter.for_account("200000000002")
    waits = [limiter.acquire("teo", "DescribeZones"), shop.acquire("teo", "DescribeZones")]
    waits += [blog.acquire("teo", "DescribeZones"), shop_again.acquire("teo", "DescribeZones")]
    assert waits == [0.0, 0.0, 0.0, 1.0]  # only the second call as the same member waits
    assert shop.bucket("teo", "DescribeZones") is shop_again.bucket("teo", "DescribeZones")
    assert shop.limit_for("teo", "DescribeZones") == limiter.limit_for("teo", "DescribeZones")
