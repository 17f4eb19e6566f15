"""The manifest's entries after an install: the installed bundles, and earlier ones repointed."""

from __future__ import annotations

import copy
import os
import posixpath
import stat
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assetbuild.build.results import ManifestSettings, ModulesInput
from assetbuild.errors import InstallError
from assetbuild.fsutil import RefusedFile, read_regular, real_directory
from assetbuild.install import compress
from assetbuild.install.plan import AreaPlan, rel_path, same_bytes
from assetbuild.manifest import (
    MANIFEST_MAX_BYTES,
    BundleEntry,
    ManifestError,
    bundle_entry,
    map_entry,
    parse_manifest,
    render,
)
from assetbuild.manifest import build_manifest as _build_manifest
from assetbuild.stamps import racy, stamp_of
from assetbuild.versions import area_path, current_version, output_problem

# The largest installed bundle assetbuild reads back to name it in the manifest (one it did not build
# in this run). Bundles are made of sources of at most 32 MB each (ASSETBUILD_MAX_SOURCE_MB); a file
# past this in a version directory was put there by someone else, and is not read into memory.
INSTALLED_MAX_BYTES = 512 * 2**20


@dataclass(frozen=True)
class ManifestOnDisk:
    """The manifest as the install found it (read once, under the lock)."""

    raw: bytes | None  # its bytes; None when there is none
    bundles: dict[str, BundleEntry]  # its entries (JSON only; empty when missing or unreadable)
    modules: dict[str, Any] = field(default_factory=dict)  # its module entries, as found
    # its `modules`, `importmap` and `importmap_csp` as found, when it has all three (watch keeps
    # them when a tree has an error: the trees stay where the manifest says)
    fields: dict[str, Any] | None = None


