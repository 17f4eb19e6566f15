"""Build module trees in memory: read, substitute tokens, check as modules, minify verified, resolve.

Each module is checked as module code (strict mode, top-level `await`, `import.meta`, the early errors
of modules): esprima's `parseModule` decides, and where the engine is installed its module check
(meriyah/acorn, V8) must accept too. The minified text must parse as a module to the same tree
(rjsmin, else the safe minifier, else the checked text with a warning), as for scripts. Every import
is then resolved (`modules.imports`); every problem of every module is reported.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from assetbuild.diagnostics import Diagnostic, Location
from assetbuild.errors import AssetbuildError
from assetbuild.minified import Minified
from assetbuild.modules.config import ModuleSpec, list_tree
from assetbuild.modules.imports import ModuleImport, find_imports, resolve
from assetbuild.sources import SourceFile, read_source
from assetbuild.tokens import substitute


@dataclass(frozen=True)
class BuiltModule:
    """One file of a tree as it ships."""

    path: str  # root-relative source path (js/modules/lib/a.js)
    name: str  # the path below the tree's source (lib/a.js), installed under the tree's output
    text: str
    method: str  # "rjsmin", "safe", "none" (unminified), "json"
    imports: tuple[str, ...] = ()  # root-relative files of its static imports, in source order
    dynamic: tuple[str, ...] = ()  # root-relative files of its literal import() calls
    map_data: bytes = b""  # its proven source map as installed beside it (`sourcemap` set)


@dataclass(frozen=True)
class Analysed:
    """What checking and minifying one module's text found (cacheable: the text decides it)."""

    imports: tuple[ModuleImport, ...]
    text: str  # minified when asked and verified, else the text as checked
    method: str


class ModuleMemo(Protocol):
    """Where a run keeps the analysis of module texts it checked (the content cache, watch's memory)."""

    def get(self, text: str, minify: bool) -> Analysed | None: ...

    def put(self, text: str, minify: bool, analysed: Analysed) -> None: ...


@dataclass(frozen=True)
class BuiltTree:
    spec: ModuleSpec
    modules: tuple[BuiltModule, ...]


@dataclass(frozen=True)
class TreesResult:
    trees: tuple[BuiltTree, ...]
    diagnostics: tuple[Diagnostic, ...]
    # each module's text as read (before substitution), by absolute path: the no-change state
    # confirms a module too young for its stamp by this text, as it does a bundle's source
    originals: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def collect_tree(root: Path, spec: ModuleSpec) -> list[str]:
    """The root-relative paths of a tree's module and JSON files, in byte order (hidden names skipped)."""
    return list_tree(root, spec)


def build_trees(
    root: Path,
    specs: Sequence[ModuleSpec],
    importmap: Sequence[tuple[str, str]],
    tokens: Mapping[str, str | None],
    *,
    strict_tokens: bool = False,
    minify: bool = True,
    check_only: bool = False,
    memo: ModuleMemo | None = None,
    sourcemap: str = "none",
    ignore: Sequence[str] = (),
    allow_outside: bool = False,
    bundle_outputs: Sequence[str] = (),
) -> TreesResult:
    """Every tree built and resolved in memory; nothing is written. A module whose text `memo`
    has seen is not checked or minified again (its imports are resolved again: the tree may differ).
    The engine's module check (V8) runs once for all the texts to check, not once a module."""
    diagnostics: list[Diagnostic] = []
    listed = [(spec, collect_tree(root, spec)) for spec in specs]
    diagnostics.extend(collisions(listed, bundle_outputs))
    files = frozenset(path for _, paths in listed for path in paths)
    mapping = dict(importmap)
    flags = (strict_tokens, minify, check_only)
    real_root = os.path.realpath(root)
    read = {
        path: _read_one(root, spec, path, tokens, flags)
        if allow_outside or _inside(os.path.realpath(root / path), real_root)
        else _outside(root, path)
        for spec, paths in listed
        for path in paths
    }
    to_check = []
    for spec, paths in listed:
        for path in paths:
            src = read[path][0]
            if src is None or path.endswith(".json"):
                continue
            if memo is None or memo.get(src.text, minify and spec.minify) is None:
                to_check.append(src.text)
    verdicts = _engine_verdicts(to_check)
    trees = []
    for spec, paths in listed:
        modules = []
        for path in paths:
            src, found = read[path]
            if src is None:
                diagnostics.extend(found)
                continue
            built = _build_one(spec, path, src, files, mapping, found, flags, memo, verdicts)
            if built is not None and sourcemap != "none" and built.method != "json":
                built = _with_map(root, spec, src, built, sourcemap, ignore, found)
            diagnostics.extend(found)
            if built is not None:
                modules.append(built)
        trees.append(BuiltTree(spec, tuple(modules)))
    originals = tuple(
        (str(root / path), src.original) for path, (src, _) in read.items() if src is not None
    )
    return TreesResult(tuple(trees), tuple(diagnostics), originals)


