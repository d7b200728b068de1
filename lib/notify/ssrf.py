"""Refusing webhook URLs, given through the HTTP API, that would make the function call inward.

URLs from the configuration file are trusted (the operator wrote them). URLs that arrive over the API
must be ``https`` and every address their host resolves to must be public: not loopback, private,
link-local, CGNAT, multicast, reserved, unspecified, or a cloud metadata endpoint (169.254.0.0/16,
Tencent ``metadata.tencentyun.com``, Aliyun ``100.100.100.200``, AWS ``fd00:ec2::254``).

The check runs when the URL is accepted; DNS can change later (rebinding), so senders also refuse to
follow redirects. The resolver is injectable so tests never touch DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from lib.errors import ConfigError
from lib.notify.redact import redact_url

Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # CGNAT; holds Aliyun's 100.100.100.200 metadata
        "169.254.0.0/16",  # link-local; AWS/GCP/Azure/Tencent (169.254.0.23) metadata
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "fd00:ec2::254/128",  # AWS IMDS over IPv6 (inside fc00::/7 too; named for the reader)
        "64:ff9b:1::/48",  # local-use NAT64
    )
)
_METADATA = {
    ipaddress.ip_address("169.254.169.254"): "cloud metadata endpoint",
    ipaddress.ip_address("169.254.0.23"): "Tencent Cloud metadata endpoint",
    ipaddress.ip_address("100.100.100.200"): "Aliyun metadata endpoint",
    ipaddress.ip_address("fd00:ec2::254"): "AWS metadata endpoint",
}
_BLOCKED_HOSTS = ("localhost", "metadata.tencentyun.com", "metadata.google.internal", "metadata")
_BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain")


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` may not be called from the function, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            inner = blocked_reason(mapped)
            return f"{inner} (embedded in {address})" if inner else None
        if address in ipaddress.ip_network("64:ff9b::/96"):
            inner = blocked_reason(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
            return f"{inner} (NAT64)" if inner else None
    if address in _METADATA:
        return f"{_METADATA[address]} {address}"
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "unspecified"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
    )
    for hit, name in checks:
        if hit:
            return f"{name} address {address}"
    for network in _BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return f"non-public address {address} ({network})"
    if not address.is_global:
        return f"non-public address {address}"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_public_https_url(url: str, resolver: Resolver = socket.getaddrinfo) -> list[str]:
    """Raise ConfigError unless ``url`` is https and resolves only to public addresses; return them."""
    shown = redact_url(url)
    host, port = _https_host(url, shown)
    literal = _literal(host.split("%")[0])
    addresses = [literal] if literal is not None else _resolve(host, port, shown, resolver)
    for address in addresses:
        reason = blocked_reason(address)
        if reason:
            raise ConfigError(f"webhook URL {shown} resolves to a {reason}; only public addresses", field="url")
    return sorted({str(a) for a in addresses})


def _https_host(url: str, shown: str) -> tuple[str, int]:
    """The host and port of an https URL without user info that names no internal host; else ConfigError."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError as exc:
        raise ConfigError(f"webhook URL {shown} is not a valid URL: {exc}", field="url") from exc
    if parts.scheme.lower() != "https":
        raise ConfigError(f"webhook URL {shown} must use https", field="url")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise ConfigError(f"webhook URL {shown} has no host", field="url")
    if parts.username or parts.password:
        raise ConfigError(f"webhook URL {shown} must not carry a user name or password", field="url")
    if host in _BLOCKED_HOSTS or host.endswith(_BLOCKED_SUFFIXES):
        raise ConfigError(f"webhook URL {shown} points at an internal host name", field="url")
    return host, port


def _resolve(host: str, port: int, shown: str, resolver: Resolver) -> list[IPAddress]:
    """Every address ``host`` resolves to; ConfigError when it resolves to none or to a non-address."""
    try:
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"webhook URL {shown}: cannot resolve {host}: {exc}", field="url") from exc
    addresses = []
    for info in infos:
        text = str(info[4][0]).split("%")[0]
        address = _literal(text)
        if address is None:
            raise ConfigError(f"webhook URL {shown}: resolver gave a non-address {text!r}", field="url")
        addresses.append(address)
    if not addresses:
        raise ConfigError(f"webhook URL {shown}: {host} resolves to no address", field="url")
    return addresses
