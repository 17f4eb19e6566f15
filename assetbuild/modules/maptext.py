"""The import map's exact text, as every template helper emits it, and its CSP hash.

The install (`modules.importmap`) records the hash of this text as `importmap_csp`; Python's
`Manifest` (and so Jinja2 and Django) emits this text, and PHP's `assetbuild.php` writes the same
bytes by the same rules. Inputs layer, beside `modules.config`: the manifest reader imports it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# An import map is {"imports": {...}, "integrity": {...}, "scopes": {scope: {...}}}: objects
# nested at most this deep, holding strings.
_IMPORTMAP_DEPTH = 3


def importmap_problem(value: object, depth: int = 0) -> str | None:
    """Why `value` is not an import map the helpers can embed (None: it is one).

    Only objects (at most three deep) and strings: what `importmap_text` writes the same way in
    every language. A lone surrogate (`"\\ud800"` in JSON) has no UTF-8 form to hash.
    """
    if isinstance(value, str):
        if depth == 0:
            return "not an object"
        return "a lone surrogate in a string" if _LONE_SURROGATE.search(value) else None
    if not isinstance(value, dict) or depth >= _IMPORTMAP_DEPTH:
        return f"a {type(value).__name__} where an object or a string belongs"
    for key, item in value.items():
        if _LONE_SURROGATE.search(key):
            return "a lone surrogate in a key"
        problem = importmap_problem(item, depth + 1)
        if problem is not None:
            return problem
    return None


def importmap_text(importmap: Mapping[str, object]) -> str:
    """The exact text inside `<script type="importmap">`: compact JSON, keys sorted by code point,
    non-ASCII as it is, and `<` escaped (`\\u003c`) so no `</script>` or `<!--` can end or change
    the element."""
    text = json.dumps(importmap, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c")


def text_hash(text: str) -> str:
    """A Content-Security-Policy hash source of an inline script's text, without its quotes:
    `sha256-<base64>` (a policy names it as `'sha256-...'`)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
