"""Install bundles into numbered version directories: lock, decide, stage, rename, then the manifest.

A URL, once installed under the "auto" policy, never changes its bytes: a changed bundle goes into a new
version directory N+1, filled under a hidden temporary name and renamed into place. N+1 starts as a *copy*
of version N (hand-placed files and subdirectories included). We copy rather than hardlink so that no later
write, by us (into-current) or by a person editing a file in place, can reach two versions at once.
"""

from __future__ import annotations

import copy
import errno
import fcntl
import os
import posixpath
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assetbuild.errors import ConfigError, InstallError, LockTimeout
from assetbuild.fsutil import (
    TEMP_PREFIX,
    atomic_write,
    copy_file,
    discard,
    fsync_dir,
    fsync_file,
    remove_entry,
    remove_leftovers,
    sync_filesystem,
    temp_name,
    trusted_stamp,
    write_new,
)
from assetbuild.install import compress
from assetbuild.manifest import BundleEntry, ManifestError, bundle_entry, read_manifest, render
from assetbuild.manifest import build_manifest as _build_manifest
from assetbuild.manifest import write_manifest as _write_manifest
from assetbuild.versions import area_path, current_version, is_version_name

Policy = Literal["auto", "into-current", "bump"]
POLICIES: tuple[str, ...] = ("auto", "into-current", "bump")
LOCK_NAME = ".assetbuild.lock"


@dataclass(frozen=True)
class Output:
    """One bundle to install: its logical name ("js/main.js"), bytes and precompressed variants."""

    name: str
    data: bytes
    variants: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class ManifestSettings:
    """Where and how to write the manifest."""

    path: Path
    format: str
    static_url: str | None


@dataclass(frozen=True)
class FileResult:
    """What happened to one bundle; action is "written", "unchanged" or "copied"."""

    name: str
    path: str
    action: str


@dataclass(frozen=True)
class AreaResult:
    """What happened to one area (the directory of a bundle name)."""

    area: str
    action: str  # "created" | "bumped" | "added" | "overwritten" | "up-to-date"
    version: int
    previous: int | None
    files: tuple[FileResult, ...]


@dataclass(frozen=True)
class InstallReport:
    """The outcome of an install, or of a dry run (which computes the same and writes nothing)."""

    areas: tuple[AreaResult, ...]
    manifest_path: Path | None
    manifest_changed: bool
    dry_run: bool


# ---------------------------------------------------------------------------------------------------------
# Test hook.

_fault_counts: dict[str, int] = {}


