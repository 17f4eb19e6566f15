"""Which whitespace in a stylesheet can matter: the walk behind verification and the safe minifier.

A stylesheet is walked token by token (`csstokens`: CSS Syntax tokens, exactly as tinycss2
reads them) and flattened into atoms. Every whitespace run is either significant (compared,
and kept as one space) or droppable; the decision depends on where it stands:

- everywhere: runs collapse to one; whitespace at the start or end of a prelude, a
  declaration value, a block or a function's arguments can be dropped;
- selectors: whitespace is the descendant combinator (`.a .b` is not `.a.b`), except next
  to `,` `>` `+` `~` `||`; inside `[...]` it can go next to `=`-style matchers;
- declaration values: droppable only next to `,` (`calc(1px + 2px)` needs its spaces);
- custom properties (`--x`): like declaration values. A browser substitutes the value token by
  token where `var()` uses it, and there whitespace next to `,` never matters; `--x:;` and
  `--x: ;` still differ (empty custom properties, see `_Walk.declaration`);
- at-rule preludes: next to `,`; inside `(...)` also next to `:` `<` `>` `=` (not inside `>=`).

Tokens are compared by value (`.5` = `0.5`, `"a"` = `'a'`), keeping what can matter:
integer or not, an explicit sign, the unit as written. Comments are not compared.

The walk is iterative over a flat token list, so any nesting depth is walked. The same walk
over tinycss2's tree (`_tree_facts`, `_tree_minified_with_facts`) is kept as the tests' oracle:
both must give the same facts and the same safe output.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple

from . import csstokens
from .csstokens import (
    AT,
    BANG,
    COLON,
    COMMENT,
    ERROR,
    IDENT,
    LEAF,
    LITERAL,
    OPEN_CURLY,
    OPEN_FN,
    OPEN_PAREN,
    OPEN_SQUARE,
    PAIR,
    SEMI,
    WS,
    Tokens,
    tokenize,
)

Key = tuple[Any, ...]
Node = Any  # a tinycss2 node (the oracle); tinycss2 has no type annotations

_SELECTOR, _VALUE, _PRELUDE, _MEDIA, _ATTR, _JUNK = range(6)
_SEPARATORS: dict[int, frozenset[str]] = {
    _SELECTOR: frozenset({",", ">", "+", "~", "||"}),
    _VALUE: frozenset({","}),
    _PRELUDE: frozenset({","}),
    _MEDIA: frozenset({",", ":", "<", ">", "="}),
    _ATTR: frozenset({"=", "~=", "|=", "^=", "$=", "*="}),
    # Statements browsers drop anyway, kept for old IE: `*zoom: 1`.
    _JUNK: frozenset({",", ":"}),
}
# Functional pseudo-classes whose arguments are selectors.
_SELECTOR_FUNCTIONS = frozenset(
    {
        "not", "is", "where", "has", "matches", "any", "-webkit-any", "-moz-any",
        "host", "host-context", "slotted", "current", "past", "future", "global", "local",
    }
)  # fmt: skip
_BLOCKS = frozenset({"() block", "[] block", "{} block", "function"})
_CLOSE = {"() block": ")", "[] block": "]", "{} block": "}", "function": ")"}
_KIND = {OPEN_FN: "function", OPEN_PAREN: "() block", OPEN_SQUARE: "[] block"}
_KIND[OPEN_CURLY] = "{} block"
_WS = frozenset({"whitespace", "comment"})
_LITERALS = frozenset({LITERAL, SEMI, COLON, BANG})
# tinycss2's serializer table (tinycss2.serializer.BAD_PAIRS, copied so the fast path does not
# import tinycss2): adjacent tokens that would tokenize differently.
_BAD_PAIRS = (
    {(a, b) for a in ("ident", "at-keyword", "hash", "dimension", "#", "-", "number")
     for b in ("ident", "function", "url", "number", "percentage", "dimension", "unicode-range")}
    | {(a, b) for a in ("ident", "at-keyword", "hash", "dimension") for b in ("-", "-->")}
    | {(a, b) for a in ("#", "-", "number", "@") for b in ("ident", "function", "url")}
    | {(a, b) for a in ("unicode-range", ".", "+")
       for b in ("number", "percentage", "dimension")}
    | {("@", b) for b in ("ident", "function", "url", "unicode-range", "-")}
    | {("unicode-range", b) for b in ("ident", "function", "?")}
    | {(a, "=") for a in "$*^~|"}
    | {("ident", "() block"), ("|", "|"), ("/", "*")}
)  # fmt: skip
# Plus pairs it misses (found by tokenizing every pair of sample tokens): `-` `-` is the
# ident `--`, `1` `%` is `1%`.
_MERGES = _BAD_PAIRS | {
    ("#", "-"), ("#", "-->"), ("-", "-"), ("-", "-->"), ("@", "-->"),
    ("number", "%"), ("number", "-->"), ("/", "*="), ("|", "|="), ("|", "||"),
    ("--", ">"),  # the ident `--` (last type "--") and `>` make `-->`
} | {("--", after) for before, after in _BAD_PAIRS if before == "ident"}  # fmt: skip


class Atom(NamedTuple):
    """One piece of the flattened stylesheet.

    kind: "tok" (token or structure), "ws" (significant whitespace), "dws" (droppable
    whitespace), "comment", "semi" (a `;` that ends a statement). `first`/`last` are
    tinycss2 serialization types at each end of `out`, to keep tokens from merging.
    """

    kind: str
    key: Key | None
    out: str
    first: str | None = None
    last: str | None = None


Facts = tuple[tuple[Key, ...], tuple[str, ...]]
_WS_KEY: Key = ("ws",)
_WS_ATOM = Atom("ws", _WS_KEY, " ")
_DWS_ATOM = Atom("dws", None, "")
_SEMI_ATOM = Atom("semi", None, ";")


def stylesheet_facts(text: str) -> Facts:
    """What minification must keep: the comparable form and the license comments, in order."""
    return _walk_facts(tokenize(preprocess(text)))


def minified_with_facts(text: str) -> tuple[str, Facts]:
    """The safe minifier's output and the source's facts, from one walk."""
    atoms = _Walk(tokenize(preprocess(text))).run()
    return _assemble(atoms), _facts(atoms)


def _facts(atoms: Sequence[Atom]) -> Facts:
    keys: list[Key] = []
    licenses: list[str] = []
    for atom in atoms:
        if atom.kind == "comment":
            if is_license(atom.out[2:-2]):
                licenses.append(atom.out[2:-2])
        elif atom.key is not None and not (atom.kind == "ws" and keys and keys[-1] == ("ws",)):
            keys.append(atom.key)
    return tuple(keys), tuple(licenses)


def stylesheet_key(text: str) -> tuple[Key, ...]:
    """The comparable form of a stylesheet."""
    return stylesheet_facts(text)[0]


def is_license(comment: str) -> bool:
    """A comment that must survive minification: `/*! ... */`, @license, @preserve."""
    return comment.startswith("!") or "@license" in comment or "@preserve" in comment


def license_comments(text: str) -> tuple[str, ...]:
    """The license comments of a stylesheet, in order."""
    infos = tokenize(preprocess(text)).infos
    return tuple(i[4] for i in infos if i[0] == COMMENT and is_license(i[4]))


def safe_minify(text: str) -> str:
    """Whitespace and comments reduced to what the stylesheet needs; license comments kept."""
    return _assemble(_Walk(tokenize(preprocess(text))).run())


def preprocess(text: str) -> str:
    """The text as the tokenizer sees it: CSS Syntax input preprocessing."""
    return (
        text.replace("\0", "\ufffd").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    )


def line_starts(norm: str) -> list[int]:
    starts = [0]
    pos = norm.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = norm.find("\n", pos + 1)
    return starts


_RULE_KEY: Key = ("rule",)
_JUNK_KEY: Key = ("junk",)
_END_AT_KEY: Key = ("end-at",)
_OPEN_KEY: Key = ("{",)
_CLOSE_KEY: Key = ("}",)
_END_DECL_KEYS: dict[bool, Key] = {False: ("end-decl", False), True: ("end-decl", True)}
_BLOCK_KEYS: dict[int, Key] = {code: (kind,) for code, kind in _KIND.items()}
_END_KEYS: dict[int, Key] = {code: ("end", kind) for code, kind in _KIND.items()}


def _walk_facts(tokens: Tokens) -> Facts:
    """The facts straight from the tokens: `_Walk` without text, inlined, as every text needs it.

    `_Walk(...).run()` then `_facts` gives the same; the tests hold both to the tinycss2 oracle.
    """
    infos, jump, unclosed, codes = tokens.infos, tokens.jump, tokens.unclosed, tokens.codes
    keys: list[Key] = []
    licenses: list[str] = []
    append = keys.append
    outer: list[tuple[int, int]] = []  # where each enclosing block's level resumes, and ends
    i, hi = 0, len(infos)
    while True:
        if i >= hi:
            if not outer:
                return tuple(keys), tuple(licenses)
            append(_CLOSE_KEY)
            i, hi = outer.pop()
            continue
        code = codes[i]
        if code in (WS, SEMI):
            i += 1
            continue
        info = infos[i]
        if code == COMMENT:
            if is_license(info[4]):
                licenses.append(info[4])
            i += 1
            continue
        if code == LITERAL and not outer and info[4] in ("<!--", "-->"):
            i += 1
            continue
        colon = -1
        if code == IDENT:
            k = i + 1
            while k < hi and codes[k] <= COMMENT:
                k += 1
            if k < hi and codes[k] == COLON:
                colon = k
        custom = colon >= 0 and info[1][1].startswith("--")
        # The statement ends at the first `;` sibling (or `{}` block, but for custom properties).
        j = colon if custom else i + 1 if code == AT else i
        while j < hi:
            c = codes[j]
            if c == SEMI or (c == OPEN_CURLY and not custom):
                break
            j = jump[j] + 1 if c >= OPEN_FN else j + 1
        if j > hi:
            j = hi  # after an unclosed block
        block = not custom and j < hi and codes[j] == OPEN_CURLY
        if code == AT:
            append(("at", info[1][1]))
            # `@charset "` must stay byte-exact for browsers' encoding sniffing.
            _item_keys(tokens, i + 1, j, _PRELUDE, info[5] != "charset", keys, licenses)
            if not block:
                append(_END_AT_KEY)
        elif block:
            append(_RULE_KEY)
            _item_keys(tokens, i, j, _SELECTOR, True, keys, licenses)
        elif colon >= 0:
            lo, stop = colon + 1, j
            important = False
            # The last two significant siblings; an unclosed block is the last sibling itself.
            last = j - 1
            while last >= lo and codes[last] <= COMMENT:
                last -= 1
            if (
                last >= lo
                and codes[last] == IDENT
                and infos[last][5] == "important"
                and not any(lo <= u < j for u in unclosed)
            ):
                bang = last - 1
                while bang >= lo and codes[bang] <= COMMENT:
                    bang -= 1
                if bang >= lo and codes[bang] == BANG:
                    important, stop = True, bang
            append(("decl", info[1][1]))
            for k in range(i + 1, colon):
                if codes[k] == COMMENT and is_license(infos[k][4]):
                    licenses.append(infos[k][4])
            if custom and all(codes[k] <= COMMENT for k in range(lo, stop)):
                # `--x:;` and `--x: ;` differ for browsers that predate empty custom properties.
                append(("custom-empty", any(codes[k] == WS for k in range(lo, stop))))
                for k in range(lo, stop):
                    if codes[k] == COMMENT and is_license(infos[k][4]):
                        licenses.append(infos[k][4])
            else:
                # Whitespace at either end goes; a value of one plain token (most) is its key.
                while lo < stop and codes[lo] == WS:
                    lo += 1
                end = stop
                while end > lo and codes[end - 1] == WS:
                    end -= 1
                if end - lo == 1 and LEAF <= codes[lo] <= ERROR:
                    append(infos[lo][1])
                else:
                    _item_keys(tokens, lo, end, _VALUE, True, keys, licenses)
            append(_END_DECL_KEYS[important])
            for k in range(stop, j) if important else ():
                if codes[k] == COMMENT and is_license(infos[k][4]):
                    licenses.append(infos[k][4])
        else:
            append(_JUNK_KEY)
            _item_keys(tokens, i, j, _JUNK, True, keys, licenses)
        if block:
            append(_OPEN_KEY)
            outer.append((jump[j] + 1, hi))
            i, hi = j + 1, jump[j]
        else:
            i = j + 1


def _item_keys(
    tokens: Tokens,
    i: int,
    hi: int,
    context: int,
    trim: bool,
    keys: list[Key],
    licenses: list[str],
) -> None:
    """`_Walk.items` without text: the keys of a prelude, selector or value, any depth."""
    infos, jump, codes = tokens.infos, tokens.jump, tokens.codes
    separators = _SEPARATORS[context]
    append = keys.append
    outer: list[tuple[int, int, int, Key]] = []  # (resume, hi, context, end key) of open blocks
    ahead = i  # index of the first significant token after the last whitespace seen
    previous = False  # a significant sibling came before, in this block
    previous_literal: str | None = None  # its value, when it is a literal (info[4])
    while True:
        if i >= hi:
            if not outer:
                return
            i, hi, context, end_key = outer.pop()
            append(end_key)
            separators = _SEPARATORS[context]
            previous, previous_literal = True, None
            continue
        code = codes[i]
        if code == WS:
            significant = False
            if previous:
                if ahead <= i:
                    # Linear overall: whitespace before `ahead` shares it.
                    ahead = i + 1
                    while ahead < hi and codes[ahead] <= COMMENT:
                        ahead += 1
                if ahead < hi:
                    after = infos[ahead][4]
                    if context == _MEDIA and after == "=" and previous_literal in ("<", ">"):
                        significant = True  # `> =` is not `>=`
                    else:
                        significant = not (previous_literal in separators or after in separators)
                else:
                    significant = not (trim or outer)
            else:
                significant = not (trim or outer)
            if significant and keys[-1] is not _WS_KEY:
                append(_WS_KEY)
        elif code == COMMENT:
            if is_license(infos[i][4]):
                licenses.append(infos[i][4])
        elif code >= OPEN_FN:  # siblings are never closers: a block is walked whole
            append(infos[i][1] if code == OPEN_FN else _BLOCK_KEYS[code])
            outer.append((jump[i] + 1, hi, context, _END_KEYS[code]))
            context = _inner_context(code, infos[i][5], context)
            separators = _SEPARATORS[context]
            hi = jump[i]
            i += 1
            ahead, previous, previous_literal = i, False, None
            continue
        else:
            info = infos[i]
            previous, previous_literal = True, info[4]
            if code == PAIR:
                keys.extend(info[1])
            else:
                append(info[1])
        i += 1


class _Walk:
    """Flattens a token list into atoms (the safe minifier), iteratively; `_walk_facts` is
    the same walk keeping only the keys.

    Statements are found by skipping over nested blocks (`jump`); preludes, selectors and
    values are walked with an explicit stack of open blocks, so nesting costs no recursion.
    """

    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self.infos = tokens.infos
        self.jump = tokens.jump
        self.atoms: list[Atom] = []
        self.last, self.last_out = _last_start(tokens)

    def run(self) -> list[Atom]:
        self.rules()
        return self.atoms

    def out(self, i: int) -> str:
        return self.last_out if i == self.last else self.tokens.toks[i]

    def emit(self, key: Key, out: str, first: str | None, last: str | None) -> None:
        self.atoms.append(Atom("tok", key, out, first, last))

    def comment(self, value: str) -> None:
        self.atoms.append(Atom("comment", None, f"/*{value}*/"))

    def comments(self, lo: int, hi: int) -> None:
        """Comments from a part whose tokens are written in a fixed form."""
        infos = self.infos
        for i in range(lo, hi):
            if infos[i][0] == COMMENT:
                self.comment(infos[i][4])

    def end(self, i: int, hi: int, *, at_curly: bool) -> int:
        """Index of the first sibling from `i` that is a `;` (or a `{}` block), else `hi`."""
        infos, jump = self.infos, self.jump
        while i < hi:
            code = infos[i][0]
            if code == SEMI or (at_curly and code == OPEN_CURLY):
                return i
            i = jump[i] + 1 if code >= OPEN_FN else i + 1
        return hi

    # Rule level: a stylesheet or a block's contents (declarations and rules).
    def rules(self) -> None:
        infos, jump, atoms = self.infos, self.jump, self.atoms
        outer: list[tuple[int, int]] = []  # where each enclosing block's level resumes, and ends
        i, hi = 0, len(infos)
        while True:
            if i >= hi:
                if not outer:
                    return
                self.emit(("}",), "}", "}", "}")
                i, hi = outer.pop()
                continue
            info = infos[i]
            code = info[0]
            if code == WS:
                atoms.append(_DWS_ATOM)
                i += 1
                continue
            if code == COMMENT:
                self.comment(info[4])
                i += 1
                continue
            if code == SEMI or (code == LITERAL and not outer and info[4] in ("<!--", "-->")):
                i += 1
                continue
            if code == AT:
                j = self.end(i + 1, hi, at_curly=True)
                self.emit(("at", info[1][1]), self.out(i), "at-keyword", "at-keyword")
                # `@charset "` must stay byte-exact for browsers' encoding sniffing.
                self.items(i + 1, j, _PRELUDE, trim=info[5] != "charset")
                if j < hi and infos[j][0] == OPEN_CURLY:
                    self.emit(("{",), "{", "{} block", "{")
                    outer.append((jump[j] + 1, hi))
                    i, hi = j + 1, jump[j]
                else:
                    self.emit(("end-at",), "", None, None)
                    if j < hi:
                        atoms.append(_SEMI_ATOM)
                    i = j + 1
                continue
            colon = self.declaration_colon(i, hi)
            if colon >= 0 and info[1][1].startswith("--"):
                j = self.end(colon, hi, at_curly=False)
                self.declaration(i, colon, j, custom=True)
            else:
                j = self.end(i, hi, at_curly=True)
                if j < hi and infos[j][0] == OPEN_CURLY:
                    self.emit(("rule",), "", None, None)
                    self.items(i, j, _SELECTOR, trim=True)
                    self.emit(("{",), "{", "{} block", "{")
                    outer.append((jump[j] + 1, hi))
                    i, hi = j + 1, jump[j]
                    continue
                if colon >= 0:
                    self.declaration(i, colon, j, custom=False)
                else:
                    self.emit(("junk",), "", None, None)
                    self.items(i, j, _JUNK, trim=True)
            if j < hi:
                atoms.append(_SEMI_ATOM)  # the `;` that ended it (dropped before `}`)
            i = j + 1

    def declaration_colon(self, i: int, hi: int) -> int:
        """Index of the `:` when the statement at `i` starts `ident :`, else -1."""
        infos = self.infos
        if infos[i][0] != IDENT:
            return -1
        k = i + 1
        while k < hi and infos[k][0] <= COMMENT:
            k += 1
        return k if k < hi and infos[k][0] == COLON else -1

    def declaration(self, i: int, colon: int, end: int, *, custom: bool) -> None:
        """`name :` at i..colon, then the value up to `end`, with `!important` split off."""
        infos = self.infos
        lo, stop = colon + 1, end
        important = False
        # The last two significant siblings; an unclosed block is the last sibling itself.
        if not any(lo <= u < end for u in self.tokens.unclosed):
            last = end - 1
            while last >= lo and infos[last][0] <= COMMENT:
                last -= 1
            if last >= lo and infos[last][0] == IDENT and infos[last][5] == "important":
                bang = last - 1
                while bang >= lo and infos[bang][0] <= COMMENT:
                    bang -= 1
                if bang >= lo and infos[bang][0] == BANG:
                    important, stop = True, bang
        self.emit(("decl", infos[i][1][1]), self.out(i) + ":", "ident", ":")
        self.comments(i + 1, colon)
        if custom and all(infos[k][0] <= COMMENT for k in range(lo, stop)):
            # `--x:;` and `--x: ;` differ for browsers that predate empty custom properties.
            spaced = any(infos[k][0] == WS for k in range(lo, stop))
            self.comments(lo, stop)
            self.emit(("custom-empty", spaced), " " if spaced else "", None, "whitespace")
        else:
            self.items(lo, stop, _VALUE, trim=True)
        self.emit(("end-decl", important), "!important" if important else "", "!", "ident")
        if important:
            self.comments(stop, end)

    # Component value level: preludes, selectors, values.
    def items(self, i: int, hi: int, context: int, *, trim: bool) -> None:
        infos, jump, atoms = self.infos, self.jump, self.atoms
        separators = _SEPARATORS[context]
        outer: list[tuple[int, int, int, str]] = []  # (resume, hi, context, kind) of open blocks
        ahead = i  # index of the first significant token after the last whitespace seen
        previous = False  # a significant sibling came before, in this block
        previous_literal: str | None = None  # its value, when it is a literal
        while True:
            if i >= hi:
                if not outer:
                    return
                i, hi, context, kind = outer.pop()
                self.emit(("end", kind), _CLOSE[kind], ")", ")")
                separators = _SEPARATORS[context]
                previous, previous_literal = True, None
                continue
            info = infos[i]
            code = info[0]
            if code == WS:
                if ahead <= i:
                    # Linear overall: whitespace before `ahead` shares it.
                    ahead = i + 1
                    while ahead < hi and infos[ahead][0] <= COMMENT:
                        ahead += 1
                if not previous or ahead >= hi:
                    droppable = trim or bool(outer)
                else:
                    after = infos[ahead][4] if infos[ahead][0] in _LITERALS else None
                    if context == _MEDIA and after == "=" and previous_literal in ("<", ">"):
                        droppable = False  # `> =` is not `>=`
                    else:
                        droppable = previous_literal in separators or after in separators
                atoms.append(_DWS_ATOM if droppable else _WS_ATOM)
            elif code == COMMENT:
                self.comment(info[4])
            elif code >= OPEN_FN:  # siblings are never closers: a block is skipped whole
                kind = _KIND[code]
                if code == OPEN_FN:
                    self.emit(info[1], self.tokens.toks[i], kind, "(")
                else:
                    self.emit((kind,), kind[0], kind, "(")
                outer.append((jump[i] + 1, hi, context, kind))
                context = _inner_context(code, info[5], context)
                separators = _SEPARATORS[context]
                i, hi, ahead = i + 1, jump[i], i + 1
                previous, previous_literal = False, None
                continue
            else:
                previous = True
                previous_literal = info[4] if code in _LITERALS else None
                if code == PAIR:
                    # tinycss2's two nodes at one offset: the token's text goes with the error.
                    atoms.append(Atom("tok", info[1][0], ""))
                    self.emit(info[1][1], self.out(i), info[2], info[3])
                else:
                    self.emit(info[1], self.out(i), info[2], info[3])
            i += 1


def _inner_context(code: int, name: str | None, context: int) -> int:
    if context == _SELECTOR:
        if code == OPEN_SQUARE:
            return _ATTR
        return _SELECTOR if name in _SELECTOR_FUNCTIONS else _VALUE
    if context in (_PRELUDE, _MEDIA):
        if name == "selector":
            return _SELECTOR
        if code == OPEN_PAREN or name == "supports":
            return _MEDIA
    return _VALUE


def _last_start(tokens: Tokens) -> tuple[int, str]:
    """The last token that is not a closer, and its text as tinycss2's positions bound it.

    tinycss2 gives start positions only (see `_spans`); at the end of the text a token's end
    is guessed by `_present_suffix`, which the safe minifier's output keeps.
    """
    infos, toks, norm = tokens.infos, tokens.toks, tokens.norm
    k = len(toks) - 1
    while k >= 0 and infos[k][0] > OPEN_CURLY:  # a closer that matched (others are errors)
        k -= 1
    if k < 0:
        return -1, ""
    after = "".join(toks[k + 1 :])
    expected = after + "".join(csstokens.closer(infos[u][0]) for u in reversed(tokens.unclosed))
    start = len(norm) - len(toks[k]) - len(after)
    end = len(norm) - _present_suffix(norm, expected)
    return k, norm[start : max(start, end)]


def _present_suffix(norm: str, expected: str) -> int:
    """How many of the expected closers (innermost first) the text really ends with.

    Valid CSS closes every block, so the whole run is there; otherwise count none (a wrong
    guess only makes the safe candidate fail verification). Linear, for any nesting.
    """
    run = len(norm) - len(norm.rstrip(")]}"))
    count = min(run, len(expected))
    return count if norm.endswith(expected[:count]) else 0


def _assemble(atoms: Sequence[Atom]) -> str:
    """Join atoms into text: one space per significant run, nothing else, no merged tokens."""
    out: list[str] = []
    last: str | None = None  # serialization type of the last piece written
    gap: str | None = None  # what was dropped since: "ws" or "comment"
    space = False  # a significant whitespace run is pending
    semi = False  # a `;` is pending (dropped before `}`)

    def write(piece: str, first: str | None, after: str | None) -> None:
        nonlocal last, gap, space
        if last == "\\":
            out.append("\n")  # a lone backslash is only a delimiter before a line break
        elif space:
            out.append(" ")
        elif gap is not None and (
            (last, first) in _MERGES
            # `<` `!` `--p` written together is `<!--` (CDO) `p`: keep a gap on either side.
            or (last == "!" and piece.startswith("-"))
            or (last == "<" and piece.startswith("!"))
        ):
            out.append(" " if gap == "ws" else "/**/")
        elif gap == "ws" and last == "at-keyword":
            out.append(" ")  # `@media (...)`: old parsers want the space that was there
        out.append(piece)
        last, gap, space = after, None, False

    for atom in atoms:
        if atom.kind == "ws":
            space = True
        elif atom.kind == "dws":
            gap = gap or "ws"
        elif atom.kind == "comment":
            if is_license(atom.out[2:-2]):
                if semi:
                    write(";", ";", ";")
                    semi = False
                write(atom.out, "comment", "comment")
            else:
                gap = gap or "comment"
        elif atom.kind == "semi":
            semi = True
        elif atom.out:
            if semi and atom.key != ("}",):
                write(";", ";", ";")
            semi = False
            write(atom.out, atom.first, atom.last)
    if semi:
        write(";", ";", ";")
    if last == "\\":
        out.append("\n")
    return "".join(out)


# The oracle: the same walk over tinycss2's tree, for the tests and bench/css_verify.py.


def _tree_facts(text: str) -> Facts | None:
    """`stylesheet_facts` from tinycss2's tree; None when too deeply nested to walk."""
    try:
        walker = _TreeWalker(text, with_text=False)
        walker.run()
        return tuple(walker.keys), tuple(walker.licenses)
    except RecursionError:
        return None


