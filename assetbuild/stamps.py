"""File stamps: what `stat` says about a file, and when that proves the file unchanged.

One stamp shape for every part that skips work on unchanged files (the no-change state, the quick
record, watch mode, the prepared-jobs memo, the manifest reader). The quick path imports this module,
so it imports nothing but `os` and `time`.
"""

from __future__ import annotations

import os
import time

# A stat stamp taken less than this after the file's mtime proves nothing: another write within
# the file system's timestamp granularity would leave the same stamp (2 s covers FAT and NFS too).
RACY_NS = 2_000_000_000

Stamp = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


def stamp_of(st: os.stat_result) -> Stamp:
    """The stamp of a stat result."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def stamp(path: str | os.PathLike[str]) -> Stamp | None:
    """The file's stamp (following links), or None when it cannot be stat'ed."""
    try:
        return stamp_of(os.stat(path))
    except (OSError, ValueError):
        return None


def racy(value: Stamp, now_ns: int | None = None) -> bool:
    """Whether the stamp is too recent to prove that the file did not change since."""
    now = time.time_ns() if now_ns is None else now_ns
    return now - value[1] < RACY_NS


def settling(value: Stamp, now_ns: int | None = None, window_ns: int | None = None) -> bool:
    """Whether the file's content or its metadata changed too recently for the stamp to prove it
    unchanged since: as `racy`, by the later of mtime and ctime (a copy that keeps an old mtime,
    `rsync -t` or `tar x`, still has a new ctime). What is recorded to skip reading a file later
    must not be settling. `window_ns` defaults to RACY_NS."""
    now = time.time_ns() if now_ns is None else now_ns
    window = RACY_NS if window_ns is None else window_ns
    return now - max(value[1], value[2]) < window


def trusted_stamp(path: str | os.PathLike[str]) -> Stamp | None:
    """The file's stamp, or None when it is missing or too recent to prove anything."""
    found = stamp(path)
    return None if found is None or racy(found) else found
