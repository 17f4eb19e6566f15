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

import json
import posixpath
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard

from assetbuild.build.results import (
    AreaResult,
    InstalledFile,
    InstallReport,
    ManifestSettings,
    Output,
    RemoteSummary,
)
from assetbuild.errors import ConfigError, InstallError
from assetbuild.install.faults import fault_point
from assetbuild.install.plan import group_outputs
from assetbuild.manifest import (
    BundleEntry,
    build_manifest,
    bundle_entry,
    integrity,
    make_url,
    render_json,
    write_manifest,
)
from assetbuild.remote.target import Target, headers_for

UPLOADS = 8  # objects in flight at once
_MAX_CLAIMS = 50  # version numbers tried per area before giving up (each one held other bytes)
_MAX_ROUNDS = 20  # manifest writes lost to other installers before giving up


@dataclass(frozen=True)
class VersionFile:
    """One file a version holds: its path relative to the version directory, bytes and variants.

    The seam between the build and every target: today one per bundle; source maps and the files
    stylesheets refer to join the same list.
    """

    name: str  # the logical name the manifest knows it by ("js/main.js")
    path: str  # relative to the version directory ("main.js")
    data: bytes
    variants: tuple[tuple[str, bytes], ...] = ()
    # the files its url()s refer to, beside it in the same version: (place from its directory, bytes)
    assets: tuple[tuple[str, bytes], ...] = ()

    def asset_keys(self, prefix: str) -> list[tuple[str, bytes]]:
        """(key, bytes) of its url() assets under `prefix` ("css/8")."""
        here = posixpath.dirname(posixpath.join(prefix, self.path))
        return [(posixpath.normpath(posixpath.join(here, place)), b) for place, b in self.assets]

    def objects(self, prefix: str) -> list[tuple[str, bytes]]:
        """(key, bytes) of its assets, its variants and the file under `prefix` ("js/8"): the
        file last, so that nothing it names is missing once it is there."""
        key = posixpath.join(prefix, self.path) if prefix else self.path
        return [
            *self.asset_keys(prefix),
            *((key + s, b) for s, b in self.variants),
            (key, self.data),
        ]


def version_files(outputs: Sequence[Output]) -> dict[str, list[VersionFile]]:
    """The files of each area's next version, from the build's outputs (validated)."""
    return {
        area: [
            VersionFile(o.name, posixpath.basename(o.name), o.data, o.variants, o.assets)
            for o in outs
        ]
        for area, outs in group_outputs(outputs).items()
    }


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

    def report(self, manifest: ManifestSettings, dry_run: bool) -> InstallReport:
        return InstallReport(
            self.areas,
            manifest.path,
            self.changed,
            dry_run,
            self.previous,
            self.entries,
            remote=self.stats.summary(),
        )


def _same(entry: BundleEntry | None, area: str, f: VersionFile, target: Target) -> bool:
    """Whether a manifest entry names exactly this file's bytes and variants, and the store holds
    its url() assets' bytes beside it (an edited font keeps the stylesheet's bytes: checked by
    content, one HEAD an asset)."""
    if not isinstance(entry, dict):
        return False
    path, version = entry.get("path"), entry.get("version")
    if not isinstance(version, int) or path != posixpath.join(area, str(version), f.path):
        return False
    if entry.get("integrity") != integrity(f.data) or entry.get("size") != len(f.data):
        return False
    variants = entry.get("variants")
    wanted = {s.lstrip("."): {"path": f"{path}{s}", "size": len(b)} for s, b in f.variants}
    if variants != wanted:
        return False
    keys = f.asset_keys(posixpath.join(area, str(version)))
    if sorted(entry.get("assets", [])) != sorted(k for k, _ in keys):
        return False
    return all(target.verify(k, b) for k, b in keys)


