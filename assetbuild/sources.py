"""Source files: collecting globs into ordered paths, reading them, locating offsets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic, Location, Severity, line_col


@dataclass(frozen=True)
class Edit:
    """A substitution: `text[start:end]` replaced `original[orig_start:orig_end]`."""

    start: int
    end: int
    orig_start: int
    orig_end: int


@dataclass(frozen=True)
class SourceFile:
    """One source as read (`original`) and as processed so far (`text`).

    `edits` records token substitutions, sorted by position, so that an offset in
    `text` maps back to the file the user edited.
    """

    path: Path
    display: str
    original: str
    text: str
    edits: tuple[Edit, ...] = ()

    def original_offset(self, offset: int) -> int:
        """Map an offset in `text` to the corresponding offset in `original`."""
        shift = 0
        for edit in self.edits:
            if offset < edit.start:
                break
            if offset < edit.end:
                return edit.orig_start
            shift = edit.orig_end - edit.end
        return offset + shift

    def location(self, offset: int | None) -> Location:
        if offset is None:
            return Location(self.display)
        line, col, _ = line_col(self.original, self.original_offset(offset))
        return Location(self.display, line, col)

    def diagnostic(
        self,
        severity: Severity,
        message: str,
        offset: int | None = None,
        notes: tuple[Diagnostic, ...] = (),
    ) -> Diagnostic:
        """A diagnostic at an offset of `text`, reported at the original line and column."""
        if offset is None:
            return Diagnostic(severity, message, Location(self.display), None, notes)
        line, col, src_line = line_col(self.original, self.original_offset(offset))
        return Diagnostic(severity, message, Location(self.display, line, col), src_line, notes)

    def with_text(self, text: str) -> SourceFile:
        """The same file with new processed text that keeps offsets (no new edits)."""
        return SourceFile(self.path, self.display, self.original, text, self.edits)
