"""The three actions over ``responses``: the exact requests (checked against the teo and cdn references),
what they read back, undo restoring only what they changed, and API errors as failed steps, never crashes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from lib.actions import Scope, Target, TargetStatus, action_for
from lib.client import ApiClient, Credentials, RetryPolicy
from lib.client.ratelimit import unlimited
from tests.api_contract import check_request

URLS = {"teo": "https://teo.tencentcloudapi.com/", "cdn": "https://cdn.tencentcloudapi.com/"}
VERSIONS = {"teo": "2022-09-01", "cdn": "2018-06-06"}
ZONE = Target("zone", "zone-2m2gq4dnpmd2")
HOST = Target("domain", "www.shop.example.com", zone="zone-2m2gq4dnpmd2")
CDN = Target("cdn-domain", "cdn.shop.example.com")
Answer = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


def test_the_contract_check_can_fail() -> None:
    assert check_request("teo", "2022-09-01", "ModifyZoneStatus", {"ZoneId": "zone-1", "Paused": "true"})
    assert check_request("teo", "2022-09-01", "ModifyZoneStatus", {"ZoneId": "zone-1"})  # Paused is required
    assert check_request(
        "teo", "2022-09-01", "ModifyAccelerationDomainStatuses", {"ZoneId": "z", "DomainNames": ["a"], "Status": "down"}
    )
    assert check_request("cdn", "2018-06-06", "StopCdnDomain", {"Domain": "a", "Force": True})


class Cloud:
    """Answers by (service, action), records every request and its contract problems; numbers RequestIds."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.problems: list[str] = []

    def callback(self, service: str) -> Callable[[Any], tuple[int, dict[str, str], str]]:
        def answer(request: Any) -> tuple[int, dict[str, str], str]:
            action = request.headers["X-TC-Action"]
            body = json.loads(request.body)
            self.requests.append((action, body))
            self.problems += check_request(service, VERSIONS[service], action, body)
            found = self.answers[action]
            reply = found(body) if callable(found) else found
            return 200, {}, json.dumps({"Response": {"RequestId": f"req-{len(self.requests)}", **reply}})

        return answer


@pytest.fixture
def client() -> Iterator[ApiClient]:
    with ApiClient(Credentials("AKIDact", "act-secret"), rate_limiter=unlimited(), retry=RetryPolicy(attempts=1)) as c:
        yield c


def served(cloud: Cloud) -> responses.RequestsMock:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    for service, url in URLS.items():
        mock.add_callback(responses.POST, url, callback=cloud.callback(service))
    return mock


def zone_answer(paused: bool) -> dict[str, Any]:
    return {
        "TotalCount": 1,
        "Zones": [
            {"ZoneId": ZONE.id, "Paused": paused, "ActiveStatus": "paused" if paused else "active", "Status": "active"}
        ],
    }


def denied(action: str) -> dict[str, Any]:
    return {"Error": {"Code": "UnauthorizedOperation", "Message": f"you are not allowed to call {action}"}}


def test_pause_zone_reads_pauses_and_undo_opens_it_again(client: ApiClient) -> None:
    action = action_for("pause-zone")
    cloud = Cloud({"DescribeZones": zone_answer(False), "ModifyZoneStatus": {}})
    with served(cloud):
        before = action.current_status(client, ZONE)
        done = action.execute(client, ZONE)
        undone = action.undo(client, ZONE, before)
    assert before.state == "active" and before.detail["active_status"] == "active"
    assert done.done and done.changed and done.status == TargetStatus(ZONE, "paused") and done.request_id == "req-2"
    assert undone.done and undone.changed and undone.request_id == "req-3"
    assert cloud.requests == [
        ("DescribeZones", {"Filters": [{"Name": "zone-id", "Values": [ZONE.id]}]}),
        ("ModifyZoneStatus", {"ZoneId": ZONE.id, "Paused": True}),  # true closes the site (Chinese doc, tccli)
        ("ModifyZoneStatus", {"ZoneId": ZONE.id, "Paused": False}),
    ]
    assert cloud.problems == []


def test_undo_of_a_zone_that_was_already_paused_leaves_it_paused(client: ApiClient) -> None:
    action = action_for("pause-zone")
    cloud = Cloud({"DescribeZones": zone_answer(True), "ModifyZoneStatus": {}})
    with served(cloud):
        before = action.current_status(client, ZONE)
        undone = action.undo(client, ZONE, before)
    assert before.state == "paused"
    assert undone.done and not undone.changed and undone.request_id is None
    assert [a for a, _ in cloud.requests] == ["DescribeZones"]  # no ModifyZoneStatus at all


