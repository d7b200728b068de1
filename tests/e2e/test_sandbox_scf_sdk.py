"""The official ScfClient against the sandbox's SCF, and the product's API deployed behind a Function URL.

The SDK is the one tccli pulls in (tencentcloud-sdk-python 3.1.195, the same release as -common): it
must accept every answer, and read the documented error codes. The product's API handler is deployed
from a zip of ``lib/`` and ``handlers/`` and answers real HTTP requests through its Function URL, each
one run in a child process with the function's environment.
"""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.scf.v20180416 import models, scf_client

from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token-0123456789"
CONFIG_YAML = """
timezone: Asia/Shanghai
language: en
channels:
  ops: {type: wecom, url: "${WECOM_URL}"}
budgets:
  - name: edgeone-traffic
    source: teo
    metric: acc_flux
    limit: 10TB
    thresholds: [50, 80, 100]
    channels: [ops]
"""
SHIMS = {
    "api_handler.py": "from handlers.api import main_handler\n",
    "timer_handler.py": "from handlers.timer import main_handler\n",
}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
PICTURE = f"""
import base64
def main_handler(event, context):
    return {{"statusCode": 200, "headers": {{"Content-Type": "image/png"}},
            "body": base64.b64encode({PNG!r}).decode(), "isBase64Encoded": True}}
"""
TIMER = """
import os
def main_handler(event, context):
    return {"fired": event["TriggerName"], "type": event["Type"], "runenv": os.environ.get("TENCENTCLOUD_RUNENV")}
"""


def _zip(files: dict[str, str], trees: tuple[str, ...] = ()) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for tree in trees:
            for path in sorted((ROOT / tree).rglob("*.py")):
                archive.write(path, path.relative_to(ROOT).as_posix())
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> scf_client.ScfClient:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=sandbox.url.split("://", 1)[1], protocol="http"))
    return scf_client.ScfClient(credential.Credential(sandbox.secret_id, sandbox.secret_key), "ap-guangzhou", profile)


def _request(model: Any, params: dict[str, Any]) -> Any:
    req = model()
    req.from_json_string(json.dumps(params))
    return req


def _wait_active(client: scf_client.ScfClient, name: str) -> Any:
    deadline = time.monotonic() + 10
    while True:
        got = client.GetFunction(_request(models.GetFunctionRequest, {"FunctionName": name}))
        if got.Status == "Active" or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def _error(call: Any, *args: Any) -> str:
    with pytest.raises(TencentCloudSDKException) as info:
        call(*args)
    return str(info.value.code)


