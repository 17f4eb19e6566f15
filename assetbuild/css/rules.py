"""What browsers silently drop from a stylesheet whose structure is sound.

The structure check (`css/check.py`) proves every bracket, string and comment closes. A file can
still lose rules in a browser: a stray `window.marker = 'm1';` between two rules joins the next
selector (the CSS parser reads `window.marker = 'm1'; .next` as that rule's selector, which is
invalid, so the rule is dropped), a missing `;` makes two declarations one invalid declaration,
and a selector a browser rejects drops its whole rule. `rule_diagnostics` walks the tokens the
check already has (`css/tokens.py`) as the CSS Syntax rules group them into rules, at-rules and
declarations, and reports those at the user's line and column.

Selectors are parsed by cssselect2 (over tinycss2, both maintained by Kozea), which is stricter
than browsers in a few places that are not syntax: it knows only some pseudo-elements, takes no
functional ones, and needs namespace prefixes declared. Those parts are read as browsers read them
(`_browser_tokens`), so what is reported is a syntax error a browser would also reject. Both
libraries load only when a file is checked (a cache miss), never on the no-change path.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from assetbuild.css.tokens import (
    AT,
    BANG,
    CLOSE_PAREN,
    COLON,
    COMMENT,
    IDENT,
    LITERAL,
    OPEN_CURLY,
    OPEN_FN,
    SEMI,
    WS,
    Tokens,
    text_offsets,
)
from assetbuild.diagnostics import Diagnostic, Severity
from assetbuild.sources import SourceFile

# At-rules whose block holds rules, declarations, or keyframes; any other block is skipped.
_RULE_BLOCKS = frozenset(
    {"media", "supports", "container", "layer", "document", "-moz-document", "scope",
     "starting-style"}
)  # fmt: skip
_DECLARATION_BLOCKS = frozenset(
    {"font-face", "page", "counter-style", "property", "font-palette-values", "viewport",
     "-ms-viewport", "position-try", "view-transition", "top-left", "top-center", "top-right",
     "bottom-left", "bottom-center", "bottom-right", "left-top", "left-middle", "left-bottom",
     "right-top", "right-middle", "right-bottom", "top-left-corner", "top-right-corner",
     "bottom-left-corner", "bottom-right-corner"}
)  # fmt: skip
_KEYFRAMES = frozenset({"keyframes", "-webkit-keyframes", "-moz-keyframes", "-o-keyframes"})
_SKIPPED = (WS, COMMENT)
# Per file: a file of generated junk should not print thousands of warnings.
_MAX_REPORTS = 50
# Blocks nested deeper than this are not walked (the walk recurses; browsers cap nesting too).
_MAX_DEPTH = 64
_DQ = '"'
# The warnings' names ([[accept]] in a config names them).
_STRAY = "css-stray-text"  # text or ';' between rules, text after the last one
_DECLARATION = "css-declaration"  # no ':', no value, a missing ';'


def rule_diagnostics(src: SourceFile, tokens: Tokens, *, strict: bool) -> list[Diagnostic]:
    """Warnings (errors when `strict`) for what browsers would drop; `tokens` must be clean."""
    walk = _Walk(src, tokens, "error" if strict else "warning")
    walk.rules(0, len(tokens.codes), top=True)
    # Then every value against its property's grammar, in one call into the engine (values.py).
    from assetbuild.css.values import value_diagnostics

    return walk.diagnostics + value_diagnostics(src, walk.values, walk.severity)


class _Walk:
    def __init__(self, src: SourceFile, tokens: Tokens, severity: Severity) -> None:
        self.src = src
        self.tokens = tokens
        self.codes = tokens.codes
        self.toks = tokens.toks
        self.infos = tokens.infos
        self.jump = tokens.jump
        self.starts = tokens.starts
        self.to_text: Callable[[int], int] = text_offsets(src.text)
        self.severity: Severity = severity
        self.diagnostics: list[Diagnostic] = []
        self.depth = 0
        self.values: list[tuple[str, int, int]] = []  # (property, value's start, end) in the text
        self.descriptors = 0  # inside @font-face and the like: descriptors, not properties

    def report(
        self, code: str, message: str, index: int, notes: tuple[Diagnostic, ...] = ()
    ) -> None:
        self.report_at(code, message, self.to_text(self.starts[index]), notes)

    def report_at(
        self, code: str, message: str, offset: int, notes: tuple[Diagnostic, ...] = ()
    ) -> None:
        if len(self.diagnostics) < _MAX_REPORTS:
            found = self.src.diagnostic(self.severity, message, offset, notes, code=code)
            self.diagnostics.append(found)

    def skip_blank(self, i: int, end: int) -> int:
        codes = self.codes
        while i < end and codes[i] in _SKIPPED:
            i += 1
        return i

    def find(self, i: int, end: int, stops: tuple[int, ...]) -> int:
        """The index of the first token of a class in `stops` at this level, or `end`."""
        codes, jump = self.codes, self.jump
        while i < end:
            code = codes[i]
            if code in stops:
                return i
            i = jump[i] + 1 if OPEN_FN <= code < CLOSE_PAREN else i + 1
        return end

    # --- lists of rules ----------------------------------------------------------------------------

    def rules(self, i: int, end: int, *, top: bool, keyframes: bool = False) -> None:
        if self.depth >= _MAX_DEPTH:
            return
        self.depth += 1
        try:
            self._rules(i, end, top=top, keyframes=keyframes)
        finally:
            self.depth -= 1

    def _rules(self, i: int, end: int, *, top: bool, keyframes: bool) -> None:
        codes, infos = self.codes, self.infos
        while i < end:
            code = codes[i]
            if code in _SKIPPED or (top and infos[i][4] in ("<!--", "-->")):
                i += 1
                continue
            if code == AT:
                i = self.at_rule(i, end, in_style=False)
                continue
            if code == SEMI:
                self.report(_STRAY, "a stray ';' between rules: browsers skip it (remove it)", i)
                i += 1
                continue
            block = self.find(i, end, (OPEN_CURLY,))
            if block >= end:
                self.report(
                    _STRAY, "text after the last rule, with no '{' block: browsers ignore it", i
                )
                return
            self.qualified_rule(i, block, keyframes=keyframes, nested=False)
            i = self.jump[block] + 1

    def qualified_rule(self, i: int, block: int, *, keyframes: bool, nested: bool) -> None:
        """One rule: `i` starts its prelude, `block` is its `{`."""
        semi = self.find(i, block, (SEMI,))
        if semi < block:
            stray = self.src.text[self.to_text(self.starts[i]) : self.to_text(self.starts[semi])]
            first_line = stray.strip().splitlines()[0] if stray.strip() else stray
            after = self.skip_blank(semi + 1, block)
            while self.find(after, block, (SEMI,)) < block:
                after = self.skip_blank(self.find(after, block, (SEMI,)) + 1, block)
            note = self.note("the rule browsers drop with it starts here", after)
            self.report(
                _STRAY,
                f"stray text between rules, {_short(first_line, quote=_DQ)}: browsers read it as part of "
                "the next rule's selector and drop that rule",
                i,
                (note,) if note is not None else (),
            )
        elif keyframes:
            self.keyframe_selector(i, block)
        else:
            self.selector(i, block, nested=nested)
        self.declarations(block + 1, self.jump[block])

    def note(self, message: str, index: int) -> Diagnostic | None:
        if index >= len(self.starts):
            return None
        return self.src.diagnostic("warning", message, self.to_text(self.starts[index]))

    def at_rule(self, i: int, end: int, *, in_style: bool) -> int:
        """One at-rule at `i`; returns the index after it."""
        name = self.infos[i][5] or ""
        stop = self.find(i + 1, end, (SEMI, OPEN_CURLY))
        if stop >= end:
            return end
        if self.codes[stop] == SEMI:
            return stop + 1
        close = self.jump[stop]
        if name in _RULE_BLOCKS:
            if in_style:  # nested conditional rules hold declarations (and rules)
                self.declarations(stop + 1, close)
            else:
                self.rules(stop + 1, close, top=False)
        elif name in _DECLARATION_BLOCKS:
            self.descriptors += 1
            try:
                self.declarations(stop + 1, close)
            finally:
                self.descriptors -= 1
        elif name in _KEYFRAMES:
            self.rules(stop + 1, close, top=False, keyframes=True)
        return close + 1

    # --- declarations ------------------------------------------------------------------------------

    def declarations(self, i: int, end: int) -> None:
        if self.depth >= _MAX_DEPTH:
            return
        self.depth += 1
        try:
            self._declarations(i, end)
        finally:
            self.depth -= 1

    def _declarations(self, i: int, end: int) -> None:
        codes = self.codes
        while i < end:
            code = codes[i]
            if code in _SKIPPED or code == SEMI:
                i += 1
                continue
            if code == AT:
                i = self.at_rule(i, end, in_style=True)
                continue
            stop = self.find(i, end, (SEMI, OPEN_CURLY))
            if stop < end and codes[stop] == OPEN_CURLY and not self.custom_property(i):
                # A nested rule (CSS Nesting): its prelude is a relative selector.
                self.qualified_rule(i, stop, keyframes=False, nested=True)
                i = self.jump[stop] + 1
                continue
            if stop < end and codes[stop] == OPEN_CURLY:
                stop = self.find(i, end, (SEMI,))
            self.declaration(i, stop)
            i = stop + 1

    def custom_property(self, i: int) -> bool:
        return self.codes[i] == IDENT and self.toks[i].startswith("--")

    def declaration(self, i: int, end: int) -> None:
        codes, toks = self.codes, self.toks
        if codes[i] != IDENT:
            if codes[i] == LITERAL and toks[i] in ("*", "_") and i + 1 < end:
                return  # the `*zoom: 1` hack for old Internet Explorer: dropped on purpose
            self.report(
                _DECLARATION,
                f"invalid declaration: {_short(self.text_of(i, end))} is not 'property: value'; "
                "browsers drop it",
                i,
            )
            return
        colon = self.skip_blank(i + 1, end)
        if colon >= end or codes[colon] != COLON:
            self.report(
                _DECLARATION,
                f"invalid declaration: expected ':' after '{toks[i]}'; browsers drop it"
                + ("" if colon >= end else f" (found {_short(self.text_of(colon, end))})"),
                i,
            )
            return
        self.value(i, colon + 1, end, custom=toks[i].startswith("--"))

    def value(self, name: int, i: int, end: int, *, custom: bool) -> None:
        """A declaration's value; a custom property's takes anything but another one's name."""
        codes, infos, toks = self.codes, self.infos, self.toks
        start = self.skip_blank(i, end)
        if custom:
            for j in range(start, end):
                if codes[j] == IDENT and toks[j].startswith("--"):
                    after = self.skip_blank(j + 1, end)
                    if after < end and codes[after] == COLON:
                        self.missing_semicolon(name, j)
                        return
            return
        if start >= end or codes[start] == BANG:
            self.report(
                _DECLARATION,
                f"'{self.toks[name]}' has no value: browsers drop this declaration",
                name,
            )
            return
        j = start
        while j < end:
            code = codes[j]
            if code == IDENT:
                after = self.skip_blank(j + 1, end)
                if after < end and codes[after] == COLON and infos[j][5] != "progid":
                    # `color: red background: blue`: one declaration with an invalid value.
                    self.missing_semicolon(name, j)
                    return
                if after < end and codes[after] == COLON:
                    return  # `filter: progid:DXImageTransform...`: old Internet Explorer only
            j = self.jump[j] + 1 if OPEN_FN <= code < CLOSE_PAREN else j + 1
        if not self.descriptors:
            bang = self.find(start, end, (BANG,))
            stop = (
                self.to_text(self.starts[bang]) if bang < len(self.starts) else len(self.src.text)
            )
            self.values.append((toks[name], self.to_text(self.starts[start]), stop))

    def missing_semicolon(self, name: int, j: int) -> None:
        first, second = self.toks[name], self.toks[j]
        consequence = f"'{second}' is never set" if first.startswith("--") else "drop both"
        self.report(
            _DECLARATION,
            f"missing ';' before '{second}': browsers read '{first}' and '{second}' as one "
            f"declaration and {consequence}",
            j,
        )

    def text_of(self, i: int, end: int) -> str:
        return "".join(self.toks[i:end]).strip()

    # --- selectors ---------------------------------------------------------------------------------

    def selector(self, i: int, block: int, *, nested: bool) -> None:
        start, stop = self.starts[i], self.starts[block]
        prelude = self.tokens.norm[start:stop]
        problem = _selector_problem(prelude, nested)
        if problem is None:
            return
        offset, message = problem
        self.report_at(
            "css-selector",
            f"invalid selector ({message}): browsers drop this whole rule",
            self.to_text(start + offset),
        )

    def keyframe_selector(self, i: int, block: int) -> None:
        codes, infos = self.codes, self.infos
        expect_item = True
        for j in range(i, block):
            code = codes[j]
            if code in _SKIPPED:
                continue
            key = infos[j][1]
            if expect_item and (
                (code == IDENT and infos[j][5] in ("from", "to"))
                or (isinstance(key, tuple) and key[0] == "percentage")
            ):
                expect_item = False
            elif not expect_item and code == LITERAL and self.toks[j] == ",":
                expect_item = True
            else:
                self.report(
                    "css-selector",
                    f"invalid keyframe selector {_short(self.text_of(i, block))} "
                    "(expected 'from', 'to' or percentages): browsers drop this keyframe",
                    j,
                )
                return


