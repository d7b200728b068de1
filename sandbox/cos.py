"""Sandbox COS: the XML object API (PUT/GET/HEAD/DELETE object, GET bucket) behind q-sign checks.

``CosService(secret_id, secret_key, *, data_dir=None, clock=time.time, token=None, fault=None)``;
``handle(method, host, raw_path, raw_query, headers, body) -> (status, headers, body)`` answers one
request whose Host is ``<bucket>-<appid>.cos.<region>.myqcloud.com`` (a ``:port`` suffix is ignored).
Thread-safe: one lock guards the buckets; signature checks and injected latency run outside it.

Wiring notes for the HTTP server:
- pass the path and the query exactly as received (still percent-encoded) and the raw body;
- send the returned headers as given: they carry ``Content-Length`` (for HEAD the object's size with an
  empty body) and ``x-cos-request-id``; ``Date`` and ``Server`` are left to the server.

Buckets: created implicitly by the first PUT Object (``auto_create_buckets=True``, the default), or by
``create_bucket(name, region)`` / ``PUT /`` (PutBucket). A bucket name (``name-appid``) lives in one region;
asking for it under another region answers ``NoSuchBucket``.

Persistence: ``data_dir=None`` keeps objects in memory. With a folder, each bucket is
``<data_dir>/<name-appid>.<region>/`` and each object one file ``<sha256(key)>.obj`` (a JSON line of
metadata, then the body), replaced atomically on write and loaded again on start.

Authentication (``q-sign-algorithm=sha1``, Authorization header or pre-signed query parameters): the
signature is recomputed over the headers and parameters named in ``q-header-list``/``q-url-param-list``
and the decoded path, and the window ``q-sign-time`` is checked against ``clock()`` (the real clock):
no signature → 403 ``AccessDenied``; malformed → 403 ``AccessDenied``; unknown SecretId → 403
``InvalidAccessKeyId``; window over → 403 ``AccessDenied`` "Request has expired"; window not yet open →
403 ``RequestTimeTooSkewed``; mismatch → 403 ``SignatureDoesNotMatch``; a credential configured with a
token requires ``x-cos-security-token`` equal to it, else 403 ``InvalidToken``.

Faults: ``fault(operation)`` is called for every authenticated request with the operation's name
as CAM names it (``PutObject``, ``GetObject``, ``HeadObject``, ``DeleteObject``, ``GetBucket`` = ListObjects,
``PutBucket``, ``HeadBucket``, ``DeleteBucket``) and returns an instruction:
``None``/``False`` → no fault; an ``int`` status (``503`` → ``SlowDown``, ``500`` → ``InternalError``,
others → ``InjectedFault``);
a ``str`` code (``"SlowDown"`` → 503, ``"InternalError"`` → 500, ``"ServiceUnavailable"`` → 503);
or a mapping ``{"latency": seconds, "status": 503, "code": "SlowDown", "message": "..."}`` (every key
optional, ``http_status`` is an alias of ``status``; latency alone only delays the answer), or any object
with those attributes, such as ``sandbox.scenario.Fault``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import uuid
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from lib.signing.cos import cos_quote, http_string, sign_key, signature, string_to_sign
from sandbox.cos_xml import ListEntry, Listing, error_xml, list_xml

Response = tuple[int, dict[str, str], bytes]
FaultHook = Callable[[str], object]

HOST_PATTERN = re.compile(
    r"^(?P<bucket>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-(?P<appid>\d+))\.cos\.(?P<region>[a-z0-9-]+)\.myqcloud\.com(?::\d+)?$"
)
MAX_KEY_BYTES = 850
MAX_LIST_KEYS = 1000
MAX_META_BYTES = 2048
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Headers PUT Object stores and GET/HEAD Object give back.
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
LIST_PARAMS = {"prefix", "delimiter", "marker", "max-keys", "encoding-type"}
PRESIGN_PARAMS = {
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
}
TOKEN_HEADER = "x-cos-security-token"  # noqa: S105 - a header name, not a secret
# Sub-resources real COS has and this sandbox does not emulate: refuse them rather than ignore them.
UNSUPPORTED_SUBRESOURCES = {
    "accelerate",
    "acl",
    "append",
    "ci-process",
    "cors",
    "delete",
    "domain",
    "encryption",
    "intelligenttiering",
    "inventory",
    "lifecycle",
    "logging",
    "object-lock",
    "origin",
    "partnumber",
    "policy",
    "position",
    "referer",
    "rename",
    "replication",
    "restore",
    "select",
    "symlink",
    "tagging",
    "torrent",
    "uploadid",
    "uploads",
    "versionid",
    "versioning",
    "versions",
    "website",
}
OBJECT_OPERATIONS = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}
BUCKET_OPERATIONS = {"PUT": "PutBucket", "GET": "GetBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}
FAULT_FIELDS = ("latency", "status", "http_status", "code", "message")
FAULT_CODES = {500: "InternalError", 503: "SlowDown"}
FAULT_STATUS = {"InternalError": 500, "SlowDown": 503, "ServiceUnavailable": 503}
FAULT_MESSAGES = {
    "InternalError": "We encountered an internal error. Please try again.",
    "SlowDown": "Please reduce your request rate.",
    "ServiceUnavailable": "Service is unable to handle request.",
}


class CosError(Exception):
    """An answer in COS's XML error form."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass
