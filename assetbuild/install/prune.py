"""Delete old version directories safely: never the current one, a young one, or one the manifest names.

A version's age is taken from the newest mtime among its directory and everything inside it (lstat, not
following links): "younger than min_age" means created *or modified* within min_age. Staging fills the new
directory, so its mtime is its creation time; adding a file later makes it young again, which errs on the
side of keeping it.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assetbuild.errors import ConfigError, InstallError
from assetbuild.fsutil import fsync_dir, real_directory, remove_entry, remove_leftovers, temp_name
from assetbuild.install.lock import install_lock
from assetbuild.manifest import referenced_strings
from assetbuild.versions import area_path, list_versions


@dataclass(frozen=True)
class VersionDecision:
    """One version directory and what prune did (or would do) with it, and why."""

    area: str
    version: int
    path: Path
    reason: str  # "current", "among the newest N", "in the manifest", "younger than ...", "old"


@dataclass(frozen=True)
class PruneReport:
    """Versions removed (or that a dry run would remove) and versions kept, with reasons."""

    removed: tuple[VersionDecision, ...]
    kept: tuple[VersionDecision, ...]
    dry_run: bool

    def describe(self, dry_run: bool | None = None) -> str:
        """A few lines for people: what was (or would be) removed, what was kept and why."""
        dry = self.dry_run if dry_run is None else dry_run
        verb = "would remove" if dry else "removed"
        lines = [f"{verb} {_where(d)}" for d in self.removed]
        lines += [f"kept {_where(d)} ({d.reason})" for d in self.kept]
        if not self.removed:
            lines.append("nothing to remove")
        return "\n".join(lines)


def _where(decision: VersionDecision) -> str:
    return f"{decision.area}/{decision.version}" if decision.area else str(decision.version)


_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]?)\s*", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in "0", "90s", "30m", "12h", "7d" or "2w"; ConfigError otherwise."""
    match = _DURATION.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ConfigError(
            f"invalid duration {text!r}: write a number and a unit, like 0, 90s, 30m, 12h or 7d"
        )
    return float(match.group(1)) * _UNITS[unit]


def format_seconds(seconds: float) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def newest_mtime(path: Path) -> float:
    """The newest mtime of a directory and everything below it, links not followed."""
    newest = path.lstat().st_mtime
    for dirpath, dirnames, filenames in os.walk(path):
        for name in (*dirnames, *filenames):
            with contextlib.suppress(FileNotFoundError):
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
    return newest


def _decide(
    root: Path,
    area: str,
    *,
    keep: int,
    min_age: float,
    now: float,
    references: frozenset[str],
) -> tuple[list[VersionDecision], list[VersionDecision]]:
    area_dir = area_path(root, area)
    removed: list[VersionDecision] = []
    kept: list[VersionDecision] = []
    for rank, version in enumerate(reversed(list_versions(area_dir))):
        path = area_dir / str(version)
        prefix = f"{area}/{version}/" if area else f"{version}/"
        if rank == 0:
            reason = "current"
        elif rank < keep:
            reason = f"among the newest {keep}"
        elif any(ref.startswith(prefix) for ref in references):
            reason = "in the manifest"
        elif min_age > 0 and now - newest_mtime(path) < min_age:
            reason = f"younger than {format_seconds(min_age)}"
        else:
            removed.append(VersionDecision(area, version, path, "old"))
            continue
        kept.append(VersionDecision(area, version, path, reason))
    return removed, kept


def _remove(decision: VersionDecision) -> None:
    """Rename out of the served name first, so a half-deleted version is never served."""
    hidden = decision.path.parent / temp_name(f"prune-{decision.version}")
    os.rename(decision.path, hidden)
    fsync_dir(decision.path.parent)
    remove_entry(hidden)


def prune(
    root: Path,
    areas: Sequence[str],
    *,
    keep: int,
    min_age: float,
    dry_run: bool,
    manifest_path: Path | None,
    now: float | None = None,
    lock_timeout: float = 60.0,
) -> PruneReport:
    """Delete version directories beyond the newest `keep` that are old enough and unreferenced."""
    if keep < 0:
        raise ConfigError(
            f"keep must not be negative, not {keep} (the current version is always kept)"
        )
    if min_age < 0:
        raise ConfigError(f"the minimum age must not be negative, not {min_age:g} s")
    root = Path(root)
    if not root.is_dir():
        return PruneReport((), (), dry_run)
    when = time.time() if now is None else now
    removed: list[VersionDecision] = []
    kept: list[VersionDecision] = []

    def decide_all() -> None:
        references = referenced_strings(manifest_path)
        for area in dict.fromkeys(areas):
            gone, stay = _decide(
                root, area, keep=keep, min_age=min_age, now=when, references=references
            )
            removed.extend(gone)
            kept.extend(stay)

    try:
        for area in dict.fromkeys(areas):  # never list, rename or delete through a link
            real_directory(root, area_path(root, area), create=False)
        if dry_run:
            decide_all()
        else:
            with install_lock(root, lock_timeout):
                for area in dict.fromkeys(areas):
                    real_directory(root, area_path(root, area), create=False)
                    remove_leftovers(area_path(root, area))
                decide_all()
                for decision in removed:
                    _remove(decision)
    except OSError as exc:
        where = exc.filename if exc.filename is not None else root
        raise InstallError(
            f"cannot prune {root}: {where}: {exc.strerror or exc}; check the directory's "
            "permissions and run again (a partly removed version is hidden, never served)"
        ) from exc
    return PruneReport(tuple(removed), tuple(kept), dry_run)
