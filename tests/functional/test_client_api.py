"""ApiClient over ``responses``: headers and signatures, endpoints, retries, error mapping, limits, logging."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from lib.client import ApiClient, Credentials, RateLimiter, RetryPolicy
from lib.client.ratelimit import unlimited
from lib.errors import ApiError, ConfigError, CredentialError, DeadlineExceeded, RequestError, TransportError
from lib.signing import tc3 as tc3_steps
from lib.signing import v1 as v1_steps

SECRET_ID = "AKIDfunctionaltest"
SECRET_KEY = "functional-test-secret-key"
TOKEN = "functional-session-token"
NOW = 1_751_328_000.0  # 2025-07-01T00:00:00Z
TEO = ("teo", "2022-09-01", "DescribeBillingData")
AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([^/]+)/tc3_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$"
)


class FakeTime:
    """Wall clock, monotonic clock and sleep in one: sleeping advances both clocks."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.mono += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def rs() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make_client(clock: FakeTime, **options: Any) -> ApiClient:
    options.setdefault("rate_limiter", unlimited())
    options.setdefault("random", lambda: 0.5)
    return ApiClient(
        options.pop("credentials", Credentials(SECRET_ID, SECRET_KEY)),
        clock=clock.time,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        **options,
    )


@pytest.fixture
def client(clock: FakeTime) -> Iterator[ApiClient]:
    with make_client(clock) as c:
        yield c


def ok(request_id: str = "req-ok", **fields: Any) -> dict[str, Any]:
    return {"Response": {**fields, "RequestId": request_id}}


def error(code: str, message: str = "it failed", request_id: str = "req-err") -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}


def sent_timeout(request: requests.PreparedRequest) -> object:
    """The timeout the client gave ``send``: responses records send's keyword arguments on the request."""
    return vars(request)["req_kwargs"]["timeout"]


def verify_tc3(request: Any, secret_key: str = SECRET_KEY) -> tuple[str, str]:
    """Server-side check (reference §1.8): rebuild the signature from what was actually sent."""
    match = AUTH_RE.match(request.headers["Authorization"])
    assert match, request.headers["Authorization"]
    _, date, service, signed_headers, sig = match.groups()
    timestamp = int(request.headers["X-TC-Timestamp"])
    assert date == tc3_steps.utc_date(timestamp)
    headers = {name: request.headers[name] for name in signed_headers.split(";")}
    assert headers["host"] == request.headers["Host"]
    body = request.body or b""
    body = body.encode() if isinstance(body, str) else body
    query = urlsplit(request.url).query
    canonical = tc3_steps.canonical_request(request.method, query, headers, tc3_steps.sha256_hex(body))
    scope = tc3_steps.credential_scope(date, service)
    expected = tc3_steps.signature(
        tc3_steps.derived_key(secret_key, date, service), tc3_steps.string_to_sign(timestamp, scope, canonical)
    )
    assert hmac.compare_digest(expected, sig)
    return service, request.headers["Host"]


# -- headers, bodies, signatures -------------------------------------------------------------------


def test_post_json_sends_signed_headers_and_returns_the_inner_response(
    rs: responses.RequestsMock, clock: FakeTime
) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=ok(Data=[{"Value": 7}]))
    with make_client(clock, credentials=Credentials(SECRET_ID, SECRET_KEY, TOKEN), language="en-US") as client:
        result = client.call(*TEO, {"ZoneIds": ["*"], "Name": "未命名"}, region="ap-guangzhou")
    assert result == {"Data": [{"Value": 7}], "RequestId": "req-ok"}
    request = rs.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Host"] == "teo.tencentcloudapi.com"
    assert request.headers["X-TC-Action"] == "DescribeBillingData"
    assert request.headers["X-TC-Version"] == "2022-09-01"
    assert request.headers["X-TC-Timestamp"] == str(int(NOW))
    assert request.headers["X-TC-Region"] == "ap-guangzhou"
    assert request.headers["X-TC-Token"] == TOKEN
    assert request.headers["X-TC-Language"] == "en-US"
    assert request.body == '{"ZoneIds":["*"],"Name":"未命名"}'.encode()
    assert verify_tc3(request) == ("teo", "teo.tencentcloudapi.com")
    assert sent_timeout(request) == (5.0, 30.0)


