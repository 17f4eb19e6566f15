"""Deciding an install: per area, which version the bundles go to and what must be written there.

Plans are computed under the install lock (or without it for a dry run) from what is on disk; nothing
here writes.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from assetbuild.build.results import Output
from assetbuild.errors import ConfigError, InstallError
from assetbuild.fsutil import RefusedFile, kind_of, read_regular, real_directory
from assetbuild.install import compress
from assetbuild.versions import area_path, current_version, list_versions, output_problem

_SAME, _NEW, _CHANGED = 0, 1, 2
# Where a bundle file should be: a directory, a link, a FIFO, a device, or a regular file too large
# to hold the same bytes. It is never read (a FIFO would hang, /dev/zero never end), and it differs.
_OTHER = object()


@dataclass(frozen=True)
class OutputPlan:
    output: Output
    basename: str
    status: int
    writes: tuple[tuple[str, bytes], ...]  # (file name in the version dir, bytes), variants first
    removals: tuple[str, ...]  # stale variants that disagree with the bundle
    final_variants: tuple[tuple[str, int], ...]  # suffix -> size once installed in place
    origin: int = 0  # the version the manifest names: where these bytes were first installed
    asset_writes: tuple[tuple[str, bytes], ...] = ()  # url() assets not already in the version

    @property
    def unchanged(self) -> bool:
        """Byte-identical (variants agreeing) to the current version's file: linked, not written."""
        return self.status == _SAME


@dataclass(frozen=True)
class AreaPlan:
    area: str
    area_dir: Path
    action: str
    previous: int | None
    version: int
    new_dir: bool  # staged as a new version directory
    outputs: tuple[OutputPlan, ...]
    # files of bundles no longer configured (with their variants and assets): not carried into N+1
    drop: frozenset[str] = frozenset()


