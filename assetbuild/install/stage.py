"""Writing an install: stage each new version in a hidden directory, rename it into place, or write in place.

A new version directory N+1 starts as a *copy* of version N (hand-placed files and subdirectories
included), so that no later write can reach two versions at once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from assetbuild.errors import InstallError
from assetbuild.fsutil import (
    TEMP_PREFIX,
    atomic_write,
    copy_file,
    discard,
    fsync_dir,
    fsync_file,
    real_directory,
    remove_leftovers,
    sync_filesystem,
    temp_name,
    write_new,
)
from assetbuild.install import compress
from assetbuild.install.faults import fault_point
from assetbuild.install.plan import AreaPlan

# Why a hard link can fail where a copy works: another file system (EXDEV), a file system without
# links or a file we may not link (EPERM: protected_hardlinks), too many links (EMLINK).
_NO_LINK = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}
)


def _link_or_copy(src: Path, target: Path, fallbacks: list[tuple[Path, str]]) -> bool:
    """Hard-link `src` at `target`, else copy it (noted in `fallbacks`); True when copied.

    A link shares the file: versions stay immutable because nothing assetbuild does ever writes
    into an installed file (in-place writes rename a new file over the name).
    """
    try:
        os.link(src, target, follow_symlinks=False)
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        fallbacks.append((target, os.strerror(exc.errno or 0)))
    copy_file(src, target)
    return True


def _copy_tree(
    src: Path,
    dst: Path,
    exclude: frozenset[str],
    copied: list[Path],
    modes: list[tuple[Path, int]],
    fallbacks: list[tuple[Path, str]],
    prefix: str = "",
) -> None:
    """Fill `dst` with a version directory's contents: regular files as hard links (copies where
    linking fails), symlinks, subdirectories. `exclude` holds paths relative to the version.

    Directories are made writable by their owner, us, while they are filled, whatever the source's
    modes: `modes` collects what to give them once everything is in place (`_restore_modes`).
    """
    for entry in sorted(os.scandir(src), key=lambda e: e.name):
        rel = prefix + entry.name
        if rel in exclude or entry.name.startswith(TEMP_PREFIX):
            continue
        target = dst / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir():
            os.mkdir(target, 0o700)
            modes.append((target, entry.stat(follow_symlinks=False).st_mode & 0o7777))
            _copy_tree(Path(entry.path), target, exclude, copied, modes, fallbacks, rel + "/")
        elif entry.is_file():
            if _link_or_copy(Path(entry.path), target, fallbacks):
                copied.append(target)
        else:
            continue  # sockets, fifos: nothing a web server serves
        fault_point("staging")


def _restore_modes(modes: Sequence[tuple[Path, int]]) -> None:
    """Give staged directories their published modes, deepest first (a parent may lose its `w`)."""
    for path, mode in reversed(modes):
        os.chmod(path, mode)


def _flush_copies(tmp: Path, copied: Sequence[Path]) -> None:
    """Make the copied files and every directory entry durable before the rename publishes them."""
    if copied and not sync_filesystem(tmp):
        for path in copied:
            fsync_file(path)
    for dirpath, _, _ in os.walk(tmp):
        fsync_dir(Path(dirpath))


def stage(root: Path, plan: AreaPlan, fallbacks: list[tuple[Path, str]] | None = None) -> Path:
    """Fill a hidden temporary directory with the new version; return its path.

    Everything staged stays writable by us until the new bundles are in; then each directory gets
    the mode of the one it copies (a read-only version or subdirectory stays read-only once
    published), before the flush, so a crash never publishes the staging modes.
    """
    real_directory(root, plan.area_dir, create=True)
    tmp = plan.area_dir / temp_name(str(plan.version))
    os.mkdir(tmp)
    copied: list[Path] = []
    modes: list[tuple[Path, int]] = []
    try:
        if plan.previous is not None:
            src = plan.area_dir / str(plan.previous)
            # Unchanged bundles (byte-identical, variants agreeing) are linked with the rest.
            skip = (
                frozenset(
                    p.basename + s
                    for p in plan.outputs
                    if not p.unchanged
                    for s in ("", *compress.SUFFIXES, *(v for v, _ in p.output.variants))
                )
                | {place for p in plan.outputs for place, _ in p.asset_writes}
                | plan.drop
            )
            modes.append((tmp, os.lstat(src).st_mode & 0o7777))
            os.chmod(tmp, 0o700)
            _copy_tree(src, tmp, skip, copied, modes, fallbacks if fallbacks is not None else [])
        assets = {place: data for p in plan.outputs for place, data in p.asset_writes}
        for place, data in sorted(assets.items()):
            _make_parents(tmp, place)
            write_new(tmp.joinpath(*place.split("/")), data)
            fault_point("staging")
        for p in plan.outputs:
            if p.unchanged and plan.previous is not None:
                continue
            if "/" in p.basename:  # a module of a tree: its directories inside the version
                _make_parents(tmp, p.basename)
            for suffix, data in (*p.output.variants, ("", p.output.data)):
                write_new(tmp.joinpath(*(p.basename + suffix).split("/")), data)
                fault_point("staging")
        _restore_modes(modes)
        _flush_copies(tmp, copied)
    except BaseException:
        discard(tmp)  # whatever the modes inside: see fsutil.remove_entry
        raise
    return tmp


def _make_parents(base: Path, place: str) -> None:
    """The directories of an asset's place inside a staged version (real directories only)."""
    parent = base
    for part in place.split("/")[:-1]:
        parent = parent / part
        try:
            os.mkdir(parent, 0o755)
        except FileExistsError:
            if not os.path.isdir(parent) or os.path.islink(parent):
                raise InstallError(
                    f"{parent} is in the way of a directory of the version (a url() asset's or "
                    "a module tree's); assetbuild writes only into real directories: rename it"
                ) from None


