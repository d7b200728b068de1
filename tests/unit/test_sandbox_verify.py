"""Server-side signature checks: TC3 and v1, each failure with its documented code."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from lib.signing import tc3_headers, v1_params
from sandbox.verify import AuthError, Credential, verify_tc3, verify_v1

ID, KEY = "AKIDVERIFY", "verify-secret"
CREDS = {ID: Credential(ID, KEY)}
TS = 1_700_000_000
HOST = "teo.tencentcloudapi.com"
BODY = json.dumps({"ZoneIds": ["*"], "MetricName": "acc_flux"}).encode()


def _headers(**kw: object) -> dict[str, str]:
    args: dict[str, object] = {
        "service": "teo",
        "host": HOST,
        "action": "DescribeBillingData",
        "version": "2022-09-01",
        "payload": BODY,
        "timestamp": TS,
    }
    args.update(kw)
    secret_id = str(args.pop("secret_id", ID))
    secret_key = str(args.pop("secret_key", KEY))
    headers = tc3_headers(secret_id, secret_key, **args)  # type: ignore[arg-type]
    return {k.lower(): v for k, v in headers.items()}


def _tc3(
    headers: dict[str, str],
    *,
    body: bytes = BODY,
    now: float = TS,
    method: str = "POST",
    query: str = "",
    creds: dict[str, Credential] = CREDS,
) -> str:
    caller = verify_tc3(
        method=method, path="/", raw_query=query, headers=headers, body=body, credentials=creds, now=now
    )
    return caller.secret_id


def _code(fn: object, *args: object, **kw: object) -> str:
    with pytest.raises(AuthError) as info:
        fn(*args, **kw)  # type: ignore[operator]
    return info.value.code


def test_a_correct_tc3_request_passes_and_names_its_service() -> None:
    headers = _headers()
    caller = verify_tc3(method="POST", path="/", raw_query="", headers=headers, body=BODY, credentials=CREDS, now=TS)
    assert (caller.secret_id, caller.service, caller.method) == (ID, "teo", "TC3-HMAC-SHA256")


def test_signed_action_header_and_get_queries_are_accepted() -> None:
    assert _tc3(_headers(sign_action=True)) == ID
    query = urlencode({"ZoneIds.0": "*", "MetricName": "acc_flux"})
    get = _headers(method="GET", query=query, payload=b"")
    assert _tc3(get, body=b"", method="GET", query=query) == ID
    assert _code(_tc3, get, body=b"", method="GET", query=query + "&Limit=1") == "AuthFailure.SignatureFailure"


def test_values_sent_in_mixed_case_are_accepted_either_way() -> None:
    # The SDK signs header values as sent; the spec lower-cases them. Both must verify.
    headers = _headers(host="Teo.TencentCloudAPI.com")
    assert _tc3(headers) == ID


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda h: h.update(authorization="TC3-HMAC-SHA256 Credential=broken"), "AuthFailure.InvalidAuthorization"),
        (lambda h: h.update(authorization=h["authorization"].replace(", ", ",")), "AuthFailure.InvalidAuthorization"),
        (
            lambda h: h.update(authorization=h["authorization"].replace("content-type;host", "host")),
            "AuthFailure.InvalidAuthorization",
        ),
        (lambda h: h.pop("x-tc-timestamp"), "MissingParameter"),
        (lambda h: h.update({"x-tc-timestamp": "soon"}), "InvalidParameter"),
        (lambda h: h.update(host="evil.example.com"), "AuthFailure.SignatureFailure"),
        (lambda h: h.update({"content-type": "application/json; charset=utf-8"}), "AuthFailure.SignatureFailure"),
    ],
)
def test_tc3_failures(mutate: object, code: str) -> None:
    headers = _headers()
    mutate(headers)  # type: ignore[operator]
    assert _code(_tc3, headers) == code


def test_unknown_id_wrong_key_tampered_body_and_scope_date() -> None:
    assert _code(_tc3, _headers(secret_id="AKIDUNKNOWN")) == "AuthFailure.SecretIdNotFound"
    assert _code(_tc3, _headers(secret_key="wrong")) == "AuthFailure.SignatureFailure"
    assert _code(_tc3, _headers(), body=BODY + b" ") == "AuthFailure.SignatureFailure"
    shifted = _headers()
    shifted["x-tc-timestamp"] = str(TS - 86400)  # still a valid signature would need yesterday's scope
    assert _code(_tc3, shifted, now=TS - 86400) == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(("skew", "ok"), [(0, True), (300, True), (-300, True), (301, False), (-301, False)])
def test_five_minutes_of_skew_either_way(skew: int, ok: bool) -> None:
    headers = _headers()
    if ok:
        assert _tc3(headers, now=TS + skew) == ID
    else:
        assert _code(_tc3, headers, now=TS + skew) == "AuthFailure.SignatureExpire"


def test_session_tokens() -> None:
    creds = {ID: Credential(ID, KEY, token="tok-123")}
    assert _tc3(_headers(token="tok-123"), creds=creds) == ID
    assert _code(_tc3, _headers(), creds=creds) == "AuthFailure.TokenFailure"
    assert _code(_tc3, _headers(token="tok-999"), creds=creds) == "AuthFailure.TokenFailure"
    assert _tc3(_headers(token="ignored")) == ID  # a permanent key does not need one


def test_unsigned_payload() -> None:
    headers = _headers()
    headers["x-tc-content-sha256"] = "UNSIGNED-PAYLOAD"
    assert _code(_tc3, headers) == "AuthFailure.SignatureFailure"  # signed over the body, not the marker


# --- v1 ---------------------------------------------------------------------------------------------

DOC_ID, DOC_KEY = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
DOC_PARAMS = {
    "Action": "DescribeInstances",
    "InstanceIds.0": "ins-09dx96dg",
    "Limit": "20",
    "Nonce": "11886",
    "Offset": "0",
    "Region": "ap-guangzhou",
    "SecretId": DOC_ID,
    "Timestamp": "1465185768",
    "Version": "2017-03-12",
}


def _v1(
    params: dict[str, str],
    *,
    method: str = "GET",
    host: str = "cvm.tencentcloudapi.com",
    now: float = 1465185768,
    creds: dict[str, Credential] | None = None,
) -> str:
    creds = creds or {DOC_ID: Credential(DOC_ID, DOC_KEY)}
    return verify_v1(method=method, host=host, path="/", params=params, credentials=creds, now=now).method


def test_v1_reference_vectors() -> None:
    assert _v1({**DOC_PARAMS, "Signature": "EliP9YW3pW28FpsEdkXt/+WcGeI="}) == "HmacSHA1"
    sha256 = {
        **DOC_PARAMS,
        "SignatureMethod": "HmacSHA256",
        "Signature": "qwaMxk0NcXl0kw8VKseP3kAXJTW8MuyduO2uDJ69szQ=",
    }
    assert _v1(sha256, method="POST") == "HmacSHA256"


def test_v1_round_trip_and_failures() -> None:
    creds = {ID: Credential(ID, KEY, token="t")}
    params = v1_params(
        ID,
        KEY,
        host="127.0.0.1:9",
        params={
            "Action": "DescribeZones",
            "Version": "2022-09-01",
            "Filters": [{"Name": "zone-id", "Values": ["zone-a"]}],
        },
        timestamp=TS,
        nonce=7,
        method="POST",
        token="t",
    )
    assert _v1(params, method="POST", host="127.0.0.1:9", now=TS, creds=creds) == "HmacSHA256"
    assert _code(_v1, params, method="GET", host="127.0.0.1:9", now=TS, creds=creds) == "AuthFailure.SignatureFailure"
    assert _code(_v1, {**params, "Limit": "5"}, method="POST", host="127.0.0.1:9", now=TS, creds=creds) == (
        "AuthFailure.SignatureFailure"
    )
    assert _code(_v1, params, method="POST", host="127.0.0.1:9", now=TS + 301, creds=creds) == (
        "AuthFailure.SignatureExpire"
    )
    no_token = v1_params(ID, KEY, host="h", params={"Action": "X"}, timestamp=TS, nonce=1)
    assert _code(_v1, no_token, method="POST", host="h", now=TS, creds=creds) == "AuthFailure.TokenFailure"
    missing = {k: v for k, v in params.items() if k != "Signature"}
    assert _code(_v1, missing, now=TS, creds=creds) == "MissingParameter"
    assert _code(_v1, {**params, "SecretId": "AKIDX"}, now=TS, creds=creds) == "AuthFailure.SecretIdNotFound"
