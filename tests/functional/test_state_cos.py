"""CosStore on the wire (``responses``): addressing, signed headers, create-only PUT, retries, errors, paging."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
import responses

from lib.client.credentials import Credentials
from lib.errors import StoreError
from lib.signing import cos_authorization
from lib.state.cos import CosStore

HOST = "state-1250000000.cos.ap-guangzhou.myqcloud.com"
BASE = f"https://{HOST}"
CREDS = Credentials("AKIDEXAMPLE", "very-secret-key", token="session-token-xyz")
ERROR = (
    "<?xml version='1.0' encoding='utf-8' ?><Error><Code>{code}</Code><Message>{message}</Message>"
    "<Resource>r</Resource><RequestId>req-1</RequestId></Error>"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        self.now += 7
        return self.now


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make(**kwargs: object) -> CosStore:
    options: dict[object, object] = {"clock": Clock(), "sleep": lambda _s: None}
    options.update(kwargs)
    return CosStore("state-1250000000", "ap-guangzhou", "budget/state", CREDS, **options)  # type: ignore[arg-type]


def auth_fields(request: requests.PreparedRequest) -> dict[str, str]:
    return dict(part.split("=", 1) for part in str(request.headers["Authorization"]).split("&"))


def assert_signed(request: requests.PreparedRequest) -> None:
    """Recompute the signature from what went on the wire, over the headers the client chose."""
    fields = auth_fields(request)
    start, end = (int(x) for x in fields["q-sign-time"].split(";"))
    names = fields["q-header-list"].split(";") if fields["q-header-list"] else []
    lower = {k.lower(): v for k, v in request.headers.items()}
    headers: dict[str, str | None] = {name: lower[name] for name in names}
    split = urlsplit(str(request.url))
    params: dict[str, str | None] = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
    expected = cos_authorization(
        CREDS.secret_id,
        CREDS.secret_key,
        method=str(request.method),
        path=unquote(split.path),
        params=params,
        headers=headers,
        start=start,
        end=end,
    )
    assert request.headers["Authorization"] == expected


def test_put_is_virtual_hosted_signed_and_carries_the_token(rsps: responses.RequestsMock) -> None:
    rsps.put(f"{BASE}/budget/state/ledger.json", status=200, headers={"ETag": '"abc"'})
    make().put("ledger.json", b'{"a":1}\n')
    request = rsps.calls[0].request
    assert request.headers["Host"] == HOST
    assert request.headers["x-cos-security-token"] == "session-token-xyz"
    assert request.headers["Content-MD5"]
    fields = auth_fields(request)
    assert fields["q-header-list"] == "content-length;content-md5;content-type;host;x-cos-security-token"
    assert "very-secret-key" not in str(request.headers)
    assert_signed(request)


def test_endpoint_override_keeps_the_canonical_host(rsps: responses.RequestsMock) -> None:
    rsps.get("http://127.0.0.1:9000/budget/state/ledger.json", body=b"x", headers={"ETag": '"e1"'})
    obj = make(endpoint="http://127.0.0.1:9000/").get("ledger.json")
    assert obj is not None
    assert (obj.data, obj.etag) == (b"x", "e1")
    request = rsps.calls[0].request
    assert request.headers["Host"] == HOST
    assert_signed(request)


def test_keys_are_percent_encoded_on_the_wire_and_signed_decoded(rsps: responses.RequestsMock) -> None:
    rsps.put(re.compile(re.escape(BASE) + r"/.*"), status=200)
    make().put("series/预算/zone-id%3Dz1.json", b"{}")
    request = rsps.calls[0].request
    assert urlsplit(str(request.url)).path == "/budget/state/series/%E9%A2%84%E7%AE%97/zone-id%253Dz1.json"
    assert_signed(request)


def test_put_if_absent_forbids_overwrite_and_reads_409_as_taken(rsps: responses.RequestsMock) -> None:
    url = f"{BASE}/budget/state/claims/d/000001"
    rsps.put(url, status=200)
    rsps.put(url, status=409, body=ERROR.format(code="FileAlreadyExists", message="exists"))
    store = make()
    assert store.put_if_absent("claims/d/000001", b"a") is True
    assert store.put_if_absent("claims/d/000001", b"b") is False
    request = rsps.calls[0].request
    assert request.headers["x-cos-forbid-overwrite"] == "true"
    assert "x-cos-forbid-overwrite" in auth_fields(request)["q-header-list"].split(";")
    assert_signed(request)


def test_a_lost_answer_then_409_is_resolved_by_reading_the_object(rsps: responses.RequestsMock) -> None:
    url = f"{BASE}/budget/state/claims/d/000001"
    rsps.put(url, body=requests.ConnectionError("reset"))
    rsps.put(url, status=409, body=ERROR.format(code="FileAlreadyExists", message="exists"))
    rsps.get(url, body=b"mine")
    assert make().put_if_absent("claims/d/000001", b"mine") is True
    rsps.replace(responses.GET, url, body=b"theirs")
    rsps.put(url, body=requests.ConnectionError("reset"))
    rsps.put(url, status=409, body=ERROR.format(code="FileAlreadyExists", message="exists"))
    assert make().put_if_absent("claims/d/000001", b"mine") is False


def test_versioned_bucket_is_refused_for_create_only_markers(rsps: responses.RequestsMock) -> None:
    rsps.put(f"{BASE}/budget/state/sent/d", status=200, headers={"x-cos-version-id": "MTg0NDUxNTc1NjIz"})
    with pytest.raises(StoreError) as info:
        make().put_if_absent("sent/d", b"x")
    assert info.value.code == "VersioningEnabled"
    assert info.value.retryable is False


def test_server_errors_and_timeouts_are_retried_and_resigned(rsps: responses.RequestsMock) -> None:
    url = f"{BASE}/budget/state/ledger.json"
    rsps.get(url, status=503, body=ERROR.format(code="SlowDown", message="slow"))
    rsps.get(url, body=requests.Timeout("read timed out"))
    rsps.get(url, body=b"ok")
    slept: list[float] = []
    obj = make(sleep=slept.append).get("ledger.json")
    assert obj is not None
    assert obj.data == b"ok"
    assert len(rsps.calls) == 3
    signatures = {auth_fields(c.request)["q-sign-time"] for c in rsps.calls}
    assert len(signatures) == 3
    assert len(slept) == 2
    assert slept[1] > slept[0] * 0.3  # backoff grows (with jitter)


def test_persistent_server_errors_become_a_typed_retryable_error(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/budget/state/ledger.json", status=500, body=ERROR.format(code="InternalError", message="boom"))
    with pytest.raises(StoreError) as info:
        make(retries=2).get("ledger.json")
    assert (info.value.status, info.value.code, info.value.retryable) == (500, "InternalError", True)
    assert len(rsps.calls) == 3


def test_timeouts_exhausted_are_chained(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/budget/state/ledger.json", body=requests.ConnectTimeout("no route"))
    with pytest.raises(StoreError) as info:
        make(retries=1).get("ledger.json")
    assert info.value.retryable is True
    assert isinstance(info.value.__cause__, requests.Timeout)


def test_client_errors_are_typed_and_not_retried(rsps: responses.RequestsMock) -> None:
    rsps.put(
        f"{BASE}/budget/state/ledger.json",
        status=403,
        body=ERROR.format(code="SignatureDoesNotMatch", message="no"),
        headers={"x-cos-request-id": "req-403"},
    )
    with pytest.raises(StoreError) as info:
        make().put("ledger.json", b"x")
    err = info.value
    assert (err.status, err.code, err.retryable) == (403, "SignatureDoesNotMatch", False)
    assert "req-403" in str(err)
    assert "very-secret-key" not in str(err)
    assert "session-token" not in str(err)
    assert len(rsps.calls) == 1


def test_missing_key_is_none_but_missing_bucket_is_an_error(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/budget/state/a", status=404, body=ERROR.format(code="NoSuchKey", message="no"))
    rsps.get(f"{BASE}/budget/state/b", status=404, body=ERROR.format(code="NoSuchBucket", message="no"))
    rsps.head(f"{BASE}/budget/state/a", status=404)
    rsps.head(f"{BASE}/budget/state/c", status=200, headers={"ETag": '"e"', "Content-Length": "12"})
    store = make()
    assert store.get("a") is None
    assert store.get_meta("a") is None
    meta = store.get_meta("c")
    assert meta is not None
    assert (meta.etag, meta.size) == ("e", 12)
    with pytest.raises(StoreError) as info:
        store.get("b")
    assert info.value.code == "NoSuchBucket"


def test_delete_accepts_204_and_404(rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{BASE}/budget/state/a", status=204)
    rsps.delete(f"{BASE}/budget/state/b", status=404, body=ERROR.format(code="NoSuchKey", message="no"))
    rsps.delete(f"{BASE}/budget/state/c", status=403, body=ERROR.format(code="AccessDenied", message="no"))
    store = make()
    store.delete("a")
    store.delete("b")
    with pytest.raises(StoreError):
        store.delete("c")


def _listing(keys: list[str], truncated: bool, next_marker: str | None, ns: str = "") -> str:
    contents = "".join(f"<Contents><Key>{k}</Key><ETag>&quot;x&quot;</ETag><Size>1</Size></Contents>" for k in keys)
    marker = f"<NextMarker>{next_marker}</NextMarker>" if next_marker else ""
    attr = f' xmlns="{ns}"' if ns else ""
    return (
        f"<?xml version='1.0' encoding='utf-8' ?><ListBucketResult{attr}><Name>state-1250000000</Name>"
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{marker}{contents}</ListBucketResult>"
    )


def test_listing_follows_markers_and_strips_the_prefix(rsps: responses.RequestsMock) -> None:
    pages = [
        _listing(["budget/state/runs/a", "budget/state/runs/b"], True, "budget/state/runs/b"),
        _listing(
            ["budget/state/runs/c", "budget/state/runs/d/"], True, None, ns="http://s3.amazonaws.com/doc/2006-03-01/"
        ),
        _listing(["budget/state/runs/e"], False, None),
    ]
    for page in pages:
        rsps.get(f"{BASE}/", body=page)
    assert make().list("runs/") == ["runs/a", "runs/b", "runs/c", "runs/e"]
    queries = [parse_qs(urlsplit(str(c.request.url)).query) for c in rsps.calls]
    assert queries[0]["prefix"] == ["budget/state/runs/"]
    assert "marker" not in queries[0]
    assert queries[1]["marker"] == ["budget/state/runs/b"]
    assert queries[2]["marker"] == ["budget/state/runs/d/"]  # no NextMarker: continue after the last key
    for call in rsps.calls:
        assert "prefix" in auth_fields(call.request)["q-url-param-list"].split(";")
        assert_signed(call.request)


def test_a_listing_that_is_not_xml_is_an_error(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/", body="<html>proxy login</html>")
    with pytest.raises(StoreError):
        make().list("runs/")


def test_describe_never_shows_credentials() -> None:
    text = make(endpoint="http://127.0.0.1:1").describe()
    assert text == "cos://state-1250000000.ap-guangzhou/budget/state via http://127.0.0.1:1"
    assert "AKID" not in text
