"""The API 3.0 front door: envelope, transport rules, product routing, rate limits, faults, parameters."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from lib.signing import tc3_headers, v1_params
from sandbox.api3 import ApiFailure, RateLimiter, Request, coerce, unflatten
from tests.unit.sandbox_support import (
    HOST,
    SECRET_ID,
    SECRET_KEY,
    WALL,
    api,
    error_code,
    reply_json,
    signed,
    small,
)

ZONES: dict[str, Any] = {}


def test_success_envelope_is_exactly_json() -> None:
    response = reply_json(api().handle(signed("DescribeZones", ZONES)))
    assert response["TotalCount"] == 3
    assert "Error" not in response


def test_error_envelope_shape() -> None:
    status, headers, body = api().handle(signed("DescribeZones", {"Limit": 101}))
    assert status == 200
    assert headers == {"Content-Type": "application/json"}
    doc = json.loads(body)["Response"]
    assert set(doc) == {"Error", "RequestId"}
    assert set(doc["Error"]) == {"Code", "Message"}
    assert doc["Error"]["Code"] == "InvalidParameter"


def test_unsupported_method_and_sizes() -> None:
    request = signed("DescribeZones", ZONES)
    request.method = "PUT"
    assert error_code(api().handle(request)) == "UnsupportedProtocol"
    big_get = Request("GET", "/", "a=" + "x" * 33_000, {"host": HOST}, b"")
    assert error_code(api().handle(big_get)) == "RequestSizeLimitExceeded"
    big_post = signed("DescribeZones", {"Filters": [{"Name": "zone-id", "Values": ["z" * 11_000_000]}]})
    assert error_code(api().handle(big_post)) == "RequestSizeLimitExceeded"
    refused = signed("DescribeZones", ZONES)
    refused.body_too_large = True
    assert error_code(api().handle(refused)) == "RequestSizeLimitExceeded"
    form = Request(
        "POST",
        "/",
        "",
        {"host": HOST, "content-type": "application/x-www-form-urlencoded"},
        b"a=" + b"x" * (1024 * 1024),
    )
    assert error_code(api().handle(form)) == "RequestSizeLimitExceeded"


def test_actions_versions_and_products() -> None:
    assert error_code(api().handle(signed("DescribeNothing", {}))) == "InvalidAction"
    assert error_code(api().handle(signed("DescribeZones", {}, version="2020-01-01"))) == "NoSuchVersion"
    missing = signed("DescribeZones", {})
    del missing.headers["x-tc-action"]
    assert error_code(api().handle(missing)) == "MissingParameter"
    # The credential scope names the service; it must own the action.
    assert error_code(api().handle(signed("DescribeBillingData", {}, service="billing", version="2022-09-01"))) == (
        "AuthFailure.SignatureFailure"
    )
    assert error_code(api().handle(signed("DescribeInstances", {}, service="cvm", version="2017-03-12"))) == (
        "NoSuchProduct"
    )
    # A real host name routes by its first label, and must agree with the scope.
    on_host = signed("DescribeAccountBalance", {}, service="teo", host="billing.tencentcloudapi.com")
    assert error_code(api().handle(on_host)) == "AuthFailure.SignatureFailure"
    ok = signed("DescribeAccountBalance", {}, service="billing", host="billing.tencentcloudapi.com")
    assert error_code(api().handle(ok)) is None


def test_parameters_are_checked_against_the_action() -> None:
    assert error_code(api().handle(signed("DescribeZones", {"Colour": "red"}))) == "UnknownParameter"
    assert error_code(api().handle(signed("DescribeZones", {"Limit": "ten"}))) == "InvalidParameter"
    assert error_code(api().handle(signed("DescribeZones", {"Filters": {"Name": "x"}}))) == "InvalidParameter"
    body = b"{not json"
    headers = tc3_headers(
        SECRET_ID,
        SECRET_KEY,
        service="teo",
        host=HOST,
        action="DescribeZones",
        version="2022-09-01",
        payload=body,
        timestamp=int(WALL),
    )
    raw = Request("POST", "/", "", {k.lower(): v for k, v in headers.items()}, body)
    assert error_code(api().handle(raw)) == "InvalidParameter"
    listed = json.dumps([1]).encode()
    headers = tc3_headers(
        SECRET_ID,
        SECRET_KEY,
        service="teo",
        host=HOST,
        action="DescribeZones",
        version="2022-09-01",
        payload=listed,
        timestamp=int(WALL),
    )
    assert error_code(api().handle(Request("POST", "/", "", {k.lower(): v for k, v in headers.items()}, listed))) == (
        "InvalidParameter"
    )


def test_unflatten_and_coerce() -> None:
    flat = {"ZoneIds.1": "b", "ZoneIds.0": "a", "Filters.0.Type": "host", "Filters.0.Value": "x", "Limit": "5"}
    nested = unflatten(flat)
    assert nested == {"ZoneIds": ["a", "b"], "Filters": [{"Type": "host", "Value": "x"}], "Limit": "5"}
    schema = {"ZoneIds": [str], "Filters": [{"Type": str, "Value": str}], "Limit": int, "Fuzzy": bool}
    assert coerce({**nested, "Fuzzy": "true"}, schema, from_strings=True)["Limit"] == 5
    with pytest.raises(ApiFailure, match="UnknownParameter"):
        coerce({"Filters": [{"Type": "host", "Colour": "red"}]}, schema, from_strings=False)
    with pytest.raises(ApiFailure, match="boolean"):
        coerce({"Fuzzy": "perhaps"}, schema, from_strings=True)


def test_get_and_v1_requests_reach_the_same_action() -> None:
    query = urlencode({"Limit": "2", "Filters.0.Name": "zone-id", "Filters.0.Values.0": "zone-a"})
    headers = tc3_headers(
        SECRET_ID,
        SECRET_KEY,
        service="teo",
        host=HOST,
        action="DescribeZones",
        version="2022-09-01",
        payload=b"",
        timestamp=int(WALL),
        method="GET",
        query=query,
    )
    get = Request("GET", "/", query, {k.lower(): v for k, v in headers.items()}, b"")
    assert reply_json(api().handle(get))["TotalCount"] == 1
    for method in ("GET", "POST"):
        params = v1_params(
            SECRET_ID,
            SECRET_KEY,
            host=HOST,
            method=method,
            timestamp=int(WALL),
            nonce=42,
            params={"Action": "DescribeZones", "Version": "2022-09-01", "Limit": 1},
            signature_method="HmacSHA1",
        )
        encoded = urlencode(params)
        if method == "GET":
            request = Request("GET", "/", encoded, {"host": HOST}, b"")
        else:
            request = Request(
                "POST", "/", "", {"host": HOST, "content-type": "application/x-www-form-urlencoded"}, encoded.encode()
            )
        response = reply_json(api().handle(request))
        assert response["TotalCount"] == 3
        assert len(response["Zones"]) == 1


def test_json_post_without_authorization() -> None:
    request = Request("POST", "/", "", {"host": HOST, "content-type": "application/json"}, b"{}")
    assert error_code(api().handle(request)) == "AuthFailure.InvalidAuthorization"


def test_rate_limit_per_credential_and_action() -> None:
    front = api()
    ticks = [100.0]
    front.limiter = RateLimiter({"DescribeBillingData": 50, "DescribeZones": 20}, clock=lambda: ticks[0])
    codes = [error_code(front.handle(signed("DescribeZones", ZONES))) for _ in range(21)]
    assert codes[:20] == [None] * 20
    assert codes[20] == "RequestLimitExceeded"
    assert error_code(front.handle(signed("DescribePlans", {}))) is None  # other actions have their own budget
    ticks[0] += 1.01
    assert error_code(front.handle(signed("DescribeZones", ZONES))) is None


def test_the_documented_limit_of_describe_billing_data() -> None:
    limiter = RateLimiter(small().rate_limits, clock=lambda: 5.0)
    allowed = [limiter.allow("AKID1", "DescribeBillingData") for _ in range(51)]
    assert allowed == [True] * 50 + [False]
    assert limiter.allow("AKID2", "DescribeBillingData")
    unlimited = RateLimiter({"DescribeZones": 0}, clock=lambda: 5.0)
    assert all(unlimited.allow("AKID1", "DescribeZones") for _ in range(500))


def test_injected_faults() -> None:
    slept: list[float] = []
    scenario = small(
        faults=[
            {
                "product": "teo",
                "action": "DescribeZones",
                "code": "InternalError.ProxyServer",
                "message": "boom",
                "latency": "1.5s",
                "count": 1,
            },
            {"product": "billing", "http_status": 502},
        ]
    )
    front = api(scenario, sleep=slept.append)
    response = reply_json(front.handle(signed("DescribeZones", ZONES)))
    assert response["Error"] == {"Code": "InternalError.ProxyServer", "Message": "boom"}
    assert slept == [1.5]
    assert error_code(front.handle(signed("DescribeZones", ZONES))) is None
    status, headers, _ = front.handle(signed("DescribeAccountBalance", {}, service="billing"))
    assert status == 502
    assert headers["Content-Type"] != "application/json"


def test_faults_come_after_the_signature_check() -> None:
    scenario = small(faults=[{"code": "InternalError"}])
    assert error_code(api(scenario).handle(signed("DescribeZones", ZONES, secret_key="wrong"))) == (
        "AuthFailure.SignatureFailure"
    )


def test_multipart_bodies() -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="Limit"\r\n\r\n1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="Filters"\r\nContent-Type: application/json\r\n\r\n'
        '[{"Name": "zone-id", "Values": ["zone-b"]}]\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    headers = tc3_headers(
        SECRET_ID,
        SECRET_KEY,
        service="teo",
        host=HOST,
        action="DescribeZones",
        version="2022-09-01",
        payload=body,
        timestamp=int(WALL),
        content_type=content_type,
    )
    response = reply_json(api().handle(Request("POST", "/", "", {k.lower(): v for k, v in headers.items()}, body)))
    assert [z["ZoneId"] for z in response["Zones"]] == ["zone-b"]
