"""CSS Syntax tokens from one compiled regular expression: the fast path of cssnorm and urls.

`tokenize` splits preprocessed text (`cssnorm.preprocess`) into contiguous token strings with
one `re.findall` (the scanning runs in C), then classifies each distinct string once. It gives
exactly tinycss2's tokens (tinycss2 1.5 `parse_component_value_list`, the oracle of the tests),
including its quirks: `u+` ranges, `\\` at the end of the text read as U+FFFD, `url(` spelled
with escapes, unterminated strings, url()s and comments at the end, bad strings and bad url()s.
Block structure is flat: `jump[i]` is the index of the closer that matches the opener at `i`.

Every alternative of the pattern either matches without backtracking into itself (possessive
and atomic groups) or fails at once, so scanning stays linear on hostile input.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, islice
from operator import itemgetter
from typing import Any, Generic, TypeVar

# Token classes (Info.code). Openers and closers come last, so `code >= _OPEN_FN` finds them.
# ERROR is a leaf tinycss2 reads as an error (bad string, bad url, unmatched closer).
WS, COMMENT, LEAF, IDENT, AT, SEMI, COLON, BANG, LITERAL, ERROR, PAIR = range(11)
OPEN_FN, OPEN_PAREN, OPEN_SQUARE, OPEN_CURLY, CLOSE_PAREN, CLOSE_SQUARE, CLOSE_CURLY = range(11, 18)
_FIRST_BRACKET = OPEN_FN
_FIRST_CLOSER = CLOSE_PAREN

# (code, key, first, last, literal, lower): `key` is the comparable form (cssnorm), `first` and
# `last` the tinycss2 serialization types at each end, `literal` the value of a literal (LITERAL,
# SEMI, COLON, BANG) or of a comment, `lower` the ASCII-lowered name (IDENT, AT, OPEN_FN). A PAIR
# is a token tinycss2 reads as two nodes at the end of the text (an unterminated string or url()
# and its error): `key` is then the pair of keys.
Info = tuple[int, Any, Any, Any, Any, Any]

_HEX = "0-9A-Fa-f"
_ESC = rf"\\(?:[{_HEX}]{{1,6}}[ \n\t]?|[^\n]|\Z)"
# Written as the ASCII characters they exclude: `[A-Za-z_\x80-\U0010FFFF]` means the same, but
# Python's regex compiler spends ~4 ms on each class that spells out a range past U+FFFF, and the
# tokenizer uses these dozens of times (135 ms at every start of a process that reads CSS).
_NAME_START = r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]"  # [A-Za-z_] and every non-ASCII character
_NAME_CHAR = r"[^\x00-\x2c\x2e\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"  # [A-Za-z0-9_-] and non-ASCII
_NAME_START_NOT_U = r"[^\x00-\x40U\x5b-\x5e\x60u\x7b-\x7f]"  # _NAME_START but u and U
_IDENT = rf"(?:-(?:-|{_NAME_START}|{_ESC})|{_NAME_START}|{_ESC})(?:{_NAME_CHAR}++|{_ESC})*+"


def _hex_escape(char: str) -> str:
    """The hex escapes (after the `\\`) of a letter in either case: `75`, `0055 `, ..."""
    codes = "|".join(
        "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{ord(x):x}")
        for x in (char, char.upper())
    )
    return rf"(?:0000(?:{codes})|0{{0,3}}(?:{codes})(?![{_HEX}]))[ \n\t]?"


def _letter(char: str) -> str:
    """One letter of `url` as tinycss2 reads it after unescaping and ASCII-lowering."""
    plain = f"[{char}{char.upper()}]"
    return rf"(?:{plain}|\\(?:{_hex_escape(char)}|{plain}))"


_ESCAPED_U = _hex_escape("u")


# `url(` with any spelling of its name: the url token's name is compared after unescaping.
_URL_HEAD = "".join(_letter(c) for c in "url") + r"\("
_URL_BODY = (
    rf"(?:[^ \n\t)\"'(\\\x00-\x08\x0b\x0e-\x1f\x7f]++|\\(?:[{_HEX}]{{1,6}}[ \n\t]?|[^\n])?)*+"
)
_URL = (
    rf"{_URL_HEAD}[ \n\t]*+(?![\"'])(?>{_URL_BODY})[ \n\t]*+"
    r"(?:\)|\Z|(?:\\\)|[^)])*+\)?)"  # closed, at the end, or the remnants of a bad url
)
_STRING_BODY = rf"(?:[^{{q}}\\\n]++|\\(?:[{_HEX}]{{{{1,6}}}}[ \n\t]?|[\s\S])?)*+"
_UNICODE_RANGE = (
    rf"[Uu]\+(?:[{_HEX}]{{5}}\?|[{_HEX}]{{4}}\?{{1,2}}|[{_HEX}]{{3}}\?{{1,3}}"
    rf"|[{_HEX}]{{2}}\?{{1,4}}|[{_HEX}]\?{{1,5}}|\?{{1,6}}"
    rf"|[{_HEX}]{{1,6}}(?:-[{_HEX}]{{1,6}})?)"
)
_NAME = rf"(?:{_NAME_CHAR}++|{_ESC})*+"  # the rest of a name, after its first code point
_URL_REST = _URL[len(_URL_HEAD) :]
_URL_RL = _letter("r") + _letter("l") + r"\("
_EXPONENT = r"(?:[eE][+-]?[0-9]++)?"
_UNIT = rf"(?:{_IDENT}|%)?"
# Each alternative starts with one character or class, which lets the regex engine skip the
# ones that cannot match without entering them. Where two can match at one place, the first
# is what tinycss2 checks first: `u+` ranges and url( before idents, `-->` before `-` idents,
# idents before numbers. The most frequent tokens come first; the last takes any character.
_TOKEN = re.compile(
    "|".join(
        (
            r"[ \n\t]++",
            rf"{_NAME_START_NOT_U}{_NAME}\(?",  # an ident not starting with u
            r"[;:{}(),>\[\]!=%]",
            _UNICODE_RANGE,
            "-->",
            rf"[uU]{_URL_RL}{_URL_REST}",
            rf"\\(?:{_ESCAPED_U}|[uU]){_URL_RL}{_URL_REST}",
            rf"-(?:-|{_NAME_START}|{_ESC}){_NAME}\(?",
            rf"{_NAME_START}{_NAME}\(?",
            rf"{_ESC}{_NAME}\(?",
            # tinycss2's [-+]?([0-9]*\.)?[0-9]+([eE][+-]?[0-9]+)? in three pieces
            rf"[0-9]++(?:\.[0-9]++)?{_EXPONENT}{_UNIT}",
            rf"\.[0-9]++{_EXPONENT}{_UNIT}",
            rf"[-+](?:\.[0-9]++|[0-9]++(?:\.[0-9]++)?){_EXPONENT}{_UNIT}",
            rf"@(?:{_IDENT})?",
            rf"#(?:{_NAME_CHAR}++|{_ESC})*+",
            '"' + _STRING_BODY.format(q='"') + '"?',
            "'" + _STRING_BODY.format(q="'") + "'?",
            r"/\*(?:[^*]*+\*++(?:[^/*][^*]*+\*++)*+/|[\s\S]*)",
            "<!--",
            r"\|\|",
            r"[~|^$*]=",
            r"[\s\S]",
        )
    )
)
_IDENT_START = re.compile(rf"-(?:-|{_NAME_START}|\\(?!\n))|{_NAME_START}|\\(?!\n)")
_URL_PARTS = re.compile(rf"{_URL_HEAD}[ \n\t]*({_URL_BODY})[ \n\t]*(\))?")
_NUMBER_PARTS = re.compile(r"[-+]?(?:([0-9]*\.)?[0-9]+)([eE][+-]?[0-9]+)?")
_ESCAPE = re.compile(rf"\\(?:([{_HEX}]{{1,6}})[ \n\t]?|([^\n])|\Z)")
_URL_ESCAPE = re.compile(rf"\\(?:([{_HEX}]{{1,6}})[ \n\t]?|([^\n]))")
_NAME_START_CHAR = re.compile(_NAME_START)
_STRING_ESCAPE = re.compile(rf"\\(?:([{_HEX}]{{1,6}})[ \n\t]?|([^\n])|\n|\Z)")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_CLOSERS = {CLOSE_PAREN: ")", CLOSE_SQUARE: "]", CLOSE_CURLY: "}"}
_CLOSER_OF = {OPEN_FN: CLOSE_PAREN, OPEN_PAREN: CLOSE_PAREN, OPEN_SQUARE: CLOSE_SQUARE}
_CLOSER_OF[OPEN_CURLY] = CLOSE_CURLY
_SINGLE: dict[str, int] = {
    "(": OPEN_PAREN, "[": OPEN_SQUARE, "{": OPEN_CURLY,
    ")": CLOSE_PAREN, "]": CLOSE_SQUARE, "}": CLOSE_CURLY,
    ";": SEMI, ":": COLON, "!": BANG,
}  # fmt: skip


def _unescape(match: re.Match[str]) -> str:
    hex_digits, char = match.group(1), match.group(2)
    if hex_digits is not None:
        code = int(hex_digits, 16)
        return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
    return "\ufffd" if char is None else char  # a `\\` that ends the text is U+FFFD


def unescape_name(raw: str) -> str:
    """An ident's or name's value: escapes resolved (`\\` at the end of the text is U+FFFD)."""
    return _ESCAPE.sub(_unescape, raw) if "\\" in raw else raw


def _string_escape(match: re.Match[str]) -> str:
    if match.group(1) is None and match.group(2) is None:
        return ""  # an escaped line break, or a `\\` that ends the text
    return _unescape(match)


def _unescape_string(raw: str) -> str:
    """A string's value: escapes resolved, escaped line breaks and a final `\\` dropped."""
    return _STRING_ESCAPE.sub(_string_escape, raw) if "\\" in raw else raw


