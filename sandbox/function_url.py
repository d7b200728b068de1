"""A Function URL of the sandbox's SCF: its own HTTP port on 127.0.0.1, one handler run per request.

Each request becomes the event SCF documents for an event function behind a Function URL (583/96099):
``{"body", "headers", "httpMethod", "path", "queryString"}`` with lower-case header names, the
caller's address in ``headers["x-scf-remote-addr"]`` (whatever the client sent there is replaced), and
none of the API-gateway fields (``requestContext``, ``headerParameters``, ``isBase64Encoded``,
``pathParameters``, ``queryStringParameters``). A repeated query parameter becomes a list. There is no
``body`` key when the request has no body.

Not documented, so these are the sandbox's choices: a body that is not UTF-8 is sent base64-encoded
with ``"isBase64Encoded": true`` added; an integrated response with ``isBase64Encoded: true`` is decoded
into raw bytes (how the real URL treats it is unconfirmed: try a PNG against a real URL before relying
on it); a handler error or timeout answers 502 with ``{"errorCode": -1, "errorMessage"}``.
A JSON return value without ``statusCode`` answers 200 ``application/json`` with that JSON (documented).
Every request runs the handler in a new process (``sandbox.scf_runtime``), about 0.3 s for the
product's API on this machine: nothing carries over between requests, where SCF may reuse a warm
instance. ``AuthType: CAM`` URLs answer 403 to a request without an ``Authorization`` header; the signature
itself is not verified. Request bodies over 6 MB answer 413.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.scf_runtime import Outcome

BODY_LIMIT = 6 * 1024 * 1024
JSON_TYPE = "application/json"
Answer = tuple[int, list[tuple[str, str]], bytes]


def url_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str) -> dict[str, Any]:
    """The event a Function URL hands an event function for one HTTP request: the shape ``python -m lib
    serve`` builds too, defined once in ``lib.api.http_bridge.build_event``."""
    from lib.api.http_bridge import build_event

    return build_event(method.upper(), target, headers=headers, body=body, client_ip=client_ip)


def http_answer(outcome: Outcome) -> Answer:
    """Turn a handler's outcome into the HTTP answer the URL sends back."""
    if not outcome.ok:
        return _json(502, {"errorCode": -1, "errorMessage": outcome.error_message, "errorType": outcome.error_type})
    result = outcome.result
    if not (isinstance(result, dict) and isinstance(result.get("statusCode"), int)):
        return 200, [("Content-Type", JSON_TYPE)], json.dumps(result, ensure_ascii=False).encode("utf-8")
    raw_body = result.get("body")
    text = "" if raw_body is None else raw_body if isinstance(raw_body, str) else json.dumps(raw_body)
    if result.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return _json(502, {"errorCode": -1, "errorMessage": "isBase64Encoded is set but the body is not base64"})
    else:
        data = text.encode("utf-8")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        for item in value if isinstance(value, list) else [value]:
            headers.append((str(name), str(item)))
    return int(result["statusCode"]), headers, data


def _json(status: int, doc: dict[str, Any]) -> Answer:
    return status, [("Content-Type", JSON_TYPE)], json.dumps(doc, ensure_ascii=False).encode("utf-8")


class FunctionUrl:
    """One Function URL: ``start()`` binds a free port, ``url`` is ``http://127.0.0.1:PORT/``."""

    def __init__(self, run: Callable[[dict[str, Any]], Outcome], *, auth_type: str = "NONE", host: str = "127.0.0.1"):
        self.run = run
        self.auth_type = auth_type
        self._server = _Server((host, 0), self)
        self.url = f"http://{host}:{self._server.server_address[1]}/"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="function-url", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def answer(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str) -> Answer:
        if self.auth_type == "CAM" and not any(name.lower() == "authorization" for name, _ in headers):
            return _json(403, {"errorCode": -1, "errorMessage": "this Function URL requires CAM authentication"})
        return http_answer(self.run(url_event(method, target, headers, body, client_ip)))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], owner: FunctionUrl) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 15
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test double's access log is noise."""

    def _serve(self) -> None:
        length_text = self.headers.get("Content-Length", "0").strip() or "0"
        if not length_text.isdigit():
            self._send(*_json(400, {"errorCode": -1, "errorMessage": "Content-Length is not a number"}), close=True)
            return
        length = int(length_text)
        if length > BODY_LIMIT:
            self._send(*_json(413, {"errorCode": -1, "errorMessage": "the request body exceeds 6 MB"}), close=True)
            return
        body = self.rfile.read(length) if length else b""
        answer = self.server.owner.answer(
            self.command, self.path, list(self.headers.items()), body, str(self.client_address[0])
        )
        self._send(*answer)

    def _send(self, status: int, headers: list[tuple[str, str]], data: bytes, *, close: bool = False) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve
