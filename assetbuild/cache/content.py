"""Content cache: per-file results, CSS bundle minification and precompressed variants, on disk.

Entries are keyed by a hash of everything that changes the result (the job's fields and
`fingerprint.environment_key()`: the tool's version, `bundle.RESULT_FORMAT`, the checker and minifier
versions and the bytes of the code that computes results), so a stale entry is never looked up.
Entries are JSON plus raw blobs, never pickle: loading one cannot run code. Each carries an
HMAC-SHA256 of its namespace, key and payload made with the user's cache key (`cachehome`), which
lives outside the cache directory: whoever can write the directory but not read the key (a CI cache
restored from a pull request's run, a shared build box) cannot make an entry we accept, so a forged,
damaged, misplaced or foreign entry is a miss, rebuilt and replaced. Writes are atomic (temp file +
`os.replace`), so several processes can share the directory. The directory is bounded in size; the
least recently used entries go first.

The directory is ours only when it holds our CACHEDIR.TAG, written when we create it (an existing
directory is taken over only when empty); `clear` removes only what we wrote, and nothing from a
directory without our tag.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import hmac
import json
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assetbuild.build.results import FileJob, FileResult
from assetbuild.cache.codec import Unencodable, decode_value, encode_value
from assetbuild.cache.fingerprint import environment_key
from assetbuild.cachehome import Key, load_key, make_home, read_cache_file
from assetbuild.diagnostics import Diagnostic, Location

ENTRY_MAGIC = b"ABCACHE2"
ENTRIES_DIR = "v2"  # bump when the entry layout changes; older directories are removed by `clear`
STATE_DIR = "state"  # install states (state.py) and quick records (quick.py) live here
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
ENV_MAX_SIZE = "ASSETBUILD_CACHE_SIZE"  # megabytes
TEMP_PREFIX = ".tmp-"
MEMORY_MAX_CHARS = 64 * 1024 * 1024

_HEADER = struct.Struct(">8s8s32sI")  # magic, key id, HMAC(namespace, key, payload), meta length
SIZE_FILE = "size.json"  # the entries' total, so that a build need not walk them all to bound it
RESCAN_SECONDS = 3600  # the total is re-measured (and leftovers cleaned) at least this often
TAG_FILE = "CACHEDIR.TAG"
_TAG_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55\n"
_CACHEDIR_TAG = (
    _TAG_SIGNATURE
    + b"# This file is a cache directory tag created by assetbuild; see https://bford.info/cachedir/\n"
)
_GITIGNORE = b"# created by assetbuild\n*\n"


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
        self,
        directory: Path,
        *,
        max_bytes: int | None = None,
        read_only: bool = False,
        key: Key | bool | None = True,
    ) -> None:
        """`key`: the key that signs and verifies entries; True loads the user's (`cachehome`),
        creating it unless `read_only`; None trusts nothing (every lookup misses)."""
        self.directory = Path(directory)
        self.entries = self.directory / ENTRIES_DIR
        self.max_bytes = _max_bytes_from_env() if max_bytes is None else max_bytes
        self.warnings: list[str] = []
        self.writable = not read_only
        self.wrote = 0
        self._key: Key | bool | None = key
        self._ours = False  # the directory was claimed (it holds our tag)
        self._size: int | None = None  # bytes on disk, once known
        self._scanned = 0.0  # when that total was last measured by walking the entries
        self._memory: OrderedDict[str, Any] = OrderedDict()
        self._memory_chars = 0
        # While `writing()`: the entry directories opened once (the cold build's 550 entries
        # opened the same three directories again for each; their opens cost more than writing)
        self._dirs: dict[tuple[str, ...], int] | None = None
        self._dirs_lock = threading.Lock()

    # raw entries

    @property
    def key(self) -> Key | None:
        """The key entries are signed with (loaded once); None: nothing is trusted or written."""
        if self._key is True:
            self._key, problem = load_key(create=self.writable)
            if problem is not None:
                self.warnings.append(f"the content cache is not used: {problem}")
        return self._key if isinstance(self._key, Key) else None

    def _path(self, namespace: str, key: str) -> Path:
        return self.entries / namespace / key[:2] / key

    def get_raw(self, namespace: str, key: str) -> tuple[Any, tuple[bytes, ...]] | None:
        """(meta, blobs) of an entry we wrote, or None when missing, corrupt, forged or foreign."""
        signer = self.key
        if signer is None:
            return None
        path = self._path(namespace, key)
        raw = read_cache_file(path, self.max_bytes)  # never a FIFO, a device or a giant
        if raw is None:
            return None
        parsed = parse_entry(signer, namespace, key, raw)
        if parsed is None:
            return None
        if self.writable:
            self._touch(path)
        return parsed

    def put_raw(self, namespace: str, key: str, meta: Any, blobs: Sequence[bytes] = ()) -> None:
        """Store an entry atomically; a failure to write only disables writing, with a warning."""
        if not self.writable or self.max_bytes <= 0:
            return
        signer = self.key
        if signer is None:
            self.writable = False
            return
        data = format_entry(signer, namespace, key, meta, blobs)
        parts = (ENTRIES_DIR, namespace, key[:2])
        try:
            if not self._claimed():
                return
            try:
                self._write(parts, key, data)
            except FileNotFoundError:  # cleared meanwhile (cache clear while watch runs)
                self._ours = False
                self._close_dirs(keep_open=True)
                if not self._claimed():
                    return
                self._write(parts, key, data)
        except OSError as exc:  # a symlinked directory in the cache too: ELOOP, ENOTDIR
            self.writable = False
            self.warnings.append(
                f"cannot write the cache directory {self.directory} ({exc.strerror or exc}); "
                "continuing without caching"
            )
            return
        self.wrote += len(data)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Within: the directories entries go into are opened once and kept open (thread-safe)."""
        with self._dirs_lock:
            outer = self._dirs is not None
            if not outer:
                self._dirs = {}
        try:
            yield
        finally:
            if not outer:
                self._close_dirs(keep_open=False)

    def _write(self, parts: tuple[str, ...], name: str, data: bytes) -> None:
        with self._dirs_lock:  # held while writing: no descriptor is closed under a writer
            if self._dirs is not None:
                write_at(self._dir_fd(self._dirs, parts), name, data)
                return
        write_in(self.directory, parts, name, data)

    def _dir_fd(self, dirs: dict[tuple[str, ...], int], parts: tuple[str, ...]) -> int:
        found = dirs.get(parts)
        if found is None:
            if parts:
                found = open_part(self._dir_fd(dirs, parts[:-1]), parts[-1])
            else:  # the cache directory itself may be a symlink (the user's choice)
                found = os.open(self.directory, _DIR_FLAGS & ~os.O_NOFOLLOW)
            dirs[parts] = found
        return found

    def _close_dirs(self, *, keep_open: bool) -> None:
        """Close the kept directories; `keep_open`: still keep the ones opened from now on."""
        with self._dirs_lock:
            dirs, self._dirs = self._dirs, ({} if keep_open and self._dirs is not None else None)
        for fd in (dirs or {}).values():
            with contextlib.suppress(OSError):
                os.close(fd)

    def _claimed(self) -> bool:
        """Whether the directory is our cache (claimed once a run); False: writing stops."""
        if self._ours:
            return True
        if not claim(self.directory):
            self.writable = False
            self.warnings.append(
                f"{self.directory} is not an assetbuild cache (it holds other files and no "
                f"{TAG_FILE} of ours); continuing without caching: set cache_dir to a directory "
                "of its own"
            )
            return False
        self._ours = True
        return True

    def _touch(self, path: Path) -> None:
        # mtime is our "last used" time for trimming; refreshing it at most every few minutes keeps
        # hits cheap.
        try:
            if time.time() - path.stat().st_mtime > 600:
                os.utime(path, follow_symlinks=False)
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
            Diagnostic("warning", w, Location(str(self.directory)), code="cache")
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
            data = json.loads(read_cache_file(self.directory / SIZE_FILE, 4096) or b"")
            size, scanned = int(data["bytes"]), float(data["scanned"])
        except (OSError, ValueError, KeyError, TypeError):
            return None, 0.0
        if size < 0 or not 0 <= time.time() - scanned < RESCAN_SECONDS:
            return None, 0.0
        return size, scanned

    def _save_size(self) -> None:
        if not self.writable or not is_ours(self.directory):
            return
        blob = json.dumps({"bytes": self._size, "scanned": self._scanned}).encode("ascii")
        with contextlib.suppress(OSError):
            write_in(self.directory, (), SIZE_FILE, blob)