def ascii_lower(value: str) -> str:
    return value.translate(_ASCII_LOWER)


def closed_comment(tok: str) -> bool:
    """A comment token that ends with its `*/` (else it runs to the end of the text)."""
    return len(tok) >= 4 and tok.endswith("*/")


def _escaped_end(tok: str) -> bool:
    """True when the last character of `tok` is escaped (an odd run of `\\` before it)."""
    run = len(tok) - 1 - len(tok[:-1].rstrip("\\"))
    return run % 2 == 1


def _number(tok: str) -> Info:
    match = _NUMBER_PARTS.match(tok)
    assert match is not None
    representation = match.group()
    rest = tok[match.end() :]
    value = float(representation)
    integer = match.group(1) is None and match.group(2) is None
    sign = representation[0] if representation[0] in "+-" else ""
    if not rest:
        return (LEAF, ("number", value, integer, sign), "number", "number", None, None)
    if rest == "%":
        return (LEAF, ("percentage", value, integer, sign), "percentage", "percentage", None, None)
    unit = unescape_name(rest)
    return (LEAF, ("dimension", value, integer, sign, unit), "dimension", "dimension", None, None)


def _error(kind: str) -> Info:
    return (ERROR, ("error", kind), "error", "error", None, None)


def _literal(value: str, code: int = LITERAL) -> Info:
    return (code, ("literal", value), value, value, value, None)


