"""Property tests: our signatures equal the official SDKs' for random inputs (1,000 cases each).

TC3: what ``tencentcloud-sdk-python-common``'s CommonClient actually sends (captured with ``responses``,
time fixed) for random services, actions, regions, unicode payloads, tokens and timestamps.
COS: ``qcloud_cos.cos_auth.CosS3Auth`` for random keys, paths, parameters and headers (time fixed).
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.signing import cos_authorization, tc3_headers

pytest.importorskip("tencentcloud.common.common_client")
pytest.importorskip("qcloud_cos.cos_auth")

from qcloud_cos import CosConfig
from qcloud_cos import cos_auth as sdk_cos_auth
from tencentcloud.common import abstract_client
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.credential import Credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.slow  # 1,000 cases per property, each under ~10 s
ANY_URL = re.compile(r"https://.*")
OK_BODY = {"Response": {"RequestId": "property-test"}}

# -- strategies ------------------------------------------------------------------------------------

# Secrets: any text without surrounding whitespace (both SDKs refuse that); unicode included.
secrets = st.text(min_size=1, max_size=48).filter(lambda s: s.strip() == s and s.strip() != "")
secret_ids = st.from_regex(r"AKID[A-Za-z0-9]{0,40}", fullmatch=True)
services = st.from_regex(r"[a-z][a-z0-9]{1,14}", fullmatch=True)
actions = st.from_regex(r"[A-Z][A-Za-z0-9]{0,48}", fullmatch=True)
versions = st.dates().map(lambda d: d.isoformat())
regions = st.one_of(st.just(""), st.from_regex(r"(ap|na|eu|sa)-[a-z]{3,14}(-fsi)?", fullmatch=True))
tokens = st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_\-+/=]{1,120}", fullmatch=True))
timestamps = st.integers(min_value=0, max_value=4_102_444_800)  # 1970 .. 2100
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
json_params = st.dictionaries(st.text(max_size=16), json_values, max_size=6)
form_params = st.dictionaries(
    st.from_regex(r"[A-Z][A-Za-z0-9]{0,12}", fullmatch=True),
    st.one_of(st.text(max_size=24), st.integers(), st.lists(st.text(max_size=8), max_size=3)),
    max_size=6,
)


def sdk_client(
    service: str, version: str, secret_id: str, secret_key: str, *, token: str | None, region: str, **hp: Any
) -> CommonClient:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=f"{service}.tencentcloudapi.com", **hp))
    return CommonClient(service, version, Credential(secret_id, secret_key, token), region, profile=profile)


def captured(rs: responses.RequestsMock) -> Any:
    request = rs.calls[-1].request
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    return request, body or b""


def ours(request: Any, secret_id: str, secret_key: str, service: str, **extra: Any) -> dict[str, str]:
    """Sign what the SDK sent, taking every input from our own knowledge of the call except the body/query."""
    return tc3_headers(
        secret_id,
        secret_key,
        service=service,
        host=f"{service}.tencentcloudapi.com",
        action=request.headers["X-TC-Action"],
        version=request.headers["X-TC-Version"],
        timestamp=int(request.headers["X-TC-Timestamp"]),
        language="zh-CN",  # the SDK always sends its default language
        **extra,
    )


def assert_same_headers(mine: dict[str, str], request: Any) -> None:
    for name, value in mine.items():
        assert request.headers[name] == value, name
    for name in ("X-TC-Region", "X-TC-Token"):
        assert (name in mine) == (name in request.headers), name


# -- TC3 versus CommonClient -----------------------------------------------------------------------


@SETTINGS
@given(
    secret_id=secret_ids,
    secret_key=secrets,
    service=services,
    action=actions,
    version=versions,
    region=regions,
    token=tokens,
    timestamp=timestamps,
    params=json_params,
)
def test_tc3_post_json_matches_sdk(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    action: str,
    version: str,
    region: str,
    token: str | None,
    timestamp: int,
    params: dict[str, Any],
) -> None:
    client = sdk_client(service, version, secret_id, secret_key, token=token, region=region)
    with responses.RequestsMock() as rs, mock.patch.object(abstract_client.time, "time", return_value=timestamp):
        rs.add(responses.POST, ANY_URL, json=OK_BODY)
        client.call_json(action, params)
        request, body = captured(rs)
    assert body == json.dumps(params).encode("utf-8")  # the payload is the one we think it is
    mine = ours(
        request,
        secret_id,
        secret_key,
        service,
        payload=body,
        region=region or None,
        token=token,
    )
    assert mine["Authorization"] == request.headers["Authorization"]
    assert mine["X-TC-Timestamp"] == str(timestamp)
    assert_same_headers(mine, request)


@SETTINGS
@given(
    secret_id=secret_ids,
    secret_key=secrets,
    service=services,
    action=actions,
    region=regions,
    token=tokens,
    timestamp=timestamps,
    text=st.text(max_size=300),
)
def test_tc3_raw_utf8_payload_matches_sdk(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    action: str,
    region: str,
    token: str | None,
    timestamp: int,
    text: str,
) -> None:
    """Unicode payload bytes as they are (not JSON-escaped): the SDK's octet-stream call signs raw bytes."""
    payload = text.encode("utf-8")
    client = sdk_client(service, "2020-01-01", secret_id, secret_key, token=token, region=region)
    with responses.RequestsMock() as rs, mock.patch.object(abstract_client.time, "time", return_value=timestamp):
        rs.add(responses.POST, ANY_URL, json=OK_BODY)
        client.call_octet_stream(action, {}, payload)
        request, body = captured(rs)
    assert body == payload
    mine = ours(
        request,
        secret_id,
        secret_key,
        service,
        payload=payload,
        region=region or None,
        token=token,
        content_type="application/octet-stream",
    )
    assert mine["Authorization"] == request.headers["Authorization"]
    assert_same_headers(mine, request)


