"""Endpoints: site domains, regional hosts, the 17 billing domains of the seed, the override URL."""

from __future__ import annotations

import pytest

from lib.client.endpoints import (
    BILLING_DOMAINS,
    BILLING_REGIONS,
    Target,
    api_host,
    check_site,
    parse_override,
    resolve,
)
from lib.errors import ConfigError, RequestError


def test_the_billing_domains_are_the_seeds_seventeen() -> None:
    hosts = [host for _, _, host in BILLING_DOMAINS]
    assert len(BILLING_DOMAINS) == 17
    assert len(set(hosts)) == 17
    assert BILLING_DOMAINS[0][1:] == (None, "billing.intl.tencentcloudapi.com")  # nearest-region access
    assert len(BILLING_REGIONS) == 16
    for _, region, host in BILLING_DOMAINS[1:]:
        assert region is not None
        assert host == f"billing.{region}.tencentcloudapi.com" == api_host("billing", region=region)
    assert {"ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-hongkong",
            "ap-singapore", "ap-jakarta", "ap-bangkok", "ap-seoul", "ap-tokyo", "na-ashburn", "na-siliconvalley",
            "sa-saopaulo", "eu-frankfurt"} == BILLING_REGIONS  # fmt: skip


@pytest.mark.parametrize(
    ("service", "site", "region", "host"),
    [
        ("teo", "cn", None, "teo.tencentcloudapi.com"),
        ("teo", "intl", None, "teo.intl.tencentcloudapi.com"),
        ("billing", "cn", None, "billing.tencentcloudapi.com"),
        ("billing", "intl", None, "billing.intl.tencentcloudapi.com"),
        ("cvm", "intl", "ap-tokyo", "cvm.ap-tokyo.tencentcloudapi.com"),
        ("billing", "cn", "eu-frankfurt", "billing.eu-frankfurt.tencentcloudapi.com"),
    ],
)
def test_api_hosts(service: str, site: str, region: str | None, host: str) -> None:
    assert api_host(service, site=site, region=region) == host


def test_billing_refuses_a_region_without_a_domain() -> None:
    with pytest.raises(RequestError, match="ap-shenzhen-fsi"):
        api_host("billing", region="ap-shenzhen-fsi")


def test_resolve_uses_the_region_only_when_regional() -> None:
    assert resolve("teo", region="ap-guangzhou") == Target(
        "https://teo.tencentcloudapi.com/", "teo.tencentcloudapi.com"
    )
    assert resolve("teo", region="ap-guangzhou", regional=True).host == "teo.ap-guangzhou.tencentcloudapi.com"
    override = parse_override("http://127.0.0.1:9")
    assert resolve("billing", site="intl", region="ap-tokyo", regional=True, override=override) is override


@pytest.mark.parametrize("site", ["CN", " intl ", "", "cn"])
def test_sites_are_normalised(site: str) -> None:
    assert check_site(site) in ("cn", "intl")


def test_unknown_site_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="BUDGET_SITE"):
        check_site("eu")


@pytest.mark.parametrize(
    ("endpoint", "url", "host"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("http://127.0.0.1:80/", "http://127.0.0.1/", "127.0.0.1"),
        ("https://api.example.com:8443/base", "https://api.example.com:8443/base/", "api.example.com:8443"),
        ("localhost:5000", "https://localhost:5000/", "localhost:5000"),
        ("http://[::1]:8080", "http://[::1]:8080/", "[::1]:8080"),
        ("  https://Example.COM  ", "https://example.com/", "example.com"),
    ],
)
def test_override_urls(endpoint: str, url: str, host: str) -> None:
    target = parse_override(endpoint)
    assert (target.url, target.host) == (url, host)
    assert target.scheme == url.split(":", maxsplit=1)[0]


@pytest.mark.parametrize(
    "endpoint",
    ["ftp://x", "http://", "http://h:99999", "http://h/?q=1", "http://u:p@h", "http://h/#frag", "http://例え.jp"],
)
def test_bad_overrides_name_the_variable(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="BUDGET_API_ENDPOINT"):
        parse_override(endpoint)


@pytest.mark.parametrize("service", ["", "te o", "téo", "teo/x", "teo\n"])
def test_service_names_are_checked(service: str) -> None:
    with pytest.raises(RequestError):
        api_host(service)
