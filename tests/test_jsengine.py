"""The optional fast engine (acorn + V8 in mini-racer): strictness, offsets, no execution, equality."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip(
    "py_mini_racer", reason="the engine (mini-racer) is not installed: no wheel for this platform"
)

from assetbuild.js import engine as jsengine

MODERN_VALID = [
    "a?.b?.[c]?.(d);",
    "x = a ?? b;",
    "x = (a || b) ?? c;",
    "class A { x = 1; static y = 2; #z = 3; }",
    "class A { #x; has(o) { return #x in o; } }",
    "class A { #m() {} static #s = 1; get #g() { return 1; } }",
    "class A { static { this.x = 1; } }",
    "x = 123n * 0x1fn;",
    "x = 1_000_000 + 0b1010_1010 + 1_0.5e1_0;",
    "try { f(); } catch { g(); }",
    "a ||= b; a &&= c; a ??= d;",
    "async function* g() { for await (const x of y) yield x; }",
    "x = /[^]/;",
    r"x = /(?<y>\d+)/u;",
    r"x = /\p{L}/u;",
    r"x = /[\p{L}--\p{N}]/v;",
    "x = /a/dgimsuy;",
    "#!/usr/bin/env node\nx = 1;",
    "label: for (;;) { break label; }",
    "x = `a${b}c${`d${e}`}`;",
    "x = tag`\\unicode and \\u{55}`;",
    "({ a, ...rest } = obj); [x, ...ys] = zs;",
    "x = import.meta === undefined ? 1 : 2;".replace("import.meta", "globalThis.meta"),
    "const f = async (a = 1, { b } = {}) => await a;",
    "x = a ** b ** c;",
    "var await = 1; var yield = 2;",
    "<!-- an HTML-like comment\nx = 1;\n--> so is this, at the start of a line\n",
    "x = 1 /* a */ / 2 / 3;",
    "if (a) function f() {}",
    "x = '\\u{1F600}'; y = '\U0001f600';",
]

INVALID = [
    "x = 1 +",
    "a?.b = 1;",
    "x = a ?? b || c;",
    "class A { #x; #x; }",
    "class A { m() { delete this.#x; } #x; }",
    "#x in {};",
    "class A { static { await; } }",
    "x = 1_000_;",
    "x = 1__0;",
    "x = 0_1;",
    "let let = 1;",
    "'use strict'; x = 010;",
    "'use strict'; with (a) {}",
    "async function f() { await; }",
    "try {} catch {} finally",
    "return 1;",
    "new.target;",
    "super();",
    "x = import.meta;",
    "export default 1;",
    "import x from 'y';",
    "await 1;",
    "for await (x of y) {}",
    "({a: 1} = b);",
    "l: l: ;",
    "break;",
    "x => { 'use strict'; with (a) {} }",
    "x = /(?<a>x)(?<a>y)/;",
    r"x = /\p{Nope}/u;",
    "x = /[(]/v;",
    "x = /a/gg;",
    "(class eval {});",
    "function* g() { yield\n* 2; }",
    "x\n#!/not/first\n",
    "}); globalThis.escaped = 1; (function () {",
    "let [a] ;",
    "for (let of x) ;",
    "x = { a = 1 };",
]


@pytest.mark.parametrize("text", MODERN_VALID)
def test_accepts_modern_scripts(text: str) -> None:
    assert jsengine.check_scripts([text]) == [None]


@pytest.mark.parametrize("text", INVALID)
def test_rejects_invalid_scripts(text: str) -> None:
    (verdict,) = jsengine.check_scripts([text])
    assert verdict is not None
    assert verdict.kind in ("syntax", "compile")
    assert verdict.message


@pytest.mark.parametrize(
    ("text", "module", "accepted"),
    [
        ("await 1;", True, True),
        ("await 1;", False, False),
        ("export const a = 1; import.meta;", True, True),
        ("with (a) {}", True, False),  # modules are strict
        ("x = 010;", True, False),
    ],
)
def test_modules(text: str, module: bool, accepted: bool) -> None:
    (verdict,) = jsengine.check_scripts([text], module=module)
    assert (verdict is None) is accepted


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("x = 1 + ;", ";"),
        ("var a = 1;\nvar b = 2 3;", "3"),
        ("'\U0001f600\U0001f600'; a + * b;", "*"),  # astral characters: two UTF-16 units each
        ("x = '\U0001f600'; y = 'é';\n  return;", "return"),
        ("class A { #x; #x; }", "x; }"),  # meriyah points at the name after `#`
        (
            "let a; let a;",
            "a;",
        ),
    ],
)
def test_offset_points_at_the_error(text: str, marker: str) -> None:
    (verdict,) = jsengine.check_scripts([text])
    assert verdict is not None and verdict.kind == "syntax"
    assert verdict.offset == text.rindex(marker)


def test_batches_keep_order() -> None:
    texts = ["a = 1;", "a = ;", "b = 2;", "return;"]
    verdicts = jsengine.check_scripts(texts)
    assert [v is None for v in verdicts] == [True, False, True, False]
    assert jsengine.check_scripts([]) == []
    assert jsengine.same_programs([]) == []


def test_never_runs_the_code() -> None:
    # If any of these ran, acorn and Function would be gone and the engine would accept anything.
    hostile = [
        "acorn.parse = function () { return {}; }; Function = function () {};",
        "Object.defineProperty(Object.prototype, 'type', { get() { throw 1; } });",
        "}); acorn.parse = null; (function () {",
        "for (;;) {}",
        "while (true) { acorn = null; }",
    ]
    started = time.monotonic()
    jsengine.check_scripts(hostile)
    jsengine.same_programs([(text, text) for text in hostile])
    assert time.monotonic() - started < 10
    (verdict,) = jsengine.check_scripts(["x = 1 +"])
    assert verdict is not None and verdict.kind == "syntax"
    assert jsengine.same_programs([("a = 1", "a = 2"), ("a = 1", "a=1")]) == [False, True]


def test_texts_the_engine_cannot_take_are_left_to_esprima() -> None:
    lone_surrogate = "x = '\ud800';"
    deep = "x = " + "[" * 100_000 + "]" * 100_000 + ";"
    verdicts = jsengine.check_scripts([lone_surrogate, deep])
    for verdict in verdicts:
        assert verdict is not None and verdict.kind == "limit" and verdict.offset is None
    assert jsengine.same_programs([(lone_surrogate, lone_surrogate), (deep, deep)]) == [
        False,
        False,
    ]


SAME = [
    ("a = 1", "a=1"),
    ("a = 1\nb = 2", "a=1;b=2;"),
    ("x = 'a'", 'x="a"'),
    ("x = '\\x41'", "x='A'"),
    ("x = 1.0", "x=1"),
    ("x = .5", "x=0.5"),
    ("x = 1n", "x=0x1n"),
    ("x = /a/g", "x=/a/g"),
    ("#!/usr/bin/env node\nx = 1", "x=1"),
    ("if (a) { b() } else c()", "if(a){b()}else c()"),
    ("x = a /* c */ + b // d\n", "x=a+b"),
    ("'use strict'; x = 1", '"use strict";x=1'),
]

DIFFERENT = [
    # rjsmin's known breaking outputs (research notes), each a different program or no program
    ("class A {\n #a = 1\n #b }", "class A{#a=1#b}"),
    ("x = `${a ? ` b` : ''}`", "x=`${a?`b`:''}`"),
    ("function f() { return /*\n*/ x }", "function f(){return x}"),
    ("x = typeof / a/g", "x=typeof/a/g"),
    ("x = 1 .toString()", "x=1.toString()"),
    ("x = a\n++b", "x=a++b"),
    # values and flags
    ("x = /a/g", "x=/a/i"),
    ("x = /a/", "x=/b/"),
    ("x = 1n", "x=2n"),
    ("x = 1n", "x=1"),
    ("x = '1'", "x=1"),
    ("x = 1", "x=2"),
    ("x = null", "x=0"),
    ("x = tag`\\x41`", "x=tag`A`"),  # same cooked, different raw: visible to the tag
    ("'use strict'; x = 1", "'use\\x20strict';x=1"),  # an escaped directive is not a directive
    ("a; b", "a, b"),
    ("a\n(b)", "a;(b)"),
    ("x = a + b * c", "x=(a+b)*c"),
    ("x = 1", "x = 1;;"),
    ("x = 1", "x ="),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_programs(a: str, b: str) -> None:
    assert jsengine.same_programs([(a, b), (b, a)]) == [True, True]


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_programs(a: str, b: str) -> None:
    assert jsengine.same_programs([(a, b), (b, a)]) == [False, False]


@pytest.mark.parametrize(
    ("a", "b", "expected"), [(a, b, True) for a, b in SAME] + [(a, b, False) for a, b in DIFFERENT]
)
def test_the_checked_tree_is_reused_with_the_same_verdicts(a: str, b: str, expected: bool) -> None:
    """The build's order: analyze the source (its tree is kept), then compare a candidate with it."""
    if not isinstance(jsengine.analyze_script(a), jsengine.ScriptFacts):
        pytest.skip("not a valid script")
    assert jsengine.same_programs([(a, b)]) == [expected]
    assert jsengine.same_programs([(a, b)]) == [expected]  # again, once the tree was dropped


