"""Stylesheets' maps made from offset arrays: the tokens the check already made, a few C loops a file.

`align.mappings`, `align.encoded` and `verify.verify_file` cost a few Python objects per token (a
200-file site has ~200,000 CSS tokens: about a second). Here each step is one pass of a builtin
over whole lists: the tokens come from `css/tokens.tokenize`'s memo (the check and the minifier
tokenized both texts already), the output tokens are paired with the input's by `list.index`, and
positions, deltas and VLQ text are made with `map` over the offsets. The result is the same
`FileMap`, byte for byte (tests/test_maps_styles.py compares the two on real libraries and on random
stylesheets), proven by `verify.verify_arrays`. A file this path does not map (an input map to
compose, a token that is not at its place, a proof that fails) is None: the caller takes the
Python path, `compose.mapped_file`, which composes input maps and says why a map cannot be made.
"""

from __future__ import annotations

import bisect
import functools
from itertools import chain, compress, repeat
from operator import add, not_, sub

from assetbuild.maps.align import FileMap, _edited, _same
from assetbuild.maps.compose import find_url
from assetbuild.maps.text import CSS_BREAKS, LineIndex
from assetbuild.maps.vlq import encode
from assetbuild.sources import SourceFile

# Token classes left out of a map: whitespace and comments (`css/tokens` WS, COMMENT).
_MAPPED = bytes(0 if code in (0, 1) else 1 for code in range(256))


class _Encoded(dict[tuple[int, int, int], str]):
    """(column, line, column) deltas -> a segment's VLQ text (source delta 0: one source)."""

    def __missing__(self, key: tuple[int, int, int]) -> str:
        text = self[key] = encode(key[0]) + "A" + encode(key[1]) + encode(key[2])
        return text


_SEGMENTS = _Encoded()


def style_map(src: SourceFile, input_text: str, output: str) -> FileMap | None:
    """The stylesheet's proven map, the one `compose.mapped_file` makes; None where not made."""
    from assetbuild.maps.verify import MapProblem, verify_arrays

    if find_url(src.original) is not None:
        return None  # an input map to compose: the Python path
    made = _arrays(src, input_text, output)
    if made is None:
        return None
    gen_lines, gen_cols, lines, cols, _, _ = made
    mappings = _encoded(gen_lines, gen_cols, lines, cols)
    first: tuple[int, ...] = ()
    last: tuple[int, ...] = ()
    if gen_cols:
        first = (gen_lines[0], gen_cols[0], 0, lines[0], cols[0])
        last = (gen_lines[-1], gen_cols[-1], 0, lines[-1], cols[-1])
    fmap = FileMap(mappings, (str(src.path),), (src.original,), (), first, last)
    try:
        verify_arrays(output, fmap, made)
    except MapProblem:
        return None
    return fmap


# Generated lines and columns, source lines and columns, and the offsets they were made from: in
# the output, and in the source, where the token's text was found.
Arrays = tuple[list[int], list[int], list[int], list[int], list[int], list[int]]


def _arrays(src: SourceFile, input_text: str, output: str) -> Arrays | None:
    """Every mapping as arrays, each token's text found at its place in the source; None if one
    is not there (outside substitutions)."""
    from assetbuild.css.tokens import text_offsets, tokenize
    from assetbuild.css.walk import preprocess

    ins = tokenize(preprocess(input_text))  # the check's, from the memo
    outs = ins if output == input_text else tokenize(preprocess(output))  # the minifier's
    keep = outs.codes.translate(_MAPPED)
    texts = list(compress(outs.toks, keep))
    out_starts = list(compress(outs.starts, keep))
    heres: list[int] | None = out_starts  # unminified: every token where it was
    if outs is not ins:
        heres = _paired(ins.toks, ins.starts, texts)
    if heres is None:
        return None
    if "\r\n" in input_text:  # offsets into the preprocessed texts are not offsets into the texts
        heres = list(map(text_offsets(input_text), heres))
    if "\r\n" in output:
        out_starts = list(map(text_offsets(output), out_starts))
    if not _plain(output):  # each token's text as it is in the output
        ends = list(compress(outs.starts[1:], keep))
        if "\r\n" in output:
            ends = list(map(text_offsets(output), ends))
        texts = list(map(output.__getitem__, map(slice, out_starts, ends)))
    ats = _original_offsets(src, heres) if src.edits else heres
    original = src.original
    found = list(map(original.startswith, texts, ats))
    if not all(found):
        starts = [e.start for e in src.edits]
        for k in compress(range(len(found)), map(not_, found)):
            token, at = texts[k], ats[k]
            if _same("css", original[at : at + len(token)], token):
                continue
            if not _edited(src, starts, heres[k], heres[k] + len(token)):
                return None  # not at its place: the Python path says so
    gen_lines, gen_cols = _positions(LineIndex(output, CSS_BREAKS), out_starts)
    lines, cols = _positions(LineIndex(original, CSS_BREAKS), ats)
    return gen_lines, gen_cols, lines, cols, out_starts, ats