def _short(text: str, limit: int = 40, quote: str = "'") -> str:
    text = " ".join(text.split())
    shown = text if len(text) <= limit else f"{text[: limit - 3]}..."
    return f"{quote}{shown}{quote}"


# Selector lists of type, class, id, universal and pseudo selectors without arguments, joined by
# combinators and commas, in ASCII identifiers: most of real stylesheets' preludes, all of them
# accepted by the parse below (a property test holds the two together), so not parsed again.
_IDENT = r"-?[_a-zA-Z][_a-zA-Z0-9-]*+"
# `:before`, `:after`, `:first-line`, `:first-letter` are pseudo-elements: only at the very end of
# a selector (`a:before.b` and `a:before b` are rejected); `::x` is read as a class by the parse below.
_LEGACY = r"(?i:before|after|first-line|first-letter)(?![_a-zA-Z0-9-])"
_SIMPLE = rf"(?:[.#]{_IDENT}|::{_IDENT}|:(?!{_LEGACY}){_IDENT})"
_COMPOUND = rf"(?:(?:\*|{_IDENT}){_SIMPLE}*+|{_SIMPLE}++)"
_WS = r"[ \t\n\r\f]"
_SELECTOR = (
    rf"(?:{_COMPOUND}(?:{_WS}*+[>+~]{_WS}*+{_COMPOUND}|{_WS}++{_COMPOUND})*+"
    rf"(?::{_LEGACY}|{_WS}*+[>+~]{_WS}*+:{_LEGACY}|{_WS}++:{_LEGACY})?|:{_LEGACY})"
)
_PLAIN_SELECTORS = re.compile(rf"{_WS}*+{_SELECTOR}(?:{_WS}*+,{_WS}*+{_SELECTOR})*+{_WS}*+")


