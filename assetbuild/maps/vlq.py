"""Base64 VLQ, and the `mappings` string of a flat source map in both directions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_VALUES = {c: i for i, c in enumerate(_DIGITS)}
# Small values are nearly all of a map's numbers: their encodings once, looked up after.
_SMALL = 1 << 12


class VlqError(ValueError):
    """A `mappings` string that is not valid Base64 VLQ."""


def encode(value: int) -> str:
    """One signed integer as Base64 VLQ (sign in the lowest bit, 5 bits per digit, least first)."""
    if -_SMALL < value < _SMALL:
        return _TABLE[value]
    return _encode(value)


def _encode(value: int) -> str:
    vlq = (-value << 1) | 1 if value < 0 else value << 1
    out = []
    while True:
        digit = vlq & 31
        vlq >>= 5
        if vlq:
            out.append(_DIGITS[digit | 32])
        else:
            out.append(_DIGITS[digit])
            return "".join(out)


_TABLE = {v: _encode(v) for v in range(-_SMALL + 1, _SMALL)}


def decode_values(text: str) -> list[int]:
    """Every integer of one segment's Base64 VLQ text."""
    values: list[int] = []
    shift = acc = 0
    for char in text:
        digit = _VALUES.get(char)
        if digit is None:
            raise VlqError(f"{char!r} is not a Base64 digit")
        acc |= (digit & 31) << shift
        if digit & 32:
            shift += 5
            if shift > 60:
                raise VlqError("a number too large for a source map")
            continue
        values.append(-(acc >> 1) if acc & 1 else acc >> 1)
        shift = acc = 0
    if shift:
        raise VlqError("the last number is cut short")
    return values


# A segment: (generated column,) maps to nothing; (generated column, source, line, column) is a
# mapping. Lines, columns and sources are 0-based; columns count UTF-16 code units.
Segment = tuple[int, ...]


def encode_mappings(lines: Sequence[Iterable[Segment]]) -> str:
    """The `mappings` string of a flat map, one list of segments per generated line."""
    out: list[str] = []
    source = src_line = src_col = 0
    encode_one = encode
    memo: dict[tuple[int, ...], str] = {}  # the same deltas recur: "CAAC" thousands of times
    for index, segments in enumerate(lines):
        if index:
            out.append(";")
        column = 0
        first = True
        for seg in segments:
            if not first:
                out.append(",")
            first = False
            if len(seg) >= 4:
                key = (seg[0] - column, seg[1] - source, seg[2] - src_line, seg[3] - src_col)
                text = memo.get(key)
                if text is None:
                    text = memo[key] = "".join(map(encode_one, key))
                out.append(text)
                source, src_line, src_col = seg[1], seg[2], seg[3]
            else:
                out.append(encode_one(seg[0] - column))
            column = seg[0]
    return "".join(out)


def decode_mappings(mappings: str) -> list[list[Segment]]:
    """The segments of each generated line, with absolute values; VlqError when malformed."""
    lines: list[list[Segment]] = []
    source = src_line = src_col = 0
    memo: dict[str, list[int]] = {}
    for line_text in mappings.split(";"):
        column = 0
        segments: list[Segment] = []
        if line_text:
            for seg_text in line_text.split(","):
                values = memo.get(seg_text)
                if values is None:
                    values = memo[seg_text] = decode_values(seg_text)
                    if len(values) not in (1, 4, 5):
                        raise VlqError(f"a segment of {len(values)} numbers")
                column += values[0]
                if len(values) == 1:
                    segments.append((column,))
                    continue
                source += values[1]
                src_line += values[2]
                src_col += values[3]
                segments.append((column, source, src_line, src_col))
        lines.append(segments)
    return lines