def _string(tok: str, at_end: bool) -> Info:
    quote = tok[0]
    if len(tok) >= 2 and tok[-1] == quote and not _escaped_end(tok):
        return (LEAF, ("string", _unescape_string(tok[1:-1])), "string", "string", None, None)
    if not at_end:
        return _error("bad-string")
    keys = (("string", _unescape_string(tok[1:])), ("error", "eof-in-string"))
    return (PAIR, keys, "error", "error", None, None)


def _url(tok: str, at_end: bool) -> Info:
    match = _URL_PARTS.match(tok)
    assert match is not None
    if match.end() < len(tok):
        return _error("bad-url")
    body = match.group(1)
    value = _URL_ESCAPE.sub(_unescape, body) if "\\" in body else body
    if match.group(2) is not None:
        return (LEAF, ("url", value), "url", "url", None, None)
    assert at_end  # anything else ends in ')' or is a bad url
    if match.end(1) == len(tok) and _escaped_end(body + ")"):
        value = value[:-1] + "\ufffd"  # `\\` that ends the text; before a line break it is itself
    return (PAIR, (("url", value), ("error", "eof-in-url")), "error", "error", None, None)


def _unicode_range(tok: str) -> Info:
    body = tok[2:]
    if "?" in body:
        digits = body.rstrip("?")
        marks = len(body) - len(digits)
        start, end = int(digits + "0" * marks, 16), int(digits + "F" * marks, 16)
    else:
        first, _, last = body.partition("-")
        start, end = int(first, 16), int(last or first, 16)
    key = ("unicode-range", start, end)
    return (LEAF, key, "unicode-range", "unicode-range", None, None)


