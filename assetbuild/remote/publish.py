"""Install into a `Target`: decide versions from the remote manifest, upload create-only, verify,
write the manifest last (only over the one this run read), then the local manifest.

A bundle whose bytes the remote manifest already names keeps its entry (and URL). Changed bundles of
an area go into a new version: the first number above the manifest's whose keys are free or already
hold exactly these bytes (so a killed run's upload is completed, not repeated); a key that holds other
bytes means another builder took that number, and the next one is tried. The manifest is written
with a conditional write over the version read; when another installer replaced it meanwhile, the run
decides again against the new one (reusing what it uploaded), so no install's manifest undoes
another's, and prune (which deletes only what the current manifest does not name) never deletes what
an install is about to name.
"""

from __future__ import annotations

import copy
import posixpath
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from assetbuild.build.results import (
    AreaResult,
    InstalledFile,
    InstallReport,
    ManifestSettings,
    ModulesInput,
    Output,
    RemoteSummary,
    TreeInstalled,
)
from assetbuild.errors import ConfigError, InstallError
from assetbuild.install.faults import fault_point
from assetbuild.install.plan import group_outputs, place_of
from assetbuild.manifest import (
    BundleEntry,
    build_manifest,
    bundle_entry,
    decode_manifest,
    integrity,
    make_url,
    map_entry,
    render,
    write_manifest,
)
from assetbuild.modules.importmap import module_fields
from assetbuild.remote.target import Target, headers_for

UPLOADS = 8  # objects in flight at once
_MAX_CLAIMS = 50  # version numbers tried per area before giving up (each one held other bytes)
_MAX_ROUNDS = 20  # manifest writes lost to other installers before giving up


Blobs = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class VersionFile:
    """One file a version holds: its path relative to the version directory, bytes and variants.

    The seam between the build and every target: one per bundle, with its source map and the files
    its url()s refer to, which always go up in the same version as the bundle (the bundle names
    them by relative URL); one per module of a [[modules]] tree (`tree`), every module of a tree
    in one version (relative imports resolve only inside one directory).
    """

    name: str  # the logical name the manifest knows it by ("js/main.js")
    path: str  # relative to the version directory ("main.js")
    data: bytes
    variants: Blobs = ()
    # the files its url()s refer to, beside it in the same version: (place from its directory, bytes)
    assets: Blobs = ()
    # its source map (`main.js.map` beside it) and the map's variants; listed as the entry's "map"
    sourcemap: tuple[bytes, Blobs] | None = None
    tree: str = ""  # a module's tree ("js/app"): `name` is "js/app/lib/a.js", `path` "app/lib/a.js"

    def asset_keys(self, prefix: str) -> list[tuple[str, bytes]]:
        """(key, bytes) of its url() assets under `prefix` ("css/8")."""
        here = posixpath.dirname(posixpath.join(prefix, self.path))
        return [(posixpath.normpath(posixpath.join(here, place)), b) for place, b in self.assets]

    def objects(self, prefix: str) -> list[tuple[str, bytes]]:
        """(key, bytes) of its assets, its map, its variants and the file under `prefix` ("js/8"):
        the file last, so that nothing it names is missing once it is there."""
        key = posixpath.join(prefix, self.path) if prefix else self.path
        mapped: list[tuple[str, bytes]] = []
        if self.sourcemap is not None:
            data, variants = self.sourcemap
            mapped = [*((f"{key}.map{s}", b) for s, b in variants), (key + ".map", data)]
        return [
            *self.asset_keys(prefix),
            *mapped,
            *((key + s, b) for s, b in self.variants),
            (key, self.data),
        ]

    def entry(self, area: str, version: int, static_url: str | None) -> BundleEntry:
        """Its manifest entry in `area/version`: the local install's shape, map inside."""
        prefix = posixpath.join(area, str(version))
        path = posixpath.join(prefix, self.path)
        sizes = {s: len(b) for s, b in self.variants}
        assets = [k for k, _ in self.asset_keys(prefix)]
        entry = bundle_entry(path, version, self.data, sizes, static_url, assets)
        if self.sourcemap is not None:
            entry["map"] = map_entry(path + ".map", len(self.sourcemap[0]), static_url)
        return entry


