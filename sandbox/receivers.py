"""A local webhook receiver that answers like WeCom, DingTalk, Feishu, Slack and a Standard Webhooks
endpoint: for the demo and the end-to-end tests. Not a product feature.

It listens on 127.0.0.1 (a free port) in a background thread, checks what the real platform checks
(the WeCom key, DingTalk and Feishu signatures and keywords, Standard Webhooks signatures, payload
shape and size) with its own code, answers with the platform's own success and error bodies, and
records every request. ``fail`` makes it answer with an error N times, then succeed again.

    with Receiver() as r:
        deliver(..., Channel(type="dingtalk", url=r.url("dingtalk"), secret=r.secret("dingtalk")), ...)
        assert r.received[0].verified
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KINDS = ("wecom", "dingtalk", "feishu", "slack", "webhook")
Echo = Callable[[str, str], None]
Body = Mapping[str, Any] | str | bytes | None

WECOM_OK = {"errcode": 0, "errmsg": "ok"}
DINGTALK_OK = {"errcode": 0, "errmsg": "ok"}
FEISHU_OK = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}

# Error answers by name, as each platform gives them: (HTTP status, body, headers).
ERRORS: dict[str, dict[str, tuple[int, Body, Mapping[str, str]]]] = {
    "wecom": {
        "rate_limited": (200, {"errcode": 45009, "errmsg": "api freq out of limit"}, {}),
        "busy": (200, {"errcode": -1, "errmsg": "system busy"}, {}),
        "invalid_key": (200, {"errcode": 93000, "errmsg": "invalid webhook url"}, {}),
        "bad_msgtype": (200, {"errcode": 40008, "errmsg": "invalid message type"}, {}),
        "too_long": (200, {"errcode": 45002, "errmsg": "content exceed max length"}, {}),
        # Image messages: size (0 or over 2 MB before base64), an MD5 that does not match, not JPG/PNG.
        "bad_image_size": (200, {"errcode": 40009, "errmsg": "invalid image size"}, {}),
        "md5_mismatch": (200, {"errcode": 301019, "errmsg": "media md5 not match"}, {}),
        "bad_image_type": (200, {"errcode": 40005, "errmsg": "invalid file type"}, {}),
    },
    "dingtalk": {
        "rate_limited": (200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}, {}),
        "sign_mismatch": (200, {"errcode": 310000, "errmsg": "sign not match"}, {}),
        "keyword_missing": (200, {"errcode": 310000, "errmsg": "keywords not in content"}, {}),
        "ip_not_allowed": (200, {"errcode": 310000, "errmsg": "ip not in whitelist"}, {}),
        "invalid_token": (200, {"errcode": 300001, "errmsg": "token is not exist"}, {}),
    },
    "feishu": {
        "rate_limited": (200, {"code": 11232, "msg": "frequency limited psm", "data": {}}, {}),
        "bad_request": (200, {"code": 9499, "msg": "Bad Request", "data": {}}, {}),
        "sign_mismatch": (
            200,
            {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"},
            {},
        ),
        "ip_not_allowed": (200, {"code": 19022, "msg": "Ip Not Allowed"}, {}),
        "keyword_missing": (200, {"code": 19024, "msg": "Key Words Not Found"}, {}),
        "invalid_token": (200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}, {}),
    },
    "slack": {
        "rate_limited": (429, "rate_limited", {"Retry-After": "1"}),
        "invalid_payload": (400, "invalid_payload", {}),
        "no_text": (400, "no_text", {}),
        "action_prohibited": (403, "action_prohibited", {}),
        "no_service": (404, "no_service", {}),
        "channel_not_found": (404, "channel_not_found", {}),
        "channel_is_archived": (410, "channel_is_archived", {}),
        "rollup_error": (500, "rollup_error", {}),
    },
    "webhook": {
        "rate_limited": (429, {"error": "slow down"}, {"Retry-After": "30"}),
        "unavailable": (503, {"error": "unavailable"}, {}),
        "bad_signature": (401, {"error": "invalid signature"}, {}),
        "gone": (410, {"error": "endpoint disabled"}, {}),
    },
}


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it, and what it answered."""

    kind: str
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    json: Any
    verified: bool | None  # signature checked and good / bad; None when the kind signs nothing
    status: int
    answer: str
    accepted: bool

    @property
    def summary(self) -> str:
        return summarize(self.kind, self.json)


