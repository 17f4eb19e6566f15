"""The result of minifying one file, whichever the language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Minified:
    """Minified text and how it was made.

    `method`: the fast minifier ("rjsmin", "rcssmin") or the safe one ("safe"), both verified to
    keep the program or stylesheet; "none" means the input, unchanged.
    """

    text: str
    method: str


def has_lone_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate, on which rjsmin's and rcssmin's C code crash.

    Python keeps bytes of arguments and environment variables that are not UTF-8 as lone
    surrogates. Sources are strict UTF-8 and config.py refuses such token values, so no text to
    minify should hold one; the minifiers check all the same, since a crash takes the process down.
    """
    if text.isascii():
        return False
    try:
        text.encode("utf-8")  # fails on any surrogate code point; 4x faster than the search
    except UnicodeEncodeError:
        return True
    return False