def version_files(outputs: Sequence[Output]) -> dict[str, list[VersionFile]]:
    """The files of each area's next version, from the build's outputs (validated); a bundle's
    or a module's map (the output named after it with `.map`) travels with it."""
    files: dict[str, list[VersionFile]] = {}
    for area, outs in group_outputs(outputs).items():
        maps = {o.name: o for o in outs if o.name.endswith(".map")}
        bundles = {o.name for o in outs}
        files[area] = [
            VersionFile(
                o.name,
                place_of(o),
                o.data,
                o.variants,
                o.assets,
                (m.data, m.variants) if (m := maps.get(o.name + ".map")) is not None else None,
                o.tree,
            )
            for o in outs
            if not (o.name.endswith(".map") and o.name[: -len(".map")] in bundles)
        ]
    return files


@dataclass
class RemoteStats:
    """What a remote install did to the store."""

    target: str
    uploaded: int = 0
    uploaded_bytes: int = 0
    skipped: int = 0  # already there with the same bytes (a resumed run)
    taken: list[str] = field(default_factory=list)  # version numbers other bytes already held
    manifest_retries: int = 0

    def summary(self) -> RemoteSummary:
        return RemoteSummary(
            self.target, self.uploaded, self.uploaded_bytes, self.skipped, tuple(self.taken)
        )


@dataclass(frozen=True)
class RemoteResult:
    areas: tuple[AreaResult, ...]
    previous: dict[str, BundleEntry]
    entries: dict[str, BundleEntry]
    changed: bool
    stats: RemoteStats
    trees: tuple[TreeInstalled, ...] = ()
    modules: dict[str, Any] = field(default_factory=dict)  # the module entries the manifest names

    def report(self, manifest: ManifestSettings, dry_run: bool) -> InstallReport:
        return InstallReport(
            self.areas,
            manifest.path,
            self.changed,
            dry_run,
            self.previous,
            self.entries,
            remote=self.stats.summary(),
            trees=self.trees,
            modules=self.modules,
        )


def same(
    entry: BundleEntry | None, area: str, f: VersionFile, target: Target, *, exact: bool = True
) -> bool:
    """Whether a manifest entry names exactly this file's bytes, and the store holds its url()
    assets' bytes beside it (an edited font keeps the stylesheet's bytes: checked by content, one
    HEAD an asset). `exact`: its variants and its map too (the map by content: one HEAD); `status`
    compares the bytes a check builds (no variants, no map), as the local status does."""
    if not isinstance(entry, dict):
        return False
    path, version = entry.get("path"), entry.get("version")
    if not isinstance(version, int) or path != posixpath.join(area, str(version), f.path):
        return False
    if entry.get("integrity") != integrity(f.data) or entry.get("size") != len(f.data):
        return False
    keys = f.asset_keys(posixpath.join(area, str(version)))
    if sorted(entry.get("assets", [])) != sorted(k for k, _ in keys):
        return False
    if exact:
        wanted = {s.lstrip("."): {"path": f"{path}{s}", "size": len(b)} for s, b in f.variants}
        if entry.get("variants") != wanted:
            return False
        mapped = entry.get("map")
        if f.sourcemap is None:
            if mapped is not None:
                return False
        elif not isinstance(mapped, dict) or (mapped.get("path"), mapped.get("size")) != (
            f"{path}.map",
            len(f.sourcemap[0]),
        ):
            return False
        else:
            keys.append((f"{path}.map", f.sourcemap[0]))
    return all(target.verify(k, b) for k, b in keys)


