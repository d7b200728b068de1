"""XML bodies of the sandbox COS: the error document and the ListObjects (GET Bucket) result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote
from xml.sax.saxutils import escape

XML_DECLARATION = "<?xml version='1.0' encoding='utf-8' ?>\n"


def _el(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>"


def iso_time(timestamp: float) -> str:
    """ListObjects' ``LastModified`` form: ``2019-05-24T11:22:03.000Z``."""
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def url_encode(text: str) -> str:
    """``encoding-type=url`` form of a key or prefix (``/`` kept, everything else unreserved-only)."""
    return quote(text, safe="/-_.~")


def error_xml(code: str, message: str, resource: str, request_id: str, trace_id: str) -> bytes:
    body = (
        XML_DECLARATION
        + "<Error>"
        + _el("Code", code)
        + _el("Message", message)
        + _el("Resource", resource)
        + _el("RequestId", request_id)
        + _el("TraceId", trace_id)
        + "</Error>"
    )
    return body.encode("utf-8")


@dataclass(frozen=True)
class ListEntry:
    """One ``<Contents>`` row of a listing."""

    key: str
    last_modified: float
    etag: str
    size: int
    storage_class: str


@dataclass(frozen=True)
class Listing:
    """Everything a ``ListBucketResult`` says, before encoding."""

    bucket: str
    owner: str
    prefix: str
    marker: str
    max_keys: int
    delimiter: str
    encoding_type: str
    is_truncated: bool
    next_marker: str | None
    contents: Sequence[ListEntry]
    common_prefixes: Sequence[str]


def list_xml(listing: Listing) -> bytes:
    """``ListBucketResult``; with ``encoding-type=url`` the keys, prefixes, markers and delimiter are encoded."""

    def enc(text: str) -> str:
        return url_encode(text) if listing.encoding_type == "url" else text

    parts = [XML_DECLARATION, "<ListBucketResult>", _el("Name", listing.bucket)]
    if listing.encoding_type:
        parts.append(_el("EncodingType", listing.encoding_type))
    parts += [
        _el("Prefix", enc(listing.prefix)),
        _el("Marker", enc(listing.marker)),
        _el("MaxKeys", str(listing.max_keys)),
    ]
    if listing.delimiter:
        parts.append(_el("Delimiter", enc(listing.delimiter)))
    parts.append(_el("IsTruncated", "true" if listing.is_truncated else "false"))
    if listing.next_marker is not None:
        parts.append(_el("NextMarker", enc(listing.next_marker)))
    for prefix in listing.common_prefixes:
        parts.append("<CommonPrefixes>" + _el("Prefix", enc(prefix)) + "</CommonPrefixes>")
    for entry in listing.contents:
        parts.append(
            "<Contents>"
            + _el("Key", enc(entry.key))
            + _el("LastModified", iso_time(entry.last_modified))
            + _el("ETag", entry.etag)
            + _el("Size", str(entry.size))
            + "<Owner>"
            + _el("ID", listing.owner)
            + _el("DisplayName", listing.owner)
            + "</Owner>"
            + _el("StorageClass", entry.storage_class)
            + "</Contents>"
        )
    parts.append("</ListBucketResult>")
    return "".join(parts).encode("utf-8")
