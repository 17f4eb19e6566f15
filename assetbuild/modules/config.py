"""`[[modules]]` and `[importmap]`: ES module trees installed whole into version directories.

Decisions worth knowing:
- `source` is a directory relative to root; every `.js` and `.mjs` file below it is a module. It must
  stay inside root, hold no numbered directory name, and not overlap another tree's source.
- `output` (`js/app`) is a directory: the tree installs as `js/<N>/app/<path below source>`, the area
  being its parent (`js`), shared with the area's bundles; `app` must not also be a bundle's file name
  there, and two trees may not share an output.
- `[importmap]` maps a bare specifier to a module file of a tree (a path relative to root), or, for a
  key ending in `/`, a prefix to a directory of a tree (`"lib/" = "js/modules/lib/"`).
- `area = "js"` instead of `output` installs the tree straight into the area's version directory
  (`js/<N>/<path below source>`); `suffixes = [".mjs"]` takes only those files as modules.
- Zero-config: `<area>/modules/` holding at least one `.js`/`.mjs` file is a tree installed as
  `<area>/<N>/modules/...`, and every `.mjs` file below `<area>/source/` (whose `.js` files are the
  area's bundle) is a module installed at `<area>/<N>/<path below source>`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from assetbuild.versions import is_version_name, normalise_output, output_problem

MODULE_SUFFIXES = (".js", ".mjs")
MODULE_KEYS = ("source", "output", "area", "suffixes", "minify", "tokens")
ZERO_CONFIG_DIR = "modules"
ZERO_CONFIG_SOURCE = "source"  # a zero-config area's bundle sources: its .mjs files are modules
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

Report = Callable[[str, str], None]  # (key, message), as config's problems.add


@dataclass(frozen=True)
class ModuleSpec:
    """One module tree: every file below `source` (relative to root) ending in one of `suffixes`,
    installed under `output`. An `output` ending in "/" (`js/`) is the area itself: the tree
    installs straight into its version directories (`js/<N>/<path below source>`)."""

    source: str
    output: str
    minify: bool = True
    tokens: bool = True
    suffixes: tuple[str, ...] = MODULE_SUFFIXES

    @property
    def area(self) -> str:
        """The directory holding the version directories ("" at the root), as a bundle's."""
        if self.output.endswith("/"):
            return self.output.rstrip("/")
        return _area(self.output)

    @property
    def name(self) -> str:
        """The tree's directory inside a version directory (`app` of `js/app`, "" for `js/`)."""
        return "" if self.output.endswith("/") else PurePosixPath(self.output).name

    @property
    def pattern(self) -> str:
        """How a summary names the tree: `js/app/*`, `js/*` for one installed in the area's top."""
        return posixpath.join(self.output, "*")

    def key(self, name: str) -> str:
        """The manifest name of its module `name` (the path below source): `js/app/lib/a.js`."""
        return posixpath.join(self.output, name)

    def takes(self, name: str) -> bool:
        """Whether a file name is one of this tree's modules (or, for a .js/.mjs tree, JSON)."""
        if not name.startswith(".") and name.endswith(".json"):
            return ".js" in self.suffixes
        return is_module_file(name) and name.endswith(self.suffixes)


def is_module_file(name: str) -> bool:
    """A file name a tree's listing takes as a module (hidden and editor files excluded)."""
    return (
        name.endswith(MODULE_SUFFIXES)
        and not name.startswith(".")
        and not name.endswith(("~", ".swp", ".tmp"))
    )