def read_entries(raw: bytes | None, fmt: str) -> dict[str, BundleEntry]:
    """The entries of a remote manifest's bytes (JSON or our PHP) that have the shape assetbuild
    writes; anything else is dropped (and rewritten by the install), never trusted. A map listed
    as its own entry (`js/main.js.map`, as installs before maps moved into the bundle's entry did)
    is folded into its bundle's entry when it lies beside it."""
    found = _field(raw, fmt, "bundles")
    for name in sorted(found):
        bundle = found.get(name[: -len(".map")]) if name.endswith(".map") else None
        if bundle is not None and "map" not in bundle:
            alone = found[name]
            if alone["path"] == bundle["path"] + ".map":
                del found[name]
                url = alone.get("url", "")
                bundle["map"] = {"path": alone["path"], "url": url, "size": alone["size"]}
    return found


def read_modules(raw: bytes | None, fmt: str) -> dict[str, BundleEntry]:
    """The module entries (`"modules"`) of a remote manifest's bytes that have the shape assetbuild
    writes (a bundle entry's, plus their `imports`, not needed here); anything else is dropped."""
    return _field(raw, fmt, "modules")


def _field(raw: bytes | None, fmt: str, key: str) -> dict[str, BundleEntry]:
    if raw is None:
        return {}
    try:
        found = decode_manifest(raw, fmt).get(key, {})
    except (ValueError, AttributeError, TypeError, RecursionError):
        return {}  # unreadable: rewritten from this install (nothing is deleted)
    if not isinstance(found, dict):
        return {}
    return {name: e for name, e in found.items() if isinstance(name, str) and _valid(e)}


def _valid(entry: object) -> TypeGuard[BundleEntry]:
    """An entry of the shape assetbuild writes."""
    if not isinstance(entry, dict):
        return False
    path, version, variants = entry.get("path"), entry.get("version"), entry.get("variants", {})
    if not isinstance(path, str) or type(version) is not int or type(entry.get("size")) is not int:
        return False
    if not isinstance(entry.get("integrity"), str) or not isinstance(entry.get("url", ""), str):
        return False
    if not isinstance(variants, dict) or not all(_sized(v) for v in variants.values()):
        return False
    assets = entry.get("assets", [])
    if not isinstance(assets, list) or not all(isinstance(a, str) for a in assets):
        return False
    return "map" not in entry or _sized(entry["map"])


def _sized(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("path"), str)
        and type(value.get("size")) is int
    )


def _path_of(entry: BundleEntry | None) -> object:
    return entry.get("path") if entry is not None else None


def _area_of(entry: BundleEntry) -> tuple[str, int] | None:
    path, version = entry.get("path"), entry.get("version")
    if not isinstance(path, str) or not isinstance(version, int):
        return None
    return posixpath.dirname(posixpath.dirname(path)), version


class _Uploader:
    def __init__(self, target: Target, stats: RemoteStats, on_object: Callable[[], None]):
        self.target, self.stats, self.on_object = target, stats, on_object
        self.counting = threading.Lock()  # the pool's threads count into one RemoteStats
        self.pool = ThreadPoolExecutor(UPLOADS, thread_name_prefix="assetbuild-upload")

    def _one(self, key: str, data: bytes) -> bool:
        """Put one object create-only; True when the store now holds exactly `data` there."""
        if self.target.create(key, data, headers_for(key)):
            fault_point("uploading")
            if not self.target.verify(key, data):
                raise InstallError(
                    f"{self.target.url}: {key} was uploaded, but the store reports another size "
                    "or checksum; nothing names it. Run again"
                )
            with self.counting:
                self.stats.uploaded += 1
                self.stats.uploaded_bytes += len(data)
            self.on_object()
            return True
        if self.target.fetch(key, len(data)) == data:
            with self.counting:
                self.stats.skipped += 1
            self.on_object()
            return True
        return False

    def version(self, area: str, version: int, files: Sequence[VersionFile]) -> bool:
        """Upload `files` as `area/version`; False when a key there holds other bytes."""
        prefix = posixpath.join(area, str(version)) if area else str(version)
        objects = [o for f in files for o in f.objects(prefix)]
        return all(self.pool.map(lambda o: self._one(*o), objects))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _claim(
    up: _Uploader, area: str, start: int, files: Sequence[VersionFile], stats: RemoteStats
) -> int:
    version = start
    for _ in range(_MAX_CLAIMS):
        if up.version(area, version, files):
            return version
        stats.taken.append(posixpath.join(area, str(version)))
        version += 1
    raise InstallError(
        f"{up.target.url}: versions {start} to {version - 1} of {area or 'the root area'} all hold "
        "other bytes (other builders, or runs with other sources); nothing was overwritten and the "
        "manifest is unchanged. Prune the abandoned versions, then run again"
    )


