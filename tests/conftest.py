"""Every test: nothing it does in this process leaves the machine (tests never reach the internet).

A name lookup of anything but a loopback address or ``localhost``, and a connection to an address off
this machine, are refused (``socket.gaierror`` / ``ConnectionRefusedError``, so the code under test sees
an ordinary network failure) and recorded; a test that made one fails at its end, naming the host, even
when the code under test swallowed the error as a retry. Mocked HTTP (``responses``) never opens a
socket, so it is not affected. Child processes (the e2e tests' runs) are started against local servers.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_attempts: list[str] = []


def _local(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host is None or host in ("", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _literal(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host.decode() if isinstance(host, bytes) else host).split("%", 1)[0])
    except ValueError:
        return False
    return True


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _local(host) and not _literal(host):  # an address needs no lookup; connecting to it is guarded
        _attempts.append(f"name lookup of {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, f"tests never reach the internet: {host!r} is not looked up")
    return _getaddrinfo(host, *args, **kwargs)


def _off_machine(sock: socket.socket, address: Any) -> str | None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return None
    return None if _local(address[0]) else f"connection to {address[0]!r}"


def _guarded_connect(self: socket.socket, address: Any) -> None:
    where = _off_machine(self, address)
    if where is not None:
        _attempts.append(where)
        raise ConnectionRefusedError(f"tests never reach the internet: {where} refused")
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    where = _off_machine(self, address)
    if where is not None:
        _attempts.append(where)
        raise ConnectionRefusedError(f"tests never reach the internet: {where} refused")
    return _connect_ex(self, address)


@pytest.fixture(autouse=True)
def _stays_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    _attempts.clear()
    yield
    tried, _attempts[:] = list(_attempts), []
    assert not tried, f"this test tried to leave the machine: {', '.join(sorted(set(tried)))}"