class StoredObject:
    """One object and what PUT stored with it; ``etag`` is quoted."""

    key: str
    body: bytes
    etag: str
    content_type: str
    last_modified: float
    crc64: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_meta(self) -> dict[str, object]:
        return {
            "key": self.key,
            "etag": self.etag,
            "content_type": self.content_type,
            "last_modified": self.last_modified,
            "crc64": self.crc64,
            "headers": self.headers,
        }


@dataclass
class Bucket:
    name: str
    region: str
    objects: dict[str, StoredObject] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # sorted, for ListObjects

    def put(self, obj: StoredObject) -> None:
        if obj.key not in self.objects:
            insort(self.keys, obj.key)
        self.objects[obj.key] = obj

    def delete(self, key: str) -> bool:
        if self.objects.pop(key, None) is None:
            return False
        del self.keys[bisect_left(self.keys, key)]
        return True


@dataclass(frozen=True)
class Target:
    bucket: str
    appid: str
    region: str
    key: str


def _crc64_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC64_TABLE = _crc64_table()


def crc64_ecma(data: bytes) -> int:
    """CRC-64/XZ (ECMA-182 polynomial, reflected), what COS returns in ``x-cos-hash-crc64ecma``."""
    crc = 0xFFFFFFFFFFFFFFFF
    table = CRC64_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def parse_host(host: str) -> tuple[str, str, str]:
    """``(bucket-appid, appid, region)`` from a virtual-hosted COS Host."""
    match = HOST_PATTERN.match(host.strip().lower())
    if match is None:
        raise CosError(400, "InvalidBucketName", f"The host {host!r} does not name a COS bucket")
    return match["bucket"], match["appid"], match["region"]


def parse_authorization(value: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in value.strip().split("&"):
        name, sep, item = part.partition("=")
        if not sep:
            raise CosError(403, "AccessDenied", "The Authorization value is malformed")
        fields[name.strip().lower()] = item.strip()
    return fields


def parse_window(text: str) -> tuple[int, int]:
    start, sep, end = text.partition(";")
    try:
        window = int(start), int(end)
    except ValueError as exc:
        raise CosError(403, "AccessDenied", f"The time window {text!r} is malformed") from exc
    if not sep or window[0] > window[1]:
        raise CosError(403, "AccessDenied", f"The time window {text!r} is malformed")
    return window


def etag_matches(condition: str, etag: str) -> bool:
    """``If-Match``/``If-None-Match`` list semantics: ``*`` or any listed tag, quotes and ``W/`` ignored."""
    wanted = etag.strip('"')
    for item in condition.split(","):
        tag = item.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/").strip('"')
        if tag == wanted:
            return True
    return False


def parse_http_date(text: str) -> float | None:
    """An HTTP date as a timestamp; ``None`` when unparsable, since such conditions are ignored."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # "-0000" means UTC with no zone information
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def parse_range(text: str, size: int) -> tuple[int, int] | None:
    """Inclusive ``(first, last)`` of a single ``bytes=`` range; ``None`` means serve the whole object."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", text)
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:
        length = int(match[2])
        if length == 0:
            raise CosError(
                416, "InvalidRange", "The requested range is not satisfiable", {"Content-Range": f"bytes */{size}"}
            )
        return max(size - length, 0), size - 1
    first = int(match[1])
    last = int(match[2]) if match[2] else size - 1
    if match[2] and last < first:
        return None  # syntactically invalid: ignored, the whole object is served
    if first >= size:
        raise CosError(
            416, "InvalidRange", "The requested range is not satisfiable", {"Content-Range": f"bytes */{size}"}
        )
    return first, min(last, size - 1)


