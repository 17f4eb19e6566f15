"""cssminify: rcssmin verified by same_stylesheet, the safe fallback, license comments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import rcssmin
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import assetbuild.css.minify as cssminify
from assetbuild.css.check import check_css, same_stylesheet
from assetbuild.css.minify import Minified, minify_css
from assetbuild.css.walk import license_comments, minified_with_facts, safe_minify
from assetbuild.sources import SourceFile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "css"


def broken_safe(monkeypatch: pytest.MonkeyPatch, change: Callable[[str], str]) -> None:
    """Make the safe minifier's candidate wrong, keeping the facts it is checked against."""
    monkeypatch.setattr(cssminify, "safe_minify", change)


def rc(text: str) -> str:
    return str(rcssmin.cssmin(text, keep_bang_comments=True))


# Inputs where rcssmin changes the meaning (see shared research notes).
RCSSMIN_BREAKS = [
    ".a/**/.b { color: red }",  # becomes `.a .b`
    'a { background: url("a b.png") }',  # becomes url("ab.png")
    ":root { --x: { a: b } }",  # custom property inner whitespace
    "a { b: c\\\n d }",  # a backslash before a line break becomes an escaped space
]


@pytest.mark.parametrize("text", RCSSMIN_BREAKS)
def test_rcssmin_changes_are_detected_and_something_correct_ships(text: str) -> None:
    assert not same_stylesheet(text, rc(text)), "verification must catch rcssmin's change"
    result = minify_css(text)
    assert result.method == "safe"
    assert same_stylesheet(text, result.text)
    assert len(result.text) < len(text)


def test_rcssmin_is_used_when_it_keeps_the_meaning() -> None:
    text = "a {\n  color : red ;\n}\n\n/* gone */\n.b > .c , d { margin: 0 auto !important }\n"
    result = minify_css(text)
    assert result == Minified(rc(text), "rcssmin")
    assert result.text == "a{color:red}.b>.c,d{margin:0 auto!important}"


def test_a_broken_rcssmin_never_ships(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cssminify.rcssmin, "cssmin", lambda text, **_: text.replace("red", "blue"))
    text = "a { color: red }"
    result = minify_css(text)
    assert result.method == "safe"
    assert result.text == "a{color:red}"


def test_nothing_verified_ships_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cssminify.rcssmin, "cssmin", lambda text, **_: text + "b{}")
    broken_safe(monkeypatch, lambda text: text.replace(".a .b", ".a.b"))
    text = ".a .b { color: red }"
    assert minify_css(text) == Minified(text, "none")


LICENSED = (
    "/*! first */\n"
    "a { color: red }\n"
    "/* plain, dropped */\n"
    "/* @license second */\n"
    "b { /* @preserve third */ margin: 0 }\n"
    "/*! fourth */"
)


def test_license_comments_survive_rcssmin_in_order() -> None:
    result = minify_css(LICENSED)
    assert result.method == "rcssmin"
    assert license_comments(result.text) == (
        "! first ",
        " @license second ",
        " @preserve third ",
        "! fourth ",
    )
    assert "plain" not in result.text


def test_license_comments_survive_the_safe_path_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cssminify.rcssmin, "cssmin", lambda text, **_: "")
    result = minify_css(LICENSED)
    assert result.method == "safe"
    assert license_comments(result.text) == license_comments(LICENSED)
    assert len(license_comments(LICENSED)) == 4
    assert "plain" not in result.text


