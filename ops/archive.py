"""The backup archive: one tar file holding the database dump, the blobs of the photo store the database
refers to, the secret key file, and a manifest saying what is in it, with the sha256 of every member.

Plain tar (no compression): the dump is compressed by pg_dump, and photos do not compress.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tarfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Literal

import msgspec

FORMAT = "fieldwork-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.pgdump"
SECRET_KEY = "secret.key"
BLOBS = "blobs/"
_CHUNK = 1024 * 1024


class ArchiveError(Exception):
    """The archive is not a fieldwork backup, is of an unknown version, or is damaged; the message says which."""


class Member(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    bytes: int
    sha256: str


class Blob(msgspec.Struct, frozen=True, kw_only=True):
    key: str  # its key in the photo store; its member is BLOBS + key
    bytes: int
    sha256: str


class Database(msgspec.Struct, frozen=True, kw_only=True):
    member: Member
    server_version: str
    pg_dump_version: str
    pg_dump_major: int
    rows: dict[str, int]  # table -> rows, read in the dump's snapshot


class SecretKey(msgspec.Struct, frozen=True, kw_only=True):
    # file: $FIELDWORK_HOME/secret.key, in the archive; environment: FIELDWORK_SECRET_KEY, not in the archive
    source: Literal["file", "environment", "none"]
    fingerprint: str | None = None  # to tell, on restore, whether the configured key is the same one
    member: Member | None = None


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    format: str
    version: int
    created_at: datetime
    schema_version: int  # the newest migration applied to the database that was dumped
    database: Database
    blobs: list[Blob]
    secret_key: SecretKey
    # referenced by the database but absent from (or damaged in) the store when the backup was taken
    missing: list[str] = []

    @property
    def blob_bytes(self) -> int:
        return sum(b.bytes for b in self.blobs)


def fingerprint(secret: str) -> str:
    """A short digest that identifies a (high-entropy) key without revealing it."""
    return hashlib.sha256(b"fieldwork secret key fingerprint\0" + secret.encode()).hexdigest()[:16]


class _Hashing:
    """A reader that hashes what tarfile copies out of it, so every member is read once."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.hash.update(data)
        return data


@contextlib.contextmanager
def writing(path: Path) -> Iterator[tarfile.TarFile]:
    """A new archive at `path`, readable by its owner only: it may hold the secret key."""
    path.unlink(missing_ok=True)  # a leftover of a run cut short keeps its mode otherwise
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        yield tar


def add_file(tar: tarfile.TarFile, name: str, path: Path) -> Member:
    """Append the file at `path` as `name`; returns what the manifest says of it."""
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode = 0o600
    with path.open("rb") as stream:
        reader = _Hashing(stream)
        tar.addfile(info, reader)  # type: ignore[arg-type,unused-ignore]  # tarfile only calls read()
    return Member(name=name, bytes=info.size, sha256=reader.hash.hexdigest())


def add_manifest(tar: tarfile.TarFile, manifest: Manifest) -> None:
    data = msgspec.json.format(msgspec.json.encode(manifest))
    info = tarfile.TarInfo(MANIFEST)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


class Reader:
    """An archive opened for restore: its members indexed once (tarfile looks a name up member by member)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._tar = tarfile.open(path, "r:")
            self._members = {m.name: m for m in self._tar.getmembers()}
        except (OSError, tarfile.TarError) as exc:
            raise ArchiveError(f"cannot read {path}: {exc}") from None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._tar.close()

    def _open(self, name: str) -> IO[bytes]:
        member = self._members.get(name)
        stream = self._tar.extractfile(member) if member is not None else None
        if stream is None:
            raise ArchiveError(f"{self.path}: the archive does not hold {name} (it is damaged or cut short)")
        return stream

    def manifest(self) -> Manifest:
        if MANIFEST not in self._members:
            raise ArchiveError(f"{self.path} has no {MANIFEST}: it is not a fieldwork backup (or was cut short)")
        raw = self._open(MANIFEST).read()
        head = msgspec.json.decode(raw)
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise ArchiveError(f"{self.path} is not a fieldwork backup")
        if head.get("version") != FORMAT_VERSION:
            raise ArchiveError(
                f"{self.path} is a fieldwork backup of format version {head.get('version')}; this fieldwork reads "
                f"version {FORMAT_VERSION}"
            )
        try:
            return msgspec.json.decode(raw, type=Manifest)
        except msgspec.ValidationError as exc:
            raise ArchiveError(f"{self.path}: the manifest is damaged ({exc})") from None

    def extract(self, name: str, size: int, sha256: str, dest: Path) -> None:
        """Copy member `name` to `dest`, checking its size and sha256 against the manifest's."""
        stream = self._open(name)
        digest = hashlib.sha256()
        written = 0
        with dest.open("wb") as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                written += len(chunk)
        if written != size or digest.hexdigest() != sha256:
            raise ArchiveError(
                f"{self.path}: {name} is damaged ({written} bytes, sha256 {digest.hexdigest()[:12]}…; the manifest "
                f"says {size} bytes, {sha256[:12]}…)"
            )


def move_into_place(partial: Path, target: Path) -> None:
    """Flush the archive, then give it its name at once: a run cut short never leaves what looks like a backup."""
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, target)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