def _plain(text: str) -> bool:
    """Whether CSS preprocessing leaves `text` as it is (then token texts are its slices)."""
    return "\r" not in text and "\f" not in text and "\0" not in text


def _paired(toks: list[str], starts: list[int], texts: list[str]) -> list[int] | None:
    """Where each output token's partner starts: the next input token of the same text (what
    `align.pair` finds: a token of the same text is never whitespace or a comment)."""
    heres: list[int] = []
    append, find = heres.append, toks.index
    at = 0
    try:
        for token in texts:
            at = find(token, at)
            append(starts[at])
            at += 1
    except ValueError:
        return None
    return heres


def _original_offsets(src: SourceFile, offsets: list[int]) -> list[int]:
    """`src.original_offset` of each of the sorted `offsets`: a run from one edit to the next at a
    time (inside the edit: where it was; after it: moved by what it changed)."""
    edits = src.edits
    low = bisect.bisect_left(offsets, edits[0].start)
    ats = offsets[:low]
    for i, edit in enumerate(edits):
        high = len(offsets)
        if i + 1 < len(edits):
            high = bisect.bisect_left(offsets, edits[i + 1].start, low)
        inside = bisect.bisect_left(offsets, edit.end, low, high)
        ats.extend(repeat(edit.orig_start, inside - low))
        shift = edit.orig_end - edit.end
        ats.extend(map(add, offsets[inside:high], repeat(shift)) if shift else offsets[inside:high])
        low = high
    return ats


def _positions(index: LineIndex, offsets: list[int]) -> tuple[list[int], list[int]]:
    """(line, UTF-16 column) of each of the sorted `offsets`, as two lists: the offsets each line
    holds are found by bisection, a line at a time (fewer than the tokens)."""
    starts = index.starts
    if len(starts) == 1:
        lines = [0] * len(offsets)
        cols = list(offsets)
    else:
        ends = list(map(functools.partial(bisect.bisect_left, offsets), starts[1:]))
        counts = list(map(sub, [*ends, len(offsets)], [0, *ends]))
        lines = list(chain.from_iterable(map(repeat, range(len(starts)), counts)))
        cols = list(map(sub, offsets, chain.from_iterable(map(repeat, starts, counts))))
    if index.astral:
        units = functools.partial(bisect.bisect_left, index.astral)
        line_units = map(units, map(starts.__getitem__, lines))
        cols = list(map(add, cols, map(sub, map(units, offsets), line_units)))
    return lines, cols


def _encoded(gen_lines: list[int], gen_cols: list[int], lines: list[int], cols: list[int]) -> str:
    """`vlq.encode_mappings` of these mappings (one source): one builtin pass a step, and one
    join a generated line (a minified stylesheet has one, or a few after a license comment)."""
    count = len(gen_lines)
    if not count:
        return ""
    encodings = _SEGMENTS if len(_SEGMENTS) < 100_000 else _Encoded()  # bounded
    col_deltas = [gen_cols[0], *map(sub, gen_cols[1:], gen_cols)]
    firsts = list(compress(range(1, count), map(sub, gen_lines[1:], gen_lines)))
    for k in firsts:  # the first column of a generated line counts from zero
        col_deltas[k] = gen_cols[k]
    line_deltas = chain((lines[0],), map(sub, lines[1:], lines))
    src_col_deltas = chain((cols[0],), map(sub, cols[1:], cols))
    deltas = zip(col_deltas, line_deltas, src_col_deltas, strict=True)
    segments = list(map(encodings.__getitem__, deltas))
    pieces = [";" * gen_lines[0]]
    done = 0
    for k in firsts:
        pieces += (",".join(segments[done:k]), ";" * (gen_lines[k] - gen_lines[done]))
        done = k
    pieces.append(",".join(segments[done:]))
    return "".join(pieces)
