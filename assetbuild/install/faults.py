"""A test hook: kill the process at a named point of an install, to prove a killed run loses nothing."""

from __future__ import annotations

import os

_fault_counts: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Test hook: ASSETBUILD_FAULT="name" or "name:count" SIGKILLs us the count-th time `name` is reached.

    Points: locked, staging (after each file put in a temp dir), staged, renamed, manifest-temp, done;
    with a target (remote/publish.py): uploading (after each object created), uploaded, manifest
    (just before the remote manifest is written), done.
    """
    spec = os.environ.get("ASSETBUILD_FAULT")
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target != name:
        return
    seen = _fault_counts[name] = _fault_counts.get(name, 0) + 1
    if seen == int(count or "1"):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