def _get(url: str, token: str | None = TOKEN) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def api_url(client: scf_client.ScfClient, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The product's API function, deployed with the SDK, and its Function URL."""
    state = tmp_path_factory.mktemp("scf-state")
    variables = {
        "BUDGET_CONFIG": "budgets.yaml",  # relative to the unpacked code, SCF's working directory
        "BUDGET_STATE": f"file://{state}",
        "BUDGET_API_TOKEN": TOKEN,
        "BUDGET_API_ENDPOINT": "http://127.0.0.1:9",  # never called by the routes used here
        "WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=e2e-secret-key",
    }
    create = {
        "FunctionName": "budget-alerts-api",
        "Runtime": "Python3.10",
        "Handler": "api_handler.main_handler",
        "MemorySize": 256,
        "Timeout": 30,
        "Code": {"ZipFile": _zip({**SHIMS, "budgets.yaml": CONFIG_YAML}, ("lib", "handlers"))},
        "Environment": {"Variables": [{"Key": k, "Value": v} for k, v in variables.items()]},
    }
    client.CreateFunction(_request(models.CreateFunctionRequest, create))
    assert _wait_active(client, "budget-alerts-api").Status == "Active"
    desc = {"AuthType": "NONE", "NetConfig": {"EnableIntranet": False, "EnableExtranet": True}}
    trigger = {"FunctionName": "budget-alerts-api", "TriggerName": "api-url", "Type": "http",
               "TriggerDesc": json.dumps(desc), "Qualifier": "$DEFAULT"}  # fmt: skip
    info = client.CreateTrigger(_request(models.CreateTriggerRequest, trigger)).TriggerInfo
    url: str = json.loads(info.TriggerDesc)["Url"]
    return url


def test_the_sdk_creates_reads_and_lists(client: scf_client.ScfClient, api_url: str) -> None:
    got = client.GetFunction(_request(models.GetFunctionRequest, {"FunctionName": "budget-alerts-api"}))
    assert (got.FunctionName, got.Runtime, got.MemorySize, got.Timeout) == ("budget-alerts-api", "Python3.10", 256, 30)
    assert {v.Key for v in got.Environment.Variables} >= {"BUDGET_STATE", "BUDGET_API_TOKEN"}
    listed = client.ListTriggers(_request(models.ListTriggersRequest, {"FunctionName": "budget-alerts-api"}))
    assert listed.TotalCount == 1
    (trigger,) = listed.Triggers
    assert (trigger.Type, trigger.TriggerName, trigger.Qualifier) == ("http", "api-url", "$DEFAULT")
    assert json.loads(trigger.TriggerDesc)["Url"] == api_url


def test_the_sdk_reads_documented_error_codes(client: scf_client.ScfClient) -> None:
    bad_runtime = {"FunctionName": "py311", "Runtime": "Python3.11", "Code": {"ZipFile": _zip({"index.py": ""})}}
    assert _error(client.CreateFunction, _request(models.CreateFunctionRequest, bad_runtime)) == (
        "InvalidParameterValue.Runtime"
    )
    missing = _request(models.GetFunctionRequest, {"FunctionName": "no-such-function"})
    assert _error(client.GetFunction, missing) == "ResourceNotFound.Function"
    bad_memory = {"FunctionName": "mem", "MemorySize": 200, "Code": {"ZipFile": _zip({"index.py": ""})}}
    assert _error(client.CreateFunction, _request(models.CreateFunctionRequest, bad_memory)) == (
        "InvalidParameterValue.MemorySize"
    )
    relative_object = {"FunctionName": "cos", "Code": {"CosBucketName": "code", "CosObjectName": "code.zip"}}
    assert _error(client.CreateFunction, _request(models.CreateFunctionRequest, relative_object)) == (
        "InvalidParameterValue.CosObjectName"
    )


def test_the_product_api_answers_through_its_function_url(api_url: str) -> None:
    status, headers, body = _get(api_url + "health", token=None)
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    assert _get(api_url + "status", token=None)[0] == 401
    status, _, body = _get(api_url + "status")
    assert status == 200, body
    doc = json.loads(body)
    assert [b["name"] for b in doc["budgets"]] == ["edgeone-traffic"]
    assert "e2e-secret-key" not in body.decode()
    # A Function URL has no stage: the gateway's /release prefix is an unknown route here.
    assert _get(api_url + "release/status")[0] == 404


def test_a_silence_round_trips_through_the_function_url(api_url: str) -> None:
    payload = json.dumps({"matchers": {"budget": "edgeone-traffic"}, "duration": "1h"}).encode()
    req = urllib.request.Request(
        api_url + "silences",
        data=payload,
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 201
        created = json.loads(resp.read())
    status, _, body = _get(api_url + "silences")
    assert status == 200 and created["id"] in [s["id"] for s in json.loads(body)["items"]]


def test_a_base64_answer_reaches_the_client_as_raw_bytes(client: scf_client.ScfClient) -> None:
    create = {"FunctionName": "picture", "Runtime": "Python3.10", "Handler": "index.main_handler",
              "Code": {"ZipFile": _zip({"index.py": PICTURE})}}  # fmt: skip
    client.CreateFunction(_request(models.CreateFunctionRequest, create))
    _wait_active(client, "picture")
    trigger = {"FunctionName": "picture", "TriggerName": "url", "Type": "http",
               "TriggerDesc": json.dumps({"AuthType": "NONE", "NetConfig": {"EnableExtranet": True}})}  # fmt: skip
    info = client.CreateTrigger(_request(models.CreateTriggerRequest, trigger)).TriggerInfo
    status, headers, body = _get(json.loads(info.TriggerDesc)["Url"] + "chart.png", token=None)
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert body == PNG


def test_fire_a_timer_trigger_and_invoke(sandbox: Sandbox, client: scf_client.ScfClient) -> None:
    create = {"FunctionName": "timer", "Runtime": "Python3.10", "Handler": "index.main_handler",
              "Code": {"ZipFile": _zip({"index.py": TIMER})}}  # fmt: skip
    client.CreateFunction(_request(models.CreateFunctionRequest, create))
    _wait_active(client, "timer")
    trigger = {"FunctionName": "timer", "TriggerName": "every-10-minutes", "Type": "timer",
               "TriggerDesc": "0 */10 * * * * *"}  # fmt: skip
    client.CreateTrigger(_request(models.CreateTriggerRequest, trigger))
    req = urllib.request.Request(
        f"{sandbox.url}/_sandbox/scf/fire?function=timer&namespace=default", data=b"", method="POST"
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert json.loads(resp.read()) == {"fired": "every-10-minutes", "type": "Timer", "runenv": "SCF"}
    invoked = client.Invoke(_request(models.InvokeRequest, {"FunctionName": "timer", "ClientContext": json.dumps(
        {"Type": "Timer", "TriggerName": "by-hand"})}))  # fmt: skip
    assert invoked.Result.InvokeResult == 0
    assert json.loads(invoked.Result.RetMsg)["fired"] == "by-hand"