def _tree_minified_with_facts(text: str) -> tuple[str, Facts]:
    """`minified_with_facts` from tinycss2's tree (RecursionError when too deep)."""
    atoms = _TreeWalker(text, with_text=True).run()
    return _assemble(atoms), _facts(atoms)


def _tree_license_comments(text: str) -> tuple[str, ...]:
    """`license_comments` from tinycss2's tree."""
    found: list[str] = []
    pending: list[Node] = list(reversed(_parse(preprocess(text))))
    while pending:
        node = pending.pop()
        if node.type == "comment":
            if is_license(node.value):
                found.append(node.value)
        elif node.type in _BLOCKS:
            pending.extend(reversed(node.arguments if node.type == "function" else node.content))
    return tuple(found)


# The last few parses, so one text is parsed once however many steps read it. Bounded in
# characters: a parse tree costs tens of bytes per character.
_PARSED: OrderedDict[str, list[Node]] = OrderedDict()
_PARSED_CHARS = 1_000_000
_PARSED_LOCK = threading.Lock()


def _parse(norm: str) -> list[Node]:
    """tinycss2's component values of preprocessed text, comments included; shared, never mutate."""
    import tinycss2

    with _PARSED_LOCK:
        known = _PARSED.get(norm)
        if known is not None:
            _PARSED.move_to_end(norm)
            return known
    nodes: list[Node] = tinycss2.parse_component_value_list(norm)
    if len(norm) <= _PARSED_CHARS:
        with _PARSED_LOCK:
            _PARSED[norm] = nodes
            total = sum(len(key) for key in _PARSED)
            while total > _PARSED_CHARS or len(_PARSED) > 4:
                total -= len(_PARSED.popitem(last=False)[0])
    return nodes


