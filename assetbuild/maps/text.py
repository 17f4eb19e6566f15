"""Lines and UTF-16 columns of a text, for many offsets: what a source map counts in."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable

# What ends a line: JavaScript's LineTerminatorSequence (CR LF is one), and for CSS its own
# newlines (CR LF, CR, LF and form feed, as CSS preprocessing reads them).
JS_BREAKS = re.compile("\r\n|[\n\r\u2028\u2029]")
CSS_BREAKS = re.compile("\r\n|[\n\r\f]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def breaks_for(kind: str) -> re.Pattern[str]:
    return JS_BREAKS if kind == "js" else CSS_BREAKS


def _only_lf(text: str, breaks: re.Pattern[str]) -> bool:
    """Whether LF is the only character of `text` that `breaks` (JS_BREAKS, CSS_BREAKS) ends a
    line at (CR is tested by the caller)."""
    others = (
        ("\u2028", "\u2029") if breaks is JS_BREAKS else ("\f",) if breaks is CSS_BREAKS else None
    )
    return others is not None and not any(c in text for c in others)


class LineIndex:
    """Maps a code-point offset of `text` to (0-based line, UTF-16 column), and back."""

    def __init__(self, text: str, breaks: re.Pattern[str] = JS_BREAKS) -> None:
        self.text = text
        if "\r" in text or not _only_lf(text, breaks):
            self.starts = [0] + [m.end() for m in breaks.finditer(text)]
        else:  # only LF breaks lines: the same starts from the lines' lengths, ~10x faster
            parts = text.split("\n")
            self.starts = list(itertools.accumulate((len(p) + 1 for p in parts[:-1]), initial=0))
        # Offsets of astral characters: each counts two UTF-16 code units.
        self.astral = [m.start() for m in _ASTRAL.finditer(text)] if not text.isascii() else []

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def _units_before(self, offset: int) -> int:
        return bisect.bisect_left(self.astral, offset) if self.astral else 0

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        column = offset - start
        if self.astral:
            column += self._units_before(offset) - self._units_before(start)
        return line, column

    def position_of(self) -> Callable[[int], tuple[int, int]]:
        """`position` as one function, cheaper a call where the text has no astral character."""
        if self.astral:
            return self.position
        starts, find = self.starts, bisect.bisect_right

        def position(offset: int) -> tuple[int, int]:
            line = find(starts, offset) - 1
            return line, offset - starts[line]

        return position

    def offset_of(self) -> Callable[[int, int], int | None]:
        """`offset` as one function, cheaper a call where the text has no astral character."""
        if self.astral:
            return self.offset
        starts, count, size = self.starts, len(self.starts), len(self.text)

        def offset(line: int, column: int) -> int | None:
            if not 0 <= line < count or column < 0:
                return None
            at = starts[line] + column
            return at if at <= (starts[line + 1] if line + 1 < count else size) else None

        return offset

    def offset(self, line: int, column: int) -> int | None:
        """The code-point offset of (line, UTF-16 column), or None outside the text or mid-character."""
        if not 0 <= line < len(self.starts) or column < 0:
            return None
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        if not self.astral:
            return start + column if start + column <= end else None
        # UTF-16 units up to `at` grow with `at`: find the offset by bisection.
        low, high = start, min(end, start + column)
        while low < high:
            mid = (low + high) // 2
            if mid - start + self._units_before(mid) - self._units_before(start) < column:
                low = mid + 1
            else:
                high = mid
        units = low - start + self._units_before(low) - self._units_before(start)
        return low if units == column else None
