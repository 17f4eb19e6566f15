"""A bundle's map: its files' maps placed where the join put each file, then rendered as JSON."""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import posixpath
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assetbuild.config import DEFAULT_SOURCEMAP_IGNORE as DEFAULT_IGNORE
from assetbuild.diagnostics import Diagnostic
from assetbuild.maps.align import FileMap, NoMap
from assetbuild.maps.text import LineIndex, breaks_for
from assetbuild.maps.vlq import decode_mappings, encode, encode_mappings


@dataclass(frozen=True)
class BundleMap:
    """A bundle's map before rendering: sources are absolute paths (or URLs), made relative to the
    map's own directory when rendered."""

    file: str  # the bundle's base name
    sources: tuple[str, ...]
    contents: tuple[str | None, ...]
    ignore: tuple[int, ...]
    mappings: str
    debug_id: str = ""  # with `sourcemap_debug_id`: the bundle's Debug ID

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
        if self.debug_id:
            data["debugId"] = self.debug_id
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass")


def _relative(source: str, map_dir: Path) -> str:
    if not os.path.isabs(source):
        return source  # a URL an input map named
    rel = os.path.relpath(source, map_dir)
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def comment(kind: str, url: str, name: str = "sourceMappingURL") -> str:
    """The line that ends a linked bundle (or, with `name` "debugId", the line before it)."""
    if kind == "css":
        return f"/*# {name}={url} */\n"
    return f"//# {name}={url}\n"


def debug_id(data: bytes) -> str:
    """A bundle's Debug ID: a UUID (version 4 form) from the SHA-256 of its bytes up to its
    `debugId` comment, so the same bundle always has the same one (as sentry-cli derives it from the
    file's content; the SRI hash is of the bytes after)."""
    return str(uuid.UUID(bytes=hashlib.sha256(data).digest()[:16], version=4))


def is_ignored(
    path: str, root: Path, patterns: Sequence[str], resolved: dict[str, Path] | None = None
) -> bool:
    """Whether a source matches an ignore pattern: a glob on its path relative to the root, or (a
    pattern ending in `/`) a directory name anywhere in that path. `resolved`: directories already
    resolved (a bundle's sources share a few), kept between calls."""
    dirs = {} if resolved is None else resolved
    try:
        rel = _resolved(Path(path), dirs).relative_to(_resolved(root, dirs)).as_posix()
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


def _resolved(path: Path, resolved: dict[str, Path]) -> Path:
    """`path.resolve()`, resolving each directory once: a file that is not a link resolves to its
    resolved directory and its own name."""
    parent, name = str(path.parent), path.name
    if name in ("", ".", "..") or os.path.islink(path):
        return path.resolve()
    found = resolved.get(parent)
    if found is None:
        found = resolved[parent] = path.parent.resolve()
    return found / name


Join = tuple[int, tuple[int, int, int, int], tuple[int, int, int, int, int]]


def assemble(
    output: str,
    kind: str,
    bundle: str,
    files: Sequence[tuple[str, FileMap]],
    *,
    root: Path,
    ignore: Sequence[str] = DEFAULT_IGNORE,
) -> tuple[BundleMap, list[Join]]:
    """The map of `bundle`, joined from each file's (output text, proven map), and where each
    file's mappings were joined in (for `verify_joined`). NoMap when a file's text is not found
    where the join should have put it.

    Each file's `mappings` are used as they are but for their first mapping, re-encoded against
    the state before it: joining costs a few operations per file, not per token.
    """
    index = LineIndex(bundle, breaks_for(kind))
    sources: list[str] = []
    contents: list[str | None] = []
    number: dict[str, int] = {}
    vendor: set[int] = set()
    out: list[str] = []
    joins: list[Join] = []
    line = 0  # the generated line `out` has reached
    line_col: int | None = None  # the last generated column on that line, None: no segment yet
    state = (0, 0, 0)  # source, line, column after the last mapping
    cursor = 0

    def reach(target: int) -> None:
        nonlocal line, line_col
        if target > line:
            out.append(";" * (target - line))
            line, line_col = target, None

    def unmapped(start: int, end: int) -> None:
        nonlocal line_col
        for run_line, run_col in _runs(bundle, start, end, index):
            reach(run_line)
            out.append(("," if line_col is not None else "") + encode(run_col - (line_col or 0)))
            line_col = run_col

    for text, fmap in files:
        if not text:
            continue
        at = bundle.find(text, cursor)
        if at < 0:
            raise NoMap("a file's output is not in the bundle as it was made")
        unmapped(cursor, at)
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
        if not fmap.first:
            continue
        start_line, start_col = index.position(at)
        mappings = fmap.mappings
        if any(g != local[0] + i for i, g in enumerate(local)):
            mappings = _renumbered(mappings, local)
        lead = len(mappings) - len(mappings.lstrip(";"))
        reach(start_line + lead)
        first_end = _segment_end(mappings, lead)
        f_line, f_col, f_src, f_srcline, f_srccol = fmap.first
        gen_col = f_col + (start_col if f_line == 0 else 0)
        before = (line_col or 0, *state)
        want = (gen_col, local[f_src], f_srcline, f_srccol)
        deltas = [w - b for w, b in zip(want, before, strict=True)]
        head = "," if line_col is not None else ""
        joins.append((sum(map(len, out)) + len(head), before, (start_line + lead, *want)))
        out.append(head + "".join(map(encode, deltas)) + mappings[first_end:])
        l_line, l_col, l_src, l_srcline, l_srccol = fmap.last
        line = start_line + mappings.count(";")
        line_col = l_col + (start_col if l_line == 0 else 0)
        state = (local[l_src], l_srcline, l_srccol)
    unmapped(cursor, len(bundle))
    dirs: dict[str, Path] = {}
    ignored = vendor | {i for i, s in enumerate(sources) if is_ignored(s, root, ignore, dirs)}
    made = BundleMap(
        posixpath.basename(output),
        tuple(sources),
        tuple(contents),
        tuple(sorted(ignored)),
        "".join(out),
    )
    return made, joins


