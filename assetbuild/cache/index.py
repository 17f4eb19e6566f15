"""Which content-cache entry holds a source's result, known from the source's stamp alone.

An install after one edit used to read, substitute, hash and look up every other source of the
edited bundle to find results it already had. The index maps what a stat says of a source (its path,
size, mtime_ns, ctime_ns, inode and device: `stamps.Stamp`) and everything else its job depends on
(the bundle's settings and `fingerprint.environment_key()`) to the key of its job (`content.job_key`)
and the bytes read: a file whose stamp and settings are unchanged is not read, hashed or substituted
again; its result comes from the content cache by that key (a signed entry, as always).

What keeps a forged or stale index from changing what ships:
- the file is signed with the user's cache key (`cachehome`), over its name and bytes, as every
  cache record is: whoever can write the cache directory but not read the key cannot make an index
  we read, nor move one to another site's name;
- an entry is found only by a digest of the path, the full stamp, the settings and the environment:
  any write to the file (a new mtime or ctime), a rename over it (a new inode), another device, an
  upgrade of assetbuild or of a checker, or another option finds nothing;
- entries are recorded only from a stamp old enough to prove the file unchanged since
  (`stamps.settling`, by the later of mtime and ctime: a write within the file system's timestamp
  granularity could leave the same stamp), taken before the file was read and equal after it; and they are used only when the stamp is trusted now;
- the entry names a job key, and the content cache holds only results its key signed for the job
  of that key: at worst a wrong index entry names another file's real result, which the stamp
  binding above rules out (it would need another file with this path and this exact stamp).
A miss, a damaged or foreign file: the source is read as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assetbuild import stamps
from assetbuild.cache.fingerprint import environment_key
from assetbuild.cachehome import Key, read_cache_file

INDEX_FORMAT = 1
_MAGIC = b"ABINDEX1"  # then the key's id (8 bytes), the HMAC (32), the JSON body
MAX_INDEX_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 50_000  # a bound on what a file of many sites' sources keeps (the newest stay)
SUFFIX = ".index"  # content.clear knows these names


def index_name(site: str) -> str:
    """The index file's name (in the cache's `state` directory) for a site: one per root and config."""
    return hashlib.sha256(site.encode("utf-8", "surrogateescape")).hexdigest()[:24] + SUFFIX


def settings_digest(settings: Sequence[object]) -> str:
    """What a bundle's files share in their lookups: their settings and this environment."""
    blob = json.dumps([environment_key(), *settings], ensure_ascii=True, default=repr)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def lookup_key(path: str, stamp: stamps.Stamp, settings: str) -> str:
    """The digest an entry is found by: the path, its whole stamp, the settings' digest."""
    blob = "\0".join([settings, path, *(str(n) for n in stamp)])
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


class SourceIndex:
    """The index of one site's cache directory: load once a run, look up, add, save once."""

    def __init__(self, directory: Path, name: str, key: Key | None) -> None:
        self.path = Path(directory) / "state" / name
        self._directory = Path(directory)
        self._key = key
        self._entries: dict[str, list[Any]] = {}
        self._added: dict[str, list[Any]] = {}
        self._loaded = False

    def _load(self) -> None:
        self._loaded = True
        if self._key is None:
            return
        raw = read_cache_file(self.path, MAX_INDEX_BYTES)  # never a FIFO, a device or a giant
        if raw is None:
            return
        head = len(_MAGIC) + len(self._key.ident) + 32
        if raw[: len(_MAGIC)] != _MAGIC or raw[len(_MAGIC) : head - 32] != self._key.ident:
            return
        body = raw[head:]
        if not self._key.verify(raw[head - 32 : head], *self._signed(body), new=hashlib.sha256):
            return
        try:
            data = json.loads(body)
            entries = data["entries"] if data.get("format") == INDEX_FORMAT else {}
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        if isinstance(entries, dict):
            self._entries = entries

    def _signed(self, body: bytes) -> tuple[bytes, ...]:
        return (b"index", self.path.name.encode("ascii"), body)

    def get(self, path: str, stamp: stamps.Stamp | None, settings: str) -> tuple[str, int] | None:
        """(job key, bytes read) recorded for this path with this stamp and settings, if any.

        None unless `stamp` (taken now) is old enough to prove the file unchanged since it was.
        """
        if stamp is None or stamps.settling(stamp):
            return None
        if not self._loaded:
            self._load()
        found = self._entries.get(lookup_key(path, stamp, settings))
        if (
            isinstance(found, list)
            and len(found) == 2
            and isinstance(found[0], str)
            and len(found[0]) == 64
            and isinstance(found[1], int)
            and found[1] >= 0
        ):
            return found[0], found[1]
        return None

    def add(self, path: str, stamp: stamps.Stamp, settings: str, job_key: str, size: int) -> None:
        """Record that the file read with `stamp` (trusted, and unchanged after the read) has the
        job `job_key`; saved by `save`."""
        if stamps.settling(stamp):
            return
        entry = [job_key, size]
        lookup = lookup_key(path, stamp, settings)
        if self._entries.get(lookup) != entry:
            self._added[lookup] = entry

    def save(self) -> bool:
        """Write the index when entries were added (atomically, signed); False when it cannot be."""
        if not self._added or self._key is None:
            return False
        from assetbuild.cache.content import claim, write_in

        if not self._loaded:
            self._load()
        entries = {k: v for k, v in self._entries.items() if k not in self._added}
        entries.update(self._added)
        if len(entries) > MAX_ENTRIES:  # the oldest go first (dicts keep insertion order)
            entries = dict(list(entries.items())[-MAX_ENTRIES:])
        body = json.dumps(
            {"format": INDEX_FORMAT, "entries": entries}, separators=(",", ":")
        ).encode("ascii")
        mac = self._key.sign(*self._signed(body), new=hashlib.sha256)
        try:
            if not claim(self._directory):
                return False
            write_in(
                self._directory, ("state",), self.path.name, _MAGIC + self._key.ident + mac + body
            )
        except OSError:
            return False  # an unwritable cache (or a symlink planted in it) only costs speed
        self._entries, self._added = entries, {}
        return True


def site_name(root: Path, config_path: Path | None) -> str:
    """What an index belongs to: the root and the config file (a site)."""
    return index_name(f"{os.path.abspath(root)}\0{config_path}")
