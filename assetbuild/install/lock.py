"""The install lock: one install at a time per static root, released by the kernel when its holder dies.

`<root>/.assetbuild.lock` is an empty regular file that only carries the flock. It is opened without
following a link, without blocking (a FIFO there cannot hang the open) and read-only, and anything but
a regular file is refused before it is opened; nothing is ever written into it, so a lock path that
someone pointed at another file (a hard link, say) loses nothing. The holder's pid in messages comes
from the kernel's lock table (/proc/locks), not from the file.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assetbuild.errors import InstallError, LockTimeout
from assetbuild.fsutil import kind_of

LOCK_NAME = ".assetbuild.lock"


def _refuse(path: Path, what: str) -> InstallError:
    return InstallError(
        f"{path} is {what}, not a regular file; assetbuild uses it as its install lock and never "
        "follows a link or opens anything else there. Remove it (assetbuild creates an empty one)"
    )


def open_lock_file(path: Path) -> int:
    """A read-only descriptor of the lock file, created empty when missing; never through a link."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISREG(
            found.st_mode
        ):  # a device is never opened, a dangling link never created
            raise _refuse(path, kind_of(found.st_mode))
    flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:  # replaced since the lstat
        if exc.errno == errno.ELOOP:
            raise _refuse(path, "a symbolic link") from None
        if exc.errno == errno.EISDIR:
            raise _refuse(path, "a directory") from None
        if exc.errno == errno.ENXIO:
            raise _refuse(path, "a socket") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _refuse(path, kind_of(mode))
    return fd


def lock_holder(fd: int) -> str:
    """The pid holding the flock on `fd`'s file, from the kernel's table; "" when unknown."""
    try:
        st = os.fstat(fd)
        ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            for line in locks:
                fields = line.split()
                # "1: FLOCK  ADVISORY  WRITE 5269 fe:00:2146370 0 EOF"; waiters have "->" second
                if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == ident:
                    pid = fields[4]
                    return pid if pid.isdigit() and pid != "0" else ""
    except (OSError, ValueError):
        pass
    return ""


@contextmanager
def install_lock(
    root: Path, timeout: float, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold `root/.assetbuild.lock` (flock: the kernel frees it when its holder dies), polling up to `timeout`."""
    path = root / LOCK_NAME
    fd = open_lock_file(path)
    try:
        start = time.monotonic()
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                elapsed = time.monotonic() - start
                if elapsed >= timeout:
                    holder = lock_holder(fd)
                    who = f" (pid {holder})" if holder else ""
                    raise LockTimeout(
                        f"another assetbuild install{who} has held {path} for {timeout:g} s; "
                        "wait for it to finish, or give it longer with a larger lock timeout. "
                        "The lock is released automatically when its process exits, "
                        "so a killed run never leaves it stuck"
                    ) from None
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                time.sleep(min(0.05, timeout - elapsed))
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
