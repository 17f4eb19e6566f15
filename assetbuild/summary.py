"""What a run says: the summary tables and the `--json` documents (watch's lines: commands/watch_lines).

Plain functions from what the library returns (a build result, an install outcome, a prune report,
diagnostics) to lines of text and JSON-ready dicts. `cli` prints them and turns
errors into exit codes; `quick` records `install_summary`'s lines so that a no-change install
prints the same bytes without click. Nothing here prints, exits or imports click, and the build
modules are imported only for their types, so `--help` and the quick path stay fast. The terminal
primitives (colour, sizes, tables, progress, diagnostics text) are `report`'s.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetbuild.diagnostics import Diagnostic, summarize
from assetbuild.errors import AssetbuildError, SourceError
from assetbuild.modules.summary import check_line as modules_check_line
from assetbuild.modules.summary import (
    export_rows,
    modules_json,
    tree_path,
    tree_row,
    written_modules,
)
from assetbuild.report import delta, diagnostic_json, minify_details, size, table

if TYPE_CHECKING:
    from assetbuild.build.results import (
        AreaResult,
        BuildResult,
        Built,
        InstallOutcome,
        InstallReport,
        TreeInstalled,
    )
    from assetbuild.config import Config
    from assetbuild.install.prune import PruneReport

# Bundle name -> (where it went, what happened to it), as the summary's last two columns show it.
Where = dict[str, tuple[str, str]]


def display(path: Path) -> str:
    """`path` as messages show it: relative to the working directory when under it."""
    from assetbuild.sources import display_path

    return display_path(path)


# -- errors ----------------------------------------------------------------------------------------


def diagnostics_json(diags: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    return [diagnostic_json(d) for d in diags]


def error_message(exc: AssetbuildError) -> str:
    """The line after an error's diagnostics on stderr; empty when they say it all."""
    if isinstance(exc, SourceError):
        return f"assetbuild: {exc.message}"
    if exc.diagnostics:
        tail = f" ({summarize(exc.diagnostics)})" if len(exc.diagnostics) > 1 else ""
        if exc.message and not _repeats(exc.message, exc.diagnostics[0]):
            return f"assetbuild: {exc.message}{tail}"
        return ""
    return f"assetbuild: error: {exc.message}"


def _repeats(message: str, first: Diagnostic) -> bool:
    """Whether an error's message only repeats its first diagnostic (with or without where):
    printed after it, each configuration error appeared twice."""
    return message in (first.message, f"{first.location}: {first.message}")


def error_json(exc: AssetbuildError) -> dict[str, Any]:
    """The `--json` document of a run that failed with `exc`."""
    return {
        "ok": False,
        "exit_code": exc.exit_code,
        "error": exc.message,
        "diagnostics": diagnostics_json(exc.diagnostics),
    }


# -- check, build, install -------------------------------------------------------------------------


def bundle_rows(
    result: BuildResult,
    where: Where,
    previous: dict[str, int],
    variants: dict[str, dict[str, int]],
) -> list[list[str]]:
    """The summary table's header and one row per bundle (a `br` column when any has one)."""
    brotli = any("br" in v for v in variants.values())
    rows = [
        [
            "bundle",
            "files",
            "raw",
            "min",
            "gzip",
            *(["br"] if brotli else []),
            "change",
            "installed",
            "action",
        ]
    ]
    for b in result.bundles:
        path, action = where.get(b.output, ("", ""))
        mine = variants.get(b.output, {})
        rows.append(
            [
                b.output,
                str(len(b.sources)),
                size(b.raw_size),
                size(b.size),
                size(mine.get("gz", b.gzip_size)),
                *([size(mine.get("br"))] if brotli else []),
                delta(b.size, previous.get(b.output)),
                path,
                action,
            ]
        )
    return rows


def bundle_json(result: BuildResult, where: Where) -> list[dict[str, Any]]:
    return [
        {
            "name": b.output,
            "kind": b.kind,
            "sources": list(b.sources),
            "files": len(b.sources),
            "raw_size": b.raw_size,
            "size": b.size,
            "gzip_size": b.gzip_size,
            "minified_by": sorted(set(b.methods)),
            "path": where.get(b.output, ("", ""))[0] or None,
            "action": where.get(b.output, ("", ""))[1] or None,
            "map": _map_json(b, where),
        }
        for b in result.bundles
    ]


