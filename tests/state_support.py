"""Test support for the state layer: a COS endpoint to run against (the sandbox, or its COS service).

``cos_endpoint()`` prefers ``sandbox.server.Sandbox``; while that is not available it serves
``sandbox.cos.CosService`` from a small local ThreadingHTTPServer; it yields None when neither is.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BUCKET = "state-1250000000"
REGION = "ap-guangzhou"


@dataclass(frozen=True)
class CosEndpoint:
    url: str
    secret_id: str
    secret_key: str
    kind: str  # "sandbox" or "cos-service"


@contextlib.contextmanager
def cos_endpoint() -> Iterator[CosEndpoint | None]:
    try:
        from sandbox.server import Sandbox
    except ImportError:
        pass
    else:
        with Sandbox() as sandbox:
            yield CosEndpoint(sandbox.url, sandbox.secret_id, sandbox.secret_key, "sandbox")
        return
    try:
        from sandbox.cos import CosService
    except ImportError:
        yield None
        return
    service = CosService("AKIDSTATETEST", "state-test-secret")
    with _serve(service) as url:
        yield CosEndpoint(url, "AKIDSTATETEST", "state-test-secret", "cos-service")


@contextlib.contextmanager
def _serve(service: Any) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10
        wbufsize = 1 << 16  # headers and body leave in one write

        def setup(self) -> None:
            super().setup()
            # Without this, Nagle's algorithm and delayed ACKs add ~40 ms to every keep-alive answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            raw_path, _, raw_query = self.path.partition("?")
            status, headers, payload = service.handle(
                self.command, self.headers.get("Host", ""), raw_path, raw_query, dict(self.headers.items()), body
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if not any(k.lower() == "content-length" for k in headers):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _any

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="cos-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _QuietServer(ThreadingHTTPServer):
    """Clients killed with SIGKILL reset their connections; that is the point of the test, not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class CountingReceiver:
    """A webhook receiver that counts deliveries by ``webhook-id``; ``fail_first`` ids get one 503 first."""

    def __init__(self, fail_first: frozenset[str] = frozenset()) -> None:
        self.fail_first = set(fail_first)
        self.accepted: dict[str, list[str]] = {}  # delivery id -> run ids whose POST was answered 200
        self.refused: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._open = 0  # connections being served: a dead client's last request may still be in one
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30

            def setup(self) -> None:
                with receiver._lock:
                    receiver._open += 1
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with receiver._lock:
                        receiver._open -= 1

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                did, run = self.headers.get("webhook-id", ""), self.headers.get("x-run-id", "")
                with receiver._lock:
                    refuse = did in receiver.fail_first
                    receiver.fail_first.discard(did)
                    book = receiver.refused if refuse else receiver.accepted
                    book.setdefault(did, []).append(run)
                status = 503 if refuse else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> CountingReceiver:
        self._thread.start()
        return self

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every connection is closed and its requests counted (a killed client's sockets are
        closed by the kernel; what it had sent is still read and counted first). Close your own pooled
        connections before calling it."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._open == 0:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver still serves {self._open} connection(s) after {timeout} s")
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {k: len(v) for k, v in self.accepted.items()}