def collisions(
    listed: Sequence[tuple[ModuleSpec, Sequence[str]]], bundle_outputs: Sequence[str]
) -> list[Diagnostic]:
    """A tree installed at the top of its area's versions (`js/` of zero-config's `.mjs` files)
    must not put a file or directory where a bundle (or its map, variants) or another tree is."""
    taken: dict[tuple[str, str], str] = {}
    for output in bundle_outputs:
        area, _, base = output.rpartition("/")
        for suffix in ("", ".map", ".gz", ".br", ".map.gz", ".map.br"):
            taken[(area, base + suffix)] = f"the bundle {output}"
    for spec, _ in listed:
        if spec.name:
            taken[(spec.area, spec.name)] = f"the module tree {spec.pattern}"
    found = []
    for spec, paths in listed:
        if spec.name:
            continue
        for path in paths:
            below = PurePosixPath(path).relative_to(spec.source).as_posix()
            first = below.split("/")[0]
            other = taken.get((spec.area, first))
            if other is not None:
                where = posixpath.join(spec.area, "<N>", below)
                message = (
                    f"would install as {where}, where {other} installs; rename "
                    f"{'the directory ' + first if '/' in below else 'the file'} (or configure "
                    "[[modules]] with an output of its own)"
                )
                found.append(Diagnostic("error", message, Location(path)))
    return found


def _read_one(
    root: Path,
    spec: ModuleSpec,
    path: str,
    tokens: Mapping[str, str | None],
    flags: tuple[bool, bool, bool],
) -> tuple[SourceFile | None, list[Diagnostic]]:
    """A module read (bounded, UTF-8) and its tokens substituted; None and the error when it cannot be."""
    strict_tokens, _, check_only = flags
    try:
        src = read_source(root / path, path)
    except AssetbuildError as exc:
        return None, list(exc.diagnostics) or [Diagnostic("error", str(exc))]
    if spec.tokens and not path.endswith(".json"):
        src, token_diags = substitute(src, tokens, strict=strict_tokens, check_only=check_only)
        return src, list(token_diags)
    return src, []


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _outside(root: Path, path: str) -> tuple[None, list[Diagnostic]]:
    """A module that is a link to a file outside the root is never read (nor published)."""
    real = os.path.realpath(root / path)
    message = (
        f"resolves to {real}, outside the root; a module tree installs only files inside it "
        "(set allow_symlinks_outside = true to allow it)"
    )
    return None, [Diagnostic("error", message, Location(path))]


def _engine_verdicts(texts: Sequence[str]) -> dict[str, Any]:
    """The fast engine's module verdict of each text, in one call (none without the engine)."""
    from assetbuild.js import check as jscheck

    if not texts or jscheck.engine_name() != "v8":
        return {}
    from assetbuild.js import engine as jsengine

    unique = list(dict.fromkeys(texts))
    return dict(zip(unique, jsengine.check_scripts(unique, module=True), strict=True))