def test_a_dropped_license_comment_fails_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cssminify.rcssmin, "cssmin", lambda text, **_: "a{color:red}")
    broken_safe(monkeypatch, lambda text: "a{color:red}")
    text = "/*! keep me */ a { color: red }"
    assert minify_css(text).method == "none"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a { color : red ; }", "a{color:red}"),
        ("a , b > c + d ~ e { x : y }", "a,b>c+d~e{x:y}"),
        (".a .b :hover { }", ".a .b :hover{}"),
        ("a { b: c/**/d }", "a{b:c/**/d}"),  # the comment keeps two idents apart
        ("a { b: 1px/**/2px }", "a{b:1px/**/2px}"),
        ("a { b: c /**/ d }", "a{b:c d}"),
        (
            '@charset "UTF-8";\n@import url(x.css) screen ;',
            '@charset "UTF-8";@import url(x.css) screen;',
        ),
        (
            "@media screen and ( min-width : 1px ) { a { b : c } }",
            "@media screen and (min-width:1px){a{b:c}}",
        ),
        ("@media (width > = 1px) { }", "@media (width> =1px){}"),
        (":root { --x : { a: b } ; --y:  a  ,  b  ; }", ":root{--x:{a: b};--y:a,b}"),
        (":root { --e: ; --f:; }", ":root{--e: ;--f:}"),
        ("a { width: calc( 1px + ( 2px * 3 ) ) }", "a{width:calc(1px + (2px * 3))}"),
        ("a { b: c\\\n d }", "a{b:c\\\nd}"),
        ("a{b:c}\r\n\r\nd{e:f}", "a{b:c}d{e:f}"),
        ("/*! keep */\n\na { }", "/*! keep */a{}"),
        ("a { b: c !important; d: e ! IMPORTANT }", "a{b:c!important;d:e!important}"),
        (".card { & > .t { m: 0 } &:hover .l { u: v } }", ".card{&>.t{m:0}&:hover .l{u:v}}"),
        ("@media print { a { b: c } } ;", "@media print{a{b:c}}"),
    ],
)
def test_safe_minifier_output(text: str, expected: str) -> None:
    assert safe_minify(text) == expected
    assert same_stylesheet(text, expected)


def test_realistic_stylesheet() -> None:
    text = (FIXTURES / "framework-like.css").read_text(encoding="utf-8")
    result = minify_css(text)
    assert result.method in ("rcssmin", "safe")
    assert same_stylesheet(text, result.text)
    assert license_comments(result.text) == license_comments(text)
    assert len(license_comments(text)) == 2
    assert len(result.text) < 0.9 * len(text)
    # Its custom properties make rcssmin fail verification; the safe path is nearly as small.
    assert len(safe_minify(text)) <= len(rc(text)) * 1.02
    assert result.text.startswith('@charset "UTF-8";')


def test_realistic_stylesheet_rcssmin_diff_is_only_where_expected() -> None:
    text = (FIXTURES / "framework-like.css").read_text(encoding="utf-8")
    without_custom = "\n".join(
        line for line in text.splitlines() if "--fw-" not in line.split(":")[0]
    )
    assert not same_stylesheet(text, rc(text))
    assert minify_css(without_custom).method == "rcssmin"


# Property: the safe minifier keeps any text's stylesheet, and is stable.
PIECES = st.sampled_from(
    [
        "a", "b", ".c", "#d", "1", "2px", ".5", "50%", "+", "-", ">", "~", ",", ":", ";", "!",
        "important", "{", "}", "(", ")", "[", "]", " ", "  ", "\n", "/* x */", "/**/", "/*! l */",
        '"s t"', "'u'", "url(v.png)", 'url("w x")', "@media", "@import", "--p", "calc(", "*",
        "=", "\\", "\\31 ", "&", "u+0-7f", "<!--", "-->", "|", "/", "<", "@charset \"x\";",
    ]
)  # fmt: skip
SOUP = st.lists(PIECES, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(SOUP)
def test_safe_minify_keeps_the_stylesheet(text: str) -> None:
    assume(check_css(SourceFile(Path("s.css"), "s.css", text, text)).ok)
    out = safe_minify(text)
    assert same_stylesheet(text, out)
    assert license_comments(out) == license_comments(text)
    assert safe_minify(out) == out


@settings(max_examples=200, deadline=None)
@given(SOUP)
def test_minify_css_never_ships_a_change(text: str) -> None:
    result = minify_css(text)
    assert same_stylesheet(text, result.text)
    assert license_comments(result.text) == license_comments(text)
    expected = {"rcssmin": rc(text), "safe": safe_minify(text), "none": text}[result.method]
    assert result.text == expected


@pytest.mark.parametrize("text", ["<!/* x */--p", "a{b:<!/**/--c}", "a{b:x!/**/-y}"])
def test_safe_minifier_never_forms_a_cdo_from_a_removed_comment(text: str) -> None:
    """`<!` + `--` joined over a dropped comment would read as `<!--` (found by hypothesis)."""
    safe, _facts = minified_with_facts(text)
    assert "<!--" not in safe
    assert same_stylesheet(text, safe)
    assert same_stylesheet(text, minify_css(text).text)
