"""Module manifest entries, the import map and its CSP hash, from built trees (issue 15)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from assetbuild.manifest import integrity
from assetbuild.modules.build import build_trees
from assetbuild.modules.config import ModuleSpec
from assetbuild.modules.importmap import (
    build_importmap,
    importmap_csp,
    importmap_json,
    importmap_tag,
    module_entries,
)

SiteFactory = Callable[..., Path]


def test_entries_and_importmap(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "js/modules/main.js": 'import { a } from "./lib/a.js";\nimport "pop";\nawait import("./lazy.js");\n',
            "js/modules/lib/a.js": 'import { b } from "./b.js";\nexport const a = b;\n',
            "js/modules/lib/b.js": "export const b = 1;\n",
            "js/modules/lazy.js": "export default 1;\n",
            "js/vendor/pop/index.js": "export default 1;\n",
        }
    )
    specs = [ModuleSpec("js/modules", "js/app"), ModuleSpec("js/vendor", "js/vendor")]
    pairs = (("pop", "js/vendor/pop/index.js"), ("lib/", "js/modules/lib/"))
    result = build_trees(site, specs, pairs, {})
    assert result.ok, result.diagnostics
    versions = {"js": 8}
    entries = module_entries(result.trees, versions, "https://s.example/")
    main = entries["js/app/main.js"]
    assert main["path"] == "js/8/app/main.js"
    assert main["url"] == "https://s.example/js/8/app/main.js"
    assert main["version"] == 8
    assert main["imports"] == ["js/app/lib/a.js", "js/app/lib/b.js", "js/vendor/pop/index.js"]
    text = next(m.text for t in result.trees for m in t.modules if m.name == "main.js")
    assert main["integrity"] == integrity(text.encode()) and main["size"] == len(text.encode())
    assert entries["js/app/lazy.js"]["imports"] == []
    importmap = build_importmap(result.trees, entries, pairs, versions, "https://s.example")
    assert importmap["imports"] == {
        "lib/": "https://s.example/js/8/app/lib/",
        "pop": "https://s.example/js/8/vendor/pop/index.js",
    }
    assert set(importmap["integrity"]) == {e["url"] for e in entries.values()}
    assert len(importmap["integrity"]) == 5
    # without static_url, URLs are /-rooted (a relative one would resolve against each page)
    bare = module_entries(result.trees, versions, None)
    assert bare["js/app/main.js"]["url"] == "/js/8/app/main.js"


def test_the_tag_and_its_csp_hash() -> None:
    importmap = {"imports": {"a": "/x.js"}, "integrity": {"/x.js": "sha384-abc"}}
    tag = importmap_tag(importmap)
    assert (
        tag
        == '<script type="importmap">{"imports":{"a":"/x.js"},"integrity":{"/x.js":"sha384-abc"}}</script>'
    )
    inner = tag.removeprefix('<script type="importmap">').removesuffix("</script>")
    expected = base64.b64encode(hashlib.sha256(inner.encode()).digest()).decode()
    assert importmap_csp(importmap) == "sha256-" + expected


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=5))
def test_the_embedded_json_never_ends_the_script_and_reads_back(imports: dict[str, str]) -> None:
    importmap = {"imports": imports, "integrity": {}}
    text = importmap_json(importmap)
    assert "<" not in text
    assert json.loads(text) == importmap