@dataclass
class _Failure:
    status: int
    body: Body
    headers: Mapping[str, str]
    delay: float = 0.0
    msgtype: str | None = None  # only requests whose JSON ``msgtype`` is this one (WeCom image messages)


@dataclass
class _State:
    received: list[Received] = field(default_factory=list)
    failures: dict[str, deque[_Failure]] = field(default_factory=dict)
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)


def summarize(kind: str, document: Any) -> str:
    """A one-line summary of a message body (what the demo prints)."""
    if not isinstance(document, dict):
        return "(not JSON)"
    try:
        if kind == "wecom":
            msgtype = document.get("msgtype", "")
            if msgtype == "image":
                return _image_summary(document.get("image"))
            text = str(document.get(msgtype, {}).get("content", ""))
        elif kind == "dingtalk":
            text = str(document.get("markdown", {}).get("title") or document.get("text", {}).get("content", ""))
        elif kind == "feishu":
            card = document.get("card") or {}
            text = str(card.get("header", {}).get("title", {}).get("content", "")) or str(
                document.get("content", {}).get("text", "")
            )
        elif kind == "slack":
            text = str(document.get("text", ""))
        else:
            text = str(document.get("message") or "") or f"{document.get('id')} {document.get('status')}"
    except AttributeError:
        return "(unexpected shape)"
    lines = [_plain(line) for line in text.strip().split("\n") if _plain(line)]
    if not lines:
        return ""
    first = lines[0]
    if kind != "webhook" and first.startswith(("预算通知", "Budget alerts")):
        # A batch: name the most urgent alert too, which the body carries first.
        titles = [line for line in _bodies(kind, document) if line[:1] in _TONE_MARKS]
        if titles:
            first = f"{first} | {titles[0]}"
    return first[:200]


_TONE_MARKS = ("🔴", "🟠", "✅", "⚠")


def _plain(line: str) -> str:
    """A line without markdown markers and tags."""
    text = re.sub(r"<[^>]+>", "", line).strip().lstrip("#>-").strip()
    return text.strip("*").strip()


def _bodies(kind: str, document: dict[str, Any]) -> list[str]:
    if kind == "wecom":
        text = str(document.get("markdown", {}).get("content", ""))
    elif kind == "dingtalk":
        text = str(document.get("markdown", {}).get("text", ""))
    elif kind == "slack":
        text = str(document.get("text", ""))
    else:
        elements = (document.get("card") or {}).get("elements", [])
        text = "\n".join(str(e.get("text", {}).get("content", "")) for e in elements if isinstance(e, dict))
    return [_plain(line) for line in text.split("\n")][1 if kind != "feishu" else 0 :]