def test_optional_headers_are_absent_when_not_given(rs: responses.RequestsMock, client: ApiClient) -> None:
    rs.add(responses.POST, "https://billing.tencentcloudapi.com/", json=ok())
    client.call("billing", "2018-07-09", "DescribeAccountBalance", {})
    request = rs.calls[0].request
    for name in ("X-TC-Region", "X-TC-Token", "X-TC-Language"):
        assert name not in request.headers
    assert request.body == b"{}"
    verify_tc3(request)


def test_get_puts_flattened_params_in_the_signed_query(rs: responses.RequestsMock, client: ApiClient) -> None:
    rs.add(responses.GET, re.compile(r"https://teo\.tencentcloudapi\.com/\?.*"), json=ok())
    client.call(*TEO, {"ZoneIds": ["zone-1", "zone 2"], "Filters": [{"Type": "host", "Value": "a.b"}]}, method="GET")
    request = rs.calls[0].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert not request.body
    assert request.url is not None
    assert parse_qsl(urlsplit(request.url).query) == [
        ("ZoneIds.0", "zone-1"),
        ("ZoneIds.1", "zone 2"),
        ("Filters.0.Type", "host"),
        ("Filters.0.Value", "a.b"),
    ]
    verify_tc3(request)


@pytest.mark.parametrize("signature", ["HmacSHA1", "HmacSHA256"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_v1_signature_verifies(rs: responses.RequestsMock, client: ApiClient, signature: str, method: str) -> None:
    rs.add(method, re.compile(r"https://billing\.tencentcloudapi\.com/.*"), json=ok())
    client.call("billing", "2018-07-09", "DescribeBillDetail", {"Month": "2025-07", "Limit": 100}, "ap-guangzhou",
                method=method, signature=signature)  # fmt: skip
    request = rs.calls[0].request
    if method == "POST":
        assert isinstance(request.body, bytes)
        sent = parse_qsl(request.body.decode())
    else:
        assert request.url is not None
        sent = parse_qsl(urlsplit(request.url).query)
    params = dict(sent)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert params["Action"] == "DescribeBillDetail"
    assert params["Region"] == "ap-guangzhou"
    assert params["SignatureMethod"] == signature
    assert params["Timestamp"] == str(int(NOW))
    assert "Authorization" not in request.headers
    to_sign = v1_steps.string_to_sign(method, "billing.tencentcloudapi.com", params)
    assert params["Signature"] == v1_steps.signature(SECRET_KEY, to_sign, signature)


# -- endpoints -------------------------------------------------------------------------------------


def test_intl_site_and_regional_hosts(rs: responses.RequestsMock, clock: FakeTime) -> None:
    rs.add(responses.POST, "https://teo.intl.tencentcloudapi.com/", json=ok())
    rs.add(responses.POST, "https://billing.ap-singapore.tencentcloudapi.com/", json=ok())
    with make_client(clock, site="intl") as intl:
        intl.call(*TEO, {})
    with make_client(clock, regional=True) as regional:
        regional.call("billing", "2018-07-09", "DescribeAccountBalance", {}, region="ap-singapore")
        with pytest.raises(RequestError, match="no regional domain"):
            regional.call("billing", "2018-07-09", "DescribeAccountBalance", {}, region="ap-mars")
    assert [verify_tc3(call.request) for call in rs.calls] == [
        ("teo", "teo.intl.tencentcloudapi.com"),
        ("billing", "billing.ap-singapore.tencentcloudapi.com"),
    ]


@pytest.mark.parametrize(
    ("endpoint", "url", "host"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("https://proxy.example.com:443/tencent", "https://proxy.example.com/tencent/", "proxy.example.com"),
        ("sandbox.internal:9000", "https://sandbox.internal:9000/", "sandbox.internal:9000"),
    ],
)
def test_endpoint_override_sends_there_signing_the_sent_host(
    rs: responses.RequestsMock, clock: FakeTime, endpoint: str, url: str, host: str
) -> None:
    rs.add(responses.POST, url, json=ok())
    env = {"BUDGET_API_ENDPOINT": endpoint, "TENCENTCLOUD_SECRET_ID": SECRET_ID, "TENCENTCLOUD_SECRET_KEY": SECRET_KEY}
    with ApiClient.from_env(env, clock=clock.time, rate_limiter=unlimited()) as client:
        client.call("billing", "2018-07-09", "DescribeAccountBalance", {})
    request = rs.calls[0].request
    assert request.url == url
    assert verify_tc3(request) == ("billing", host)  # the service stays the API's


def test_from_env_site_and_bad_settings() -> None:
    with ApiClient.from_env({"BUDGET_SITE": "INTL"}) as client:
        assert client.site == "intl"
    with pytest.raises(ConfigError, match="BUDGET_SITE"):
        ApiClient.from_env({"BUDGET_SITE": "mars"})
    with pytest.raises(ConfigError, match="BUDGET_API_ENDPOINT"):
        ApiClient.from_env({"BUDGET_API_ENDPOINT": "ftp://example.com"})


# -- credentials -----------------------------------------------------------------------------------


def test_a_call_without_credentials_raises_and_sends_nothing(rs: responses.RequestsMock, tmp_path: Any) -> None:
    client = ApiClient.from_env({"HOME": str(tmp_path)})  # building one needs no credentials
    with client, pytest.raises(CredentialError, match="TENCENTCLOUD_SECRETID"):
        client.call(*TEO, {})
    assert len(rs.calls) == 0


def test_credentials_are_resolved_lazily_from_the_given_environment(
    rs: responses.RequestsMock, clock: FakeTime, tmp_path: Any
) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=ok())
    env = {"HOME": str(tmp_path)}
    with ApiClient.from_env(env, clock=clock.time, rate_limiter=unlimited()) as client:
        with pytest.raises(CredentialError):
            client.call(*TEO, {})
        client._environ = {**env, "TENCENTCLOUD_SECRETID": SECRET_ID, "TENCENTCLOUD_SECRETKEY": SECRET_KEY}
        client.call(*TEO, {})
    assert rs.calls[0].request.headers["Authorization"].startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/")


# -- error mapping ---------------------------------------------------------------------------------

COMMON_CODES = {  # reference §2.3: every common code and whether another attempt can help
    "ActionOffline": False,
    "AuthFailure.InvalidAuthorization": False,
    "AuthFailure.InvalidSecretId": False,
    "AuthFailure.MFAFailure": False,
    "AuthFailure.SecretIdNotFound": False,
    "AuthFailure.SignatureFailure": False,
    "AuthFailure.TokenFailure": False,
    "AuthFailure.UnauthorizedOperation": False,
    "DryRunOperation": False,
    "FailedOperation": False,
    "InternalError": True,
    "InternalError.ProxyServer": True,
    "InvalidAction": False,
    "InvalidParameter": False,
    "InvalidParameterValue": False,
    "InvalidRequest": False,
    "IpInBlacklist": False,
    "IpNotInWhitelist": False,
    "LimitExceeded": False,
    "MissingParameter": False,
    "NoSuchProduct": False,
    "NoSuchVersion": False,
    "RequestLimitExceeded": True,
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded": True,
    "RequestLimitExceeded.IPLimitExceeded": True,
    "RequestLimitExceeded.UinLimitExceeded": True,
    "RequestSizeLimitExceeded": False,
    "ResponseSizeLimitExceeded": False,
    "ResourceInUse": False,
    "ResourceInsufficient": False,
    "ResourceNotFound": False,
    "ResourceUnavailable": False,
    "ServiceUnavailable": True,
    "UnauthorizedOperation": False,
    "UnknownParameter": False,
    "UnsupportedOperation": False,
    "UnsupportedProtocol": False,
    "UnsupportedRegion": False,
}


@pytest.mark.parametrize(("code", "retryable"), sorted(COMMON_CODES.items()))
def test_every_common_error_code_maps_to_a_typed_error(
    rs: responses.RequestsMock, clock: FakeTime, code: str, retryable: bool
) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=error(code, "explained", "rid-1"))
    with make_client(clock) as client, pytest.raises(ApiError) as caught:
        client.call(*TEO, {})
    err = caught.value
    assert (err.code, err.api_message, err.request_id, err.action) == (
        code,
        "explained",
        "rid-1",
        "DescribeBillingData",
    )
    assert err.retryable is retryable
    attempts = RetryPolicy().attempts if retryable else 1
    assert len(rs.calls) == attempts
    assert len(clock.sleeps) == attempts - 1