def _map_json(b: Built, where: Where) -> dict[str, Any] | None:
    """The bundle's source map: where it went (None when nothing was written) and its size."""
    if b.sourcemap is None:
        return None
    path = where.get(b.output + ".map", ("", ""))[0] or None
    return {"path": path, "size": len(b.map_data)}


def build_json(command: str, result: BuildResult, where: Where) -> dict[str, Any]:
    """The `--json` document of `check` (nothing written) or `build`."""
    return {
        "ok": True,
        "command": command,
        "bundles": bundle_json(result, where),
        "modules": modules_json(result, where),
        "diagnostics": diagnostics_json(result.diagnostics),
        "accepted_warnings": accepted_json(result),
    }


def accepted_json(result: BuildResult) -> dict[str, Any]:
    """How many warnings [[accept]] silenced, in all and by name."""
    return {
        "count": len(result.accepted),
        "by_warning": dict(Counter(d.code for d in result.accepted)),
    }


def accepted_line(count: int) -> str:
    """The summary's line for the warnings [[accept]] silenced; empty when there are none."""
    if not count:
        return ""
    return f"{count} warning{'s' if count != 1 else ''} accepted ([[accept]] in the config)"


def check_line(result: BuildResult) -> str:
    """`check`'s last lines: what was checked (bundles, trees), then the accepted warnings."""
    accepted = accepted_line(len(result.accepted))
    return modules_check_line(result) + (f"\n{accepted}" if accepted else "")


def written_where(result: BuildResult, out_dir: Path) -> Where:
    """`build --out`: every bundle written under `out_dir`."""
    where = {b.output: (str(out_dir / b.output), "written") for b in result.bundles}
    for b in result.bundles:
        if b.sourcemap is not None:
            where[b.output + ".map"] = (str(out_dir / b.output) + ".map", "written")
    return {**where, **written_modules(result, out_dir)}


def summary_lines(
    result: BuildResult,
    where: Where,
    previous: dict[str, int],
    tail: str,
    variants: dict[str, dict[str, int]],
    trees: Sequence[TreeInstalled] = (),
    areas: Sequence[AreaResult] = (),
    out_dir: Path | None = None,
) -> list[str]:
    """The summary table (sizes right-aligned), then `tail` when there is one; the trees are
    `trees` as installed, or those written to `out_dir` (`build --out`)."""
    rows = bundle_rows(result, where, previous, variants)
    rows += tree_rows(trees, areas, len(rows[0]))
    rows += export_rows(result, out_dir, len(rows[0])) if out_dir is not None else []
    numeric = frozenset(range(1, len(rows[0]) - 2))
    accepted = accepted_line(len(result.accepted))
    return table(rows, right=numeric) + [line for line in (tail, accepted) if line]


def tree_action(tree: TreeInstalled, areas: Sequence[AreaResult]) -> str:
    """What the install did to a tree, in the words of the bundles' action column."""
    area_name = tree.output[:-1] if tree.output.endswith("/") else tree.output.rpartition("/")[0]
    area = next((a for a in areas if a.area == area_name), None)
    if area is None or area.action == "up-to-date":
        return "up to date"
    if tree.action == "written":
        prefix = f"{area.area}/" if area.area else ""
        return _ACTIONS.get(area.action, area.action).format(area=prefix, version=area.version)
    return "unchanged" if tree.action == "unchanged" else "linked"


def tree_rows(
    trees: Sequence[TreeInstalled], areas: Sequence[AreaResult], width: int
) -> list[list[str]]:
    """One row per module tree (`js/app/*`): its file count, installed bytes, where, what happened."""
    return [
        tree_row(
            width,
            posixpath.join(t.output, "*"),
            t.files,
            t.size,
            tree_path(t),
            tree_action(t, areas),
        )
        for t in trees
    ]


def detail_lines(result: BuildResult, seconds: float) -> list[str]:
    """`-v`: how each bundle's files were minified, and the time the run took."""
    lines = minify_details(result.bundles)
    if result.bundles and all(b.proven for b in result.bundles):
        lines.append("up to date: proven by the install state, no source read")
    lines.append(f"done in {seconds:.2f} s")
    return lines


