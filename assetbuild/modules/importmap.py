"""Manifest entries of installed module trees, the import map a page embeds, and its CSP hash.

Pure functions of the built trees and the version each area installs into, so the install (and a
test) can call them with any versions. The import map is `{"imports": {specifier: URL},
"integrity": {URL: "sha384-..."}}` with an integrity value for every module URL of the trees: a
module reached only by a relative import is checked by the browser too. URLs are `static_url` joined
with the installed path, or the path under `/` when there is no `static_url` (an import map's relative
URL would resolve against each page's own URL).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from assetbuild.manifest import integrity, map_entry
from assetbuild.modules.build import BuiltTree, static_closure
from assetbuild.modules.maptext import importmap_text, text_hash


def module_url(static_url: str | None, path: str) -> str:
    return (static_url.rstrip("/") if static_url else "") + "/" + path


def _version(
    tree: BuiltTree, versions: Mapping[str, int], tree_versions: Mapping[str, int] | None
) -> int:
    """A tree's version: `tree_versions` by its output (the install's: one per tree), else its area's."""
    if tree_versions is not None and tree.spec.output in tree_versions:
        return tree_versions[tree.spec.output]
    return versions[tree.spec.area]


def module_entries(
    trees: Sequence[BuiltTree],
    versions: Mapping[str, int],
    static_url: str | None,
    *,
    tree_versions: Mapping[str, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """One manifest entry per module, keyed `<output>/<name>` (`js/app/lib/a.js`)."""
    closure = static_closure(trees)
    names = {m.path: t.spec.key(m.name) for t in trees for m in t.modules}
    entries: dict[str, dict[str, Any]] = {}
    for tree in trees:
        version = _version(tree, versions, tree_versions)
        for module in tree.modules:
            path = posixpath.join(tree.spec.area, str(version), tree.spec.name, module.name)
            data = module.text.encode("utf-8")
            entries[names[module.path]] = {
                "path": path,
                "url": module_url(static_url, path),
                "version": version,
                "size": len(data),
                "integrity": integrity(data),
                "imports": [names[p] for p in closure[module.path] if p in names],
            }
    return dict(sorted(entries.items()))


def build_importmap(
    trees: Sequence[BuiltTree],
    entries: Mapping[str, Mapping[str, Any]],
    pairs: Sequence[tuple[str, str]],
    versions: Mapping[str, int],
    static_url: str | None,
    *,
    tree_versions: Mapping[str, int] | None = None,
) -> dict[str, dict[str, str]]:
    """The import map: every `[importmap]` specifier's URL, and every module URL's integrity."""
    imports: dict[str, str] = {}
    for specifier, target in pairs:
        tree = next(t for t in trees if (target + "/").startswith(t.spec.source + "/"))
        below = target[len(tree.spec.source) + 1 :]
        version = _version(tree, versions, tree_versions)
        path = posixpath.join(tree.spec.area, str(version), tree.spec.name, below)
        imports[specifier] = module_url(static_url, path)  # a directory's keeps its "/"
    found = {entry["url"]: entry["integrity"] for entry in entries.values()}
    return {"imports": dict(sorted(imports.items())), "integrity": dict(sorted(found.items()))}


def module_fields(
    trees: Sequence[BuiltTree],
    pairs: Sequence[tuple[str, str]],
    static_url: str | None,
    tree_versions: Mapping[str, int],
    variants: Mapping[str, Mapping[str, int]],
    maps: Mapping[str, int],
) -> dict[str, Any]:
    """The manifest's module fields: an entry per module (in its tree's one version, with its
    variants' sizes by suffix and its map's size), the import map, and the CSP hash of its text.

    One function for every install (local or into a target): the same build gives the same fields.
    """
    entries = module_entries(trees, {}, static_url, tree_versions=tree_versions)
    for name, entry in entries.items():
        entry["variants"] = {
            suffix.lstrip("."): {"path": entry["path"] + suffix, "size": size}
            for suffix, size in sorted(variants.get(name, {}).items())
        }
        if name in maps:  # a module's map, installed beside it
            entry["map"] = map_entry(entry["path"] + ".map", maps[name], None)
            entry["map"]["url"] = entry["url"] + ".map"
    importmap = build_importmap(trees, entries, pairs, {}, static_url, tree_versions=tree_versions)
    return {"modules": entries, "importmap": importmap, "importmap_csp": importmap_csp(importmap)}


def importmap_json(importmap: Mapping[str, Any]) -> str:
    """The exact text inside `<script type="importmap">` (`maptext.importmap_text`: the helpers
    emit the same)."""
    return importmap_text(importmap)


def importmap_tag(importmap: Mapping[str, Any]) -> str:
    return f'<script type="importmap">{importmap_text(importmap)}</script>'


def importmap_csp(importmap: Mapping[str, Any]) -> str:
    """The Content-Security-Policy source (`sha256-...` without quotes) of the emitted tag's text."""
    return text_hash(importmap_text(importmap))