def static_closure(trees: Sequence[BuiltTree]) -> dict[str, tuple[str, ...]]:
    """Each module's static import closure (itself excluded), in first-visit order."""
    edges = {m.path: m.imports for tree in trees for m in tree.modules}
    closures: dict[str, tuple[str, ...]] = {}
    for start in edges:
        seen: dict[str, None] = {}
        stack = list(reversed(edges[start]))
        while stack:
            path = stack.pop()
            if path in seen or path == start:
                continue
            seen[path] = None
            stack.extend(reversed(edges.get(path, ())))
        closures[start] = tuple(seen)
    return closures


def _build_one(
    spec: ModuleSpec,
    path: str,
    src: SourceFile,
    files: frozenset[str],
    importmap: Mapping[str, str],
    found: list[Diagnostic],
    flags: tuple[bool, bool, bool],
    memo: ModuleMemo | None,
    verdicts: Mapping[str, Any],
) -> BuiltModule | None:
    """One module checked, minified and resolved; its problems go into `found`."""
    name = PurePosixPath(path).relative_to(spec.source).as_posix()
    if path.endswith(".json"):
        try:
            json.loads(src.text)
        except ValueError as exc:
            offset = getattr(exc, "pos", None)
            msg = f"invalid JSON: {getattr(exc, 'msg', exc)}"
            found.append(src.diagnostic("error", msg, offset))
            return None
        return BuiltModule(path, name, src.text, "json")
    minifying = flags[1] and spec.minify
    analysed = memo.get(src.text, minifying) if memo is not None else None
    if analysed is None:
        program, problem = check_module(src, verdicts)
        if problem is not None:
            found.append(problem)
            return None
        minified = minify_module(src.text, program) if minifying else Minified(src.text, "none")
        analysed = Analysed(tuple(find_imports(program)), minified.text, minified.method)
        if memo is not None:
            memo.put(src.text, minifying, analysed)
    imports: list[str] = []
    dynamic: list[str] = []
    for imp in analysed.imports:
        resolved = resolve(imp, path, spec.source, files, importmap)
        if resolved.problem is not None:
            found.append(_import_error(src, imp, resolved.problem, spec.suffixes))
        elif resolved.target is not None:
            (dynamic if imp.dynamic else imports).append(resolved.target)
    if any(d.severity == "error" for d in found):
        return None
    if minifying and analysed.method == "none":
        found.append(
            src.diagnostic(
                "warning",
                "no minified form of this module could be verified; it ships unminified",
                code="unminified",
            )
        )
    return BuiltModule(
        path, name, analysed.text, analysed.method, tuple(dict.fromkeys(imports)), tuple(dynamic)
    )


def _with_map(
    root: Path,
    spec: ModuleSpec,
    src: SourceFile,
    module: BuiltModule,
    mode: str,
    ignore: Sequence[str],
    found: list[Diagnostic],
) -> BuiltModule:
    """The module with its proven map (and, `linked`, the comment naming it), as bundles get theirs;
    a map that cannot be made or proven is a warning, and the module ships without one."""
    from dataclasses import replace

    from assetbuild.maps.align import NoMap
    from assetbuild.maps.build import assemble, comment
    from assetbuild.maps.compose import InputMapProblem, mapped_file, strip_url_comment
    from assetbuild.maps.verify import MapProblem, verify_joined

    text = strip_url_comment(module.text)
    output = spec.key(module.name)
    area = spec.area.split("/") if spec.area else []
    map_dir = root.joinpath(*area, "1", spec.name, *PurePosixPath(module.name).parent.parts)
    try:
        try:
            fmap = mapped_file("js", src, src.text, text, 0)
        except InputMapProblem:
            fmap = mapped_file("js", src, src.text, text, 0, compose=False)
        made, joins = assemble(output, "js", text, [(text, fmap)], root=root, ignore=ignore)
        data = made.render(map_dir)
        verify_joined(data, made.mappings, made.contents, joins)
    except (NoMap, MapProblem, InputMapProblem, AssetbuildError) as exc:
        why = f"{output} ships without a source map: {exc} (a limit of assetbuild)"
        found.append(src.diagnostic("warning", why))
        return module
    if mode == "linked":
        text += ("\n" if text and not text.endswith("\n") else "") + comment(
            "js", PurePosixPath(module.name).name + ".map"
        )
    return replace(module, text=text, map_data=data)


