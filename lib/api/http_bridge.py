"""Local HTTP for the API handler: HTTP request → Function URL event → ``main_handler`` → HTTP response.

``serve`` backs ``python -m lib serve``; ``ApiServer`` runs the same server in a thread for tests (port 0
picks a free port). The event is shaped like a Function URL's (``lib.api.events``), the way the deployed
API function is reached, so the handler cannot tell the difference.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import sys
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lib.api.events import MAX_BODY, REMOTE_ADDR_HEADER
from lib.errors import ConfigError

if TYPE_CHECKING:
    from lib.app.runtime import App

log = logging.getLogger("lib.api.http")


def build_event(
    method: str,
    target: str,
    *,
    headers: list[tuple[str, str]],
    body: bytes,
    client_ip: str,
) -> dict[str, Any]:
    """The Function URL event for one HTTP request: lower-case headers, the caller in x-scf-remote-addr.

    A repeated query parameter becomes a list and a repeated header one comma-joined value. A body that
    is not UTF-8 travels base64-encoded with ``isBase64Encoded: true`` (how a real Function URL sends
    binary bodies is not documented; the handler honours the flag when it is there).
    """
    parts = urlsplit(target)
    query: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in query:
            previous = query[key]
            query[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            query[key] = value
    header_map: dict[str, str] = {}
    for raw_name, value in headers:
        name = raw_name.lower()
        header_map[name] = f"{header_map[name]}, {value}" if name in header_map else value
    header_map[REMOTE_ADDR_HEADER] = client_ip  # the URL's own value: a client cannot choose its address
    event: dict[str, Any] = {
        "headers": header_map,
        "httpMethod": method,
        "path": unquote(parts.path) or "/",
        "queryString": query,
    }
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def local_context(request_id: str) -> dict[str, Any]:
    return {
        "memory_limit_in_mb": 128,
        "time_limit_in_ms": 30000,
        "request_id": request_id,
        "function_name": "budget-alerts-api",
        "function_version": "$LATEST",
        "namespace": "default",
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "budget-alerts-local"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: without this, delayed ACKs cost 40 ms
    timeout = 15  # seconds an idle keep-alive connection may wait for its next request

    def _handle(self) -> None:
        from lib.api import handle

        body = self._read_body()
        if body is None:
            return
        rid = uuid.uuid4().hex
        event = build_event(
            self.command,
            self.path,
            headers=list(self.headers.items()),
            body=body,
            client_ip=str(self.client_address[0]),
        )
        result = handle(event, local_context(rid))
        self._reply(result)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, FOO) reaches the handler too, which answers 405 or 400 in JSON;
        # the stdlib would answer a 501 HTML page.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own refusals (malformed request line, 414, 431) in the API's JSON error shape."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self.log_error("code %d, message %s", code, message)
        self._plain_error(code, phrase.lower().replace(" ", "_").replace("-", "_"), message or phrase)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if len(lengths) > 1:  # RFC 9112 §6.3: which one frames the body is ambiguous
            self._plain_error(400, "bad_request", "conflicting Content-Length headers")
            return None
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        if not raw.isdigit():
            self._plain_error(400, "bad_request", "Content-Length is not a number")
            return None
        length = int(raw)
        if length > MAX_BODY:
            # Read one byte past the limit so the handler answers 413 itself; the rest is never read,
            # so this connection cannot carry another request.
            self.close_connection = True
            return self.rfile.read(MAX_BODY + 1)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        """A chunked body (RFC 9112 §7.1), read up to one byte past the limit like a sized one."""
        data = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._plain_error(400, "bad_request", "malformed chunked body")
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields carry nothing the API reads
                return bytes(data)
            if len(data) + size > MAX_BODY:
                self.close_connection = True
                return bytes(data) + self.rfile.read(MAX_BODY + 1 - len(data))
            data += self.rfile.read(size)
            self.rfile.readline(16)  # the CRLF after each chunk

    def _reply(self, result: Any) -> None:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            self._plain_error(502, "bad_gateway", "the handler returned no integrated response")
            return
        body_text = result.get("body") or ""
        data = base64.b64decode(body_text) if result.get("isBase64Encoded") else str(body_text).encode("utf-8")
        self.send_response(result["statusCode"])
        for name, value in (result.get("headers") or {}).items():
            for item in value if isinstance(value, list) else [value]:
                self.send_header(str(name), str(item))
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _plain_error(self, status: int, code: str, message: str) -> None:
        data = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    # Idle keep-alive connections must not hold shutdown hostage: threads are not joined on close, and
    # an idle connection times out (see _Handler.timeout).
    daemon_threads = True
    block_on_close = False


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    try:
        return _Server((host, port), _Handler)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def serve(host: str, port: int) -> int:
    """Serve until interrupted; prints ``serving the API on http://HOST:PORT`` (the real port) first."""
    from lib.api.auth import TOKEN_VARIABLE, api_tokens
    from lib.app.instance import environ

    tokens = api_tokens(environ())  # a too-short token stops the server here, before it listens
    server = make_server(host, port)
    with server:
        bound_host, bound_port = server.server_address[:2]
        print(f"serving the API on http://{bound_host!s}:{bound_port}", flush=True)
        if not tokens:
            print(f"warning: {TOKEN_VARIABLE} is not set: every route but /health answers 401", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a local server is stopped
            server.serve_forever()
    return 0


class ApiServer:
    """The bridge in a background thread on 127.0.0.1 (tests, demo); ``app`` is injected if given."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, app: App | None = None) -> None:
        self.host = host
        self.port = port
        self.app = app
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._previous: App | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> ApiServer:
        import lib.api

        if self.app is not None:
            self._previous = lib.api.current_app()
            lib.api.set_app(self.app)
        self._server = make_server(self.host, self.port)
        self.port = int(self._server.server_address[1])
        # A short poll interval makes shutdown quick (tests start and stop many servers).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="api-server", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        import lib.api

        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.app is not None:
            lib.api.set_app(self._previous)
