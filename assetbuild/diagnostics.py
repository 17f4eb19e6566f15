"""Located messages: what went wrong, where, and how to show it compiler-style."""

from __future__ import annotations

import re
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
    # A warning's stable name (`unknown-token`), shown as `[unknown-token]` so that a config's
    # [[accept]] can name it; and what it is about, for `token = ...` (the token as written).
    code: str = ""
    subject: str = ""

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
    if diag.code and label == "warning":
        head += f" [{diag.code}]"
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


# --- TOML syntax errors ----------------------------------------------------------------------


def toml_diagnostic(message: str, text: str, shown: str) -> Diagnostic:
    """tomllib's message ("Unclosed array (at line 6, column 1)") as a located diagnostic.

    tomllib notices an array left open only where something else begins, often the next table,
    lines below the mistake; an inline table runs past its line. When a bracket opened before the
    error is still open there, the error is reported where that bracket opens.
    """
    position = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if position:
        line, column = int(position[1]), int(position[2])
        message = message[: position.start()]
        end = sum(len(one) + 1 for one in text.split("\n")[: line - 1]) + column - 1
    else:
        message = message.replace(" (at end of document)", " at the end of the file")
        end = len(text)
        line, column, _ = line_col(text, end)
    opener = _toml_open_bracket(text, min(end, len(text)))
    if opener is not None:
        at_line, at_column, src = line_col(text, opener)
        kind = "array" if text[opener] == "[" else "inline table"
        if at_line < line or (kind == "inline table" and "\n" in text[opener : end + 1]):
            if kind == "array":
                where = f"line {line}" if end < len(text) else "the end of the file"
                found = f'"]" is missing before {where}'
            else:
                found = (
                    '"}" is missing on its line (an inline table must end on the line it starts)'
                )
            return Diagnostic(
                "error",
                f"invalid TOML: this {kind} is not closed: {found}",
                Location(shown, at_line, at_column),
                src,
            )
    if not position and "end of the file" not in message:
        return Diagnostic("error", f"invalid TOML: {message}", Location(shown))
    lines = text.split("\n")
    source_line = lines[line - 1] if 0 < line <= len(lines) else None
    located = Location(shown, line, column)
    return Diagnostic("error", f"invalid TOML: {message}", located, source_line)


def _toml_open_bracket(text: str, end: int) -> int | None:
    """The offset of the innermost array or inline table still open at `end`, or None.

    A small TOML scanner: strings (basic, literal, multi-line) and comments are skipped, and a
    `[` that begins a line outside any value opens a table header, not an array.
    """
    stack: list[int] = []
    i, header, line_start = 0, False, True
    while i < end:
        c = text[i]
        if c == "\n":
            header, line_start = False, True
            i += 1
            continue
        if line_start and c in " \t":
            i += 1
            continue
        if line_start and c == "[" and not stack:
            header = True
        line_start = False
        if c == "#":
            i = _toml_skip(text, i, "\n", end) - 1  # the newline itself is seen next
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i = _toml_skip(text, i + len(quote), quote, end, escapes=c == '"')
            continue
        elif header:
            pass
        elif c in "[{":
            stack.append(i)
        elif c in "]}" and stack and text[stack[-1]] == ("[" if c == "]" else "{"):
            stack.pop()
        i += 1
    return stack[-1] if stack else None


def _toml_skip(text: str, i: int, closer: str, end: int, *, escapes: bool = False) -> int:
    """The offset just after `closer` from `i` (escaped characters skipped), or `end`."""
    while i < end:
        if escapes and text[i] == "\\":
            i += 2
            continue
        if text.startswith(closer, i):
            return i + len(closer)
        if len(closer) == 1 and closer != "\n" and text[i] == "\n":
            return i  # a one-line string ends at its line (tomllib reports the rest)
        i += 1
    return end
