"""JavaScript syntax check (esprima), cross-file hazards, program equality and a safe join."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from assetbuild.diagnostics import Diagnostic, Location
from assetbuild.sources import SourceFile

T = TypeVar("T")

# esprima is a recursive-descent parser: a few hundred levels of real nesting need far more
# Python frames than the default limit of 1,000. Parses run in a thread with a large stack and a
# raised limit; past it esprima reports its own "resource limit" error, which we word as ours.
_STACK_BYTES = 256 * 1024 * 1024
_RECURSION_LIMIT = 40_000
_DEEP_LOCK = threading.Lock()

_LIMIT_MESSAGES = ("nesting exceeds the parser resource limit", "nesting exceeds the validator")
_TOO_DEEP = (
    "file is too deeply nested for the JavaScript checker (a limit of assetbuild's parser, "
    "not necessarily an error in the file); reduce the nesting or split the expression"
)
_MODULE_HINT = "this file is a module; assetbuild bundles are classic scripts"
_LINE_PREFIX = re.compile(r"^Line \d+: ")
_LINE_TERMINATORS = "\n\r\u2028\u2029"
_LINES = re.compile("[\n\r\u2028\u2029]")
ENV_ENGINE = "ASSETBUILD_ENGINE"  # "auto" (default: the fast engine when installed) or "esprima"
_MODULE_KEYWORD = re.compile(r"(import|export)\b(?!\s*\()")

Kind = str  # "var" | "function" | "let" | "const" | "class"
_LEXICAL = frozenset({"let", "const", "class"})


@dataclass(frozen=True)
class TopLevelBinding:
    """A name a file declares at the top level of the (shared) global scope."""

    name: str
    kind: Kind
    location: Location
    source_line: str | None = None


@dataclass(frozen=True)
class JsReport:
    """The outcome of checking one JavaScript file."""

    text: str
    diagnostics: tuple[Diagnostic, ...]
    bindings: tuple[TopLevelBinding, ...]
    use_strict: Location | None

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


class _ParseFailure(Exception):
    """esprima rejected the text; `index` is the offset in the parsed text."""

    def __init__(self, message: str, index: int, tool_limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.tool_limit = tool_limit


class _ParserCrash(Exception):
    """esprima raised something that is not a syntax error: a bug or limit of the tool."""


def run_deep(fn: Callable[[], T]) -> T:
    """Run `fn` in a thread with a large stack and a raised recursion limit."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the calling thread
            failure.append(exc)

    with _DEEP_LOCK:
        old_limit = sys.getrecursionlimit()
        try:
            old_stack = threading.stack_size(_STACK_BYTES)
        except (ValueError, RuntimeError):  # a platform without settable stacks
            return fn()
        try:
            sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
            worker = threading.Thread(target=target, name="assetbuild-esprima", daemon=True)
            try:
                worker.start()
            except RuntimeError:  # no memory for the stack: the default limit still applies
                sys.setrecursionlimit(old_limit)
                threading.stack_size(old_stack)
                return fn()
            worker.join()
        finally:
            threading.stack_size(old_stack)
            sys.setrecursionlimit(old_limit)
    if failure:
        raise failure[0]
    return result[0]


def _parse(text: str, *, module: bool = False, tokens: bool = False, comments: bool = False) -> Any:
    """Parse (in the calling thread); raise _ParseFailure or _ParserCrash."""
    import esprima

    options = {"range": True, "positionEncoding": "scalar", "tokens": tokens, "comment": comments}
    try:
        if module:
            return esprima.parseModule(text, options)
        return esprima.parseScript(text, options)
    except esprima.Error as exc:
        message = _LINE_PREFIX.sub("", str(exc.message))
        index = exc.index if isinstance(exc.index, int) else 0
        limit = any(part in message for part in _LIMIT_MESSAGES)
        raise _ParseFailure(message, index, tool_limit=limit) from None
    except RecursionError:
        raise _ParseFailure(_TOO_DEEP, 0, tool_limit=True) from None
    except Exception as exc:
        raise _ParserCrash(f"{type(exc).__name__}: {exc}") from None


def parse_script(text: str, *, tokens: bool = False, comments: bool = False) -> Any:
    """The esprima Program of a classic script, or None when it does not parse."""
    try:
        return run_deep(lambda: _parse(text, tokens=tokens, comments=comments))
    except (_ParseFailure, _ParserCrash):
        return None


# ---------------------------------------------------------------------------------------------
# check_js