def remote_install(
    target: Target,
    outputs: Sequence[Output],
    *,
    manifest: ManifestSettings,
    cache_control: str = "no-cache",
    policy: str = "auto",
    dry_run: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    modules: ModulesInput | None = None,
) -> RemoteResult:
    """Install `outputs` into `target` and write the remote manifest last, then the local one.

    `modules`: the built [[modules]] trees and `[importmap]` pairs (their outputs are among
    `outputs`): the manifest gets the same `modules`, `importmap` and `importmap_csp` as a local
    install of the same build."""
    if policy == "into-current":
        raise ConfigError(
            "--into-current cannot be used with a target: published objects are never overwritten"
        )
    areas = version_files(outputs)
    if modules is None and any(o.tree for o in outputs):
        raise ValueError("the outputs of module trees need their trees (`modules`) to be named")
    stats = RemoteStats(target.url)
    total = done = 0
    counting = threading.Lock()  # uploads finish on the pool's threads

    def counted() -> None:
        nonlocal done
        with counting:
            done += 1
            if on_progress is not None:
                on_progress(done, total)

    claimed: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    up = _Uploader(target, stats, counted)
    try:
        for _ in range(_MAX_ROUNDS):
            raw, token = target.read_manifest()
            previous = read_entries(raw, target.manifest_format)
            before = read_modules(raw, target.manifest_format)
            decided = _decide(target, areas, previous, before, manifest, policy, dry_run, up.pool)
            results, entries, trees = decided
            with counting:
                total = done + sum(len(f.objects("")) for _, fs in results.values() for f in fs)
            if not dry_run:
                for area, (start, files) in sorted(results.items()):
                    key = (area, tuple((f.path, integrity(f.data)) for f in files))
                    version = claimed.get(key, start)
                    version = claimed[key] = _claim(up, area, version, files, stats)
                    for f in files:
                        if f.tree:
                            trees[f.tree] = version
                        else:
                            entries[f.name] = f.entry(area, version, manifest.static_url)
            fault_point("uploaded")
            fields = _module_fields(areas, modules, trees, manifest.static_url)
            content = render(build_manifest(entries, fields), target.manifest_format)
            changed = content != raw
            if changed and not dry_run:
                fault_point("manifest")
                if not target.put_manifest(content, token, cache_control):
                    stats.manifest_retries += 1
                    continue
            named = dict((fields or {}).get("modules", {}))
            report = _areas(areas, previous, entries, before, named)
            if not dry_run:
                _write_local(manifest, entries, fields)
            fault_point("done")
            installed = _trees_installed(areas, before, named)
            return RemoteResult(report, previous, entries, changed, stats, installed, named)
    finally:
        up.close()
    raise InstallError(
        f"{target.url}: the manifest was replaced by other installers {_MAX_ROUNDS} times while "
        "this run tried to write it; its uploads are complete and unnamed. Run again"
    )


def _trees_of(files: Sequence[VersionFile]) -> dict[str, list[VersionFile]]:
    found: dict[str, list[VersionFile]] = {}
    for f in files:
        if f.tree:
            found.setdefault(f.tree, []).append(f)
    return found


