"""Relative url()s rewritten so they point at the same files from where the bundle is installed.

A relative URL in a stylesheet is resolved against the stylesheet's own URL. Sources live
in one directory and the bundle in another (`css/source/` and `css/8/`), so each relative
reference is rewritten to reach the same file from the bundle's directory. A reference
that already does (same depth: `../img/a.png`) is left byte for byte as written.
References are found on the shared tokens (`csstokens`); `tree_find_references` in
`tests/oracles/cssoracle.py` is the same search over tinycss2's tree, the tests' oracle.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from assetbuild.css.tokens import (
    AT,
    COMMENT,
    LEAF,
    OPEN_CURLY,
    OPEN_FN,
    PAIR,
    SEMI,
    WS,
    Info,
    Tokens,
    text_offsets,
    tokenize,
)
from assetbuild.css.walk import preprocess
from assetbuild.diagnostics import Diagnostic
from assetbuild.sources import Edit, SourceFile
from assetbuild.versions import is_version_name

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_TOKEN = re.compile(r"\{\$[A-Za-z_][A-Za-z0-9_]*\}|<\$[A-Za-z_][A-Za-z0-9_]*>")
_UNQUOTED = re.compile(
    r"""url\([ \t\r\n\f]*((?:[^ \t\r\n\f()"'\\]|\\(?:[0-9A-Fa-f]{1,6}(?:\r\n|[ \t\r\n\f])?|[^\r\n\f0-9A-Fa-f]))*+)""",
    re.IGNORECASE,
)
_QUOTED = {
    '"': re.compile(r'"((?:[^"\\\r\n\f]|\\(?:\r\n|[\s\S]))*+)"'),
    "'": re.compile(r"'((?:[^'\\\r\n\f]|\\(?:\r\n|[\s\S]))*+)'"),
}
# A bare name beside the bundles that could be taken for one (or for its precompressed variant).
_BUNDLE_LIKE = re.compile(r"\.(?:m?js|css|gz|br)$", re.IGNORECASE)
_IMAGE_SETS = frozenset({"image-set", "-webkit-image-set"})
# Serialization types (csstokens.Info[2]) of the tokens that can hold a URL: url tokens,
# functions, and "error" for an unterminated url() at the end (csstokens.PAIR).
_MAY_HOLD_URL = frozenset({"url", "function", "error"})
# Text without any of these holds no reference: every url token, url()/src()/image-set()
# function and @import spells its name in the text, unless an escape writes it (`u\72l(`).
# Case-insensitively, and a superset under Unicode case folding (the Kelvin sign matches k).
_MAY_REFER = re.compile(r"url\(|src\(|image-set\(|@import|\\", re.IGNORECASE)


@dataclass(frozen=True)
class _Reference:
    """One URL in the text: where its written form is, and its value."""

    start: int  # the url( or string, for diagnostics
    span: tuple[int, int]  # what a rewrite replaces
    value: str
    quote: str  # '"', "'" or "" (unquoted url())
    # in an @import rule: a stylesheet, never copied as an asset (not part of the oracle's equality)
    is_import: bool = dataclasses.field(default=False, compare=False)


def rewrite_urls(
    src: SourceFile,
    source_dir: Path,
    output_dir: Path,
    root: Path,
    *,
    check_exists: bool = True,
) -> tuple[str, tuple[Diagnostic, ...]]:
    """Rewrite relative url()s of `src.text` for a bundle installed in `output_dir`; warn on missing files."""
    rewritten, diagnostics = rewrite_source(
        src, source_dir, output_dir, root, check_exists=check_exists
    )
    return rewritten.text, diagnostics


def rewrite_source(
    src: SourceFile,
    source_dir: Path,
    output_dir: Path,
    root: Path,
    *,
    check_exists: bool = True,
) -> tuple[SourceFile, tuple[Diagnostic, ...]]:
    """Like `rewrite_urls`, returning the file with its edits, so later offsets map to the original."""
    rewritten, diagnostics, _ = rewrite_with_assets(
        src, source_dir, output_dir, root, check_exists=check_exists, copy_assets=False
    )
    return rewritten, diagnostics


def asset_place(target: str, area_dir: str, root: str) -> str | None:
    """Where a file that a stylesheet refers to goes, relative to the bundle's directory; None when
    it is not copied (outside the root, hidden, or inside a version directory).

    Below the area's `source/` directory the layout is kept: `css/source/fonts/a.woff` goes to
    `css/<N>/fonts/a.woff`, so `url(fonts/a.woff)` in `css/source/main.css` stays as written. Any
    other file in the root goes to `assets/` under its name and a hash of its path from the root
    (`vendor/katex/fonts/x.woff` to `css/<N>/assets/x-1f2e3d4c5b6a.woff`): distinct files get
    distinct places, and no place has a `source/` directory in it (servers hide those).
    """
    if not _inside(target, root) or target == root:
        return None
    rel = Path(os.path.relpath(target, root)).as_posix()
    parts = rel.split("/")
    if any(part.startswith(".") for part in parts) or any(is_version_name(p) for p in parts):
        return None  # hidden files (.git, the cache, .env) and published versions are never copied
    sources = os.path.join(area_dir, "source")
    if _inside(target, sources) and target != sources:
        kept = Path(os.path.relpath(target, sources)).as_posix()
        segments = kept.split("/")
        if (
            segments[0] != "assets"
            and "source" not in segments
            and ("/" in kept or not _BUNDLE_LIKE.search(kept))
        ):
            return kept
    stem, dot, ext = parts[-1].rpartition(".")
    if not dot or not stem:
        stem, ext = parts[-1], ""
    digest = hashlib.sha256(rel.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"assets/{stem}-{digest}" + (f".{ext}" if ext else "")


def rewrite_with_assets(
    src: SourceFile,
    source_dir: Path,
    output_dir: Path,
    root: Path,
    *,
    check_exists: bool = True,
    copy_assets: bool = True,
    base: str = "",
) -> tuple[SourceFile, tuple[Diagnostic, ...], tuple[tuple[str, str], ...]]:
    """Rewrite relative url()s to the copies of their files beside the bundle (see `asset_place`),
    and return those files as (place relative to the bundle's directory, absolute source path).

    A local stylesheet named by an @import (`.css`) is such a file too: its copy is itself
    rewritten when it is read (install/assets), `base` then being the directory of its place,
    so the url()s of the copy lead to the copies of its files. Another @import, a reference that
    leaves the root, and one to a hidden file or a version directory are rewritten to reach the
    file where it is, as before; whether the file can be copied (a regular file of bounded size
    inside the root) is decided when it is read (install/assets).
    """
    source_abs = os.path.abspath(source_dir)
    area_abs = os.path.dirname(os.path.abspath(output_dir))
    root_abs_for_assets = os.path.abspath(root)
    assets: dict[str, str] = {}
    here = os.path.join(os.path.abspath(output_dir), *base.split("/")) if base else output_dir
    dir_rel = quote(Path(os.path.relpath(source_abs, os.path.abspath(here))).as_posix())
    pieces: list[str] = []
    pos = 0
    url_edits: list[tuple[int, int, str]] = []  # (start, end) in src.text, replacement
    missing: dict[str, list[_Reference]] = {}
    edits = _Edits(src)
    for ref in _references(src.text):
        if not _rewritable(src, edits, ref):
            continue
        path, rest = _split(ref.value.strip(" \t\r\n\f"))
        target = os.path.normpath(os.path.join(source_abs, unquote(path)))
        if check_exists and not os.path.exists(target):
            missing.setdefault(target, []).append(ref)
        place = None
        copied = not ref.is_import or unquote(path).lower().endswith(".css")
        if copy_assets and copied and path and not path.endswith("/"):
            place = asset_place(target, area_abs, root_abs_for_assets)
        if place is not None:
            assets.setdefault(place, target)
            new_path: str | None = quote(posixpath.relpath(place, base) if base else place)
            if new_path == path:
                new_path = None
        else:
            new_path = _relocate(path, dir_rel)
        if new_path is not None:
            url_edits.append((*ref.span, _written(new_path + rest, ref.quote)))
    for start, end, replacement in url_edits:
        pieces.append(src.text[pos:start])
        pieces.append(replacement)
        pos = end
    pieces.append(src.text[pos:])
    root_abs = os.path.abspath(root)
    diagnostics = tuple(_missing(src, refs, target, root_abs) for target, refs in missing.items())
    found = tuple(sorted(assets.items()))
    if not url_edits:
        return src, diagnostics, found
    rewritten = SourceFile(
        src.path, src.display, src.original, "".join(pieces), _compose(src, edits, url_edits)
    )
    return rewritten, diagnostics, found


def _compose(
    src: SourceFile, edits: _Edits, url_edits: list[tuple[int, int, str]]
) -> tuple[Edit, ...]:
    """The token edits and the url edits, in the new text's offsets, mapped to the original."""
    # (start, end) in src.text, new length, original span, and whether the text moved there.
    # Url edits never overlap token edits: references holding a token are left alone.
    changes = sorted(
        [(e.start, e.end, e.end - e.start, e.orig_start, e.orig_end, False) for e in src.edits]
        + [
            (start, end, len(text), edits.original_offset(start), edits.original_offset(end), True)
            for start, end, text in url_edits
        ]
    )
    composed: list[Edit] = []
    delta = 0  # how far the url edits so far moved the text
    for start, end, length, orig_start, orig_end, moves in changes:
        composed.append(Edit(start + delta, start + delta + length, orig_start, orig_end))
        if moves:
            delta += length - (end - start)
    return tuple(composed)


def _relocate(path: str, dir_rel: str) -> str | None:
    """The path from the output directory, or None when the written one already reaches the file."""
    if dir_rel == ".":
        return None
    moved = posixpath.normpath(posixpath.join(dir_rel, path))
    if path.endswith("/") and not moved.endswith("/"):
        moved += "/"
    if moved == path or posixpath.normpath(path) == posixpath.normpath(moved):
        return None
    return moved


class _Edits:
    """The token edits of a file, searchable in log time (a sprite sheet has thousands)."""

    def __init__(self, src: SourceFile) -> None:
        self.edits = src.edits
        self.ends = [edit.end for edit in src.edits]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.ends, start)
        return i < len(self.edits) and self.edits[i].start < end

    def original_offset(self, offset: int) -> int:
        """Like SourceFile.original_offset, for an offset outside every edit."""
        i = bisect.bisect_right(self.ends, offset)
        if i == 0:
            return offset
        before = self.edits[i - 1]
        return offset + before.orig_end - before.end


def _rewritable(src: SourceFile, edits: _Edits, ref: _Reference) -> bool:
    """Relative references only, and none that a token substitution wrote or could write."""
    value = ref.value.strip(" \t\r\n\f")
    if not value or value[0] in "#/?" or _SCHEME.match(value) or "\\" in value:
        return False
    start, end = ref.span
    if edits.overlaps(start, end):
        return False
    original = src.original[edits.original_offset(start) : edits.original_offset(end)]
    return _TOKEN.search(original) is None and _TOKEN.search(value) is None


def _split(value: str) -> tuple[str, str]:
    """Path, and the query and fragment that follow it (kept as written)."""
    cut = min((i for i in (value.find("?"), value.find("#")) if i >= 0), default=len(value))
    return value[:cut], value[cut:]


def _written(value: str, quote_char: str) -> str:
    if quote_char:
        escaped = value.replace("\\", "\\\\").replace(quote_char, "\\" + quote_char)
        escaped = escaped.replace("\n", "\\a ")
        return f"{quote_char}{escaped}{quote_char}"
    out = []
    for char in value:
        if char in "\\()'\" ":
            out.append("\\" + char)
        elif char in " \t\r\n\f" or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return "".join(out)


def _missing(src: SourceFile, refs: list[_Reference], target: str, root: str) -> Diagnostic:
    shown = os.path.relpath(target, root) if _inside(target, root) else target
    more = f" (and {len(refs) - 1} more times)" if len(refs) > 1 else ""
    return src.diagnostic(
        "warning",
        f"url() points at a missing file: {refs[0].value.strip()} "
        f"(looked for {Path(shown).as_posix()}){more}",
        refs[0].start,
        code="missing-asset",
    )


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _references(text: str) -> list[_Reference]:
    """Every url(), src() and image-set() URL, and @import strings, in text order."""
    return sorted(_find_references(text), key=lambda ref: ref.span)


def _find_references(text: str) -> Iterator[_Reference]:
    if _MAY_REFER.search(text) is None:
        return
    tokens = tokenize(preprocess(text))
    toks, infos, jump = tokens.toks, tokens.infos, tokens.jump
    starts = tokens.starts
    to_text = text_offsets(text)

    def quoted(i: int) -> _Reference | None:
        start = to_text(starts[i])
        quote_char = text[start] if start < len(text) else ""
        pattern = _QUOTED.get(quote_char)
        match = pattern.match(text, start) if pattern else None
        if match is None:
            return None
        return _Reference(start, (start, match.end()), _leaf(infos[i])[1], quote_char)

    def unquoted(i: int) -> _Reference | None:
        start = to_text(starts[i])
        match = _UNQUOTED.match(text, start)
        return None if match is None else _Reference(start, match.span(1), _leaf(infos[i])[1], "")

    if not _has_import_rules(tokens):
        # Then only url tokens and url()/src()/image-set() functions matter: look at no other.
        flags = map(_MAY_HOLD_URL.__contains__, map(itemgetter(2), infos))
        for i in compress(range(len(infos)), flags):
            if infos[i][0] == OPEN_FN:
                yield from _function_references(infos[i][5], i, tokens, quoted)
            elif _leaf(infos[i])[0] == "url":
                ref = unquoted(i)
                if ref is not None:
                    yield ref
        return
    depth = 0  # blocks open; the @import/@namespace rules are read at the top level only
    skip_until_semicolon = expect_import = in_import = False
    i, n = 0, len(toks)
    while i < n:
        info = infos[i]
        code = info[0]
        if code == COMMENT:
            i += 1
            continue
        if depth == 0:
            if code == AT:
                skip_until_semicolon = info[5] == "namespace"  # its URL names a namespace
                expect_import = in_import = info[5] == "import"
                i += 1
                continue
            if code in (SEMI, OPEN_CURLY):
                skip_until_semicolon = expect_import = in_import = False
            if skip_until_semicolon:
                i = jump[i] + 1 if code >= OPEN_FN else i + 1  # with whatever it nests
                continue
        if code == WS:
            i += 1
            continue
        kind = _leaf(info)[0] if code in (LEAF, PAIR) else ""
        if expect_import and kind == "string":
            ref = quoted(i)
            if ref is not None:
                yield dataclasses.replace(ref, is_import=True)
        expect_import = False
        if kind == "url":
            ref = unquoted(i)
            if ref is not None:
                yield dataclasses.replace(ref, is_import=in_import)
        elif code == OPEN_FN:
            for ref in _function_references(info[5], i, tokens, quoted):
                yield dataclasses.replace(ref, is_import=in_import)
        if code >= OPEN_FN:
            depth += 1 if code <= OPEN_CURLY else -1
        i += 1


def _has_import_rules(tokens: Tokens) -> bool:
    """Whether an @import or @namespace at-keyword is anywhere in the text."""
    codes, infos = tokens.codes, tokens.infos
    i = codes.find(AT)
    while i >= 0:
        if infos[i][5] in ("import", "namespace"):
            return True
        i = codes.find(AT, i + 1)
    return False


def _function_references(
    name: str, i: int, tokens: Tokens, quoted: Callable[[int], _Reference | None]
) -> Iterator[_Reference]:
    """The quoted URLs of url("..."), src("...") and image-set("...", ...) at `i`."""
    infos, jump = tokens.infos, tokens.jump
    end = jump[i]
    if name in ("url", "src"):
        k = i + 1
        while k < end and infos[k][0] in (WS, COMMENT):
            k += 1
        candidates = [k] if k < end else []
    elif name in _IMAGE_SETS:
        candidates = []
        k = i + 1
        while k < end:
            candidates.append(k)
            k = jump[k] + 1 if infos[k][0] >= OPEN_FN else k + 1
    else:
        return
    for k in candidates:
        if infos[k][0] in (LEAF, PAIR) and _leaf(infos[k])[0] == "string":
            ref = quoted(k)
            if ref is not None:
                yield ref


def _leaf(info: Info) -> tuple[Any, ...]:
    """A leaf token's key; the first of tinycss2's two nodes for an unterminated one."""
    key: tuple[Any, ...] = info[1][0] if info[0] == PAIR else info[1]
    return key