def engine_name() -> str:
    """Which checker decides: "v8" (the optional fast engine, esprima for errors) or "esprima"."""
    choice = os.environ.get(ENV_ENGINE, "auto").strip().lower() or "auto"
    if choice == "esprima":
        return "esprima"
    from assetbuild.js import engine as jsengine

    return "v8" if jsengine.available() else "esprima"


def check_js(src: SourceFile, *, first: bool) -> JsReport:
    """Syntax-check one file as a classic script; collect its top-level bindings."""
    return check_scripts([(src, first)])[0]


def check_scripts(
    files: Sequence[tuple[SourceFile, bool]],
    keep: Sequence[bool] | None = None,
    mapped: Sequence[bool] | None = None,
) -> list[JsReport]:
    """`check_js(src, first=first)` of each file, the same reports; the engine analyzes them in one call.

    `keep` (default all) marks the files whose minified text will be compared next, so the engine
    holds their trees meanwhile; `mapped` (default none) those whose maps it makes next (their tokens).
    """
    if engine_name() != "v8":
        return [_checked(src, first, None) for src, first in files]
    from assetbuild.js import engine as jsengine

    answers = jsengine.analyze_scripts([src.text for src, _ in files], keep, mapped)
    return [
        _checked(src, first, answer) for (src, first), answer in zip(files, answers, strict=True)
    ]


def _checked(src: SourceFile, first: bool, answer: Any) -> JsReport:
    """The report on a file given the fast engine's answer on its text (None: esprima alone)."""
    text = src.text
    shipped = text if first else _blank_hashbang(text)
    engine_verdict = None
    if answer is not None:
        from assetbuild.js import engine as jsengine

        if isinstance(answer, jsengine.ScriptFacts):
            return _engine_report(src, shipped, answer)
        # Rejected, or undecided: esprima gives the authoritative message and location.
        engine_verdict = answer
    try:
        program, facts = run_deep(lambda: _check_parse(text))
    except _ParserCrash as exc:
        message = (
            f"the JavaScript checker failed on this file ({exc}); this is a limit of "
            "assetbuild, not necessarily an error in the file"
        )
        return JsReport(shipped, (src.diagnostic("error", message, None),), (), None)
    except _ParseFailure as exc:
        if exc.tool_limit:
            return JsReport(shipped, (src.diagnostic("error", _TOO_DEEP, None),), (), None)
        diagnostic = _module_diagnostic(src, exc.index) or src.diagnostic(
            "error", exc.message, exc.index
        )
        return JsReport(shipped, (diagnostic,), (), None)
    if engine_verdict is not None and engine_verdict.kind != "limit":
        # The engine (acorn + V8) found an error esprima misses: never weaker than esprima alone.
        return JsReport(
            shipped,
            (src.diagnostic("error", engine_verdict.message, engine_verdict.offset),),
            (),
            None,
        )
    shift = len(text) - len(shipped)
    licenses = tuple((offset - shift, comment) for offset, comment in facts.licenses)
    _remember(shipped, ProgramFacts(facts.fingerprint, licenses))
    bindings = tuple(_bindings(src, program))
    return JsReport(shipped, (), bindings, _use_strict(src, program))


def _engine_report(src: SourceFile, shipped: str, facts: Any) -> JsReport:
    """A report from the fast engine's facts about an accepted script."""
    text = src.text
    shift = len(text) - len(shipped)
    licenses = tuple((start - shift, text[start:end]) for start, end in facts.licenses)
    _ENGINE_LICENSES.remember(shipped, licenses)
    bindings = []
    for name, kind, offset in facts.bindings:
        line, column, line_text = src.line_col(offset)
        bindings.append(TopLevelBinding(name, kind, Location(src.display, line, column), line_text))
    strict = src.location(facts.use_strict) if facts.use_strict is not None else None
    return JsReport(shipped, (), tuple(bindings), strict)


class _LicenseMemo:
    """License comments of recently checked texts, so minifying right after checking needs no parse.

    A batch's files are all checked before the first is minified: 4,096 texts hold the batches of
    16 threads at once (the executor's `BATCH_FILES`). A text it forgot is analyzed again.
    """

    def __init__(self, size: int = 4096) -> None:
        self._items: dict[bytes, tuple[tuple[int, str], ...]] = {}
        self._size = size
        self._lock = threading.Lock()

    def remember(self, text: str, licenses: tuple[tuple[int, str], ...]) -> None:
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[_text_key(text)] = licenses

    def get(self, text: str) -> tuple[tuple[int, str], ...] | None:
        with self._lock:
            return self._items.get(_text_key(text))


_ENGINE_LICENSES = _LicenseMemo()


def license_comments(text: str) -> tuple[tuple[int, str], ...] | None:
    """License comments (offset, text) the fast engine found when it checked this text, if it did."""
    return _ENGINE_LICENSES.get(text)


