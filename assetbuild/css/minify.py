"""CSS minification that never ships an unverified result: rcssmin, else the safe minifier."""

from __future__ import annotations

import rcssmin

from assetbuild.css.tokens import COMMENT, closed_comment, tokenize
from assetbuild.css.walk import is_license, preprocess, safe_minify, stylesheet_facts
from assetbuild.minified import Minified, has_lone_surrogate


def minify_css(text: str) -> Minified:
    """rcssmin when it provably keeps the stylesheet and its license comments, else the safe path."""
    expected = stylesheet_facts(text)
    fast = _rcssmin_or_none(text)
    # Output equal to the source is the source's stylesheet: nothing to verify.
    if fast is not None and (fast == text or stylesheet_facts(fast) == expected):
        return Minified(fast, "rcssmin")
    # Built only when rcssmin fails; the walk reuses the source's tokens (csstokens.tokenize).
    safe = safe_minify(text)
    if stylesheet_facts(safe) == expected:
        return Minified(safe, "safe")
    return Minified(text, "none")


def _rcssmin_or_none(text: str) -> str | None:
    """rcssmin's output, or None where its C code fails on the text.

    It crashes the process on a lone surrogate (sources are strict UTF-8, but a token value
    from the command line can carry one), and raises UnicodeDecodeError on some non-ASCII
    text in an unterminated comment (`>/**é`).
    """
    if has_lone_surrogate(text):
        return None
    try:
        return _rcssmin(text)
    except UnicodeError:
        return None


def _rcssmin(text: str) -> str:
    """rcssmin keeping `/*! */` comments, and @license/@preserve ones too.

    rcssmin keeps only bang comments, so the others are marked with a `!` for the run
    and unmarked afterwards.
    """
    norm = preprocess(text)
    marked = _plain_license_comments(norm)
    if not marked:
        return str(rcssmin.cssmin(norm, keep_bang_comments=True))
    pieces: list[str] = []
    pos = 0
    for offset in marked:
        pieces.append(norm[pos : offset + 2])
        pieces.append("!")
        pos = offset + 2
    pieces.append(norm[pos:])
    out = str(rcssmin.cssmin("".join(pieces), keep_bang_comments=True))
    for offset in marked:
        end = norm.index("*/", offset + 2)
        original = norm[offset : end + 2]
        bang = "/*!" + original[2:]
        found = out.find(bang)
        if found >= 0:
            out = out[:found] + original + out[found + len(bang) :]
    return out


def _plain_license_comments(norm: str) -> list[int]:
    """Offsets of the @license/@preserve comments that do not start with `!`."""
    if "@license" not in norm and "@preserve" not in norm:
        return []  # no comment can be one (is_license): skip tokenizing
    tokens = tokenize(norm)
    found: list[int] = []
    offset = 0
    for tok, info in zip(tokens.toks, tokens.infos, strict=True):
        # An unterminated comment (at the end of the text) is left alone.
        if (
            info[0] == COMMENT
            and closed_comment(tok)
            and is_license(info[4])
            and info[4][:1] != "!"
        ):
            found.append(offset)
        offset += len(tok)
    return found
