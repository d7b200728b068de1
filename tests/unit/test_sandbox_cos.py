"""Sandbox COS: q-sign checks, object operations, conditions, listing, persistence and faults via handle()."""

from __future__ import annotations

import hashlib
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import crcmod
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.signing import cos_authorization
from sandbox.cos import FAULT_MESSAGES, CosService, crc64_ecma, interpret_fault

HOST = "state-1250000000.cos.ap-guangzhou.myqcloud.com"
OTHER_HOST = "other-1250000000.cos.ap-guangzhou.myqcloud.com"
SID = "AKIDTESTCOS"
SKEY = "test-cos-secret-key"
NOW = 1_700_000_000.0


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Reply = tuple[int, dict[str, str], bytes]


def call(
    svc: CosService,
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    host: str = HOST,
    secret_id: str = SID,
    secret_key: str = SKEY,
    window: tuple[int, int] = (int(NOW) - 60, int(NOW) + 600),
    sign: bool = True,
    unsigned: dict[str, str] | None = None,
) -> Reply:
    """Send a request signed over every header and parameter given (``unsigned`` headers are added after)."""
    hdrs = {"Host": host, **(headers or {})}
    if sign:
        hdrs["Authorization"] = cos_authorization(
            secret_id,
            secret_key,
            method=method,
            path=unquote(path),
            params=dict(parse_qsl(query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in hdrs.items()},
            start=window[0],
            end=window[1],
        )
    hdrs.update(unsigned or {})
    return svc.handle(method, host, path, query, hdrs, body)


def parse_xml(payload: bytes) -> ET.Element:
    return ET.fromstring(payload)  # noqa: S314 - the sandbox's own output


def error_code(reply: Reply) -> str:
    root = parse_xml(reply[2])
    assert root.tag == "Error"
    return root.findtext("Code") or ""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(clock: Clock) -> CosService:
    return CosService(SID, SKEY, clock=clock)


# -- signatures ----------------------------------------------------------------------------------------


def test_official_put_vector_is_accepted() -> None:
    """The documented PUT example's Authorization, recomputed server-side from the request alone."""
    svc = CosService(
        "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q", "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz", clock=Clock(1557989200)
    )
    host = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"
    auth = (
        "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989151;1557996351"
        "&q-key-time=1557989151;1557996351"
        "&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read"
        "&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172"
    )
    headers = {
        "Date": "Thu, 16 May 2019 06:45:51 GMT",
        "Host": host,
        "Content-Type": "text/plain",
        "Content-Length": "13",
        "Content-MD5": "mQ/fVh815F3k6TAUm8m0eg==",
        "x-cos-acl": "private",
        "x-cos-grant-read": 'uin="100000000011"',
        "Authorization": auth,
    }
    path = "/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)"
    status, out, _ = svc.handle("PUT", host, path, "", headers, b"ObjectContent")
    assert status == 200
    assert out["ETag"] == f'"{hashlib.md5(b"ObjectContent").hexdigest()}"'
    assert svc.objects("examplebucket-1250000000") == {"exampleobject(腾讯云)": b"ObjectContent"}
    headers["Authorization"] = auth.replace("3b8851a1", "3b8851a2")
    status, _, payload = svc.handle("PUT", host, path, "", headers, b"ObjectContent")
    assert status == 403
    assert error_code((status, {}, payload)) == "SignatureDoesNotMatch"


def test_official_get_vector_is_accepted() -> None:
    svc = CosService(
        "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q", "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz", clock=Clock(1557989800)
    )
    host = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"
    svc.create_bucket("examplebucket-1250000000", "ap-beijing")
    auth = (
        "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989753;1557996953"
        "&q-key-time=1557989753;1557996953&q-header-list=date;host"
        "&q-url-param-list=response-cache-control;response-content-type"
        "&q-signature=01681b8c9d798a678e43b685a9f1bba0f6c0e012"
    )
    headers = {"Date": "Thu, 16 May 2019 06:55:53 GMT", "Host": host, "Authorization": auth}
    query = "response-content-type=application%2Foctet-stream&response-cache-control=max-age%3D600"
    path = "/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)"
    reply = svc.handle("GET", host, path, query, headers, b"")
    assert reply[0] == 404  # authenticated: the object simply is not there
    assert error_code(reply) == "NoSuchKey"


def test_missing_authorization_is_access_denied(svc: CosService) -> None:
    status, out, payload = call(svc, "GET", "/a", sign=False)
    assert status == 403
    root = parse_xml(payload)
    assert root.findtext("Code") == "AccessDenied"
    assert root.findtext("Resource") == f"{HOST}/a"
    assert root.findtext("RequestId") == out["x-cos-request-id"]
    assert root.findtext("TraceId")
    assert out["Content-Type"] == "application/xml"
    assert out["Content-Length"] == str(len(payload))


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"secret_id": "AKIDUNKNOWN"}, "InvalidAccessKeyId"),
        ({"secret_key": "wrong-key"}, "SignatureDoesNotMatch"),
        ({"window": (int(NOW) - 7200, int(NOW) - 1)}, "AccessDenied"),
        ({"window": (int(NOW) + 10, int(NOW) + 600)}, "RequestTimeTooSkewed"),
    ],
)
def test_signature_failures(svc: CosService, kwargs: dict[str, Any], code: str) -> None:
    reply = call(svc, "PUT", "/a", body=b"x", **kwargs)
    assert reply[0] == 403
    assert error_code(reply) == code
    assert svc.objects("state-1250000000") == {}


