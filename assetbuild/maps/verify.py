"""Proof before install: maps are read back and checked against the texts they describe.

`verify_file` (each file, where its map is made, so the content cache keeps the proven result):
the file's `mappings` decode to exactly the mappings intended, each points inside the file's output
and inside its source, and at every token of the file itself (outside substitutions and input
maps) the source holds the token's text at the mapped line and column.
`verify_joined` (each bundle): the rendered JSON reads back to the same `mappings`, sources and
contents, and at every place where a file's mappings were joined in, decoding the bundle's string
from the state before it gives that file's first mapping at its place in the bundle.
A map that fails is a bug: the bundle ships without it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from assetbuild.maps.text import LineIndex, breaks_for
from assetbuild.maps.vlq import VlqError, decode_mappings, decode_values

if TYPE_CHECKING:
    from assetbuild.maps.align import FileMap


class MapProblem(Exception):
    """What is wrong with a map."""


def verify_file(kind: str, output: str, fmap: FileMap, intended: Sequence[Sequence[int]]) -> None:
    """Raise MapProblem unless `fmap` is a true map of `output` (one file's)."""
    breaks = breaks_for(kind)
    try:
        lines = decode_mappings(fmap.mappings)
    except VlqError as exc:
        raise MapProblem(f"the map does not read back ({exc})") from None
    decoded = [(n, *seg) for n, line in enumerate(lines) for seg in line]
    if len(decoded) != len(intended):
        raise MapProblem(f"{len(decoded)} mappings read back, {len(intended)} were made")
    out = LineIndex(output, breaks)
    if len(lines) > out.line_count:
        raise MapProblem("more mapped lines than the output has")
    out_offset = out.offset_of()
    indexes: dict[int, Callable[[int, int], int | None]] = {}
    contents = fmap.contents
    for got, want in zip(decoded, intended, strict=True):
        if len(got) != 5 or list(got) != list(want[:5]):
            raise MapProblem(f"a mapping reads back as {got}, not {tuple(want[:5])}")
        gen_line, gen_col, source, line, column = got
        start = out_offset(gen_line, gen_col)
        if start is None:
            raise MapProblem(f"a mapping at {gen_line + 1}:{gen_col} is outside the output")
        if not 0 <= source < len(contents):
            raise MapProblem(f"a mapping names source {source}, which the map has not")
        text = contents[source]
        if text is None:
            continue
        offset_in = indexes.get(source)
        if offset_in is None:
            offset_in = indexes[source] = LineIndex(text, breaks).offset_of()
        at = offset_in(line, column)
        if at is None:
            raise MapProblem(
                f"a mapping points outside {fmap.sources[source]} ({line + 1}:{column})"
            )
        length = want[5]
        if length and not _same(kind, text, at, output[start : start + length]):
            raise MapProblem(
                f"the token {output[start : start + length][:40]!r} at {gen_line + 1}:{gen_col} "
                f"maps to {text[at : at + length][:40]!r} in {fmap.sources[source]}"
            )


def _same(kind: str, text: str, at: int, token: str) -> bool:
    if text.startswith(token, at):
        return True
    if kind != "css":
        return False
    from assetbuild.css.walk import preprocess

    return preprocess(text[at : at + len(token) + token.count("\n")]).startswith(preprocess(token))


def verify_joined(
    rendered: bytes,
    mappings: str,
    contents: Sequence[str | None],
    joins: Sequence[tuple[int, tuple[int, int, int, int], tuple[int, int, int, int, int]]],
) -> None:
    """Raise MapProblem unless the rendered map holds `mappings` and `contents`, and each join
    (offset into `mappings`, decoder state before it (column, source, line, column), the file's
    first mapping as it must read) decodes to that mapping on the right generated line."""
    try:
        data: dict[str, Any] = json.loads(rendered)
    except ValueError as exc:
        raise MapProblem(f"the map does not read back ({exc})") from None
    if data.get("version") != 3 or data.get("mappings") != mappings:
        raise MapProblem("the rendered map does not hold the mappings made")
    if data.get("sourcesContent") != list(contents) or len(data.get("sources", ())) != len(
        contents
    ):
        raise MapProblem("the rendered map's sources differ from those made")
    line, counted = 0, 0
    for offset, state, want in sorted(joins):
        line += mappings.count(";", counted, offset)
        counted = offset
        end = len(mappings)
        for stop in (",", ";"):
            found = mappings.find(stop, offset)
            if found >= 0:
                end = min(end, found)
        try:
            values = decode_values(mappings[offset:end])
        except VlqError as exc:
            raise MapProblem(f"a joined mapping does not read back ({exc})") from None
        if len(values) != 4:
            raise MapProblem("a joined mapping is not a mapping")
        got = [s + v for s, v in zip(state, values, strict=True)]
        if got != list(want[1:]) or line != want[0]:
            raise MapProblem(f"a joined mapping reads back as {line}:{got}, not {want}")
