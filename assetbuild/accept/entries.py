"""Warnings known and accepted: a config's `[[accept]]` entries, and which warnings they silence.

Every warning kind has a stable name, printed after it (`[unknown-token]`) so that users can copy
it. An entry names one kind and where it is accepted: a token as written (`token = "{$e}"`, for the
token warnings) and/or source globs (`sources = "js/vendor/highlight*.js"`, root-relative, the
rules of `[[bundle]].sources`). Both given: both must match. Accepted warnings are counted, never
printed; errors are never accepted (`--strict` turns some warnings into errors: those stay).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assetbuild.diagnostics import Diagnostic, Location
from assetbuild.sources import entry_matches

# Every warning assetbuild gives, by the name it prints.
WARNINGS: dict[str, str] = {
    "unknown-token": "an undeclared {$name} token, left as it is",
    "token-no-value": "a declared token without a value (check and status only)",
    "use-strict": "a top-level 'use strict' in a bundle of several files",
    "unminified": "a file or module that ships unminified (no minified form could be verified)",
    "input-map": "a source's own source map that cannot be used",
    "no-sourcemap": "a bundle or file that ships without a source map",
    "missing-asset": "a CSS url() naming a file that does not exist",
    "asset-refused": "a CSS url() naming a file that is never copied (a link out, a FIFO...)",
    "css-stray-text": "text or ';' between CSS rules, or after the last one",
    "css-declaration": "a CSS declaration without ':' or value, or a missing ';'",
    "css-selector": "a CSS selector (or keyframe selector) browsers reject",
    "css-value": "a CSS value that does not fit its property's grammar",
    "css-value-unchecked": "CSS values not checked: no V8 engine (once a run)",
    "css-url": "an unquoted url() with spaces, quotes or '('",
    "charset": "an @charset other than UTF-8",
    "too-many-errors": "a file whose check stopped after many errors",
    "cache": "a content cache that cannot be used",
}
TOKEN_WARNINGS = frozenset({"unknown-token", "token-no-value"})
_KEYS = ("warning", "token", "sources", "reason")
_TOKEN = re.compile(r"\{\$[A-Za-z_][A-Za-z0-9_]*\}|<\$[A-Za-z_][A-Za-z0-9_]*>")


@dataclass(frozen=True)
class Accept:
    """One `[[accept]]` entry: a warning's name, and the token and sources it is accepted for."""

    warning: str
    token: str | None = None  # as written in the sources: "{$e}"
    sources: tuple[str, ...] = ()  # globs relative to the root; empty: any source


def parse_accept(
    value: Any, text: str, shown: str, prefix: str
) -> tuple[tuple[Accept, ...], list[Diagnostic]]:
    """The entries of a config's `accept` (a list of tables), and its problems at path:line:col."""
    if value is None:
        return (), []
    where = _Locator(text, shown, prefix)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        message = f"{prefix}accept: expected [[accept]] tables (a list of tables)"
        return (), [where.error(None, "accept", message)]
    found: list[Accept] = []
    problems: list[Diagnostic] = []
    for n, table in enumerate(value):
        mine: list[Diagnostic] = []

        def problem(key: str, message: str, n: int = n, mine: list[Diagnostic] = mine) -> None:
            text = f"{prefix}accept[{n + 1}].{key}: {message}"
            mine.append(where.error(n, key, text, at_key=key not in _KEYS))

        entry = _entry(table, problem)
        problems.extend(mine)
        if not mine:
            found.append(entry)
    return tuple(found), problems