def _serialize_identifier(name: str) -> str:
    import tinycss2

    return str(tinycss2.serialize_identifier(name))


class _TreeWalker:
    """The oracle: `_Walk` over tinycss2's tree, recursively (RecursionError when too deep)."""

    def __init__(self, text: str, *, with_text: bool) -> None:
        self.norm = preprocess(text)
        self.nodes: list[Node] = _parse(self.norm)
        self.spans: dict[int, tuple[int, int]] = _spans(self.nodes, self.norm) if with_text else {}
        self.with_text = with_text
        # With text: atoms to assemble. Without: straight into the facts (what _facts would
        # derive from the atoms), as verification walks every text and needs nothing else.
        self.atoms: list[Atom] = []
        self.keys: list[Key] = []
        self.licenses: list[str] = []

    def run(self) -> list[Atom]:
        self.rules(self.nodes, top=True)
        return self.atoms

    def source(self, node: Node) -> str:
        span = self.spans.get(id(node))
        return "" if span is None else self.norm[span[0] : span[1]]

    def emit(self, key: Key, out: str, first: str | None, last: str | None) -> None:
        if self.with_text:
            self.atoms.append(Atom("tok", key, out, first, last))
        else:
            self.keys.append(key)

    def space(self, significant: bool) -> None:
        if self.with_text:
            self.atoms.append(Atom("ws", _WS_KEY, " ") if significant else Atom("dws", None, ""))
        elif significant and not (self.keys and self.keys[-1] == _WS_KEY):
            self.keys.append(_WS_KEY)

    def comment(self, value: str) -> None:
        if self.with_text:
            self.atoms.append(Atom("comment", None, f"/*{value}*/"))
        elif is_license(value):
            self.licenses.append(value)

    # Rule level: a stylesheet or a block's contents (declarations and rules).
    def rules(self, nodes: Sequence[Node], top: bool = False) -> None:
        i, n = 0, len(nodes)
        while i < n:
            node = nodes[i]
            kind = node.type
            if kind == "whitespace":
                self.space(False)
                i += 1
            elif kind == "comment":
                self.comment(node.value)
                i += 1
            elif kind == "literal" and (
                node.value == ";" or (top and node.value in ("<!--", "-->"))
            ):
                i += 1
            elif kind == "at-keyword":
                i = self.at_rule(nodes, i)
            else:
                i = self.statement(nodes, i)

    def at_rule(self, nodes: Sequence[Node], i: int) -> int:
        keyword = nodes[i]
        j = i + 1
        while j < len(nodes) and nodes[j] != ";" and nodes[j].type != "{} block":
            j += 1
        self.emit(("at", keyword.value), self.source(keyword), "at-keyword", "at-keyword")
        # `@charset "` must stay byte-exact for browsers' encoding sniffing.
        charset = keyword.lower_value == "charset"
        self.items(nodes[i + 1 : j], _PRELUDE, trim=not charset)
        if j < len(nodes) and nodes[j].type == "{} block":
            self.block(nodes[j])
        else:
            self.emit(("end-at",), "", None, None)
            self.semicolon(nodes, j)
        return j + 1

    def statement(self, nodes: Sequence[Node], i: int) -> int:
        n = len(nodes)
        colon = _declaration_colon(nodes, i)
        if colon is not None and nodes[i].value.startswith("--"):
            end = next((k for k in range(colon, n) if nodes[k] == ";"), n)
            self.declaration(nodes[i : colon + 1], nodes[colon + 1 : end], custom=True)
            self.semicolon(nodes, end)
            return end + 1
        j = i
        while j < n and nodes[j] != ";" and nodes[j].type != "{} block":
            j += 1
        if j < n and nodes[j].type == "{} block":
            self.emit(("rule",), "", None, None)
            self.items(nodes[i:j], _SELECTOR, trim=True)
            self.block(nodes[j])
        elif colon is not None:
            self.declaration(nodes[i : colon + 1], nodes[colon + 1 : j], custom=False)
            self.semicolon(nodes, j)
        else:
            self.emit(("junk",), "", None, None)
            self.items(nodes[i:j], _JUNK, trim=True)
            self.semicolon(nodes, j)
        return j + 1

    def semicolon(self, nodes: Sequence[Node], j: int) -> None:
        """The `;` that ended a statement, if the source had one (dropped before `}`)."""
        if j < len(nodes) and self.with_text:
            self.atoms.append(Atom("semi", None, ";"))

    def declaration(self, head: Sequence[Node], value: Sequence[Node], *, custom: bool) -> None:
        """`name :` in `head`, then the value, with `!important` split off."""
        significant = [k for k, v in enumerate(value) if v.type not in _WS]
        important = (
            len(significant) >= 2
            and value[significant[-1]].type == "ident"
            and value[significant[-1]].lower_value == "important"
            and value[significant[-2]] == "!"
        )
        tail: Sequence[Node] = ()
        if important:
            value, tail = value[: significant[-2]], value[significant[-2] :]
        name = head[0]
        self.emit(("decl", name.value), self.source(name) + ":", "ident", ":")
        self.comments(head)
        if custom and not any(v.type not in _WS for v in value):
            # `--x:;` and `--x: ;` differ for browsers that predate empty custom properties.
            spaced = any(v.type == "whitespace" for v in value)
            self.comments(value)
            self.emit(("custom-empty", spaced), " " if spaced else "", None, "whitespace")
        else:
            self.items(value, _VALUE, trim=True)
        self.emit(("end-decl", important), "!important" if important else "", "!", "ident")
        self.comments(tail)

    def comments(self, nodes: Sequence[Node]) -> None:
        """Comments from a part whose tokens are written in a fixed form."""
        for node in nodes:
            if node.type == "comment":
                self.comment(node.value)

    def block(self, node: Node) -> None:
        self.emit(("{",), "{", "{} block", "{")
        self.rules(node.content)
        self.emit(("}",), "}", "}", "}")

    # Component value level: preludes, selectors, values.
    def items(self, nodes: Sequence[Node], context: int, *, trim: bool) -> None:
        separators = _SEPARATORS[context]
        with_text, keys = self.with_text, self.keys
        n = len(nodes)
        ahead = 0  # index of the first significant node after the last whitespace seen (or n)
        previous: Node | None = None
        for k, node in enumerate(nodes):
            kind = node.type
            if kind == "whitespace":
                if ahead <= k:
                    # Linear overall: whitespace before `ahead` shares it.
                    ahead = k + 1
                    while ahead < n and nodes[ahead].type in _WS:
                        ahead += 1
                after = nodes[ahead] if ahead < n else None
                if previous is None or after is None:
                    droppable = trim
                elif (
                    context == _MEDIA
                    and previous.type == "literal"
                    and previous.value in "<>"
                    and after == "="
                ):
                    droppable = False  # `> =` is not `>=`
                else:
                    droppable = _literal(previous) in separators or _literal(after) in separators
                self.space(not droppable)
                continue
            if kind == "comment":
                self.comment(node.value)
                continue
            previous = node
            if kind in _BLOCKS:
                self.nested(node, context)
            elif not with_text:
                keys.append(_leaf_key(node))
            else:
                first = node.value if kind == "literal" else kind
                last = "--" if kind == "ident" and node.value == "--" else first
                self.emit(_leaf_key(node), self.source(node), first, last)

    def nested(self, node: Node, context: int) -> None:
        kind = node.type
        if kind == "function":
            key: Key = ("fn", node.name)
            head = ""
            if self.with_text:
                head = self.source(node) or _serialize_identifier(node.name) + "("
            children = node.arguments
        else:
            key = (kind,)
            head = kind[0]
            children = node.content
        self.emit(key, head, kind, "(")
        self.items(children, _tree_inner_context(node, context), trim=True)
        self.emit(("end", kind), _CLOSE[kind], ")", ")")


