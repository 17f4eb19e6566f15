"""Scripts' maps made in the engine, a batch at a time: where the tokens already are.

`align.mappings`, `align.encoded` and `verify.verify_file` cost a few Python objects per token (a
big library has a million tokens); harness.js's `mapAll` does the same work in V8 and answers one
string a file. Its tokens are the ones meriyah met while checking the file (`check_scripts(...,
mapped=...)` keeps them) once they are proven to tile the text, else acorn's: no third parse. The result is the same `FileMap`, byte for byte (tests/test_maps_engine.py compares
the two on every minifier path and on real libraries). A file the engine does not map (no engine, an
input map to compose, lone surrogates, a pairing or proof that fails) is None: the caller takes
the Python path, `compose.mapped_file`, which composes input maps and says why a map cannot be made.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assetbuild.maps.align import FileMap
from assetbuild.maps.compose import find_url
from assetbuild.sources import SourceFile

if TYPE_CHECKING:
    from assetbuild.js.engine import ScriptMapJob

# A script to map: the file, the text the minifier was given, its output, and the shift (in code
# points) from that text into `src.text` (a hashbang line the check dropped).
ScriptToMap = tuple[SourceFile, str, str, int]

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def script_maps(items: Sequence[ScriptToMap]) -> list[FileMap | None]:
    """Each script's proven map, made in the engine in one call; None where it was not made."""
    from assetbuild.js.check import engine_name

    made: list[FileMap | None] = [None] * len(items)
    sent = [i for i, item in enumerate(items) if find_url(item[0].original) is None]
    if not sent or engine_name() != "v8":
        return made
    from assetbuild.js import engine

    answers = engine.script_maps([_job(*items[i]) for i in sent])
    for i, answer in zip(sent, answers, strict=True):
        if answer is None:
            continue
        src = items[i][0]
        first = tuple(answer[1:6])
        last = tuple(answer[6:11])
        made[i] = FileMap(answer[0], (str(src.path),), (src.original,), (), first, last)
    return made


def _job(src: SourceFile, text: str, output: str, shift: int) -> ScriptMapJob:
    """The engine's job: offsets in UTF-16 units, as JavaScript strings count them."""
    in_text = _utf16(src.text)
    in_original = in_text if src.original is src.text else _utf16(src.original)
    units = in_text(shift)  # the dropped text is the start of `src.text`
    edits = tuple(
        n
        for e in src.edits
        for n in (
            in_text(e.start),
            in_text(e.end),
            in_original(e.orig_start),
            in_original(e.orig_end),
        )
    )
    return (text, output, src.original, units, edits)


def _utf16(text: str) -> Callable[[int], int]:
    """A code-point offset of `text` as UTF-16 units (each astral character counts two)."""
    if text.isascii() or len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text):
        return _same  # no astral character (the encoding is ~15x faster than a search)
    astral = [m.start() for m in _ASTRAL.finditer(text)]
    if not astral:
        return _same
    return lambda offset: offset + bisect.bisect_left(astral, offset)


def _same(offset: int) -> int:
    return offset