# --- entry format ---------------------------------------------------------------------------------------


def format_entry(signer: Key, namespace: str, key: str, meta: Any, blobs: Sequence[bytes]) -> bytes:
    """An entry's bytes: header (magic, key id, MAC), then JSON meta, then the blobs."""
    meta_bytes = json.dumps(
        {"key": key, "meta": meta, "blobs": [len(b) for b in blobs]},
        ensure_ascii=True,
        separators=(",", ":"),
    ).encode("ascii")
    payload = meta_bytes + b"".join(blobs)
    mac = _sign(signer, namespace, key, payload)
    return _HEADER.pack(ENTRY_MAGIC, signer.ident, mac, len(meta_bytes)) + payload


def _sign(signer: Key, namespace: str, key: str, payload: bytes) -> bytes:
    return signer.sign(
        b"entry", namespace.encode("ascii"), key.encode("ascii"), payload, new=hashlib.sha256
    )


def parse_entry(
    signer: Key, namespace: str, key: str, raw: bytes
) -> tuple[Any, tuple[bytes, ...]] | None:
    """(meta, blobs) of an entry `signer` signed for this namespace and key, else None."""
    if len(raw) < _HEADER.size:
        return None
    magic, ident, mac, meta_len = _HEADER.unpack_from(raw)
    payload = raw[_HEADER.size :]
    if magic != ENTRY_MAGIC or ident != signer.ident or meta_len > len(payload):
        return None
    if not hmac.compare_digest(mac, _sign(signer, namespace, key, payload)):
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