def link_lines(report: InstallReport) -> list[str]:
    """`-v`: files of a new version that had to be copied because the file system would not link them."""
    lines = []
    for area in report.areas:
        if not area.not_linked:
            continue
        where = f"{area.area}/{area.version}" if area.area else str(area.version)
        reasons = ", ".join(sorted({why for _, why in area.not_linked}))
        names = ", ".join(name for name, _ in area.not_linked[:5])
        more = f" and {len(area.not_linked) - 5} more" if len(area.not_linked) > 5 else ""
        lines.append(
            f"{where}: {len(area.not_linked)} unchanged file(s) copied, not hard-linked "
            f"({reasons}): {names}{more}"
        )
    return lines


_ACTIONS = {
    "created": "created {area}{version}",
    "bumped": "new version {area}{version}",
    "added": "added to {area}{version}",
    "overwritten": "overwrote {area}{version}",
    "up-to-date": "up to date",
}


def install_where(report: InstallReport) -> Where:
    """Where each bundle was installed and what the install did there."""
    where: Where = {}
    for area in report.areas:
        prefix = f"{area.area}/" if area.area else ""
        for f in area.files:
            action = _ACTIONS.get(area.action, area.action).format(
                area=prefix, version=area.version
            )
            if area.action != "up-to-date" and f.action == "unchanged":
                action = "unchanged"
            where[f.name] = (f.path, action)
    return where


def install_tail(report: InstallReport, dry_run: bool) -> str:
    """The line under the install summary: up to date, a dry run, or where the manifest is."""
    if all(a.action == "up-to-date" for a in report.areas):
        return "up to date" + (" (dry run)" if dry_run else "")
    if dry_run:
        return "dry run: nothing was written"
    tail = f"manifest: {display(report.manifest_path)}" if report.manifest_path else ""
    remote = report.remote
    if remote is not None:
        taken = f"; taken by others: {', '.join(remote.taken)}" if remote.taken else ""
        tail = (
            f"{remote.target}: uploaded {remote.uploaded} objects ({size(remote.uploaded_bytes)})"
            f", {remote.skipped} already there{taken}\n{tail}"
        )
    return tail


def install_summary(config: Config, outcome: InstallOutcome, dry_run: bool = False) -> list[str]:
    """The lines `install` prints on stdout for this outcome (the quick path records them)."""
    report = outcome.report
    return summary_lines(
        outcome.build,
        install_where(report),
        outcome.previous_sizes,
        install_tail(report, dry_run),
        outcome.variant_sizes,
        report.trees,
        report.areas,
    )


def install_json(outcome: InstallOutcome, dry_run: bool) -> dict[str, Any]:
    """The `install --json` document."""
    report = outcome.report
    return (
        {
            "ok": True,
            "command": "install",
            "dry_run": dry_run,
            "bundles": bundle_json(outcome.build, install_where(report)),
            "areas": [
                {
                    "area": a.area,
                    "action": a.action,
                    "version": a.version,
                    "previous": a.previous,
                }
                for a in report.areas
            ],
            "manifest": str(report.manifest_path) if report.manifest_path else None,
            "diagnostics": diagnostics_json(outcome.build.diagnostics),
            "accepted_warnings": accepted_json(outcome.build),
        }
        | ({"remote": dataclasses.asdict(report.remote)} if report.remote else {})
        | _trees_json(report)
    )


def _trees_json(report: InstallReport) -> dict[str, Any]:
    """The `modules` list of `install --json`, when the site has module trees."""
    if not report.trees:
        return {}
    return {
        "modules": [
            {
                "tree": t.output,
                "version": t.version,
                "files": t.files,
                "size": t.size,
                "path": tree_path(t),
                "action": tree_action(t, report.areas),
            }
            for t in report.trees
        ]
    }


# -- status ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleStatus:
    """One row of `status`: an output's versions, the current one, and whether it is up to date."""

    name: str
    versions: tuple[int, ...]
    current: int | None
    state: str  # "up to date" | "not installed" | "changed"

    @property
    def changed(self) -> bool:
        return self.state != "up to date"