@SETTINGS
@given(
    secret_id=secret_ids,
    secret_key=secrets,
    service=services,
    action=actions,
    region=regions,
    token=tokens,
    timestamp=timestamps,
    params=form_params,
)
def test_tc3_get_matches_sdk(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    action: str,
    region: str,
    token: str | None,
    timestamp: int,
    params: dict[str, Any],
) -> None:
    client = sdk_client(service, "2018-07-09", secret_id, secret_key, token=token, region=region, reqMethod="GET")
    with responses.RequestsMock() as rs, mock.patch.object(abstract_client.time, "time", return_value=timestamp):
        rs.add(responses.GET, ANY_URL, json=OK_BODY)
        client.call_json(action, params)
        request, _ = captured(rs)
    query = request.url.split("?", 1)[1] if "?" in request.url else ""
    mine = ours(
        request,
        secret_id,
        secret_key,
        service,
        payload=b"",
        region=region or None,
        token=token,
        method="GET",
        query=query,
    )
    assert mine["Content-Type"] == "application/x-www-form-urlencoded"
    assert mine["Authorization"] == request.headers["Authorization"]
    assert_same_headers(mine, request)


# -- COS versus CosS3Auth --------------------------------------------------------------------------

SIGNABLE_HEADERS = ["content-type", "content-md5", "content-length", "cache-control", "range", "if-match", "origin"]
header_names = st.one_of(
    st.sampled_from(SIGNABLE_HEADERS + [h.title() for h in SIGNABLE_HEADERS]),
    st.from_regex(r"[Xx]-[Cc][Oo][Ss]-[A-Za-z0-9-]{1,20}", fullmatch=True),
)
reserved = "!#$&'()*+,/:;=?@[] %~"
cos_text = st.text(alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(reserved)), max_size=40)


def unique_after_encoding(items: dict[str, str]) -> bool:
    """Both sides lower-case the encoded names; two names that collide there are one name to COS."""
    encoded = [quote(k.encode("utf-8"), "-_.~").lower() for k in items]
    return len(encoded) == len(set(encoded))


cos_params = st.dictionaries(cos_text, cos_text, max_size=5).filter(unique_after_encoding)
cos_headers = st.dictionaries(header_names, cos_text, max_size=5).filter(unique_after_encoding)
cos_keys = st.text(alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(reserved + "/")), max_size=60)


@SETTINGS
@given(
    secret_id=secrets,
    secret_key=secrets,
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    key=cos_keys,
    params=cos_params,
    headers=cos_headers,
    now=timestamps,
    expire=st.integers(min_value=1, max_value=86_400),
)
def test_cos_authorization_matches_cos_sdk(
    *,
    secret_id: str,
    secret_key: str,
    method: str,
    key: str,
    params: dict[str, str],
    headers: dict[str, str],
    now: int,
    expire: int,
) -> None:
    host = "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com"
    conf = CosConfig(Region="ap-guangzhou", SecretId=secret_id, SecretKey=secret_key)
    auth = sdk_cos_auth.CosS3Auth(conf, key=key, params=dict(params), expire=expire)
    sent_headers = {**headers, "Host": host}
    request = SimpleNamespace(method=method, url=f"https://{host}/", headers=dict(sent_headers))
    with mock.patch.object(sdk_cos_auth.time, "time", return_value=now):
        auth(request)
    mine = cos_authorization(
        secret_id,
        secret_key,
        method=method,
        path=key if key.startswith("/") else "/" + key,
        params=dict(params),
        headers=dict(sent_headers),
        start=now - 60,
        end=now + expire,
    )
    assert mine == request.headers["Authorization"]