# --- the directory ---------------------------------------------------------------------------------------


def is_ours(directory: Path) -> bool:
    """Whether `directory` holds the CACHEDIR.TAG assetbuild writes when it creates a cache."""
    data = read_cache_file(Path(directory) / TAG_FILE, 4096)
    return data is not None and data.startswith(_TAG_SIGNATURE) and b"by assetbuild" in data


def write_in(directory: Path, parts: Sequence[str], name: str, data: bytes) -> None:
    """Replace `directory/parts.../name` with `data` atomically, never through a symlink.

    Each of `parts` is opened relative to the last (O_NOFOLLOW, O_DIRECTORY) and made when missing,
    and the file is written and renamed relative to that descriptor: a symlink planted in the cache
    cannot redirect the write out of it, even between a check and the write. (`directory` itself
    may be a symlink: where the cache is, is the config's or the user's choice.) OSError otherwise.
    """
    fd = os.open(directory, _DIR_FLAGS & ~os.O_NOFOLLOW)
    try:
        for part in parts:
            inner = open_part(fd, part)
            os.close(fd)
            fd = inner
        write_at(fd, name, data)
    finally:
        os.close(fd)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def open_part(fd: int, part: str) -> int:
    """The directory `part` inside the directory open as `fd` (made when missing), never a symlink."""
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=fd)
    except FileNotFoundError:
        with contextlib.suppress(FileExistsError):
            os.mkdir(part, dir_fd=fd)
        return os.open(part, _DIR_FLAGS, dir_fd=fd)


def write_at(fd: int, name: str, data: bytes) -> None:
    """Replace `name` in the directory open as `fd` with `data`: a temporary file, then a rename."""
    tmp = f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=fd)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(out, view) :]
        finally:
            os.close(out)
        os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=fd)
        raise


