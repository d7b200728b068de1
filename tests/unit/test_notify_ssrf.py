"""URLs given through the HTTP API must be https and resolve only to public addresses (resolver injected)."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import pytest

from lib.errors import ConfigError
from lib.notify.ssrf import check_public_https_url


def resolver(*addresses: str) -> Any:
    def resolve(host: str, port: int, family: int = 0, kind: int = 0) -> Sequence[tuple[Any, ...]]:
        out = []
        for address in addresses:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if fam == socket.AF_INET6 else (address, port)
            out.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
        return out

    return resolve


def failing(host: str, port: int, family: int = 0, kind: int = 0) -> Any:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_public_https_url_passes_and_returns_addresses() -> None:
    got = check_public_https_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", resolver("101.91.40.220"))
    assert got == ["101.91.40.220"]
    assert check_public_https_url("https://hooks.slack.com/x", resolver("2606:4700::6810:85e5")) == [
        "2606:4700::6810:85e5"
    ]


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.0.23", "Tencent Cloud metadata"),
        ("100.100.100.200", "Aliyun metadata"),
        ("fd00:ec2::254", "AWS metadata"),
        ("100.64.0.1", "100.64.0.0/10"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
        ("::ffff:127.0.0.1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
        ("fc00::1", "private"),
    ],
)
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why) as info:
        check_public_https_url("https://hooks.example.com/h?key=TOKEN", resolver(address))
    assert "TOKEN" not in str(info.value)  # the refusal itself does not leak the token
    assert info.value.field == "url"


def test_one_bad_address_among_good_ones_is_enough() -> None:
    with pytest.raises(ConfigError, match="private"):
        check_public_https_url("https://rebind.example.com/", resolver("93.184.216.34", "10.0.0.1"))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/h", "https"),
        ("ftp://hooks.example.com/h", "https"),
        ("https:///nohost", "no host"),
        ("https://user:pw@hooks.example.com/", "user name"),
        ("https://localhost/h", "internal host"),
        ("https://api.localhost/h", "internal host"),
        ("https://metadata.tencentyun.com/latest", "internal host"),
        ("https://metadata.google.internal/", "internal host"),
        ("https://127.0.0.1/h", "loopback"),
        ("https://[::1]/h", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://host:99999/", "not a valid URL"),
    ],
)
def test_refused_urls(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        check_public_https_url(url, resolver("93.184.216.34"))


def test_unresolvable_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="cannot resolve"):
        check_public_https_url("https://nowhere.example/", failing)
    with pytest.raises(ConfigError, match="no address"):
        check_public_https_url("https://empty.example/", resolver())
