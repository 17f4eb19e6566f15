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
over tinycss2's tree (`tests/oracles/cssoracle.py`) is the tests' oracle: both must give the same facts and the
same safe output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from assetbuild.css import tokens as csstokens
from assetbuild.css.tokens import (
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
_CLOSE = {"() block": ")", "[] block": "]", "{} block": "}", "function": ")"}
_KIND = {OPEN_FN: "function", OPEN_PAREN: "() block", OPEN_SQUARE: "[] block"}
_KIND[OPEN_CURLY] = "{} block"
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
        previous_literal: str | None = None  # its value, when it is a literal (info[4])
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
                    after = infos[ahead][4]  # a literal's value, else None
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
                previous_literal = info[4]
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

    tinycss2 gives start positions only (see `cssoracle._spans`); at the end of the text a
    token's end is guessed by `_present_suffix`, which the safe minifier's output keeps.
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
