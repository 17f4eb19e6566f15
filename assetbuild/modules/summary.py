"""What `check` and `build` say about module trees: the check line's counts, the `--json` documents'
`"modules"` list, and the summary rows of trees (`build --out`'s, and install's through `summary`).

Plain functions from a build result to text and JSON-ready values; nothing here prints. A module's
JSON name is its manifest name (`js/app/lib/a.js`); `where` (summary's `Where`) holds, for `build
--out`, where each module went.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetbuild.report import size

if TYPE_CHECKING:
    from assetbuild.build.results import BuildResult, TreeInstalled

Where = Mapping[str, tuple[str, str]]


def counts(result: BuildResult) -> tuple[int, int]:
    """(modules, trees) the run checked: every file of every tree (JSON modules included)."""
    trees = result.modules.trees if result.modules is not None else ()
    return sum(len(t.modules) for t in trees), len(trees)


def check_line(result: BuildResult) -> str:
    """`check`'s last line: the files of the bundles, then the modules of the trees, when any."""
    files = sum(len(b.sources) for b in result.bundles)
    bundles = len(result.bundles)
    parts = []
    if bundles or result.modules is None:
        parts.append(f"{_count(files, 'file')} in {_count(bundles, 'bundle')}")
    modules, trees = counts(result)
    if trees:
        parts.append(f"{_count(modules, 'module')} in {_count(trees, 'tree')}")
    return f"checked {', '.join(parts)}: ok"


def modules_json(result: BuildResult, where: Where) -> list[dict[str, Any]]:
    """One entry per module of every tree, in tree then path order (`path` None when not written)."""
    trees = result.modules.trees if result.modules is not None else ()
    names = {m.path: t.spec.key(m.name) for t in trees for m in t.modules}
    found = []
    for tree in trees:
        for m in tree.modules:
            name = tree.spec.key(m.name)
            path, action = where.get(name, ("", ""))
            found.append(
                {
                    "name": name,
                    "tree": tree.spec.output,
                    "source": m.path,
                    "size": len(m.text.encode("utf-8")),
                    "minified_by": m.method,
                    "imports": [names.get(p, p) for p in m.imports],
                    "path": path or None,
                    "action": action or None,
                    "map": {"size": len(m.map_data)} if m.map_data else None,
                }
            )
    return found


def written_modules(result: BuildResult, out_dir: Path) -> dict[str, tuple[str, str]]:
    """`build --out`: where each module (by its manifest name) was written."""
    trees = result.modules.trees if result.modules is not None else ()
    return {
        name: (str(out_dir / name), "written")
        for tree in trees
        for name in (tree.spec.key(m.name) for m in tree.modules)
    }


def export_rows(result: BuildResult, out_dir: Path, width: int) -> list[list[str]]:
    """`build --out`'s summary rows: one per tree (`js/app/*`), where its directory was written."""
    rows = []
    for tree in result.modules.trees if result.modules is not None else ():
        if not tree.modules:
            continue
        nbytes = sum(len(m.text.encode("utf-8")) for m in tree.modules)
        where = out_dir.joinpath(*tree.spec.output.rstrip("/").split("/"))
        path = str(where) + "/"
        rows.append(tree_row(width, tree.spec.pattern, len(tree.modules), nbytes, path, "written"))
    return rows


def tree_path(tree: TreeInstalled) -> str:
    """Where a module tree is installed: `js/3/app/`."""
    if tree.output.endswith("/"):  # installed at the top of its area's version directory
        return f"{tree.output}{tree.version}/"
    area, _, name = tree.output.rpartition("/")
    return f"{area}/{tree.version}/{name}/" if area else f"{tree.version}/{name}/"


def tree_row(width: int, label: str, files: int, nbytes: int, path: str, action: str) -> list[str]:
    """A tree's row in a summary table `width` columns wide: no raw, gzip or change column."""
    row = [label, str(files), "", size(nbytes)]
    row += [""] * (width - 2 - len(row))
    return [*row, path, action]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
