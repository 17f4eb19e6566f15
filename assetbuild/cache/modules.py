"""The analysis of ES module texts (imports found, minified text) kept in the content cache.

A one-edit install of a site with a module tree checks and minifies only the edited module: every
other text is a hit, in memory (watch) or on disk (signed entries, as the bundles' files). The key is
the text after substitution, whether it is minified, the environment (versions, engine, the result
code) and the bytes of the module code itself (`modules/build.py`, `modules/imports.py`).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from assetbuild.cache.content import ContentCache, entry_key
from assetbuild.cache.fingerprint import PACKAGE_DIR
from assetbuild.modules.build import Analysed
from assetbuild.modules.imports import ModuleImport

NAMESPACE = "module"
FORMAT = 1


@functools.lru_cache(maxsize=1)
def _module_code() -> str:
    digest = hashlib.sha256()
    for name in ("modules/build.py", "modules/imports.py", "js/check.py", "js/safe.py"):
        try:
            digest.update(name.encode() + b"\0" + (PACKAGE_DIR / name).read_bytes() + b"\0")
        except OSError:
            digest.update(name.encode() + b"\0unreadable\0")
    return digest.hexdigest()


class CachedModules:
    """`modules.build.ModuleMemo` over a run's content cache (its memory layer included)."""

    def __init__(self, cache: ContentCache) -> None:
        self.cache = cache

    def _key(self, text: str, minify: bool) -> str:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return entry_key(NAMESPACE, FORMAT, _module_code(), minify, digest)

    def get(self, text: str, minify: bool) -> Analysed | None:
        key = self._key(text, minify)
        hit = self.cache.recall(key)
        if isinstance(hit, Analysed):
            return hit
        entry = self.cache.get_raw(NAMESPACE, key)
        if entry is None:
            return None
        analysed = _decode(*entry)
        if analysed is not None:
            self.cache.remember(key, analysed, len(analysed.text))
        return analysed

    def put(self, text: str, minify: bool, analysed: Analysed) -> None:
        key = self._key(text, minify)
        meta = {
            "method": analysed.method,
            "imports": [[i.specifier, i.offset, i.dynamic, i.json] for i in analysed.imports],
        }
        self.cache.put_raw(NAMESPACE, key, meta, [analysed.text.encode("utf-8", "surrogatepass")])
        self.cache.remember(key, analysed, len(analysed.text))


def _decode(meta: Any, blobs: tuple[bytes, ...]) -> Analysed | None:
    """An entry's analysis, or None when it is not one this code wrote."""
    try:
        (blob,) = blobs
        imports = tuple(
            ModuleImport(str(spec), int(offset), bool(dynamic), bool(json))
            for spec, offset, dynamic, json in meta["imports"]
        )
        return Analysed(imports, blob.decode("utf-8", "surrogatepass"), str(meta["method"]))
    except (KeyError, TypeError, ValueError):
        return None
