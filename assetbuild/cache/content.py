"""Content cache: per-file results, CSS bundle minification and precompressed variants, on disk.

Entries are keyed by a hash of everything that changes the result (the job's fields and
`fingerprint.environment_key()`: the tool's version, `bundle.RESULT_FORMAT`, the checker and minifier
versions and the bytes of the code that computes results), so a stale entry is never looked up. Entries are JSON plus raw blobs, never pickle: loading one cannot run
code, and each carries a SHA-256 of its key and payload, so a truncated, corrupt or misplaced entry is
ignored and replaced. Writes are atomic (temp file + `os.replace`), so several processes can share the
directory. The directory is bounded in size; the least recently used entries go first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import struct
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assetbuild.build.results import FileJob, FileResult
from assetbuild.cache.codec import Unencodable, decode_value, encode_value
from assetbuild.cache.fingerprint import environment_key
from assetbuild.diagnostics import Diagnostic, Location

ENTRY_MAGIC = b"ABCACHE1"
ENTRIES_DIR = "v1"  # bump when the entry layout changes; older directories are removed by `clear`
STATE_DIR = "state"  # install states (state.py) live here
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
ENV_MAX_SIZE = "ASSETBUILD_CACHE_SIZE"  # megabytes
TEMP_PREFIX = ".tmp-"
MEMORY_MAX_CHARS = 64 * 1024 * 1024

_HEADER = struct.Struct(">8s32sI")  # magic, sha256(key + payload), meta length
SIZE_FILE = "size.json"  # the entries' total, so that a build need not walk them all to bound it
RESCAN_SECONDS = 3600  # the total is re-measured (and leftovers cleaned) at least this often
_OUR_FILES = (ENTRIES_DIR, STATE_DIR, SIZE_FILE, "CACHEDIR.TAG", ".gitignore")
_CACHEDIR_TAG = (
    b"Signature: 8a477f597d28d172789f06886806bc55\n"
    b"# This file is a cache directory tag created by assetbuild; see https://bford.info/cachedir/\n"
)


# --- keys --------------------------------------------------------------------------------------------


def entry_key(kind: str, *parts: object) -> str:
    """The key of an entry of `kind` made from `parts` (JSON values) in this environment."""
    blob = json.dumps([environment_key(), kind, *parts], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def job_key(job: FileJob) -> str:
    """The cache key of one file job: every field, since every field can change the result."""
    return _job_key(environment_key(), job)


@functools.lru_cache(maxsize=4096)
def _job_key(environment: str, job: FileJob) -> str:
    # Memoized on the (frozen, hashable) job and the environment: watch mode hands in the same
    # unchanged jobs on every rebuild, and an equal job has the same key by definition. Texts are
    # hashed as their bytes, length first (JSON-escaping megabytes of source cost 5x as much).
    digest = hashlib.sha256(f"{environment}\0file\0".encode())
    for field in dataclasses.fields(job):
        value = getattr(job, field.name)
        if isinstance(value, str):
            data = b"s" + value.encode("utf-8", "surrogatepass")
        else:
            plain = [list(e) for e in value] if isinstance(value, tuple) else value
            data = b"j" + json.dumps(plain, separators=(",", ":")).encode("ascii")
        digest.update(b"%s\0%d\0" % (field.name.encode("ascii"), len(data)))
        digest.update(data)
    return digest.hexdigest()


# --- a codec for plain values ------------------------------------------------------------------------


# --- the cache -----------------------------------------------------------------------------------------


def _max_bytes_from_env() -> int:
    raw = os.environ.get(ENV_MAX_SIZE, "")
    try:
        return max(0, int(float(raw) * 1024 * 1024)) if raw else DEFAULT_MAX_BYTES
    except ValueError:
        return DEFAULT_MAX_BYTES


class ContentCache:
    """A directory of checksummed entries plus a bounded in-memory layer (watch mode rebuilds)."""

    def __init__(
        self, directory: Path, *, max_bytes: int | None = None, read_only: bool = False
    ) -> None:
        self.directory = Path(directory)
        self.entries = self.directory / ENTRIES_DIR
        self.max_bytes = _max_bytes_from_env() if max_bytes is None else max_bytes
        self.warnings: list[str] = []
        self.writable = not read_only
        self.wrote = 0
        self._size: int | None = None  # bytes on disk, once known
        self._scanned = 0.0  # when that total was last measured by walking the entries
        self._memory: OrderedDict[str, Any] = OrderedDict()
        self._memory_chars = 0

    # raw entries

    def _path(self, namespace: str, key: str) -> Path:
        return self.entries / namespace / key[:2] / key

    def get_raw(self, namespace: str, key: str) -> tuple[Any, tuple[bytes, ...]] | None:
        """(meta, blobs) of a sound entry, or None when missing, corrupt or not ours."""
        path = self._path(namespace, key)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            return None
        parsed = _parse_entry(raw, key)
        if parsed is None:
            return None
        if self.writable:
            self._touch(path)
        return parsed

    def put_raw(self, namespace: str, key: str, meta: Any, blobs: Sequence[bytes] = ()) -> None:
        """Store an entry atomically; a failure to write only disables writing, with a warning."""
        if not self.writable or self.max_bytes <= 0:
            return
        data = _format_entry(key, meta, blobs)
        path = self._path(namespace, key)
        tmp = path.parent / f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
        try:
            self._prepare(path.parent)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            self.writable = False
            self.warnings.append(
                f"cannot write the cache directory {self.directory} ({exc.strerror or exc}); "
                "continuing without caching"
            )
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        self.wrote += len(data)

    def _prepare(self, directory: Path) -> None:
        if directory.is_dir():
            return
        if not self.directory.is_dir():
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_markers(self.directory)
        directory.mkdir(parents=True, exist_ok=True)

    def _touch(self, path: Path) -> None:
        # mtime is our "last used" time for trimming; refreshing it at most every few minutes keeps
        # hits cheap.
        try:
            if time.time() - path.stat().st_mtime > 600:
                os.utime(path)
        except OSError:
            pass

    # the in-memory layer

    def remember(self, key: str, value: Any, chars: int) -> None:
        if key in self._memory:
            return
        self._memory[key] = (value, chars)
        self._memory_chars += chars
        while self._memory_chars > MEMORY_MAX_CHARS and self._memory:
            _, (_, old) = self._memory.popitem(last=False)
            self._memory_chars -= old

    def recall(self, key: str) -> Any:
        item = self._memory.get(key)
        if item is None:
            return None
        self._memory.move_to_end(key)
        return item[0]

    # typed helpers

    def get_result(self, key: str) -> FileResult | None:
        """A cached per-file result."""
        hit = self.recall(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        entry = self.get_raw("file", key)
        if entry is None:
            return None
        try:
            strings = [blob.decode("utf-8", "surrogatepass") for blob in entry[1]]
            result = decode_value(entry[0], strings)
        except Exception:  # a class renamed since, a malformed value: a miss, never a crash
            return None
        if not isinstance(result, FileResult):
            return None
        self.remember(key, result, len(result.text) + len(result.checked_text))
        return result

    def put_result(self, key: str, result: FileResult) -> None:
        """Store a per-file result, unless it does not round-trip exactly through the codec."""
        self.remember(key, result, len(result.text) + len(result.checked_text))
        try:
            table: dict[str, int] = {}
            meta = encode_value(result, table)
            strings = list(table)  # in index order
            if decode_value(json.loads(json.dumps(meta)), strings) != result:
                return
            blobs = [text.encode("utf-8", "surrogatepass") for text in strings]
        except (Unencodable, ValueError, TypeError):
            return
        self.put_raw("file", key, meta, blobs)

    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Warnings about the cache itself (unwritable directory), once each."""
        return tuple(
            Diagnostic("warning", w, Location(str(self.directory)))
            for w in dict.fromkeys(self.warnings)
        )

    def trim(self) -> tuple[Path, ...]:
        """Drop the least recently used entries while over the size bound.

        The entries are walked when the total is not known: at most once an hour (the walk's total
        is kept in SIZE_FILE, and each build adds what it wrote), and when the total passes the
        bound. So neither a build nor watch mode walks a large cache every time. Concurrent
        builds may each add to the same old total and lose one another's additions: the hourly
        walk corrects that.
        """
        if self._size is None:
            self._size, self._scanned = self._known_size()
        if self._size is not None and self._size + self.wrote <= self.max_bytes:
            self._size += self.wrote
            self.wrote = 0
            self._save_size()
            return ()
        removed, self._size = _trim(self.directory, self.max_bytes)
        self._scanned = time.time()
        self.wrote = 0
        self._save_size()
        return removed

    def _known_size(self) -> tuple[int | None, float]:
        """The total last measured (plus additions since), if measured within RESCAN_SECONDS."""
        try:
            data = json.loads((self.directory / SIZE_FILE).read_bytes())
            size, scanned = int(data["bytes"]), float(data["scanned"])
        except (OSError, ValueError, KeyError, TypeError):
            return None, 0.0
        if size < 0 or not 0 <= time.time() - scanned < RESCAN_SECONDS:
            return None, 0.0
        return size, scanned

    def _save_size(self) -> None:
        from assetbuild.fsutil import atomic_write

        blob = json.dumps({"bytes": self._size, "scanned": self._scanned}).encode("ascii")
        with contextlib.suppress(OSError):
            atomic_write(self.directory / SIZE_FILE, blob)


