"""The result of minifying one file, whichever the language."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Minified:
    """Minified text and how it was made.

    `method`: the fast minifier ("rjsmin", "rcssmin") or the safe one ("safe"), both verified to
    keep the program or stylesheet; "none" means the input, unchanged.
    """

    text: str
    method: str


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate, on which rjsmin's and rcssmin's C code crash.

    Sources are strict UTF-8 and token values are checked (config.py), so none should; the
    minifiers are guarded all the same, since a crash would take the whole process down.
    """
    return not text.isascii() and _LONE_SURROGATE.search(text) is not None