def test_expired_message_says_so(svc: CosService) -> None:
    reply = call(svc, "GET", "/a", window=(int(NOW) - 100, int(NOW) - 50))
    assert parse_xml(reply[2]).findtext("Message") == "Request has expired"


def test_window_is_checked_against_the_clock(svc: CosService, clock: Clock) -> None:
    assert call(svc, "PUT", "/a", body=b"x", window=(int(NOW), int(NOW) + 10))[0] == 200
    clock.now = NOW + 11
    assert error_code(call(svc, "GET", "/a", window=(int(NOW), int(NOW) + 10))) == "AccessDenied"


def test_only_listed_headers_and_params_are_signed(svc: CosService) -> None:
    # An unsigned header may change freely; a signed one may not.
    ok = call(svc, "PUT", "/a", headers={"Content-Type": "text/plain"}, body=b"x", unsigned={"X-Extra": "1"})
    assert ok[0] == 200
    hdrs = {"Host": HOST, "Content-Type": "text/plain"}
    auth = cos_authorization(
        SID, SKEY, method="PUT", path="/a", params={}, headers={k.lower(): v for k, v in hdrs.items()},
        start=int(NOW) - 1, end=int(NOW) + 60,
    )  # fmt: skip
    tampered = {**hdrs, "Content-Type": "text/html", "Authorization": auth}
    assert error_code(svc.handle("PUT", HOST, "/a", "", tampered, b"x")) == "SignatureDoesNotMatch"
    # A signed parameter changed after signing fails too.
    auth = cos_authorization(
        SID, SKEY, method="GET", path="/", params={"prefix": "a"}, headers={"host": HOST},
        start=int(NOW) - 1, end=int(NOW) + 60,
    )  # fmt: skip
    good = svc.handle("GET", HOST, "/", "prefix=a", {"Host": HOST, "Authorization": auth}, b"")
    assert good[0] == 200
    bad = svc.handle("GET", HOST, "/", "prefix=b", {"Host": HOST, "Authorization": auth}, b"")
    assert error_code(bad) == "SignatureDoesNotMatch"


def test_listed_header_missing_from_request(svc: CosService) -> None:
    auth = cos_authorization(
        SID, SKEY, method="GET", path="/a", params={}, headers={"host": HOST, "x-cos-meta-a": "1"},
        start=int(NOW) - 1, end=int(NOW) + 60,
    )  # fmt: skip
    reply = svc.handle("GET", HOST, "/a", "", {"Host": HOST, "Authorization": auth}, b"")
    assert error_code(reply) == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "auth",
    [
        "garbage",
        "q-sign-algorithm=sha1&q-ak=AKIDTESTCOS",
        "q-sign-algorithm=md5&q-ak=AKIDTESTCOS&q-sign-time=1;2&q-key-time=1;2&q-signature=ab",
        "q-sign-algorithm=sha1&q-ak=AKIDTESTCOS&q-sign-time=x;y&q-key-time=x;y&q-signature=ab",
        "q-sign-algorithm=sha1&q-ak=AKIDTESTCOS&q-sign-time=9;1&q-key-time=9;1&q-signature=ab",
    ],
)
def test_malformed_authorization(svc: CosService, auth: str) -> None:
    reply = svc.handle("GET", HOST, "/a", "", {"Host": HOST, "Authorization": auth}, b"")
    assert reply[0] == 403
    assert error_code(reply) == "AccessDenied"


