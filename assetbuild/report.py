"""What people see: diagnostics, the build summary, progress, and the --json report."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from assetbuild.diagnostics import Diagnostic

if TYPE_CHECKING:
    from assetbuild.build.results import Built


def use_color(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def size(n: int | None) -> str:
    """Human size with SI units, as browsers' dev tools show them."""
    if n is None:
        return "-"
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.2f} MB"


def delta(new: int, old: int | None) -> str:
    if old is None:
        return "new"
    d = new - old
    if d == 0:
        return "="
    return f"{'+' if d > 0 else '-'}{size(abs(d))}"


def format_diagnostics(diags: Iterable[Diagnostic], color: bool) -> str:
    return "\n".join(d.format(color) for d in diags)


def table(rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> list[str]:
    """Left/right-aligned columns separated by two spaces."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


class Progress:
    """A one-line progress bar on a terminal, shown only for work that takes over a second."""

    def __init__(self, stream: IO[str], label: str, enabled: bool, delay: float = 1.0) -> None:
        self.stream = stream
        self.label = label
        self.enabled = enabled and bool(getattr(stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.delay = delay
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if not self.shown and time.monotonic() - self.start < self.delay:
            return
        self.shown = True
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r\x1b[K{self.label} [{bar}] {done}/{total}")
        self.stream.flush()

    def phase(self, label: str) -> None:
        """Go on with another stage of the work under `label`: its counts start again, and the
        bar shows once this stage has taken a second (at once when the bar was showing already)."""
        self.label = label
        if not self.shown:
            self.start = time.monotonic()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    loc = d.location
    return {
        "severity": d.severity,
        "message": d.message,
        "path": loc.path if loc else None,
        "line": loc.line if loc and loc.line else None,
        "column": loc.column if loc and loc.line else None,
        "notes": [diagnostic_json(n) for n in d.notes],
    } | ({"warning": d.code} if d.code and d.severity == "warning" else {})


def write_err(text: str) -> None:
    if text:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")


_METHODS = {
    "rjsmin": "rjsmin",
    "rcssmin": "rcssmin",
    "safe": "safe minifier",
    "none": "unminified",
}


def minify_details(bundles: Iterable[Built], shown: int = 5) -> list[str]:
    """Per bundle, how its files were minified; the files of the fallbacks by name."""
    lines = []
    for b in bundles:
        counts: dict[str, list[str]] = {}
        for source, method in zip(b.sources, b.methods, strict=True):
            counts.setdefault(method, []).append(source)
        if set(counts) <= {"off"}:
            continue
        parts = []
        for method, label in _METHODS.items():
            names = counts.get(method, [])
            if not names:
                continue
            part = f"{len(names)} {label}"
            if method in ("safe", "none"):
                more = f", and {len(names) - shown} more" if len(names) > shown else ""
                part += f" ({', '.join(names[:shown])}{more})"
            parts.append(part)
        files = f"{len(b.sources)} file{'s' if len(b.sources) != 1 else ''}"
        lines.append(f"{b.output}: {files}: {'; '.join(parts)}")
    return lines
