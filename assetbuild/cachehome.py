"""The user's cache home: the key that authenticates every cache, and the caches of zero-config sites.

A cache directory can be written by others than the user who builds (a CI cache restored from a pull
request's run, a shared build box), so nothing read from one is trusted unless it carries an
HMAC-SHA256 made with a key that lives outside every cache directory: `$ASSETBUILD_CACHE_KEY` when
set (CI keeps it as a secret), else the file `key` in `$XDG_CACHE_HOME/assetbuild` (when that is an
absolute path) or `~/.cache/assetbuild`, created once (0600, atomically) from 32 random bytes. A cache
restored without its key only misses. A key file that is not a regular file of this user's, or that
others may read or write, is refused.

Zero-config sites keep their cache here too (`sites/<name>-<hash of the root>`), never in the static
root a web server serves. The quick path imports this module: it imports nothing but `os` (and
`_sha256` or `_sha2`, the C SHA-256 that `hashlib` wraps, loaded on first use).
"""

from __future__ import annotations

import contextlib  # loaded by Python's start-up anyway
import os
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the quick path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from assetbuild.config import BundleSpec

ENV_KEY = "ASSETBUILD_CACHE_KEY"
KEY_FILE = "key"
SITES_DIR = "sites"
MIN_KEY_CHARS = 16
_MAX_KEY_BYTES = 4096
_BLOCK = 64  # SHA-256's block size, for HMAC
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def home(environ: Mapping[str, str] = os.environ) -> str | None:
    """The directory of the key and of zero-config caches; None when the user has no home."""
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "assetbuild")
    user = os.path.expanduser("~")
    return os.path.join(user, ".cache", "assetbuild") if os.path.isabs(user) else None


def site_cache_dir(root: str, environ: Mapping[str, str] = os.environ) -> str:
    """Where a zero-config site rooted at `root` (an absolute, resolved path) keeps its cache.

    (From the process's environment, like the key: the quick path must find the same place.)
    """
    digest = light_sha256()(os.fsencode(root)).hexdigest()[:20]
    base_name = os.path.basename(root.rstrip(os.sep))
    name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in base_name)
    name = name.lstrip(".")[:32] or "root"
    base = home(environ)
    if base is None:  # no home at all: nothing is cached without a key, but the path must exist
        import tempfile

        uid = os.getuid() if hasattr(os, "getuid") else 0
        base = os.path.join(tempfile.gettempdir(), f"assetbuild-{uid}")
    return os.path.join(base, SITES_DIR, f"{name}-{digest}")


def check_cache_dir(
    cache_dir: Path,
    config_dir: Path,
    root: Path,
    bundles: Sequence[BundleSpec],
    cwd: Path,
    report: Callable[[str, str], object],
) -> None:
    """Report ("cache_dir", why) when `cache_dir` is, or holds, the config's directory, the root, a
    directory a bundle's sources are listed from or one it is installed into.

    `cache clear` deletes what it wrote there, and a cache mixed into the site is a mistake either
    way: it is a configuration error. (Config's check; kept here beside the other cache places.)
    """
    if "\0" in str(cache_dir):
        return  # reported as such
    places = [(str(config_dir), "the config file's directory"), (str(root), "the root")]
    for spec in bundles:
        for source in spec.sources:
            literal: list[str] = []
            for part in source.split("/"):
                if any(c in part for c in "*?["):
                    break
                literal.append(part)
            else:
                literal = literal[:-1]  # a file: its directory
            places.append((os.path.join(root, *literal), "the source directory {}"))
        places.append((os.path.join(root, spec.area), "the output directory {}"))
    cache = _both(str(cache_dir))
    for place, what in places:
        theirs = _both(place)
        if any(p == c or p.startswith(c.rstrip(os.sep) + os.sep) for p in theirs for c in cache):
            where = "is" if any(p == c for p in theirs for c in cache) else "contains"
            what = what.format(_shown(place, cwd))
            report(
                "cache_dir",
                f'"{_shown(str(cache_dir), cwd)}" {where} {what}, and `cache clear` deletes what '
                'is in the cache: give it a directory of its own, e.g. ".assetbuild-cache"',
            )
            return


def _shown(path: str, cwd: Path) -> str:
    path = os.path.normpath(path)
    relative = os.path.relpath(path, cwd)
    return path if relative.startswith("..") else relative.replace(os.sep, "/")


def _both(path: str) -> tuple[str, ...]:
    """A path as written (absolute, normalised) and as resolved through symlinks."""
    plain = os.path.normpath(os.path.abspath(path))
    try:
        real = os.path.realpath(plain)
    except (OSError, ValueError):
        return (plain,)
    return (plain, real) if real != plain else (plain,)


# --- HMAC-SHA256 ---------------------------------------------------------------------------------------


def make_home(inside: str) -> None:
    """Create the cache home (0700: its caches hold the user's paths) when `inside` is in it."""
    base = home()
    if base is not None and os.path.abspath(inside).startswith(base + os.sep):
        os.makedirs(base, mode=0o700, exist_ok=True)


def light_sha256() -> Callable[..., Any]:
    """The C SHA-256 constructor (`hashlib` costs the quick path ~3 ms to import; this ~0.3 ms)."""
    global _LIGHT
    if _LIGHT is None:
        for name in ("_sha2", "_sha256"):  # 3.12+, 3.11 (a failed import is not cached: once)
            try:
                _LIGHT = __import__(name).sha256
                break
            except ImportError:
                continue
        else:
            import hashlib

            _LIGHT = hashlib.sha256
    return _LIGHT