def parse_modules(
    report: Report,
    value: Any,
    root: Path,
    bundle_outputs: Sequence[str],
) -> tuple[ModuleSpec, ...]:
    """The validated `[[modules]]` tables; every problem goes to `report`."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        report("modules", "expected [[modules]] tables")
        return ()
    specs: list[ModuleSpec] = []
    outputs: dict[str, int] = {}
    sources: dict[str, int] = {}
    taken = {(_area(o), PurePosixPath(o).name): o for o in bundle_outputs}
    for number, table in enumerate(value, start=1):
        where = f"modules[{number}]"
        for key in table:
            if key not in MODULE_KEYS:
                report(
                    "", f'unknown key "{key}" in {where} (expected one of {", ".join(MODULE_KEYS)})'
                )
        suffixes = _suffixes(report, table.get("suffixes", list(MODULE_SUFFIXES)), where)
        source = _source(report, table.get("source"), root, f"{where}.source", suffixes)
        if "area" in table:
            output = _area_output(report, table, where)
        else:
            output = _output(report, table.get("output"), f"{where}.output")
        flags = {key: table.get(key, True) for key in ("minify", "tokens")}
        for key, flag in flags.items():
            if not isinstance(flag, bool):
                report(f"{where}.{key}", "expected true or false")
        if output is not None:
            if output in outputs:
                report(
                    f"{where}.output",
                    f'"{output}" is also the output of modules[{outputs[output]}]',
                )
            elif not output.endswith("/") and (_area(output), PurePosixPath(output).name) in taken:
                bundle = taken[(_area(output), PurePosixPath(output).name)]
                report(
                    f"{where}.output",
                    f'"{output}" would install beside bundle "{bundle}" under the same name '
                    f"in {_area(output) or 'the root'}'s version directories; choose another name",
                )
            outputs.setdefault(output, number)
        if source is not None:
            for other, first in sources.items():
                if _inside(source, other) or _inside(other, source):
                    report(
                        f"{where}.source",
                        f'"{source}" overlaps the source "{other}" of modules[{first}]; '
                        "a module belongs to one tree",
                    )
                    break
            sources.setdefault(source, number)
        if (
            source is None
            or output is None
            or suffixes is None
            or not all(isinstance(f, bool) for f in flags.values())
        ):
            continue
        specs.append(
            ModuleSpec(
                source, output, minify=flags["minify"], tokens=flags["tokens"], suffixes=suffixes
            )
        )
    return tuple(specs)


def parse_importmap(
    report: Report, value: Any, root: Path, trees: Sequence[ModuleSpec]
) -> tuple[tuple[str, str], ...]:
    """The validated `[importmap]`: (specifier, root-relative module path or directory/) pairs."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        report("importmap", 'expected a table of "specifier" = "path/of/module.js"')
        return ()
    pairs: list[tuple[str, str]] = []
    for specifier, target in value.items():
        key = f'importmap."{specifier}"'
        problem = specifier_problem(specifier)
        if problem:
            report(key, problem)
            continue
        if not isinstance(target, str) or not target:
            report(key, "expected the path of a module file relative to root, as a string")
            continue
        prefix = specifier.endswith("/")
        path = normalise_output(target)
        bad = output_problem(path, any_kind=True) if path else "is empty"
        if bad or target.startswith("/"):
            report(key, f'"{target}": {bad or "must be relative to root, not absolute"}')
            continue
        if prefix != target.endswith("/"):
            report(
                key,
                f'"{target}": a specifier ending in "/" maps a directory ending in "/", '
                "and a bare name maps a module file",
            )
            continue
        tree = next((t for t in trees if _inside(path, t.source)), None)
        if tree is None:
            shown = ", ".join(f'"{t.source}"' for t in trees) or "none configured"
            report(key, f'"{target}" is not inside a [[modules]] source ({shown})')
            continue
        full = root / path
        if prefix:
            if not full.is_dir():
                report(key, f'"{target}" is not a directory')
                continue
            pairs.append((specifier, path + "/"))
            continue
        if not tree.takes(PurePosixPath(path).name) or path.endswith(".json"):
            kinds = " or ".join(tree.suffixes)
            report(key, f'"{target}" is not a module file ({kinds}) of the tree "{tree.source}"')
        elif not full.is_file():
            report(key, f'"{target}" does not exist')
        else:
            pairs.append((specifier, path))
    return tuple(pairs)


def specifier_problem(specifier: str) -> str | None:
    """Why an import map key is not a bare specifier assetbuild can map, or None."""
    if not specifier.strip():
        return "a specifier must not be empty"
    if specifier.startswith(("./", "../", "/")) or specifier in (".", ".."):
        return "relative and /-rooted specifiers resolve against the importing module; map bare names only"
    if _URL_SCHEME.match(specifier):
        return "a full URL is loaded as it is; map bare names only"
    if any(ord(c) < 0x20 or c.isspace() for c in specifier):
        return "a specifier must not contain spaces or control characters"
    return None