def bundle_status(config: Config, result: BuildResult) -> list[BundleStatus]:
    """Each built bundle against the file of the same name in its area's newest version (with a
    target: against the entry the remote manifest names)."""
    if config.target is not None:
        return _remote_status(config, result)
    from assetbuild.fsutil import RefusedFile, read_regular
    from assetbuild.tokens import same_but_unset
    from assetbuild.versions import list_versions

    unset = [name for name, value in config.tokens if value is None]
    statuses = []
    for b in result.bundles:
        area = str(Path(b.output).parent) if "/" in b.output else ""
        area_dir = config.root / area if area else config.root
        versions = list_versions(area_dir)
        current = versions[-1] if versions else None
        installed = area_dir / str(current) / Path(b.output).name if current else None
        try:  # a regular file only, never through a link: a FIFO there must not hang `status`
            # A token without a value (no manifest tells `{$static}`) is no change: it stands
            # for whatever value the install used.
            limit = len(b.data) + (_UNSET_ROOM if unset else 0)
            same = installed is not None and same_but_unset(
                b.data, read_regular(installed, limit, follow_symlinks=False), unset
            )
            if same and installed is not None:
                for place, data in b.assets:
                    copy = installed.parent.joinpath(*place.split("/"))
                    same = same and data == read_regular(copy, len(data), follow_symlinks=False)
        except (OSError, RefusedFile):
            same = False
        state = "up to date" if same else ("not installed" if current is None else "changed")
        statuses.append(BundleStatus(b.output, versions, current, state))
    return statuses + _tree_status(config, result)


def _tree_status(config: Config, result: BuildResult) -> list[BundleStatus]:
    """Each module tree (`js/app/*`) against its files in its area's newest version: up to date
    when every module is there with the same bytes (the tree as a whole is one row)."""
    from assetbuild.fsutil import RefusedFile, read_regular
    from assetbuild.versions import area_path, list_versions

    statuses = []
    for tree in result.modules.trees if result.modules is not None else ():
        area_dir = area_path(config.root, tree.spec.area)
        versions = list_versions(area_dir)
        current = versions[-1] if versions else None
        same = current is not None
        for module in tree.modules if current is not None else ():
            data = module.text.encode("utf-8")
            where = area_dir / str(current) / tree.spec.name / module.name
            try:  # regular files, never through a link (a FIFO must not hang `status`)
                same = same and data == read_regular(where, len(data), follow_symlinks=False)
            except (OSError, RefusedFile):
                same = False
            if not same:
                break
        state = "up to date" if same else ("not installed" if current is None else "changed")
        statuses.append(BundleStatus(tree.spec.pattern, versions, current, state))
    return statuses


_UNSET_ROOM = 1 << 20  # how much longer an installed file may be, its token values in place
_BUNDLE_FILE = re.compile(r"\.(?:m?js|css)(?:\.gz|\.br)?$")


def orphans(config: Config, result: BuildResult) -> list[str]:
    """Bundle-like files (`.js`, `.css` and their variants) in an area's current version that no
    bundle of the config produces: a removed bundle's, or placed by hand. Relative to the root."""
    from assetbuild.manifest import ManifestError, read_manifest
    from assetbuild.versions import area_path, current_version, output_problem

    produced: dict[str, set[str]] = {}
    for spec in config.bundles:
        area, base = posixpath.split(spec.output)
        produced.setdefault(area, set()).add(base)
    for tree in result.modules.trees if result.modules is not None else ():
        if not tree.spec.name:  # installed at the top of its area's versions (zero-config .mjs)
            produced.setdefault(tree.spec.area, set()).update(m.name for m in tree.modules)
    areas = set(produced)
    if config.manifest_format == "json":
        with suppress(ManifestError, OSError):
            areas.update(
                posixpath.dirname(n) for n in read_manifest(config.manifest_path)["bundles"]
            )
    found: list[str] = []
    for area in sorted(areas):
        if output_problem(area + "/x.js" if area else "x.js", normalised=True, any_kind=True):
            continue  # a manifest name that could not be ours
        area_dir = area_path(config.root, area)
        current = current_version(area_dir)
        if current is None:
            continue
        with suppress(OSError):
            for entry in sorted(os.scandir(area_dir / str(current)), key=lambda e: e.name):
                base = re.sub(r"\.(?:gz|br)$", "", entry.name)
                if (
                    _BUNDLE_FILE.search(entry.name)
                    and entry.is_file(follow_symlinks=False)
                    and base not in produced.get(area, set())
                ):
                    found.append(posixpath.join(area, str(current), entry.name))
    return found