def _check_parse(text: str) -> tuple[Any, ProgramFacts]:
    program = _parse(text, comments=_may_have_licenses(text))
    return program, _facts(text, program)


def _blank_hashbang(text: str) -> str:
    """Drop a hashbang line's content but keep its line break, so line numbers stay."""
    if not text.startswith("#!"):
        return text
    end = len(text)
    for terminator in _LINE_TERMINATORS:
        found = text.find(terminator)
        if 0 <= found < end:
            end = found
    return text[end:]


_MODULE_NODES = {
    "ImportDeclaration": "'import' declaration",
    "ExportNamedDeclaration": "'export' declaration",
    "ExportDefaultDeclaration": "'export default' declaration",
    "ExportAllDeclaration": "'export *' declaration",
}
_FUNCTIONS = frozenset({"FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"})


def _module_diagnostic(src: SourceFile, error_index: int) -> Diagnostic | None:
    """Say "module" when the module parse succeeds, or the script stumbled on import/export."""
    try:
        program = run_deep(lambda: _parse(src.text, module=True))
        found = run_deep(lambda: _first_module_feature(program))
    except (_ParseFailure, _ParserCrash):
        found = None
    if found is None:
        keyword = _MODULE_KEYWORD.match(src.text, error_index)
        if keyword is None:
            return None
        if src.text.startswith("import.meta", error_index):
            found = ("'import.meta'", error_index)
        else:
            found = (f"'{keyword.group(1)}' declaration", error_index)
    what, offset = found
    return src.diagnostic("error", f"{what}: {_MODULE_HINT}", offset)


def _first_module_feature(program: Any) -> tuple[str, int] | None:
    candidates: list[tuple[int, str]] = []
    for statement in program.body:
        if statement.type in _MODULE_NODES:
            candidates.append((statement.range[0], _MODULE_NODES[statement.type]))
    for node, in_function in _walk_nodes(program):
        if node.type == "MetaProperty" and getattr(node.meta, "name", None) == "import":
            candidates.append((node.range[0], "'import.meta'"))
        elif not in_function and node.type == "AwaitExpression":
            candidates.append((node.range[0], "top-level 'await'"))
        elif not in_function and node.type == "ForOfStatement" and node.__dict__.get("allowAwait"):
            candidates.append((node.range[0], "top-level 'for await'"))
    if not candidates:
        return None
    offset, what = min(candidates)
    return what, offset


def _walk_nodes(root: Any) -> Iterator[tuple[Any, bool]]:
    """Every node with whether it is inside a function (iteratively: trees can be deep)."""
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, in_function = stack.pop()
        yield node, in_function
        inner = in_function or node.type in _FUNCTIONS
        for key, value in node.__dict__.items():
            if key.startswith("_") or key in ("range", "loc"):
                continue
            if isinstance(value, list):
                stack.extend((item, inner) for item in reversed(value) if _is_node(item))
            elif _is_node(value):
                stack.append((value, inner))


def _is_node(value: object) -> bool:
    return hasattr(value, "__dict__") and isinstance(value.__dict__.get("type"), str)


def _use_strict(src: SourceFile, program: Any) -> Location | None:
    for statement in program.body:
        directive = statement.__dict__.get("directive")
        if statement.type != "ExpressionStatement" or directive is None:
            return None
        if directive == "use strict":
            return src.location(statement.range[0])
    return None


# Statements whose bodies share the enclosing function's var scope.
_VAR_CONTAINERS = {
    "BlockStatement": ("body",),
    "IfStatement": ("consequent", "alternate"),
    "ForStatement": ("init", "body"),
    "ForInStatement": ("left", "body"),
    "ForOfStatement": ("left", "body"),
    "WhileStatement": ("body",),
    "DoWhileStatement": ("body",),
    "LabeledStatement": ("body",),
    "WithStatement": ("body",),
    "TryStatement": ("block", "handler", "finalizer"),
    "CatchClause": ("body",),
    "SwitchStatement": ("cases",),
    "SwitchCase": ("consequent",),
}


def _bindings(src: SourceFile, program: Any) -> Iterator[TopLevelBinding]:
    def binding(identifier: Any, kind: Kind) -> TopLevelBinding:
        line, column, text = src.line_col(identifier.range[0])
        return TopLevelBinding(identifier.name, kind, Location(src.display, line, column), text)

    for statement in program.body:
        kind = statement.type
        if kind == "VariableDeclaration" and statement.kind in ("let", "const"):
            for declarator in statement.declarations:
                for identifier in _pattern_names(declarator.id):
                    yield binding(identifier, statement.kind)
        elif kind == "FunctionDeclaration" and statement.id is not None:
            yield binding(statement.id, "function")
        elif kind == "ClassDeclaration" and statement.id is not None:
            yield binding(statement.id, "class")
    for declaration in _var_declarations(program.body):
        for declarator in declaration.declarations:
            for identifier in _pattern_names(declarator.id):
                yield binding(identifier, "var")


