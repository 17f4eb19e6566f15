"""Every import of a module, from esprima's module parse (never a regex), and its build-time resolution.

Static `import`, `export ... from`, and `import()` of a string literal (a template without
substitutions counts) are found in the syntax tree with the offset of their specifier. Resolution:
- `./x.js`, `../x.js`: against the importing module's directory; it must name a file of the same tree
  (a missing one is an error naming it, with "did you mean"), and must not leave the tree;
- `/x.js`: an error (it resolves against the site, not the version directory);
- a full URL (`https://...`, `//host/...`, `data:...`): left alone;
- anything else is bare: it must be an `[importmap]` key, or start with a key ending in `/`.
A JSON file is imported with `with { type: "json" }`; a JSON import without it, or a module imported
as JSON, is an error.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:|//")
_STATIC = ("ImportDeclaration", "ExportNamedDeclaration", "ExportAllDeclaration")


@dataclass(frozen=True)
class ModuleImport:
    """One import of a module: its specifier, where it is (offset of the specifier), how it loads."""

    specifier: str
    offset: int
    dynamic: bool = False
    json: bool = False  # `with { type: "json" }`


@dataclass(frozen=True)
class Resolved:
    """Where an import leads: a root-relative file of a tree, or None for a URL left alone."""

    target: str | None
    problem: str | None = None


def find_imports(program: Any) -> list[ModuleImport]:
    """The imports of an esprima module Program, in source order."""
    found: list[ModuleImport] = []
    for node in _nodes(program):
        kind = node.type
        if kind in _STATIC:
            source = getattr(node, "source", None)
            if source is not None and isinstance(source.value, str):
                json = _json_attribute(getattr(node, "attributes", None))
                found.append(ModuleImport(source.value, source.range[0], json=json))
        elif kind == "ImportExpression":
            literal = _literal(node.source)
            if literal is not None:
                options = getattr(node, "options", None) or getattr(node, "attributes", None)
                json = _json_options(options)
                found.append(ModuleImport(literal, node.source.range[0], dynamic=True, json=json))
    return sorted(found, key=lambda i: i.offset)


def resolve(
    imp: ModuleImport,
    importer: str,
    tree: str,
    files: frozenset[str],
    importmap: Mapping[str, str],
) -> Resolved:
    """Resolve an import of `importer` (a root-relative path inside `tree`, the tree's source).

    `files` holds every root-relative module (and JSON) file of every tree; `importmap` maps
    specifiers to root-relative files (keys ending in `/` to directories ending in `/`).
    """
    spec = imp.specifier
    if _URL.match(spec):
        return Resolved(None)
    if spec.startswith("/"):
        return Resolved(
            None,
            f'"{spec}" starts with "/": it would load from the site root, not from this version; '
            "use a relative path or an [importmap] name",
        )
    if spec.startswith(("./", "../")) or spec in (".", ".."):
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
        if not (joined + "/").startswith(tree + "/"):
            return Resolved(None, f'"{spec}" leaves the module tree {tree}/ (it names {joined})')
        return _existing(imp, joined, files, f'"{spec}"')
    target = importmap.get(spec)
    if target is None:
        prefixes = [key for key in importmap if key.endswith("/") and spec.startswith(key)]
        if prefixes:
            key = max(prefixes, key=len)
            target = importmap[key] + spec[len(key) :]
    if target is None:
        close = difflib.get_close_matches(spec, list(importmap), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return Resolved(None, f'"{spec}" is a bare specifier without an [importmap] entry{hint}')
    return _existing(imp, posixpath.normpath(target), files, f'"{spec}" (mapped to {target})')


def _existing(imp: ModuleImport, path: str, files: frozenset[str], shown: str) -> Resolved:
    if path not in files:
        directory = posixpath.dirname(path)
        near = [posixpath.basename(f) for f in files if posixpath.dirname(f) == directory]
        close = difflib.get_close_matches(posixpath.basename(path), sorted(near), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return Resolved(None, f"{shown}: no module {path}{hint}")
    is_json = path.endswith(".json")
    if is_json and not imp.json:
        return Resolved(None, f'{shown}: a JSON file is imported with {{ type: "json" }}')
    if imp.json and not is_json:
        return Resolved(None, f'{shown}: imported with {{ type: "json" }} but {path} is a module')
    return Resolved(path)


def _nodes(root: Any) -> Iterator[Any]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for key, value in node.__dict__.items():
            if key.startswith("_") or key in ("range", "loc"):
                continue
            if isinstance(value, list):
                stack.extend(item for item in reversed(value) if _is_node(item))
            elif _is_node(value):
                stack.append(value)


def _is_node(value: object) -> bool:
    return hasattr(value, "__dict__") and isinstance(value.__dict__.get("type"), str)


def _literal(node: Any) -> str | None:
    if node.type == "Literal" and isinstance(node.value, str):
        return str(node.value)
    if node.type == "TemplateLiteral" and not node.expressions and len(node.quasis) == 1:
        cooked = node.quasis[0].value.cooked
        return cooked if isinstance(cooked, str) else None
    return None


def _json_attribute(attributes: Any) -> bool:
    for attribute in attributes or ():
        key = attribute.key
        name = key.name if key.type == "Identifier" else key.value
        if name == "type" and attribute.value.value == "json":
            return True
    return False


def _json_options(options: Any) -> bool:
    """`import("./x.json", { with: { type: "json" } })`."""
    if options is None or options.type != "ObjectExpression":
        return False
    for prop in options.properties:
        key = getattr(prop, "key", None)
        name = getattr(key, "name", None) or getattr(key, "value", None)
        if name == "with" and getattr(prop.value, "type", "") == "ObjectExpression":
            for inner in prop.value.properties:
                inner_key = getattr(inner, "key", None)
                inner_name = getattr(inner_key, "name", None) or getattr(inner_key, "value", None)
                if inner_name == "type" and getattr(inner.value, "value", None) == "json":
                    return True
    return False