def _fault_point(name: str) -> None:
    """Test hook: ASSETBUILD_FAULT="name" or "name:count" SIGKILLs us the count-th time `name` is reached.

    Points: locked, staging (after each file put in a temp dir), staged, renamed, manifest-temp, done.
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


# ---------------------------------------------------------------------------------------------------------
# Locking.


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


# ---------------------------------------------------------------------------------------------------------
# Errors.

_HINTS = {
    errno.EACCES: "the user running assetbuild cannot write there; fix the directory's owner or permissions",
    errno.EPERM: "the user running assetbuild cannot write there; fix the directory's owner or permissions",
    errno.ENOSPC: "the disk is full; free some space and run again",
    errno.EDQUOT: "the disk quota is exhausted; free some space and run again",
    errno.EROFS: "the file system is read-only; install into a writable directory",
    errno.EIO: "the device reported an I/O error; check the disk and run again",
}


def _install_error(exc: OSError, root: Path, manifest_replaced: bool = False) -> InstallError:
    where = exc.filename if exc.filename is not None else root
    what = exc.strerror or str(exc)
    hint = _HINTS.get(exc.errno or 0, "check the directory and run again")
    # The error can come after the manifest's rename (flushing its directory): say so, not "untouched".
    kept = (
        "The new manifest was already in place when this happened; run again to make sure it is on disk"
        if manifest_replaced
        else "Versions installed before and the manifest were left as they were"
    )
    return InstallError(f"cannot install into {root}: {where}: {what}; {hint}. {kept}")


# ---------------------------------------------------------------------------------------------------------
# Deciding.

_SAME, _NEW, _CHANGED = 0, 1, 2
_CONFLICT = object()  # a directory where a bundle file should be


@dataclass(frozen=True)
class _OutputPlan:
    output: Output
    basename: str
    status: int
    writes: tuple[tuple[str, bytes], ...]  # (file name in the version dir, bytes), variants first
    removals: tuple[str, ...]  # stale variants that disagree with the bundle
    final_variants: tuple[tuple[str, int], ...]  # suffix -> size once installed in place


@dataclass(frozen=True)
class _AreaPlan:
    area: str
    area_dir: Path
    action: str
    previous: int | None
    version: int
    new_dir: bool  # staged as a new version directory
    outputs: tuple[_OutputPlan, ...]


def _read(path: Path) -> bytes | object | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        return _CONFLICT


def _agrees(suffix: str, existing: bytes, wanted: bytes | None, data: bytes) -> bool:
    """Whether an existing variant serves the same content as the bundle (zlib versions may differ)."""
    return existing == wanted or compress.decompress(suffix, existing) == data


def _plan_output(cur_dir: Path | None, out: Output, suffixes: Sequence[str]) -> _OutputPlan:
    basename = posixpath.basename(out.name)
    desired = dict(out.variants)
    if cur_dir is None:
        writes = (*((basename + s, b) for s, b in out.variants), (basename, out.data))
        final = tuple((s, len(b)) for s, b in out.variants)
        return _OutputPlan(out, basename, _NEW, writes, (), final)
    existing = _read(cur_dir / basename)
    status = _SAME if existing == out.data else _NEW if existing is None else _CHANGED
    writes_list: list[tuple[str, bytes]] = []
    removals: list[str] = []
    final_list: list[tuple[str, int]] = []
    for suffix in suffixes:
        wanted = desired.get(suffix)
        have = _read(cur_dir / (basename + suffix))
        if isinstance(have, bytes) and _agrees(suffix, have, wanted, out.data):
            final_list.append((suffix, len(have)))
            continue
        if have is not None:
            status = _CHANGED
        if wanted is not None:
            status = max(status, _NEW)
            writes_list.append((basename + suffix, wanted))
            final_list.append((suffix, len(wanted)))
        elif have is not None:
            removals.append(basename + suffix)
    if status != _SAME and existing != out.data:
        writes_list.append((basename, out.data))
    return _OutputPlan(
        out, basename, status, tuple(writes_list), tuple(removals), tuple(final_list)
    )


def _plan_area(root: Path, area: str, outputs: Sequence[Output], policy: str) -> _AreaPlan:
    area_dir = area_path(root, area)
    suffixes = tuple(
        dict.fromkeys((*compress.SUFFIXES, *(s for o in outputs for s, _ in o.variants)))
    )
    current = current_version(area_dir)
    cur_dir = area_dir / str(current) if current is not None else None
    plans = tuple(_plan_output(cur_dir, out, suffixes) for out in outputs)
    status = max(p.status for p in plans)
    if current is None:
        return _AreaPlan(area, area_dir, "created", None, 1, True, plans)
    if policy == "bump" or (policy == "auto" and status == _CHANGED):
        return _AreaPlan(area, area_dir, "bumped", current, current + 1, True, plans)
    if status == _SAME:
        action = "up-to-date"
    elif status == _NEW:
        action = "added"
    else:
        action = "overwritten"
    return _AreaPlan(area, area_dir, action, current, current, False, plans)


def _file_action(area: _AreaPlan, plan: _OutputPlan) -> str:
    if area.action == "bumped":
        return "copied" if plan.status == _SAME else "written"
    if area.action == "created":
        return "written"
    return "unchanged" if plan.status == _SAME else "written"


def _rel(area: str, version: int, basename: str) -> str:
    return posixpath.join(area, str(version), basename)


def _check_name(name: str) -> None:
    parts = name.split("/")
    bad = (
        not name
        or "\\" in name
        or "\0" in name
        or any(p in ("", ".", "..") or p.startswith(TEMP_PREFIX) for p in parts)
    )
    if bad:
        raise ConfigError(
            f"bundle name {name!r} is not a relative path like 'js/main.js' "
            "(no leading '/', no '.' or '..' parts, no backslashes)"
        )
    clash = [p for p in parts[:-1] if is_version_name(p)]
    if clash:
        raise ConfigError(
            f"bundle name {name!r} has a directory named {clash[0]!r}, which would be taken for a "
            "version directory; rename that directory"
        )


def _group(outputs: Sequence[Output]) -> dict[str, list[Output]]:
    """Outputs by area, validated: unique names, no name equal to another's variant."""
    areas: dict[str, list[Output]] = {}
    files: set[str] = set()
    for out in outputs:
        _check_name(out.name)
        for suffix, _ in out.variants:
            if not suffix.startswith(".") or "/" in suffix or len(suffix) < 2:
                raise ConfigError(f"variant suffix {suffix!r} of {out.name!r} must look like '.gz'")
        names = [out.name, *(out.name + s for s, _ in out.variants)]
        dup = next((n for n in names if n in files), None)
        if dup is not None:
            raise ConfigError(
                f"two outputs would both install {dup!r}; give the bundles distinct names"
            )
        files.update(names)
        areas.setdefault(posixpath.dirname(out.name), []).append(out)
    for out in outputs:
        for suffix in compress.SUFFIXES:
            if out.name + suffix in {o.name for o in outputs}:
                raise ConfigError(
                    f"bundle {out.name + suffix!r} would be taken for a precompressed variant of "
                    f"{out.name!r}; rename it"
                )
    return dict(sorted(areas.items()))


