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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from assetbuild.diagnostics import Diagnostic
from assetbuild.errors import AssetbuildError
from assetbuild.minified import Minified
from assetbuild.modules.config import ModuleSpec, is_module_file
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


@dataclass(frozen=True)
class BuiltTree:
    spec: ModuleSpec
    modules: tuple[BuiltModule, ...]


@dataclass(frozen=True)
class TreesResult:
    trees: tuple[BuiltTree, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def collect_tree(root: Path, spec: ModuleSpec) -> list[str]:
    """The root-relative paths of a tree's module and JSON files, in byte order (hidden names skipped)."""
    found: list[str] = []
    base = root / spec.source
    for directory, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = Path(directory).relative_to(root).as_posix()
        for name in files:
            if is_module_file(name) or (name.endswith(".json") and not name.startswith(".")):
                found.append(f"{relative}/{name}")
    return sorted(found, key=lambda p: p.encode("utf-8", "surrogateescape"))


def build_trees(
    root: Path,
    specs: Sequence[ModuleSpec],
    importmap: Sequence[tuple[str, str]],
    tokens: Mapping[str, str | None],
    *,
    strict_tokens: bool = False,
    minify: bool = True,
    check_only: bool = False,
) -> TreesResult:
    """Every tree built and resolved in memory; nothing is written."""
    diagnostics: list[Diagnostic] = []
    listed = [(spec, collect_tree(root, spec)) for spec in specs]
    files = frozenset(path for _, paths in listed for path in paths)
    mapping = dict(importmap)
    trees = []
    for spec, paths in listed:
        modules = []
        for path in paths:
            flags = (strict_tokens, minify, check_only)
            built, found = _build_one(root, spec, path, files, mapping, tokens, flags)
            diagnostics.extend(found)
            if built is not None:
                modules.append(built)
        trees.append(BuiltTree(spec, tuple(modules)))
    return TreesResult(tuple(trees), tuple(diagnostics))


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
    root: Path,
    spec: ModuleSpec,
    path: str,
    files: frozenset[str],
    importmap: Mapping[str, str],
    tokens: Mapping[str, str | None],
    flags: tuple[bool, bool, bool],
) -> tuple[BuiltModule | None, list[Diagnostic]]:
    strict_tokens, minify, check_only = flags
    name = PurePosixPath(path).relative_to(spec.source).as_posix()
    try:
        src = read_source(root / path, path)
    except AssetbuildError as exc:
        return None, list(exc.diagnostics) or [Diagnostic("error", str(exc))]
    if path.endswith(".json"):
        try:
            json.loads(src.text)
        except ValueError as exc:
            offset = getattr(exc, "pos", None)
            return None, [
                src.diagnostic("error", f"invalid JSON: {getattr(exc, 'msg', exc)}", offset)
            ]
        return BuiltModule(path, name, src.text, "json"), []
    found: list[Diagnostic] = []
    if spec.tokens:
        src, token_diags = substitute(src, tokens, strict=strict_tokens, check_only=check_only)
        found.extend(token_diags)
    program, problem = check_module(src)
    if problem is not None:
        return None, [*found, problem]
    imports: list[str] = []
    dynamic: list[str] = []
    for imp in find_imports(program):
        resolved = resolve(imp, path, spec.source, files, importmap)
        if resolved.problem is not None:
            found.append(_import_error(src, imp, resolved.problem))
        elif resolved.target is not None:
            (dynamic if imp.dynamic else imports).append(resolved.target)
    if any(d.severity == "error" for d in found):
        return None, found
    minified = minify_module(src.text) if minify and spec.minify else Minified(src.text, "none")
    if minify and spec.minify and minified.method == "none":
        found.append(
            src.diagnostic(
                "warning",
                "no minified form of this module could be verified; it ships unminified",
                code="unminified",
            )
        )
    return BuiltModule(
        path, name, minified.text, minified.method, tuple(dict.fromkeys(imports)), tuple(dynamic)
    ), found


def _import_error(src: SourceFile, imp: ModuleImport, problem: str) -> Diagnostic:
    what = "import()" if imp.dynamic else "import"
    return src.diagnostic("error", f"{what} {problem}", imp.offset)


def check_module(src: SourceFile) -> tuple[Any, Diagnostic | None]:
    """(esprima's module Program, None) when the file is a valid module, else (None, the error)."""
    from assetbuild.js import check as jscheck

    try:
        program = jscheck.run_deep(lambda: jscheck._parse(src.text, module=True))
    except jscheck._ParseFailure as exc:
        offset = None if exc.tool_limit else exc.index
        return None, src.diagnostic("error", exc.message, offset)
    except jscheck._ParserCrash as exc:
        message = f"the JavaScript checker failed on this module ({exc}); a limit of assetbuild"
        return None, src.diagnostic("error", message)
    if jscheck.engine_name() == "v8":
        from assetbuild.js import engine as jsengine

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


def minify_module(text: str) -> Minified:
    """rjsmin, else the safe minifier, each verified to parse as the same module; else the text."""
    from assetbuild.js import check as jscheck
    from assetbuild.js import minify as jsminify
    from assetbuild.js import safe as jssafe

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