def _tree_version(
    modules: Mapping[str, BundleEntry],
    area: str,
    members: Sequence[VersionFile],
    target: Target,
    pool: ThreadPoolExecutor,
    *,
    exact: bool = True,
) -> int | None:
    """The one version the manifest names for every module of a tree, when it names exactly these
    bytes for each of them (and their variants and maps, `exact`); else None: the tree moves whole.
    The maps' HEADs run on `pool`: a tree of hundreds of mapped modules is not hundreds of round
    trips in a row."""
    versions = {e.get("version") if (e := modules.get(f.name)) else None for f in members}
    if len(versions) != 1:
        return None
    if not all(
        pool.map(lambda f: same(modules.get(f.name), area, f, target, exact=exact), members)
    ):
        return None
    version = versions.pop()
    return version if isinstance(version, int) else None


def _decide(
    target: Target,
    areas: Mapping[str, list[VersionFile]],
    previous: Mapping[str, BundleEntry],
    modules: Mapping[str, BundleEntry],
    manifest: ManifestSettings,
    policy: str,
    dry_run: bool,
    pool: ThreadPoolExecutor,
) -> tuple[dict[str, tuple[int, list[VersionFile]]], dict[str, BundleEntry], dict[str, int]]:
    """Each area's changed files and the version to try first; the entries of everything else;
    the version of each tree that stays where it is (all of a changed tree's modules go up)."""
    built = {f.name for files in areas.values() for f in files}
    entries: dict[str, BundleEntry] = {}
    for name, entry in previous.items():
        if name.endswith(".map") and name[: -len(".map")] in built:
            continue  # a map listed on its own by an older install: now its bundle's "map"
        fresh = copy.deepcopy(entry)
        fresh["url"] = make_url(manifest.static_url, entry["path"])
        if "map" in fresh:
            fresh["map"]["url"] = make_url(manifest.static_url, fresh["map"]["path"])
        entries[name] = fresh
    work: dict[str, tuple[int, list[VersionFile]]] = {}
    trees: dict[str, int] = {}
    for area, files in areas.items():
        changed = [
            f
            for f in files
            if not f.tree and (policy == "bump" or not same(previous.get(f.name), area, f, target))
        ]
        for tree, members in _trees_of(files).items():
            kept = None if policy == "bump" else _tree_version(modules, area, members, target, pool)
            if kept is None:
                changed.extend(members)
            else:
                trees[tree] = kept
        if not changed:
            continue
        named = _versions_named(area, previous, modules)
        # The manifest's highest version of the area, else the bucket's (a fresh manifest).
        highest = max(named) if named else max(target.versions(area), default=0)
        work[area] = (highest + 1, changed)
        if dry_run:
            for f in changed:
                if f.tree:
                    trees[f.tree] = highest + 1
                else:
                    entries[f.name] = f.entry(area, highest + 1, manifest.static_url)
    return work, entries, trees


def _versions_named(
    area: str, previous: Mapping[str, BundleEntry], modules: Mapping[str, BundleEntry]
) -> list[int]:
    """The versions of `area` the manifest names: its bundles' and its modules'."""
    found = [v for e in previous.values() if (a := _area_of(e)) and a[0] == area for v in [a[1]]]
    for e in modules.values():
        version, path = e.get("version"), e.get("path")
        if isinstance(version, int) and str(path).startswith(
            f"{posixpath.join(area, str(version))}/"
        ):
            found.append(version)
    return found


def _module_fields(
    areas: Mapping[str, list[VersionFile]],
    modules: ModulesInput | None,
    trees: Mapping[str, int],
    static_url: str | None,
) -> dict[str, Any] | None:
    """The manifest's module fields, as the local install writes them for the same build."""
    if modules is None or not modules.trees:
        return None
    files = [f for fs in areas.values() for f in fs if f.tree]
    variants = {f.name: {s: len(b) for s, b in f.variants} for f in files}
    maps = {f.name: len(f.sourcemap[0]) for f in files if f.sourcemap is not None}
    return module_fields(modules.trees, modules.importmap, static_url, trees, variants, maps)


