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