def _import_error(
    src: SourceFile, imp: ModuleImport, problem: str, suffixes: tuple[str, ...]
) -> Diagnostic:
    what = "import()" if imp.dynamic else "import"
    notes: tuple[Diagnostic, ...] = ()
    if (
        ".js" not in suffixes
        and imp.specifier.endswith((".js", ".json"))
        and "no module" in problem
    ):
        why = (
            f"this tree's modules are its {' and '.join(suffixes)} files: the .js files beside them "
            "are a bundle's sources (zero-config: <area>/source/*.js), and JSON modules belong in "
            "a tree of .js files (zero-config: <area>/modules/)"
        )
        notes = (Diagnostic("warning", why),)
    return src.diagnostic("error", f"{what} {problem}", imp.offset, notes)


def check_module(
    src: SourceFile, verdicts: Mapping[str, Any] | None = None
) -> tuple[Any, Diagnostic | None]:
    """(esprima's module Program, None) when the file is a valid module, else (None, the error).

    `verdicts`: the engine's verdicts by text, when they were asked for a batch (`build_trees`)."""
    from assetbuild.js import check as jscheck

    try:
        # With its comments: the minifier's verification reads the license comments of this parse.
        program = jscheck.run_deep(lambda: jscheck._parse(src.text, module=True, comments=True))
    except jscheck._ParseFailure as exc:
        offset = None if exc.tool_limit else exc.index
        return None, src.diagnostic("error", exc.message, offset)
    except jscheck._ParserCrash as exc:
        message = f"the JavaScript checker failed on this module ({exc}); a limit of assetbuild"
        return None, src.diagnostic("error", message)
    if jscheck.engine_name() == "v8":
        from assetbuild.js import engine as jsengine

        if verdicts is not None and src.text in verdicts:
            verdict = verdicts[src.text]
        else:
            (verdict,) = jsengine.check_scripts([src.text], module=True)
        if verdict is not None and verdict.kind != "limit":
            return None, src.diagnostic("error", verdict.message, verdict.offset)
    return program, None


def module_fingerprint(text: str) -> bytes | None:
    """The digest of a module's tree (positions, comments, raw spellings aside); None if invalid."""
    from assetbuild.js import check as jscheck

    try:
        program = jscheck.run_deep(lambda: jscheck._parse(text, module=True))
    except (jscheck._ParseFailure, jscheck._ParserCrash):
        return None
    return jscheck._fingerprint_tree(program)


def minify_module(text: str, program: Any = None) -> Minified:
    """rjsmin, else the safe minifier, each verified to parse as the same module; else the text.

    `program`: the text's module parse with comments, when the caller has it (`check_module`'s)."""
    from assetbuild.js import check as jscheck
    from assetbuild.js import minify as jsminify
    from assetbuild.js import safe as jssafe

    if program is None:
        try:
            program = jscheck.run_deep(lambda: jscheck._parse(text, module=True, comments=True))
        except (jscheck._ParseFailure, jscheck._ParserCrash):
            return Minified(text, "none")
    expected = jscheck._fingerprint_tree(program)
    licenses = []
    for comment in program.comments or ():
        start, end = comment.range
        if jscheck.is_license_comment(text[start:end]):
            licenses.append((start, text[start:end]))
    kept = tuple(c for _, c in licenses)
    for method in ("rjsmin", "safe"):
        candidate = (
            jsminify._rjsmin(text, tuple(licenses)) if method == "rjsmin" else jssafe.minify(text)
        )
        if (
            candidate is not None
            and jsminify._in_order(candidate, kept)
            and module_fingerprint(candidate) == expected
        ):
            return Minified(candidate, method)
    return Minified(text, "none")