def test_security_token_required_and_checked(clock: Clock) -> None:
    svc = CosService(SID, SKEY, clock=clock, token="session-token-1")
    missing = call(svc, "PUT", "/a", body=b"x")
    assert (missing[0], error_code(missing)) == (403, "InvalidToken")
    wrong = call(svc, "PUT", "/a", body=b"x", headers={"x-cos-security-token": "session-token-2"})
    assert (wrong[0], error_code(wrong)) == (403, "InvalidToken")
    assert call(svc, "PUT", "/a", body=b"x", headers={"x-cos-security-token": "session-token-1"})[0] == 200
    assert svc.objects("state-1250000000") == {"a": b"x"}


def test_added_credential(svc: CosService) -> None:
    svc.add_credential("AKIDSECOND", "second-key")
    assert call(svc, "PUT", "/a", body=b"x", secret_id="AKIDSECOND", secret_key="second-key")[0] == 200


def test_presigned_query_authorization(svc: CosService) -> None:
    call(svc, "PUT", "/p", body=b"presigned")
    auth = cos_authorization(
        SID, SKEY, method="GET", path="/p", params={}, headers={"host": HOST},
        start=int(NOW) - 1, end=int(NOW) + 60,
    )  # fmt: skip
    query = urlencode(dict(part.split("=", 1) for part in auth.split("&")))
    reply = svc.handle("GET", HOST, "/p", query, {"Host": HOST}, b"")
    assert (reply[0], reply[2]) == (200, b"presigned")
    broken = query.replace("q-signature=", "q-signature=0")
    assert error_code(svc.handle("GET", HOST, "/p", broken, {"Host": HOST}, b"")) == "SignatureDoesNotMatch"


# -- objects -------------------------------------------------------------------------------------------


def test_put_get_head_delete_round_trip(svc: CosService) -> None:
    body = b'{"ledger": 1}'
    put = call(
        svc,
        "PUT",
        "/state/ledger.json",
        headers={"Content-Type": "application/json", "x-cos-meta-schema": "3", "Cache-Control": "no-cache"},
        body=body,
    )
    assert put[0] == 200
    assert put[1]["ETag"] == '"' + hashlib.md5(body).hexdigest() + '"'
    assert put[1]["x-cos-hash-crc64ecma"] == str(crc64_ecma(body))
    assert put[1]["x-cos-request-id"]
    status, out, payload = call(svc, "GET", "/state/ledger.json")
    assert (status, payload) == (200, body)
    assert out["Content-Type"] == "application/json"
    assert out["ETag"] == put[1]["ETag"]
    assert out["x-cos-meta-schema"] == "3"
    assert out["Cache-Control"] == "no-cache"
    assert out["Last-Modified"] == formatdate(NOW, usegmt=True)
    assert out["Content-Length"] == str(len(body))
    status, out, payload = call(svc, "HEAD", "/state/ledger.json")
    assert (status, payload, out["Content-Length"]) == (200, b"", str(len(body)))
    assert call(svc, "DELETE", "/state/ledger.json")[0] == 204
    assert call(svc, "DELETE", "/state/ledger.json")[0] == 204  # deleting twice is fine
    gone = call(svc, "GET", "/state/ledger.json")
    assert (gone[0], error_code(gone)) == (404, "NoSuchKey")
    head = call(svc, "HEAD", "/state/ledger.json")
    assert (head[0], head[2]) == (404, b"")


def test_default_content_type_and_response_overrides(svc: CosService) -> None:
    call(svc, "PUT", "/blob", body=b"x")
    assert call(svc, "GET", "/blob")[1]["Content-Type"] == "application/octet-stream"
    query = "response-content-type=text%2Fplain&response-content-disposition=attachment"
    out = call(svc, "GET", "/blob", query=query)[1]
    assert out["Content-Type"] == "text/plain"
    assert out["Content-Disposition"] == "attachment"


