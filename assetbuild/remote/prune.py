"""Delete old versions from a target: never the newest, one the remote manifest names, or a young one.

An install names only versions the manifest it replaces already names (that manifest is the one prune
reads, or the install's conditional write fails and it decides again) or versions it uploaded itself,
which are younger than any sensible `--min-age` (default 1h): so prune never deletes what a running
install is about to name. Abandoned uploads of killed runs are unnamed and are removed once old.
"""

from __future__ import annotations

import json
import posixpath
import time
from collections.abc import Sequence
from pathlib import Path

from assetbuild.errors import ConfigError
from assetbuild.install.prune import PruneReport, VersionDecision, format_seconds
from assetbuild.remote.target import StoredObject, Target


def _named(raw: bytes | None) -> frozenset[str]:
    """Every path the manifest names (bundles and variants); loose, like the local prune's reader."""
    if raw is None:
        return frozenset()
    try:
        bundles = json.loads(raw).get("bundles", {})
    except (ValueError, AttributeError, RecursionError):
        raise ConfigError(
            "the remote manifest is not valid JSON: prune deletes nothing it cannot prove unnamed; "
            "run `assetbuild install --target ...` first"
        ) from None
    found = set()
    for entry in bundles.values() if isinstance(bundles, dict) else ():
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            found.add(entry["path"])
            for variant in (entry.get("variants") or {}).values():
                if isinstance(variant, dict) and isinstance(variant.get("path"), str):
                    found.add(variant["path"])
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
    named = _named(target.read_manifest()[0])
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
