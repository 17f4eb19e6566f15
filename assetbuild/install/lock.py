"""The install lock: one install at a time per static root, released by the kernel when its holder dies."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assetbuild.errors import LockTimeout

LOCK_NAME = ".assetbuild.lock"


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


@contextmanager
def install_lock(
    root: Path, timeout: float, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold `root/.assetbuild.lock` (flock: the kernel frees it when its holder dies), polling up to `timeout`."""
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
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
                    holder = _read_holder(fd)
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
        # The pid is only for messages; the flock itself is what excludes.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