@functools.lru_cache(maxsize=8192)
def _selector_problem(prelude: str, nested: bool) -> tuple[int, str] | None:
    """(offset in `prelude`, what is wrong) when browsers reject the selector list; else None."""
    if _PLAIN_SELECTORS.fullmatch(prelude):
        return None
    return _parsed_problem(prelude, nested)


def _parsed_problem(prelude: str, nested: bool) -> tuple[int, str] | None:
    import tinycss2
    from cssselect2 import parser

    nodes = tinycss2.parse_component_value_list(prelude)
    try:
        for _ in parser.parse(_browser_tokens(nodes), _ANY_NAMESPACE, relative=nested):
            pass
    except parser.SelectorError as error:
        token, message = error.args[0], str(error.args[1])
        offset = len(prelude.rstrip()) if token is None else _offset(prelude, token)
        return offset, message.rstrip(".")
    return None


def _offset(text: str, token: Any) -> int:
    line, column = getattr(token, "source_line", 1), getattr(token, "source_column", 1)
    pos = 0
    for _ in range(line - 1):
        found = text.find("\n", pos)
        if found < 0:
            break
        pos = found + 1
    return min(pos + column - 1, len(text))


class _AnyNamespace(dict[str | None, str]):
    """Every prefix is declared (it may be, in another file of the bundle): only syntax counts."""

    def __bool__(self) -> bool:
        return True

    def get(self, key: str | None, default: Any = None) -> Any:
        return None if key is None else "urn:x-any"