class Receiver:
    """Local platform look-alike; a context manager. Thread-safe."""

    def __init__(
        self,
        echo: Echo | None = None,
        *,
        token: str = "demo",  # noqa: S107 - the local stand-in for a robot key
        secrets_by_kind: Mapping[str, str] | None = None,
        tolerance: float | None = 3600.0,
        webhook_tolerance: float | None = 300.0,
        webhook_status: int = 204,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.echo = echo
        self.token = token
        self._secrets = {
            "dingtalk": "SEC" + secrets.token_hex(32),
            "feishu": secrets.token_urlsafe(24),
            "webhook": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii"),
        }
        self._secrets.update(secrets_by_kind or {})
        self.tolerance = tolerance
        self.webhook_tolerance = webhook_tolerance
        self.webhook_status = webhook_status
        self.clock = clock
        self._lock = threading.Lock()
        self._state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Receiver:
        if self._server is not None:
            return self
        receiver = self

        class Handler(_Handler):
            owner = receiver

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        # A short poll interval makes stop() quick; the tests start and stop many receivers.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # addresses and secrets -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not running; use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, kind: str) -> str:
        """The webhook URL the platform would give you, pointing here."""
        paths = {
            "wecom": f"/wecom/cgi-bin/webhook/send?key={self.token}",
            "dingtalk": f"/dingtalk/robot/send?access_token={self.token}",
            "feishu": f"/feishu/open-apis/bot/v2/hook/{self.token}",
            "slack": f"/slack/services/TDEMO/BDEMO/{self.token}",
            "webhook": "/webhook/hooks/budget",
        }
        if kind not in paths:
            raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
        return self.base_url + paths[kind]

    def secret(self, kind: str) -> str:
        """The signing secret this receiver checks for ``kind`` ("" for kinds that sign nothing)."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
        return self._secrets.get(kind, "")

    # knobs ---------------------------------------------------------------------------------------
    def fail(
        self,
        kind: str,
        times: int = 1,
        *,
        error: str | None = None,
        status: int | None = None,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        msgtype: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests of ``kind`` with an error, then behave again.

        ``error`` names one of ``ERRORS[kind]``; otherwise ``status``/``body``/``headers`` say what to
        answer (status defaults to 500, or 200 when only a body is given, as the chat platforms do).
        ``delay`` sleeps before answering (to provoke client timeouts). ``msgtype`` limits the failures
        to requests of that message type (``"image"``: fail a chart, not the message before it).
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if error is not None:
            status, body, canned = ERRORS[kind][error]
            headers = {**canned, **(headers or {})}
        if status is None:
            status = 500 if body is None else 200
        failure = _Failure(status, body, dict(headers or {}), delay, msgtype)
        with self._lock:
            queue = self._state.failures.setdefault(kind, deque())
            queue.extend(failure for _ in range(times))

    def require_keyword(self, kind: str, *words: str) -> None:
        """Like a robot's 自定义关键词 security setting: messages must contain one of ``words``."""
        with self._lock:
            self._state.keywords[kind] = tuple(words)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._state.received)

    def clear(self) -> None:
        with self._lock:
            self._state.received.clear()
            self._state.failures.clear()

    # internals -----------------------------------------------------------------------------------
    def slow_down(self, kind: str, seconds: float) -> None:
        """Answer every later request of ``kind`` (successes too) only after ``seconds``: a slow robot."""
        with self._lock:
            self._state.latency[kind] = seconds

    def _latency(self, kind: str) -> float:
        with self._lock:
            return self._state.latency.get(kind, 0.0)

    def _next_failure(self, kind: str, msgtype: Any = None) -> _Failure | None:
        with self._lock:
            queue = self._state.failures.get(kind)
            if not queue or queue[0].msgtype not in (None, msgtype):
                return None
            return queue.popleft()

    def _keywords(self, kind: str) -> tuple[str, ...]:
        with self._lock:
            return self._state.keywords.get(kind, ())

    def _record(self, item: Received) -> None:
        with self._lock:
            self._state.received.append(item)
        if self.echo is not None:
            prefix = "" if item.accepted else f"REFUSED ({item.answer[:80]}): "
            self.echo(item.kind, prefix + item.summary)

    def _fresh(self, timestamp: float, tolerance: float | None) -> bool:
        return tolerance is None or abs(self.clock() - timestamp) <= tolerance

    # platform checks: each returns (verified, status, body, headers) ----------------------------
    def _answer(self, kind: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], raw: bytes) -> Any:
        handler = {
            "wecom": self._wecom,
            "dingtalk": self._dingtalk,
            "feishu": self._feishu,
            "slack": self._slack,
            "webhook": self._webhook,
        }[kind]
        return handler(path, query, headers, raw)

    def _wecom(self, path: str, query: Mapping[str, str], headers: Mapping[str, str], raw: bytes) -> Any:
        errors = ERRORS["wecom"]
        if path != "/wecom/cgi-bin/webhook/send" or query.get("key") != self.token:
            return (None, *errors["invalid_key"])
        document = _json(raw)
        if isinstance(document, dict) and document.get("msgtype") == "image":
            return (None, *_wecom_image(document.get("image")))
        if not isinstance(document, dict) or document.get("msgtype") not in ("text", "markdown", "markdown_v2"):
            return (None, *errors["bad_msgtype"])
        msgtype = document["msgtype"]
        content = document.get(msgtype, {}).get("content") if isinstance(document.get(msgtype), dict) else None
        if not isinstance(content, str) or not content:
            return (None, *errors["bad_msgtype"])
        limit = 2048 if msgtype == "text" else 4096
        if len(content.encode("utf-8")) > limit:
            return (None, *errors["too_long"])
        return (None, 200, WECOM_OK, {})

    def _dingtalk(self, path: str, query: Mapping[str, str], headers: Mapping[str, str], raw: bytes) -> Any:
        errors = ERRORS["dingtalk"]
        if path != "/dingtalk/robot/send" or query.get("access_token") != self.token:
            return (None, *errors["invalid_token"])
        verified: bool | None = None
        secret = self._secrets.get("dingtalk")
        if secret:
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            # parse_qs has already undone the URL-encoding, as DingTalk does.
            verified = timestamp.isdigit() and hmac.compare_digest(sign, _dingtalk_sign(secret, timestamp))
            if not verified or not self._fresh(int(timestamp) / 1000, self.tolerance):
                return (False, *errors["sign_mismatch"])
        document = _json(raw)
        if not isinstance(document, dict) or "msgtype" not in document:
            # DingTalk's answer for a body it cannot read (UNCONFIRMED wording).
            return (verified, 200, {"errcode": 40035, "errmsg": "缺少参数 json"}, {})
        words = self._keywords("dingtalk")
        if words and not any(w in json.dumps(document, ensure_ascii=False) for w in words):
            return (verified, *errors["keyword_missing"])
        return (verified, 200, DINGTALK_OK, {})

    def _feishu(self, path: str, query: Mapping[str, str], headers: Mapping[str, str], raw: bytes) -> Any:
        errors = ERRORS["feishu"]
        if path != f"/feishu/open-apis/bot/v2/hook/{self.token}":
            return (None, *errors["invalid_token"])
        document = _json(raw)
        if not isinstance(document, dict) or len(raw) > 20 * 1024:
            return (None, *errors["bad_request"])
        verified: bool | None = None
        secret = self._secrets.get("feishu")
        if secret:
            timestamp, sign = str(document.get("timestamp", "")), str(document.get("sign", ""))
            verified = timestamp.isdigit() and hmac.compare_digest(sign, _feishu_sign(secret, timestamp))
            if not verified or not self._fresh(int(timestamp), self.tolerance):
                return (False, *errors["sign_mismatch"])
        msg_type = document.get("msg_type")
        if msg_type == "interactive":
            card = document.get("card")
            if not isinstance(card, dict) or not isinstance(card.get("elements"), list):
                return (verified, *errors["bad_request"])
        elif msg_type not in ("text", "post", "image", "share_chat"):
            return (verified, *errors["bad_request"])
        words = self._keywords("feishu")
        if words and not any(w in json.dumps(document, ensure_ascii=False) for w in words):
            return (verified, *errors["keyword_missing"])
        return (verified, 200, FEISHU_OK, {})

    def _slack(self, path: str, query: Mapping[str, str], headers: Mapping[str, str], raw: bytes) -> Any:
        errors = ERRORS["slack"]
        if path != f"/slack/services/TDEMO/BDEMO/{self.token}":
            return (None, *errors["no_service"])
        document = _json(raw)
        if not isinstance(document, dict):
            return (None, *errors["invalid_payload"])
        blocks = document.get("blocks")
        if not document.get("text") and not blocks:
            return (None, *errors["no_text"])
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > 50 or not _slack_blocks_ok(blocks)):
            return (None, 400, "invalid_blocks", {})
        return (None, 200, "ok", {})

    def _webhook(self, path: str, query: Mapping[str, str], headers: Mapping[str, str], raw: bytes) -> Any:
        if path != "/webhook/hooks/budget":
            return (None, 404, {"error": "not found"}, {})
        verified: bool | None = None
        secret = self._secrets.get("webhook")
        if secret:
            msg_id = headers.get("webhook-id", "")
            timestamp = headers.get("webhook-timestamp", "")
            offered = headers.get("webhook-signature", "").split()
            verified = bool(msg_id and timestamp.isdigit()) and _standard_verify(
                secret, msg_id, timestamp, raw, offered
            )
            if not verified:
                return (False, *ERRORS["webhook"]["bad_signature"])
            if not self._fresh(int(timestamp), self.webhook_tolerance):
                return (False, 401, {"error": "timestamp outside tolerance"}, {})
        if not isinstance(_json(raw), dict):
            return (verified, 400, {"error": "body must be a JSON object"}, {})
        return (verified, self.webhook_status, {"ok": True} if self.webhook_status != 204 else None, {})