def _parse(raw: bytes | None) -> dict[str, BundleEntry]:
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
        bundles = data["bundles"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return {}  # unreadable: rewritten from this install (nothing is deleted)
    if not isinstance(bundles, dict):
        return {}
    found: dict[str, BundleEntry] = {}
    for name, entry in bundles.items():
        if isinstance(name, str) and _valid(entry):
            found[name] = entry
    return found


def _valid(entry: object) -> TypeGuard[BundleEntry]:
    """An entry of the shape assetbuild writes; anything else is dropped (and rewritten)."""
    if not isinstance(entry, dict):
        return False
    path, version, variants = entry.get("path"), entry.get("version"), entry.get("variants", {})
    if not isinstance(path, str) or type(version) is not int or type(entry.get("size")) is not int:
        return False
    if not isinstance(entry.get("integrity"), str) or not isinstance(variants, dict):
        return False
    return all(
        isinstance(v, dict) and isinstance(v.get("path"), str) and type(v.get("size")) is int
        for v in variants.values()
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
            self.stats.uploaded += 1
            self.stats.uploaded_bytes += len(data)
            self.on_object()
            return True
        if self.target.fetch(key, len(data)) == data:
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
) -> RemoteResult:
    """Install `outputs` into `target` and write the remote manifest last, then the local one."""
    if policy == "into-current":
        raise ConfigError(
            "--into-current cannot be used with a target: published objects are never overwritten"
        )
    areas = version_files(outputs)
    stats = RemoteStats(target.url)
    total = done = 0

    def counted() -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, total)

    claimed: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    up = _Uploader(target, stats, counted)
    try:
        for _ in range(_MAX_ROUNDS):
            raw, token = target.read_manifest()
            previous = _parse(raw)
            results, entries = _decide(target, areas, previous, manifest, policy, dry_run)
            total = done + sum(len(f.objects("")) for _, files in results.values() for f in files)
            if not dry_run:
                for area, (start, files) in sorted(results.items()):
                    key = (area, tuple((f.path, integrity(f.data)) for f in files))
                    version = claimed.get(key, start)
                    version = claimed[key] = _claim(up, area, version, files, stats)
                    for f in files:
                        sizes = {s: len(b) for s, b in f.variants}
                        path = posixpath.join(area, str(version), f.path)
                        entries[f.name] = bundle_entry(
                            path,
                            version,
                            f.data,
                            sizes,
                            manifest.static_url,
                            [k for k, _ in f.asset_keys(posixpath.join(area, str(version)))],
                        )
            fault_point("uploaded")
            content = render_json(build_manifest(entries))
            changed = content != raw
            if changed and not dry_run:
                fault_point("manifest")
                if not target.put_manifest(content, token, cache_control):
                    stats.manifest_retries += 1
                    continue
            report = _areas(areas, previous, entries)
            if not dry_run:
                _write_local(manifest, entries)
            fault_point("done")
            return RemoteResult(report, previous, entries, changed, stats)
    finally:
        up.close()
    raise InstallError(
        f"{target.url}: the manifest was replaced by other installers {_MAX_ROUNDS} times while "
        "this run tried to write it; its uploads are complete and unnamed. Run again"
    )


def _decide(
    target: Target,
    areas: Mapping[str, list[VersionFile]],
    previous: Mapping[str, BundleEntry],
    manifest: ManifestSettings,
    policy: str,
    dry_run: bool,
) -> tuple[dict[str, tuple[int, list[VersionFile]]], dict[str, BundleEntry]]:
    """Each area's changed files and the version to try first; the entries of everything else."""
    entries: dict[str, BundleEntry] = {}
    for name, entry in previous.items():
        fresh = dict(entry)
        fresh["url"] = make_url(manifest.static_url, entry["path"])
        entries[name] = fresh  # type: ignore[assignment]
    work: dict[str, tuple[int, list[VersionFile]]] = {}
    for area, files in areas.items():
        changed = [
            f for f in files if policy == "bump" or not _same(previous.get(f.name), area, f, target)
        ]
        if not changed:
            continue
        named = [
            v for e in previous.values() if (a := _area_of(e)) and a[0] == area for v in [a[1]]
        ]
        # The manifest's highest version of the area, else the bucket's (a fresh manifest).
        highest = max(named) if named else max(target.versions(area), default=0)
        work[area] = (highest + 1, changed)
        if dry_run:
            for f in changed:
                path = posixpath.join(area, str(highest + 1), f.path)
                sizes = {s: len(b) for s, b in f.variants}
                entries[f.name] = bundle_entry(
                    path,
                    highest + 1,
                    f.data,
                    sizes,
                    manifest.static_url,
                    [k for k, _ in f.asset_keys(posixpath.join(area, str(highest + 1)))],
                )
    return work, entries


def _areas(
    areas: Mapping[str, list[VersionFile]],
    previous: Mapping[str, BundleEntry],
    entries: Mapping[str, BundleEntry],
) -> tuple[AreaResult, ...]:
    results = []
    for area, files in sorted(areas.items()):
        placed = [(f, entries[f.name]) for f in files]
        before = [
            v for e in previous.values() if (a := _area_of(e)) and a[0] == area for v in [a[1]]
        ]
        fresh = [f for f, e in placed if _path_of(previous.get(f.name)) != e["path"]]
        version = max(e["version"] for _, e in placed)
        action = "up-to-date" if not fresh else "bumped" if before else "created"
        results.append(
            AreaResult(
                area,
                action,
                version,
                max(before) if before else None,
                tuple(
                    InstalledFile(f.name, e["path"], "written" if f in fresh else "unchanged")
                    for f, e in placed
                ),
            )
        )
    return tuple(results)


def _write_local(manifest: ManifestSettings, entries: Mapping[str, BundleEntry]) -> None:
    """The local manifest (the app ships it): the same entries, in its configured format."""
    path = Path(manifest.path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_manifest(path, manifest.format, entries)
    except OSError as exc:
        raise InstallError(
            f"the remote install is complete, but the local manifest {path} could not be "
            f"written: {exc.strerror or exc}; fix that and run again (nothing will be uploaded)"
        ) from exc
