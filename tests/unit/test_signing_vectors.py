"""Golden vectors from the reference reproduce exactly (TC3 A-D, v1 HmacSHA1, COS PUT/GET)."""

from __future__ import annotations

import hashlib
from typing import TypedDict

import pytest

from lib.signing import cos as cos_steps
from lib.signing import cos_authorization, tc3_headers, v1_params
from lib.signing import tc3 as tc3_steps
from lib.signing import v1 as v1_steps

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
CVM_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'


class _Tc3Request(TypedDict):
    """The request fields of a TC3 vector, as keyword arguments of ``tc3_headers``."""

    service: str
    host: str
    action: str
    version: str
    region: str
    timestamp: int
    content_type: str


CVM: _Tc3Request = {
    "service": "cvm",
    "host": "cvm.tencentcloudapi.com",
    "action": "DescribeInstances",
    "version": "2017-03-12",
    "region": "ap-guangzhou",
    "timestamp": 1551113065,
    "content_type": "application/json; charset=utf-8",
}


def _signature(headers: dict[str, str]) -> str:
    return headers["Authorization"].rsplit("Signature=", 1)[1]


def test_cvm_payload_is_the_86_bytes_of_the_reference() -> None:
    assert len(CVM_PAYLOAD) == 86
    assert tc3_steps.sha256_hex(CVM_PAYLOAD) == ("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")