# ---------------------------------------------------------------------------------------------------------
# Writing.


def _copy_tree(src: Path, dst: Path, exclude: frozenset[str], copied: list[Path]) -> None:
    """Copy a version directory's contents (regular files, symlinks, subdirectories) into `dst`."""
    for entry in sorted(os.scandir(src), key=lambda e: e.name):
        if entry.name in exclude or entry.name.startswith(TEMP_PREFIX):
            continue
        target = dst / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir():
            os.mkdir(target)
            _copy_tree(Path(entry.path), target, frozenset(), copied)
            os.chmod(target, entry.stat().st_mode & 0o7777)
        elif entry.is_file():
            copy_file(Path(entry.path), target)
            copied.append(target)
        else:
            continue  # sockets, fifos: nothing a web server serves
        _fault_point("staging")


def _flush_copies(tmp: Path, copied: Sequence[Path]) -> None:
    """Make the copied files and every directory entry durable before the rename publishes them."""
    if copied and not sync_filesystem(tmp):
        for path in copied:
            fsync_file(path)
    for dirpath, _, _ in os.walk(tmp):
        fsync_dir(Path(dirpath))


def _stage(root: Path, plan: _AreaPlan) -> Path:
    """Fill a hidden temporary directory with the new version; return its path."""
    if not plan.area_dir.is_dir():
        plan.area_dir.mkdir(parents=True, exist_ok=True)
        fsync_dir(plan.area_dir.parent)
    tmp = plan.area_dir / temp_name(str(plan.version))
    os.mkdir(tmp)
    copied: list[Path] = []
    try:
        if plan.previous is not None:
            src = plan.area_dir / str(plan.previous)
            skip = frozenset(
                p.basename + s
                for p in plan.outputs
                for s in ("", *compress.SUFFIXES, *(v for v, _ in p.output.variants))
            )
            _copy_tree(src, tmp, skip, copied)
            os.chmod(tmp, src.stat().st_mode & 0o7777)
        for p in plan.outputs:
            for suffix, data in (*p.output.variants, ("", p.output.data)):
                write_new(tmp / (p.basename + suffix), data)
                _fault_point("staging")
        _flush_copies(tmp, copied)
    except BaseException:
        discard(tmp)
        raise
    return tmp


def _publish(tmp: Path, plan: _AreaPlan) -> None:
    """Rename a staged directory to its version number; never onto an existing one."""
    target = plan.area_dir / str(plan.version)
    if os.path.lexists(target):
        # We hold the lock and decided under it, so someone else writes here.
        raise InstallError(
            f"{target} appeared while assetbuild held the install lock; another program is "
            "writing version directories there. Nothing was overwritten; run again"
        )
    os.rename(tmp, target)
    fsync_dir(plan.area_dir)