def test_a_kept_tree_answers_only_for_its_own_text() -> None:
    assert isinstance(jsengine.analyze_script("a = 1"), jsengine.ScriptFacts)
    assert jsengine.same_programs([("a = 2", "a=1"), ("a = 1", "a=2")]) == [False, False]
    # a failed candidate (rjsmin's) leaves the tree for the next one (the safe minifier's)
    assert isinstance(jsengine.analyze_script("x = a\n++b"), jsengine.ScriptFacts)
    assert jsengine.same_programs([("x = a\n++b", "x=a++b")]) == [False]
    assert jsengine.same_programs([("x = a\n++b", "x=a\n++b")]) == [True]
    # a rejected text never leaves a tree behind for a later comparison
    assert not isinstance(jsengine.analyze_script("x = 1 +"), jsengine.ScriptFacts)
    assert jsengine.same_programs([("x = 1 +", "x=1+")]) == [False]


def test_equal_texts_are_the_same_program_only_when_valid() -> None:
    texts = ["a = 1", "x = 1 +", "return 1;", "let let = 1;", "'use strict'; with (a) {}"]
    verdicts = jsengine.check_scripts(texts)
    assert jsengine.same_programs([(t, t) for t in texts]) == [v is None for v in verdicts]
    assert verdicts[0] is None and verdicts[1] is not None and verdicts[4] is not None


