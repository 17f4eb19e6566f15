"""The safe minifier: re-emit esprima's own tokens with the least separation that keeps them apart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from assetbuild.js.check import is_license_comment, parse_script, run_deep

_LINE_TERMINATOR = re.compile("[\n\r\u2028\u2029]")

_ALL = (
    "{ } ( ) [ ] . ... ; , < > <= >= == != === !== + - * / % ** ++ -- << >> >>> & | ^ ! ~ "
    "&& || ?? ? ?. : = += -= *= /= %= **= <<= >>= >>>= &= |= ^= &&= ||= ??= => #"
)
_FREE_BEFORE = (
    ") ] } ; , . ?. : ? = += -= *= %= **= <<= >>= >>>= &= |= ^= &&= ||= ??= "
    "== != === !== < > <= >= && || ?? % & | ^ << >> >>>"
)
PUNCTUATORS = frozenset(_ALL.split())
_PREFIXES = frozenset(p[:i] for p in PUNCTUATORS for i in range(1, len(p) + 1))

# A line break after these punctuators can never end a statement (ASI would make a `;` that is
# not allowed there) and no restricted production follows them, so the break carries no meaning.
_BREAK_FREE_AFTER = PUNCTUATORS - {")", "]", "}", "++", "--"}
# Likewise before these: none can start a statement or class element, and none is restricted.
_BREAK_FREE_BEFORE = frozenset(_FREE_BEFORE.split())


class Piece(NamedTuple):
    """One thing to emit: a token or a comment that must survive.

    A named tuple: a big library has a million of them, and a frozen dataclass took 0.7 s more.
    """

    kind: str  # esprima token type, or "LineComment" / "BlockComment"
    text: str
    start: int
    end: int


def minify(text: str) -> str | None:
    """Minify by re-emitting tokens; None when the text cannot be tokenized."""
    lexed = _lex(text)
    if lexed is None:
        return None
    pieces, parsed = lexed
    out = emit(text, pieces)
    # Unparseable input is lexed by esprima's heuristic tokenizer, which reads an
    # unterminated regex as `/`; only an output that lexes the same is returned.
    if not parsed and _kinds_and_texts(pieces_of(out)) != _kinds_and_texts(pieces):
        return None
    return out


def _kinds_and_texts(pieces: list[Piece] | None) -> list[tuple[str, str]] | None:
    return None if pieces is None else [(p.kind, p.text) for p in pieces]


def pieces_of(text: str) -> list[Piece] | None:
    """The tokens and kept comments of a text, in order (parser tokens when it parses)."""
    lexed = _lex(text)
    return None if lexed is None else lexed[0]


def _lex(text: str) -> tuple[list[Piece], bool] | None:
    program = parse_script(text, tokens=True, comments=True)
    if program is not None:
        raw = [(t.type, t.range) for t in program.tokens]
        raw += [(f"{c.type}Comment", c.range) for c in program.comments]
    else:
        try:
            raw = run_deep(lambda: _tokenize(text))
        except Exception:
            return None
    pieces: list[Piece] = []
    for kind, (start, end) in raw:
        piece = Piece(kind, text[start:end], start, end)
        if kind.endswith("Comment") and not is_license_comment(piece.text):
            continue
        pieces.append(piece)
    pieces.sort(key=lambda p: p.start)
    return pieces, program is not None


def _tokenize(text: str) -> list[tuple[str, tuple[int, int]]]:
    import esprima

    options = {"range": True, "comment": True, "positionEncoding": "scalar"}
    return [(t.type, tuple(t.range)) for t in esprima.tokenize(text, options)]


def emit(text: str, pieces: list[Piece]) -> str:
    """Join pieces with a line break where the source had one that matters, else a space or nothing."""
    out: list[str] = []
    prev: Piece | None = None
    position = 0
    hashbang = _hashbang_end(text)
    if hashbang:
        out.append(text[:hashbang])
        prev = Piece("LineComment", text[:hashbang], 0, hashbang)
        position = hashbang
    for piece in pieces:
        if piece.start < position:
            continue  # the hashbang, already emitted
        if prev is not None:
            out.append(_separator(prev, piece, text[position : piece.start]))
        out.append(piece.text)
        prev, position = piece, piece.end
    return "".join(out)


def _hashbang_end(text: str) -> int:
    if not text.startswith("#!"):
        return 0
    found = _LINE_TERMINATOR.search(text)
    return found.start() if found else len(text)


def _separator(prev: Piece, piece: Piece, gap: str) -> str:
    if prev.kind == "LineComment":
        return "\n"
    # Most gaps are empty or one space: no line terminator to look for.
    if gap and gap != " " and _LINE_TERMINATOR.search(gap) and not _break_is_free(prev, piece):
        return "\n"
    return " " if needs_space(prev, piece) else ""


def _break_is_free(prev: Piece, piece: Piece) -> bool:
    if prev.kind.endswith("Comment") or piece.kind.endswith("Comment"):
        return False
    if prev.kind == "Punctuator" and prev.text in _BREAK_FREE_AFTER:
        return True
    if prev.kind == "Template" and prev.text.endswith("${"):
        return True
    if piece.kind == "Punctuator" and piece.text in _BREAK_FREE_BEFORE:
        return True
    return piece.kind == "Template" and piece.text.startswith("}")


# ASCII letters and digits, `$`, `_` and `\\`: with every non-ASCII character, what may continue
# an identifier, a number or a regex's flags (str.isalnum() is the same test on ASCII).
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$_\\")


def needs_space(prev: Piece, piece: Piece) -> bool:
    """Would the two texts, written together, lex differently?"""
    left, right = prev.text[-1], piece.text[0]
    # Inlined: this runs once per token pair (a million times for a big library).
    right_word = right in _ASCII_WORD or right > "\x7f"
    if (left in _ASCII_WORD or left > "\x7f") and (right_word or right == "#"):
        return True
    if prev.kind == "Numeric" and (right_word or right == "."):
        return True
    if prev.kind == "RegularExpression" and right_word:
        return True  # would read as flags
    if left == "." and right.isdigit():
        return True
    if left == "/" and right in "/*":
        return True  # would open a comment
    if left == "<" and right == "!":
        return True  # `<!--` opens an HTML-like comment
    if prev.text.endswith("--") and right == ">":
        return True  # `-->` at a line start is an HTML-like comment
    return prev.kind == "Punctuator" and prev.text + right in _PREFIXES


def tokens_of(text: str) -> Iterator[tuple[str, str]]:
    """(type, text) of each token, for tests and diagnostics."""
    pieces = pieces_of(text) or []
    for piece in pieces:
        if not piece.kind.endswith("Comment"):
            yield piece.kind, piece.text