WECOM_IMAGE_BYTES = 2 * 1024 * 1024  # the image before base64
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG: the types the robot takes


def decode_image(image: Any) -> bytes | None:
    """The raw bytes of a WeCom image message's ``base64`` (strict: one line, no stray characters), or None."""
    if not isinstance(image, dict) or not isinstance(image.get("base64"), str):
        return None
    try:
        return base64.b64decode(image["base64"], validate=True)
    except (binascii.Error, ValueError):
        return None


def _wecom_image(image: Any) -> tuple[int, Body, Mapping[str, str]]:
    """Check an image message as the robot does: fields present, base64 decodes, size, MD5 of the raw bytes, type."""
    errors = ERRORS["wecom"]
    if not isinstance(image, dict) or not isinstance(image.get("base64"), str) or not isinstance(image.get("md5"), str):
        return errors["bad_msgtype"]
    raw = decode_image(image)
    if not raw or len(raw) > WECOM_IMAGE_BYTES:  # undecodable base64 counts as no image (UNCONFIRMED code)
        return errors["bad_image_size"]
    if hashlib.md5(raw, usedforsecurity=False).hexdigest() != image["md5"].lower():
        return errors["md5_mismatch"]
    if not raw.startswith(_IMAGE_MAGIC):
        return errors["bad_image_type"]
    return 200, WECOM_OK, {}