def test_unicode_and_reserved_keys(svc: CosService) -> None:
    key = "dir/名 字+a b%?#.json"
    path = "/" + quote(key, safe="/-_.~")
    assert call(svc, "PUT", path, body=b"k")[0] == 200
    assert svc.objects("state-1250000000") == {key: b"k"}
    assert call(svc, "GET", path)[2] == b"k"


def test_forbid_overwrite(svc: CosService) -> None:
    forbid = {"x-cos-forbid-overwrite": "true"}
    assert call(svc, "PUT", "/claim", headers=forbid, body=b"first")[0] == 200
    again = call(svc, "PUT", "/claim", headers=forbid, body=b"second")
    assert (again[0], error_code(again)) == (409, "FileAlreadyExists")
    assert call(svc, "GET", "/claim")[2] == b"first"
    assert call(svc, "PUT", "/claim", headers={"x-cos-forbid-overwrite": "false"}, body=b"third")[0] == 200
    assert call(svc, "GET", "/claim")[2] == b"third"


def test_forbid_overwrite_is_atomic_across_threads(svc: CosService) -> None:
    results: list[int] = []
    barrier = threading.Barrier(16)

    def racer(n: int) -> None:
        barrier.wait()
        results.append(call(svc, "PUT", "/lock", headers={"x-cos-forbid-overwrite": "true"}, body=b"%d" % n)[0])

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 15


def test_content_md5(svc: CosService) -> None:
    good = {"Content-MD5": "mQ/fVh815F3k6TAUm8m0eg=="}
    assert call(svc, "PUT", "/m", headers=good, body=b"ObjectContent")[0] == 200
    bad = call(svc, "PUT", "/m", headers=good, body=b"ObjectContenT")
    assert (bad[0], error_code(bad)) == (400, "BadDigest")
    junk = call(svc, "PUT", "/m", headers={"Content-MD5": "not base64!"}, body=b"x")
    assert (junk[0], error_code(junk)) == (400, "InvalidDigest")
    assert call(svc, "GET", "/m")[2] == b"ObjectContent"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_conditional_reads(svc: CosService, method: str) -> None:
    etag = call(svc, "PUT", "/c", body=b"v1")[1]["ETag"]
    other = '"00000000000000000000000000000000"'
    not_modified = call(svc, method, "/c", headers={"If-None-Match": etag})
    assert (not_modified[0], not_modified[2]) == (304, b"")
    assert not_modified[1]["ETag"] == etag
    assert not_modified[1]["Content-Length"] == "2"  # the 200's length, as RFC 9110 allows
    assert call(svc, method, "/c", headers={"If-None-Match": other})[0] == 200
    assert call(svc, method, "/c", headers={"If-None-Match": "*"})[0] == 304
    failed = call(svc, method, "/c", headers={"If-Match": other})
    assert failed[0] == 412
    if method == "GET":
        assert error_code(failed) == "PreconditionFailed"
    assert call(svc, method, "/c", headers={"If-Match": etag})[0] == 200
    assert call(svc, method, "/c", headers={"If-Match": etag.strip('"')})[0] == 200
    assert call(svc, method, "/c", headers={"If-Match": f"{other}, {etag}"})[0] == 200
    later = formatdate(NOW + 60, usegmt=True)
    earlier = formatdate(NOW - 60, usegmt=True)
    assert call(svc, method, "/c", headers={"If-Modified-Since": later})[0] == 304
    assert call(svc, method, "/c", headers={"If-Modified-Since": earlier})[0] == 200
    assert call(svc, method, "/c", headers={"If-Unmodified-Since": earlier})[0] == 412
    assert call(svc, method, "/c", headers={"If-Unmodified-Since": later})[0] == 200
    # If-Match decides alone; an unparsable date is ignored.
    assert call(svc, method, "/c", headers={"If-Match": etag, "If-Unmodified-Since": earlier})[0] == 200
    assert call(svc, method, "/c", headers={"If-Modified-Since": "yesterday"})[0] == 200


def test_conditions_follow_the_latest_write(svc: CosService) -> None:
    first = call(svc, "PUT", "/c", body=b"v1")[1]["ETag"]
    call(svc, "PUT", "/c", body=b"v2")
    assert call(svc, "GET", "/c", headers={"If-None-Match": first})[2] == b"v2"
    assert call(svc, "GET", "/c", headers={"If-Match": first})[0] == 412


