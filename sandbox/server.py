"""The sandbox HTTP server: one threaded port on 127.0.0.1 for API 3.0 and COS, and ``python -m sandbox cloud``.

Requests whose Host is ``<bucket>-<appid>.cos.<region>.myqcloud.com`` (any host with a ``.cos.`` label)
go to the COS emulator (``sandbox.cos.CosService``); paths under ``/_sandbox/scf/`` go to the SCF
emulator's control endpoint (``sandbox.scf.ScfService.control``: ``POST /_sandbox/scf/fire?function=NAME
&namespace=NS`` fires a timer trigger); everything else is API 3.0 (``sandbox.api3``): teo, billing, cdn,
organization, sts (whose temporary keys the front door accepts while they last) and scf (whose
Function URLs each listen on a port of their own, see ``sandbox.function_url``).
HTTP/1.1 keep-alive with exact ``Content-Length``; idle connections close after 30 s and are shut down
when the server stops.

Faults for COS: ``CosService`` is given ``fault=lambda op: scenario.fault_for("cos", op)``, so a
scenario fault with ``product: cos`` and ``action: GetObject`` (PutObject, HeadObject, DeleteObject,
GetBucket, ...) applies to authenticated COS requests: latency, then an XML error with its
``http_status`` and ``code``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from xml.sax.saxutils import escape

from lib.errors import ConfigError
from sandbox import billing, cdn, organization, sts, teo
from sandbox.api3 import Api3, Reply, Request, error_reply
from sandbox.scenario import Scenario
from sandbox.scf import ScfService
from sandbox.verify import Credential

BODY_LIMIT = 64 * 1024 * 1024  # larger bodies are refused without being read
API_BODY_LIMIT = 10 * 1024 * 1024
IDLE_TIMEOUT = 30.0
_COS_HOST = re.compile(r"(^|\.)cos\.[a-z0-9-]+\.(myqcloud\.com|tencentcos\.cn)(:\d+)?$|\.cos\.", re.IGNORECASE)
_WALL: Callable[[], float] = time.time  # bound at import: tests that patch time.time do not move it


class CosHandler(Protocol):
    def handle(  # noqa: PLR0917 - the COS emulator's dispatch contract
        self, method: str, host: str, raw_path: str, raw_query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]: ...

    def objects(self, bucket: str) -> dict[str, bytes]: ...


def is_cos_host(host: str) -> bool:
    return bool(_COS_HOST.search(host.strip()))


def cos_error(status: int, code: str, message: str, resource: str) -> Reply:
    body = (
        "<?xml version='1.0' encoding='utf-8' ?>\n<Error>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message><Resource>{escape(resource)}</Resource>"
        "</Error>"
    ).encode()
    return status, {"Content-Type": "application/xml"}, body


def _load_cos(
    scenario: Scenario, credentials: list[Credential], data_dir: str | None, clock: Callable[[], float]
) -> CosHandler | None:
    try:
        from sandbox.cos import CosService
    except ModuleNotFoundError as exc:
        if exc.name == "sandbox.cos":
            return None  # built without the COS part: COS requests answer 501
        raise
    first = credentials[0]
    service = CosService(
        first.secret_id,
        first.secret_key,
        data_dir=data_dir,
        clock=clock,
        token=first.token,
        fault=lambda operation: scenario.fault_for("cos", operation),
    )
    for extra in credentials[1:]:
        service.add_credential(extra.secret_id, extra.secret_key, extra.token)
    handler: CosHandler = service
    return handler


class SandboxApp:
    """Routes one HTTP request to COS or API 3.0; the HTTP layer stays in ``_Handler``."""

    def __init__(
        self,
        scenario: Scenario,
        credentials: Iterable[Credential],
        *,
        data_dir: str | None = None,
        signature_clock: Callable[[], float] = _WALL,
        sleep: Callable[[float], None] = time.sleep,
        host: str = "127.0.0.1",
    ) -> None:
        creds = list(credentials)
        self.scenario = scenario
        self.cos = _load_cos(scenario, creds, data_dir, signature_clock)
        account = scenario.spec.account
        self.scf = ScfService(
            creds[0], app_id=account.app_id, uin=account.uin, cos=self.cos, clock=signature_clock, host=host
        )
        self.sts = sts.StsService(scenario, clock=signature_clock)
        self.api = Api3(
            scenario,
            {c.secret_id: c for c in creds},
            {"teo": teo.PRODUCT, "billing": billing.PRODUCT, "cdn": cdn.PRODUCT, "scf": self.scf.product()}
            | {"organization": organization.PRODUCT, "sts": self.sts.product()},
            signature_clock=signature_clock,
            sleep=sleep,
            issued=self.sts.issued,
        )

    def dispatch(self, method: str, target: str, headers: Mapping[str, str], body: bytes, *, too_large: bool) -> Reply:
        """Answer one request; ``headers`` has lower-case names."""
        path, _, query = target.partition("?")
        host = headers.get("host", "")
        if is_cos_host(host):
            if too_large:
                return cos_error(400, "EntityTooLarge", "Your proposed upload exceeds the sandbox's limit.", path)
            if self.cos is None:
                return cos_error(501, "NotImplemented", "The sandbox was built without COS.", path)
            return self.cos.handle(method, host, path, query, headers, body)
        if path.startswith("/_sandbox/scf/"):
            return self.scf.control(method.upper(), path, query)
        return self.api.handle(Request(method, path, query, dict(headers), body, body_too_large=too_large))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp, *, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        self.served = 0
        self.connections = 0
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
            self.connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the client went away mid-request: there is no one left to answer
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections so they end now."""
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by its handler: nothing left to wake
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body are two writes: without this, delayed ACKs cost 40 ms
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"sandbox: {self.address_string()} {format % args}\n")

    def _read_body(self) -> tuple[bytes, bool]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(65537)
                length = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                size += length
                if size > BODY_LIMIT:
                    self.close_connection = True
                    return b"", True
                chunks.append(self.rfile.read(length))
                self.rfile.readline(3)
            return b"".join(chunks), False
        length = int(self.headers.get("Content-Length") or 0)
        if length > BODY_LIMIT:
            self.close_connection = True  # the body stays unread, so this connection cannot be reused
            return b"", True
        body = self.rfile.read(length) if length > 0 else b""
        return body, length > API_BODY_LIMIT and not is_cos_host(self.headers.get("Host", ""))

    def _serve(self) -> None:
        try:
            body, too_large = self._read_body()
        except ValueError:
            self.send_error(400, "Bad request body framing")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, reply_headers, payload = self.server.app.dispatch(
                self.command, self.path, headers, body, too_large=too_large
            )
        except Exception as exc:  # an emulator bug must still answer, and say what broke
            status, reply_headers, payload = error_reply("InternalError", f"sandbox error: {type(exc).__name__}: {exc}")
            sys.stderr.write(f"sandbox: internal error on {self.command} {self.path}: {exc!r}\n")
        with self.server.sockets_lock:
            self.server.served += 1
        self.send_response(status)
        has_length = any(k.lower() == "content-length" for k in reply_headers)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve


