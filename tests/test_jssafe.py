"""jssafe: re-emitted tokens keep their identity, separation and line-break meaning."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetbuild.js.check import same_program
from assetbuild.js.safe import Piece, minify, needs_space, tokens_of


@pytest.fixture(autouse=True, scope="module")
def _both_engines(js_engine: str) -> str:
    """Every test here runs with esprima alone and with the fast engine when it is installed."""
    return js_engine


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("var  a = 1 ;", "var a=1;"),
        ("a - -1; a + +b; a+ ++b; a - --b", "a- -1;a+ +b;a+ ++b;a- --b"),
        ("x = a / /re/.source.length", "x=a/ /re/.source.length"),
        ("x = 1 .toString()", "x=1 .toString()"),
        ("x = 1.5 .toFixed()", "x=1.5 .toFixed()"),
        ("x = a < !--b", "x=a< !--b"),
        ("x = a-- > b", "x=a-- >b"),
        ("x = /a/g instanceof RegExp", "x=/a/g instanceof RegExp"),
        ("class A {\n  #a = 1\n  #b\n}", "class A{#a=1\n#b}"),
        ("x = `${a ? ` b` : ''}`", "x=`${a?` b`:''}`"),
        ("x = `a${ b }c${ `d${ e }` }f`", "x=`a${b}c${`d${e}`}f`"),
        ("function f() { return /*\n*/ x }", "function f(){return\nx}"),
        ("function f() { return // why\n x }", "function f(){return\nx}"),
        ("a\n++b", "a\n++b"),
        ("a = b\n(c)", "a=b\n(c)"),
        ("a = b\n\n\n\nc", "a=b\nc"),
        ("x = typeof / a/", "x=typeof/ a/"),
        ("if (x) /a/.test(y)", "if(x)/a/.test(y)"),
        ("a = b ? .5 : 1", "a=b? .5:1"),
        ("let \\u0061b = 1", "let \\u0061b=1"),
        ("var \u212e = 2, x = y in z", "var \u212e=2,x=y in z"),
        ("a = {\n  b: 1,\n  c: 2\n}", "a={b:1,c:2}"),
        ("foo(\n  a,\n  b\n)", "foo(a,b)"),
        ("x\n.y\n.z()", "x.y.z()"),
        ("#!/usr/bin/env node\nfoo()", "#!/usr/bin/env node\nfoo()"),
        ("a = 1 <!-- html comment\nb", "a=1\nb"),
        ("a\n--> html close comment\nb", "a\nb"),
        ("/*! keep */ a /* drop */ + b", "/*! keep */a+b"),
        (
            "/** @license MIT */\nvar a;\n// @preserve x\nb",
            "/** @license MIT */\nvar a;\n// @preserve x\nb",
        ),
    ],
)
def test_minify(text: str, expected: str) -> None:
    out = minify(text)
    assert out == expected
    assert same_program(text, out)


@pytest.mark.parametrize("text", ["x = `abc", "a = 'unterminated", "\u0000 @"])
def test_untokenizable_input_returns_none(text: str) -> None:
    assert minify(text) is None


_TOKENS = st.sampled_from(
    [
        "a", "b", "$x", "_y", "\\u0061", "in", "of", "return", "typeof", "void", "yield", "await",
        "if", "else", "do", "case", "this", "new", "let", "async", "get",
        "0", "1", "1.5", ".5", "1e3", "0x1f", "1n", "1_000",
        "'s'", '"d"', "'a\\'b'",
        "+", "-", "++", "--", "*", "**", "/", "/=", "%", "<", "<<", ">", ">>", ">>>", "=", "==",
        "===", "!", "!=", "~", "&", "&&", "|", "||", "?", "??", "?.", ".", "...", ":", ";", ",",
        "=>", "(", ")", "[", "]", "{", "}", "#p",
        "/re/", "/[/]/g", "`t`", "`a${", "}b`", "`x${y}z`",
    ]
)  # fmt: skip
_GAPS = st.sampled_from(
    ["", " ", "  ", "\n", "\r\n", "\t", " /* c */ ", "/*\n*/", " // c\n", "\n\n"]
)


@st.composite
def token_soup(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(_TOKENS, min_size=1, max_size=12))
    gaps = draw(st.lists(_GAPS, min_size=len(tokens), max_size=len(tokens)))
    return "".join(t + g for t, g in zip(tokens, gaps, strict=True))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token_soup())
def test_output_retokenizes_to_the_same_tokens(text: str) -> None:
    out = minify(text)
    if out is None:
        return  # nothing the tokenizer accepts: the caller falls back to the source
    assert list(tokens_of(out)) == list(tokens_of(text))
    if same_program(text, text):
        assert same_program(text, out)


_STATEMENTS = st.sampled_from(
    [
        "a = b",
        "a = b\n(c)",
        "return x",
        "x = y\n++z",
        "i++",
        "x = /a/g.test(s) / 2",
        "x = a / b / c",
        "x = `t${a + `u${b}`}v`",
        "C = class { #a = 1\n #b\n static x = 2\n get\n y() {} }",
        ";[p, ...q] = r",
        "x = a ? .5 : -1",
        "x = - -y + +z",
        "x = typeof /re/",
        "if (a) /re/.exec(b)",
        "label: for (;;) { break label }",
        "async function f() { await g()\n yield_ = 1 }",
        "function* g() { yield\n 1; yield* h() }",
        "x = 1 .toString() + 1..toString()",
        "x = a?.b ?? c?.[d]",
        "throw new Error('e')",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_STATEMENTS, min_size=1, max_size=5), st.lists(_GAPS, min_size=5, max_size=5))
def test_programs_keep_their_meaning(statements: list[str], gaps: list[str]) -> None:
    body = "".join(s + gap + "\n" for s, gap in zip(statements, gaps, strict=False))
    text = f"function wrapper() {{\n{body}}}"
    out = minify(text)
    assert out is not None
    assert same_program(text, out)
    assert len(out) <= len(text)


def test_word_characters_on_either_side_need_a_space_on_every_code_point() -> None:
    # What may continue an identifier, number or regex flags: letters and digits, $ _ \\, and
    # (conservatively) every non-ASCII character. The check is inlined for speed: test it whole.
    def word(c: str) -> bool:
        return c.isalnum() or c in "$_\\" or ord(c) > 127

    a = Piece("Identifier", "a", 0, 1)
    points = [*range(0x10000), *range(0x10000, 0x110000, 97), 0x10FFFF]
    for code in points:
        c = chr(code)
        kind = "Identifier" if word(c) else "Punctuator"
        assert needs_space(a, Piece(kind, c, 1, 2)) == (word(c) or c == "#"), hex(code)
        assert needs_space(Piece(kind, c, 0, 1), a) == word(c), hex(code)
