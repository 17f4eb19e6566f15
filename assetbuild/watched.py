"""What watch mode observes of a bundle's sources: their stamps, and what changed between two sets.

A batch of events names paths; these functions decide which bundles those paths may concern, stamp
the sources of the ones they do (only the edited files when nothing else can have changed), and
tell the edits, additions, removals and renames apart. Nothing here builds or prints.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from assetbuild.errors import SourceError
from assetbuild.stamps import stamp_of

if TYPE_CHECKING:
    from assetbuild.config import BundleSpec, Config
    from assetbuild.modules.config import ModuleSpec

_MAGIC = frozenset("*?[")

Stamps = tuple[Any, ...]


def split_glob(entry: str) -> tuple[list[str], list[str]]:
    """A source entry's path segments, and the leading ones without wildcards (its directory)."""
    segments = [s for s in entry.split("/") if s not in ("", ".")]
    base: list[str] = []
    for seg in segments[:-1]:
        if _MAGIC & set(seg):
            break
        base.append(seg)
    return segments, base


def bundle_stamps(config: Config, spec: BundleSpec) -> Stamps:
    """The bundle's sources after glob expansion, with stamps; a collection error is a stamp too."""
    from assetbuild.sources import collect

    try:
        paths = collect(config.root, spec, allow_outside=config.allow_symlinks_outside)
    except SourceError as exc:
        return ("error", exc.message)
    stamps: list[Any] = []
    linked_dirs: dict[str, bool] = {}
    for path in paths:
        name = str(path)
        parent = os.path.dirname(name)
        if parent not in linked_dirs:
            linked_dirs[parent] = os.path.realpath(parent) != os.path.abspath(parent)
        try:
            st = os.lstat(name)
            linked = linked_dirs[parent] or stat.S_ISLNK(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                st = os.stat(name)
            stamps.append((name, *stamp_of(st), linked))
        except OSError:
            stamps.append((name, None))
    return tuple(stamps)


def restamped(config: Config, spec: BundleSpec, old: Stamps, names: Iterable[str]) -> Stamps | None:
    """The bundle's stamps after events that only touched its own sources (edits in place): every
    source stat'ed again (a few microseconds each: an edit whose event was lost is still seen), the
    globs not walked; None when an event may have changed which files its globs match.

    Globs match names: an edit in place changes none. A name created, deleted or renamed shows up
    as an event path that is not one of the sources, or as a source that is no longer a regular
    file, and a bundle reached through links may change without events on its paths: all of these
    take the whole walk (`bundle_stamps`).
    """
    if has_links(old):
        return None
    known = {s[0] for s in old}
    bases = _glob_bases(config, spec)
    if bases is None:
        return None
    for name in names:
        path = os.path.abspath(name)
        if path not in known and _related(path, bases):
            return None  # a name among its globs' directories that is not a source
    fresh: list[Any] = []
    for source in old:
        try:
            st = os.lstat(source[0])
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        fresh.append((source[0], *stamp_of(st), False))
    return tuple(fresh)


def tree_stamps(config: Config, spec: ModuleSpec) -> Stamps:
    """A module tree's files with their stamps: an edit, an added or a removed module differs."""
    from assetbuild.modules.config import list_tree

    found: list[Any] = []
    for rel in list_tree(config.root, spec):
        try:
            found.append((rel, *stamp_of(os.lstat(config.root / rel))))
        except OSError:
            found.append((rel, None))
    return tuple(found)


def tree_label(spec: ModuleSpec) -> str:
    """How watch names a module tree among the bundles it built: `js/app/*`."""
    return spec.pattern


def has_links(stamps: Stamps) -> bool:
    """Whether a source is reached through a symbolic link (its edits may show up elsewhere)."""
    return stamps[:1] == ("error",) or any(len(s) > 6 and s[6] for s in stamps)


def _glob_bases(config: Config, spec: BundleSpec) -> tuple[str, ...] | None:
    """The directories the bundle's globs start from (normalized); None when that cannot be told."""
    bases: list[str] = []
    for entry in spec.sources:
        segments, base = split_glob(entry)
        if entry.startswith("/") or ".." in segments or "\\" in entry:
            return None  # leaves the root or is unusual: always look again
        bases.append(os.path.abspath(os.path.join(str(config.root), *base)))
    return tuple(bases)


def may_concern(config: Config, spec: BundleSpec, names: Iterable[str]) -> bool:
    """Whether an event path is at, below or above one of the bundle's glob directories.

    Events only come from the directories `watch_dirs` derives from the same globs (or an existing
    parent of one not created yet), so a bundle with no event path related to its glob directories
    cannot have gained, lost or changed a source: its stamps need not be taken again.
    """
    bases = _glob_bases(config, spec)
    if bases is None:
        return True
    return any(_related(os.path.abspath(name), bases) for name in names)


def _related(path: str, bases: Iterable[str]) -> bool:
    """Whether an absolute path is at, below or above one of the directories `bases`."""
    for base in bases:
        if (
            path == base
            or path.startswith(base + os.sep)
            or base.startswith(path + os.sep)
            or base == os.sep
        ):
            return True
    return False


def changes(
    old: Stamps | None, new: Stamps
) -> tuple[list[str], list[tuple[str, str]], list[str], list[str]]:
    """Sources added, removed or modified between two stamp sets (in bundle order), and among them
    the renamed ones as (old, new): the same file (inode) with the same size and mtime, gone under
    one name and back under another (a rename changes only the ctime); then the added and the
    removed ones that are not renames."""
    if old is None or old[:1] == ("error",) or new[:1] == ("error",):
        return [], [], [], []
    before = {s[0]: s for s in old}
    after = {s[0]: s for s in new}
    changed = [p for p, s in after.items() if before.get(p) != s]
    changed += [p for p in before if p not in after]
    gone = {(s[1], s[2], s[4]): p for p, s in before.items() if p not in after and len(s) > 4}
    renamed = []
    for path, s in after.items():
        was = gone.pop((s[1], s[2], s[4]), None) if path not in before and len(s) > 4 else None
        if was is not None:
            renamed.append((was, path))
    moved = {p for pair in renamed for p in pair}
    added = [p for p in after if p not in before and p not in moved]
    removed = [p for p in before if p not in after and p not in moved]
    return changed, renamed, added, removed
