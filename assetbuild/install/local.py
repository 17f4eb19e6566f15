"""Install bundles into numbered version directories: lock, decide, stage, rename, then the manifest.

A URL, once installed under the "auto" policy, never changes its bytes: a changed bundle goes into a new
version directory N+1, filled under a hidden temporary name and renamed into place (`stage`). The
decisions are `plan`'s, the lock is `lock`'s, the manifest's entries are `entries`'.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assetbuild.build.results import (
    POLICIES,
    AreaResult,
    InstalledFile,
    InstallReport,
    ManifestSettings,
    ModulesInput,
    Output,
    Policy,
    TreeInstalled,
)
from assetbuild.errors import ConfigError, InstallError
from assetbuild.fsutil import real_directory
from assetbuild.install.compress import SUFFIXES
from assetbuild.install.entries import (
    DiskEntries,
    ManifestOnDisk,
    known_versions,
    manifest_differs,
    manifest_entries,
    module_manifest,
    read_current,
)
from assetbuild.install.faults import fault_point
from assetbuild.install.lock import install_lock
from assetbuild.install.plan import (
    AreaPlan,
    OutputPlan,
    file_action,
    group_outputs,
    plan_area,
    rel_path,
    removed_files,
)
from assetbuild.install.stage import apply, clean_leftovers
from assetbuild.manifest import BundleEntry
from assetbuild.manifest import write_manifest as _write_manifest
from assetbuild.versions import output_problem

_HINTS = {
    errno.EACCES: "the user running assetbuild cannot write there; fix the directory's owner or permissions",
    errno.EPERM: "the user running assetbuild cannot write there; fix the directory's owner or permissions",
    errno.ENOSPC: "the disk is full; free some space and run again",
    errno.EDQUOT: "the disk quota is exhausted; free some space and run again",
    errno.EROFS: "the file system is read-only; install into a writable directory",
    errno.EIO: "the device reported an I/O error; check the disk and run again",
}


def install_error(exc: OSError, root: Path, manifest_replaced: bool = False) -> InstallError:
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


def _report(
    plans: Sequence[AreaPlan],
    manifest: ManifestSettings | None,
    changed: bool,
    dry_run: bool,
    previous: Mapping[str, BundleEntry] | None = None,
    entries: Mapping[str, BundleEntry] | None = None,
    not_linked: Mapping[str, tuple[tuple[str, str], ...]] | None = None,
    modules: Mapping[str, Any] | None = None,
) -> InstallReport:
    areas = tuple(
        AreaResult(
            area=plan.area,
            action=plan.action,
            version=plan.version,
            previous=plan.previous,
            files=tuple(
                InstalledFile(
                    p.output.name,
                    rel_path(plan.area, p.origin, p.basename),
                    file_action(plan, p),
                )
                for p in plan.outputs
                if not p.output.tree
            ),
            not_linked=(not_linked or {}).get(plan.area, ()),
        )
        for plan in plans
    )
    return InstallReport(
        areas,
        manifest.path if manifest else None,
        changed,
        dry_run,
        dict(previous or {}),
        dict(entries or {}),
        trees=_trees(plans),
        modules=dict((modules or {}).get("modules", {})),
    )


def _trees(plans: Sequence[AreaPlan]) -> tuple[TreeInstalled, ...]:
    """One line per module tree: its version, files, bytes, and whether anything was written."""
    found: dict[str, list[tuple[AreaPlan, OutputPlan]]] = {}
    for plan in plans:
        for p in plan.outputs:
            if p.output.tree:
                found.setdefault(p.output.tree, []).append((plan, p))
    trees = []
    for tree, members in sorted(found.items()):
        actions = {file_action(plan, p) for plan, p in members}
        action = next((a for a in ("written", "linked") if a in actions), "unchanged")
        size = sum(len(p.output.data) for _, p in members if not p.output.name.endswith(".map"))
        files = sum(1 for _, p in members if not p.output.name.endswith(".map"))
        trees.append(TreeInstalled(tree, members[0][1].origin, files, size, action))
    return tuple(trees)


def install(
    root: Path,
    outputs: Sequence[Output],
    *,
    policy: Policy = "auto",
    dry_run: bool = False,
    manifest: ManifestSettings | None = None,
    lock_timeout: float = 60.0,
    on_wait: Callable[[], None] | None = None,
    disk_entries: DiskEntries | None = None,
    configured: frozenset[str] | None = None,
    modules: ModulesInput | None = None,
    keep_modules: bool = False,
) -> InstallReport:
    """Install `outputs` under `root` by `policy`, then write the manifest; atomic and locked.

    The manifest is read once, under the lock; `disk_entries` (watch mode keeps one) remembers the
    entries of installed bundles this install did not build. `configured`: every bundle the config
    has; the manifest's entries of others (removed bundles) are dropped, and their files are not
    carried into new versions. None keeps every entry whose file is still installed.
    `keep_modules` (watch, when a tree has an error; `modules` is then None): the manifest keeps
    its module fields as found, every tree at the version it names.
    """
    if policy not in POLICIES:
        raise ConfigError(f"unknown install policy {policy!r}; use one of: {', '.join(POLICIES)}")
    if manifest is not None and manifest.format not in ("json", "php"):
        raise ConfigError(f"unknown manifest format {manifest.format!r}; use json or php")
    groups = group_outputs(outputs)
    root = Path(root)
    try:
        if dry_run:
            # No lock: a dry run writes nothing, not even a lock file, and only reads.
            if manifest is None:
                plans = [plan_area(root, area, outs, policy) for area, outs in groups.items()]
                return _report(plans, None, False, True)
            _manifest_dir(root, manifest, create=False)
            current = read_current(manifest)
            known = known_versions(current)
            plans = [plan_area(root, a, outs, policy, known) for a, outs in groups.items()]
            _drop_removed_modules(plans, current, outputs)
            current = _without_removed(current, configured, plans)
            entries = manifest_entries(root, plans, manifest, current, disk_entries)
            fields = current.fields if keep_modules else _module_fields(plans, modules, manifest)
            changed = manifest_differs(manifest, entries, current, fields)
            return _report(plans, manifest, changed, True, current.bundles, entries, modules=fields)
        root.mkdir(parents=True, exist_ok=True)
        replacing = False

        def before_replace() -> None:
            nonlocal replacing
            fault_point("manifest-temp")
            replacing = True

        with install_lock(root, lock_timeout, on_wait):
            fault_point("locked")
            manifest_dir = _manifest_dir(root, manifest, create=True)
            # Read (and check) the manifest before anything is installed: a FIFO or a device
            # there is an error that installs nothing.
            on_disk = read_current(manifest) if manifest is not None else None
            known = known_versions(on_disk) if on_disk is not None else {}
            plans = [plan_area(root, a, outs, policy, known) for a, outs in groups.items()]
            if on_disk is not None:
                _drop_removed_modules(plans, on_disk, outputs)
                on_disk = _without_removed(on_disk, configured, plans)
            clean_leftovers(root, plans, manifest_dir)
            copies = apply(root, plans)
            if manifest is None or on_disk is None:
                fault_point("done")
                return _report(plans, None, False, False, not_linked=copies)
            entries = manifest_entries(root, plans, manifest, on_disk, disk_entries)
            fields = on_disk.fields if keep_modules else _module_fields(plans, modules, manifest)
            changed = _write_manifest(
                manifest.path,
                manifest.format,
                entries,
                before_replace=before_replace,
                existing=on_disk.raw,
                modules=fields,
            )
            fault_point("done")
            return _report(
                plans, manifest, changed, False, on_disk.bundles, entries, copies, fields
            )
    except OSError as exc:
        # After before_replace, only os.replace itself failing leaves the old manifest in place.
        replaced = replacing and manifest is not None and not _failed_replace(exc, manifest.path)
        raise install_error(exc, root, replaced) from exc


def _drop_removed_modules(
    plans: list[AreaPlan], on_disk: ManifestOnDisk, outputs: Sequence[Output]
) -> None:
    """A module the manifest names that its tree no longer has is not carried into a new version
    (with its variants and map): the tree of a version is the tree as built."""
    if not on_disk.modules:
        return
    names = {o.name for o in outputs}
    for i, plan in enumerate(plans):
        if not plan.new_dir or plan.previous is None:
            continue
        drop = set(plan.drop)
        for name, entry in on_disk.modules.items():
            path, version = entry.get("path"), entry.get("version")
            prefix = f"{plan.area}/{version}/" if plan.area else f"{version}/"
            if name in names or not isinstance(path, str) or not path.startswith(prefix):
                continue
            place = path[len(prefix) :]
            if not output_problem(place, normalised=True, any_kind=True):
                drop.update(place + s for s in ("", ".map", *SUFFIXES))
        plans[i] = replace(plan, drop=frozenset(drop))


def _module_fields(
    plans: Sequence[AreaPlan], modules: ModulesInput | None, manifest: ManifestSettings
) -> dict[str, Any] | None:
    if modules is None or not modules.trees:
        return None
    return module_manifest(plans, modules, manifest.static_url)


def _without_removed(
    on_disk: ManifestOnDisk, configured: frozenset[str] | None, plans: list[AreaPlan]
) -> ManifestOnDisk:
    """The manifest as found, less the entries of bundles the config no longer has; the plans of
    new versions learn which files those were (`removed_files`), so that none is carried along."""
    if configured is None:
        return on_disk
    removed = {n: e for n, e in on_disk.bundles.items() if n not in configured}
    if not removed:
        return on_disk
    for i, plan in enumerate(plans):
        if plan.new_dir:
            plans[i] = replace(plan, drop=removed_files(plan, removed))
    kept = {n: e for n, e in on_disk.bundles.items() if n in configured}
    return ManifestOnDisk(on_disk.raw, kept)


def _manifest_dir(root: Path, manifest: ManifestSettings | None, *, create: bool) -> Path | None:
    """The manifest's directory, checked (and made): below the root, real directories only.

    A manifest configured outside the root is where the user said; its directories are theirs.
    """
    if manifest is None:
        return None
    directory = manifest.path.parent
    inside = Path(os.path.abspath(directory))
    top = Path(os.path.abspath(root))
    if inside.is_relative_to(top):
        real_directory(top, inside, create=create)
    elif create:
        directory.mkdir(parents=True, exist_ok=True)
    return directory


def _failed_replace(exc: OSError, path: Path) -> bool:
    return exc.filename2 is not None and Path(exc.filename2) == path