def _write_in_place(plan: _AreaPlan) -> None:
    """Add or overwrite files in the current version, each atomically (stale variants go first)."""
    version_dir = plan.area_dir / str(plan.version)
    for p in plan.outputs:
        for name in p.removals:
            remove_entry(version_dir / name)
        for name, data in p.writes:
            atomic_write(version_dir / name, data)
    fsync_dir(version_dir)


def _clean(root: Path, groups: dict[str, list[Output]], manifest: ManifestSettings | None) -> None:
    dirs = {root}
    for area in groups:
        area_dir = area_path(root, area)
        dirs.add(area_dir)
        current = current_version(area_dir)
        if current is not None:
            dirs.add(area_dir / str(current))
    if manifest is not None:
        dirs.add(manifest.path.parent)
    for directory in sorted(dirs):
        remove_leftovers(directory)


# ---------------------------------------------------------------------------------------------------------
# The manifest's entries.


_DISK_ENTRIES_MAX = 256
_disk_entries: dict[str, tuple[tuple[object, ...], BundleEntry]] = {}


def _disk_entry(rel: str, source: Path, version: int, static_url: str | None) -> BundleEntry | None:
    sizes = {}
    for suffix in compress.SUFFIXES:
        with suppress(FileNotFoundError, NotADirectoryError):
            sizes[suffix] = source.with_name(source.name + suffix).stat().st_size
    # Watch mode re-lists the bundles it did not build: an installed file whose trusted stamp is
    # unchanged is not read and hashed again.
    stamp = trusted_stamp(source)
    key: tuple[object, ...] | None = None
    if stamp is not None:
        key = (*stamp, rel, version, tuple(sorted(sizes.items())), static_url)
        known = _disk_entries.get(str(source))
        if known is not None and known[0] == key:
            return copy.deepcopy(known[1])
    try:
        data = source.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    entry = bundle_entry(rel, version, data, sizes, static_url)
    if key is not None and len(data) == key[0]:  # key[0]: the size the stamp saw
        if len(_disk_entries) >= _DISK_ENTRIES_MAX:
            _disk_entries.clear()
        _disk_entries[str(source)] = (key, copy.deepcopy(entry))
    return entry


def _manifest_entries(
    root: Path, plans: Sequence[_AreaPlan], settings: ManifestSettings
) -> dict[str, BundleEntry]:
    """Entries for the installed outputs, plus earlier entries (JSON only) repointed to where they live now."""
    entries: dict[str, BundleEntry] = {}
    by_area = {p.area: p for p in plans}
    installed = {o.output.name for p in plans for o in p.outputs}
    old: dict[str, BundleEntry] = {}
    if settings.format == "json":
        try:
            old = dict(read_manifest(settings.path)["bundles"])
        except ManifestError:
            old = {}  # missing or unreadable: rewritten from this install alone
    for name, previous in sorted(old.items()):
        if name in installed:
            continue
        area, basename = posixpath.split(name)
        plan = by_area.get(area)
        area_dir = area_path(root, area)
        current = plan.previous if plan is not None else current_version(area_dir)
        version = plan.version if plan is not None else current
        entry = None
        if current is not None and version is not None:
            source = area_dir / str(current) / basename
            entry = _disk_entry(_rel(area, version, basename), source, version, settings.static_url)
        if entry is None and isinstance(previous.get("version"), int):
            entry = _disk_entry(
                previous["path"], root / previous["path"], previous["version"], settings.static_url
            )
        if entry is not None:
            entries[name] = entry
    for plan in plans:
        for p in plan.outputs:
            sizes = (
                dict(p.final_variants)
                if not plan.new_dir
                else {s: len(b) for s, b in p.output.variants}
            )
            rel = _rel(plan.area, plan.version, p.basename)
            entries[p.output.name] = bundle_entry(
                rel, plan.version, p.output.data, sizes, settings.static_url
            )
    return entries


def _manifest_differs(settings: ManifestSettings, entries: dict[str, BundleEntry]) -> bool:
    content = render(_build_manifest(entries), settings.format)
    try:
        return settings.path.read_bytes() != content
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return True


# ---------------------------------------------------------------------------------------------------------
# The whole install.


