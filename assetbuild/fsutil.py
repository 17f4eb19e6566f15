"""Atomic, durable file-system writes, the hidden temporary names they use, stamps, and the machine's cores.

Also the two rules for paths that someone else may have prepared: every directory assetbuild writes
into is a real directory below the root (`real_directory`), and every file it reads that it did not
just write is a regular file read within a bound (`read_regular`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assetbuild.errors import InstallError

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


# --- what someone else may have put there ----------------------------------------------------------


def file_id(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """The (device, inode) of the file a path leads to (symlinks followed), None when there is none."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def kind_of(mode: int) -> str:
    """What a stat mode is, for messages: "a symbolic link", "a named pipe (FIFO)", ..."""
    kinds = (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


class RefusedFile(Exception):
    """A file assetbuild will not read: not a regular file, or larger than the caller's bound."""

    def __init__(self, path: Path, problem: str, *, too_large: bool = False) -> None:
        super().__init__(f"{path} {problem}")
        self.path = path
        self.problem = problem  # "is a named pipe (FIFO), not a regular file"
        self.too_large = too_large


def _check_regular(path: Path, st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise RefusedFile(path, f"is {kind_of(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise RefusedFile(path, _too_large(st.st_size, limit), too_large=True)


def _too_large(size: int | None, limit: int) -> str:
    shown = f" ({size:,} bytes)" if size is not None else ""
    return f"is larger than the {limit / 2**20:g} MB assetbuild reads there{shown}"


def read_regular(path: Path, limit: int, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of the regular file at `path`, which must hold at most `limit` bytes.

    FileNotFoundError when nothing is there; RefusedFile for a directory, a FIFO, a device, a socket,
    a file over the bound, a dangling link, and (`follow_symlinks=False`) any link. A FIFO never
    blocks the open (O_NONBLOCK) and a device is never opened: the kind is checked before and after.
    """
    try:
        before = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        if follow_symlinks and os.path.lexists(path):
            raise RefusedFile(path, "is a symbolic link to nothing, not a regular file") from None
        raise
    _check_regular(path, before, limit)
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise RefusedFile(path, "is a symbolic link, not a regular file") from None
        raise
    try:
        _check_regular(path, os.fstat(fd), limit)  # replaced since the stat: check what is open
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise RefusedFile(path, _too_large(None, limit), too_large=True)
        return b"".join(chunks)
    finally:
        os.close(fd)


def real_directory(root: Path, path: Path, *, create: bool, within: str = "the root") -> bool:
    """Check, and with `create` make, each directory from `root` (exclusive) down to `path`.

    Each must be a real directory: not a symbolic link (even to a directory inside the root), not a
    file. Returns whether `path` exists; InstallError names the first entry that is not a directory.
    `path` must be `root` or below it (a ValueError otherwise: the caller decides what is inside).
    """
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            if not create:
                return False
            with contextlib.suppress(FileExistsError):
                os.mkdir(current)
                fsync_dir(current.parent)
            st = os.lstat(current)
        if stat.S_ISLNK(st.st_mode):
            raise InstallError(
                f"{current} is a symbolic link; assetbuild writes only into real directories "
                f"inside {within} ({root}). Replace the link with a directory, or move the output"
            )
        if not stat.S_ISDIR(st.st_mode):
            raise InstallError(
                f"{current} is {kind_of(st.st_mode)}, not a directory; assetbuild writes only into "
                f"real directories inside {within} ({root}). Remove or rename it, or move the output"
            )
    return True


# --- removing what assetbuild made ----------------------------------------------------------------------

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _chmod_dir(parent_fd: int, name: str, mode: int) -> None:
    """chmod a directory entry that is a directory, never through a link (as glibc's
    fchmodat(AT_SYMLINK_NOFOLLOW) does it: an O_PATH descriptor, then its /proc/self/fd name)."""
    o_path = getattr(os, "O_PATH", 0)
    if o_path:
        fd = os.open(name, o_path | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)
        try:
            os.chmod(f"/proc/self/fd/{fd}", mode)
            return
        except FileNotFoundError:
            pass  # no /proc: the name, just checked to be a directory
        finally:
            os.close(fd)
    if not stat.S_ISDIR(os.lstat(name, dir_fd=parent_fd).st_mode):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), name)
    os.chmod(name, mode, dir_fd=parent_fd)


def _open_for_removal(parent_fd: int, name: str) -> int:
    """Open a directory to empty it, giving its owner (us) the rights that takes."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except PermissionError:  # not even readable: make it ours again, then open
        _chmod_dir(parent_fd, name, 0o700)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o700 != 0o700:
            os.fchmod(fd, mode | 0o700)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _remove_tree(parent_fd: int, name: str, shown: Path) -> None:
    """Delete the directory `name` in `parent_fd` and everything below, links never followed."""
    try:
        fd = _open_for_removal(parent_fd, name)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(shown)) from exc
    try:
        with os.scandir(fd) as entries:
            children = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
        for child, is_dir in children:
            if is_dir:
                _remove_tree(fd, child, shown / child)
                continue
            try:
                os.unlink(child, dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, str(shown / child)) from exc
    finally:
        os.close(fd)
    try:
        os.rmdir(name, dir_fd=parent_fd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(shown)) from exc


def remove_entry(path: Path) -> None:
    """Delete a file, symlink or directory tree if it exists; never follows a link.

    For what assetbuild itself made or moved aside (temporary entries, a version being pruned): a
    directory inside that its owner made read-only is given its owner's rights back first, as `rm`
    cannot and `go clean -modcache` does, so a read-only leftover never blocks the next run.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    parent_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _remove_tree(parent_fd, path.name, path)
    finally:
        os.close(parent_fd)


def discard(path: Path) -> None:
    """Best-effort removal while another error is propagating; a leftover is removed by the next run."""
    with contextlib.suppress(OSError):
        remove_entry(path)


def remove_leftovers(directory: Path) -> tuple[Path, ...]:
    """Delete the temporary entries a killed run left in `directory`; call only under the lock.

    Whatever their modes: see `remove_entry`. One this user may not delete at all (another user's,
    in a directory of theirs) is left where it is: its hidden name is never read, copied or listed
    as a version, so it harms nothing, and refusing to install over it would block every run.
    """
    try:
        entries = [e for e in os.scandir(directory) if e.name.startswith(TEMP_PREFIX)]
    except (FileNotFoundError, NotADirectoryError):
        return ()
    removed = []
    for entry in sorted(entries, key=lambda e: e.name):
        path = Path(entry.path)
        try:
            remove_entry(path)
        except PermissionError:
            continue
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


CONFIG_LIMIT = 1 << 20  # a config file larger than a megabyte is not one


def read_toml(path: Path, shown: str) -> tuple[dict[str, Any], str]:
    """A config file's TOML and its text (a bounded regular file, strict UTF-8); ConfigError names
    what is wrong. The text locates problems that tomllib's values cannot (it keeps no positions)."""
    import tomllib

    from assetbuild.diagnostics import Diagnostic, Location, toml_diagnostic
    from assetbuild.errors import ConfigError

    try:
        data = read_regular(path, CONFIG_LIMIT)
    except RefusedFile as exc:
        raise ConfigError(f"{shown}: cannot read config file: it {exc.problem}") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read config file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        message = f"invalid UTF-8 byte 0x{data[exc.start]:02x}; config files must be UTF-8"
        raise ConfigError(
            f"{shown}:{line}:{column}: {message}",
            [Diagnostic("error", message, Location(shown, line, column))],
        ) from None
    text = text.removeprefix("\ufeff")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        diag = toml_diagnostic(str(exc), text, shown)
        raise ConfigError(f"{diag.location}: {diag.message}", [diag]) from None
    except RecursionError:
        # tomllib recurses per nested inline table or array: `a = {a = {...` thousands deep.
        message = "invalid TOML: arrays or inline tables nested too deeply"
        raise ConfigError(
            f"{shown}: {message}", [Diagnostic("error", message, Location(shown))]
        ) from None