def test_range_reads(svc: CosService) -> None:
    call(svc, "PUT", "/r", body=b"0123456789")
    status, out, payload = call(svc, "GET", "/r", headers={"Range": "bytes=2-4"})
    assert (status, payload, out["Content-Range"], out["Content-Length"]) == (206, b"234", "bytes 2-4/10", "3")
    assert call(svc, "GET", "/r", headers={"Range": "bytes=7-"})[2] == b"789"
    assert call(svc, "GET", "/r", headers={"Range": "bytes=-3"})[2] == b"789"
    assert call(svc, "GET", "/r", headers={"Range": "bytes=5-100"})[2] == b"56789"
    assert call(svc, "GET", "/r", headers={"Range": "items=1-2"})[0] == 200
    unsatisfiable = call(svc, "GET", "/r", headers={"Range": "bytes=10-"})
    assert (unsatisfiable[0], error_code(unsatisfiable)) == (416, "InvalidRange")
    assert unsatisfiable[1]["Content-Range"] == "bytes */10"


def test_missing_bucket_and_buckets(svc: CosService) -> None:
    for method in ("GET", "DELETE"):
        reply = call(svc, method, "/x", host=OTHER_HOST)
        assert (reply[0], error_code(reply)) == (404, "NoSuchBucket")
    assert error_code(call(svc, "GET", "/", host=OTHER_HOST)) == "NoSuchBucket"
    assert call(svc, "HEAD", "/", host=OTHER_HOST)[0] == 404
    assert call(svc, "PUT", "/", host=OTHER_HOST)[0] == 200
    assert call(svc, "HEAD", "/", host=OTHER_HOST)[0] == 200
    assert error_code(call(svc, "PUT", "/", host=OTHER_HOST)) == "BucketAlreadyExists"
    call(svc, "PUT", "/x", host=OTHER_HOST, body=b"x")
    assert error_code(call(svc, "DELETE", "/", host=OTHER_HOST)) == "BucketNotEmpty"
    call(svc, "DELETE", "/x", host=OTHER_HOST)
    assert call(svc, "DELETE", "/", host=OTHER_HOST)[0] == 204
    # The same name under another region is not the same bucket.
    call(svc, "PUT", "/x", body=b"x")
    wrong_region = HOST.replace("ap-guangzhou", "ap-beijing")
    assert error_code(call(svc, "GET", "/x", host=wrong_region)) == "NoSuchBucket"


def test_buckets_can_be_required_to_exist(clock: Clock) -> None:
    svc = CosService(SID, SKEY, clock=clock, auto_create_buckets=False)
    assert error_code(call(svc, "PUT", "/x", body=b"x")) == "NoSuchBucket"
    assert svc.create_bucket("state-1250000000", "ap-guangzhou") is True
    assert svc.create_bucket("state-1250000000", "ap-guangzhou") is False
    assert call(svc, "PUT", "/x", body=b"x")[0] == 200


def test_unsupported_requests(svc: CosService) -> None:
    reply = call(svc, "GET", "/x", query="acl")
    assert (reply[0], error_code(reply)) == (501, "NotImplemented")
    reply = call(svc, "POST", "/x")
    assert (reply[0], error_code(reply)) == (405, "MethodNotAllowed")
    reply = svc.handle("GET", "example.com", "/x", "", {"Host": "example.com"}, b"")
    assert (reply[0], error_code(reply)) == (400, "InvalidBucketName")
    reply = call(svc, "PUT", "/" + "k" * 851, body=b"x")
    assert (reply[0], error_code(reply)) == (400, "KeyTooLong")


def test_metadata_size_limit(svc: CosService) -> None:
    reply = call(svc, "PUT", "/big", headers={"x-cos-meta-big": "v" * 2100}, body=b"x")
    assert (reply[0], error_code(reply)) == (400, "MetadataTooLarge")


# -- listing -------------------------------------------------------------------------------------------


def list_page(svc: CosService, **params: str) -> ET.Element:
    status, out, payload = call(svc, "GET", "/", query=urlencode(params))
    assert status == 200, payload
    assert out["Content-Type"] == "application/xml"
    return parse_xml(payload)