def claim(directory: Path) -> bool:
    """Make `directory` our cache: True when it is (tagged, or created or found empty and tagged now).

    A directory that already holds anything but no tag of ours is never taken over: `clear` would
    then be deleting someone's files. OSError when it cannot be created.
    """
    directory = Path(directory)
    if is_ours(directory):
        return True
    make_home(str(directory))  # a zero-config cache: its private parent first
    try:
        directory.mkdir(parents=True)
    except FileExistsError:
        with os.scandir(directory) as it:
            if next(it, None) is not None:
                return False
    for name, data in ((TAG_FILE, _CACHEDIR_TAG), (".gitignore", _GITIGNORE)):
        with contextlib.suppress(FileExistsError):
            fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
    return is_ours(directory)


# --- maintenance ----------------------------------------------------------------------------------------


def cache_size(directory: Path) -> int:
    """Bytes held by the cache's entries."""
    return sum(size for _, size, _ in _entry_files(Path(directory) / ENTRIES_DIR))


def _entry_files(entries: Path) -> list[tuple[Path, int, float]]:
    """(path, size, last used) of every file under `entries`; plain scandir, it runs per build."""
    found: list[tuple[Path, int, float]] = []
    if not _real_dir(entries):  # a symlink planted there: trim must not delete where it points
        return found
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


def foreign(directory: Path) -> bool:
    """Whether `directory` exists but is not an assetbuild cache (`clear` leaves it alone)."""
    return Path(directory).is_dir() and not is_ours(directory)


def clear(directory: Path) -> tuple[Path, ...]:
    """Remove what assetbuild wrote in its cache directory and return the paths it removed.

    Nothing at all unless the directory holds our CACHEDIR.TAG. Then: entries (files named by their
    key, in `v<N>/` of any layout), install states and quick records in `state/`, our temporary
    files, `size.json`, and our own `.gitignore`; the tag and the directory go last, only when
    nothing else is left in it. A user's file among them stays, and so does a symlink's target.
    """
    directory = Path(directory)
    if not is_ours(directory):
        return ()
    removed: list[Path] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return ()
    for name in names:
        path = directory / name
        if name.startswith("v") and name[1:].isdigit() and _real_dir(path):
            _remove_ours(path, _entry_name, removed)
        elif name == STATE_DIR and _real_dir(path):
            _remove_ours(path, _state_name, removed)
        elif name in _OUR_FILES and _OUR_FILES[name](read_cache_file(path, 4096)):
            _unlink(path, removed)
        elif name.startswith(TEMP_PREFIX) and read_cache_file(path, 1 << 30) is not None:
            _unlink(path, removed)  # a write of size.json that was killed
    with contextlib.suppress(OSError):
        if os.listdir(directory) == [TAG_FILE]:
            (directory / TAG_FILE).unlink()
            directory.rmdir()
    return tuple(removed)


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


# Files of ours at the top of the cache, by what they hold: a user's file of the same name stays.
_OUR_FILES: dict[str, Callable[[bytes | None], bool]] = {
    SIZE_FILE: lambda data: data is not None and data.startswith(b'{"bytes": '),
    ".gitignore": lambda data: data == _GITIGNORE,
}


def _entry_name(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) or (len(name) == 64 and _is_hex(name))


def _state_name(name: str) -> bool:
    from assetbuild.fsutil import TEMP_PREFIX as WRITE_PREFIX  # atomic_write's leftovers

    stem, dot, ext = name.partition(".")
    if name == "quick.bin" or name.startswith((WRITE_PREFIX, TEMP_PREFIX)):
        return True
    return bool(dot) and ext in ("state", "json", "index") and len(stem) == 24 and _is_hex(stem)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _remove_ours(top: Path, ours: Any, removed: list[Path]) -> None:
    """Unlink the files under `top` that `ours(name)` claims, then the directories left empty."""
    gone = False
    for folder, dirs, files in os.walk(top, topdown=False):
        for name in files:
            path = Path(folder) / name
            if ours(name) and not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.unlink()
                    gone = True
        for name in dirs:
            with contextlib.suppress(OSError):
                (Path(folder) / name).rmdir()  # only when empty; a symlink fails here too
    with contextlib.suppress(OSError):
        top.rmdir()
    if gone or not top.exists():
        removed.append(top)