def _segment_end(mappings: str, start: int) -> int:
    ends = [i for i in (mappings.find(",", start), mappings.find(";", start)) if i >= 0]
    return min(ends) if ends else len(mappings)


def _renumbered(mappings: str, local: list[int]) -> str:
    """A file's mappings with its sources numbered as the bundle numbers them (when a source
    appears in more than one file): decoded and encoded again, the slow way."""
    lines = decode_mappings(mappings)
    shift = local[0]
    return encode_mappings(
        [[(s[0], local[s[1]] - shift, s[2], s[3]) for s in segs] for segs in lines]
    )


def _runs(bundle: str, start: int, end: int, index: LineIndex) -> list[tuple[int, int]]:
    """Where text the join added (separators, a @charset) starts each non-blank run: it maps to
    nothing, one column-only segment at each."""
    runs = []
    at = start
    while at < end:
        if bundle[at].isspace():
            at += 1
            continue
        runs.append(index.position(at))
        while at < end and not bundle[at].isspace():
            at += 1
    return runs


def mapped_bundle(
    output: str,
    kind: str,
    text: str,
    results: Sequence[Any],
    mode: str,
    map_dir: Path,
    root: Path,
    ignore: Sequence[str],
    *,
    debug_id: bool = False,
) -> tuple[str, BundleMap | None, bytes, list[Diagnostic]]:
    """The bundle's text (with the comment when `linked`), its proven map and that map's bytes; a
    map that cannot be made or proven is a warning, and the bundle ships without one. With
    `debug_id`, the text ends with a `debugId` comment (before the map's) and the map names it."""
    from assetbuild.maps.verify import MapProblem, verify_joined

    if any(r.sourcemap is None for r in results):
        missing = next(r.display for r in results if r.sourcemap is None)
        return text, None, b"", [_warning(output, f"{missing} has no map")]
    try:
        made, joins = assemble(
            output, kind, text, [(r.text, r.sourcemap) for r in results], root=root, ignore=ignore
        )
        if debug_id:  # of the bytes up to the comment, the line break before it included
            body = text if not text or text.endswith("\n") else text + "\n"
            made = dataclasses.replace(made, debug_id=_debug_id(body))
        data = made.render(map_dir)
        verify_joined(data, made.mappings, made.contents, joins)
    except (NoMap, MapProblem) as exc:
        return text, None, b"", [_warning(output, str(exc))]
    if (mode == "linked" or made.debug_id) and text and not text.endswith("\n"):
        text += "\n"
    if made.debug_id:
        text += comment(kind, made.debug_id, "debugId")
    if mode == "linked":
        text += comment(kind, posixpath.basename(output) + ".map")
    return text, made, data, []


def _debug_id(text: str) -> str:
    return debug_id(text.encode("utf-8", "surrogatepass"))


def _warning(output: str, why: str) -> Diagnostic:
    return Diagnostic(
        "warning",
        f"{output} ships without a source map: {why} (a limit of assetbuild, not of the sources)",
        code="no-sourcemap",
    )
