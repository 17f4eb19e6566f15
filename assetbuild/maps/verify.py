"""Proof before install: a rendered map is read back and checked against the bundle and sources.

Each mapping must point inside the generated line and inside its source's text, and at every
token whose text can be checked (one of the file itself, not substituted) the source holds the
same text as the bundle. A map that fails is a bug: the bundle ships without it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from assetbuild.maps.text import LineIndex, breaks_for
from assetbuild.maps.vlq import VlqError, decode_mappings

if TYPE_CHECKING:
    from assetbuild.maps.build import BundleMap


class MapProblem(Exception):
    """What is wrong with a map."""


def verify(kind: str, bundle: str, rendered: bytes, made: BundleMap) -> None:
    """Raise MapProblem unless `rendered` (the JSON of `made`) is a true map of `bundle`."""
    breaks = breaks_for(kind)
    try:
        data: dict[str, Any] = json.loads(rendered)
        lines = decode_mappings(data["mappings"])
    except (ValueError, KeyError, VlqError) as exc:
        raise MapProblem(f"the map does not read back ({exc})") from None
    contents = data.get("sourcesContent") or []
    if len(data.get("sources", ())) != len(contents):
        raise MapProblem("sources and sourcesContent differ in length")
    out = LineIndex(bundle, breaks)
    if len(lines) > out.line_count:
        raise MapProblem("more mapped lines than the bundle has")
    indexes: dict[int, LineIndex] = {}
    at: dict[tuple[int, int], tuple[int, int, int]] = {}
    for gen_line, segments in enumerate(lines):
        for seg in segments:
            if out.offset(gen_line, seg[0]) is None:
                raise MapProblem(f"a mapping at {gen_line + 1}:{seg[0]} is outside the bundle")
            if len(seg) < 4:
                continue
            source, line, column = seg[1], seg[2], seg[3]
            if not 0 <= source < len(contents):
                raise MapProblem(f"a mapping names source {source}, which the map has not")
            text = contents[source]
            if text is None:
                continue
            index = indexes.get(source)
            if index is None:
                index = indexes[source] = LineIndex(text, breaks)
            if index.offset(line, column) is None:
                raise MapProblem(
                    f"a mapping points outside {data['sources'][source]} ({line + 1}:{column})"
                )
            at[gen_line, seg[0]] = (source, line, column)
    checks = made.checks
    for i in range(0, len(checks), 3):
        gen_line, gen_col, length = checks[i : i + 3]
        found = at.get((gen_line, gen_col))
        start = out.offset(gen_line, gen_col)
        if found is None or start is None:
            raise MapProblem(f"the token at {gen_line + 1}:{gen_col} has no mapping")
        source, line, column = found
        src_start = indexes[source].offset(line, column)
        token = bundle[start : start + length]
        text = contents[source]
        assert src_start is not None and text is not None
        if text[src_start : src_start + length] != token and not _same_css(
            kind, text, src_start, token
        ):
            raise MapProblem(
                f"the token {token[:40]!r} at {gen_line + 1}:{gen_col} maps to "
                f"{text[src_start : src_start + length][:40]!r} in {data['sources'][source]}"
            )


def _same_css(kind: str, text: str, start: int, token: str) -> bool:
    if kind != "css":
        return False
    from assetbuild.css.walk import preprocess

    want = preprocess(token)
    return preprocess(text[start : start + len(token) + token.count("\n")]).startswith(want)
