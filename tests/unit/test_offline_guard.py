"""The guard in tests/conftest.py: a test that tries to leave the machine is refused and found out."""

from __future__ import annotations

import contextlib
import socket

import pytest
import requests

from tests import conftest


def test_a_name_lookup_off_the_machine_is_refused_and_recorded() -> None:
    with pytest.raises(socket.gaierror, match="tests never reach the internet"):
        socket.getaddrinfo("teo.tencentcloudapi.com", 443)
    assert conftest._attempts == ["name lookup of 'teo.tencentcloudapi.com'"]
    conftest._attempts.clear()  # made on purpose here: the fixture would fail this test otherwise


def test_a_connection_off_the_machine_is_refused_and_recorded_even_if_the_caller_swallows_it() -> None:
    with contextlib.suppress(requests.ConnectionError):  # as a retry loop would: the record still finds it out
        requests.get("http://192.0.2.7/", timeout=1)  # TEST-NET-1: never routed
    assert conftest._attempts == ["connection to '192.0.2.7'"]
    conftest._attempts.clear()


def test_the_machine_itself_is_reachable() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=2):
            pass
    assert conftest._attempts == []
