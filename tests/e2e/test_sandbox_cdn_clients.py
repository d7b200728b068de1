"""The official CdnClient and TeoClient against a running sandbox: CDN billing data, domains, stopping a
domain (its usage stops), and the teo switches budget actions use (a paused site reads back as paused)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from tencentcloud.cdn.v20180606 import cdn_client
from tencentcloud.cdn.v20180606 import models as cdn_models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.teo.v20220901 import models as teo_models
from tencentcloud.teo.v20220901 import teo_client

from sandbox.scenario import SCENARIO_DIR
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

IMG = "img.shop.example.com"
BJ = timezone(timedelta(hours=8))
DAY = {"StartTime": "2026-11-21 00:00:00", "EndTime": "2026-11-21 23:59:59", "Interval": "hour", "Metric": "flux"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SCENARIO_DIR / "cdn.yaml") as sb:
        yield sb


def _profile(sb: Sandbox) -> ClientProfile:
    return ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{sb.port}"))


def _call(sb: Sandbox, service: tuple[Any, Any], action: str, params: dict[str, Any], key: str = "") -> Any:
    client_class, models = service
    client = client_class(credential.Credential(sb.secret_id, key or sb.secret_key), "", _profile(sb))
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    try:
        return getattr(client, action)(request)
    finally:
        client.request.conn._session.close()  # the SDK never closes its pooled session itself


def cdn(sb: Sandbox, action: str, key: str = "", **params: Any) -> Any:
    return _call(sb, (cdn_client.CdnClient, cdn_models), action, params, key)


def teo(sb: Sandbox, action: str, **params: Any) -> Any:
    return _call(sb, (teo_client.TeoClient, teo_models), action, params)


def _sdk_code(action: Any, *args: Any, **params: Any) -> str:
    with pytest.raises(TencentCloudSDKException) as info:
        action(*args, **params)
    return str(info.value.code)


def _truth(sb: Sandbox, domain: str, area: str, start: datetime, hours: int) -> list[int]:
    sc = sb.scenario
    engine = sc.cdn_engine
    series = [s for s in engine.series("flux", sc.cdn_domains[domain]) if s.region == area]
    fives = engine.summed(
        "flux", series, int(start.timestamp()), int(start.timestamp()) + hours * 3600, sc.visible_until()
    )
    return [sum(fives[i : i + 12]) for i in range(0, len(fives), 12)]


def test_cdn_client_reads_billing_data(sandbox: Sandbox) -> None:
    response = cdn(sandbox, "DescribeBillingData", **DAY, Domain=IMG)
    [resource] = response.Data
    assert resource.Resource == IMG
    [data] = resource.BillingData
    assert data.Metric == "flux"
    assert data.DetailData[0].Time == "2026-11-21 00:00:00"
    assert [p.Value for p in data.DetailData] == _truth(sandbox, IMG, "mainland", datetime(2026, 11, 21, tzinfo=BJ), 24)
    assert data.SummarizedData.Name == "sum"
    overseas = cdn(sandbox, "DescribeBillingData", **DAY, Domain=IMG, Area="overseas")
    assert [p.Value for p in overseas.Data[0].BillingData[0].DetailData] == _truth(
        sandbox, IMG, "overseas", datetime(2026, 11, 21, tzinfo=BJ), 24
    )
    assert response.RequestId


def test_cdn_client_errors(sandbox: Sandbox) -> None:
    assert _sdk_code(cdn, sandbox, "DescribeBillingData", key="wrong", **DAY) == "AuthFailure.SignatureFailure"
    assert _sdk_code(cdn, sandbox, "DescribeBillingData", **{**DAY, "Metric": "hits"}) == (
        "InvalidParameter.CdnInvalidParamMetric"
    )
    assert _sdk_code(cdn, sandbox, "DescribeBillingData", **{**DAY, "StartTime": "2026-10-01 00:00:00"}) == (
        "InvalidParameter.CdnStatInvalidDate"
    )
    assert _sdk_code(cdn, sandbox, "StopCdnDomain", Domain="nope.example.com") == "ResourceNotFound.CdnHostNotExists"


def test_cdn_client_lists_domains(sandbox: Sandbox) -> None:
    response = cdn(sandbox, "DescribeDomains", Limit=2)
    assert response.TotalNumber == 3
    assert [d.Domain for d in response.Domains] == [IMG, "dl.example.org"]
    rest = cdn(sandbox, "DescribeDomains", Offset=2, Limit=2)
    assert [(d.Domain, d.Status) for d in rest.Domains] == [("video.example.net", "offline")]
    stopped = cdn(sandbox, "DescribeDomains", Filters=[{"Name": "status", "Value": ["offline"]}])
    assert [d.Domain for d in stopped.Domains] == ["video.example.net"]


def test_stopping_a_domain_through_the_client_stops_its_usage(sandbox: Sandbox) -> None:
    sandbox.set_now(datetime(2026, 11, 21, 9, 0, tzinfo=BJ))
    cdn(sandbox, "StopCdnDomain", Domain=IMG)
    [img] = cdn(sandbox, "DescribeDomains", Filters=[{"Name": "domain", "Value": [IMG]}]).Domains
    assert img.Status == "offline"
    assert img.UpdateTime == "2026-11-21 09:00:00"
    assert _sdk_code(cdn, sandbox, "StopCdnDomain", Domain=IMG) == "ResourceUnavailable.CdnHostIsNotOnline"
    sandbox.set_now(datetime(2026, 11, 22, 10, 0, tzinfo=BJ))
    hours = [p.Value for p in cdn(sandbox, "DescribeBillingData", **DAY, Domain=IMG).Data[0].BillingData[0].DetailData]
    assert all(v > 0 for v in hours[:9])
    assert hours[9:] == [0] * 15
    cdn(sandbox, "StartCdnDomain", Domain=IMG)
    assert cdn(sandbox, "DescribeDomains", Filters=[{"Name": "domain", "Value": [IMG]}]).Domains[0].Status == "online"


def test_teo_client_pauses_a_site_and_takes_a_host_offline(sandbox: Sandbox) -> None:
    zone = "zone-2qtuhspy7hmq"
    teo(sandbox, "ModifyZoneStatus", ZoneId=zone, Paused=True)
    [shop] = teo(sandbox, "DescribeZones", Filters=[{"Name": "zone-id", "Values": [zone]}]).Zones
    assert shop.Paused is True
    assert shop.ActiveStatus == "paused"
    teo(sandbox, "ModifyZoneStatus", ZoneId=zone, Paused=False)
    params = {"ZoneId": zone, "DomainNames": ["api.shop.example.com"], "Status": "offline"}
    assert _sdk_code(teo, sandbox, "ModifyAccelerationDomainStatuses", **params) == (
        "InvalidParameter.DomainOnTrafficScheduling"
    )
    teo(sandbox, "ModifyAccelerationDomainStatuses", **params, Force=True)
    domains = teo(sandbox, "DescribeAccelerationDomains", ZoneId=zone).AccelerationDomains
    assert {d.DomainName: d.DomainStatus for d in domains} == {
        "api.shop.example.com": "offline",
        "www.shop.example.com": "online",
    }