def interpret_fault(instruction: object) -> tuple[float, int | None, str, str]:
    """``(latency, status, code, message)`` from a fault hook's answer (see the module docstring)."""
    latency = 0.0
    status: int | None = None
    code = ""
    message = ""
    if isinstance(instruction, bool):
        raise ValueError("a COS fault instruction must be None, a status, a code or a mapping, not a bool")
    if isinstance(instruction, int):
        status = instruction
    elif isinstance(instruction, str):
        code = instruction
    elif isinstance(instruction, Mapping) or hasattr(instruction, "latency"):
        if isinstance(instruction, Mapping):
            fields = dict(instruction)
        else:  # an object such as sandbox.scenario.Fault
            fields = {name: getattr(instruction, name, None) for name in FAULT_FIELDS}
        unknown = set(fields) - set(FAULT_FIELDS)
        if unknown:
            raise ValueError(f"unknown COS fault fields: {sorted(unknown)}")
        latency = float(fields.get("latency") or 0)
        raw_status = fields.get("status") if fields.get("status") is not None else fields.get("http_status")
        status = int(str(raw_status)) if raw_status is not None else None
        code = str(fields.get("code") or "")
        message = str(fields.get("message") or "")
    else:
        raise ValueError(f"unsupported COS fault instruction: {instruction!r}")
    if code and status is None:
        status = FAULT_STATUS.get(code, 500)
    if status is not None:
        code = code or FAULT_CODES.get(status, "InjectedFault")
        message = message or FAULT_MESSAGES.get(code, "Injected fault")
    return latency, status, code, message


