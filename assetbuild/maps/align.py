"""One file's map: its output tokens paired in order with the tokens of the text it was made from.

Nothing here knows how the minifier works: it reads the text the minifier was given and the text
it returned. Both are tokenized (JavaScript by acorn in V8, else esprima; CSS by `css/tokens`),
and each output token is paired with the next input token of the same text. Every path (rjsmin,
the safe minifier, rcssmin, no minification) keeps the tokens in order and drops only what the
pairing may skip; an output token that finds no partner means no map (never a wrong one).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from assetbuild.maps.text import LineIndex, breaks_for
from assetbuild.sources import SourceFile

# One mapping of a file's output: generated line and UTF-16 column (relative to the file's own
# output), the source (0: the file itself; more from its input map), that source's line and column,
# and the token's length in code points when its text can be checked at the source (0 when not: a
# substituted `{$name}`, a rewritten url(), a position in another source).
FIELDS = 6


@dataclass(frozen=True)
class FileMap:
    """The mappings of one file's output, and the sources they point into.

    `sources` are absolute paths (or URLs a vendor's map named); `contents` their texts; `vendor`
    the indexes of sources that came from an input map (ignored by devtools).
    """

    segments: tuple[int, ...]  # FIELDS ints per mapping, in output order
    sources: tuple[str, ...]
    contents: tuple[str | None, ...]
    vendor: tuple[int, ...] = ()
    out_lines: int = 1  # lines of the file's output


class NoMap(Exception):
    """Why one file has no map (a warning; the bundle ships without a map)."""


def tokens(kind: str, text: str) -> list[tuple[int, int]]:
    """(start, end) of each token of `text` (comments and whitespace left out), in order."""
    if kind == "css":
        return _css_tokens(text)
    return _js_tokens(text)


def _js_tokens(text: str) -> list[tuple[int, int]]:
    from assetbuild.js.check import engine_name

    found: list[tuple[str, int, int]] | None = None
    if engine_name() == "v8":
        from assetbuild.js import engine

        found = engine.script_tokens(text)
    if found is None:
        from assetbuild.js.safe import pieces_of

        pieces = pieces_of(text)
        if pieces is None:
            raise NoMap("its JavaScript could not be tokenized")
        found = [(p.kind, p.start, p.end) for p in pieces]
    return [(start, end) for kind, start, end in found if not kind.endswith("Comment")]


def _css_tokens(text: str) -> list[tuple[int, int]]:
    from assetbuild.css.tokens import COMMENT, WS, text_offsets, tokenize
    from assetbuild.css.walk import preprocess

    toks = tokenize(preprocess(text))
    to_text = text_offsets(text)
    starts = toks.starts
    return [
        (to_text(starts[i]), to_text(starts[i + 1]))
        for i, info in enumerate(toks.infos)
        if info[0] not in (WS, COMMENT)
    ]


def _same(kind: str, a: str, b: str) -> bool:
    if a == b:
        return True
    if kind == "css":  # compared as CSS reads them: CR LF, CR and form feed are one newline
        from assetbuild.css.walk import preprocess

        return preprocess(a) == preprocess(b)
    return False


def pair(kind: str, input_text: str, output_text: str) -> list[tuple[int, int, int]]:
    """(output start, input start, length) of every output token, paired in order."""
    ins, outs = tokens(kind, input_text), tokens(kind, output_text)
    pairs: list[tuple[int, int, int]] = []
    at = 0
    for start, end in outs:
        token = output_text[start:end]
        while at < len(ins):
            in_start, in_end = ins[at]
            at += 1
            if _same(kind, input_text[in_start:in_end], token):
                pairs.append((start, in_start, end - start))
                break
            if kind == "js":  # JavaScript minifiers drop no token: no skipping
                raise NoMap(f"output token {token[:40]!r} does not follow the input's order")
        else:
            raise NoMap(f"output token {token[:40]!r} has no partner in the input")
    return pairs


def file_map(
    kind: str,
    src: SourceFile,
    input_text: str,
    output_text: str,
    *,
    shift: int = 0,
) -> FileMap:
    """The map of `output_text`, made from `input_text` (at `shift` code points into `src.text`).

    Raises NoMap. Positions go back through the token substitutions to `src.original`, the file
    as read (`compose.mapped_file` maps them on through the file's own input map).
    """
    breaks = breaks_for(kind)
    out_index = LineIndex(output_text, breaks)
    orig_index = LineIndex(src.original, breaks)
    original = src.original
    edit_starts = [e.start for e in src.edits]
    segments: list[int] = []
    for out_start, in_start, length in pair(kind, input_text, output_text):
        at = src.original_offset(in_start + shift)
        token = output_text[out_start : out_start + length]
        if original.startswith(token, at) or _same(kind, original[at : at + length], token):
            checked = length
        elif _edited(src, edit_starts, in_start + shift, in_start + shift + length):
            checked = 0  # a substituted `{$name}` or a rewritten url(): mapped to where it was
        else:
            raise NoMap(f"token {token[:40]!r} is not at its place in the source")
        line, column = out_index.position(out_start)
        src_line, src_col = orig_index.position(at)
        segments += (line, column, 0, src_line, src_col, checked)
    return FileMap(tuple(segments), (str(src.path),), (original,), (), out_index.line_count)


def _edited(src: SourceFile, starts: list[int], start: int, end: int) -> bool:
    """Whether text[start:end] overlaps a substitution (or a rewritten url())."""
    i = bisect.bisect_right(starts, max(start, end - 1)) - 1
    while i >= 0:
        edit = src.edits[i]
        if edit.end > start or (edit.start == edit.end == start):
            return True
        if edit.end <= start:
            return False
        i -= 1
    return False


def shifted(segments: Sequence[int], line: int, column: int, source: int) -> list[int]:
    """Segments moved to start at (line, column) of a bundle, their sources numbered from `source`."""
    out = list(segments)
    for i in range(0, len(out), FIELDS):
        if out[i] == 0:
            out[i + 1] += column
        out[i] += line
        out[i + 2] += source
    return out
