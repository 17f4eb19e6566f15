"""Input source maps: a source that carries its own map is mapped through it to its own sources."""

from __future__ import annotations

import base64
import bisect
import json
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from assetbuild.maps.align import FileMap, Mapping, encoded, mappings
from assetbuild.maps.text import LineIndex, breaks_for
from assetbuild.maps.vlq import VlqError, decode_mappings
from assetbuild.sources import SourceFile

# The last `sourceMappingURL` comment of a file: `//# ...` (JS; `//@` is the old spelling) or
# `/*# ... */` (CSS, and JS).
_URL_COMMENT = re.compile(
    r"(?://[#@][ \t]*sourceMappingURL=([^\s'\"]*)[ \t]*"
    r"|/\*[#@][ \t]*sourceMappingURL=([^\s*]*)[ \t]*\*/)"
)
# The same at the very end of a text, with the line break before it: removed from the bundle.
TRAILING_URL_COMMENT = re.compile(
    r"(?:\r\n|[\n\r\u2028\u2029])?[ \t]*"
    r"(?://[#@][ \t]*sourceMappingURL=[^\s'\"]*[ \t]*|/\*[#@][ \t]*sourceMappingURL=[^\s*]*[ \t]*\*/)"
    r"\s*\Z"
)
MAX_MAP_BYTES = 64 * 2**20


class InputMapProblem(Exception):
    """A named input map that cannot be used (a warning: the file is mapped to itself)."""


def strip_url_comment(text: str) -> str:
    """The text without a trailing `sourceMappingURL` comment (an input's, pointing at its map)."""
    found = TRAILING_URL_COMMENT.search(text)
    if found is None:
        return text
    end = text[found.start() :]
    return text[: found.start()] + ("\n" if end[:1] in ("\n", "\r") else "")


def find_url(text: str) -> str | None:
    """The URL the file's last `sourceMappingURL` comment names, if any (looked for at the end)."""
    tail = text[-4096:] if len(text) > 4096 else text
    matches = list(_URL_COMMENT.finditer(tail))
    found = matches[-1] if matches else None
    if found is None:
        # A data: URL is long: search the whole text from its last comment.
        at = max(text.rfind("sourceMappingURL=data:"), -1)
        if at < 0:
            return None
        found = _URL_COMMENT.search(text, max(0, at - 8))
        if found is None:
            return None
    return found.group(1) or found.group(2) or None


def load(url: str, base: Path, text: str | None = None) -> tuple[dict[str, Any], Path]:
    """The map a URL names (a data: URL, or a file relative to `base`; `text`: that file's text,
    already read), and the directory its sources are relative to."""
    if url.startswith("data:"):
        header, _, payload = url[5:].partition(",")
        try:
            if header.endswith(";base64"):
                raw = base64.b64decode(payload, validate=False)
            else:
                raw = urllib.parse.unquote_to_bytes(payload)
        except ValueError as exc:
            raise InputMapProblem(f"its data: URL does not decode ({exc})") from None
        return _parse(raw), base
    if text is not None:
        return _parse(text.encode("utf-8", "surrogatepass")), _map_path(url, base).parent
    text, path = read_map_file(url, base)
    return _parse(text.encode("utf-8", "surrogatepass")), path.parent


def _map_path(url: str, base: Path) -> Path:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme or parsed.netloc or not parsed.path:
        raise InputMapProblem(f"its map {url!r} is not a file beside it")
    return Path(os.path.normpath(base / urllib.parse.unquote(parsed.path)))