def test_a_permission_error_is_a_failed_step_with_the_reason_and_request_id(client: ApiClient) -> None:
    cloud = Cloud({"ModifyZoneStatus": denied("ModifyZoneStatus"), "StopCdnDomain": denied("StopCdnDomain")})
    with served(cloud):
        zone = action_for("pause-zone").execute(client, ZONE)
        cdn = action_for("stop-cdn-domain").execute(client, CDN)
    for result, action in ((zone, "ModifyZoneStatus"), (cdn, "StopCdnDomain")):
        assert not result.done and not result.changed and result.failure is not None
        assert result.failure.code == "UnauthorizedOperation" and action in result.failure.message
        assert result.request_id is not None and result.request_id.startswith("req-")


def test_domains_offline_sends_force_only_when_configured_and_undo_brings_them_online(client: ApiClient) -> None:
    action = action_for("domains-offline")
    rows = {
        "TotalCount": 1,
        "AccelerationDomains": [{"ZoneId": HOST.zone, "DomainName": HOST.id, "DomainStatus": "online"}],
    }
    cloud = Cloud({"DescribeAccelerationDomains": rows, "ModifyAccelerationDomainStatuses": {}})
    with served(cloud):
        before = action.current_status(client, HOST)
        plain = action.execute(client, HOST)
        forced = action.execute(client, HOST, force=True)
        undone = action.undo(client, HOST, before)
        kept = action.undo(client, HOST, TargetStatus(HOST, "offline"))
    assert before.state == "online" and plain.done and forced.done and undone.done and not kept.changed
    modify = "ModifyAccelerationDomainStatuses"
    assert cloud.requests == [
        (
            "DescribeAccelerationDomains",
            {"ZoneId": HOST.zone, "Filters": [{"Name": "domain-name", "Values": [HOST.id]}]},
        ),
        (modify, {"ZoneId": HOST.zone, "DomainNames": [HOST.id], "Status": "offline"}),
        (modify, {"ZoneId": HOST.zone, "DomainNames": [HOST.id], "Status": "offline", "Force": True}),
        (modify, {"ZoneId": HOST.zone, "DomainNames": [HOST.id], "Status": "online"}),
    ]
    assert cloud.problems == []


def test_domains_offline_refused_for_linked_resources_fails_with_the_api_reason(client: ApiClient) -> None:
    linked = {"Error": {"Code": "InvalidParameter.DomainOnTrafficScheduling", "Message": "set Force=true"}}
    cloud = Cloud({"ModifyAccelerationDomainStatuses": linked})
    with served(cloud):
        result = action_for("domains-offline").execute(client, HOST)
    assert not result.done and result.failure is not None
    assert result.failure.code == "InvalidParameter.DomainOnTrafficScheduling"
    assert (
        action_for("domains-offline").execute(client, Target("domain", "x.example.com")).failure is not None
    )  # no zone


def test_stop_cdn_domain_stops_and_undo_starts_it(client: ApiClient) -> None:
    action = action_for("stop-cdn-domain")
    listing = {"TotalNumber": 1, "Domains": [{"Domain": CDN.id, "Status": "online", "Disable": "normal"}]}
    cloud = Cloud({"DescribeDomains": listing, "StopCdnDomain": {}, "StartCdnDomain": {}})
    with served(cloud):
        before = action.current_status(client, CDN)
        stopped = action.execute(client, CDN)
        started = action.undo(client, CDN, before)
        kept = action.undo(client, CDN, TargetStatus(CDN, "offline"))
    assert before.state == "online" and stopped.status == TargetStatus(CDN, "offline") and started.done
    assert not kept.changed
    assert cloud.requests == [
        ("DescribeDomains", {"Offset": 0, "Limit": 100, "Filters": [{"Name": "domain", "Value": [CDN.id]}]}),
        ("StopCdnDomain", {"Domain": CDN.id}),
        ("StartCdnDomain", {"Domain": CDN.id}),
    ]
    assert cloud.problems == []


def test_a_target_the_cloud_does_not_know_cannot_have_its_status_read(client: ApiClient) -> None:
    from lib.errors import CollectError

    cloud = Cloud(
        {"DescribeZones": {"TotalCount": 0, "Zones": []}, "DescribeDomains": {"TotalNumber": 0, "Domains": []}}
    )
    with served(cloud), pytest.raises(CollectError, match="not found"):
        action_for("pause-zone").current_status(client, ZONE)
    with served(cloud), pytest.raises(CollectError, match="not found"):
        action_for("stop-cdn-domain").current_status(client, CDN)


def test_every_action_plans_from_a_scope() -> None:
    assert action_for("pause-zone").plan(Scope({"zone-id": ZONE.id})).targets == (ZONE,)
