"""One file's map: its output tokens paired in order with the tokens of the text it was made from.

Nothing here knows how the minifier works: it reads the text the minifier was given and the text
it returned. Both are tokenized (JavaScript by acorn in V8, else esprima; CSS by `css/tokens`),
and each output token is paired with the next input token of the same text. Every path (rjsmin,
the safe minifier, rcssmin, no minification) keeps the tokens in order and drops only what the
pairing may skip; an output token that finds no partner means no map (never a wrong one).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assetbuild.maps.text import LineIndex, breaks_for
from assetbuild.maps.vlq import encode_mappings
from assetbuild.sources import SourceFile

# One mapping of a file's output, while it is made: generated line and UTF-16 column (relative to
# the file's own output), the source (0: the file itself; more from its input map), that source's
# line and column, and the token's length in code points when its text can be checked at the source
# (0 when not: a substituted `{$name}`, a rewritten url(), a position in another source).
Mapping = list[int]


@dataclass(frozen=True)
class FileMap:
    """One file's map, encoded and proven: its `mappings` (VLQ, lines relative to the file's
    output, sources numbered from 0, every delta from a zero state) and the sources they name.

    `sources` are absolute paths (or URLs a vendor's map named); `contents` their texts; `vendor`
    the indexes of sources that came from an input map (ignored by devtools). `first` and `last` are
    the first and last mapping (generated line, column, source, line, column), or () when there is
    none: what joining needs to re-encode the first one against the mappings before it.
    """

    mappings: str
    sources: tuple[str, ...]
    contents: tuple[str | None, ...]
    vendor: tuple[int, ...] = ()
    first: tuple[int, ...] = ()
    last: tuple[int, ...] = ()


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
    starts = toks.starts
    skip = (WS, COMMENT)
    if "\r\n" not in text:  # offsets into the preprocessed text are offsets into `text`
        ends = starts[1 : len(toks.infos) + 1]  # each token ends where the next starts
        pairs = zip(starts[: len(ends)], ends, toks.infos, strict=True)
        return [(s, e) for s, e, info in pairs if info[0] not in skip]
    to_text = text_offsets(text)
    return [
        (to_text(starts[i]), to_text(starts[i + 1]))
        for i, info in enumerate(toks.infos)
        if info[0] not in skip
    ]


def _same(kind: str, a: str, b: str) -> bool:
    if a == b:
        return True
    if kind == "css":  # compared as CSS reads them: CR LF, CR and form feed are one newline
        from assetbuild.css.walk import preprocess

        return preprocess(a) == preprocess(b)
    return False


_GAP = re.compile(r"(?:[\s\ufeff]++|/\*.*?\*/|//[^\n\r\u2028\u2029]*+)*+", re.S)


def pair(kind: str, input_text: str, output_text: str) -> list[tuple[int, int, int]]:
    """(output start, input start, length) of every output token, paired in order."""
    ins = tokens(kind, input_text)
    if output_text == input_text or (kind == "js" and input_text.startswith(output_text)):
        # Unminified (a trailing map comment may be gone): every token where it was.
        return [(start, start, end - start) for start, end in ins if end <= len(output_text)]
    if kind == "js":
        return _pair_js(ins, input_text, output_text)
    outs = tokens(kind, output_text)
    pairs: list[tuple[int, int, int]] = []
    at = 0
    for start, end in outs:
        token = output_text[start:end]
        while at < len(ins):
            in_start, in_end = ins[at]
            at += 1
            text = input_text[in_start:in_end]
            if text == token or _same(kind, text, token):
                pairs.append((start, in_start, end - start))
                break
        else:
            raise NoMap(f"output token {token[:40]!r} has no partner in the input")
    return pairs


def _pair_js(
    ins: list[tuple[int, int]], input_text: str, output_text: str
) -> list[tuple[int, int, int]]:
    """JavaScript minifiers keep every token and its spelling, only whitespace and comments
    between them change: each input token is found, in order, past the gap before it."""
    pairs: list[tuple[int, int, int]] = []
    gap = _GAP.match
    at = 0
    if output_text.startswith("#!"):  # a hashbang line: not a token, kept as it is
        found_break = re.search("[\n\r\u2028\u2029]", output_text)
        at = found_break.start() if found_break else len(output_text)
    for start, end in ins:
        token = input_text[start:end]
        found = gap(output_text, at)
        at = found.end() if found else at
        if not output_text.startswith(token, at):
            raise NoMap(f"token {token[:40]!r} is not next in the minified output")
        pairs.append((at, start, end - start))
        at += end - start
    if gap(output_text, at).end() != len(output_text):  # type: ignore[union-attr]
        raise NoMap("the minified output has more than the input's tokens")
    return pairs


def mappings(
    kind: str,
    src: SourceFile,
    input_text: str,
    output_text: str,
    *,
    shift: int = 0,
) -> list[Mapping]:
    """The mappings of `output_text`, made from `input_text` (at `shift` code points into `src.text`).

    Raises NoMap. Positions go back through the token substitutions to `src.original`, the file
    as read (`compose.mapped_file` maps them on through the file's own input map).
    """
    breaks = breaks_for(kind)
    out_position = LineIndex(output_text, breaks).position_of()
    orig_position = LineIndex(src.original, breaks).position_of()
    original = src.original
    original_offset = src.original_offset if src.edits else None
    edit_starts = [e.start for e in src.edits]
    found: list[Mapping] = []
    for out_start, in_start, length in pair(kind, input_text, output_text):
        here = in_start + shift
        at = original_offset(here) if original_offset is not None else here
        token = output_text[out_start : out_start + length]
        if original.startswith(token, at) or _same(kind, original[at : at + length], token):
            checked = length
        elif _edited(src, edit_starts, here, here + length):
            checked = 0  # a substituted `{$name}` or a rewritten url(): mapped to where it was
        else:
            raise NoMap(f"token {token[:40]!r} is not at its place in the source")
        found.append([*out_position(out_start), 0, *orig_position(at), checked])
    return found


def encoded(
    found: Sequence[Mapping],
    sources: tuple[str, ...],
    contents: tuple[str | None, ...],
    vendor: tuple[int, ...] = (),
) -> FileMap:
    """The file's mappings as VLQ (in output order, one line after another)."""
    lines: list[list[tuple[int, ...]]] = []
    for gen_line, gen_col, source, line, column, _ in found:
        while len(lines) <= gen_line:
            lines.append([])
        lines[gen_line].append((gen_col, source, line, column))
    first = tuple(found[0][:5]) if found else ()
    last = tuple(found[-1][:5]) if found else ()
    return FileMap(encode_mappings(lines), sources, contents, vendor, first, last)


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