def test_retries_back_off_with_full_jitter_and_re_sign(rs: responses.RequestsMock, clock: FakeTime) -> None:
    url = "https://teo.tencentcloudapi.com/"
    rs.add(responses.POST, url, json=error("RequestLimitExceeded"))
    rs.add(responses.POST, url, status=503, body="upstream busy")
    rs.add(responses.POST, url, body=requests.ConnectionError("connection reset"))
    rs.add(responses.POST, url, json=ok("finally"))
    draws = iter([0.0, 0.999, 0.5])
    policy = RetryPolicy(attempts=4, base=0.5, cap=1.5, deadline=60)
    with make_client(clock, retry=policy, random=lambda: next(draws)) as client:
        assert client.call(*TEO, {})["RequestId"] == "finally"
    # ceilings 0.5, 1.0, then capped 1.5; the refusal for the rate first waits out its one-second window
    assert clock.sleeps == pytest.approx([1.0 + 0.0, 0.999 * 1.0, 0.5 * 1.5])
    stamps = [call.request.headers["X-TC-Timestamp"] for call in rs.calls]
    assert stamps == [str(int(NOW)), str(int(NOW + 1)), str(int(NOW + 1.999)), str(int(NOW + 1.999 + 0.75))]
    for call in rs.calls:
        verify_tc3(call.request)


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "RequestLimitExceeded.UinLimitExceeded"])
def test_a_refusal_for_the_rate_is_retried_after_its_window_with_jitter_on_top(
    rs: responses.RequestsMock, clock: FakeTime, code: str
) -> None:
    url = "https://teo.tencentcloudapi.com/"
    rs.add(responses.POST, url, json=error(code))
    rs.add(responses.POST, url, json=error(code))
    rs.add(responses.POST, url, json=ok("through"))
    draws = iter([0.0, 0.5])
    with make_client(clock, retry=RetryPolicy(base=0.5), random=lambda: next(draws)) as client:
        assert client.call(*TEO, {})["RequestId"] == "through"
    assert clock.sleeps == pytest.approx([1.0, 1.0 + 0.5 * 1.0])  # never inside the window that refused it