# --- entry format ---------------------------------------------------------------------------------------


def _format_entry(key: str, meta: Any, blobs: Sequence[bytes]) -> bytes:
    meta_bytes = json.dumps(
        {"key": key, "meta": meta, "blobs": [len(b) for b in blobs]},
        ensure_ascii=True,
        separators=(",", ":"),
    ).encode("ascii")
    payload = meta_bytes + b"".join(blobs)
    digest = hashlib.sha256(key.encode("ascii") + b"\0" + payload).digest()
    return _HEADER.pack(ENTRY_MAGIC, digest, len(meta_bytes)) + payload


def _parse_entry(raw: bytes, key: str) -> tuple[Any, tuple[bytes, ...]] | None:
    if len(raw) < _HEADER.size:
        return None
    magic, digest, meta_len = _HEADER.unpack_from(raw)
    payload = raw[_HEADER.size :]
    if magic != ENTRY_MAGIC or meta_len > len(payload):
        return None
    if hashlib.sha256(key.encode("ascii") + b"\0" + payload).digest() != digest:
        return None
    try:
        head = json.loads(payload[:meta_len])
        lengths = head["blobs"]
        if head["key"] != key or not all(isinstance(n, int) and n >= 0 for n in lengths):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    if meta_len + sum(lengths) != len(payload):
        return None
    blobs = []
    offset = meta_len
    for n in lengths:
        blobs.append(payload[offset : offset + n])
        offset += n
    return head["meta"], tuple(blobs)