class ObjectFiles:
    """One file per object under ``<root>/<bucket>.<region>/``, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def bucket_dir(self, bucket: Bucket) -> Path:
        return self.root / f"{bucket.name}.{bucket.region}"

    def path(self, bucket: Bucket, key: str) -> Path:
        return self.bucket_dir(bucket) / (hashlib.sha256(key.encode("utf-8")).hexdigest() + ".obj")

    def create_bucket(self, bucket: Bucket) -> None:
        self.bucket_dir(bucket).mkdir(exist_ok=True)

    def delete_bucket(self, bucket: Bucket) -> None:
        self.bucket_dir(bucket).rmdir()

    def write(self, bucket: Bucket, obj: StoredObject) -> None:
        target = self.path(bucket, obj.key)
        tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
        with tmp.open("wb") as fh:
            fh.write(json.dumps(obj.to_meta(), sort_keys=True).encode("utf-8") + b"\n" + obj.body)
        os.replace(tmp, target)

    def delete(self, bucket: Bucket, key: str) -> None:
        self.path(bucket, key).unlink(missing_ok=True)

    def load(self) -> list[Bucket]:
        buckets = []
        for folder in sorted(self.root.iterdir()):
            name, sep, region = folder.name.partition(".")
            if not folder.is_dir() or not sep:
                continue
            bucket = Bucket(name, region)
            for item in sorted(folder.glob("*.obj")):
                raw = item.read_bytes()
                head, _, body = raw.partition(b"\n")
                try:
                    meta = json.loads(head)
                    obj = StoredObject(
                        key=str(meta["key"]),
                        body=body,
                        etag=str(meta["etag"]),
                        content_type=str(meta["content_type"]),
                        last_modified=float(meta["last_modified"]),
                        crc64=str(meta["crc64"]),
                        headers={str(k): str(v) for k, v in dict(meta["headers"]).items()},
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"sandbox COS object file {item} is corrupt: {exc}") from exc
                bucket.put(obj)
            buckets.append(bucket)
        return buckets


class CosService:
    """An in-process COS endpoint for any number of buckets; see the module docstring."""

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
        token: str | None = None,
        fault: FaultHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
        auto_create_buckets: bool = True,
    ) -> None:
        self._credentials: dict[str, tuple[str, str | None]] = {secret_id: (secret_key, token)}
        self._clock = clock
        self._fault = fault
        self._sleep = sleep
        self.auto_create_buckets = auto_create_buckets
        self._lock = threading.Lock()
        self._buckets: dict[str, Bucket] = {}
        self._files = ObjectFiles(Path(data_dir)) if data_dir is not None else None
        if self._files is not None:
            for bucket in self._files.load():
                self._buckets[bucket.name] = bucket

    # -- administration (tests, scenarios) ------------------------------------------------------------

    def add_credential(self, secret_id: str, secret_key: str, token: str | None = None) -> None:
        """Accept another key pair (and its required token, if any)."""
        with self._lock:
            self._credentials[secret_id] = (secret_key, token)

    def create_bucket(self, bucket: str, region: str) -> bool:
        """Create ``bucket`` (``name-appid``) in ``region``; False when it already exists there."""
        name, _, found_region = parse_host(f"{bucket}.cos.{region}.myqcloud.com")
        with self._lock:
            existing = self._buckets.get(name)
            if existing is not None:
                if existing.region != found_region:
                    raise ValueError(f"bucket {name} already exists in region {existing.region}")
                return False
            self._create(name, found_region)
            return True

    def objects(self, bucket: str) -> dict[str, bytes]:
        """A snapshot of a bucket's keys and bodies (empty when the bucket does not exist)."""
        with self._lock:
            found = self._buckets.get(bucket)
            return {k: o.body for k, o in found.objects.items()} if found else {}

    # -- requests ----------------------------------------------------------------------------------------

    def handle(  # noqa: PLR0917 - the sandbox server's dispatch contract
        self,
        method: str,
        host: str,
        raw_path: str,
        raw_query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        method = method.upper()
        request_id = self._request_id()
        hdrs = {k.lower(): v for k, v in headers.items()}
        host = host or hdrs.get("host", "")
        if "?" in raw_path and not raw_query:
            raw_path, _, raw_query = raw_path.partition("?")
        resource = f"{host.partition(':')[0]}{raw_path}"
        try:
            target, params, operation = self._route(method, host, raw_path, raw_query)
            self._authenticate(method, raw_path, params, hdrs)
            self._apply_fault(operation)
            status, out, payload = self._dispatch(operation, target, params, hdrs, body)
        except CosError as err:
            status, out, payload = self._error(err, method, resource, request_id)
        out["x-cos-request-id"] = request_id
        return status, out, b"" if method == "HEAD" else payload

    def _route(self, method: str, host: str, raw_path: str, raw_query: str) -> tuple[Target, dict[str, str], str]:
        bucket, appid, region = parse_host(host)
        try:
            path = unquote(raw_path or "/", errors="strict")
            params = dict(parse_qsl(raw_query, keep_blank_values=True, errors="strict"))
        except UnicodeDecodeError as exc:
            raise CosError(400, "InvalidURI", "The URI is not valid UTF-8") from exc
        if not path.startswith("/"):
            raise CosError(400, "InvalidURI", "The path must start with /")
        key = path[1:]
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise CosError(400, "KeyTooLong", f"The object key is longer than {MAX_KEY_BYTES} bytes")
        table = OBJECT_OPERATIONS if key else BUCKET_OPERATIONS
        operation = table.get(method)
        if operation is None:
            raise CosError(405, "MethodNotAllowed", f"The method {method} is not allowed on this resource")
        for name in params:
            if name.lower() in UNSUPPORTED_SUBRESOURCES:
                raise CosError(501, "NotImplemented", f"The sandbox does not implement the ?{name} sub-resource")
        return Target(bucket, appid, region, key), params, operation

    def _authenticate(self, method: str, raw_path: str, params: Mapping[str, str], hdrs: Mapping[str, str]) -> None:
        if "authorization" in hdrs and hdrs["authorization"].strip():
            fields = parse_authorization(hdrs["authorization"])
            signed_params = params
        elif "q-sign-algorithm" in params or "q-signature" in params:
            fields = {k.lower(): v for k, v in params.items() if k.lower() in PRESIGN_PARAMS}
            signed_params = {k: v for k, v in params.items() if k.lower() not in PRESIGN_PARAMS}
        else:
            raise CosError(403, "AccessDenied", "Access Denied.")
        required = ("q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-signature")
        missing = [name for name in required if not fields.get(name)]
        if missing:
            raise CosError(403, "AccessDenied", f"The signature lacks {', '.join(missing)}")
        if fields["q-sign-algorithm"].lower() != "sha1":
            raise CosError(403, "AccessDenied", "Only q-sign-algorithm=sha1 is supported")
        with self._lock:
            credential = self._credentials.get(fields["q-ak"])
        if credential is None:
            raise CosError(403, "InvalidAccessKeyId", "The SecretId you provided does not exist")
        secret_key, token = credential
        now = self._clock()
        for name in ("q-sign-time", "q-key-time"):
            start, end = parse_window(fields[name])
            if now > end:
                raise CosError(403, "AccessDenied", "Request has expired")
            if now < start:
                raise CosError(
                    403,
                    "RequestTimeTooSkewed",
                    "The difference between the request time and the server's time is too large",
                )
        chosen_headers = self._signed_items(fields.get("q-header-list", ""), hdrs, "q-header-list")
        chosen_params = self._signed_items(fields.get("q-url-param-list", ""), signed_params, "q-url-param-list")
        path = unquote(raw_path or "/")
        http = http_string(method, path, chosen_params, chosen_headers)
        expected = signature(sign_key(secret_key, fields["q-key-time"]), string_to_sign(fields["q-sign-time"], http))
        if not hmac.compare_digest(expected, fields["q-signature"].lower()):
            raise CosError(
                403, "SignatureDoesNotMatch", "The Signature you specified does not match what we calculated"
            )
        if token is not None:
            sent = hdrs.get(TOKEN_HEADER, params.get(TOKEN_HEADER))
            if sent is None:
                raise CosError(403, "InvalidToken", "The request needs x-cos-security-token for this SecretId")
            if not hmac.compare_digest(sent.encode("utf-8"), token.encode("utf-8")):
                raise CosError(403, "InvalidToken", "The x-cos-security-token is not valid for this SecretId")

    @staticmethod
    def _signed_items(names: str, actual: Mapping[str, str], list_name: str) -> dict[str, str | None]:
        """The request's own items named by a q-*-list, keyed as sent (the signer encodes and lower-cases)."""
        by_encoded = {cos_quote(k).lower(): (k, v) for k, v in actual.items()}
        chosen: dict[str, str | None] = {}
        for name in filter(None, names.lower().split(";")):
            item = by_encoded.get(name)
            if item is None:
                raise CosError(403, "SignatureDoesNotMatch", f"{name!r} in {list_name} is not in the request")
            chosen[item[0]] = item[1]
        return chosen

    def _apply_fault(self, operation: str) -> None:
        if self._fault is None:
            return
        instruction = self._fault(operation)
        if instruction is None or instruction is False:
            return
        latency, status, code, message = interpret_fault(instruction)
        if latency > 0:
            self._sleep(latency)
        if status is not None:
            raise CosError(status, code, message)

    def _dispatch(
        self, operation: str, target: Target, params: Mapping[str, str], hdrs: Mapping[str, str], body: bytes
    ) -> Response:
        if operation == "PutObject":
            return self._put_object(target, hdrs, body)
        if operation in ("GetObject", "HeadObject"):
            return self._get_object(target, params, hdrs, head=operation == "HeadObject")
        if operation == "DeleteObject":
            return self._delete_object(target)
        if operation == "GetBucket":
            return self._list_objects(target, params)
        if operation == "PutBucket":
            return self._put_bucket(target)
        if operation == "HeadBucket":
            with self._lock:
                self._bucket(target)
            return 200, {"Content-Length": "0"}, b""
        return self._delete_bucket(target)

    # -- operations ------------------------------------------------------------------------------------

    def _bucket(self, target: Target) -> Bucket:
        """The target's bucket; the caller holds the lock."""
        found = self._buckets.get(target.bucket)
        if found is None or found.region != target.region:
            raise CosError(404, "NoSuchBucket", "The specified bucket does not exist.")
        return found

    def _create(self, name: str, region: str) -> Bucket:
        bucket = Bucket(name, region)
        if self._files is not None:
            self._files.create_bucket(bucket)
        self._buckets[name] = bucket
        return bucket

    def _put_object(self, target: Target, hdrs: Mapping[str, str], body: bytes) -> Response:
        digest = hashlib.md5(body).digest()
        if "content-md5" in hdrs:
            try:
                sent = base64.b64decode(hdrs["content-md5"].strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise CosError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.") from exc
            if len(sent) != 16:
                raise CosError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
            if sent != digest:
                raise CosError(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
        stored = {name: hdrs[name] for name in STORED_HEADERS if name in hdrs}
        meta = {k: v for k, v in hdrs.items() if k.startswith("x-cos-meta-")}
        if sum(len(k) + len(v) for k, v in meta.items()) > MAX_META_BYTES:
            raise CosError(400, "MetadataTooLarge", f"The x-cos-meta-* headers exceed {MAX_META_BYTES} bytes")
        stored.update(meta)
        storage_class = hdrs.get("x-cos-storage-class", "").strip().upper()
        if storage_class and storage_class != "STANDARD":
            stored["x-cos-storage-class"] = storage_class
        forbid = hdrs.get("x-cos-forbid-overwrite", "").strip().lower() == "true"
        obj = StoredObject(
            key=target.key,
            body=body,
            etag=f'"{digest.hex()}"',
            content_type=hdrs.get("content-type") or DEFAULT_CONTENT_TYPE,
            last_modified=self._clock(),
            crc64=str(crc64_ecma(body)),
            headers=stored,
        )
        with self._lock:
            bucket = self._buckets.get(target.bucket)
            if bucket is None and self.auto_create_buckets:
                bucket = self._create(target.bucket, target.region)
            bucket = self._bucket(target)
            if forbid and target.key in bucket.objects:
                raise CosError(
                    409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true."
                )
            if self._files is not None:
                self._files.write(bucket, obj)
            bucket.put(obj)
        return 200, {"ETag": obj.etag, "x-cos-hash-crc64ecma": obj.crc64, "Content-Length": "0"}, b""

    def _get_object(
        self, target: Target, params: Mapping[str, str], hdrs: Mapping[str, str], *, head: bool
    ) -> Response:
        with self._lock:
            obj = self._bucket(target).objects.get(target.key)
        if obj is None:
            raise CosError(404, "NoSuchKey", "The specified key does not exist.")
        out = {
            "Content-Type": obj.content_type,
            "ETag": obj.etag,
            "Last-Modified": http_date(obj.last_modified),
            "Accept-Ranges": "bytes",
            "x-cos-hash-crc64ecma": obj.crc64,
        }
        for name, value in obj.headers.items():
            out[name.title() if name in STORED_HEADERS else name] = value
        self._check_conditions(obj, hdrs, out)
        if not head:
            for param, header in RESPONSE_OVERRIDES.items():
                if param in params:
                    out[header] = params[param]
        payload = obj.body
        status = 200
        span = parse_range(hdrs["range"], len(obj.body)) if "range" in hdrs and obj.body else None
        if span is not None:
            first, last = span
            payload = obj.body[first : last + 1]
            status = 206
            out["Content-Range"] = f"bytes {first}-{last}/{len(obj.body)}"
        out["Content-Length"] = str(len(payload))
        return status, out, payload

    @staticmethod
    def _check_conditions(obj: StoredObject, hdrs: Mapping[str, str], out: dict[str, str]) -> None:
        """RFC 7232 order: If-Match, else If-Unmodified-Since (412); If-None-Match, else If-Modified-Since (304)."""
        modified = int(obj.last_modified)
        if "if-match" in hdrs:
            if not etag_matches(hdrs["if-match"], obj.etag):
                raise CosError(412, "PreconditionFailed", "The ETag does not match If-Match.")
        elif "if-unmodified-since" in hdrs:
            since = parse_http_date(hdrs["if-unmodified-since"])
            if since is not None and modified > since:
                raise CosError(412, "PreconditionFailed", "The object was modified since If-Unmodified-Since.")
        not_modified = False
        if "if-none-match" in hdrs:
            not_modified = etag_matches(hdrs["if-none-match"], obj.etag)
        elif "if-modified-since" in hdrs:
            since = parse_http_date(hdrs["if-modified-since"])
            not_modified = since is not None and modified <= since
        if not_modified:
            keep = ("ETag", "Last-Modified", "Cache-Control", "Expires")
            answer = {k: v for k, v in out.items() if k in keep}
            # RFC 9110 allows the 200's length here, and cos-python-sdk-v5 needs a Content-Length to wrap the body.
            answer["Content-Length"] = str(len(obj.body))
            raise CosError(304, "NotModified", "Not Modified", answer)

    def _delete_object(self, target: Target) -> Response:
        with self._lock:
            bucket = self._bucket(target)
            if bucket.delete(target.key) and self._files is not None:
                self._files.delete(bucket, target.key)
        return 204, {}, b""

    def _list_objects(self, target: Target, params: Mapping[str, str]) -> Response:
        prefix = params.get("prefix", "")
        marker = params.get("marker", "")
        delimiter = params.get("delimiter", "")
        encoding = params.get("encoding-type", "")
        if encoding not in ("", "url"):
            raise CosError(400, "InvalidArgument", "Invalid Encoding Method specified in Request")
        raw_max = params.get("max-keys", "") or str(MAX_LIST_KEYS)
        if not raw_max.isdigit():
            raise CosError(400, "InvalidArgument", "max-keys must be an integer between 0 and 1000")
        max_keys = min(int(raw_max), MAX_LIST_KEYS)
        contents: list[ListEntry] = []
        prefixes: list[str] = []
        last: str | None = None
        truncated = False
        with self._lock:
            bucket = self._bucket(target)
            keys = bucket.keys
            i = bisect_left(keys, prefix)
            if marker:
                i = max(i, bisect_right(keys, marker))
            while i < len(keys) and keys[i].startswith(prefix):
                key = keys[i]
                cut = key.find(delimiter, len(prefix)) if delimiter else -1
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
                    while i < len(keys) and keys[i].startswith(common):
                        i += 1
                    if marker and common <= marker:
                        continue  # that common prefix ended the previous page
                    if len(contents) + len(prefixes) >= max_keys:
                        truncated = max_keys > 0
                        break
                    prefixes.append(common)
                    last = common
                    continue
                if len(contents) + len(prefixes) >= max_keys:
                    truncated = max_keys > 0
                    break
                obj = bucket.objects[key]
                contents.append(
                    ListEntry(
                        key=key,
                        last_modified=obj.last_modified,
                        etag=obj.etag,
                        size=len(obj.body),
                        storage_class=obj.headers.get("x-cos-storage-class", "STANDARD"),
                    )
                )
                last = key
                i += 1
        listing = Listing(
            bucket=target.bucket,
            owner=f"qcs::cam::uin/{target.appid}:uin/{target.appid}",
            prefix=prefix,
            marker=marker,
            max_keys=max_keys,
            delimiter=delimiter,
            encoding_type=encoding,
            is_truncated=truncated,
            next_marker=last if truncated else None,
            contents=contents,
            common_prefixes=prefixes,
        )
        payload = list_xml(listing)
        return 200, {"Content-Type": "application/xml", "Content-Length": str(len(payload))}, payload

    def _put_bucket(self, target: Target) -> Response:
        with self._lock:
            if target.bucket in self._buckets:
                raise CosError(409, "BucketAlreadyExists", "The requested bucket name is not available.")
            self._create(target.bucket, target.region)
        return 200, {"Content-Length": "0"}, b""

    def _delete_bucket(self, target: Target) -> Response:
        with self._lock:
            bucket = self._bucket(target)
            if bucket.objects:
                raise CosError(409, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
            if self._files is not None:
                self._files.delete_bucket(bucket)
            del self._buckets[bucket.name]
        return 204, {}, b""

    # -- answers ---------------------------------------------------------------------------------------

    def _request_id(self) -> str:
        raw = f"{int(self._clock()):08x}_{secrets.token_hex(4)}_{secrets.token_hex(2)}_{secrets.token_hex(3)}"
        return base64.b64encode(raw.encode("ascii")).decode("ascii")

    def _error(self, err: CosError, method: str, resource: str, request_id: str) -> Response:
        out = dict(err.headers)
        if err.status == 304:
            return 304, out, b""
        trace_id = base64.b64encode(secrets.token_bytes(24)).decode("ascii")
        payload = error_xml(err.code, err.message, resource, request_id, trace_id)
        out["Content-Type"] = "application/xml"
        out["Content-Length"] = "0" if method == "HEAD" else str(len(payload))
        out["x-cos-trace-id"] = trace_id
        return err.status, out, payload