def _areas(
    areas: Mapping[str, list[VersionFile]],
    previous: Mapping[str, BundleEntry],
    entries: Mapping[str, BundleEntry],
    modules_before: Mapping[str, BundleEntry],
    modules: Mapping[str, Any],
) -> tuple[AreaResult, ...]:
    """Each area's result; its modules count in its action and version (their rows are the trees')."""
    results = []
    for area, files in sorted(areas.items()):
        placed = [
            (f, modules[f.name] if f.tree else entries[f.name])
            for f in files
            if not f.tree or f.name in modules
        ]
        was = {**previous, **modules_before}
        before = _versions_named(area, previous, modules_before)
        fresh = [f for f, e in placed if _path_of(was.get(f.name)) != e["path"]]
        version = max(e["version"] for _, e in placed)
        action = "up-to-date" if not fresh else "bumped" if before else "created"
        results.append(
            AreaResult(
                area,
                action,
                version,
                max(before) if before else None,
                tuple(
                    InstalledFile(name, path, "written" if f in fresh else "unchanged")
                    for f, e in placed
                    if not f.tree
                    for name, path in (
                        (f.name, e["path"]),
                        *(((f.name + ".map", e["map"]["path"]),) if "map" in e else ()),
                    )
                ),
            )
        )
    return tuple(results)


def _trees_installed(
    areas: Mapping[str, list[VersionFile]],
    before: Mapping[str, BundleEntry],
    modules: Mapping[str, Any],
) -> tuple[TreeInstalled, ...]:
    """One line per module tree: its version, files, bytes, and whether it went up this run."""
    found: dict[str, list[VersionFile]] = {}
    for files in areas.values():
        for tree, members in _trees_of(files).items():
            found.setdefault(tree, []).extend(m for m in members if m.name in modules)
    trees = []
    for tree, members in sorted(found.items()):
        if not members:
            continue
        moved = any(_path_of(before.get(m.name)) != modules[m.name]["path"] for m in members)
        version = modules[members[0].name]["version"]
        size = sum(len(m.data) for m in members)
        trees.append(
            TreeInstalled(tree, version, len(members), size, "written" if moved else "unchanged")
        )
    return tuple(trees)


def tree_status(
    target: Target, raw: bytes | None, outputs: Sequence[Output]
) -> list[tuple[str, int | None, bool]]:
    """`status --target` of each module tree in `outputs` (the bytes a check builds): the version
    the remote manifest names for it, and whether it names exactly these modules there."""
    modules = read_modules(raw, target.manifest_format)
    found = []
    with ThreadPoolExecutor(UPLOADS, thread_name_prefix="assetbuild-status") as pool:
        trees = [
            (a, t, m) for a, fs in version_files(outputs).items() for t, m in _trees_of(fs).items()
        ]
        for area, tree, members in trees:
            kept = _tree_version(modules, area, members, target, pool, exact=False)
            named = [
                e["version"]
                for e in modules.values()
                if e["path"].startswith(
                    posixpath.join(area, str(e["version"]), posixpath.basename(tree)) + "/"
                )
            ]
            current = kept if kept is not None else max(named, default=None)
            found.append((tree, current, kept is not None))
    return found


def _write_local(
    manifest: ManifestSettings,
    entries: Mapping[str, BundleEntry],
    modules: Mapping[str, Any] | None = None,
) -> None:
    """The local manifest (the app ships it): the same entries, in its configured format."""
    path = Path(manifest.path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_manifest(path, manifest.format, entries, modules=modules)
    except OSError as exc:
        raise InstallError(
            f"the remote install is complete, but the local manifest {path} could not be "
            f"written: {exc.strerror or exc}; fix that and run again (nothing will be uploaded)"
        ) from exc