def orphan_lines(found: Sequence[str]) -> list[str]:
    return [f"{path}: installed, but no bundle produces it any more" for path in found]


def _remote_status(config: Config, result: BuildResult) -> list[BundleStatus]:
    """`status --target`: each bundle against the entry the remote manifest names, judged as the
    install judges it (bytes, and its url() assets' bytes in the store)."""
    from assetbuild.build.results import Output
    from assetbuild.remote.connect import open_target
    from assetbuild.remote.publish import read_entries, same, tree_status, version_files

    assert config.target is not None
    target = open_target(config.target, manifest_format=config.manifest_format)
    raw = target.read_manifest()[0]
    entries = read_entries(raw, target.manifest_format)
    outputs = [Output(b.output, b.data, (), b.assets) for b in result.bundles]
    files = {f.name: (area, f) for area, fs in version_files(outputs).items() for f in fs}
    listed: dict[str, tuple[int, ...]] = {}
    statuses = []
    for b in result.bundles:
        area, f = files[b.output]
        if area not in listed:
            listed[area] = tuple(target.versions(area))
        entry = entries.get(b.output)
        current = entry["version"] if entry is not None else None
        up = same(entry, area, f, target, exact=False)
        state = "up to date" if up else ("not installed" if current is None else "changed")
        statuses.append(BundleStatus(b.output, listed[area], current, state))
    trees = result.modules.trees if result.modules is not None else ()
    modules = [
        Output(f"{t.spec.output}/{m.name}", m.text.encode("utf-8"), tree=t.spec.output)
        for t in trees
        for m in t.modules
    ]
    for tree, current, up in tree_status(target, raw, modules):  # each tree is one row
        versions = tuple(target.versions(posixpath.dirname(tree)))
        state = "up to date" if up else ("not installed" if current is None else "changed")
        statuses.append(BundleStatus(f"{tree}/*", versions, current, state))
    return statuses


def status_lines(statuses: Sequence[BundleStatus]) -> list[str]:
    rows = [["bundle", "versions", "current", "state"]]
    rows += [[s.name, ranges(s.versions), str(s.current or "-"), s.state] for s in statuses]
    return table(rows)


def status_json(statuses: Sequence[BundleStatus], found: Sequence[str] = ()) -> dict[str, Any]:
    """The `status --json` document."""
    entries = [
        {
            "name": s.name,
            "versions": list(s.versions),
            "current": s.current,
            "state": s.state.replace(" ", "-"),
        }
        for s in statuses
    ]
    changed = [s.name for s in statuses if s.changed]
    return {
        "ok": True,
        "command": "status",
        "bundles": entries,
        "changed": changed,
        "not_produced": list(found),
    }


def ranges(versions: Sequence[int]) -> str:
    """Up to four version numbers, else the first..last (count)."""
    if not versions:
        return "-"
    if len(versions) <= 4:
        return ", ".join(map(str, versions))
    return f"{versions[0]}..{versions[-1]} ({len(versions)})"


# -- prune, cache clear ----------------------------------------------------------------------------


def plain(obj: object) -> object:
    """Dataclasses as dicts, tuples as lists, paths as strings: what `json.dumps` can write."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [plain(x) for x in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def prune_json(report: PruneReport, dry_run: bool, target: str | None = None) -> dict[str, Any]:
    """The `prune --json` document; with a target, its URL (the paths are relative to it)."""
    document = {"ok": True, "command": "prune", "dry_run": dry_run, "report": plain(report)}
    return document | ({"target": target} if target is not None else {})


def prune_text(report: PruneReport, dry_run: bool) -> str:
    return report.describe(dry_run)


def cache_cleared(cache_dir: Path, removed: Sequence[Path], size_before: int) -> list[str]:
    """What `cache clear` says: each path it removed and how much, or that there was nothing."""
    where = display(cache_dir)
    if not removed:
        return [f"{where}: nothing to remove"]
    lines = [f"removed {display(path)}" for path in removed]
    lines.append(f"cleared {where} ({size(size_before)} of cached results)")
    return lines


def cache_not_ours(cache_dir: Path) -> str:
    """What `cache clear` says about a directory without assetbuild's CACHEDIR.TAG."""
    return (
        f"assetbuild: {display(cache_dir)} is not an assetbuild cache (no CACHEDIR.TAG of ours); "
        "nothing removed"
    )