def read_current(settings: ManifestSettings) -> ManifestOnDisk:
    """Read the manifest once; OSError other than "not there" is the caller's to report.

    The install replaces the manifest by renaming a new file over it, so what is there must be a
    regular file of at most MANIFEST_MAX_BYTES, not a link (the rename would replace the link, not
    the file it points to), a FIFO, a device or a directory: InstallError says which.
    """
    try:
        raw: bytes | None = read_regular(settings.path, MANIFEST_MAX_BYTES, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        raw = None
    except RefusedFile as exc:
        raise InstallError(
            f"cannot use the manifest {settings.path}: it {exc.problem}. assetbuild reads the "
            "manifest only from a regular file and replaces it by renaming a new one over it: "
            "remove it, or set `manifest` in the config to another path"
        ) from None
    bundles: dict[str, BundleEntry] = {}
    modules: dict[str, Any] = {}
    fields: dict[str, Any] | None = None
    if raw is not None and settings.format == "json":
        try:
            data = parse_manifest(settings.path, raw)
        except ManifestError:
            data = None  # unreadable: rewritten from this install alone
        if data is not None:
            bundles = dict(data["bundles"])
            found = data.get("modules")
            if isinstance(found, dict):
                modules = {k: v for k, v in found.items() if isinstance(v, dict)}
            importmap, csp = data.get("importmap"), data.get("importmap_csp")
            if modules and isinstance(importmap, dict) and isinstance(csp, str):
                fields = {"modules": modules, "importmap": importmap, "importmap_csp": csp}
    return ManifestOnDisk(raw, bundles, modules, fields)


def known_versions(on_disk: ManifestOnDisk) -> dict[str, int]:
    """Bundle name -> the version the manifest names for it, when its path is that version's file."""
    known: dict[str, int] = {}
    for name, entry in on_disk.bundles.items():
        version = entry.get("version") if isinstance(entry, dict) else None
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            continue
        area, basename = posixpath.split(name)
        if entry.get("path") == rel_path(area, version, basename):
            known[name] = version
    for name, entry in on_disk.modules.items():  # "js/app/lib/a.js": "js/<version>/app/lib/a.js"
        version, path = entry.get("version"), entry.get("path")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            continue
        parts = path.split("/") if isinstance(path, str) else []
        if str(version) in parts:  # areas hold no numbered directory: the first is the version
            parts.remove(str(version))
            if "/".join(parts) == name:
                known[name] = version
    return known


class DiskEntries:
    """Entries of installed bundles by their trusted stamps, so a long-lived process (watch), which
    re-lists the bundles it did not build, does not read and hash an unchanged file again.

    An installed bundle is a regular file: a link or a special file where one should be has no entry
    (links are never followed), and one larger than INSTALLED_MAX_BYTES is an error, not a read.
    """

    MAX = 256

    def __init__(self) -> None:
        self._known: dict[str, tuple[tuple[object, ...], BundleEntry]] = {}

    def entry(
        self, rel: str, source: Path, version: int, static_url: str | None
    ) -> BundleEntry | None:
        """The entry of an installed file, or None when it is not there."""
        try:
            found = os.lstat(source)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISREG(found.st_mode):
            return None
        sizes = {}
        for suffix in compress.SUFFIXES:
            with suppress(FileNotFoundError, NotADirectoryError):
                variant = os.lstat(source.with_name(source.name + suffix))
                if stat.S_ISREG(variant.st_mode):
                    sizes[suffix] = variant.st_size
        map_size = None
        with suppress(FileNotFoundError, NotADirectoryError):
            beside = os.lstat(source.with_name(source.name + ".map"))  # its map, if it has one
            if stat.S_ISREG(beside.st_mode):
                map_size = beside.st_size
        seen = stamp_of(found)
        key: tuple[object, ...] | None = None
        if not racy(seen):
            key = (*seen, rel, version, tuple(sorted(sizes.items())), static_url, map_size)
            known = self._known.get(str(source))
            if known is not None and known[0] == key:
                return copy.deepcopy(known[1])
        try:
            data = read_regular(source, INSTALLED_MAX_BYTES, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except RefusedFile as exc:
            if not exc.too_large:
                return None  # replaced by a link or a special file since the lstat
            raise InstallError(
                f"{source} {exc.problem}: that is not a bundle assetbuild installed; remove it, "
                "or remove its entry from the manifest"
            ) from None
        entry = bundle_entry(rel, version, data, sizes, static_url)
        if map_size is not None:
            entry["map"] = map_entry(rel + ".map", map_size, static_url)
        if key is not None and len(data) == key[0]:  # key[0]: the size the stamp saw
            if len(self._known) >= self.MAX:
                self._known.clear()
            self._known[str(source)] = (key, copy.deepcopy(entry))
        return entry


def _installed_path(root: Path, value: object) -> Path | None:
    """Where a manifest entry's `path` says its file is, if that is a plain path below the root
    through real directories: `js/8/main.js`, never `/dev/zero`, `../x` or through a link."""
    if not isinstance(value, str) or not value or value.startswith("/") or "\\" in value:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    parts = value.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    path = root.joinpath(*parts)
    try:
        if not real_directory(root, path.parent, create=False):
            return None
    except InstallError:
        return None
    return path


def manifest_entries(
    root: Path,
    plans: Sequence[AreaPlan],
    settings: ManifestSettings,
    on_disk: ManifestOnDisk,
    disk: DiskEntries | None = None,
) -> dict[str, BundleEntry]:
    """Entries for the installed outputs, plus earlier entries (JSON only) repointed to where they live now."""
    entries: dict[str, BundleEntry] = {}
    by_area = {p.area: p for p in plans}
    installed = {o.output.name for p in plans for o in p.outputs}
    old = on_disk.bundles
    disk = disk if disk is not None else DiskEntries()
    for name, previous in sorted(old.items()):
        # The manifest on disk is not ours to trust: a name that could not be an output (`../x`,
        # a control character) is dropped, never used to find a file.
        if name in installed or output_problem(name, normalised=True, any_kind=True):
            continue
        area, basename = posixpath.split(name)
        plan = by_area.get(area)
        area_dir = area_path(root, area)
        if plan is not None:
            current: int | None = plan.previous
        elif real_directory(root, area_dir, create=False):  # a link there: InstallError
            current = current_version(area_dir)
        else:
            current = None
        version = plan.version if plan is not None else current
        entry = None
        was = previous.get("version")
        where = _installed_path(root, previous.get("path"))
        if (
            current is not None
            and isinstance(was, int)
            and where is not None
            and 0 < was <= current
            and previous.get("path") == rel_path(area, was, basename)
            and same_bytes(where, area_dir / str(current) / basename)
        ):
            version = was  # not built this run: it keeps its URL while its bytes are current
        if current is not None and version is not None:
            source = area_dir / str(current) / basename
            entry = disk.entry(
                rel_path(area, version, basename), source, version, settings.static_url
            )
        if entry is None and isinstance(was, int) and where is not None:
            entry = disk.entry(previous["path"], where, was, settings.static_url)
        if entry is not None:
            assets = previous.get("assets")
            if isinstance(assets, list) and all(isinstance(a, str) for a in assets) and assets:
                # Its url() assets moved with it (a new version links them with the rest).
                old_prefix = rel_path(area, was, "") if isinstance(was, int) else None
                new_prefix = rel_path(area, entry["version"], "")
                if old_prefix and all(a.startswith(old_prefix) for a in assets):
                    entry["assets"] = sorted(new_prefix + a[len(old_prefix) :] for a in assets)
            entries[name] = entry
    for plan in plans:
        for p in plan.outputs:
            if p.output.tree:
                continue  # a module: its entry is module_manifest's
            sizes = (
                dict(p.final_variants)
                if not plan.new_dir or p.unchanged
                else {s: len(b) for s, b in p.output.variants}
            )
            rel = rel_path(plan.area, p.origin, p.basename)
            assets = [rel_path(plan.area, p.origin, place) for place, _ in p.output.assets]
            entries[p.output.name] = bundle_entry(
                rel, p.origin, p.output.data, sizes, settings.static_url, assets
            )
    return _maps_folded(entries, installed)


def _maps_folded(entries: dict[str, BundleEntry], installed: set[str]) -> dict[str, BundleEntry]:
    """A bundle's map installed with it (`js/main.js.map` beside `js/main.js`) is listed in the
    bundle's entry as "map", not as a bundle of its own."""
    for name in sorted(installed):
        bundle = entries.get(name[: -len(".map")]) if name.endswith(".map") else None
        if bundle is None:
            continue
        found = entries.pop(name)
        bundle["map"] = map_entry(found["path"], found["size"], None)
        bundle["map"]["url"] = found["url"]
    return entries


def manifest_differs(
    settings: ManifestSettings,
    entries: dict[str, BundleEntry],
    current: ManifestOnDisk,
    modules: dict[str, Any] | None = None,
) -> bool:
    """Whether writing `entries` (and the module fields) would change the manifest's bytes."""
    return render(_build_manifest(entries, modules), settings.format) != current.raw


def module_manifest(
    plans: Sequence[AreaPlan], modules: ModulesInput, static_url: str | None
) -> dict[str, Any]:
    """The manifest's module fields (`modules.importmap.module_fields`) of the installed trees."""
    from assetbuild.modules.importmap import module_fields

    variants: dict[str, dict[str, int]] = {}
    maps: dict[str, int] = {}
    for plan in plans:
        for p in plan.outputs:
            if p.output.tree:
                variants[p.output.name] = (
                    dict(p.final_variants)
                    if not plan.new_dir or p.unchanged
                    else {s: len(b) for s, b in p.output.variants}
                )
                if p.output.name.endswith(".map"):
                    maps[p.output.name[: -len(".map")]] = len(p.output.data)
    versions = {p.output.tree: p.origin for plan in plans for p in plan.outputs if p.output.tree}
    return module_fields(modules.trees, modules.importmap, static_url, versions, variants, maps)