def _tree_inner_context(node: Node, context: int) -> int:
    kind = node.type
    name = node.lower_name if kind == "function" else ""
    if context == _SELECTOR:
        if kind == "[] block":
            return _ATTR
        return _SELECTOR if name in _SELECTOR_FUNCTIONS else _VALUE
    if context in (_PRELUDE, _MEDIA):
        if name == "selector":
            return _SELECTOR
        if kind == "() block" or name == "supports":
            return _MEDIA
    return _VALUE


def _declaration_colon(nodes: Sequence[Node], i: int) -> int | None:
    """Index of the `:` when nodes[i:] starts `ident :`, else None."""
    if nodes[i].type != "ident":
        return None
    k = i + 1
    while k < len(nodes) and nodes[k].type in _WS:
        k += 1
    return k if k < len(nodes) and nodes[k] == ":" else None


def _literal(node: Node) -> str | None:
    return node.value if node.type == "literal" else None


def _leaf_key(node: Node) -> Key:
    kind = node.type
    if kind in ("number", "percentage", "dimension"):
        sign = node.representation[0] if node.representation[0] in "+-" else ""
        key: Key = (kind, node.value, node.is_integer, sign)
        return (*key, node.unit) if kind == "dimension" else key
    if kind == "hash":
        return (kind, node.value, node.is_identifier)
    if kind == "unicode-range":
        return (kind, node.start, node.end)
    if kind == "error":
        return (kind, node.kind)
    return (kind, node.value)