def _write_markers(directory: Path) -> None:
    for name, data in (
        ("CACHEDIR.TAG", _CACHEDIR_TAG),
        (".gitignore", b"# created by assetbuild\n*\n"),
    ):
        target = directory / name
        if not target.exists():
            with contextlib.suppress(OSError):
                target.write_bytes(data)


# --- maintenance ----------------------------------------------------------------------------------------


def cache_size(directory: Path) -> int:
    """Bytes held by the cache's entries."""
    return sum(size for _, size, _ in _entry_files(Path(directory) / ENTRIES_DIR))


def _entry_files(entries: Path) -> list[tuple[Path, int, float]]:
    """(path, size, last used) of every file under `entries`; plain scandir, it runs per build."""
    found: list[tuple[Path, int, float]] = []
    stack = [str(entries)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                            continue
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    found.append((Path(entry.path), st.st_size, max(st.st_mtime, st.st_atime)))
        except OSError:
            continue
    return found


def trim(directory: Path, max_bytes: int, *, target: float = 0.8) -> tuple[Path, ...]:
    """Delete oldest-used entries until the cache is under `target` of `max_bytes`, if it is over."""
    return _trim(directory, max_bytes, target)[0]


def _trim(directory: Path, max_bytes: int, target: float = 0.8) -> tuple[tuple[Path, ...], int]:
    """`trim`, also returning the bytes left."""
    files = _entry_files(Path(directory) / ENTRIES_DIR)
    removed: list[Path] = []
    now = time.time()
    kept: list[tuple[Path, int, float]] = []
    for path, size, used in files:
        if path.name.startswith(TEMP_PREFIX) and now - used > 3600:
            _unlink(path, removed)  # left by a killed process
        else:
            kept.append((path, size, used))
    total = sum(size for _, size, _ in kept)
    if total <= max_bytes:
        return tuple(removed), total
    limit = max_bytes * target
    for path, size, _ in sorted(kept, key=lambda item: item[2]):
        if total <= limit:
            break
        if _unlink(path, removed):
            total -= size
    return tuple(removed), total


def _unlink(path: Path, removed: list[Path]) -> bool:
    try:
        path.unlink()
    except OSError:
        return False
    removed.append(path)
    return True


def clear(directory: Path) -> tuple[Path, ...]:
    """Remove what assetbuild put in the cache directory (only its own names) and return them."""
    import shutil

    directory = Path(directory)
    removed: list[Path] = []
    try:
        names = sorted(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return ()
    for name in names:
        path = directory / name
        ours = name in _OUR_FILES or (name.startswith("v") and name[1:].isdigit() and path.is_dir())
        if not ours:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    with contextlib.suppress(OSError):
        directory.rmdir()  # only when nothing else is left in it
    return tuple(removed)