def _entry(table: dict[str, Any], problem: Callable[[str, str], None]) -> Accept:
    """One table as an entry; what is wrong with it goes to `problem(key, message)`."""
    for key in table:
        if key not in _KEYS:
            close = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problem(key, f"unknown key{hint}; an entry has {', '.join(_KEYS)}")
    name = table.get("warning")
    if not isinstance(name, str):
        problem("warning", 'expected the name of a warning, e.g. "unknown-token"')
    elif name not in WARNINGS:
        close = difflib.get_close_matches(name, list(WARNINGS), n=1)
        hint = f'did you mean "{close[0]}"? ' if close else ""
        problem("warning", f'no warning is named "{name}"; {hint}names: {", ".join(WARNINGS)}')
    token = table.get("token")
    if token is not None and (not isinstance(token, str) or not _TOKEN.fullmatch(token)):
        problem("token", 'expected a token as written in the sources, e.g. "{$e}"')
    elif (
        token is not None
        and isinstance(name, str)
        and name in WARNINGS
        and name not in TOKEN_WARNINGS
    ):
        about = " and ".join(sorted(TOKEN_WARNINGS))
        problem("token", f'"{name}" is not about a token; token = ... is for {about}')
    sources = table.get("sources")
    globs = [sources] if isinstance(sources, str) else sources
    if sources is not None and (
        not isinstance(globs, list)
        or not globs
        or not all(isinstance(g, str) and _plain_glob(g) for g in globs)
    ):
        problem(
            "sources",
            "expected a glob or a list of globs relative to root (no '..', not absolute), "
            'e.g. "js/vendor/highlight*.js"',
        )
    if token is None and sources is None:
        problem(
            "warning",
            'say where it is accepted: token = "{$name}" or sources = "glob" '
            '(sources = "**" accepts it everywhere)',
        )
    if not isinstance(table.get("reason", ""), str):
        problem("reason", "expected a string")
    kept = tuple(str(g) for g in globs) if isinstance(globs, list) else ()
    return Accept(str(name), token, kept)


def _plain_glob(glob: str) -> bool:
    parts = glob.split("/")
    return bool(glob) and "\0" not in glob and not glob.startswith("/") and ".." not in parts


def partition(
    diagnostics: Iterable[Diagnostic], rules: Sequence[Accept], root: Path
) -> tuple[tuple[Diagnostic, ...], tuple[Diagnostic, ...]]:
    """(the diagnostics to show, the warnings accepted by `rules`), each in the given order."""
    shown: list[Diagnostic] = []
    accepted: list[Diagnostic] = []
    cwd = _cwd()
    for diag in diagnostics:
        taken = diag.severity == "warning" and any(_accepts(r, diag, root, cwd) for r in rules)
        (accepted if taken else shown).append(diag)
    return tuple(shown), tuple(accepted)


def _accepts(rule: Accept, diag: Diagnostic, root: Path, cwd: str | None) -> bool:
    if diag.code != rule.warning:
        return False
    if rule.token is not None and diag.subject != rule.token:
        return False
    if not rule.sources:
        return True
    if diag.location is None:  # about the whole run
        return "**" in rule.sources
    names = {diag.location.path}
    if cwd is not None:  # sources are shown relative to the working directory
        rel = os.path.relpath(os.path.join(cwd, diag.location.path), root)
        if not rel.startswith(".."):
            names.add(Path(rel).as_posix())
    return any(entry_matches(glob, name) for glob in rule.sources for name in names)


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None


class _Locator:
    """Where the n-th `[[accept]]` table's key is in the config's text (TOML keeps no positions)."""

    def __init__(self, text: str, shown: str, prefix: str) -> None:
        self.lines = text.split("\n")
        self.shown = shown
        table = re.escape(prefix + "accept").replace(r"\.", r"\s*\.\s*")
        header = re.compile(rf"\s*\[\[\s*{table}\s*\]\]")
        self.starts = [i for i, line in enumerate(self.lines) if header.match(line)]
        self.inline = re.compile(r"\s*accept\s*=")

    def error(self, n: int | None, key: str, message: str, *, at_key: bool = False) -> Diagnostic:
        """An error at the value of `key` in the n-th table (at the key itself with `at_key`)."""
        line, column = self._find(n, key, at_key)
        if line is None:
            return Diagnostic("error", message, Location(self.shown))
        return Diagnostic(
            "error", message, Location(self.shown, line + 1, column + 1), self.lines[line]
        )

    def _find(self, n: int | None, key: str, at_key: bool) -> tuple[int | None, int]:
        starts = self.starts
        if n is not None and n < len(starts):
            at = re.compile(rf"(\s*)[\"']?{re.escape(key)}[\"']?\s*=\s*")
            for i in range(starts[n] + 1, len(self.lines)):
                if self.lines[i].lstrip().startswith("["):
                    break
                found = at.match(self.lines[i])
                if found:
                    return i, len(found[1]) if at_key else found.end()
            return starts[n], len(self.lines[starts[n]]) - len(self.lines[starts[n]].lstrip())
        for i, line in enumerate(self.lines):
            if self.inline.match(line):
                return i, len(line) - len(line.lstrip())
        return (starts[0], 0) if starts else (None, 0)