_ANY_NAMESPACE = _AnyNamespace()


def _browser_tokens(nodes: list[Any]) -> list[Any]:
    """Selector tokens with what cssselect2 refuses but browsers read replaced by a class.

    A pseudo-element (any name, functional or not, with the pseudo-classes that may follow it,
    as in `::-webkit-scrollbar-thumb:hover`) and the nesting selector `&` each become `.x`;
    comments go (cssselect2 does not expect them inside a compound selector).
    """
    from tinycss2.ast import IdentToken, LiteralToken

    def placeholder(node: Any) -> list[Any]:
        line, column = node.source_line, node.source_column
        return [LiteralToken(line, column, "."), IdentToken(line, column, "x")]

    out: list[Any] = []
    n = len(nodes)
    i = 0
    while i < n:
        node = nodes[i]
        if getattr(node, "type", "") == "comment":
            i += 1  # `.a/**/.b` is `.a.b`: a comment is not whitespace
            continue
        if node == "&":
            out.extend(placeholder(node))
            i += 1
            continue
        if node == ":" and i + 2 < n and nodes[i + 1] == ":" and _is_name(nodes[i + 2]):
            out.extend(placeholder(node))
            i += 3
            while i + 1 < n and nodes[i] == ":":
                if nodes[i + 1] == ":" and i + 2 < n and _is_name(nodes[i + 2]):
                    i += 3
                elif _is_name(nodes[i + 1]):
                    i += 2
                else:
                    break
            continue
        if getattr(node, "type", "") == "function" and node.lower_name in _SELECTOR_FUNCTIONS:
            node.arguments = _browser_tokens(node.arguments)
        out.append(node)
        i += 1
    return out


_SELECTOR_FUNCTIONS = frozenset({"is", "where", "not", "has", "-webkit-any", "-moz-any"})


def _is_name(node: Any) -> bool:
    return getattr(node, "type", "") in ("ident", "function")