def classify(tok: str, at_end: bool) -> Info:
    """What one token string is; `at_end` when it ends the text (tinycss2 reads some differently)."""
    c = tok[0]
    if c in " \n\t":
        return (WS, None, None, None, None, None)
    if c == "/" and tok.startswith("/*"):
        value = tok[2:-2] if closed_comment(tok) else tok[2:]
        return (COMMENT, None, None, None, value, None)
    if c in "\"'":
        return _string(tok, at_end)
    if c in "uU\\":
        head = _URL_HEAD_ONLY.match(tok)
        # Exactly `url(` is the function (a quote follows), unless the text ends there.
        if head is not None and (head.end() < len(tok) or at_end):
            return _url(tok, at_end)
        if c != "\\" and len(tok) > 2 and tok[1] == "+":
            return _unicode_range(tok)
    if len(tok) == 1 and not _NAME_START_CHAR.match(c) and c not in "0123456789":
        if c == "\\":
            if at_end:
                return (IDENT, ("ident", "\ufffd"), "ident", "ident", None, "\ufffd")
            return _literal(c)  # before a line break: not an escape
        code = _SINGLE.get(c, LITERAL)
        if code >= _FIRST_BRACKET:
            return (code, None, None, None, None, None)
        return _literal(c, code)
    if tok == "-->" or tok == "<!--" or c in "|~^$*<":
        return _literal(tok)
    if c in "0123456789+." or (c == "-" and tok[1] in "0123456789."):
        return _number(tok)
    if c == "@":
        value = unescape_name(tok[1:])
        return (AT, ("at-keyword", value), "at-keyword", "at-keyword", None, ascii_lower(value))
    if c == "#":
        value = unescape_name(tok[1:])
        identifier = _IDENT_START.match(tok, 1) is not None
        return (LEAF, ("hash", value, identifier), "hash", "hash", None, None)
    if tok.endswith("(") and not _escaped_end(tok):
        name = unescape_name(tok[:-1])
        return (OPEN_FN, ("fn", name), "function", "(", None, ascii_lower(name))
    value = unescape_name(tok)
    last = "--" if value == "--" else "ident"
    return (IDENT, ("ident", value), "ident", last, None, ascii_lower(value))


_URL_HEAD_ONLY = re.compile(_URL_HEAD)
_UNMATCHED = {code: _error(char) for code, char in _CLOSERS.items()}


# Distinct token strings remembered: full, the map stops growing within a text, and is
# emptied before the next.
_KNOWN_MAX = 200_000


