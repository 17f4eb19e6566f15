"""Proof before install: maps are read back and checked against the texts they describe.

`verify_file` (each file, where its map is made, so the content cache keeps the proven result):
the file's `mappings` decode to exactly the mappings intended, each points inside the file's output
and inside its source, and at every token of the file itself (outside substitutions and input
maps) the source holds the token's text at the mapped line and column.
`verify_arrays` makes the same checks of a stylesheet's map made as arrays (`maps/styles.py`), each
one pass of a builtin over whole lists instead of a few Python objects per token.
`verify_joined` (each bundle): the rendered JSON reads back to the same `mappings`, sources and
contents, and at every place where a file's mappings were joined in, decoding the bundle's string
from the state before it gives that file's first mapping at its place in the bundle.
A map that fails is a bug: the bundle ships without it.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, pairwise, repeat
from operator import add, le
from typing import TYPE_CHECKING, Any

from assetbuild.maps.text import CSS_BREAKS, LineIndex, breaks_for
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


class _Segments(dict[str, tuple[int, ...]]):
    """A segment's VLQ text -> its numbers, each distinct text decoded once (by `decode_values`:
    a pure function, so the texts of one file serve the next; a few hundred cover a site)."""

    def __missing__(self, text: str) -> tuple[int, ...]:
        values = tuple(decode_values(text))
        if len(self) < 100_000:
            self[text] = values
        return values


_SEGMENTS = _Segments()


def verify_arrays(output: str, fmap: FileMap, made: Sequence[list[int]]) -> None:
    """Raise MapProblem unless `fmap`, a stylesheet's map of one source made as arrays
    (`maps/styles.py`), reads back as made and points where the making found each token.

    `made`: generated lines and columns, source lines and columns, and the offsets in the output
    and in the source that they were made from, where the making found each token's text (its
    tokens are the tokenizer's slices of the output, its partners found at those offsets in the
    source). So this proves what that did not: the `mappings` decode to exactly those positions,
    each position is inside its line of its text, and it is that offset (lines counted here, not
    by the making). `verify_file`'s checks, each one pass of a builtin over whole lists.
    """
    gen_lines, gen_cols, lines, cols, out_offsets, src_offsets = made
    texts = fmap.mappings.split(";")
    # Segments a generated line: its commas and one, none on an empty line.
    counts = list(map(add, map(str.count, texts, repeat(",")), map(bool, texts)))
    segments = ",".join(filter(None, texts)).split(",") if any(counts) else []
    got_lines = list(chain.from_iterable(map(repeat, range(len(texts)), counts)))
    try:
        values = list(map(_SEGMENTS.__getitem__, segments))
        columns = zip(*values, strict=True) if values else iter(((), (), (), ()))
        col_deltas, sources, line_deltas, src_col_deltas = columns
    except VlqError as exc:
        raise MapProblem(f"the map does not read back ({exc})") from None
    except ValueError:
        raise MapProblem("a segment of the map is not a mapping of one source") from None
    if any(sources):
        raise MapProblem("a mapping names a source the map has not")
    got_cols: list[int] = []  # a column counts from the start of its generated line
    firsts = list(accumulate(counts, initial=0))
    for start, end in pairwise(firsts):
        if end > start:
            got_cols += accumulate(col_deltas[start:end])
    got = [got_lines, got_cols, list(accumulate(line_deltas)), list(accumulate(src_col_deltas))]
    if got != [gen_lines, gen_cols, lines, cols]:
        raise MapProblem(f"{len(values)} mappings read back, not the {len(gen_lines)} made")
    out = LineIndex(output, CSS_BREAKS)
    if len(texts) > out.line_count:
        raise MapProblem("more mapped lines than the output has")
    if _offsets(out, gen_lines, gen_cols) != out_offsets:
        raise MapProblem("a mapping is not where its token is in the output")
    original = fmap.contents[0]
    if original is None or _offsets(LineIndex(original, CSS_BREAKS), lines, cols) != src_offsets:
        raise MapProblem(f"a mapping is not where its token is in {fmap.sources[0]}")


def _offsets(index: LineIndex, lines: list[int], cols: list[int]) -> list[int] | None:
    """The offset of each (line, UTF-16 column) of the indexed text; None if one is outside its
    line (or inside a character)."""
    if not lines:
        return []
    if min(lines) < 0 or max(lines) >= index.line_count or min(cols) < 0:
        return None
    if index.astral:
        found = list(map(index.offset, lines, cols))
        return None if None in found else found  # type: ignore[return-value]
    starts = index.starts
    ends = [*starts[1:], len(index.text)]
    if (lines[-1] - lines[0] + 1) * 16 < len(lines) and lines == sorted(lines):
        # Few lines (a minified output): each line's columns at once.
        at: list[int] = []
        for line in range(lines[0], lines[-1] + 1):
            low, high = bisect.bisect_left(lines, line), bisect.bisect_right(lines, line)
            if low < high:
                if max(cols[low:high]) > ends[line] - starts[line]:
                    return None
                at += map(add, cols[low:high], repeat(starts[line]))
        return at
    at = list(map(add, map(starts.__getitem__, lines), cols))
    return at if all(map(le, at, map(ends.__getitem__, lines))) else None


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