def _read(path: Path, limit: int) -> bytes | object | None:
    """An installed file's bytes if it is a regular file of at most `limit` bytes (links are not
    followed), None when there is none, _OTHER for anything else."""
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(found.st_mode) or found.st_size > limit:
        return _OTHER
    try:
        return read_regular(path, limit, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except RefusedFile:
        return _OTHER


def _variant_limit(data: bytes) -> int:
    """More than any gzip or brotli encoding of `data` takes (stored blocks add a few bytes in 16 kB)."""
    return len(data) + len(data) // 8 + 4096


def _agrees(suffix: str, existing: bytes, wanted: bytes | None, data: bytes) -> bool:
    """Whether an existing variant serves the same content as the bundle (zlib versions may differ).

    Decoding stops one byte past the bundle's size: a decompression bomb is never expanded.
    """
    return existing == wanted or compress.decompress(suffix, existing, limit=len(data)) == data


def area_of(out: Output) -> str:
    """The area an output installs into: its name's directory, or a module's tree's directory."""
    return posixpath.dirname(out.tree or out.name)


def place_of(out: Output) -> str:
    """Where an output goes inside its area's version directory: `main.js`, or `app/lib/a.js` for a
    module of the tree `js/app`."""
    area = area_of(out)
    return out.name[len(area) + 1 :] if area else out.name


def _read_in(version_dir: Path, place: str, limit: int) -> bytes | object | None:
    """`_read` of a file below a version directory: the directories on the way must be real ones
    (a link there is never read through: what it holds differs)."""
    if "/" in place:
        parent = version_dir.joinpath(*place.split("/")[:-1])
        try:
            if not real_directory(version_dir, parent, create=False):
                return None
        except InstallError:
            return _OTHER
    return _read(version_dir.joinpath(*place.split("/")), limit)


def _plan_output(cur_dir: Path | None, out: Output, suffixes: Sequence[str]) -> OutputPlan:
    basename = place_of(out)
    desired = dict(out.variants)
    if cur_dir is None:
        writes = (
            *out.assets,
            *((basename + s, b) for s, b in out.variants),
            (basename, out.data),
        )
        final = tuple((s, len(b)) for s, b in out.variants)
        return OutputPlan(out, basename, _NEW, writes, (), final, asset_writes=out.assets)
    existing = _read_in(cur_dir, basename, len(out.data))
    status = _SAME if existing == out.data else _NEW if existing is None else _CHANGED
    asset_writes: list[tuple[str, bytes]] = []
    for place, data in out.assets:
        have_asset = _read(cur_dir / place, len(data))
        if have_asset != data:
            status = max(status, _NEW if have_asset is None else _CHANGED)
            asset_writes.append((place, data))
    writes_list: list[tuple[str, bytes]] = []
    removals: list[str] = []
    final_list: list[tuple[str, int]] = []
    for suffix in suffixes:
        wanted = desired.get(suffix)
        have = _read_in(cur_dir, basename + suffix, _variant_limit(out.data))
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
    return OutputPlan(
        out,
        basename,
        status,
        (*asset_writes, *writes_list),  # the assets first: never a stylesheet without them
        tuple(removals),
        tuple(final_list),
        asset_writes=tuple(asset_writes),
    )


def _free_version_name(area_dir: Path, version: int) -> None:
    """Refuse to create version `version` where something else already has its name.

    `list_versions` counts only real directories, so a link or a file named like the next version
    (`js/2 -> /elsewhere`) is not the current version, and the rename would meet it. It is an error
    that names it, every time: assetbuild never writes through it or over it, and waiting cannot help.
    A link named like an *older* version (kept so that old URLs keep working) is never in the way.
    """
    target = area_dir / str(version)
    try:
        found = os.lstat(target)
    except (FileNotFoundError, NotADirectoryError):
        return
    raise InstallError(
        f"{target} is {kind_of(found.st_mode)} named like version directory {version}, which "
        "this install would create next. assetbuild creates version directories itself and never "
        "writes through a link or over an entry it did not make: remove or rename it (numbered "
        "names in an area are reserved for versions)"
    )


def _same_file(a: Path, b: Path, *, by_bytes: bool) -> bool:
    """Whether two installed paths hold the same bytes: both absent, the same inode (a hard link),
    or, with `by_bytes`, two regular files of equal contents (read bounded, links never followed)."""
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except (FileNotFoundError, NotADirectoryError):
        return not os.path.lexists(a) and not os.path.lexists(b)
    if not (stat.S_ISREG(sa.st_mode) and stat.S_ISREG(sb.st_mode)):
        return False
    if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
        return True
    if not by_bytes or sa.st_size != sb.st_size:
        return False
    first, second = _read(a, sa.st_size), _read(b, sb.st_size)
    return isinstance(first, bytes) and first == second


def same_bytes(a: Path, b: Path) -> bool:
    """Whether two installed regular files hold the same bytes (the same inode, or equal contents)."""
    return os.path.lexists(a) and _same_file(a, b, by_bytes=True)


def _origin(area_dir: Path, current: int, names: Sequence[str], hint: int | None) -> int:
    """The version where the current version's files `names` were first installed.

    The manifest's version for the bundle (`hint`) when that version still holds the same bytes;
    else the oldest version reached by following hard links back from the current one (an install
    links the unchanged files of a new version to the last one's). Only real version directories
    count; a gap left by prune ends the walk where the links do.
    """
    cur = area_dir / str(current)

    def same(version: int, by_bytes: bool) -> bool:
        other = area_dir / str(version)
        if not os.path.isdir(other) or os.path.islink(other):
            return False
        return all(_same_file(cur / n, other / n, by_bytes=by_bytes) for n in names)

    if hint is not None and 0 < hint < current and same(hint, True):
        return hint
    origin = current
    for version in reversed(list_versions(area_dir)):
        if version >= current:
            continue
        if not same(version, False):
            break
        origin = version
    return origin


def plan_area(
    root: Path,
    area: str,
    outputs: Sequence[Output],
    policy: str,
    known: Mapping[str, int] | None = None,
) -> AreaPlan:
    """Decide one area; InstallError when its directory, or the next version's name, is not usable.

    A bundle whose bytes did not change keeps the version where they were first installed (its
    URL), unless `policy` is "bump"; `known` maps bundle names to the versions the manifest names.
    """
    area_dir = area_path(root, area)
    suffixes = tuple(
        dict.fromkeys((*compress.SUFFIXES, *(s for o in outputs for s, _ in o.variants)))
    )
    exists = real_directory(root, area_dir, create=False)
    current = current_version(area_dir) if exists else None
    cur_dir = area_dir / str(current) if current is not None else None
    plans = tuple(_plan_output(cur_dir, out, suffixes) for out in outputs)
    status = max(p.status for p in plans)
    if current is None:
        _free_version_name(area_dir, 1)
        return AreaPlan(area, area_dir, "created", None, 1, True, _with_origins(plans, 1))
    bumped = policy == "bump" or (policy == "auto" and status == _CHANGED)
    version = current + 1 if bumped else current
    if policy == "bump":
        plans = _with_origins(plans, version)
    else:
        plans = tuple(
            replace(
                p,
                origin=_origin(
                    area_dir, current, _names(p, suffixes), (known or {}).get(p.output.name)
                )
                if p.unchanged
                else version,
            )
            for p in plans
        )
    plans = _tree_origins(plans, area_dir, current, version, suffixes, known or {}, policy)
    if bumped:
        _free_version_name(area_dir, current + 1)
        return AreaPlan(area, area_dir, "bumped", current, current + 1, True, plans)
    if status == _SAME:
        action = "up-to-date"
    elif status == _NEW:
        action = "added"
    else:
        action = "overwritten"
    return AreaPlan(area, area_dir, action, current, current, False, plans)


def _tree_origins(
    plans: Sequence[OutputPlan],
    area_dir: Path,
    current: int,
    version: int,
    suffixes: Sequence[str],
    known: Mapping[str, int],
    policy: str,
) -> tuple[OutputPlan, ...]:
    """Every module of a tree in one version: relative imports resolve only inside one directory;
    likewise a bundle and its map (when either changed, both go into `version`).

    A tree whose files are all unchanged keeps the version where all of them were first installed
    together (its URLs); a tree with any new or changed file goes whole into `version`, its
    unchanged files linked there with the rest.
    """
    trees: dict[str, list[OutputPlan]] = {}
    outputs = {p.output.name for p in plans}
    for p in plans:
        group = p.output.tree or _paired(p.output.name, outputs)
        if group:
            trees.setdefault(group, []).append(p)
    if not trees:
        return tuple(plans)
    origins: dict[str, int] = {}
    for tree, members in trees.items():
        if policy == "bump" or not all(p.unchanged for p in members):
            origins[tree] = version
            continue
        names = tuple(n for p in members for n in _names(p, suffixes))
        hints = {known.get(p.output.name) for p in members}
        hint = hints.pop() if len(hints) == 1 else None
        origins[tree] = _origin(area_dir, current, names, hint)
    return tuple(
        replace(p, origin=origins[group])
        if (group := p.output.tree or _paired(p.output.name, outputs))
        else p
        for p in plans
    )


def _paired(name: str, names: set[str]) -> str:
    """A bundle and its source map move together (the bundle's sourceMappingURL names the map
    beside it): the key of that pair, or "" for a file without one."""
    base = name.removesuffix(".map")
    if base != name and base in names:
        return "\0" + base
    return "\0" + name if name + ".map" in names else ""


def removed_files(plan: AreaPlan, removed: Mapping[str, Mapping[str, object]]) -> frozenset[str]:
    """The files, relative to a version of `plan`'s area, of the manifest entries in `removed`
    (bundles the config no longer has) that none of the area's bundles still installs."""
    keep = {
        name
        for p in plan.outputs
        for name in (p.basename, *(place for place, _ in p.output.assets))
    }
    drop: set[str] = set()
    for name, entry in removed.items():
        area, basename = posixpath.split(name)
        if area != plan.area or basename in keep:
            continue
        drop.update(basename + s for s in ("", *compress.SUFFIXES))
        version = entry.get("version")
        assets = entry.get("assets")
        if isinstance(version, int) and isinstance(assets, list):
            prefix = rel_path(area, version, "")
            drop.update(
                a[len(prefix) :]
                for a in assets
                if isinstance(a, str) and a.startswith(prefix) and a[len(prefix) :] not in keep
            )
    return frozenset(drop)


def _with_origins(plans: Sequence[OutputPlan], version: int) -> tuple[OutputPlan, ...]:
    return tuple(replace(p, origin=version) for p in plans)


def _names(plan: OutputPlan, suffixes: Sequence[str]) -> tuple[str, ...]:
    """The files of one bundle in a version directory: itself, every variant name, its assets."""
    return (
        plan.basename,
        *(plan.basename + s for s in suffixes),
        *(place for place, _ in plan.output.assets),
    )


def file_action(area: AreaPlan, plan: OutputPlan) -> str:
    if area.action == "bumped":
        if plan.status != _SAME:
            return "written"
        return "unchanged" if plan.origin < area.version else "linked"
    if area.action == "created":
        return "written"
    return "unchanged" if plan.status == _SAME else "written"


def rel_path(area: str, version: int, basename: str) -> str:
    return posixpath.join(area, str(version), basename)


def _check_name(name: str) -> None:
    problem = output_problem(name, normalised=True, any_kind=True)
    if problem:
        raise ConfigError(f"bundle name {name!r} {problem}")


def group_outputs(outputs: Sequence[Output]) -> dict[str, list[Output]]:
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
        areas.setdefault(area_of(out), []).append(out)
    for out in outputs:
        for suffix in compress.SUFFIXES:
            if out.name + suffix in {o.name for o in outputs}:
                raise ConfigError(
                    f"bundle {out.name + suffix!r} would be taken for a precompressed variant of "
                    f"{out.name!r}; rename it"
                )
    return dict(sorted(areas.items()))
