"""The real cos-python-sdk-v5 client against the sandbox's COS (``sandbox.server.Sandbox``) on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from sandbox.cos import CosService
from sandbox.server import Sandbox

pytestmark = pytest.mark.e2e

SID = "AKIDSANDBOX"
SKEY = "sandbox-secret-key"
REGION = "ap-guangzhou"
BUCKET = "state-1250000000"


class Recorder:
    """Status codes of every response the SDK's session received (the SDK hides 304s)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.responses: list[requests.Response] = []

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.statuses.append(response.status_code)
        self.responses.append(response)  # streamed bodies hold their socket until closed
        return response


@contextmanager
def sdk_client(
    port: int, *, secret_key: str = SKEY, secret_id: str = SID, token: str | None = None, retry: int = 0
) -> Iterator[CosS3Client]:
    config = CosConfig(
        Region=REGION, SecretId=secret_id, SecretKey=secret_key, Token=token, Scheme="http", IP="127.0.0.1", Port=port
    )
    session = requests.Session()
    recorder = Recorder()
    session.hooks["response"].append(recorder)
    client = CosS3Client(config, retry=retry, session=session)
    client.recorder = recorder
    try:
        yield client
    finally:
        for response in recorder.responses:
            response.close()
        session.close()


def cos_of(sandbox: Sandbox) -> CosService:
    service = sandbox.app.cos
    assert isinstance(service, CosService)
    return service


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(secret_id=SID, secret_key=SKEY) as running:
        yield running


@pytest.fixture
def service(sandbox: Sandbox) -> CosService:
    return cos_of(sandbox)


@pytest.fixture
def port(sandbox: Sandbox) -> int:
    return sandbox.port


@pytest.fixture
def client(port: int) -> Iterator[CosS3Client]:
    with sdk_client(port) as made:
        yield made


def service_error(excinfo: pytest.ExceptionInfo[CosServiceError]) -> tuple[int, str]:
    return excinfo.value.get_status_code(), excinfo.value.get_error_code()


def test_object_round_trip(client: CosS3Client, service: CosService) -> None:
    key = "state/ledger 名.json"
    put = client.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=b'{"v": 1}',
        ContentType="application/json",
        Metadata={"x-cos-meta-schema": "1"},
        EnableMD5=True,
    )
    assert put["ETag"].startswith('"') and len(put["ETag"]) == 34
    assert service.objects(BUCKET) == {key: b'{"v": 1}'}
    got = client.get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].get_raw_stream().read() == b'{"v": 1}'
    assert got["ETag"] == put["ETag"]
    assert got["Content-Type"] == "application/json"
    assert got["x-cos-meta-schema"] == "1"
    head = client.head_object(Bucket=BUCKET, Key=key)
    assert (head["ETag"], head["Content-Length"]) == (put["ETag"], "8")
    client.delete_object(Bucket=BUCKET, Key=key)
    with pytest.raises(CosServiceError) as excinfo:
        client.head_object(Bucket=BUCKET, Key=key)
    assert service_error(excinfo) == (404, "NoSuchResource")  # the SDK's name for a bodiless HEAD 404
    with pytest.raises(CosServiceError) as excinfo:
        client.get_object(Bucket=BUCKET, Key=key)
    assert service_error(excinfo) == (404, "NoSuchKey")


