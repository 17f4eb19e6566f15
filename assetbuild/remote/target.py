"""Where a remote install puts its objects: the `Target` seam, and a directory used like a bucket.

A target stores objects under keys relative to its prefix (`js/8/main.js`, `manifest.json`). Every
versioned object is created once (create-only: an existing key is never replaced); the manifest is
the one object that is replaced, and only over the version the install read (`put_manifest` with
the token `read_manifest` gave). `S3Target` (remote/s3.py) is the same over S3's conditional writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assetbuild.errors import InstallError
from assetbuild.fsutil import (
    TEMP_PREFIX,
    RefusedFile,
    atomic_write,
    fsync_dir,
    read_regular,
    real_directory,
    temp_name,
)
from assetbuild.manifest import MANIFEST_MAX_BYTES
from assetbuild.remote.url import TargetURL
from assetbuild.versions import is_version_name

# The remote manifest's type: JSON, or the PHP file an app includes (served as text, never run).
MANIFEST_TYPES = {"json": "application/json; charset=utf-8", "php": "text/plain; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
}
ENCODINGS = {".gz": "gzip", ".br": "br"}


@dataclass(frozen=True)
class Headers:
    """What a CDN needs to know about an object."""

    content_type: str
    cache_control: str
    content_encoding: str | None = None


def manifest_key(fmt: str) -> str:
    """The remote manifest's key for a manifest format: `manifest.json` or `manifest.php`."""
    if fmt not in MANIFEST_TYPES:
        raise ValueError(f"unknown manifest format {fmt!r}")
    return f"manifest.{fmt}"


def headers_for(key: str) -> Headers:
    """A versioned object's headers: its type by extension, a precompressed variant's encoding."""
    stem, ext = posixpath.splitext(key)
    encoding = ENCODINGS.get(ext)
    if encoding is not None:
        ext = posixpath.splitext(stem)[1]
    return Headers(_TYPES.get(ext.lower(), "application/octet-stream"), IMMUTABLE, encoding)


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the target's prefix
    size: int
    modified: float  # seconds since the epoch


class Target(Protocol):
    """The store a remote install writes into (S3, or a directory used like one)."""

    url: str
    manifest_format: str  # "json" or "php": the manifest is the key `manifest.<format>`

    def read_manifest(self) -> tuple[bytes | None, str | None]:
        """The manifest's bytes and a token for `put_manifest`; (None, None) when there is none."""
        ...

    def versions(self, area: str) -> list[int]:
        """The version numbers that hold any object in `area` (one delimiter listing)."""
        ...

    def create(self, key: str, data: bytes, headers: Headers) -> bool:
        """Create `key` unless it exists: True when created, False when something was there."""
        ...

    def fetch(self, key: str, limit: int) -> bytes | None:
        """At most `limit` + 1 bytes of `key` (enough to tell it differs), None when missing."""
        ...

    def verify(self, key: str, data: bytes) -> bool:
        """Whether the store holds exactly `data` (size and checksum) at `key`."""
        ...

    def put_manifest(self, data: bytes, token: str | None, cache_control: str) -> bool:
        """Replace the manifest if it is still the one `token` names; False when it changed."""
        ...

    def objects(self, prefix: str) -> list[StoredObject]:
        """Every object whose key starts with `prefix` (for prune)."""
        ...

    def delete(self, keys: Iterable[str]) -> None: ...


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DirectoryTarget:
    """A directory used like a bucket: create-only by hard link, the manifest under a lock file.

    For a shared mount (NFS with link(2), a volume), and the fast tests of the remote install.
    """

    def __init__(self, directory: Path, manifest_format: str = "json") -> None:
        self.directory = directory
        self.url = str(TargetURL("file", str(directory), ""))
        self.manifest_format = manifest_format
        self.manifest_key = manifest_key(manifest_format)

    def _path(self, key: str) -> Path:
        return self.directory.joinpath(*key.split("/"))

    def read_manifest(self) -> tuple[bytes | None, str | None]:
        raw = self._read(self.manifest_key, MANIFEST_MAX_BYTES)
        return (raw, _digest(raw)) if raw is not None else (None, None)

    def _read(self, key: str, limit: int) -> bytes | None:
        """A regular file's bytes, bounded; never through a link, never blocking on a FIFO."""
        path = self._path(key)
        try:
            if not real_directory(self.directory, path.parent, create=False, within="the target"):
                return None
            return read_regular(path, limit, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except RefusedFile as exc:
            raise InstallError(
                f"{path} {exc.problem}: not an object assetbuild stored; remove it"
            ) from None

    def versions(self, area: str) -> list[int]:
        try:
            names = os.listdir(self._path(area) if area else self.directory)
        except FileNotFoundError:
            return []
        return sorted(int(n) for n in names if is_version_name(n))

    def create(self, key: str, data: bytes, headers: Headers) -> bool:
        path = self._path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        real_directory(self.directory, path.parent, create=True, within="the target")
        tmp = path.with_name(temp_name(path.name))
        tmp.write_bytes(data)
        try:
            os.link(tmp, path)  # fails when the name exists: never replaces
        except FileExistsError:
            return False
        finally:
            tmp.unlink()
        fsync_dir(path.parent)
        return True

    def fetch(self, key: str, limit: int) -> bytes | None:
        try:
            return self._read(key, limit + 1)
        except InstallError:
            if os.path.lexists(self._path(key)):
                return b"\0" * (limit + 1)  # something else is there: never the bytes wanted
            raise

    def verify(self, key: str, data: bytes) -> bool:
        return self.fetch(key, len(data)) == data

    def put_manifest(self, data: bytes, token: str | None, cache_control: str) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".assetbuild-manifest.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.read_manifest()[1] != token:
                return False
            atomic_write(self._path(self.manifest_key), data)
            return True

    def objects(self, prefix: str) -> list[StoredObject]:
        found = []
        for dirpath, _, files in os.walk(self.directory):
            for name in files:
                path = Path(dirpath) / name
                key = path.relative_to(self.directory).as_posix()
                if key.startswith(prefix) and not name.startswith(TEMP_PREFIX):
                    stat = path.stat()
                    found.append(StoredObject(key, stat.st_size, stat.st_mtime))
        return sorted(found, key=lambda o: o.key)

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            path = self._path(key)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            while path.parent != self.directory:  # a version with no object left is gone
                path = path.parent
                try:
                    path.rmdir()
                except OSError:
                    break
