"""The sandbox's SCF (``sandbox.scf``): state, validation and error codes, in process.

Handlers that run code start a real child process (``sandbox.scf_runtime``); the rest is pure state.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from sandbox.api3 import ApiFailure, Context, coerce
from sandbox.scf import MEMORY_SIZES, ScfService
from sandbox.verify import Caller, Credential

ECHO = """
import os, json
def main_handler(event, context):
    print("log line from the handler")
    names = ("X_VAR", "TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_RUNENV",
             "SCF_FUNCTIONNAME", "LEAK_FROM_PARENT")
    return {"event": event, "env": {n: os.environ.get(n) for n in names},
            "context": {k: context.get(k) for k in ("function_name", "namespace", "memory_limit_in_mb")},
            "version": VERSION}
VERSION = 1
"""
FAIL = "def main_handler(event, context):\n    raise ValueError('budget exploded')\n"
SLOW = "import time\ndef main_handler(event, context):\n    time.sleep(30)\n"


def zipped(files: dict[str, str]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buf.getvalue()).decode()


class FakeCos:
    def __init__(self, objects: dict[str, dict[str, bytes]]) -> None:
        self.buckets = objects

    def objects(self, bucket: str) -> dict[str, bytes]:
        return dict(self.buckets.get(bucket, {}))


@pytest.fixture
def scf() -> Iterator[ScfService]:
    service = ScfService(Credential("AKIDTEST", "test-key"), app_id=1250000000, uin=100000000001, settle=0.0)
    yield service
    service.close()


def call(service: ScfService, action: str, params: dict[str, Any]) -> dict[str, Any]:
    spec = service.product().actions[action]
    ctx = Context(
        cast(Any, None), datetime.now(timezone.utc), Caller("AKIDTEST", "TC3-HMAC-SHA256", "scf"), region="ap-guangzhou"
    )
    return spec.handler(coerce(params, spec.params, from_strings=False), ctx)


def error_code(service: ScfService, action: str, params: dict[str, Any]) -> str:
    with pytest.raises(ApiFailure) as info:
        call(service, action, params)
    return info.value.code


def create(service: ScfService, name: str = "fn", **extra: Any) -> None:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "Python3.10",
        "Handler": "index.main_handler",
        "Code": {"ZipFile": zipped({"index.py": ECHO})},
    }
    params.update(extra)
    call(service, "CreateFunction", params)


# --- functions ------------------------------------------------------------------------------------


def test_create_then_get(scf: ScfService) -> None:
    create(scf, Environment={"Variables": [{"Key": "X_VAR", "Value": "1"}]}, MemorySize=256, Timeout=60)
    got = call(scf, "GetFunction", {"FunctionName": "fn"})
    assert (got["FunctionName"], got["Namespace"], got["Runtime"]) == ("fn", "default", "Python3.10")
    assert (got["MemorySize"], got["Timeout"], got["Handler"]) == (256, 60, "index.main_handler")
    assert got["Environment"] == {"Variables": [{"Key": "X_VAR", "Value": "1"}]}
    assert got["Status"] == "Active"
    assert got["FunctionId"].startswith("lam-")
    assert got["CodeSize"] > 0


def test_defaults_are_the_documented_ones(scf: ScfService) -> None:
    call(scf, "CreateFunction", {"FunctionName": "plain", "Code": {"ZipFile": zipped({"index.py": ECHO})}})
    got = call(scf, "GetFunction", {"FunctionName": "plain"})
    assert (got["Runtime"], got["MemorySize"], got["Timeout"], got["Handler"]) == (
        "Python2.7",
        128,
        3,
        "index.main_handler",
    )


def test_status_goes_creating_then_active_after_one_poll() -> None:
    service = ScfService(Credential("AKIDTEST", "k"), app_id=1250000000, uin=1, settle=3600.0)
    try:
        create(service)
        assert error_code(service, "UpdateFunctionConfiguration", {"FunctionName": "fn", "Timeout": 9}) == (
            "FailedOperation.UpdateFunctionConfiguration"
        )
        assert call(service, "GetFunction", {"FunctionName": "fn"})["Status"] == "Creating"
        assert call(service, "GetFunction", {"FunctionName": "fn"})["Status"] == "Active"
        call(service, "UpdateFunctionConfiguration", {"FunctionName": "fn", "Timeout": 9})
        code = {"FunctionName": "fn", "ZipFile": zipped({"index.py": ECHO})}
        assert error_code(service, "UpdateFunctionCode", code) == "FailedOperation.UpdateFunctionCode"
        trigger = {"FunctionName": "fn", "TriggerName": "t", "Type": "timer", "TriggerDesc": "0 */10 * * * * *"}
        assert error_code(service, "CreateTrigger", trigger) == "FailedOperation.FunctionStatusError"
        assert call(service, "GetFunction", {"FunctionName": "fn"})["Status"] == "Updating"
        assert call(service, "GetFunction", {"FunctionName": "fn"})["Status"] == "Active"
        call(service, "CreateTrigger", trigger)
    finally:
        service.close()


def test_status_settles_on_its_own_after_the_delay() -> None:
    service = ScfService(Credential("AKIDTEST", "k"), app_id=1250000000, uin=1, settle=0.05)
    try:
        create(service)
        time.sleep(0.1)
        call(service, "UpdateFunctionConfiguration", {"FunctionName": "fn", "Timeout": 9})  # Active without a poll
    finally:
        service.close()


@pytest.mark.parametrize("runtime", ["Python3.11", "Python3.12", "python3.10", "Python3.8", "Ruby3"])
def test_runtime_outside_the_documented_list(scf: ScfService, runtime: str) -> None:
    params = {"FunctionName": "fn", "Runtime": runtime, "Code": {"ZipFile": zipped({"index.py": ECHO})}}
    assert error_code(scf, "CreateFunction", params) == "InvalidParameterValue.Runtime"


@pytest.mark.parametrize("runtime", ["Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10"])
def test_every_documented_python_runtime(scf: ScfService, runtime: str) -> None:
    create(scf, Runtime=runtime)
    assert call(scf, "GetFunction", {"FunctionName": "fn"})["Runtime"] == runtime


def test_memory_sizes() -> None:
    assert MEMORY_SIZES[:4] == (64, 128, 256, 384)
    assert MEMORY_SIZES[-1] == 3072
    assert 192 not in MEMORY_SIZES and 3200 not in MEMORY_SIZES


@pytest.mark.parametrize(("memory", "ok"), [(64, True), (128, True), (1536, True), (3072, True), (32, False),
                                             (96, False), (192, False), (3200, False), (0, False)])  # fmt: skip
def test_memory_validation(scf: ScfService, memory: int, ok: bool) -> None:
    if ok:
        create(scf, MemorySize=memory)
    else:
        assert error_code(scf, "CreateFunction", _params(MemorySize=memory)) == "InvalidParameterValue.MemorySize"


@pytest.mark.parametrize(("timeout", "ok"), [(1, True), (900, True), (0, False), (901, False), (-5, False)])
def test_timeout_validation(scf: ScfService, timeout: int, ok: bool) -> None:
    if ok:
        create(scf, Timeout=timeout)
    else:
        assert error_code(scf, "CreateFunction", _params(Timeout=timeout)) == "LimitExceeded.Timeout"


@pytest.mark.parametrize("name", ["1abc", "a", "ab-", "ab_", "a b", "a" * 61, "函数"])
def test_bad_function_names(scf: ScfService, name: str) -> None:
    assert error_code(scf, "CreateFunction", _params(FunctionName=name)) == "InvalidParameterValue.FunctionName"


@pytest.mark.parametrize("handler", ["index", "i.main_handler", "index.m", ".main", "index.main-"])
def test_bad_handlers(scf: ScfService, handler: str) -> None:
    assert error_code(scf, "CreateFunction", _params(Handler=handler)) == "InvalidParameterValue.Handler"


def test_duplicate_and_missing_functions(scf: ScfService) -> None:
    create(scf)
    assert error_code(scf, "CreateFunction", _params()) == "ResourceInUse.Function"
    create(scf, Namespace="other")  # another namespace is another place
    for action in ("GetFunction", "DeleteFunction", "UpdateFunctionConfiguration", "ListTriggers", "Invoke"):
        assert error_code(scf, action, {"FunctionName": "nope"}) == "ResourceNotFound.Function"
    assert error_code(scf, "GetFunction", {"FunctionName": "fn", "Namespace": "third"}) == "ResourceNotFound.Function"


def test_unknown_parameter_is_refused(scf: ScfService) -> None:
    assert error_code(scf, "CreateFunction", _params(Memory=128)) == "UnknownParameter"


def test_runtime_cannot_change(scf: ScfService) -> None:
    create(scf)
    params = {"FunctionName": "fn", "Runtime": "Python3.9"}
    assert error_code(scf, "UpdateFunctionConfiguration", params) == "InvalidParameterValue.Runtime"


def test_delete_function(scf: ScfService) -> None:
    create(scf)
    record = scf.function("fn")
    assert record is not None and record.code_dir is not None
    code_dir = record.code_dir
    assert (code_dir / "index.py").exists()
    call(scf, "DeleteFunction", {"FunctionName": "fn"})
    assert not code_dir.exists()
    assert error_code(scf, "GetFunction", {"FunctionName": "fn"}) == "ResourceNotFound.Function"


# --- code --------------------------------------------------------------------------------------------


def test_code_errors(scf: ScfService) -> None:
    assert error_code(scf, "CreateFunction", _params(Code={})) == "MissingParameter.Code"
    both = {"ZipFile": zipped({"index.py": ECHO}), "CosBucketName": "code", "CosObjectName": "/a.zip"}
    assert error_code(scf, "CreateFunction", _params(Code=both)) == "InvalidParameterValue.Code"
    assert error_code(scf, "CreateFunction", _params(Code={"ZipFile": "@@@"})) == "InvalidParameterValue.ZipFile"
    not_zip = base64.b64encode(b"plain text").decode()
    assert error_code(scf, "CreateFunction", _params(Code={"ZipFile": not_zip})) == "InvalidParameterValue.ZipFile"
    escape = zipped({"../evil.py": "x = 1"})
    assert error_code(scf, "CreateFunction", _params(Code={"ZipFile": escape})) == "InvalidParameterValue.ZipFile"


def test_code_from_the_sandbox_cos() -> None:
    package = base64.b64decode(zipped({"index.py": ECHO}))
    cos = FakeCos({"code-1250000000": {"releases/fn.zip": package}})
    service = ScfService(Credential("AKIDTEST", "k"), app_id=1250000000, uin=1, cos=cos, settle=0.0)
    try:
        ok = {"CosBucketName": "code", "CosObjectName": "/releases/fn.zip", "CosBucketRegion": "ap-guangzhou"}
        create(service, Code=ok)
        assert call(service, "GetFunction", {"FunctionName": "fn"})["CodeSize"] == len(package)
        no_slash = dict(ok, CosObjectName="releases/fn.zip")
        assert error_code(service, "CreateFunction", _params("gg", Code=no_slash)) == (
            "InvalidParameterValue.CosObjectName"
        )
        with_appid = dict(ok, CosBucketName="code-1250000000")
        assert error_code(service, "CreateFunction", _params("gg", Code=with_appid)) == (
            "InvalidParameterValue.CosBucketName"
        )
        missing = dict(ok, CosObjectName="/releases/other.zip")
        assert error_code(service, "CreateFunction", _params("gg", Code=missing)) == "ResourceNotFound.CosObject"
        update = {"FunctionName": "fn", "CosBucketName": "code", "CosObjectName": "/releases/fn.zip"}
        call(service, "UpdateFunctionCode", update)
    finally:
        service.close()


def test_each_code_version_is_unpacked_on_its_own(scf: ScfService) -> None:
    create(scf)
    first = scf.function("fn")
    assert first is not None
    old_dir = first.code_dir
    call(scf, "UpdateFunctionCode", {"FunctionName": "fn", "ZipFile": zipped({"index.py": ECHO.replace("= 1", "= 2")})})
    record = scf.function("fn")
    assert record is not None and record.code_dir != old_dir
    result = call(scf, "Invoke", {"FunctionName": "fn"})["Result"]
    assert json.loads(result["RetMsg"])["version"] == 2


def test_update_code_needs_code(scf: ScfService) -> None:
    create(scf)
    assert error_code(scf, "UpdateFunctionCode", {"FunctionName": "fn"}) == "MissingParameter.Code"


# --- environment -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ([{"Key": "TENCENTCLOUD_SECRETID", "Value": "x"}], "InvalidParameterValue.EnvironmentSystemProtect"),
        ([{"Key": "SCF_FUNCTIONNAME", "Value": "x"}], "InvalidParameterValue.EnvironmentSystemProtect"),
        ([{"Key": "EMPTY", "Value": ""}], "InvalidParameterValue.Environment"),
        ([{"Key": "", "Value": "x"}], "InvalidParameterValue.Environment"),
        ([{"Key": "BIG", "Value": "x" * 4200}], "InvalidParameterValue.EnvironmentExceededLimit"),
    ],
)
def test_environment_rules(scf: ScfService, variables: list[dict[str, str]], code: str) -> None:
    assert error_code(scf, "CreateFunction", _params(Environment={"Variables": variables})) == code


# --- triggers ----------------------------------------------------------------------------------------


def _timer(name: str = "every-10-minutes", cron: str = "0 */10 * * * * *", **extra: Any) -> dict[str, Any]:
    return {"FunctionName": "fn", "TriggerName": name, "Type": "timer", "TriggerDesc": cron, **extra}


def _url(name: str = "url", **desc: Any) -> dict[str, Any]:
    settings = {"AuthType": "NONE", "NetConfig": {"EnableIntranet": False, "EnableExtranet": True}, **desc}
    return {"FunctionName": "fn", "TriggerName": name, "Type": "http", "TriggerDesc": json.dumps(settings)}


@pytest.mark.parametrize("cron", ["0 */10 * * * * *", "0 30 9 * * MON-FRI *", "0 0 1 1 * ? 2026", "*/5 * * * *"])
def test_good_crons(scf: ScfService, cron: str) -> None:
    create(scf)
    info = call(scf, "CreateTrigger", _timer(cron=cron))["TriggerInfo"]
    assert (info["Type"], info["TriggerDesc"], info["Enable"]) == ("timer", cron, 1)


@pytest.mark.parametrize("cron", ["", "* * * * * *", "61 * * * * * *", "0 0 25 * * * *", "0 0 0 32 * * *",
                                  "0 0 0 * 13 * *", "0 0 0 * * 8 *", "x * * * * * *", "0 ? * * * * *"])  # fmt: skip
def test_bad_crons(scf: ScfService, cron: str) -> None:
    create(scf)
    assert error_code(scf, "CreateTrigger", _timer(cron=cron)) == "InvalidParameterValue.TriggerCronConfig"


def test_trigger_rules(scf: ScfService) -> None:
    create(scf)
    call(scf, "CreateTrigger", _timer())
    assert error_code(scf, "CreateTrigger", _timer()) == "ResourceInUse.Trigger"
    assert error_code(scf, "CreateTrigger", _timer(name="bad name")) == "InvalidParameterValue.TriggerName"
    cos = {"FunctionName": "fn", "TriggerName": "c", "Type": "cos", "TriggerDesc": "{}"}
    assert error_code(scf, "CreateTrigger", cos) == "UnsupportedOperation.Trigger"
    bad_json = dict(_url(), TriggerDesc="{nope")
    assert error_code(scf, "CreateTrigger", bad_json) == "InvalidParameterValue.TriggerDesc"
    assert error_code(scf, "CreateTrigger", _url(AuthType="OPEN")) == "InvalidParameterValue.TriggerDesc"
    assert error_code(scf, "CreateTrigger", _url(Extra=1)) == "InvalidParameterValue.TriggerDesc"
    assert error_code(scf, "CreateTrigger", _timer(name="x", Qualifier="3")) == "InvalidParameterValue.Qualifier"
    missing = {"FunctionName": "fn", "TriggerName": "nope", "Type": "timer"}
    assert error_code(scf, "DeleteTrigger", missing) == "ResourceNotFound.Trigger"
    assert error_code(scf, "UpdateTrigger", missing) == "ResourceNotFound.Trigger"
    wrong_type = {"FunctionName": "fn", "TriggerName": "every-10-minutes", "Type": "http"}
    assert error_code(scf, "DeleteTrigger", wrong_type) == "ResourceNotFound.Trigger"


def test_function_url_trigger_serves_and_is_one_per_qualifier(scf: ScfService) -> None:
    create(scf)
    info = call(scf, "CreateTrigger", _url())["TriggerInfo"]
    desc = json.loads(info["TriggerDesc"])
    assert desc["AuthType"] == "NONE" and desc["NetConfig"] == {"EnableIntranet": False, "EnableExtranet": True}
    assert desc["Url"].startswith("http://127.0.0.1:") and desc["Url"].endswith("/")
    assert error_code(scf, "CreateTrigger", _url(name="url2")) == "ResourceInUse.Trigger"
    with urllib.request.urlopen(desc["Url"] + "status?x=1", timeout=30) as resp:
        doc = json.loads(resp.read())
    assert doc["event"]["path"] == "/status" and doc["event"]["queryString"] == {"x": "1"}
    # Updating the URL keeps its address; deleting it stops the server.
    call(scf, "UpdateTrigger", dict(_url(), TriggerDesc=json.dumps({"AuthType": "CAM"})))
    listed = call(scf, "ListTriggers", {"FunctionName": "fn"})["Triggers"]
    assert json.loads(listed[0]["TriggerDesc"])["Url"] == desc["Url"]
    with pytest.raises(urllib.error.HTTPError) as info403:
        urllib.request.urlopen(desc["Url"], timeout=30)
    assert info403.value.code == 403
    call(scf, "DeleteTrigger", {"FunctionName": "fn", "TriggerName": "url", "Type": "http"})
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(desc["Url"], timeout=5)


def test_list_triggers_filters_orders_and_pages(scf: ScfService) -> None:
    create(scf)
    for name in ("a", "b", "c"):
        call(scf, "CreateTrigger", _timer(name=name, Description=f"timer {name}"))
    listed = call(scf, "ListTriggers", {"FunctionName": "fn", "OrderBy": "add_time", "Order": "ASC"})
    assert listed["TotalCount"] == 3 and [t["TriggerName"] for t in listed["Triggers"]] == ["a", "b", "c"]
    page = call(scf, "ListTriggers", {"FunctionName": "fn", "Offset": 1, "Limit": 1, "Order": "ASC"})
    assert page["TotalCount"] == 3 and len(page["Triggers"]) == 1
    only_b = call(scf, "ListTriggers", {"FunctionName": "fn", "Filters": [{"Name": "TriggerName", "Values": ["b"]}]})
    assert [t["TriggerName"] for t in only_b["Triggers"]] == ["b"]
    bad_filter = {"FunctionName": "fn", "Filters": [{"Name": "Color", "Values": ["b"]}]}
    assert error_code(scf, "ListTriggers", bad_filter) == "InvalidParameterValue"
    assert error_code(scf, "ListTriggers", {"FunctionName": "fn", "Limit": 0}) == "InvalidParameterValue.Limit"


def test_update_timer_trigger(scf: ScfService) -> None:
    create(scf)
    call(scf, "CreateTrigger", _timer())
    update = {"FunctionName": "fn", "TriggerName": "every-10-minutes", "Type": "timer"}
    call(scf, "UpdateTrigger", dict(update, TriggerDesc="0 0 * * * * *", Enable="CLOSE", CustomArgument="hi"))
    (trigger,) = call(scf, "ListTriggers", {"FunctionName": "fn"})["Triggers"]
    assert (trigger["TriggerDesc"], trigger["Enable"], trigger["CustomArgument"]) == ("0 0 * * * * *", 0, "hi")
    assert error_code(scf, "UpdateTrigger", dict(update, TriggerDesc="soon")) == (
        "InvalidParameterValue.TriggerCronConfig"
    )
    assert error_code(scf, "UpdateTrigger", dict(update, Enable="MAYBE")) == "InvalidParameterValue"
    trigger_in_get = call(scf, "GetFunction", {"FunctionName": "fn"})["Triggers"]
    assert [t["TriggerName"] for t in trigger_in_get] == ["every-10-minutes"]


# --- asynchronous invocation settings ------------------------------------------------------------------


def test_event_invoke_config(scf: ScfService) -> None:
    create(scf)
    got = call(scf, "GetFunctionEventInvokeConfig", {"FunctionName": "fn"})
    assert got == {"AsyncTriggerConfig": {"RetryConfig": [{"RetryNum": 2}], "MsgTTL": 21600}}
    new = {"RetryConfig": [{"RetryNum": 0}], "MsgTTL": 3600}
    call(scf, "UpdateFunctionEventInvokeConfig", {"FunctionName": "fn", "AsyncTriggerConfig": new})
    assert call(scf, "GetFunctionEventInvokeConfig", {"FunctionName": "fn"})["AsyncTriggerConfig"] == new
    too_many = {"RetryConfig": [{"RetryNum": 3}], "MsgTTL": 3600}
    params = {"FunctionName": "fn", "AsyncTriggerConfig": too_many}
    assert error_code(scf, "UpdateFunctionEventInvokeConfig", params) == "LimitExceeded.RetryNum"
    too_long = {"RetryConfig": [{"RetryNum": 1}], "MsgTTL": 86400}
    params = {"FunctionName": "fn", "AsyncTriggerConfig": too_long}
    assert error_code(scf, "UpdateFunctionEventInvokeConfig", params) == "LimitExceeded.MsgTTL"


# --- invocation ---------------------------------------------------------------------------------------


def test_invoke_runs_the_handler_with_the_function_environment(
    scf: ScfService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEAK_FROM_PARENT", "should not be seen")
    create(scf, Environment={"Variables": [{"Key": "X_VAR", "Value": "from-deploy"}]})
    result = call(scf, "Invoke", {"FunctionName": "fn", "ClientContext": json.dumps({"k": "v"})})["Result"]
    assert result["InvokeResult"] == 0 and result["ErrMsg"] == ""
    doc = json.loads(result["RetMsg"])
    assert doc["event"] == {"k": "v"}
    assert doc["env"] == {
        "X_VAR": "from-deploy",
        "TENCENTCLOUD_SECRETID": "AKIDTEST",
        "TENCENTCLOUD_SECRETKEY": "test-key",
        "TENCENTCLOUD_RUNENV": "SCF",
        "SCF_FUNCTIONNAME": "fn",
        "LEAK_FROM_PARENT": None,
    }
    assert doc["context"] == {"function_name": "fn", "namespace": "default", "memory_limit_in_mb": 128}
    assert "log line from the handler" in result["Log"]
    assert result["FunctionRequestId"]


def test_invoke_reports_a_handler_error(scf: ScfService) -> None:
    create(scf, Code={"ZipFile": zipped({"index.py": FAIL})})
    result = call(scf, "Invoke", {"FunctionName": "fn"})["Result"]
    assert result["InvokeResult"] == -1 and result["RetMsg"] == ""
    assert json.loads(result["ErrMsg"])["errorMessage"] == "budget exploded"
    assert "ValueError" in result["Log"]


def test_invoke_times_out_after_the_function_timeout(scf: ScfService) -> None:
    create(scf, Code={"ZipFile": zipped({"index.py": SLOW})}, Timeout=1)
    result = call(scf, "Invoke", {"FunctionName": "fn"})["Result"]
    assert result["InvokeResult"] == -1
    assert "timed out after 1 seconds" in json.loads(result["ErrMsg"])["errorMessage"]


def test_invoke_parameters(scf: ScfService) -> None:
    create(scf)
    assert error_code(scf, "Invoke", {"FunctionName": "fn", "InvocationType": "Later"}) == (
        "InvalidParameterValue.InvokeType"
    )
    assert error_code(scf, "Invoke", {"FunctionName": "fn", "ClientContext": "{bad"}) == (
        "InvalidParameterValue.ClientContext"
    )
    big = json.dumps({"x": "y" * 130 * 1024})
    params = {"FunctionName": "fn", "InvocationType": "Event", "ClientContext": big}
    assert error_code(scf, "Invoke", params) == "InvalidParameterValue.ClientContext"


def test_event_invocation_runs_in_the_background_and_retries_errors(scf: ScfService) -> None:
    create(scf)
    create(scf, "broken", Code={"ZipFile": zipped({"index.py": FAIL})})
    retry_once = {"RetryConfig": [{"RetryNum": 1}], "MsgTTL": 60}
    call(scf, "UpdateFunctionEventInvokeConfig", {"FunctionName": "broken", "AsyncTriggerConfig": retry_once})
    good = call(scf, "Invoke", {"FunctionName": "fn", "InvocationType": "Event", "ClientContext": '{"shard": 3}'})
    bad = call(scf, "Invoke", {"FunctionName": "broken", "InvocationType": "Event"})
    assert set(good["Result"]) == {"FunctionRequestId"}
    scf.wait_async()
    records = {r.function: r for r in scf.async_records}
    assert records["fn"].outcome.ok and records["fn"].attempts == 1
    assert records["fn"].outcome.result["event"] == {"shard": 3}
    assert records["fn"].request_id == good["Result"]["FunctionRequestId"]
    assert not records["broken"].outcome.ok and records["broken"].attempts == 2  # one try and one retry
    assert records["broken"].request_id == bad["Result"]["FunctionRequestId"]


# --- the control endpoint ------------------------------------------------------------------------------


def test_fire_runs_the_timer_trigger(scf: ScfService) -> None:
    create(scf)
    call(scf, "CreateTrigger", _timer(CustomArgument="from the trigger"))
    status, headers, body = scf.control("POST", "/_sandbox/scf/fire", "function=fn&namespace=default")
    assert status == 200, body
    doc = json.loads(body)
    assert doc["event"]["Type"] == "Timer" and doc["event"]["TriggerName"] == "every-10-minutes"
    assert doc["event"]["Message"] == "from the trigger"
    assert doc["event"]["Time"].endswith("Z")
    assert headers["X-Scf-Trigger"] == "every-10-minutes"


def test_fire_errors(scf: ScfService) -> None:
    create(scf)
    assert scf.control("POST", "/_sandbox/scf/fire", "function=fn")[0] == 404  # no timer trigger
    assert scf.control("POST", "/_sandbox/scf/fire", "function=nope")[0] == 404
    assert scf.control("GET", "/_sandbox/scf/fire", "function=fn")[0] == 405
    assert scf.control("POST", "/_sandbox/scf/other", "")[0] == 404
    create(scf, "broken", Code={"ZipFile": zipped({"index.py": FAIL})})
    call(scf, "CreateTrigger", dict(_timer(), FunctionName="broken"))
    status, _, body = scf.control("POST", "/_sandbox/scf/fire", "function=broken")
    assert status == 500 and json.loads(body)["errorMessage"] == "budget exploded"
    closed = {"FunctionName": "broken", "TriggerName": "every-10-minutes", "Type": "timer", "Enable": "CLOSE"}
    call(scf, "UpdateTrigger", closed)
    assert scf.control("POST", "/_sandbox/scf/fire", "function=broken")[0] == 409


def _params(name: str = "fn", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "Python3.10",
        "Handler": "index.main_handler",
        "Code": {"ZipFile": zipped({"index.py": ECHO})},
    }
    params.update(extra)
    return params


# --- answers against the API's own shapes ---------------------------------------------------------------

_TCCLI = importlib.util.find_spec("tccli")
assert _TCCLI is not None and _TCCLI.origin is not None
API_JSON = Path(_TCCLI.origin).parent / "services" / "scf" / "v20180416" / "api.json"
SCALARS: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}


def _conforms(value: Any, object_name: str, objects: dict[str, Any], path: str) -> None:
    assert isinstance(value, dict), path
    members = {m["name"]: m for m in objects[object_name]["members"]}
    for key, item in value.items():
        assert key in members, f"{path}.{key} is not in {object_name}"
        member = members[key]
        if item is None:
            continue
        if member["type"] == "object":
            _conforms(item, member["member"], objects, f"{path}.{key}")
        elif member["type"] == "list":
            assert isinstance(item, list), f"{path}.{key}"
            for index, element in enumerate(item):
                if member["member"] in objects:
                    _conforms(element, member["member"], objects, f"{path}.{key}[{index}]")
                else:
                    assert isinstance(element, SCALARS.get(member["member"], (str,))), f"{path}.{key}[{index}]"
        else:
            assert isinstance(item, SCALARS[member["type"]]), f"{path}.{key}: {item!r}"


def test_every_answer_has_the_documented_shape(scf: ScfService) -> None:
    doc = json.loads(API_JSON.read_text(encoding="utf-8"))
    objects, actions = doc["objects"], doc["actions"]
    create(scf)
    answers = {
        "CreateTrigger": call(scf, "CreateTrigger", _timer()),
        "GetFunction": call(scf, "GetFunction", {"FunctionName": "fn"}),
        "ListTriggers": call(scf, "ListTriggers", {"FunctionName": "fn"}),
        "Invoke": call(scf, "Invoke", {"FunctionName": "fn"}),
        "GetFunctionEventInvokeConfig": call(scf, "GetFunctionEventInvokeConfig", {"FunctionName": "fn"}),
        "DeleteFunction": call(scf, "DeleteFunction", {"FunctionName": "fn"}),
    }
    for action, answer in answers.items():
        _conforms(answer, actions[action]["output"], objects, action)
    assert answers["GetFunction"]["Triggers"] and answers["ListTriggers"]["Triggers"]