def test_list_objects_document(svc: CosService) -> None:
    for key in ("a/1", "a/2", "b", "c/d/e"):
        call(svc, "PUT", "/" + key, body=key.encode())
    root = list_page(svc, delimiter="/")
    assert root.tag == "ListBucketResult"
    assert root.findtext("Name") == "state-1250000000"
    assert root.findtext("IsTruncated") == "false"
    assert root.find("NextMarker") is None
    assert [c.findtext("Prefix") for c in root.iter("CommonPrefixes")] == ["a/", "c/"]
    contents = root.findall("Contents")
    assert [c.findtext("Key") for c in contents] == ["b"]
    assert contents[0].findtext("Size") == "1"
    assert contents[0].findtext("ETag") == call(svc, "HEAD", "/b")[1]["ETag"]
    assert contents[0].findtext("LastModified") == "2023-11-14T22:13:20.000Z"
    assert contents[0].findtext("StorageClass") == "STANDARD"
    root = list_page(svc, prefix="a/", **{"max-keys": "1"})
    assert [c.findtext("Key") for c in root.findall("Contents")] == ["a/1"]
    assert (root.findtext("IsTruncated"), root.findtext("NextMarker")) == ("true", "a/1")
    root = list_page(svc, prefix="a/", marker="a/1")
    assert [c.findtext("Key") for c in root.findall("Contents")] == ["a/2"]


def test_list_objects_url_encoding(svc: CosService) -> None:
    key = "dir/a b+c&名.json"
    call(svc, "PUT", "/" + quote(key, safe="/"), body=b"x")
    root = list_page(svc, **{"encoding-type": "url", "prefix": "dir/"})
    assert root.findtext("EncodingType") == "url"
    assert [unquote(c.findtext("Key") or "") for c in root.findall("Contents")] == [key]
    assert "+" not in (root.find("Contents/Key").text or "")  # type: ignore[union-attr]
    assert error_code(call(svc, "GET", "/", query="encoding-type=xml")) == "InvalidArgument"
    assert error_code(call(svc, "GET", "/", query="max-keys=-1")) == "InvalidArgument"


def expected_listing(keys: set[str], prefix: str, delimiter: str) -> list[str]:
    entries = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        entries.add(key[: cut + len(delimiter)] if cut >= 0 else key)
    return sorted(entries)


@settings(max_examples=150, deadline=None)
@given(
    keys=st.sets(st.text(alphabet="ab/", min_size=1, max_size=5), max_size=25),
    prefix=st.sampled_from(["", "a", "a/", "b/"]),
    delimiter=st.sampled_from(["", "/", "b"]),
    max_keys=st.integers(min_value=1, max_value=4),
)
def test_pagination_matches_a_model(keys: set[str], prefix: str, delimiter: str, max_keys: int) -> None:
    svc = CosService(SID, SKEY, clock=Clock())
    svc.create_bucket("state-1250000000", "ap-guangzhou")
    for key in keys:
        call(svc, "PUT", "/" + quote(key, safe="/"), body=b"")
    seen: list[str] = []
    marker = ""
    for _ in range(100):
        root = list_page(svc, prefix=prefix, delimiter=delimiter, marker=marker, **{"max-keys": str(max_keys)})
        page = [c.findtext("Key") or "" for c in root.findall("Contents")]
        page += [c.findtext("Prefix") or "" for c in root.findall("CommonPrefixes")]
        assert len(page) <= max_keys
        seen += page
        if root.findtext("IsTruncated") == "false":
            assert root.find("NextMarker") is None
            break
        marker = root.findtext("NextMarker") or ""
        assert marker == max(page)
    assert sorted(seen) == seen or delimiter  # keys and prefixes interleave by name
    assert sorted(seen) == expected_listing(keys, prefix, delimiter)
    assert len(seen) == len(set(seen))


# -- persistence, faults, helpers ----------------------------------------------------------------------