def _scenario(scenario: str | Path | Scenario | Mapping[str, Any] | None) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        return Scenario.from_dict(scenario)
    return Scenario.load(scenario)


class Sandbox:
    """The sandbox in a background thread: ``with Sandbox() as sb: ... sb.url ...``.

    ``scenario``: a YAML path, a loaded ``Scenario``, a mapping, or None for the bundled demo.
    ``signature_clock``: the wall clock signatures are checked against (tests shift it to make a
    client's timestamp look expired); the data clock is the scenario's.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | Mapping[str, Any] | None = None,
        *,
        port: int = 0,
        secret_id: str = "AKIDSANDBOX",  # noqa: S107 - the sandbox's own fixed test credential
        secret_key: str = "sandbox-secret-key",  # noqa: S107
        data_dir: str | None = None,
        host: str = "127.0.0.1",
        token: str | None = None,
        signature_clock: Callable[[], float] = _WALL,
        verbose: bool = False,
    ) -> None:
        self.scenario = _scenario(scenario)
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.token = token
        credentials = [Credential(secret_id, secret_key, token)]
        credentials += [Credential(c.secret_id, c.secret_key, c.token) for c in self.scenario.spec.credentials]
        self.app = SandboxApp(self.scenario, credentials, data_dir=data_dir, signature_clock=signature_clock, host=host)
        try:
            self._server = _Server((host, port), self.app, verbose=verbose)
        except OSError:
            self.app.scf.close()
            raise
        self.host = host
        self.port: int = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    @property
    def now(self) -> datetime:
        """The scenario's data clock (aware, in the scenario's time zone)."""
        return self.scenario.now()

    def set_now(self, moment: datetime) -> None:
        """Move the scenario's data clock to ``moment`` (aware); signatures stay on the wall clock."""
        self.scenario.set_now(moment)

    @property
    def served(self) -> int:
        """Requests answered so far."""
        return self._server.served

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (keep-alive reuses one for many requests)."""
        return self._server.connections

    def start(self) -> Sandbox:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()
        self.app.scf.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(args: argparse.Namespace) -> int:
    """``python -m sandbox cloud``: serve until SIGTERM or SIGINT."""
    host = getattr(args, "host", None) or "127.0.0.1"
    port = getattr(args, "port", 0) or 0
    try:
        sandbox = Sandbox(
            getattr(args, "scenario", None),
            port=port,
            secret_id=getattr(args, "secret_id", None) or "AKIDSANDBOX",
            secret_key=getattr(args, "secret_key", None) or "sandbox-secret-key",
            data_dir=getattr(args, "data_dir", None),
            host=host,
            verbose=bool(getattr(args, "verbose", False)),
        )
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="port") from exc
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        sandbox.start()
        print(f"sandbox listening on {sandbox.url}", flush=True)
        print(
            f"scenario {sandbox.scenario.name!r} ({sandbox.scenario.source}), data clock {sandbox.now.isoformat()}, "
            f"SecretId {sandbox.secret_id}",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("sandbox stopped", flush=True)
    return 0