class _Infos(dict[str, Info]):
    """Token string -> Info, filled on first sight (most tokens of a stylesheet repeat)."""

    def __missing__(self, tok: str) -> Info:
        info = classify(tok, at_end=False)
        if len(self) < _KNOWN_MAX:
            self[tok] = info
        return info


_T = TypeVar("_T")
_KNOWN = _Infos()
_KNOWN_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class Tokens:
    """A tokenized text: its token strings, what each is, and the block structure."""

    norm: str
    toks: list[str]
    infos: list[Info]
    jump: list[int]  # opener index -> its closer's index (len(toks) when unclosed); else 0
    unclosed: tuple[int, ...]  # indices of the openers never closed, outermost first
    codes: bytes  # infos[i][0] for every token, for scans that run in C (re over bytes)

    @functools.cached_property
    def starts(self) -> list[int]:
        """Offset of every token in `norm`, and its length at the end."""
        return list(accumulate(map(len, self.toks), initial=0))

    @property
    def clean(self) -> bool:
        """No error token, nothing unclosed, no comment running to the end of the text."""
        codes, toks = self.codes, self.toks
        if self.unclosed or codes.find(ERROR) >= 0 or codes.find(PAIR) >= 0:
            return False
        return not (codes and codes[-1] == COMMENT and not closed_comment(toks[-1]))