def _image_summary(image: Any) -> str:
    raw = decode_image(image)
    if raw is None:
        return "[image: unreadable]"
    kind = "PNG" if raw.startswith(_IMAGE_MAGIC[0]) else "JPEG" if raw.startswith(_IMAGE_MAGIC[1]) else "?"
    return f"[image {len(raw):,} B {kind}]"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _slack_blocks_ok(blocks: list[Any]) -> bool:
    for block in blocks:
        if not isinstance(block, dict) or "type" not in block:
            return False
        text = block.get("text")
        if block["type"] == "header" and (not isinstance(text, dict) or len(str(text.get("text", ""))) > 150):
            return False
        if block["type"] == "section" and (not isinstance(text, dict) or len(str(text.get("text", ""))) > 3000):
            return False
    return True


def _dingtalk_sign(secret: str, timestamp: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def _feishu_sign(secret: str, timestamp: str) -> str:
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def _standard_verify(secret: str, msg_id: str, timestamp: str, raw: bytes, offered: list[str]) -> bool:
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret[len("whsec_") :])
        except (binascii.Error, ValueError):
            return False
    else:
        key = secret.encode("utf-8")
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest())
    for item in offered:
        version, _, value = item.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode("ascii", "replace"), expected):
            return True
    return False


def _encode(body: Body) -> tuple[bytes, str]:
    if body is None:
        return b"", "text/plain; charset=utf-8"
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"


class _Handler(BaseHTTPRequestHandler):
    owner: Receiver
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: without this, delayed ACKs cost 40 ms

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo print what they need."""

    def do_GET(self) -> None:
        self._respond(405, {"error": "POST only"}, {})

    def do_POST(self) -> None:
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        kind = parts.path.split("/", 2)[1] if parts.path.count("/") >= 1 else ""
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        if kind not in KINDS:
            self._respond(404, {"error": "unknown path"}, {})
            return
        verified, status, body, extra = owner._answer(kind, parts.path, query, headers, raw)
        if latency := owner._latency(kind):
            time.sleep(latency)
        document = _json(raw)
        failure = owner._next_failure(kind, document.get("msgtype") if isinstance(document, dict) else None)
        if failure is not None:
            status, body, extra = failure.status, failure.body, failure.headers
            if failure.delay:
                time.sleep(failure.delay)
        encoded, _ = _encode(body)
        accepted = failure is None and 200 <= status < 300 and _accepted(kind, body)
        owner._record(
            Received(
                kind=kind,
                method="POST",
                path=parts.path,
                query=query,
                headers=headers,
                body=raw,
                json=_json(raw),
                verified=verified,
                status=status,
                answer=encoded.decode("utf-8", "replace"),
                accepted=accepted,
            )
        )
        self._respond(status, body, extra)

    def _respond(self, status: int, body: Body, headers: Mapping[str, str]) -> None:
        encoded, content_type = _encode(body)
        try:
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(encoded)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if status != 204 and encoded:
                self.wfile.write(encoded)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); nothing left to tell it.
            self.close_connection = True


def _accepted(kind: str, body: Body) -> bool:
    if isinstance(body, Mapping):
        if kind in ("wecom", "dingtalk"):
            return body.get("errcode") == 0
        if kind == "feishu":
            return body.get("code") == 0
    return True
