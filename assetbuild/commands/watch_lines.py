"""What `watch` says: a rebuild's line of text and its `--json` event, its failures, and the ready line.

Part of the `assetbuild watch` command's output (the summaries of the other commands are `summary`'s).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetbuild.diagnostics import Diagnostic, summarize
from assetbuild.errors import AssetbuildError, SourceError
from assetbuild.modules.summary import tree_path
from assetbuild.summary import _repeats, diagnostics_json

if TYPE_CHECKING:
    from assetbuild.watch import Rebuild


def watch_what(r: Rebuild) -> str:
    """What set off a rebuild: "started", the renamed and changed files, or "rebuild"."""
    if r.first:
        return "started"
    moved = {path for pair in r.renamed for path in pair}
    special = moved | set(r.added) | set(r.removed)
    names = [name for name in r.changed if name not in special]
    parts = [f"{a} renamed to {b}" for a, b in r.renamed[:3]]
    if len(r.renamed) > 3:
        parts.append(f"{len(r.renamed) - 3} more renamed")
    for group, verb in ((list(r.added), "added"), (list(r.removed), "removed"), (names, "changed")):
        if group:
            more = f" and {len(group) - 3} more" if len(group) > 3 else ""
            parts.append(", ".join(group[:3]) + more + f" {verb}")
    return ", ".join(parts) or "rebuild"


def watch_installed(r: Rebuild) -> list[str]:
    """ "js/main.js installed into js/3" for each area a rebuild installed into."""
    if r.outcome is None:
        return []
    placed = r.outcome.report.placed
    parts = []
    for area in r.outcome.report.areas:
        names = [f.name for f in area.files if f.name in r.outputs]
        if names:
            where = Path(placed[names[0]]).parent.as_posix()
            verb = "up to date in" if area.action == "up-to-date" else "installed into"
            parts.append(f"{', '.join(names)} {verb} {where}")
    for tree in r.outcome.report.trees:
        label = posixpath.join(tree.output, "*")
        if label in r.outputs:
            verb = "up to date in" if tree.action == "unchanged" else "installed into"
            parts.append(f"{label} ({tree.files} modules) {verb} {tree_path(tree)}")
    return parts


def watch_event(r: Rebuild, diagnostics: Sequence[Diagnostic], **extra: Any) -> dict[str, Any]:
    """`watch --json`: the JSON object of one build (printed as one line: JSON Lines)."""
    placed = r.outcome.report.placed if r.outcome is not None else {}
    return {
        "event": "build",
        "ok": r.ok,
        "first": r.first,
        "changed": list(r.changed),
        "renamed": [list(pair) for pair in r.renamed],
        "added": list(r.added),
        "removed": list(r.removed),
        "config_restored": r.config_restored,
        "outputs": list(r.outputs),
        "installed": {name: placed[name] for name in r.outputs if name in placed},
        "fixed": list(r.fixed),
        "ms": round(r.seconds * 1000),
        "diagnostics": diagnostics_json(diagnostics),
        **extra,
    }


def watch_failure_event(r: Rebuild, error: AssetbuildError) -> dict[str, Any]:
    """`watch --json`: the JSON object of a build that failed with `error`."""
    config_only = r.config_changed and not r.outputs  # a broken config: no bundle was built
    not_built = [] if config_only else list(r.failed or r.outputs)
    return watch_event(
        r,
        error.diagnostics,
        error=error.message,
        failed=not_built,
        config_reloaded=not config_only,
    )


def _watch_lines(r: Rebuild, clock: str, parts: list[str]) -> list[str]:
    lines = [f"{clock} {watch_what(r)} -> {'; '.join(parts)} ({round(r.seconds * 1000)} ms)"]
    if r.fixed:
        lines.append(f"{clock} fixed: {', '.join(r.fixed)} rebuilt")
    return lines


def watch_built_lines(r: Rebuild, clock: str) -> list[str]:
    """A good rebuild: what set it off, where it installed, how long it took; what it fixed."""
    if r.config_restored and r.outcome is None:
        return [f"{clock} {', '.join(r.changed) or 'configuration'} is good again; nothing changed"]
    lines = _watch_lines(r, clock, watch_installed(r) or ["nothing to install"])
    if r.config_restored:
        lines.append(f"{clock} {r.changed[0] if r.changed else 'configuration'} is good again")
    return lines


def watch_error_message(error: AssetbuildError) -> str:
    """The line on stderr after a failed rebuild's diagnostics; empty when they say it all."""
    if not isinstance(error, SourceError) and (
        not error.diagnostics or not _repeats(error.message, error.diagnostics[0])
    ):
        return f"assetbuild: {error.message}"
    return ""


def watch_failed_lines(r: Rebuild, error: AssetbuildError, clock: str) -> list[str]:
    """A failed rebuild: what failed and what stays installed (or which config stays in use)."""
    summary = summarize(error.diagnostics) if error.diagnostics else "error"
    if r.first and r.config_changed:
        parts = [f"configuration: {summary}; nothing built, waiting for a change"]
    elif r.config_changed and not r.outputs:
        parts = [f"configuration not reloaded: {summary}; kept the last good one"]
    else:
        failed = ", ".join(r.failed or r.outputs)
        parts = [f"{failed} failed: {summary}; the last good output stays installed"]
    return _watch_lines(r, clock, parts + watch_installed(r))


def watch_ready_line(directories: int) -> str:
    plural = "y" if directories == 1 else "ies"
    return f"watching {directories} director{plural}; Ctrl-C to stop"