@pytest.mark.parametrize("draw", [0.0, 0.3, 0.999999])
def test_backoff_stays_within_its_bounds(rs: responses.RequestsMock, clock: FakeTime, draw: float) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=error("InternalError"))
    policy = RetryPolicy(attempts=6, base=0.25, cap=2.0, deadline=600)
    with make_client(clock, retry=policy, random=lambda: draw) as client, pytest.raises(ApiError):
        client.call(*TEO, {})
    assert len(rs.calls) == 6
    for n, slept in enumerate(clock.sleeps):
        assert 0 <= slept < min(2.0, 0.25 * 2**n)
        assert slept == pytest.approx(draw * min(2.0, 0.25 * 2**n))


def test_the_deadline_stops_retrying(rs: responses.RequestsMock, clock: FakeTime) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=error("ServiceUnavailable"))
    policy = RetryPolicy(attempts=10, base=1.0, cap=8.0, deadline=5.0)
    with make_client(clock, retry=policy, random=lambda: 0.99) as client, pytest.raises(DeadlineExceeded) as caught:
        client.call(*TEO, {})
    assert isinstance(caught.value.__cause__, ApiError)
    assert caught.value.__cause__.code == "ServiceUnavailable"
    assert sum(clock.sleeps) < 5.0
    assert len(rs.calls) == 3  # waits 0.99 + 1.98, then 3.96 would cross the deadline


