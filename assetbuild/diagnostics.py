"""Located messages: what went wrong, where, and how to show it compiler-style."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """A place in a file; line and column are 1-based, 0 means "the whole file"."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning, optionally with the source line and related notes."""

    severity: Severity
    message: str
    location: Location | None = None
    source_line: str | None = None
    notes: tuple[Diagnostic, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self, color: bool = False) -> str:
        """Render as `path:line:col: error: message`, the source line and a caret."""
        return "\n".join(_format_lines(self, color, self.severity))


_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;35m", "note": "\x1b[1;36m"}
_BOLD, _GREEN, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[0m"


def _format_lines(diag: Diagnostic, color: bool, label: str) -> list[str]:
    where = f"{diag.location}: " if diag.location else ""
    if color:
        head = (
            f"{_BOLD}{where}{_RESET}{_COLORS[label]}{label}:{_RESET} {_BOLD}{diag.message}{_RESET}"
        )
    else:
        head = f"{where}{label}: {diag.message}"
    lines = [head]
    loc = diag.location
    if diag.source_line is not None and loc is not None and loc.line > 0:
        shown, caret_col = _clip(diag.source_line.rstrip("\r\n"), max(loc.column, 1))
        caret = " " * (caret_col - 1) + "^"
        lines.append(f"    {shown}")
        lines.append(f"    {_GREEN}{caret}{_RESET}" if color else f"    {caret}")
    for note in diag.notes:
        lines.extend(_format_lines(note, color, "note"))
    return lines


def _clip(line: str, column: int, width: int = 120) -> tuple[str, int]:
    """Show a window of a long line (minified vendor code) around the column."""
    line = line.replace("\t", " ")
    if len(line) <= width:
        return line, column
    start = max(0, column - width // 2)
    end = min(len(line), start + width)
    start = max(0, end - width)
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(line) else ""
    return f"{prefix}{line[start:end]}{suffix}", column - start + len(prefix)


def line_col(text: str, offset: int) -> tuple[int, int, str]:
    """1-based line and column of a character offset, and that line's text."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end < 0:
        line_end = len(text)
    line = text.count("\n", 0, offset) + 1
    return line, offset - line_start + 1, text[line_start:line_end]


def summarize(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> str:
    """ "2 errors, 1 warning"; empty when there are none."""
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)