def _var_declarations(body: list[Any]) -> Iterator[Any]:
    """`var` declarations of the top-level scope, also those nested in blocks and loops."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if node.type == "VariableDeclaration":
            if node.kind == "var":
                yield node
            continue
        for key in reversed(_VAR_CONTAINERS.get(node.type, ())):
            stack.append(node.__dict__.get(key))


def _pattern_names(pattern: Any) -> Iterator[Any]:
    stack = [pattern]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        kind = node.type
        if kind == "Identifier":
            yield node
        elif kind == "ObjectPattern":
            for prop in reversed(node.properties):
                stack.append(prop.argument if prop.type == "RestElement" else prop.value)
        elif kind == "ArrayPattern":
            stack.extend(reversed(node.elements))
        elif kind == "RestElement":
            stack.append(node.argument)
        elif kind == "AssignmentPattern":
            stack.append(node.left)


# ---------------------------------------------------------------------------------------------
# check_bundle


def check_bundle(reports: Sequence[JsReport]) -> tuple[Diagnostic, ...]:
    """Hazards of concatenating these files, in order, into one classic script."""
    return _clashes(reports) + _strict_warnings(reports)


def _clashes(reports: Sequence[JsReport]) -> tuple[Diagnostic, ...]:
    seen: dict[str, tuple[int, TopLevelBinding]] = {}
    found: list[Diagnostic] = []
    for index, report in enumerate(reports):
        for binding in report.bindings:
            earlier = seen.get(binding.name)
            if earlier is None:
                seen[binding.name] = (index, binding)
                continue
            earlier_index, previous = earlier
            if earlier_index == index:
                continue
            if binding.kind in _LEXICAL or previous.kind in _LEXICAL:
                found.append(_clash(binding, previous))
    return tuple(found)


def _clash(binding: TopLevelBinding, previous: TopLevelBinding) -> Diagnostic:
    message = (
        f"'{binding.name}' is declared again at the top level: {binding.kind} here, "
        f"{previous.kind} in {previous.location.path}; concatenated into one script the bundle "
        "would throw a SyntaxError on load (rename one, or wrap a file in a function)"
    )
    note = Diagnostic(
        "warning", "previously declared here", previous.location, previous.source_line
    )
    return Diagnostic("error", message, binding.location, binding.source_line, (note,))


def _strict_warnings(reports: Sequence[JsReport]) -> tuple[Diagnostic, ...]:
    if len(reports) < 2:
        return ()
    found: list[Diagnostic] = []
    for index, report in enumerate(reports):
        if report.use_strict is None:
            continue
        if index == 0:
            message = (
                f"'use strict' at the top of the first file applies to the whole bundle after "
                f"concatenation: all {len(reports)} files will run in strict mode"
            )
        else:
            message = (
                "'use strict' has no effect here after concatenation: it is not at the start of "
                "the bundle, so this file will run in sloppy mode (put it inside a function "
                "wrapper to keep strict mode)"
            )
        found.append(Diagnostic("warning", message, report.use_strict, code="use-strict"))
    return tuple(found)


# ---------------------------------------------------------------------------------------------
# same_program

_SKIPPED_KEYS = frozenset({"range", "loc", "hashbang", "comments", "tokens", "errors"})
_FACTS_CACHE_SIZE = 64


@dataclass(frozen=True)
class ProgramFacts:
    """What verification needs of a valid script: its tree digest and its license comments."""

    fingerprint: bytes
    licenses: tuple[tuple[int, str], ...]  # (offset, text) of each comment that must survive


_FACTS: dict[bytes, ProgramFacts | None] = {}
_FACTS_LOCK = threading.Lock()


def is_license_comment(text: str) -> bool:
    """`/*! ... */` and any comment mentioning @license or @preserve is kept."""
    if text.startswith("/*!"):
        return True
    return text.startswith(("/*", "//")) and ("@license" in text or "@preserve" in text)


def same_program(a: str, b: str) -> bool:
    """True when both texts parse as scripts to the same ESTree (positions, comments, raw ignored)."""
    first = program_fingerprint(a)
    return first is not None and first == program_fingerprint(b)


def program_fingerprint(text: str) -> bytes | None:
    """A digest of the script's ESTree without positions, comments and raw spellings; None if invalid."""
    facts = program_facts(text)
    return None if facts is None else facts.fingerprint