class TextMemo(Generic[_T]):
    """What was made of the last few texts (at most 4), bounded in characters; thread-safe."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[str, _T] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, text: str, make: Callable[[str], _T]) -> _T:
        """The remembered value for `text`, else `make(text)`, remembered when it fits."""
        with self._lock:
            known = self._items.get(text)
            if known is not None:
                self._items.move_to_end(text)
                return known
        value = make(text)
        if len(text) <= self.max_chars:
            with self._lock:
                self._items[text] = value
                total = sum(len(key) for key in self._items)
                while total > self.max_chars or len(self._items) > 4:
                    total -= len(self._items.popitem(last=False)[0])
        return value

    def items(self) -> list[tuple[str, _T]]:
        """The remembered texts and values, oldest first (a copy)."""
        with self._lock:
            return list(self._items.items())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, text: object) -> bool:
        return text in self._items


def tokenize(norm: str) -> Tokens:
    """The tokens of preprocessed text; shared through a small memo, never mutate."""
    return _MEMO.get_or_make(norm, lambda text: _from_known(text) or _tokenize(text))


# The last few texts, so one text is tokenized once per process however many steps read it
# (check, url rewriting, the source's facts, the safe minifier). Bounded in characters: tokens
# cost 12 bytes per character (21 with `starts`; bulma.css measured), and a worker keeps them
# after its job. Two megabytes hold a large file, its text without @charset and its minified
# text at once.
_MEMO: TextMemo[Tokens] = TextMemo(2_000_000)


def _from_known(norm: str) -> Tokens | None:
    """The tokens of a remembered text that `norm` ends, maybe with a line break added.

    That is what `csscheck.without_charsets` makes of a file before minification: its
    @charset rule cut from the start, a final line break added. Taken from the known
    tokens where that gives exactly what tokenizing would; None elsewhere.
    """
    if len(norm) < 1024:
        return None  # tokenizing costs less than looking
    for known, tokens in reversed(_MEMO.items()):
        if known.endswith(norm):
            derived = _suffix(tokens, len(known) - len(norm), norm, added=False)
        elif norm.endswith("\n") and known.endswith(norm[:-1]):
            derived = _suffix(tokens, len(known) - len(norm) + 1, norm, added=True)
        else:
            continue
        if derived is not None:
            return derived
    return None


def _suffix(tokens: Tokens, cut: int, norm: str, *, added: bool) -> Tokens | None:
    """`tokens` without the text before `cut`, plus a final line break when `added`."""
    toks, infos, codes, jump, starts = (
        tokens.toks,
        tokens.infos,
        tokens.codes,
        tokens.jump,
        tokens.starts,
    )
    k = bisect.bisect_right(starts, cut) - 1  # the token holding the cut
    if k >= len(toks) or (cut > starts[k] and codes[k] != WS):
        return None  # the cut splits a token other than whitespace
    if sum(codes.count(c, 0, k) for c in _OPENERS) != sum(codes.count(c, 0, k) for c in _CLOSES):
        return None  # a block is open at the cut: the rest would pair differently
    new_toks, new_infos, new_codes = toks[k:], infos[k:], bytearray(codes[k:])
    new_toks[0] = toks[k][cut - starts[k] :]
    new_jump = [j - k if j else 0 for j in jump[k:]]
    unclosed = tuple(u - k for u in tokens.unclosed)
    if added:
        last = new_toks[-1]
        if new_codes[-1] == WS:
            new_toks[-1] = last + "\n"
        else:
            match = _TOKEN.match(norm, len(norm) - 1 - len(last))
            if match is None or match.end() != len(norm) - 1:
                return None  # the line break would join the last token (a comment, a url)
            info = classify(last, at_end=False)  # no longer at the end
            if info[0] < _FIRST_BRACKET:  # brackets keep their pairing (or error)
                new_infos[-1] = info
                new_codes[-1] = info[0]
            new_toks.append("\n")
            new_infos.append(_WS_INFO)
            new_codes.append(WS)
            new_jump.append(0)
    for u in unclosed:
        new_jump[u] = len(new_toks)
    return Tokens(norm, new_toks, new_infos, new_jump, unclosed, bytes(new_codes))


_OPENERS = tuple(bytes([c]) for c in range(OPEN_FN, CLOSE_PAREN))
_CLOSES = tuple(bytes([c]) for c in range(CLOSE_PAREN, CLOSE_CURLY + 1))
_WS_INFO: Info = (WS, None, None, None, None, None)


def _tokenize(norm: str) -> Tokens:
    toks: list[str] = _TOKEN.findall(norm)
    with _KNOWN_LOCK:
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        # The last token may read differently at the end of the text: never cached.
        infos = list(map(_KNOWN.__getitem__, islice(toks, max(0, len(toks) - 1))))
    n = len(toks)
    if toks:
        infos.append(classify(toks[-1], at_end=True))
    codes = bytearray(map(itemgetter(0), infos))
    jump = [0] * n
    stack: list[int] = []
    expect = -1  # the closer code that ends the innermost open block
    for match in _BRACKET.finditer(codes):
        i = match.start()
        code = codes[i]
        if code < _FIRST_CLOSER:
            stack.append(i)
            expect = _CLOSER_OF[code]
        elif code == expect:
            jump[stack.pop()] = i
            expect = _CLOSER_OF[codes[stack[-1]]] if stack else -1
        else:
            infos[i] = _UNMATCHED[code]  # tinycss2 reads it as an error token
            codes[i] = ERROR
    for i in stack:
        jump[i] = n
    return Tokens(norm, toks, infos, jump, tuple(stack), bytes(codes))


_BRACKET = re.compile(b"[%c-%c]" % (_FIRST_BRACKET, CLOSE_CURLY))


def closer(code: int) -> str:
    """The character that closes a block opened by a token of class `code`."""
    return _CLOSERS[_CLOSER_OF[code]]


def text_offsets(text: str) -> Callable[[int], int]:
    """Offsets in the preprocessed text -> offsets in `text` (only CRLF changes the length)."""
    collapsed: list[int] = []  # where each CRLF's LF is in the preprocessed text
    pos = text.find("\r\n")
    while pos >= 0:
        collapsed.append(pos - len(collapsed))
        pos = text.find("\r\n", pos + 2)
    if not collapsed:
        return lambda offset: offset
    return lambda offset: offset + bisect.bisect_left(collapsed, offset)