def list_tree(root: Path, spec: ModuleSpec, listed: set[str] | None = None) -> list[str]:
    """The root-relative paths of a tree's module and JSON files, in byte order (hidden names
    skipped); every directory listed goes into `listed` (the no-change proof stamps them)."""
    found: list[str] = []
    for directory, dirs, files in os.walk(root / spec.source):
        if listed is not None:
            listed.add(directory)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = Path(directory).relative_to(root).as_posix()
        for name in files:
            if spec.takes(name):
                found.append(f"{relative}/{name}")
    return sorted(found, key=lambda p: p.encode("utf-8", "surrogateescape"))


def zero_config_modules(root: Path, areas: Sequence[str]) -> tuple[ModuleSpec, ...]:
    """The trees zero-config finds in each area: `<area>/modules/` holding a module file (installed
    as `<area>/<N>/modules/`), and the `.mjs` files below `<area>/source/` (at `<area>/<N>/`)."""
    specs: list[ModuleSpec] = []
    for area in areas:
        if _has_module(root / area / ZERO_CONFIG_DIR, MODULE_SUFFIXES):
            specs.append(ModuleSpec(f"{area}/{ZERO_CONFIG_DIR}", f"{area}/{ZERO_CONFIG_DIR}"))
        if _has_module(root / area / ZERO_CONFIG_SOURCE, (".mjs",)):
            specs.append(ModuleSpec(f"{area}/{ZERO_CONFIG_SOURCE}", f"{area}/", suffixes=(".mjs",)))
    return tuple(specs)


def _has_module(directory: Path, suffixes: tuple[str, ...]) -> bool:
    for _, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(is_module_file(f) and f.endswith(suffixes) for f in files):
            return True
    return False


def _suffixes(report: Report, value: Any, where: str) -> tuple[str, ...] | None:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v in MODULE_SUFFIXES for v in value)
    ):
        report(f"{where}.suffixes", 'expected a list of ".js" and/or ".mjs"')
        return None
    return tuple(dict.fromkeys(value))


def _area_output(report: Report, table: Mapping[str, Any], where: str) -> str | None:
    """`area = "js"`: the tree installs straight into js's version directories (output "js/")."""
    if "output" in table:
        report(f"{where}.area", "give either output (a directory of its own) or area, not both")
        return None
    value = table["area"]
    if not isinstance(value, str) or not value.strip("./"):
        report(f"{where}.area", 'expected the directory holding the versions, like "js"')
        return None
    area = _output(report, value, f"{where}.area")
    return None if area is None else area + "/"


def _source(
    report: Report, value: Any, root: Path, key: str, suffixes: tuple[str, ...] | None
) -> str | None:
    if value is None:
        report(key, 'missing; e.g. source = "js/modules"')
        return None
    if not isinstance(value, str) or not value.strip("./"):
        report(key, 'expected a directory relative to root, like "js/modules"')
        return None
    source = normalise_output(value.rstrip("/"))
    problem = output_problem(source, any_kind=True)
    if problem or value.startswith("/"):
        report(key, f'"{value}": {problem or "must be relative to root, not absolute"}')
        return None
    if is_version_name(PurePosixPath(source).name):
        report(key, f'"{value}": a numbered directory is a version directory, not a source')
        return None
    directory = root / source
    if not directory.is_dir():
        report(
            key, f'"{value}": {"is not a directory" if directory.exists() else "does not exist"}'
        )
        return None
    if not _has_module(directory, suffixes or MODULE_SUFFIXES):
        report(key, f'"{value}": holds no {" or ".join(suffixes or MODULE_SUFFIXES)} file')
        return None
    return source


def _output(report: Report, value: Any, key: str) -> str | None:
    if value is None:
        report(key, 'missing; e.g. output = "js/app"')
        return None
    if not isinstance(value, str) or not value.strip("./"):
        report(key, 'expected a directory path like "js/app"')
        return None
    output = normalise_output(value.rstrip("/"))
    problem = output_problem(output, any_kind=True)
    if problem is None and is_version_name(PurePosixPath(output).name):
        problem = "a numbered name is a version directory; choose a non-numeric name"
    if problem or value.startswith("/"):
        report(key, f'"{value}": {problem or "must be relative to root, not absolute"}')
        return None
    return output


def _area(output: str) -> str:
    parent = PurePosixPath(output).parent.as_posix()
    return "" if parent == "." else parent


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")
