"""Delete old versions from a target: never the newest, one the remote manifest names, or a young one.

An install names only versions the manifest it replaces already names (that manifest is the one prune
reads, or the install's conditional write fails and it decides again) or versions it uploaded itself,
which are younger than any sensible `--min-age` (default 1h): so prune never deletes what a running
install is about to name. Abandoned uploads of killed runs are unnamed and are removed once old.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Sequence
from pathlib import Path

from assetbuild.errors import ConfigError, InstallError
from assetbuild.install.prune import PruneReport, VersionDecision, format_seconds
from assetbuild.manifest import MANIFEST_MAX_BYTES, decode_manifest
from assetbuild.remote.target import MANIFEST_TYPES, StoredObject, Target, manifest_key


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _named(target: Target) -> frozenset[str]:
    """Every string the target's manifests hold (its own, and one in the other format a site that
    switched formats left): loose, like the local prune's reader, so that a hand-edited or newer
    manifest still protects every version it names."""
    found: set[str] = set()
    for fmt in MANIFEST_TYPES:
        key = manifest_key(fmt)
        if fmt == target.manifest_format:
            raw = target.read_manifest()[0]
        else:
            raw = target.fetch(key, MANIFEST_MAX_BYTES)
            if raw is not None and len(raw) > MANIFEST_MAX_BYTES:
                raise InstallError(f"{target.url}/{key} is larger than a manifest can be")
        if raw is None:
            continue
        try:
            found.update(_strings(decode_manifest(raw, fmt)))
        except (ValueError, RecursionError):
            raise ConfigError(
                f"the remote manifest {target.url}/{key} cannot be read: prune deletes nothing "
                "it cannot prove unnamed; run `assetbuild install --target ...` first"
            ) from None
    return frozenset(found)


def remote_prune(
    target: Target,
    areas: Sequence[str],
    *,
    keep: int,
    min_age: float,
    dry_run: bool,
    now: float | None = None,
) -> PruneReport:
    """Delete versions beyond the newest `keep` of each area that are old and unnamed."""
    if keep < 1:
        raise ConfigError(f"keep must be at least 1, not {keep}")
    when = time.time() if now is None else now
    named = _named(target)
    removed: list[VersionDecision] = []
    kept: list[VersionDecision] = []
    doomed: list[StoredObject] = []
    for area in dict.fromkeys(areas):
        for rank, version in enumerate(reversed(target.versions(area))):
            prefix = posixpath.join(area, str(version)) + "/" if area else f"{version}/"
            where = Path(prefix.rstrip("/"))  # below the target; shown, never opened
            if rank < keep:
                reason = "current" if rank == 0 else f"among the newest {keep}"
            elif any(path.startswith(prefix) for path in named):
                reason = "in the manifest"
            else:
                objects = target.objects(prefix)
                newest = max((o.modified for o in objects), default=0.0)
                if min_age > 0 and when - newest < min_age:
                    reason = f"younger than {format_seconds(min_age)}"
                else:
                    removed.append(VersionDecision(area, version, where, "old"))
                    doomed.extend(objects)
                    continue
            kept.append(VersionDecision(area, version, where, reason))
    if not dry_run and doomed:
        target.delete(o.key for o in doomed)
    return PruneReport(tuple(removed), tuple(kept), dry_run)
