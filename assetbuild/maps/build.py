"""A bundle's map: its files' maps placed where the join put each file, then rendered as JSON."""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assetbuild.config import DEFAULT_SOURCEMAP_IGNORE as DEFAULT_IGNORE
from assetbuild.diagnostics import Diagnostic
from assetbuild.maps.align import FIELDS, FileMap, NoMap, shifted
from assetbuild.maps.text import LineIndex, breaks_for
from assetbuild.maps.vlq import Segment, encode_mappings


@dataclass(frozen=True)
class BundleMap:
    """A bundle's map before rendering: sources are absolute paths (or URLs), made relative to the
    map's own directory when rendered."""

    file: str  # the bundle's base name
    sources: tuple[str, ...]
    contents: tuple[str | None, ...]
    ignore: tuple[int, ...]
    mappings: str
    checks: tuple[int, ...]  # (generated line, column, length) of each mapping checked by its text

    def render(self, map_dir: Path) -> bytes:
        """The map as JSON, its sources relative to `map_dir` (where the map is served from)."""
        data = {
            "version": 3,
            "file": self.file,
            "sources": [_relative(s, map_dir) for s in self.sources],
            "sourcesContent": list(self.contents),
            "names": [],
            "mappings": self.mappings,
        }
        if self.ignore:
            data["ignoreList"] = list(self.ignore)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass")


def _relative(source: str, map_dir: Path) -> str:
    if not os.path.isabs(source):
        return source  # a URL an input map named
    rel = os.path.relpath(source, map_dir)
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def comment(kind: str, url: str) -> str:
    """The line that ends a linked bundle."""
    if kind == "css":
        return f"/*# sourceMappingURL={url} */\n"
    return f"//# sourceMappingURL={url}\n"


def is_ignored(path: str, root: Path, patterns: Sequence[str]) -> bool:
    """Whether a source matches an ignore pattern: a glob on its path relative to the root, or (a
    pattern ending in `/`) a directory name anywhere in that path."""
    try:
        rel = Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = Path(path).as_posix()
    segments = rel.split("/")[:-1]
    for pattern in patterns:
        if pattern.endswith("/") and "/" not in pattern[:-1]:
            if pattern[:-1] in segments:
                return True
        elif fnmatch.fnmatchcase(rel, pattern):
            return True
    return False


def assemble(
    output: str,
    kind: str,
    bundle: str,
    files: Sequence[tuple[str, FileMap]],
    *,
    root: Path,
    ignore: Sequence[str] = DEFAULT_IGNORE,
) -> BundleMap:
    """The map of `bundle`, joined from each file's (output text, map); NoMap when a file's text is
    not found where the join should have put it."""
    index = LineIndex(bundle, breaks_for(kind))
    sources: list[str] = []
    contents: list[str | None] = []
    number: dict[str, int] = {}
    vendor: set[int] = set()
    lines: list[list[Segment]] = [[] for _ in range(index.line_count)]
    checks: list[int] = []
    cursor = 0
    for text, fmap in files:
        if not text:
            continue
        at = bundle.find(text, cursor)
        if at < 0:
            raise NoMap("a file's output is not in the bundle as it was made")
        _unmapped(bundle, cursor, at, index, lines)
        cursor = at + len(text)
        local: list[int] = []
        for i, source in enumerate(fmap.sources):
            if source not in number:
                number[source] = len(sources)
                sources.append(source)
                contents.append(fmap.contents[i])
            local.append(number[source])
            if i in fmap.vendor:
                vendor.add(number[source])
        line, column = index.position(at)
        segs = shifted(fmap.segments, line, column, 0)
        for i in range(0, len(segs), FIELDS):
            gen_line, gen_col, src, src_line, src_col, length = segs[i : i + FIELDS]
            lines[gen_line].append((gen_col, local[src], src_line, src_col))
            if length:
                checks += (gen_line, gen_col, length)
    _unmapped(bundle, cursor, len(bundle), index, lines)
    for segments in lines:
        segments.sort()
    while lines and not lines[-1]:
        lines.pop()
    ignored = vendor | {i for i, s in enumerate(sources) if is_ignored(s, root, ignore)}
    return BundleMap(
        posixpath.basename(output),
        tuple(sources),
        tuple(contents),
        tuple(sorted(ignored)),
        encode_mappings(lines),
        tuple(checks),
    )


def _unmapped(
    bundle: str, start: int, end: int, index: LineIndex, lines: list[list[Segment]]
) -> None:
    """Text the join added (separators, a @charset) maps to nothing: one column-only segment at
    each run of it that is not blank."""
    at = start
    while at < end:
        if bundle[at].isspace():
            at += 1
            continue
        line, column = index.position(at)
        lines[line].append((column,))
        while at < end and not bundle[at].isspace():
            at += 1


def mapped_bundle(
    output: str,
    kind: str,
    text: str,
    results: Sequence[Any],
    mode: str,
    map_dir: Path,
    root: Path,
    ignore: Sequence[str],
) -> tuple[str, BundleMap | None, bytes, list[Diagnostic]]:
    """The bundle's text (with the comment when `linked`), its proven map and that map's bytes; a
    map that cannot be made or proven is a warning, and the bundle ships without one."""
    from assetbuild.maps.verify import MapProblem, verify

    if any(r.sourcemap is None for r in results):
        missing = next(r.display for r in results if r.sourcemap is None)
        return text, None, b"", [_warning(output, f"{missing} has no map")]
    try:
        made = assemble(
            output, kind, text, [(r.text, r.sourcemap) for r in results], root=root, ignore=ignore
        )
        data = made.render(map_dir)
        verify(kind, text, data, made)
    except (NoMap, MapProblem) as exc:
        return text, None, b"", [_warning(output, str(exc))]
    if mode == "linked":
        if text and not text.endswith("\n"):
            text += "\n"
        text += comment(kind, posixpath.basename(output) + ".map")
    return text, made, data, []


def _warning(output: str, why: str) -> Diagnostic:
    return Diagnostic(
        "warning",
        f"{output} ships without a source map: {why} (a limit of assetbuild, not of the sources)",
    )
