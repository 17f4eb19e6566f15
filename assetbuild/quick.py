"""A quiet `assetbuild install` with nothing to do, answered before click is imported.

`cli.run()` asks `answer(argv)` first. Only the plain form is handled here:
`[-C DIR] [-c FILE] install (-q | --quiet) [-C DIR] [-c FILE] [--static-url URL] [--token N=V]...`,
and only when the install state proves everything up to date (the same `state` calls as
`pipeline.install`). Anything else - another option or command, a repeated option, a value that
click would reject, a config error, any change, any doubt - returns None with nothing printed and the
working directory restored, and the click command runs as before. Nothing here decides differently
from the click path; it only skips importing click and the build modules.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .diagnostics import Diagnostic

_VALUED = {"-C": "directory", "-c": "config", "--config": "config", "--static-url": "static_url"}
_GROUP_OPTIONS = frozenset({"directory", "config"})


@dataclass(frozen=True)
class _Line:
    """The settings of a plain quiet install command line."""

    directory: str | None
    config: str | None
    static_url: str | None
    tokens: tuple[tuple[str, str], ...]


def _parse(argv: Sequence[str]) -> _Line | None:
    """The options of a plain quiet install, or None when the line is anything else."""
    found: dict[str, str] = {}
    tokens: list[tuple[str, str]] = []
    seen_command = False
    quiet = False
    group: set[str] = set()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "install" and not seen_command:
            seen_command = True
            continue
        if arg in ("-q", "--quiet") and seen_command:
            quiet = True
            continue
        name, value = arg, None
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg.partition("=")
        elif arg[:2] in ("-C", "-c") and len(arg) > 2:
            name, value = arg[:2], arg[2:]
        key = _VALUED.get(name) if name != "--token" else "token"
        if key is None or (not seen_command and key not in _GROUP_OPTIONS):
            return None
        if value is None:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if not value or value.startswith("-"):
            return None  # odd enough to leave to click
        if key == "token":
            token_name, sep, text = value.partition("=")
            if not sep or not token_name:
                return None  # click reports it
            tokens.append((token_name, text))
            continue
        if key in found or (not seen_command and key in group):
            return None  # repeated: click's rules decide
        if not seen_command:
            group.add(key)
        found[key] = value
    if not seen_command or not quiet:
        return None
    return _Line(
        found.get("directory"), found.get("config"), found.get("static_url"), tuple(tokens)
    )


def answer(argv: Sequence[str]) -> int | None:
    """Exit status when this is a quiet install that is up to date (warnings printed), else None."""
    line = _parse(argv)
    if line is None:
        return None
    try:
        start = os.getcwd()
    except OSError:
        return None
    try:
        warnings = _up_to_date(line)
    except Exception:  # any doubt: the click path decides and reports
        warnings = None
    if warnings is None:
        os.chdir(start)
        return None
    if warnings:
        from .render import format_diagnostics, use_color, write_err

        write_err(format_diagnostics(warnings, use_color(sys.stderr)))
    return 0


def _up_to_date(line: _Line) -> list[Diagnostic] | None:
    """The warnings to print when the state proves the install up to date, else None."""
    from pathlib import Path

    if line.directory is not None:
        if os.path.exists(line.directory) and not os.path.isdir(line.directory):
            return None  # click's "is a file" error
        os.chdir(line.directory)
    if line.config is not None and os.path.isdir(line.config):
        return None  # click's "is a directory" error
    from . import state
    from .config import Overrides, load_config
    from .pipeline import BuildOptions

    overrides = Overrides(static_url=line.static_url, tokens=line.tokens, strict_tokens=None)
    config_file = Path(line.config) if line.config is not None else None
    config = load_config(Path.cwd(), config_file, overrides, os.environ)
    build_options = BuildOptions()  # what cli._options makes of these settings
    methods = tuple(config.compress)
    snapshot = state.take_snapshot(config, state.settings_key(config, build_options, methods))
    saved = state.check(config, snapshot) if snapshot is not None else None
    outcome = state.up_to_date(config, saved, False) if saved is not None else None
    if outcome is None:
        return None
    return [d for d in outcome.build.diagnostics if not d.is_error]


def run(command: Callable[[], object] | None = None) -> None:
    """Console entry point that imports click only when the quick answer does not apply.

    `command` is the click group to fall back to (default: `assetbuild.cli.main`).
    """
    try:
        code = answer(sys.argv[1:])
        if code is None:
            if command is None:
                from .cli import main

                command = main
            command()
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(code)