def test_read_timeout_never_outlives_the_deadline(rs: responses.RequestsMock, clock: FakeTime) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=ok())
    with make_client(clock, retry=RetryPolicy(deadline=7.5), timeout=(2.0, 30.0)) as client:
        client.call(*TEO, {})
    assert sent_timeout(rs.calls[0].request) == (2.0, 7.5)


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (502, True), (429, True), (400, False), (404, False)])
def test_non_200_is_a_transport_error_with_a_body_excerpt(
    rs: responses.RequestsMock, clock: FakeTime, status: int, retryable: bool
) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", status=status, body="<html>gateway says no</html>" * 50)
    with make_client(clock, retry=RetryPolicy(attempts=2)) as client, pytest.raises(TransportError) as caught:
        client.call(*TEO, {})
    err = caught.value
    assert err.status == status
    assert err.retryable is retryable
    assert err.body_excerpt.startswith("<html>gateway says no</html>")
    assert len(err.body_excerpt) <= 301
    assert len(rs.calls) == (2 if retryable else 1)


@pytest.mark.parametrize(
    "body", [b"<html>not json</html>", b'{"Data": []}', b'{"Response": "nope"}', b'{"Response": {"Error": "x"}}']
)
def test_answers_that_are_not_api_responses_are_transport_errors(
    rs: responses.RequestsMock, client: ApiClient, body: bytes
) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", body=body, content_type="application/json")
    with pytest.raises(TransportError) as caught:
        client.call(*TEO, {})
    assert caught.value.status == 200
    assert caught.value.body_excerpt == body.decode()
    assert not caught.value.retryable
    assert len(rs.calls) == 1


def test_network_errors_are_retried_then_raised_chained(rs: responses.RequestsMock, clock: FakeTime) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", body=requests.ConnectTimeout("timed out"))
    with make_client(clock, retry=RetryPolicy(attempts=3)) as client, pytest.raises(TransportError) as caught:
        client.call(*TEO, {})
    assert caught.value.retryable
    assert isinstance(caught.value.__cause__, requests.ConnectTimeout)
    assert len(rs.calls) == 3


def test_tls_errors_are_not_retried(rs: responses.RequestsMock, client: ApiClient) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", body=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(TransportError, match="TLS"):
        client.call(*TEO, {})
    assert len(rs.calls) == 1


def test_signature_expire_re_signs_once_with_the_servers_clock(rs: responses.RequestsMock, clock: FakeTime) -> None:
    server_now = NOW + 3600
    date = formatdate(server_now, usegmt=True)
    url = "https://teo.tencentcloudapi.com/"
    rs.add(responses.POST, url, json=error("AuthFailure.SignatureExpire"), headers={"Date": date})
    rs.add(responses.POST, url, json=ok())
    with make_client(clock) as client:
        client.call(*TEO, {})
        assert client.skew == pytest.approx(3600)
    assert rs.calls[1].request.headers["X-TC-Timestamp"] == str(int(server_now))
    assert clock.sleeps == []
    verify_tc3(rs.calls[1].request)


