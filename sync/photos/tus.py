"""The tus 1.0.0 protocol's headers: what we speak, and parsing what clients send (https://tus.io/protocols/resumable-upload).

Nothing here touches storage or the database; sync.photos.uploads does the work.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core.errors import BadRequest, PreconditionFailed, UnsupportedMediaType
from sync.photos.staging import Hasher
from sync.protocol import RecordId

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,checksum,termination,expiration"
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
CHUNK_TYPE = "application/offset+octet-stream"
# the photo rows a tus upload can be for (sync/tables.py PHOTOS.record_table)
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class UploadMetadata(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """What a phone says about an upload (Upload-Metadata). The photo row itself comes through sync."""

    photo_id: RecordId
    record_table: Annotated[str, Meta(max_length=64)] | None = None
    record_id: Annotated[str, Meta(max_length=64)] | None = None
    filename: Annotated[str, Meta(max_length=255)] | None = None
    filetype: Annotated[str, Meta(max_length=100)] | None = None
    # the phone's capture time, as ISO 8601 or epoch milliseconds
    taken_at: Annotated[str, Meta(max_length=40)] | None = None


def require_version(header: str | None) -> None:
    """Every request but OPTIONS names the protocol version it speaks."""
    if header != VERSION:
        raise PreconditionFailed(
            f"this server speaks tus {VERSION}; send Tus-Resumable: {VERSION}", tus_version=VERSION
        )


def require_chunk_type(content_type: str | None) -> None:
    if (content_type or "").split(";")[0].strip().lower() != CHUNK_TYPE:
        raise UnsupportedMediaType(f"send the bytes as {CHUNK_TYPE}")


def parse_int(header: str | None, name: str) -> int:
    """A non-negative integer header (Upload-Length, Upload-Offset)."""
    if header is None or not header.isdigit() or len(header) > 18:
        raise BadRequest(f"{name} must be a non-negative integer", header=name)
    return int(header)


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64(value)` pairs; a key alone means an empty value."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        if not _KEY.match(key) or key in found:
            raise BadRequest(f"Upload-Metadata has a bad or repeated key {key[:64]!r}", header="Upload-Metadata")
        try:
            found[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(
                f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text", header="Upload-Metadata"
            ) from None
    return found


def encode_metadata(values: dict[str, Any]) -> str:
    return ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in values.items())


def read_metadata(values: dict[str, str]) -> UploadMetadata:
    if "photo_id" not in values:
        raise BadRequest("Upload-Metadata must name the photo: photo_id", header="Upload-Metadata")
    try:
        return msgspec.convert(values, UploadMetadata)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"Upload-Metadata: {exc}", header="Upload-Metadata") from None


class Checksum(msgspec.Struct, frozen=True):
    algorithm: str
    digest: bytes

    def hasher(self) -> Hasher:
        return CHECKSUM_ALGORITHMS[self.algorithm]()


def parse_checksum(header: str | None) -> Checksum | None:
    """Upload-Checksum: `<algorithm> <base64 digest>` of this request's bytes."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadRequest(
            f"Upload-Checksum algorithm {algorithm[:20]!r} is not supported: use " + " or ".join(CHECKSUM_ALGORITHMS),
            header="Upload-Checksum",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise BadRequest("Upload-Checksum digest is not base64", header="Upload-Checksum") from None
    if len(digest) != CHECKSUM_ALGORITHMS[algorithm]().digest_size:
        raise BadRequest(f"Upload-Checksum is not a {algorithm} digest", header="Upload-Checksum")
    return Checksum(algorithm, digest)


def http_date(at: datetime) -> str:
    """Upload-Expires is an RFC 9110 date."""
    return format_datetime(at, usegmt=True)