def read_map_file(url: str, base: Path) -> tuple[str, Path]:
    """The text of the map file a relative URL names, and its path; InputMapProblem if unreadable."""
    path = _map_path(url, base)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_MAP_BYTES + 1)
    except OSError as exc:
        raise InputMapProblem(f"its map {url} cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_MAP_BYTES:
        raise InputMapProblem(f"its map {url} is larger than {MAX_MAP_BYTES >> 20} MB")
    return raw.decode("utf-8", "surrogateescape"), path


def _parse(raw: bytes) -> dict[str, Any]:
    if raw.startswith(b")]}'"):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputMapProblem(f"its map is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != 3:
        raise InputMapProblem("its map is not a version 3 source map")
    if "sections" in data:
        raise InputMapProblem("its map is an index map (sections), which is not read")
    if not isinstance(data.get("mappings"), str) or not isinstance(data.get("sources"), list):
        raise InputMapProblem("its map has no mappings or sources")
    return data


def mapped_file(
    kind: str,
    src: SourceFile,
    input_text: str,
    output: str,
    shift: int,
    input_map: str | None = None,
    *,
    compose: bool = True,
) -> FileMap:
    """One file's map, proven: `align.mappings`, then (with `compose`) on through the file's input
    map, if it names one (`input_map`: the text of that map's file, as the caller read it).

    NoMap or MapProblem when no true map can be made; InputMapProblem when the input map is named
    but unusable (the caller maps the file to itself instead).
    """
    from assetbuild.maps.verify import verify_file

    found = mappings(kind, src, input_text, output, shift=shift)
    sources: tuple[str, ...] = (str(src.path),)
    contents: tuple[str | None, ...] = (src.original,)
    vendor: tuple[int, ...] = ()
    if compose:
        url = find_url(src.original)
        if url is not None:
            sources, contents = _composed(kind, src, url, found, input_map)
            vendor = tuple(range(1, len(sources)))
    fmap = encoded(found, sources, contents, vendor)
    verify_file(kind, output, fmap, found)
    return fmap


def _composed(
    kind: str, src: SourceFile, url: str, found: list[Mapping], input_map: str | None
) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """`found` (mapped into the file itself) mapped on, in place, through the map `url` names; the
    sources, the file itself first. InputMapProblem when that map is unusable."""
    data, base = load(url, src.path.parent, input_map)
    try:
        lines = decode_mappings(data["mappings"])
    except VlqError as exc:
        raise InputMapProblem(f"its map's mappings are malformed ({exc})") from None
    breaks = breaks_for(kind)
    root = data.get("sourceRoot") or ""
    names = data["sources"]
    given = data.get("sourcesContent") or []
    sources: list[str] = [str(src.path)]
    texts: list[str | None] = [src.original]
    for i, name in enumerate(names):
        content = given[i] if i < len(given) and isinstance(given[i], str) else None
        sources.append(_resolve(base, root, name if isinstance(name, str) else ""))
        texts.append(content)
    columns = [[seg[0] for seg in line] for line in lines]
    indexes: dict[int, LineIndex] = {}
    for mapping in found:
        line, col = mapping[3], mapping[4]
        if line >= len(lines):
            continue
        at = bisect.bisect_right(columns[line], col) - 1
        if at < 0:
            continue
        seg = lines[line][at]
        if len(seg) < 4:
            continue  # the input map says this maps to nothing: it stays in the file itself
        if not 0 <= seg[1] < len(names):
            raise InputMapProblem(f"its map names source {seg[1]}, which it has not")
        target = seg[1] + 1
        content = texts[target]
        if content is not None:
            index = indexes.get(target) or indexes.setdefault(target, LineIndex(content, breaks))
            if index.offset(seg[2], seg[3]) is None:
                raise InputMapProblem(
                    f"its map points outside its source {names[seg[1]]} ({seg[2] + 1}:{seg[3]})"
                )
        mapping[2:6] = [target, seg[2], seg[3], 0]  # another text: not checked token by token
    return tuple(sources), tuple(texts)


def _resolve(base: Path, root: str, name: str) -> str:
    """A source of an input map as an absolute path (or the URL it is, with a scheme)."""
    joined = root.rstrip("/") + "/" + name if root and not name.startswith("/") else name
    parsed = urllib.parse.urlsplit(joined)
    if parsed.scheme and len(parsed.scheme) > 1:  # `webpack://...`; `C:` is a drive
        return joined
    return os.path.normpath(os.path.join(base, urllib.parse.unquote(parsed.path)))