def test_objects_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    first = CosService(SID, SKEY, clock=clock, data_dir=tmp_path)
    put = call(first, "PUT", "/s/a.json", headers={"Content-Type": "application/json", "x-cos-meta-k": "v"}, body=b"{}")
    call(first, "PUT", "/s/b.json", body=b"gone")
    call(first, "DELETE", "/s/b.json")
    call(first, "PUT", "/", host=OTHER_HOST)
    second = CosService(SID, SKEY, clock=Clock(NOW + 3600), data_dir=tmp_path)
    status, out, payload = call(second, "GET", "/s/a.json", window=(int(NOW), int(NOW) + 7200))
    assert (status, payload) == (200, b"{}")
    assert out["ETag"] == put[1]["ETag"]
    assert out["Content-Type"] == "application/json"
    assert out["x-cos-meta-k"] == "v"
    assert out["Last-Modified"] == formatdate(NOW, usegmt=True)
    assert second.objects("state-1250000000") == {"s/a.json": b"{}"}
    assert call(second, "HEAD", "/", host=OTHER_HOST, window=(int(NOW), int(NOW) + 7200))[0] == 200
    assert not list(tmp_path.rglob("*.tmp"))


def test_corrupt_object_file_is_reported(tmp_path: Path, clock: Clock) -> None:
    first = CosService(SID, SKEY, clock=clock, data_dir=tmp_path)
    call(first, "PUT", "/a", body=b"x")
    (victim,) = tmp_path.rglob("*.obj")
    victim.write_bytes(b"not json\nx")
    with pytest.raises(ValueError, match="corrupt"):
        CosService(SID, SKEY, clock=clock, data_dir=tmp_path)


def test_fault_hook(clock: Clock) -> None:
    asked: list[str] = []
    slept: list[float] = []
    plan: dict[str, object] = {
        "PutObject": 503,
        "GetObject": "InternalError",
        "HeadObject": {"latency": 0.25},
        "GetBucket": {"http_status": 500, "code": "InternalError", "message": "boom", "latency": 0.5},
    }

    def fault(operation: str) -> object:
        asked.append(operation)
        return plan.get(operation)

    svc = CosService(SID, SKEY, clock=clock, fault=fault, sleep=slept.append)
    put = call(svc, "PUT", "/f", body=b"x")
    assert (put[0], error_code(put)) == (503, "SlowDown")
    assert svc.objects("state-1250000000") == {}
    plan.pop("PutObject")
    assert call(svc, "PUT", "/f", body=b"x")[0] == 200
    get = call(svc, "GET", "/f")
    assert (get[0], error_code(get)) == (500, "InternalError")
    assert call(svc, "HEAD", "/f")[0] == 200
    listing = call(svc, "GET", "/")
    assert (listing[0], parse_xml(listing[2]).findtext("Message")) == (500, "boom")
    assert call(svc, "DELETE", "/f")[0] == 204
    assert slept == [0.25, 0.5]
    assert asked == ["PutObject", "PutObject", "GetObject", "HeadObject", "GetBucket", "DeleteObject"]
    # Unauthenticated requests never reach the hook.
    call(svc, "GET", "/f", sign=False)
    assert len(asked) == 6


@dataclass(frozen=True)
class ScenarioFault:
    """The shape of sandbox.scenario.Fault, the sandbox's scenario-driven instruction."""

    latency: float = 0.0
    code: str | None = None
    message: str = ""
    http_status: int | None = None


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        (ScenarioFault(latency=0.1), (0.1, None, "", "")),
        (ScenarioFault(code="SlowDown", message="slow"), (0.0, 503, "SlowDown", "slow")),
        (ScenarioFault(http_status=500), (0.0, 500, "InternalError", FAULT_MESSAGES["InternalError"])),
        ("ServiceUnavailable", (0.0, 503, "ServiceUnavailable", FAULT_MESSAGES["ServiceUnavailable"])),
        (429, (0.0, 429, "InjectedFault", "Injected fault")),
    ],
)
def test_fault_instruction_forms(instruction: object, expected: tuple[float, int | None, str, str]) -> None:
    assert interpret_fault(instruction) == expected


@pytest.mark.parametrize("bad", [True, 1.5, ["SlowDown"], {"stauts": 503}])
def test_bad_fault_instructions_are_loud(bad: object) -> None:
    with pytest.raises(ValueError, match="fault"):
        interpret_fault(bad)


def test_crc64_matches_the_sdk_definition() -> None:
    reference = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)
    for data in (b"", b"123456789", bytes(range(256)) * 5):
        assert crc64_ecma(data) == reference(data)
    assert crc64_ecma(b"123456789") == 0x995DC9BBDF1939FA