def _report(
    plans: Sequence[_AreaPlan], manifest: ManifestSettings | None, changed: bool, dry_run: bool
) -> InstallReport:
    areas = tuple(
        AreaResult(
            area=plan.area,
            action=plan.action,
            version=plan.version,
            previous=plan.previous,
            files=tuple(
                FileResult(
                    p.output.name, _rel(plan.area, plan.version, p.basename), _file_action(plan, p)
                )
                for p in plan.outputs
            ),
        )
        for plan in plans
    )
    return InstallReport(areas, manifest.path if manifest else None, changed, dry_run)


def install(
    root: Path,
    outputs: Sequence[Output],
    *,
    policy: Policy = "auto",
    dry_run: bool = False,
    manifest: ManifestSettings | None = None,
    lock_timeout: float = 60.0,
    on_wait: Callable[[], None] | None = None,
) -> InstallReport:
    """Install `outputs` under `root` by `policy`, then write the manifest; atomic and locked."""
    if policy not in POLICIES:
        raise ConfigError(f"unknown install policy {policy!r}; use one of: {', '.join(POLICIES)}")
    if manifest is not None and manifest.format not in ("json", "php"):
        raise ConfigError(f"unknown manifest format {manifest.format!r}; use json or php")
    groups = _group(outputs)
    root = Path(root)
    try:
        if dry_run:
            # No lock: a dry run writes nothing, not even a lock file, and only reads.
            plans = [_plan_area(root, area, outs, policy) for area, outs in groups.items()]
            changed = manifest is not None and _manifest_differs(
                manifest, _manifest_entries(root, plans, manifest)
            )
            return _report(plans, manifest, changed, True)
        root.mkdir(parents=True, exist_ok=True)
        replacing = False

        def before_replace() -> None:
            nonlocal replacing
            _fault_point("manifest-temp")
            replacing = True

        with install_lock(root, lock_timeout, on_wait):
            _fault_point("locked")
            _clean(root, groups, manifest)
            plans = [_plan_area(root, area, outs, policy) for area, outs in groups.items()]
            _apply(root, plans)
            changed = False
            if manifest is not None:
                manifest.path.parent.mkdir(parents=True, exist_ok=True)
                changed = _write_manifest(
                    manifest.path,
                    manifest.format,
                    _manifest_entries(root, plans, manifest),
                    before_replace=before_replace,
                )
            _fault_point("done")
            return _report(plans, manifest, changed, False)
    except OSError as exc:
        # After before_replace, only os.replace itself failing leaves the old manifest in place.
        replaced = replacing and manifest is not None and not _failed_replace(exc, manifest.path)
        raise _install_error(exc, root, replaced) from exc


def _failed_replace(exc: OSError, path: Path) -> bool:
    return exc.filename2 is not None and Path(exc.filename2) == path


def _apply(root: Path, plans: Sequence[_AreaPlan]) -> None:
    """Stage every new version, rename them all into place, then do in-place writes."""
    staged: list[tuple[Path, _AreaPlan]] = []
    try:
        for plan in plans:
            if plan.new_dir:
                staged.append((_stage(root, plan), plan))
        _fault_point("staged")
        while staged:
            tmp, plan = staged[0]
            _publish(tmp, plan)
            staged.pop(0)
            _fault_point("renamed")
    except BaseException:
        for tmp, _ in staged:
            discard(tmp)
        raise
    for plan in plans:
        if not plan.new_dir and plan.action != "up-to-date":
            _write_in_place(plan)


def write_plain(out_dir: Path, files: Sequence[tuple[str, bytes]]) -> tuple[Path, ...]:
    """Write `(name, bytes)` pairs under `out_dir` with no versions, each file atomically."""
    written: list[Path] = []
    try:
        for name, data in files:
            parts = name.split("/")
            if not name or "\\" in name or any(p in ("", ".", "..") for p in parts):
                raise ConfigError(f"output name {name!r} is not a relative path like 'js/main.js'")
            path = out_dir.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(path.parent)
            atomic_write(path, data)
            written.append(path)
    except OSError as exc:
        raise _install_error(exc, out_dir) from exc
    return tuple(written)
