"""The sandbox as a process and as an HTTP server: start line, signals, keep-alive, framing, routing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lib.signing import tc3_headers
from sandbox.server import Sandbox, is_cos_host

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _signed(
    port: int,
    action: str = "DescribeZones",
    params: dict[str, object] | None = None,
    secret_id: str = "AKIDSANDBOX",
    secret_key: str = "sandbox-secret-key",
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(params or {}).encode()
    headers = tc3_headers(
        secret_id,
        secret_key,
        service="teo",
        host=f"127.0.0.1:{port}",
        action=action,
        version="2022-09-01",
        payload=body,
        timestamp=int(time.time()),
    )
    return headers, body


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "cloud", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_its_address_serves_and_stops_on_signals(sig: signal.Signals) -> None:
    process, first = _start("--secret-id", "AKIDCLI", "--secret-key", "cli-key")
    try:
        assert first.startswith("sandbox listening on http://127.0.0.1:")
        port = int(first.rsplit(":", 1)[1])
        assert port > 0
        headers, body = _signed(port, secret_id="AKIDCLI", secret_key="cli-key")
        with requests.Session() as session:
            reply = session.post(f"http://127.0.0.1:{port}/", data=body, headers=headers, timeout=10)
            assert reply.json()["Response"]["TotalCount"] == 4
            process.send_signal(sig)
            assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        out, _err = process.communicate()
    assert "sandbox stopped" in out


def test_cli_refuses_a_broken_scenario(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("zones: [{id: zone-x, name: x, hosts: {x: 1}, usage: {acc_flux: {mean: 1}}}]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "cloud", "--scenario", str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "takes `daily`" in result.stderr


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def test_keep_alive_reuses_one_connection(sandbox: Sandbox) -> None:
    with requests.Session() as session:
        for _ in range(5):
            headers, body = _signed(sandbox.port)
            reply = session.post(sandbox.url, data=body, headers=headers, timeout=10)
            assert reply.status_code == 200
            assert reply.headers["Content-Type"] == "application/json"
            assert int(reply.headers["Content-Length"]) == len(reply.content)
    assert sandbox.connections == 1
    assert sandbox.served == 5


def test_stop_does_not_wait_for_idle_connections() -> None:
    sb = Sandbox().start()
    idle = socket.create_connection(("127.0.0.1", sb.port))
    try:
        idle.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += idle.recv(65536)
        head, _, body = reply.partition(b"\r\n\r\n")
        length = int(
            next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")).split(b":")[1]
        )
        while len(body) < length:
            body += idle.recv(65536)
        assert b"MissingParameter" in body  # answered; the connection now idles in keep-alive
        began = time.monotonic()
        sb.stop()
        assert time.monotonic() - began < 2
        assert idle.recv(10) == b""  # the server closed it
    finally:
        idle.close()


def test_framing_chunked_head_and_sizes(sandbox: Sandbox) -> None:
    headers, body = _signed(sandbox.port)
    with requests.Session() as session:
        chunked = session.post(sandbox.url, data=iter([body[:1], body[1:]]), headers=headers, timeout=10)
        assert chunked.json()["Response"]["TotalCount"] == 4
        head = session.head(sandbox.url, timeout=10)
        assert head.status_code == 200
        assert head.content == b""
        put = session.put(sandbox.url, data=b"{}", timeout=10)
        assert put.json()["Response"]["Error"]["Code"] == "UnsupportedProtocol"
        big_headers, _ = _signed(sandbox.port)
        big = session.post(sandbox.url, data=b" " * (10 * 1024 * 1024 + 1), headers=big_headers, timeout=30)
        assert big.json()["Response"]["Error"]["Code"] == "RequestSizeLimitExceeded"
        after = session.post(sandbox.url, data=body, headers=headers, timeout=10)
        assert after.status_code == 200  # the connection survived the refused body


def test_cos_hosts_are_routed_to_cos(sandbox: Sandbox) -> None:
    assert is_cos_host("state-1250000000.cos.ap-guangzhou.myqcloud.com")
    assert is_cos_host("state-1250000000.cos.ap-guangzhou.myqcloud.com:8080")
    assert not is_cos_host("teo.tencentcloudapi.com")
    assert not is_cos_host("127.0.0.1:8080")
    reply = requests.get(
        sandbox.url + "/a.json", headers={"Host": "state-1250000000.cos.ap-guangzhou.myqcloud.com"}, timeout=10
    )
    assert reply.status_code == 403
    assert reply.headers["Content-Type"] == "application/xml"
    assert b"<Code>AccessDenied</Code>" in reply.content


def test_cli_reports_a_busy_port() -> None:
    with Sandbox() as sb:
        result = subprocess.run(
            [sys.executable, "-m", "sandbox", "cloud", "--port", str(sb.port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{sb.port}" in result.stderr


def test_cos_objects_survive_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    host = {"Host": "state-1250000000.cos.ap-guangzhou.myqcloud.com"}
    for round_trip in range(2):
        with Sandbox(data_dir=str(tmp_path)) as sb:
            cos = sb.app.cos
            assert cos is not None
            if round_trip == 0:
                from lib.signing import cos_authorization

                now = int(time.time())
                auth = cos_authorization(
                    sb.secret_id,
                    sb.secret_key,
                    method="PUT",
                    path="/kept.txt",
                    headers={"host": host["Host"]},
                    params={},
                    start=now - 60,
                    end=now + 600,
                )
                reply = requests.put(
                    sb.url + "/kept.txt", data=b"kept", timeout=10, headers={**host, "Authorization": auth}
                )
                assert reply.status_code == 200, reply.text
            else:
                assert cos.objects("state-1250000000") == {"kept.txt": b"kept"}


def test_set_now_moves_what_the_server_answers(sandbox: Sandbox) -> None:
    """The demo's balance as seen over HTTP follows ``set_now`` (signatures stay on the wall clock)."""
    from datetime import datetime, timedelta

    def balance(session: requests.Session) -> int:
        body = b"{}"
        headers = tc3_headers(
            "AKIDSANDBOX",
            "sandbox-secret-key",
            service="billing",
            host=f"127.0.0.1:{sandbox.port}",
            action="DescribeAccountBalance",
            version="2018-07-09",
            payload=body,
            timestamp=int(time.time()),
        )
        reply = session.post(sandbox.url, data=body, headers=headers, timeout=10).json()["Response"]
        return int(reply["RealBalance"])

    start = sandbox.now
    with requests.Session() as session:
        before = balance(session)
        sandbox.set_now(start - timedelta(days=2))
        assert sandbox.now == start - timedelta(days=2)
        earlier = balance(session)
    assert earlier > before  # two days fewer of charges
    assert isinstance(sandbox.now, datetime)
