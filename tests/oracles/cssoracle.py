"""The reference implementations over tinycss2's tree, for the tests and bench/css_verify.py.

It lives outside the package (tinycss2 is a test dependency), so a build cannot import it and
its bytes key no cache entry. `csstokens` reads the same tokens with one regular expression,
and `cssnorm`/`urls` walk them iteratively. Here the same walk (`tree_facts`,
`tree_minified_with_facts`, `tree_license_comments`) and the same url search
(`tree_find_references`) run over tinycss2's parse, recursively, so that the tests can hold the
fast path to tinycss2's reading of CSS Syntax Level 3 byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from assetbuild.css.tokens import TextMemo
from assetbuild.css.urls import _IMAGE_SETS, _MAY_REFER, _QUOTED, _UNQUOTED, _Reference
from assetbuild.css.walk import (
    _ATTR,
    _JUNK,
    _MEDIA,
    _PRELUDE,
    _SELECTOR,
    _SELECTOR_FUNCTIONS,
    _SEPARATORS,
    _VALUE,
    _WS_KEY,
    Atom,
    Facts,
    Key,
    _assemble,
    _facts,
    _present_suffix,
    is_license,
    preprocess,
)

Node = Any  # a tinycss2 node; tinycss2 has no type annotations

_LINE_BREAK = re.compile(r"\r\n|[\r\n\f]")

_BLOCKS = frozenset({"() block", "[] block", "{} block", "function"})
_CLOSE = {"() block": ")", "[] block": "]", "{} block": "}", "function": ")"}
_WS = frozenset({"whitespace", "comment"})


def tree_facts(text: str) -> Facts | None:
    """`stylesheet_facts` from tinycss2's tree; None when too deeply nested to walk."""
    try:
        walker = _TreeWalker(text, with_text=False)
        walker.run()
        return tuple(walker.keys), tuple(walker.licenses)
    except RecursionError:
        return None


def tree_minified_with_facts(text: str) -> tuple[str, Facts]:
    """`minified_with_facts` from tinycss2's tree (RecursionError when too deep)."""
    atoms = _TreeWalker(text, with_text=True).run()
    return _assemble(atoms), _facts(atoms)


def tree_license_comments(text: str) -> tuple[str, ...]:
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
_PARSED: TextMemo[list[Node]] = TextMemo(1_000_000)


def _parse(norm: str) -> list[Node]:
    """tinycss2's component values of preprocessed text, comments included; shared, never mutate."""
    import tinycss2

    return _PARSED.get_or_make(norm, tinycss2.parse_component_value_list)


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
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(norm)]
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


def tree_find_references(text: str) -> Iterator[_Reference]:
    """`urls._find_references` over tinycss2's tree."""
    if _MAY_REFER.search(text) is None:
        return
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def offset(node: Node) -> int:
        return int(starts[node.source_line - 1] + node.source_column - 1)

    def quoted(node: Node) -> _Reference | None:
        start = offset(node)
        quote_char = text[start] if start < len(text) else ""
        pattern = _QUOTED.get(quote_char)
        match = pattern.match(text, start) if pattern else None
        if match is None:
            return None
        return _Reference(start, (start, match.end()), node.value, quote_char)

    top = _parse(preprocess(text))
    pending: list[tuple[list[Node], bool]] = [(top, True)]
    while pending:
        nodes, is_top = pending.pop()
        skip_until_semicolon = False
        expect_import = False
        for node in nodes:
            kind = node.type
            if kind == "comment":
                continue
            if is_top and kind == "at-keyword":
                name = node.lower_value
                skip_until_semicolon = name == "namespace"  # its URL names a namespace, not a file
                expect_import = name == "import"
                continue
            if (is_top and node == ";") or kind == "{} block":
                skip_until_semicolon = expect_import = False
            if skip_until_semicolon or kind == "whitespace":
                continue
            if expect_import and kind == "string":
                ref = quoted(node)
                if ref is not None:
                    yield ref
            expect_import = False
            if kind == "url":
                start = offset(node)
                match = _UNQUOTED.match(text, start)
                if match is not None:
                    yield _Reference(start, match.span(1), node.value, "")
            elif kind == "function":
                name = node.lower_name
                args = node.arguments
                if name in ("url", "src"):
                    first = next((a for a in args if a.type not in ("whitespace", "comment")), None)
                    if first is not None and first.type == "string":
                        ref = quoted(first)
                        if ref is not None:
                            yield ref
                elif name in _IMAGE_SETS:
                    for arg in args:
                        if arg.type == "string":
                            ref = quoted(arg)
                            if ref is not None:
                                yield ref
                pending.append((args, False))
            elif kind in ("() block", "[] block", "{} block"):
                pending.append((node.content, False))