def publish(tmp: Path, plan: AreaPlan) -> None:
    """Rename a staged directory to its version number; never onto an existing one."""
    target = plan.area_dir / str(plan.version)
    if os.path.lexists(target):
        # We hold the lock and found the name free (plan), so someone else writes here now.
        raise InstallError(
            f"{target} appeared while assetbuild held the install lock; another program is "
            "writing version directories there. Nothing was overwritten; stop that program, "
            "then run again"
        )
    os.rename(tmp, target)
    fsync_dir(plan.area_dir)


def _remove_stale(path: Path) -> None:
    """Remove a stale variant: a file or a link, never a directory someone put there."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(found.st_mode):
        raise InstallError(
            f"{path} is a directory where a precompressed variant of the bundle would be; "
            "assetbuild never deletes a directory it did not make: remove or rename it"
        )
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def write_in_place(plan: AreaPlan) -> None:
    """Add or overwrite files in the current version, each atomically (stale variants go first).

    A version directory that is not writable is an error that says so: a published version's
    permissions are its owner's choice, never changed by assetbuild (a bump copies it instead).
    """
    version_dir = plan.area_dir / str(plan.version)
    try:
        for p in plan.outputs:
            for name in p.removals:
                _remove_stale(version_dir / name)
            for name, data in p.writes:
                if "/" in name:  # a url() asset below the version directory
                    real_directory(version_dir, (version_dir / name).parent, create=True)
                atomic_write(version_dir.joinpath(*name.split("/")), data)
    except PermissionError as exc:
        raise InstallError(
            f"cannot write into {version_dir}: {exc.strerror}. assetbuild never changes the "
            f"permissions of a published version: make it writable (chmod u+w {version_dir}), "
            "or install into a new version with `assetbuild install --bump`. Versions installed "
            "before and the manifest were left as they were"
        ) from exc
    fsync_dir(version_dir)


def clean_leftovers(root: Path, plans: Sequence[AreaPlan], manifest_dir: Path | None) -> None:
    """Remove a killed run's temporary entries where installs make them (directories just checked)."""
    dirs = {root}
    for plan in plans:
        dirs.add(plan.area_dir)
        if plan.previous is not None:
            dirs.add(plan.area_dir / str(plan.previous))
    if manifest_dir is not None:
        dirs.add(manifest_dir)
    for directory in sorted(dirs):
        remove_leftovers(directory)


def apply(root: Path, plans: Sequence[AreaPlan]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Stage every new version, rename them all into place, then do in-place writes.

    Returns, per area, the files copied because they could not be hard-linked, with the reason.
    """
    staged: list[tuple[Path, AreaPlan]] = []
    copies: dict[str, tuple[tuple[str, str], ...]] = {}
    try:
        for plan in plans:
            if plan.new_dir:
                fallbacks: list[tuple[Path, str]] = []
                tmp = stage(root, plan, fallbacks)
                staged.append((tmp, plan))
                if fallbacks:
                    copies[plan.area] = tuple(
                        (path.relative_to(tmp).as_posix(), why) for path, why in fallbacks
                    )
        fault_point("staged")
        while staged:
            tmp, plan = staged[0]
            publish(tmp, plan)
            staged.pop(0)
            fault_point("renamed")
    except BaseException:
        for tmp, _ in staged:
            discard(tmp)
        raise
    for plan in plans:
        if not plan.new_dir and plan.action != "up-to-date":
            write_in_place(plan)
    return copies