def _spans(nodes: Sequence[Node], norm: str) -> dict[int, tuple[int, int]]:
    """Source span of every leaf, and of every block's opening (`(`, `name(`), in `norm`.

    tinycss2 gives start positions only. A token ends where the next one starts, less the
    closing brackets in between; at the end of the text a block may be unclosed.
    """
    starts = line_starts(norm)
    events: list[tuple[Node | None, str]] = []  # (node, "") for starts, (None, closer) for ends
    pending: list[tuple[Node | None, str]] = [(node, "") for node in reversed(nodes)]
    while pending:
        node, closer = pending.pop()
        events.append((node, closer))
        if node is not None and node.type in _BLOCKS:
            pending.append((None, _CLOSE[node.type]))
            children = node.arguments if node.type == "function" else node.content
            pending.extend((child, "") for child in reversed(children))
    spans: dict[int, tuple[int, int]] = {}
    next_start = len(norm)
    closers: list[str] = []  # closing brackets between this event and the next start
    at_end = True
    for node, closer in reversed(events):
        if node is None:
            closers.append(closer)
            continue
        start = starts[node.source_line - 1] + node.source_column - 1
        if at_end:
            # Innermost first: only a prefix of the expected closers can be in the text.
            end = next_start - _present_suffix(norm, "".join(reversed(closers)))
            at_end = False
        else:
            end = next_start - len(closers)
        spans[id(node)] = (start, max(start, end))
        next_start = start
        closers = []
    return spans
