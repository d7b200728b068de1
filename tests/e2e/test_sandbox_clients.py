"""Real clients against the sandbox: the official TeoClient/BillingClient, tccli and cos-python-sdk-v5.

Each succeeds, and each fails with the documented code for a wrong key, an expired timestamp, a 32-day
window (billing: a two-month window) and a bad metric.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError
from tencentcloud.billing.v20180709 import billing_client
from tencentcloud.billing.v20180709 import models as billing_models
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.teo.v20220901 import models as teo_models
from tencentcloud.teo.v20220901 import teo_client

from sandbox.billing import ledger_of
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

SHOP = "zone-2qtuhspy7hmq"
TCCLI = Path(sys.executable).with_name("tccli")
GOOD: dict[str, Any] = {
    "StartTime": "2026-11-20T00:00:00+08:00",
    "EndTime": "2026-11-22T10:00:00+08:00",
    "ZoneIds": [SHOP],
    "MetricName": "acc_flux",
    "Interval": "day",
}
WINDOW_32_DAYS = {**GOOD, "StartTime": "2026-10-20T00:00:00+08:00", "EndTime": "2026-11-21T00:00:00+08:00"}
BAD_METRIC = {**GOOD, "MetricName": "acc_flow"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def _truth(sb: Sandbox) -> list[int]:
    sc = sb.scenario
    start = datetime.fromisoformat(GOOD["StartTime"])
    return [
        sc.usage("acc_flux", SHOP, start=start + timedelta(days=i), end=start + timedelta(days=i + 1)) for i in range(3)
    ]


# --- the official Python SDK ------------------------------------------------------------------------------


def _close(client: Any) -> None:
    client.request.conn._session.close()  # the SDK never closes its pooled session itself


def _teo(sb: Sandbox, key: str | None = None, sign_method: str | None = None, method: str = "POST") -> Any:
    profile = ClientProfile(
        httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{sb.port}", reqMethod=method),
        signMethod=sign_method,
    )
    return teo_client.TeoClient(credential.Credential(sb.secret_id, key or sb.secret_key), "", profile)


def _billing(sb: Sandbox, key: str | None = None) -> Any:
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{sb.port}"))
    return billing_client.BillingClient(credential.Credential(sb.secret_id, key or sb.secret_key), "", profile)


def _billing_data(client: Any, params: dict[str, Any]) -> Any:
    request = teo_models.DescribeBillingDataRequest()
    request.from_json_string(json.dumps(params))
    try:
        return client.DescribeBillingData(request)
    finally:
        _close(client)


def _sdk_code(call: Any, *args: Any) -> str:
    with pytest.raises(TencentCloudSDKException) as info:
        call(*args)
    return str(info.value.code)


@pytest.mark.parametrize(
    ("sign_method", "method"),
    [(None, "POST"), (None, "GET"), ("HmacSHA256", "POST"), ("HmacSHA1", "GET"), ("HmacSHA256", "GET")],
)
def test_teo_client_reads_billing_data(sandbox: Sandbox, sign_method: str | None, method: str) -> None:
    response = _billing_data(_teo(sandbox, sign_method=sign_method, method=method), GOOD)
    assert [p.Time for p in response.Data] == ["2026-11-19T16:00:00Z", "2026-11-20T16:00:00Z", "2026-11-21T16:00:00Z"]
    assert [p.Value for p in response.Data] == _truth(sandbox)
    assert response.RequestId


def test_teo_client_failures(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _sdk_code(_billing_data, _teo(sandbox, key="wrong-key"), GOOD) == "AuthFailure.SignatureFailure"
    assert _sdk_code(_billing_data, _teo(sandbox), WINDOW_32_DAYS) == "LimitExceeded.QueryTimeLimitExceeded"
    assert _sdk_code(_billing_data, _teo(sandbox), BAD_METRIC) == "InvalidParameter.InvalidMetric"

    class TenMinutesAgo:  # the SDK's clock only: the sandbox checks against its own wall clock
        @staticmethod
        def time() -> float:
            return time.time() - 600

    monkeypatch.setattr(abstract_client, "time", TenMinutesAgo)
    assert _sdk_code(_billing_data, _teo(sandbox), GOOD) == "AuthFailure.SignatureExpire"


def test_teo_zones_and_plans(sandbox: Sandbox) -> None:
    client = _teo(sandbox)
    try:
        zones = client.DescribeZones(teo_models.DescribeZonesRequest())
        request = teo_models.DescribePlansRequest()
        plans = client.DescribePlans(request)
    finally:
        _close(client)
    assert zones.TotalCount == 4
    assert SHOP in {z.ZoneId for z in zones.Zones}
    shop_plan = next(p for p in plans.Plans if SHOP in {z.ZoneId for z in p.ZonesInfo})
    assert shop_plan.AccTrafficCapacity == 10 * 10**12


def _balance(client: Any) -> Any:
    try:
        return client.DescribeAccountBalance(billing_models.DescribeAccountBalanceRequest())
    finally:
        _close(client)


def _summary(client: Any, begin: str, end: str) -> Any:
    request = billing_models.DescribeBillSummaryByProductRequest()
    request.BeginTime, request.EndTime = begin, end
    try:
        return client.DescribeBillSummaryByProduct(request)
    finally:
        _close(client)


def test_billing_client(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    balance = _balance(_billing(sandbox))
    expected = ledger_of(sandbox.scenario).balance(sandbox.now.timestamp())
    assert balance.RealBalance == expected["RealBalance"] < 100_000
    assert balance.Balance == balance.RealBalance
    summary = _summary(_billing(sandbox), "2026-11", "2026-11")
    assert summary.Ready == 1
    assert {item.BusinessCode for item in summary.SummaryOverview} == {"p_teo", "p_cvm", "p_cos"}
    assert summary.SummaryTotal.RealTotalCost.endswith("000000")

    assert _sdk_code(_balance, _billing(sandbox, key="wrong-key")) == "AuthFailure.SignatureFailure"
    assert _sdk_code(_summary, _billing(sandbox), "2026-10", "2026-11") == "InvalidParameterValue"

    class TenMinutesAhead:
        @staticmethod
        def time() -> float:
            return time.time() + 600

    monkeypatch.setattr(abstract_client, "time", TenMinutesAhead)
    assert _sdk_code(_balance, _billing(sandbox)) == "AuthFailure.SignatureExpire"


# --- tccli --------------------------------------------------------------------------------------------


def _tccli(sb: Sandbox, home: Path, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(
        HOME=str(home),
        TENCENTCLOUD_SECRET_ID=sb.secret_id,
        TENCENTCLOUD_SECRET_KEY=key or sb.secret_key,
        NO_PROXY="127.0.0.1",
    )
    env.pop("TENCENTCLOUD_REGION", None)
    return subprocess.run(
        [str(TCCLI), *args, "--endpoint", f"http://127.0.0.1:{sb.port}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _cli_args(params: dict[str, Any]) -> list[str]:
    out = ["teo", "DescribeBillingData"]
    for name, value in params.items():
        out += [f"--{name}", json.dumps(value) if isinstance(value, list) else value]
    return out


@pytest.mark.slow
def test_tccli(sandbox: Sandbox, tmp_path: Path) -> None:
    ok = _tccli(sandbox, tmp_path, *_cli_args(GOOD))
    assert ok.returncode == 0, ok.stderr
    assert [p["Value"] for p in json.loads(ok.stdout)["Data"]] == _truth(sandbox)
    balance = _tccli(sandbox, tmp_path, "billing", "DescribeAccountBalance")
    assert balance.returncode == 0, balance.stderr
    assert json.loads(balance.stdout)["RealBalance"] < 100_000
    failures = {
        "AuthFailure.SignatureFailure": _tccli(sandbox, tmp_path, *_cli_args(GOOD), key="wrong-key"),
        "LimitExceeded.QueryTimeLimitExceeded": _tccli(sandbox, tmp_path, *_cli_args(WINDOW_32_DAYS)),
        "InvalidParameter.InvalidMetric": _tccli(sandbox, tmp_path, *_cli_args(BAD_METRIC)),
    }
    # tccli signs with the real clock; a sandbox whose wall clock runs 10 minutes ahead sees it as expired.
    with Sandbox(signature_clock=lambda: time.time() + 600) as ahead:
        failures["AuthFailure.SignatureExpire"] = _tccli(ahead, tmp_path, *_cli_args(GOOD))
    for code, result in failures.items():
        assert result.returncode != 0, code
        assert f"code:{code} " in result.stdout + result.stderr


# --- cos-python-sdk-v5 through the same port ------------------------------------------------------------


def _cos(sb: Sandbox, key: str | None = None) -> tuple[CosS3Client, requests.Session]:
    config = CosConfig(
        Region="ap-guangzhou",
        SecretId=sb.secret_id,
        SecretKey=key or sb.secret_key,
        Scheme="http",
        IP="127.0.0.1",
        Port=sb.port,
    )
    session = requests.Session()
    return CosS3Client(config, retry=0, session=session), session


def test_cos_sdk_objects_share_the_port(sandbox: Sandbox) -> None:
    client, session = _cos(sandbox)
    with session:
        client.put_object(Bucket="state-1250000000", Key="runs/a.json", Body=b'{"ok": true}')
        body = client.get_object(Bucket="state-1250000000", Key="runs/a.json")["Body"].get_raw_stream().read()
        assert body == b'{"ok": true}'
        listing = client.list_objects(Bucket="state-1250000000", Prefix="runs/")
        assert [item["Key"] for item in listing["Contents"]] == ["runs/a.json"]
    bad, bad_session = _cos(sandbox, key="wrong-key")
    with bad_session, pytest.raises(CosServiceError) as info:
        bad.get_object(Bucket="state-1250000000", Key="runs/a.json")
    assert info.value.get_status_code() == 403
    assert info.value.get_error_code() == "SignatureDoesNotMatch"


def test_scenario_faults_reach_cos() -> None:
    scenario = {"faults": [{"product": "cos", "action": "PutObject", "http_status": 503, "count": 1}]}
    with Sandbox(scenario) as sb:
        client, session = _cos(sb)
        with session:
            with pytest.raises(CosServiceError) as info:
                client.put_object(Bucket="state-1250000000", Key="k", Body=b"x")
            assert info.value.get_status_code() == 503
            client.put_object(Bucket="state-1250000000", Key="k", Body=b"x")  # count: 1, so this one passes


def test_session_tokens_and_extra_credentials() -> None:
    scenario = {"credentials": [{"secret_id": "AKIDSECOND", "secret_key": "second-key"}]}
    with Sandbox(scenario, token="session-token") as sb:
        profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{sb.port}"))

        def zones(cred: Any) -> int:
            client = teo_client.TeoClient(cred, "", profile)
            try:
                return int(client.DescribeZones(teo_models.DescribeZonesRequest()).TotalCount)
            finally:
                _close(client)

        assert zones(credential.Credential(sb.secret_id, sb.secret_key, "session-token")) == 0
        assert _sdk_code(zones, credential.Credential(sb.secret_id, sb.secret_key)) == "AuthFailure.TokenFailure"
        assert _sdk_code(zones, credential.Credential(sb.secret_id, sb.secret_key, "stale")) == (
            "AuthFailure.TokenFailure"
        )
        assert zones(credential.Credential("AKIDSECOND", "second-key")) == 0
        assert _sdk_code(zones, credential.Credential("AKIDTHIRD", "x")) == "AuthFailure.SecretIdNotFound"
