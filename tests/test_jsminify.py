"""jsminify: what ships is always verified; license comments always survive, in order."""

from __future__ import annotations

import pytest
import rjsmin
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.js import minify as jsminify
from assetbuild.js.check import same_program
from assetbuild.js.minify import Minified, minify_js

# Inputs that plain rjsmin turns into a different (or broken) program.
RJSMIN_BREAKERS = [
    "class A {\n  #a = 1\n  #b\n}",
    "class A {\n  #a = 1\n  #b = 2\n  m() { return this.#a + this.#b }\n}",
    "x = `${a ? ` b` : ''}`",
    "x = `${'`'} y ${z}`",
    "function f() { return /*\n*/ x }",
    "x = typeof / a/",
    "x = void / a/g",
    "function f(x) { delete / a/.x }",
    "switch (x) { case / a/.source: break }",
    "if (a) b(); else / a/.test(c)",
    "do / a/.test(b); while (0)",
    "function* g() { yield / a/ }",
    "async function f() { await / a/ }",
    "x = 'a' in / a/",
    "for (const m of / a/.exec(s)) ;",
    "f = () => / a/",
    "if (x) / a/.test(y)",
    "x = 1 .toString()",
    "let \\u0061b = 1",
    "x = a\n--> comment\ny",
    "x = a <!-- comment\ny",
]


@pytest.fixture(autouse=True, scope="module")
def _both_engines(js_engine: str) -> str:
    """Every test here runs with esprima alone and with the fast engine when it is installed."""
    return js_engine


@pytest.mark.parametrize("text", RJSMIN_BREAKERS)
def test_known_rjsmin_breakages_ship_safely(text: str) -> None:
    result = minify_js(text)
    assert same_program(text, result.text)
    assert result.method in ("rjsmin", "safe")
    assert len(result.text) <= len(text)


@pytest.mark.parametrize("text", [*RJSMIN_BREAKERS[:4], "x = typeof / a/", "x = 1 .toString()"])
def test_those_breakages_are_real(text: str) -> None:
    """The cases above must stay meaningful: plain rjsmin does change them."""
    assert not same_program(text, rjsmin.jsmin(text, keep_bang_comments=True))


def test_plain_code_uses_rjsmin() -> None:
    text = "var a = 1;\nfunction f(x) {\n  // comment\n  return x + a;\n}\n"
    assert minify_js(text) == Minified("var a=1;function f(x){return x+a;}", "rjsmin")


@pytest.mark.parametrize("text", ["var a = (1;", "import x from 'y';", "a = `"])
def test_invalid_input_ships_unchanged(text: str) -> None:
    assert minify_js(text) == Minified(text, "none")


@pytest.mark.parametrize("text", ["", "\n\n", "// only a comment\n"])
def test_empty_programs_minify_to_nothing(text: str) -> None:
    assert minify_js(text).text == ""


def test_nothing_unverified_ships(monkeypatch: pytest.MonkeyPatch) -> None:
    """When both minifiers produce a different program, the source ships as it is."""
    monkeypatch.setattr(rjsmin, "jsmin", lambda text, keep_bang_comments=False: "x = 2")
    monkeypatch.setattr(jsminify.jssafe, "minify", lambda text: "x = 3")
    from assetbuild.js import engine as jsengine  # the engine's path makes it in V8

    monkeypatch.setattr(jsengine, "safe_minified", lambda texts: ["x = 3" for _ in texts])
    assert minify_js("x = 1") == Minified("x = 1", "none")


def test_safe_path_is_used_when_rjsmin_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rjsmin, "jsmin", lambda text, keep_bang_comments=False: "x = 2")
    assert minify_js("x = 1 ;") == Minified("x=1;", "safe")


@pytest.mark.parametrize(
    ("text", "comments"),
    [
        ("/*! bang */\nvar a = 1;", ["/*! bang */"]),
        ("/** @license MIT */\nvar a = 1;", ["/** @license MIT */"]),
        ("/*\n * @preserve Foo v1\n */\nvar a;", ["/*\n * @preserve Foo v1\n */"]),
        (
            "/*! one */ a();\n/** @license two */ b();\n/*! three */ c();",
            ["/*! one */", "/** @license two */", "/*! three */"],
        ),
        ("// @license MIT\nvar a = 1;\n", ["// @license MIT"]),
        ("var s = '/** @license X */';\n/** @license X */ f();", ["/** @license X */"]),
        ("/* plain */ var a; // line", []),
    ],
)
def test_license_comments_survive_in_order(text: str, comments: list[str]) -> None:
    result = minify_js(text)
    assert result.method in ("rjsmin", "safe")
    assert same_program(text, result.text)
    position = 0
    for comment in comments:
        found = result.text.find(comment, position)
        assert found >= 0, comment
        position = found + len(comment)
    assert "plain" not in result.text and "// line" not in result.text


def test_license_with_rjsmin_breaker_uses_safe_path_and_keeps_it() -> None:
    text = "/** @license MIT */\nclass A {\n  #a = 1\n  #b\n}\n"
    result = minify_js(text)
    assert result == Minified("/** @license MIT */\nclass A{#a=1\n#b}", "safe")


_SNIPPETS = st.sampled_from(
    [
        *RJSMIN_BREAKERS,
        "/*! banner */",
        "/** @license L */",
        "var a = b\n(c)",
        "x = a / b / c",
        "x = /re/g.test(s)",
        "i++",
        "x = y\n++z",
        "x = `plain`",
        "// comment",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_SNIPPETS, min_size=1, max_size=4))
def test_minified_output_is_always_the_same_program(parts: list[str]) -> None:
    text = "\n;\n".join(parts) + "\n"
    result = minify_js(text)
    if not same_program(text, text):
        assert result == Minified(text, "none")
        return
    assert same_program(text, result.text)
    assert len(result.text) <= len(text)


def test_a_lone_surrogate_never_reaches_rjsmin(monkeypatch: pytest.MonkeyPatch) -> None:
    """rjsmin's C code crashes the process on one (a token value could once carry it)."""
    monkeypatch.setattr(rjsmin, "jsmin", lambda *a, **k: pytest.fail("rjsmin was called"))
    result = minify_js('var u = "\udcff";\n')
    assert result.method in ("safe", "none")
    assert "\udcff" in result.text


@settings(max_examples=300)
@given(
    st.lists(st.one_of(st.characters(), st.sampled_from(["\ud800", "\udbff", "\udc80"]))).map(
        "".join
    )
)
def test_lone_surrogates_are_found_wherever_they_are(text: str) -> None:
    import re

    from assetbuild.minified import has_lone_surrogate

    # Any surrogate code point (Python keeps undecodable bytes so), never an astral character.
    assert has_lone_surrogate(text) == (re.search("[\ud800-\udfff]", text) is not None)
    assert has_lone_surrogate(text + "\udc80")
    assert not has_lone_surrogate("😀" + text.encode("utf-8", "replace").decode("utf-8"))