def test_rjsmin_breaking_inputs_are_caught() -> None:
    rjsmin = pytest.importorskip("rjsmin")
    breakers = [
        "class A {\n #a = 1\n #b }",
        "x = `${a ? ` b` : ''}`;",
        "function f() { return /*\n*/ x }",
        "if (typeof / a/g) {}",
    ]
    for source in breakers:
        minified = rjsmin.jsmin(source)
        assert jsengine.same_programs([(source, minified)]) == [False], (source, minified)


operand = st.sampled_from(["a", "b", "1", "2.5", "'s'", "f()", "x.y", "0x10n"])
operator = st.sampled_from(["+", "-", "*", "/", "%", "==", "&&", "||", "??", "<<", "**"])
space = st.sampled_from(["", " ", "\n", " /* c */ ", "\t"])


@st.composite
def expressions(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Parallel token lists of a flat binary expression; spacing is added separately."""
    count = draw(st.integers(1, 6))
    operands = [draw(operand) for _ in range(count + 1)]
    operators = [draw(operator) for _ in range(count)]
    return operands, operators


def spell(operands: list[str], operators: list[str], gaps: list[str]) -> str:
    parts = [operands[0]]
    for i, (op, right) in enumerate(zip(operators, operands[1:], strict=True)):
        parts.append(f"{gaps[2 * i % len(gaps)]}{op}{gaps[(2 * i + 1) % len(gaps)]}{right}")
    # parenthesize: `??` may not mix with `&&`/`||` and `**` may not follow a unary-free mix
    return "x = (" + "".join(parts) + ");"


@settings(max_examples=60, deadline=None)
@given(expressions(), st.lists(space, min_size=1, max_size=5), st.data())
def test_spacing_never_matters_and_operators_do(
    expression: tuple[list[str], list[str]], gaps: list[str], data: st.DataObject
) -> None:
    operands, operators = expression
    compact, spaced = spell(operands, operators, [""]), spell(operands, operators, gaps)
    valid = jsengine.check_scripts([compact])[0] is None
    assert jsengine.same_programs([(compact, spaced)]) == [valid]
    index = data.draw(st.integers(0, len(operators) - 1))
    other = data.draw(operator.filter(lambda op: op != operators[index]))
    changed = spell(operands, [*operators[:index], other, *operators[index + 1 :]], gaps)
    assert jsengine.same_programs([(compact, changed)]) == [False]


def test_available_and_startup() -> None:
    assert jsengine.available()
    assert 0 < jsengine.startup_seconds() < 30


def test_a_module_tree_is_never_reused_for_a_script() -> None:
    text = "await ready;"
    assert jsengine.check_scripts([text], module=True) == [None]
    assert jsengine.same_programs([(text, text)]) == [False]
    assert jsengine.check_scripts([text]) != [None]


def test_available_is_false_in_a_forked_child() -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork() here")
    jsengine.check_scripts(["a = 1;"])  # the engine is loaded in this process
    read, write = os.pipe()
    with warnings.catch_warnings():  # 3.12+ warns about fork() in a threaded process: intended
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, b"1" if jsengine.available() else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(child, 0)
    assert answer == b"0"
    assert jsengine.available()


FACTS_CASES = [
    '"use strict";\n/*! lic */ let a = 1; var {b, c: [d]} = x; if (1) { var e; }\n'
    "function f() { var g; } class H {} // @license x\n",
    "for (var i = 0;;) {} try { var t; } catch { var u; } switch (1) { case 1: var w; }",
    "label: { var \U0001d49c = 1; } let [p, ...q] = r; const {s = 1, ...v} = y;",
    "'use asm'; 'use strict'; var z;",
    "x; 'use strict';",
]


@pytest.mark.parametrize("text", FACTS_CASES)
def test_engine_facts_match_esprimas(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's bindings, strict directive and licenses equal what esprima's walk finds."""
    from assetbuild.js.check import check_js
    from assetbuild.sources import SourceFile

    src = SourceFile(Path("a.js"), "a.js", text, text)
    monkeypatch.setenv("ASSETBUILD_ENGINE", "esprima")
    slow = check_js(src, first=True)
    monkeypatch.setenv("ASSETBUILD_ENGINE", "auto")
    fast = check_js(src, first=True)
    assert fast.ok and slow.ok
    assert sorted(fast.bindings, key=repr) == sorted(slow.bindings, key=repr)
    assert fast.use_strict == slow.use_strict
    facts = jsengine.analyze_script(text)
    assert isinstance(facts, jsengine.ScriptFacts)
    licenses = [text[a:b] for a, b in facts.licenses]
    assert licenses == [c for c in ("/*! lic */", "// @license x") if c in text]


TOKEN_CASES = [
    "a = `x${b}y${`z${ {a:1}.a }`}` / 2; 1n; this?.x; /re/g.test(s);",
    "class A { #p; m() { return #p in this } static { this.q = 1 } }",
    "x\n++y; a = b\n/re/g.exec(c); i = typeof /a/; if (a) /b/.test(c)",
    "/*! keep */ var s = 'str' + \"s2\"; // @preserve me\nlet t = `${`${`deep`}`}`;",
    "a = 1 .toString(); b = x - -y; c = x + +y; d = a-- > b; e = c < !--d;",
    "async function* g() { for await (const x of y) yield* x; }",
    "var \U0001d49c = '\U0001d49c'; label: for (;;) { break label; }",
]


@pytest.mark.parametrize("text", TOKEN_CASES)
def test_engine_tokens_give_the_safe_minifiers_output(text: str) -> None:
    """The engine's tokens, emitted by the safe minifier, equal esprima's path byte for byte."""
    from assetbuild.js import safe as jssafe

    tokens = jsengine.script_tokens(text)
    assert tokens is not None
    fast = jssafe.emit(text, [jssafe.Piece(kind, text[a:b], a, b) for kind, a, b in tokens])
    assert fast == jssafe.minify(text)
    assert jsengine.same_programs([(text, fast)]) == [True]


def test_lent_engines_check_in_threads_with_the_same_answers() -> None:
    import threading

    texts = [*MODERN_VALID, *INVALID]
    expected = [
        (jsengine.check_scripts([t])[0], jsengine.same_programs([(t, t)])[0]) for t in texts
    ]
    answers: dict[int, list[object]] = {}
    engines: dict[int, int] = {}

    def work(n: int, lent: object) -> None:
        with lent:  # type: ignore[attr-defined]
            engines[n] = id(jsengine._engine())
            answers[n] = [
                (jsengine.check_scripts([t])[0], jsengine.same_programs([(t, t)])[0]) for t in texts
            ]

    lent = [jsengine.lend(), jsengine.lend()]
    threads = [threading.Thread(target=work, args=(n, lent[n])) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers[0] == expected and answers[1] == expected
    assert engines[0] != engines[1] and id(jsengine._engine()) not in engines.values()
    again = jsengine.lend()  # an idle engine is lent again, not a new one made
    with again:
        assert id(jsengine._engine()) in engines.values()
        with pytest.raises(RuntimeError), jsengine.lend():
            pass  # one engine a thread


# --- batches: one call for many texts, each text's own answer ------------------------------------

BATCH_TEXTS = [
    *MODERN_VALID,
    *INVALID,
    "x = '\U0001f600'; let late = 1;",  # astral: the next text's offsets still start at 0
    "/*! kept */ var y = '\U0001f600\U0001f600'; // @license MIT\n",
    "x = '\U0001f600' + (1 + );",
    "",
    "x = 1 +",
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(BATCH_TEXTS), min_size=1, max_size=10), st.data())
def test_a_batch_gives_each_text_its_own_answers(texts: list[str], data: st.DataObject) -> None:
    alone = [jsengine.analyze_script(text) for text in texts]
    assert jsengine.analyze_scripts(texts) == alone
    candidates = [
        data.draw(st.sampled_from([t, t + ";", "x=1", t.replace(" ", "")])) for t in texts
    ]
    pairs = list(zip(texts, candidates, strict=True))
    together = jsengine.same_programs(pairs)  # with the batch's trees held
    assert together == [jsengine.same_programs([pair])[0] for pair in pairs]  # and without


def test_utf16_lengths_split_a_batch_where_python_does() -> None:
    texts = ["'\U0001f600'", "'é'", "x", "'\U0001f600\U0001f600' + (", "y"]
    joined, lengths = jsengine._joined(texts)
    assert joined == "".join(texts)
    assert [int(n) for n in lengths.split(",")] == [4, 3, 1, 10, 1]
    answers = jsengine.analyze_scripts(texts)
    assert [isinstance(a, jsengine.ScriptFacts) for a in answers] == [True, True, True, False, True]
    verdict = answers[3]  # at its last token, "(" (UTF-16 offset 9), in Python's index
    assert isinstance(verdict, jsengine.EngineVerdict) and verdict.offset == len(texts[3]) - 1
    assert jsengine.analyze_scripts([]) == [] and jsengine.same_programs([]) == []


@pytest.mark.parametrize(
    "text",
    [
        "f() = 4;",
        "f()++;",
        "--f();",
        "f() += 1;",
        "f() ??= 1;",
        "for (f() in x) ;",
        "for (f() of x) ;",
        "(f()) = 1;",
        "a.b(c)[d]() = 1;",
        "x = () => { g() = 2; };",
    ],
)
def test_a_call_is_never_an_assignment_target(text: str) -> None:
    """meriyah accepts these in sloppy scripts (as browsers do: a ReferenceError when run), and so
    does V8's compiler; test262 and acorn reject them early, so the tree check does."""
    answer = jsengine.analyze_script(text)
    assert isinstance(answer, jsengine.EngineVerdict) and answer.kind == "syntax"
    assert answer.offset is not None


@pytest.mark.parametrize(
    "text", ["f(a = 1);", "x = f() == 4;", "f()\nx = 4;", "a[f()] = 1;", "f().x = 1;"]
)
def test_calls_beside_assignments_are_fine(text: str) -> None:
    assert isinstance(jsengine.analyze_script(text), jsengine.ScriptFacts)


# --- the safe minifier made inside the engine: safe.py's `emit`, byte for byte ---------------------


def python_emit(text: str) -> str | None:
    from assetbuild.js import safe as jssafe

    tokens = jsengine.script_tokens(text)
    if tokens is None:
        return None
    return jssafe.emit(text, [jssafe.Piece(kind, text[a:b], a, b) for kind, a, b in tokens])


SAFE_SNIPPETS = [
    *TOKEN_CASES,
    *MODERN_VALID,
    "#!/usr/bin/env node\n/*! a */ x = 1",
    "#!/usr/bin/env node",
    "a = b\n(c)",
    "return_ = a\n++\nb",
    "x = a\n-->b\n",
    "x = a <!--b\n",
    "x = y / 2 / /re/i.source.length",
    "x = 1..toString() + 1.5.toFixed() + .5 + 0x1F.toString()",
    "a = b ? c : d ?.5 : 6; e = f?.[g]",
    "x = a++ + ++b - c-- - --d; y = a+ +b - -c",
    "for (;;) { continue\nlabel }",
    "x = `a\n${b\n}c` + `${`${`\n`}`}`",
    "throw new Error(`${a}`)\n// @license trailing line comment",
    "/*!\n * multi\n */\nfunction f() {}\n/* plain */ g()",
    "var \u212e = 1, \u309b= 2, \\u0061b = 3, a\\u{62} = 4; x = \u212e in \u309b",
    "x = '\\u2028' + \"\u2028\" + y\u2028z",
    "x = a\u2029+b\r\n-c\r+d",
    "class A { static #x = 1; static m() { return #x in A } get [k]() {} 'q'() {} 1() {} }",
    "a = /[/]/; b = /\\//g; c = a / b / c",
    "if (a) b; else\n{ c }\ndo x; while (y)\nz",
    "x = async\n() => 1; y = async function\nf() {}",
    "let \U0001d49c\U0001d49c = 1; \U0001d49c\U0001d49c++; x = '\U0001f600'\n\U0001d49c\U0001d49c",
    "",
    "x = (1 + ;",  # no tokens: the engine says so
]


@pytest.mark.parametrize("text", SAFE_SNIPPETS)
def test_the_engines_safe_minifier_is_safe_py_byte_for_byte(text: str) -> None:
    assert jsengine.safe_minified([text]) == [python_emit(text)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(SAFE_SNIPPETS), min_size=1, max_size=4), st.data())
def test_safe_minifier_batches_give_each_text_its_own_output(
    parts: list[str], data: st.DataObject
) -> None:
    texts = [
        data.draw(st.sampled_from(["\n", ";\n", " ", ";"])).join(parts[: i + 1])
        for i in range(len(parts))
    ]
    assert jsengine.safe_minified(texts) == [python_emit(text) for text in texts]


def test_the_engine_knows_safe_pys_punctuators() -> None:
    """harness.js spells safe.py's two lists of punctuators again: they must stay the same."""
    import re

    from assetbuild.js import safe as jssafe

    harness = (Path(jsengine.__file__).parent / "harness.js").read_text("utf-8")

    def spelled(name: str) -> str:
        found = re.search(rf"var {name} = \(((?:\"[^\"]*\"\s*\+?\s*)+)\)\.split", harness)
        assert found is not None, name
        return "".join(re.findall(r'"([^"]*)"', found.group(1)))

    assert spelled("PUNCTUATORS") == jssafe._ALL
    assert spelled("FREE_BEFORE") == jssafe._FREE_BEFORE