def test_signature_expire_twice_is_an_error(rs: responses.RequestsMock, client: ApiClient) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=error("AuthFailure.SignatureExpire"))
    with pytest.raises(ApiError) as caught:
        client.call(*TEO, {})
    assert caught.value.code == "AuthFailure.SignatureExpire"
    assert not caught.value.retryable
    assert len(rs.calls) == 2


def test_token_failure_reads_the_credentials_again_once(
    rs: responses.RequestsMock, clock: FakeTime, tmp_path: Any
) -> None:
    url = "https://teo.tencentcloudapi.com/"
    rs.add(responses.POST, url, json=error("AuthFailure.TokenFailure"))
    rs.add(responses.POST, url, json=ok())
    env = {"HOME": str(tmp_path), "TENCENTCLOUD_SECRETID": "AKIDold", "TENCENTCLOUD_SECRETKEY": "k1",
           "TENCENTCLOUD_SESSIONTOKEN": "expired"}  # fmt: skip
    with ApiClient.from_env(env, clock=clock.time, rate_limiter=unlimited()) as client:
        assert client.credentials().token == "expired"
        env.update(TENCENTCLOUD_SECRETID="AKIDnew", TENCENTCLOUD_SECRETKEY="k2", TENCENTCLOUD_SESSIONTOKEN="fresh")
        client._environ = env  # SCF rotated the role's temporary keys
        client.call(*TEO, {})
    assert rs.calls[1].request.headers["X-TC-Token"] == "fresh"
    verify_tc3(rs.calls[1].request, "k2")


# -- size and encoding limits ----------------------------------------------------------------------


def test_get_over_32_kb_is_refused_before_sending(rs: responses.RequestsMock, client: ApiClient) -> None:
    with pytest.raises(RequestError, match=r"limit for GET is 32,768"):
        client.call(*TEO, {"ZoneIds": ["z" * 1000] * 33}, method="GET")
    assert len(rs.calls) == 0


def test_v1_post_over_1_mb_is_refused_but_fits_tc3(rs: responses.RequestsMock, client: ApiClient) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=ok())
    big = {"Blob": "x" * (1024 * 1024)}
    with pytest.raises(RequestError, match=r"limit for v1 POST is 1,048,576"):
        client.call(*TEO, big, signature="HmacSHA256")
    assert len(rs.calls) == 0
    client.call(*TEO, big)
    assert len(rs.calls) == 1


def test_tc3_post_over_10_mb_is_refused(rs: responses.RequestsMock, client: ApiClient) -> None:
    with pytest.raises(RequestError, match=r"limit for TC3 POST is 10,485,760"):
        client.call(*TEO, {"Blob": "x" * (10 * 1024 * 1024)})
    assert len(rs.calls) == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [({"Name": "bad \ud800 surrogate"}, "UTF-8"), ({"When": object()}, "JSON"), ({"N": float("nan")}, "JSON")],
)
def test_params_that_are_not_utf8_json_are_refused(
    rs: responses.RequestsMock, client: ApiClient, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        client.call(*TEO, params)
    assert len(rs.calls) == 0


def test_get_params_must_be_utf8_too(rs: responses.RequestsMock, client: ApiClient) -> None:
    with pytest.raises(RequestError, match="UTF-8"):
        client.call(*TEO, {"Name": "bad \ud800"}, method="GET")
    assert len(rs.calls) == 0


@pytest.mark.parametrize(
    ("service", "version", "action", "region"),
    [("te o", "2022-09-01", "X", None), ("teo", "2022-09-01", "Déscribe", None), ("teo", "v", "X", "ap gz")],
)
def test_names_that_travel_in_headers_must_be_plain_ascii(
    client: ApiClient, service: str, version: str, action: str, region: str | None
) -> None:
    with pytest.raises(RequestError, match="invalid"):
        client.call(service, version, action, {}, region)


def test_unsupported_method_or_signature(client: ApiClient) -> None:
    with pytest.raises(RequestError, match="method"):
        client.call(*TEO, {}, method="PUT")
    with pytest.raises(RequestError, match="signature"):
        client.call(*TEO, {}, signature="HmacMD5")


# -- rate limits, session, logging -----------------------------------------------------------------


def test_the_rate_limiter_paces_each_action(rs: responses.RequestsMock, clock: FakeTime) -> None:
    rs.add(responses.POST, "https://billing.tencentcloudapi.com/", json=ok())
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=ok())
    limiter = RateLimiter(clock=clock.monotonic, sleep=clock.sleep)
    with make_client(clock, rate_limiter=limiter) as client:
        for _ in range(6):
            client.call("billing", "2018-07-09", "DescribeBillDetail", {"Month": "2025-07"})
        assert sum(clock.sleeps) == pytest.approx(1.0)  # 5/s: five at once, the 6th a second after the 1st
        before = len(clock.sleeps)
        for _ in range(51):
            client.call(*TEO, {})
        assert sum(clock.sleeps[before:]) == pytest.approx(1.0)  # DescribeBillingData: 50/s


