"""Which whitespace in a stylesheet can matter: the walk behind verification and the safe minifier.

A stylesheet is walked as tinycss2 component values, rule by rule, and flattened into
atoms. Every whitespace run is either significant (compared, and kept as one space) or
droppable; the decision depends on where it stands:

- everywhere: runs collapse to one; whitespace at the start or end of a prelude, a
  declaration value, a block or a function's arguments can be dropped;
- selectors: whitespace is the descendant combinator (`.a .b` is not `.a.b`), except next
  to `,` `>` `+` `~` `||`; inside `[...]` it can go next to `=`-style matchers;
- declaration values: droppable only next to `,` (`calc(1px + 2px)` needs its spaces);
- custom properties (`--x`): like declaration values. A browser substitutes the value token by
  token where `var()` uses it, and there whitespace next to `,` never matters; `--x:;` and
  `--x: ;` still differ (empty custom properties, see `declaration`);
- at-rule preludes: next to `,`; inside `(...)` also next to `:` `<` `>` `=` (not inside `>=`).

Tokens are compared by value (`.5` = `0.5`, `"a"` = `'a'`), keeping what can matter:
integer or not, an explicit sign, the unit as written. Comments are not compared.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple

import tinycss2
from tinycss2.serializer import BAD_PAIRS

Key = tuple[Any, ...]
Node = Any  # a tinycss2 node; tinycss2 has no type annotations

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
_WS = frozenset({"whitespace", "comment"})
# Adjacent tokens that would tokenize differently: tinycss2's table, plus pairs it misses
# (found by tokenizing every pair of sample tokens): `-` `-` is the ident `--`, `1` `%` is `1%`.
_MERGES = BAD_PAIRS | {
    ("#", "-"), ("#", "-->"), ("-", "-"), ("-", "-->"), ("@", "-->"),
    ("number", "%"), ("number", "-->"), ("/", "*="), ("|", "|="), ("|", "||"),
    ("--", ">"),  # the ident `--` (last type "--") and `>` make `-->`
} | {("--", after) for before, after in BAD_PAIRS if before == "ident"}  # fmt: skip


# The last few parses, so one text is tokenized once per process however many steps read it
# (the url rewriter, the source's facts, the safe minifier, the license scan). Bounded in
# characters: a parse tree costs tens of bytes per character, and a worker keeps it after its job.
_PARSED: OrderedDict[str, list[Node]] = OrderedDict()
_PARSED_CHARS = 1_000_000  # ~40 MB of tree at ~38 bytes a character
_PARSED_LOCK = threading.Lock()


def parse(norm: str) -> list[Node]:
    """tinycss2's component values of preprocessed text, comments included; shared, never mutate."""
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


def stylesheet_facts(text: str) -> Facts | None:
    """What minification must keep: the comparable form and the license comments, in order.

    None when the stylesheet is too deeply nested to walk.
    """
    try:
        walker = _Walker(text, with_text=False)
        walker.run()
        return tuple(walker.keys), tuple(walker.licenses)
    except RecursionError:
        return None


def minified_with_facts(text: str) -> tuple[str, Facts]:
    """The safe minifier's output and the source's facts, from one walk (RecursionError when too deep)."""
    atoms = _Walker(text, with_text=True).run()
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


def stylesheet_key(text: str) -> tuple[Key, ...] | None:
    """The comparable form of a stylesheet; None when it is too deeply nested to walk."""
    facts = stylesheet_facts(text)
    return None if facts is None else facts[0]


def is_license(comment: str) -> bool:
    """A comment that must survive minification: `/*! ... */`, @license, @preserve."""
    return comment.startswith("!") or "@license" in comment or "@preserve" in comment


def license_comments(text: str) -> tuple[str, ...]:
    """The license comments of a stylesheet, in order."""
    found: list[str] = []
    # Depth-first in document order, without recursion.
    pending: list[Node] = list(reversed(tinycss2.parse_component_value_list(text)))
    while pending:
        node = pending.pop()
        if node.type == "comment":
            if is_license(node.value):
                found.append(node.value)
        elif node.type in _BLOCKS:
            pending.extend(reversed(node.arguments if node.type == "function" else node.content))
    return tuple(found)


def safe_minify(text: str) -> str:
    """Whitespace and comments reduced to what the stylesheet needs; license comments kept."""
    return _assemble(_Walker(text, with_text=True).run())


def preprocess(text: str) -> str:
    """The text as tinycss2 sees it: CSS Syntax input preprocessing."""
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


class _Walker:
    """Flattens a stylesheet into atoms, deciding each whitespace run by its context."""

    def __init__(self, text: str, *, with_text: bool) -> None:
        self.norm = preprocess(text)
        self.nodes: list[Node] = parse(self.norm)
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
                head = self.source(node) or tinycss2.serialize_identifier(node.name) + "("
            children = node.arguments
        else:
            key = (kind,)
            head = kind[0]
            children = node.content
        self.emit(key, head, kind, "(")
        self.items(children, _inner_context(node, context), trim=True)
        self.emit(("end", kind), _CLOSE[kind], ")", ")")


def _inner_context(node: Node, context: int) -> int:
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
