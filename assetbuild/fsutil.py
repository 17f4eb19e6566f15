"""Atomic, durable file-system writes, the hidden temporary names they use, stamps, and the machine's cores."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from pathlib import Path

# Every temporary entry assetbuild creates starts with this; under the install lock any such entry is a
# leftover of a killed run, so the next run may delete it.
TEMP_PREFIX = ".assetbuild-tmp-"


def temp_name(tag: str) -> str:
    """A hidden, unique name for a temporary entry: `.assetbuild-tmp-<tag>-<pid>-<random>`."""
    # os.urandom is what secrets.token_hex uses; importing secrets costs the no-change path ~5 ms.
    return f"{TEMP_PREFIX}{tag}-{os.getpid()}-{os.urandom(4).hex()}"


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename or a new file) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create `path` (which must not exist) with `data`, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    data: bytes,
    *,
    mode: int = 0o644,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Replace `path` with `data` so that readers see the old or the new bytes, never a mix."""
    tmp = path.parent / temp_name("file")
    try:
        write_new(tmp, data, mode)
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise
    fsync_dir(path.parent)


def fsync_file(path: Path) -> None:
    """Flush one file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_file(src: Path, dst: Path) -> None:
    """Copy one regular file with its mode and times (not yet flushed: see sync_filesystem)."""
    import shutil  # only here: the no-change path never copies

    shutil.copy2(src, dst, follow_symlinks=False)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    try:
        import ctypes

        func: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (ImportError, OSError, AttributeError):
        return None
    return func


def sync_filesystem(path: Path) -> bool:
    """Flush the whole file system holding `path` (Linux syncfs); False where that is unavailable.

    One syncfs after copying many files costs about as much as one fsync; an fsync per copied file
    measured 2.4 s for 500 small files here, syncfs 0.07 s.
    """
    syncfs = _syncfs()
    if syncfs is None:
        return False
    import ctypes

    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(path))
    finally:
        os.close(fd)
    return True


def remove_entry(path: Path) -> None:
    """Delete a file, symlink or directory tree if it exists."""
    try:
        if path.is_dir() and not path.is_symlink():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def discard(path: Path) -> None:
    """Best-effort removal while another error is propagating; a leftover is removed by the next run."""
    with contextlib.suppress(OSError):
        remove_entry(path)


def remove_leftovers(directory: Path) -> tuple[Path, ...]:
    """Delete the temporary entries a killed run left in `directory`; call only under the lock."""
    try:
        entries = [e for e in os.scandir(directory) if e.name.startswith(TEMP_PREFIX)]
    except (FileNotFoundError, NotADirectoryError):
        return ()
    removed = []
    for entry in sorted(entries, key=lambda e: e.name):
        path = Path(entry.path)
        remove_entry(path)
        removed.append(path)
    return tuple(removed)


# --- the machine ---------------------------------------------------------------------------------------


def cpu_count() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes the kernel can give without swapping (MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