def test_list_objects(client: CosS3Client) -> None:
    keys = ["runs/2024/a b.json", "runs/2024/c+d.json", "runs/2025/e.json", "runs/top.json", "silences/x.json"]
    for key in keys:
        client.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    listed = client.list_objects(Bucket=BUCKET, Prefix="runs/", Delimiter="/")
    assert [c["Key"] for c in listed["Contents"]] == ["runs/top.json"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["runs/2024/", "runs/2025/"]
    assert listed["IsTruncated"] == "false"
    seen: list[str] = []
    marker = ""
    while True:
        page = client.list_objects(Bucket=BUCKET, Prefix="runs/", Marker=marker, MaxKeys=2)
        seen += [c["Key"] for c in page.get("Contents", [])]
        if page["IsTruncated"] == "false":
            break
        marker = page["NextMarker"]
    assert seen == sorted(k for k in keys if k.startswith("runs/"))


def test_wrong_key_and_unknown_id(port: int) -> None:
    with sdk_client(port, secret_key="not-the-key") as bad, pytest.raises(CosServiceError) as excinfo:
        bad.put_object(Bucket=BUCKET, Key="a", Body=b"x")
    assert service_error(excinfo) == (403, "SignatureDoesNotMatch")
    with sdk_client(port, secret_id="AKIDNOBODY") as bad, pytest.raises(CosServiceError) as excinfo:
        bad.get_object(Bucket=BUCKET, Key="a")
    assert service_error(excinfo) == (403, "InvalidAccessKeyId")


def test_forbid_overwrite(client: CosS3Client, service: CosService) -> None:
    forbid = {"x-cos-forbid-overwrite": "true"}  # no SDK keyword: Metadata headers are sent verbatim
    client.put_object(Bucket=BUCKET, Key="claims/d1", Body=b"first", Metadata=forbid)
    with pytest.raises(CosServiceError) as excinfo:
        client.put_object(Bucket=BUCKET, Key="claims/d1", Body=b"second", Metadata=forbid)
    assert service_error(excinfo) == (409, "FileAlreadyExists")
    assert service.objects(BUCKET) == {"claims/d1": b"first"}


def test_conditional_get(client: CosS3Client) -> None:
    etag = client.put_object(Bucket=BUCKET, Key="c", Body=b"v1")["ETag"]
    client.recorder.statuses.clear()
    unchanged = client.get_object(Bucket=BUCKET, Key="c", IfNoneMatch=etag)
    assert client.recorder.statuses == [304]
    assert unchanged["ETag"] == etag
    fresh = client.get_object(Bucket=BUCKET, Key="c", IfNoneMatch='"0123456789abcdef0123456789abcdef"')
    assert fresh["Body"].get_raw_stream().read() == b"v1"
    assert client.get_object(Bucket=BUCKET, Key="c", IfMatch=etag)["Body"].get_raw_stream().read() == b"v1"
    with pytest.raises(CosServiceError) as excinfo:
        client.get_object(Bucket=BUCKET, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert service_error(excinfo) == (412, "PreconditionFailed")


def test_security_token() -> None:
    with Sandbox(secret_id=SID, secret_key=SKEY, token="temporary-token") as sandbox:
        with sdk_client(sandbox.port, token="temporary-token") as good:
            good.put_object(Bucket=BUCKET, Key="t", Body=b"x")
        for token in (None, "another-token"):
            with sdk_client(sandbox.port, token=token) as bad, pytest.raises(CosServiceError) as excinfo:
                bad.get_object(Bucket=BUCKET, Key="t")
            assert service_error(excinfo) == (403, "InvalidToken")
        assert cos_of(sandbox).objects(BUCKET) == {"t": b"x"}


def test_expired_signature() -> None:
    # The SDK signs [now-60, now+10000]; a server clock past the window sees an expired signature.
    late_clock = lambda: time.time() + 20_000  # noqa: E731
    with (
        Sandbox(secret_id=SID, secret_key=SKEY, signature_clock=late_clock) as sandbox,
        sdk_client(sandbox.port) as late,
        pytest.raises(CosServiceError) as excinfo,
    ):
        late.put_object(Bucket=BUCKET, Key="a", Body=b"x")
    assert service_error(excinfo) == (403, "AccessDenied")
    assert excinfo.value.get_error_msg() == "Request has expired"


def test_sdk_retries_a_scenario_slowdown() -> None:
    """A scenario fault for COS reaches the client as 503 SlowDown; the SDK retries 5xx and succeeds."""
    fault = {"product": "cos", "action": "PutObject", "count": 1, "code": "SlowDown", "http_status": 503}
    with Sandbox({"faults": [fault]}, secret_id=SID, secret_key=SKEY) as sandbox:
        with sdk_client(sandbox.port, retry=1) as client:
            client.put_object(Bucket=BUCKET, Key="r", Body=b"x")
            assert client.recorder.statuses == [503, 200]
        with sdk_client(sandbox.port, retry=0) as client:
            client.put_object(Bucket=BUCKET, Key="r2", Body=b"y")  # count: 1 — the fault fired once
        assert cos_of(sandbox).objects(BUCKET) == {"r": b"x", "r2": b"y"}


def test_scenario_fault_without_retry_is_visible() -> None:
    fault = {"product": "cos", "action": "GetBucket", "code": "InternalError", "http_status": 500}
    with Sandbox({"faults": [fault]}, secret_id=SID, secret_key=SKEY) as sandbox:
        with sdk_client(sandbox.port) as client, pytest.raises(CosServiceError) as excinfo:
            client.list_objects(Bucket=BUCKET)
        assert service_error(excinfo) == (500, "InternalError")


def test_objects_survive_a_sandbox_restart(tmp_path: Path) -> None:
    with Sandbox(secret_id=SID, secret_key=SKEY, data_dir=str(tmp_path)) as first, sdk_client(first.port) as client:
        etag = client.put_object(Bucket=BUCKET, Key="state/ledger.json", Body=b"{}")["ETag"]
    with Sandbox(secret_id=SID, secret_key=SKEY, data_dir=str(tmp_path)) as second, sdk_client(second.port) as client:
        got = client.get_object(Bucket=BUCKET, Key="state/ledger.json")
        assert (got["ETag"], got["Body"].get_raw_stream().read()) == (etag, b"{}")