def test_one_pooled_session_is_reused_and_closed(rs: responses.RequestsMock, clock: FakeTime) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=ok())
    client = make_client(clock)
    session = client.session
    client.call(*TEO, {})
    client.call(*TEO, {})
    assert client.session is session
    adapter = session.get_adapter("https://teo.tencentcloudapi.com/")
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert vars(adapter)["_pool_maxsize"] == 16  # requests keeps the pool size in a private attribute only
    closed: list[bool] = []
    session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    client.close()
    assert closed == [True]


def test_a_given_session_is_used_and_left_open(rs: responses.RequestsMock, clock: FakeTime) -> None:
    rs.add(responses.POST, "https://teo.tencentcloudapi.com/", json=ok())
    with requests.Session() as session:
        session.headers["X-Extra"] = "kept"
        closed: list[bool] = []
        original_close = session.close
        session.close = lambda: closed.append(True)  # type: ignore[method-assign]
        with make_client(clock, session=session) as client:
            client.call(*TEO, {})
        assert closed == []
        session.close = original_close  # type: ignore[method-assign]
    assert rs.calls[0].request.headers["X-Extra"] == "kept"


def test_logs_action_request_id_and_latency_but_never_secrets(
    rs: responses.RequestsMock, clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    url = "https://teo.tencentcloudapi.com/"
    rs.add(responses.POST, url, json=error("RequestLimitExceeded", request_id="rid-limited"))
    rs.add(responses.POST, url, json=ok("rid-success"))
    rs.add(responses.POST, url, json=error("AuthFailure.SignatureFailure", request_id="rid-failed"))
    caplog.set_level(logging.DEBUG)
    with make_client(clock, credentials=Credentials(SECRET_ID, SECRET_KEY, TOKEN)) as client:
        client.call(*TEO, {})
        with pytest.raises(ApiError):
            client.call(*TEO, {})
    text = caplog.text
    assert "teo.DescribeBillingData ok request_id=rid-success latency_ms=" in text
    assert "RequestLimitExceeded" in text
    assert "AuthFailure.SignatureFailure" in text
    for secret in (SECRET_KEY, TOKEN, rs.calls[0].request.headers["Authorization"].rsplit("=", 1)[1]):
        assert secret not in text
    assert SECRET_KEY not in repr(client.credentials())
    assert TOKEN not in repr(client.credentials())


def test_the_response_json_is_parsed_whatever_its_content_type(rs: responses.RequestsMock, client: ApiClient) -> None:
    body = json.dumps(error("InvalidParameter", "bad zone")).encode()
    rs.add(
        responses.POST, "https://teo.tencentcloudapi.com/", body=body, content_type="application/json; charset=utf-8"
    )
    with pytest.raises(ApiError, match="InvalidParameter: bad zone"):
        client.call(*TEO, {})
