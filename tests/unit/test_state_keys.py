"""Pure parts of the state layer: key parts, key checks, JSON encoding, BUDGET_STATE URLs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.client.credentials import Credentials
from lib.errors import ConfigError, StateError, StoreError
from lib.state import open_store, parse_cos_url
from lib.state.cos import CosStore
from lib.state.local import LocalStore
from lib.state.memory import MemoryStore
from lib.state.repo import encode, segment
from lib.state.store import check_key


def test_segment_keeps_safe_names_and_escapes_the_rest() -> None:
    assert segment("ntf_0123abcd.ops") == "ntf_0123abcd.ops"
    assert segment("zone-id=z1,host=a.com") == "zone-id%3Dz1%2Chost%3Da.com"
    assert segment("预算") == "%E9%A2%84%E7%AE%97"
    assert segment("..") == "%2E."
    assert segment("") == "~"
    assert segment("a/b") == "a%2Fb"


@settings(max_examples=200)
@given(st.text(min_size=0, max_size=300))
def test_segment_is_always_a_valid_key_part(text: str) -> None:
    part = segment(text)
    check_key(f"series/{part}.json")
    assert "/" not in part


@settings(max_examples=200)
@given(st.text(max_size=60), st.text(max_size=60))
def test_segment_is_injective_on_short_names(a: str, b: str) -> None:
    if a != b:
        assert segment(a) != segment(b)


def test_long_segments_are_shortened_by_hash_and_stay_distinct() -> None:
    a, b = "h" * 400 + "a", "h" * 400 + "b"
    assert len(segment(a)) < 200
    assert segment(a) != segment(b)


def test_encode_is_utf8_json_without_carriage_returns() -> None:
    data = encode({"text": "第一行\r\n第二行", "amount": Decimal("4120.50")})
    assert data.endswith(b"\n")
    assert b"\r" not in data
    assert "第一行".encode() in data
    assert b'"4120.50"' in data
    with pytest.raises(StateError):
        encode({"bad": float("nan")})
    with pytest.raises(StateError):
        encode({"bad": object()})


@pytest.mark.parametrize("key", ["a", "a/b.json", "claims/ntf_1.ops/000001", "series/预算/x%3D1.json"])
def test_good_keys(key: str) -> None:
    assert check_key(key) == key


def test_key_length_limits() -> None:
    with pytest.raises(StoreError):
        check_key("a/" + "x" * 250)
    with pytest.raises(StoreError):
        check_key("/".join(["x" * 100] * 8))


def test_open_store_defaults_to_the_local_folder(tmp_path: Path) -> None:
    store = open_store(None, environ={})
    assert isinstance(store, LocalStore)
    assert store.root == Path(".state")
    store = open_store(None, environ={"BUDGET_STATE": f"file://{tmp_path}/s"})
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "s"


def test_named_memory_stores_are_shared_in_the_process() -> None:
    a = open_store("memory://shared-test", environ={})
    b = open_store("memory://shared-test", environ={})
    assert a is b
    assert open_store("memory://", environ={}) is not open_store("memory://", environ={})
    assert isinstance(a, MemoryStore)


def test_open_store_cos_uses_endpoint_and_credentials_from_the_environment() -> None:
    env = {
        "BUDGET_STATE": "cos://budget-1250000000.ap-guangzhou/prod/state/",
        "BUDGET_COS_ENDPOINT": "http://127.0.0.1:9000",
        "TENCENTCLOUD_SECRETID": "AKIDfromscf",
        "TENCENTCLOUD_SECRETKEY": "scf-secret-key-value",
        "TENCENTCLOUD_SESSIONTOKEN": "scf-token",
    }
    store = open_store(None, environ=env)
    assert isinstance(store, CosStore)
    assert (store.bucket, store.region, store.prefix) == ("budget-1250000000", "ap-guangzhou", "prod/state")
    assert store.base_url == "http://127.0.0.1:9000"
    assert store.host == "budget-1250000000.cos.ap-guangzhou.myqcloud.com"
    explicit = open_store("cos://b-1.ap-beijing/p", environ={}, credentials=Credentials("AKIDx", "k"))
    assert isinstance(explicit, CosStore)
    assert explicit.base_url == "https://b-1.cos.ap-beijing.myqcloud.com"


@pytest.mark.parametrize(
    "url",
    [
        "s3://bucket/prefix",
        "file://",
        "/plain/path",
        "cos://bucket.ap-guangzhou/p",  # no APPID
        "cos://Bucket-125.ap-guangzhou/p",  # upper case
        "cos://bucket-125/p",  # no region
        "cos://bucket-125.ap-guangzhou/../p",
    ],
)
def test_bad_state_urls_name_the_variable(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_store(url, environ={}, credentials=Credentials("AKIDx", "k"))
    assert "BUDGET_STATE" in str(info.value)


def test_parse_cos_url_for_the_config_loader() -> None:
    assert parse_cos_url("cos://cfg-1250000000.ap-shanghai/conf/budgets.yaml", variable="BUDGET_CONFIG") == (
        "cfg-1250000000",
        "ap-shanghai",
        "conf/budgets.yaml",
    )
    with pytest.raises(ConfigError, match="BUDGET_CONFIG"):
        parse_cos_url("cos://nope/x", variable="BUDGET_CONFIG")