def test_vector_a_steps() -> None:
    canonical = tc3_steps.canonical_request(
        "POST",
        "",
        {"content-type": CVM["content_type"], "host": CVM["host"]},
        tc3_steps.sha256_hex(CVM_PAYLOAD),
    )
    assert tc3_steps.sha256_hex(canonical.encode()) == (
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    secret_date = tc3_steps._hmac_sha256(("TC3" + SECRET_KEY).encode(), "2019-02-25")
    assert secret_date.hex() == "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a"
    key = tc3_steps.derived_key(SECRET_KEY, "2019-02-25", "cvm")
    assert key.hex() == "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1"


@pytest.mark.parametrize(
    ("secret_id", "secret_key", "expected"),
    [
        (SECRET_ID, SECRET_KEY, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"),
        (
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            "Gu5t9xGARNpq86cd98joQYCN3*******",
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
        ),
    ],
)
def test_vector_a_both_keys(secret_id: str, secret_key: str, expected: str) -> None:
    headers = tc3_headers(secret_id, secret_key, payload=CVM_PAYLOAD, **CVM)
    assert _signature(headers) == expected
    assert headers["Authorization"] == (
        f"TC3-HMAC-SHA256 Credential={secret_id}/2019-02-25/cvm/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={expected}"
    )
    assert headers["X-TC-Region"] == "ap-guangzhou"
    assert headers["X-TC-Timestamp"] == "1551113065"
    assert headers["Content-Type"] == CVM["content_type"]
    assert "X-TC-Token" not in headers


@pytest.mark.parametrize(
    ("secret_key", "expected"),
    [
        ("*" * 32, "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"),
        (SECRET_KEY, "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26"),
        ("Gu5t9xGARNpq86cd98joQYCN3*******", "be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3"),
    ],
)
def test_vector_b_signs_action(secret_key: str, expected: str) -> None:
    headers = tc3_headers(SECRET_ID, secret_key, payload=CVM_PAYLOAD, sign_action=True, **CVM)
    assert "SignedHeaders=content-type;host;x-tc-action," in headers["Authorization"]
    assert _signature(headers) == expected


def test_vector_c_get() -> None:
    headers = tc3_headers(
        SECRET_ID,
        SECRET_KEY,
        service="cvm",
        host="cvm.tencentcloudapi.com",
        action="DescribeInstances",
        version="2017-03-12",
        payload=b"",
        timestamp=1551113065,
        method="GET",
        query="Limit=10&Offset=0",
        content_type="application/x-www-form-urlencoded",
    )
    assert _signature(headers) == "9867b291561db17491c01f0d7f06be3ccd45e91ecd3ce5434330e00ece036f64"
    # GET allows only the form content type: leaving the JSON default gives the same request.
    default_ct = tc3_headers(
        SECRET_ID,
        SECRET_KEY,
        service="cvm",
        host="cvm.tencentcloudapi.com",
        action="DescribeInstances",
        version="2017-03-12",
        payload=b"",
        timestamp=1551113065,
        method="GET",
        query="Limit=10&Offset=0",
    )
    assert default_ct == headers


def test_vector_d_teo_describe_billing_data() -> None:
    body = (
        b'{"StartTime": "2025-07-01T00:00:00+08:00", "EndTime": "2025-07-02T00:00:00+08:00", '
        b'"ZoneIds": ["*"], "MetricName": "acc_flux", "Interval": "day"}'
    )
    assert tc3_steps.sha256_hex(body) == "ac0c60bb6823f3a0d3b6832e1364debc710c84ea2d37e08f052934e6faee7d40"
    headers = tc3_headers(
        SECRET_ID,
        SECRET_KEY,
        service="teo",
        host="teo.tencentcloudapi.com",
        action="DescribeBillingData",
        version="2022-09-01",
        payload=body,
        timestamp=1751328000,
        token="tok",
        language="en-US",
    )
    assert _signature(headers) == "99b2ec1c997ec33966a2bf4069660df788c89a4494eb3d7c8aebe17f45ee9a14"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-TC-Token"] == "tok"
    assert headers["X-TC-Language"] == "en-US"
    assert "X-TC-Region" not in headers


def test_v1_hmacsha1_official_example() -> None:
    params = {
        "Action": "DescribeInstances",
        "InstanceIds.0": "ins-09dx96dg",
        "Limit": "20",
        "Offset": "0",
        "Region": "ap-guangzhou",
        "Version": "2017-03-12",
    }
    # The doc's example string to sign carries no SignatureMethod (absent means HmacSHA1).
    sts = v1_steps.string_to_sign(
        "GET",
        "cvm.tencentcloudapi.com",
        {**params, "Nonce": "11886", "SecretId": SECRET_ID, "Timestamp": "1465185768"},
    )
    assert sts == (
        "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20"
        "&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
        "&Timestamp=1465185768&Version=2017-03-12"
    )
    assert v1_steps.signature(SECRET_KEY, sts, "HmacSHA1") == "EliP9YW3pW28FpsEdkXt/+WcGeI="


def test_v1_params_signs_its_own_signature_method() -> None:
    full = v1_params(
        SECRET_ID,
        SECRET_KEY,
        host="cvm.tencentcloudapi.com",
        params={"Action": "DescribeInstances", "InstanceIds": ["ins-09dx96dg"], "Version": "2017-03-12"},
        timestamp=1465185768,
        nonce=11886,
        method="GET",
        signature_method="HmacSHA1",
        token="tok",
    )
    assert full["InstanceIds.0"] == "ins-09dx96dg"
    assert full["SignatureMethod"] == "HmacSHA1"
    assert full["Token"] == "tok"
    expected = v1_steps.signature(
        SECRET_KEY, v1_steps.string_to_sign("GET", "cvm.tencentcloudapi.com", full), "HmacSHA1"
    )
    assert full["Signature"] == expected
    with pytest.raises(ValueError, match="HmacSHA1 or HmacSHA256"):
        v1_params(SECRET_ID, SECRET_KEY, host="h", params={}, timestamp=1, nonce=1, signature_method="MD5")


COS_ID = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
COS_KEY = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz"
COS_HOST = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"


def test_cos_put_example() -> None:
    headers = {
        "Date": "Thu, 16 May 2019 06:45:51 GMT",
        "Host": COS_HOST,
        "Content-Type": "text/plain",
        "Content-Length": "13",
        "Content-MD5": "mQ/fVh815F3k6TAUm8m0eg==",
        "x-cos-acl": "private",
        "x-cos-grant-read": 'uin="100000000011"',
    }
    assert cos_steps.sign_key(COS_KEY, "1557989151;1557996351") == "eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f"
    auth = cos_authorization(
        COS_ID,
        COS_KEY,
        method="PUT",
        path="/exampleobject(腾讯云)",
        params={},
        headers=headers,  # type: ignore[arg-type]
        start=1557989151,
        end=1557996351,
    )
    assert auth == (
        "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
        "&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351"
        "&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read"
        "&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172"
    )


def test_cos_get_example() -> None:
    params = {"response-content-type": "application/octet-stream", "response-cache-control": "max-age=600"}
    headers = {"Date": "Thu, 16 May 2019 06:55:53 GMT", "Host": COS_HOST}
    http = cos_steps.http_string("GET", "/exampleobject(腾讯云)", params, headers)
    assert hashlib.sha1(http.encode()).hexdigest() == "54ecfe22f59d3514fdc764b87a32d8133ea611e6"
    auth = cos_authorization(
        COS_ID,
        COS_KEY,
        method="GET",
        path="/exampleobject(腾讯云)",
        params=params,  # type: ignore[arg-type]
        headers=headers,  # type: ignore[arg-type]
        start=1557989753,
        end=1557996953,
    )
    assert "&q-url-param-list=response-cache-control;response-content-type&" in auth
    assert "&q-header-list=date;host&" in auth
    assert auth.endswith("&q-signature=01681b8c9d798a678e43b685a9f1bba0f6c0e012")


def test_cos_older_third_party_vector() -> None:
    auth = cos_authorization(
        COS_ID,
        COS_KEY,
        method="GET",
        path="/testfile",
        params={},
        headers={"host": "bucket1-1254000000.cos.ap-beijing.myqcloud.com", "range": "bytes=0-3"},
        start=1417773892,
        end=1417853898,
    )
    http = cos_steps.http_string(
        "get", "/testfile", {}, {"host": "bucket1-1254000000.cos.ap-beijing.myqcloud.com", "range": "bytes=0-3"}
    )
    assert http == "get\n/testfile\n\nhost=bucket1-1254000000.cos.ap-beijing.myqcloud.com&range=bytes%3D0-3\n"
    assert "q-header-list=host;range" in auth
    assert auth.endswith("&q-signature=4b6cbab14ce01381c29032423481ebffd514e8be")