_LIGHT: Callable[..., Any] | None = None


def hmac_sha256(secret: bytes, parts: tuple[bytes, ...], new: Callable[..., Any]) -> bytes:
    """RFC 2104 HMAC over the concatenation of `parts` (the same bytes as `hmac.digest`)."""
    if len(secret) > _BLOCK:
        secret = new(secret).digest()
    block = secret.ljust(_BLOCK, b"\0")
    inner = new(block.translate(_IPAD))
    for part in parts:
        inner.update(part)
    outer = new(block.translate(_OPAD))
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]


class Key:
    """A cache key: signs the records the caches write, so that only they are ever trusted."""

    __slots__ = ("_secret", "ident", "origin")

    def __init__(self, secret: bytes, origin: str = "") -> None:
        self._secret = secret
        self.origin = origin  # where it came from, for messages
        # Stored beside each MAC, so an entry of another key is told apart without a guess.
        self.ident: bytes = light_sha256()(b"assetbuild cache key id\0" + secret).digest()[:8]

    def sign(self, *parts: bytes, new: Callable[..., Any] | None = None) -> bytes:
        """HMAC-SHA256 of the key's id and `parts`, each framed by its length (no two lists meet).

        `new` is a SHA-256 constructor: `hashlib.sha256` (OpenSSL, faster on megabytes) where
        hashlib is loaded anyway, else the light one.
        """
        framed: list[bytes] = [self.ident]
        for part in parts:
            framed += [len(part).to_bytes(8, "big"), part]
        return hmac_sha256(self._secret, tuple(framed), new or light_sha256())

    def verify(self, mac: bytes, *parts: bytes, new: Callable[..., Any] | None = None) -> bool:
        """Whether `mac` is this key's signature of `parts` (compared in constant time)."""
        expected = self.sign(*parts, new=new)
        if len(mac) != len(expected):
            return False
        diff = 0
        for a, b in zip(mac, expected, strict=True):
            diff |= a ^ b
        return diff == 0

    def __repr__(self) -> str:  # never the secret
        return f"Key(ident={self.ident.hex()}, origin={self.origin!r})"


def read_cache_file(path: str | os.PathLike[str], limit: int) -> bytes | None:
    """The bytes of a regular file of at most `limit` bytes, else None (missing, unreadable, a
    symlink, a FIFO or device, too big): what a cache directory holds is read this way, so a file
    planted there can neither hang a run nor fill its memory. `fsutil.read_regular` is the same
    rule for files whose problems must be reported; this one only misses, and stays importable
    on the quick path (os and stat only)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks: list[bytes] = []
        got = 0
        while got <= st.st_size:  # one byte more than its size: it must not have grown
            chunk = os.read(fd, st.st_size + 1 - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks) if got == st.st_size else None


def key_path(environ: Mapping[str, str] = os.environ) -> str | None:
    """The key file's path (None when the user has no home)."""
    base = home(environ)
    return os.path.join(base, KEY_FILE) if base is not None else None


def load_key(
    *, create: bool, environ: Mapping[str, str] = os.environ
) -> tuple[Key | None, str | None]:
    """(the key, None), or (None, why not); a missing key file is created only with `create`.

    (None, None): no key exists yet and none was to be made (a read-only run): nothing can be
    trusted, and nothing is wrong.
    """
    value = environ.get(ENV_KEY, "")
    if value:
        if len(value) < MIN_KEY_CHARS:
            return None, f"{ENV_KEY} is shorter than {MIN_KEY_CHARS} characters"
        return Key(value.encode("utf-8", "surrogateescape"), ENV_KEY), None
    path = key_path(environ)
    if path is None:
        return None, f"no home directory to keep the cache key in; set XDG_CACHE_HOME or {ENV_KEY}"
    key, problem = _read_key(path)
    if key is None and problem is None and create:
        try:
            _create_key(path)
        except OSError as exc:
            return None, f"cannot create the cache key {path}: {exc.strerror or exc}"
        key, problem = _read_key(path)
    return key, problem


def _read_key(path: str) -> tuple[Key | None, str | None]:
    """The key in `path`: (None, None) when there is none, (None, why) when it cannot be trusted."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None, None
    except OSError as exc:  # a symlink (ELOOP), no permission
        return None, f"cannot use the cache key {path}: {exc.strerror or exc}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, f"the cache key {path} is not a regular file"
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            return None, f"the cache key {path} belongs to another user"
        if st.st_mode & 0o077:
            return None, f"the cache key {path} is open to other users (chmod 600 it)"
        data = os.read(fd, _MAX_KEY_BYTES + 1)
    except OSError as exc:
        return None, f"cannot read the cache key {path}: {exc.strerror or exc}"
    finally:
        os.close(fd)
    secret = data.strip()
    if not MIN_KEY_CHARS <= len(secret) <= _MAX_KEY_BYTES:
        return None, f"the cache key {path} is not a key (expected {MIN_KEY_CHARS} or more bytes)"
    return Key(secret, path), None


def _create_key(path: str) -> None:
    """Write a new random key to `path` unless one appears first: 0600, complete or absent."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tmp = os.path.join(folder, f".key-{os.getpid()}-{os.urandom(4).hex()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        try:
            os.write(fd, os.urandom(32).hex().encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not os.path.lexists(path):
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