def program_facts(text: str) -> ProgramFacts | None:
    """Fingerprint and license comments of a script (cached by content); None when it does not parse."""
    key = _text_key(text)
    with _FACTS_LOCK:
        if key in _FACTS:
            return _FACTS[key]
    try:
        facts: ProgramFacts | None = run_deep(
            lambda: _facts(text, _parse(text, comments=_may_have_licenses(text)))
        )
    except (_ParseFailure, _ParserCrash):
        facts = None
    _remember(text, facts, key)
    return facts


def _may_have_licenses(text: str) -> bool:
    """Collecting comments costs a quarter of a parse: only when one could be a license."""
    return "/*!" in text or "@license" in text or "@preserve" in text


def _facts(text: str, program: Any) -> ProgramFacts:
    licenses = []
    for comment in program.comments or ():
        start, end = comment.range
        if is_license_comment(text[start:end]):
            licenses.append((start, text[start:end]))
    return ProgramFacts(_fingerprint_tree(program), tuple(licenses))


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()


def _remember(text: str, facts: ProgramFacts | None, key: bytes | None = None) -> None:
    key = key or _text_key(text)
    with _FACTS_LOCK:
        if len(_FACTS) >= _FACTS_CACHE_SIZE:
            _FACTS.pop(next(iter(_FACTS)))
        _FACTS[key] = facts


class _Mark(str):
    """A structural marker in the fingerprint stream (never confused with a value)."""


_CLOSE_NODE, _CLOSE_LIST = _Mark("}"), _Mark("]")
_KEY_MARKS: dict[str, _Mark] = {}


def _fingerprint_tree(root: Any) -> bytes:
    """Serialize the tree unambiguously (iteratively) and hash it."""
    digest = hashlib.blake2b(digest_size=32)
    parts: list[str] = []
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if type(item) is _Mark:
            parts.append(item)
        elif item is None:
            parts.append("N")
        elif item is True or item is False:
            parts.append("T" if item else "F")
        elif isinstance(item, int | float):
            parts.append(f"n{_number(item)}")
        elif isinstance(item, str):
            parts.append(f"s{item!r}")
        elif isinstance(item, list):
            parts.append(f"[{len(item)}")
            stack.append(_CLOSE_LIST)
            stack.extend(reversed(item))
        elif not hasattr(item, "__dict__"):
            parts.append(f"r{item!r}")
        else:
            fields = item.__dict__
            literal = fields.get("type") == "Literal"
            parts.append("{")
            stack.append(_CLOSE_NODE)
            pending = []
            for key, value in fields.items():
                if key[0] == "_" or key in _SKIPPED_KEYS or (literal and key == "raw"):
                    continue
                pending.append(value)
                pending.append(_KEY_MARKS.get(key) or _KEY_MARKS.setdefault(key, _Mark(key)))
            stack.extend(pending)
        if len(parts) > 4096:
            digest.update("\x00".join(parts).encode("utf-8", "surrogatepass"))
            parts.clear()
    digest.update("\x00".join(parts).encode("utf-8", "surrogatepass"))
    return digest.digest()


def _number(value: float) -> str:
    try:
        return repr(float(value))
    except OverflowError:
        return "inf"


# ---------------------------------------------------------------------------------------------
# join_js


def join_js(texts: Sequence[str]) -> str:
    """Concatenate scripts so that no file can run into the next one."""
    present = [text for text in texts if text]
    parts: list[str] = []
    for index, text in enumerate(present):
        parts.append(text if text.endswith("\n") else text + "\n")
        if index < len(present) - 1 and _may_continue(text):
            parts.append(";\n")
    return "".join(parts)


def _may_continue(text: str) -> bool:
    """False only when the file surely ends with a `;` token, which nothing can continue."""
    last = _last_line(text)
    if not last.endswith(";"):
        return True
    # The `;` could sit inside a comment: `//`, `/* */`, `<!--`, or a `-->` line.
    return "/" in last or "<!--" in last or last.startswith(("-->", "#!"))


def _last_line(text: str) -> str:
    """The last non-blank line, stripped; reads only the end of the text (the bundle's files are big)."""
    size = 4096
    while True:
        start = max(0, len(text) - size)
        lines = _LINES.split(text[start:])
        # The window's first line may be cut short; every later one is complete.
        for line in reversed(lines if start == 0 else lines[1:]):
            if line.strip():
                return line.strip()
        if start == 0:
            return ""
        size *= 8
