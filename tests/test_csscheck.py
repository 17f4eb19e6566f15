"""csscheck: structure errors with locations, bundle-level at-rules, same_stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tinycss2
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.css import check as csscheck
from assetbuild.css.check import CssReport, check_css, join_css, same_stylesheet
from assetbuild.sources import Edit, SourceFile


def source(text: str, name: str = "a.css") -> SourceFile:
    return SourceFile(Path("/site/css") / name, f"css/{name}", text, text)


def errors(text: str) -> list[tuple[int, int, str]]:
    report = check_css(source(text))
    return [
        (d.location.line, d.location.column, d.message)
        for d in report.diagnostics
        if d.is_error and d.location is not None
    ]


VALID = [
    "",
    "a { color: red }",
    "a{b:c}d{e:f}",
    "@media (min-width: 10px) { a { b: c } }",
    "a { content: '}' ; b: \"{[(\" }",
    "a { content: 'it\\'s' }",
    'a { content: "line\\\ncontinued" }',
    "/* { [ ( */ a { b: c }",
    "a { background: url(a{b}.png) }",
    "a { background: url( 'x).png' ) }",
    "a { background: url(data:image/svg+xml;charset=utf8,%3Csvg%3E) }",
    ".w-1\\/2, .md\\:flex, .\\[\\&\\>\\*\\]\\:p-4 { a: b }",
    ".a\\{ { b: c }",
    ".x { &:hover { color: red } > .y { z: w } }",
    "@import url(x.css) screen;",
    "@supports (display: grid) and (not (display: inline-grid)) { a { b: c } }",
    ":root { --x: { a: b }; --y: [ ( ) ] }",
    "a { width: calc(100% - (2 * var(--gap, 1px))) }",
    "-url(x y) {}",
    'a { b: xurl("{") }',
    "<!-- a { b: c } -->",
    "a { b: c }\r\nd { e: f }\r\n",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_stylesheets_have_no_diagnostics(text: str) -> None:
    report = check_css(source(text))
    assert report.diagnostics == ()
    assert report.ok
    assert report.text == text


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("a {\n  color: red;\n", 1, 3, "unclosed '{': the file ends before its '}'"),
        ("a { color: red; }\n}\n", 2, 1, "unexpected '}'"),
        ("a { b: c ]\n}", 1, 10, "unexpected ']'"),
        ("a { b: rgb(0, 0, 0; }\nd { }", 1, 11, "unclosed '(': '}' comes before its ')'"),
        ("a[href { b: c }", 1, 2, "unclosed '['"),
        ('a { content: "abc\n}\n', 1, 14, "a line break ends a quoted string"),
        ("a { content: 'abc }", 1, 14, "the file ends before its closing '"),
        ("a { b: c }\n/* unfinished", 2, 1, "unterminated comment"),
        ("a { background: url(x.png", 1, 17, "unterminated url("),
        ("a { background: url(x y.png", 1, 17, "unterminated url("),
        ('a { b: "x\\', 1, 8, "the file ends before its closing"),
    ],
)
def test_each_error_is_located(text: str, line: int, column: int, fragment: str) -> None:
    found = errors(text)
    assert len(found) == 1, found
    assert found[0][:2] == (line, column)
    assert fragment in found[0][2]


def test_mismatch_note_points_at_the_closer() -> None:
    report = check_css(source("a {\n  b: rgb(0, 0;\n}\n"))
    (diag,) = report.diagnostics
    assert diag.location is not None and (diag.location.line, diag.location.column) == (2, 9)
    (note,) = diag.notes
    assert note.location is not None and (note.location.line, note.location.column) == (3, 1)
    assert "note: '}' found here" in diag.format()


def test_every_independent_error_is_reported() -> None:
    text = 'a { b: "x\n}\nc { d: e; } }\nf { g: url(h i) }\ni { j: (k }\n'
    found = errors(text)
    assert [(line, col) for line, col, _ in found] == [(1, 8), (3, 13), (5, 8)]
    warnings = [d for d in check_css(source(text)).diagnostics if not d.is_error]
    assert [(w.location.line, w.location.column) for w in warnings if w.location] == [(4, 8)]


@pytest.mark.parametrize(
    "text",
    [
        'a { content: "never closed }\nb { c: d }\n',  # the string ate a '}'
        "a { b: c; /* comment never closed }",
        "a { b: url(x.png",
        "@media print { a { b: 'x }",
    ],
)
def test_one_typo_gives_one_error(text: str) -> None:
    assert len(errors(text)) == 1


def test_bad_url_is_a_warning_with_advice() -> None:
    report = check_css(source("a { b: url(my image.png) }"))
    (diag,) = report.diagnostics
    assert diag.severity == "warning"
    assert "put the URL in quotes" in diag.message
    assert report.ok


def test_locations_map_through_token_substitution() -> None:
    original = "a { b: url({$static}/x.png) }\nc {\n"
    text = "a { b: url(/static/v1/x.png) }\nc {\n"
    edit = Edit(11, 21, 11, 20)
    src = SourceFile(Path("/s/a.css"), "a.css", original, text, (edit,))
    (diag,) = check_css(src).diagnostics
    assert diag.location is not None
    assert (diag.location.line, diag.location.column) == (2, 3)
    assert diag.source_line == "c {"


def test_crlf_lines_are_counted_once() -> None:
    found = errors("a { b: c }\r\nd { e: f }\r\n}\r\n")
    assert [(line, col) for line, col, _ in found] == [(3, 1)]


def test_escaped_url_function_is_still_url() -> None:
    # `u\72l(` is the url token: its unquoted body may hold '{'.
    assert errors("a { b: u\\72 l(x{y) }") == []
    assert errors("a { b: u\\rl(x{y) }") == []
    # `\31 url(` is the function `1url(`, which opens a bracket like any function.
    assert len(errors("a { b: \\31 url(x{y) }")) == 1


def test_at_rules_and_first_rule() -> None:
    text = (
        '@charset "UTF-8";\n/* c */\n@import url(a.css) screen;\n@layer base, x;\n'
        "@namespace svg url(http://www.w3.org/2000/svg);\n"
        "a { b: c }\n@import 'late.css';\n@layer y { }\n"
    )
    report = check_css(source(text))
    assert [(r.name, r.prelude, r.before_rules) for r in report.at_rules] == [
        ("charset", '"UTF-8"', True),
        ("import", "url(a.css) screen", True),
        ("layer", "base, x", True),
        ("namespace", "svg url(http://www.w3.org/2000/svg)", True),
        ("import", "'late.css'", False),
    ]
    for rule in report.at_rules:
        assert text[rule.start : rule.end].startswith("@" + rule.name)
        assert text[rule.end - 1] == ";"
    assert report.first_rule == text.index("a { b")
    assert report.location_of_first_rule is not None
    assert report.location_of_first_rule.line == 6
    assert report.at_rules[4].location.line == 7


@pytest.mark.parametrize(
    ("text", "first_rule"),
    [
        ("@import 'a.css'", None),
        ("  <!-- \n@import 'a.css';", None),
        ("@layer x { }", 0),
        ("@font-face { font-family: x }", 0),
        ("/* x */ .a { }", 8),
        ("@media print { @import 'x.css'; }", 0),
    ],
)
def test_first_rule(text: str, first_rule: int | None) -> None:
    report = check_css(source(text))
    assert report.first_rule == first_rule
    assert all(r.name != "import" for r in report.at_rules) or first_rule is None


@pytest.mark.parametrize(
    "text",
    [
        '@import url("a.css");\n@import "b.css";\na { }',
        "@import url('a.css') layer(base) supports(display: grid) screen and (min-width: 1px);"
        '@import "b.css";',
        "@import url(a.css) (min-width: 1px);@import [x] 'b.css';",
    ],
)
def test_a_bracket_closing_in_an_at_rule_does_not_end_it(text: str) -> None:
    """Only a `{}` block ends a statement (a closing `)` did: a false "@import after a rule")."""
    report = check_css(source(text))
    assert [rule.name for rule in report.at_rules[:2]] == ["import", "import"]
    assert report.at_rules[0].prelude.endswith(")") or report.at_rules[0].prelude.endswith("]")
    assert all(rule.before_rules for rule in report.at_rules)
    assert join_css([report])[1] == ()


def reports(*texts: str) -> list[CssReport]:
    return [check_css(source(text, f"f{i}.css")) for i, text in enumerate(texts)]


def test_join_concatenates_with_newlines() -> None:
    text, diags = join_css(reports("a{b:c}", "d{e:f}\n", "", "g{h:i}"))
    assert text == "a{b:c}\nd{e:f}\ng{h:i}\n"
    assert diags == ()


def test_join_import_after_rule_in_earlier_file_is_an_error() -> None:
    text, diags = join_css(reports("@import 'x.css';\na { b: c }\n", "\n@import 'y.css';\nd { }"))
    (diag,) = diags
    assert diag.is_error
    assert diag.location is not None and str(diag.location) == "css/f1.css:2:1"
    assert "in css/f0.css" in diag.message and "ignored by browsers" in diag.message
    (note,) = diag.notes
    assert note.location is not None and str(note.location) == "css/f0.css:2:1"
    assert "@import 'y.css'" in text


def test_join_import_after_rule_in_same_file() -> None:
    _, diags = join_css(reports("a { }\n@import 'y.css';"))
    (diag,) = diags
    assert "earlier in this file" in diag.message
    assert diag.notes[0].location is not None and diag.notes[0].location.line == 1


def test_join_imports_at_the_top_of_every_file_are_fine_when_no_rule_precedes() -> None:
    _, diags = join_css(reports("@import 'a.css';\n", "@layer base;\n@import 'b.css';\nx { }"))
    assert diags == ()


def test_join_import_after_namespace_is_an_error() -> None:
    _, diags = join_css(reports("@namespace svg url(x);", "@import 'b.css';"))
    (diag,) = diags
    assert diag.is_error and "@namespace" in diag.message


def test_join_namespace_after_rules_is_an_error() -> None:
    _, diags = join_css(reports("a { }", "@namespace svg url(x);\nb { }"))
    (diag,) = diags
    assert diag.is_error and diag.message.startswith("@namespace after a rule")


@pytest.mark.parametrize(
    "texts",
    [
        ('@charset "UTF-8";\na { }', '@charset "utf-8";\nb { }'),
        ("a { }", '@charset "UTF-8";\r\nb { }'),
        ('@charset "UTF-8";', "b { }", '@charset "UTF-8";'),
    ],
)
def test_join_collapses_charsets_into_one_at_the_start(texts: tuple[str, ...]) -> None:
    text, diags = join_css(reports(*texts))
    assert diags == ()
    assert text.startswith('@charset "')
    assert text.count("@charset") == 1
    rest = text.split("\n", 1)[1]
    assert "@charset" not in rest


def test_join_conflicting_charsets_name_both() -> None:
    text, diags = join_css(reports('@charset "UTF-8";\na{}', '@charset "ISO-8859-1";\nb{}'))
    errors_ = [d for d in diags if d.is_error]
    (diag,) = errors_
    assert "ISO-8859-1" in diag.message and "UTF-8" in diag.message and "css/f0.css" in diag.message
    assert diag.location is not None and diag.location.path == "css/f1.css"
    assert text.startswith('@charset "UTF-8";\n')


def test_join_non_utf8_charset_is_replaced_with_a_warning() -> None:
    text, diags = join_css(reports('@charset "iso-8859-1";\na{}'))
    (diag,) = diags
    assert diag.severity == "warning"
    assert text == '@charset "UTF-8";\na{}\n'


def test_join_drops_inner_byte_order_marks() -> None:
    text, _ = join_css(reports("a{}", "\ufeffb{}"))
    assert text == "a{}\nb{}\n"


# same_stylesheet: what may differ, and what must not.
SAME = [
    ("a { color : red ; }", "a{color:red}"),
    ("a,\n b > c + d ~ e { x: y }", "a,b>c+d~e{x:y}"),
    ("a { margin: 0 auto !important }", "a{margin:0 auto!important}"),
    ("a { margin: 0 auto ! important }", "a{margin:0 auto!important}"),
    ("a { opacity: 0.5 }", "a { opacity: .5 }"),
    ("a { content: 'x' }", 'a { content: "x" }'),
    (".a/**/.b { }", ".a.b{}"),
    ("@media screen and (min-width : 100px) , print { a { b : c } }",
     "@media screen and (min-width:100px),print{a{b:c}}"),
    ("@media (width >= 600px) { a { b: c } }", "@media (width>=600px){a{b:c}}"),
    ("a { x: rgba( 0 , 0 , 0 , .5 ) }", "a{x:rgba(0,0,0,.5)}"),
    ("a[ href = 'x' ] { }", "a[href='x']{}"),
    (":not( .a , .b ) { }", ":not(.a,.b){}"),
    ("a { b: c;; ; }", "a{b:c}"),
    ("/* x */ a { b: c } /* y */", "a{b:c}"),
    ("a { & .b { c: d } }", "a{& .b{c:d}}"),
    (":root { --x: a  b }", ":root{--x:a b}"),
    (":root { --x:  a }", ":root{--x:a}"),
    # Custom properties compare like values: a comma's spaces never matter where var() lands.
    (":root { --x: a, b }", ":root { --x: a,b }"),
    (":root { --c: rgba(1, 2, 3, 0.5) }", ":root{--c:rgba(1,2,3,.5)}"),
    (":root { --x: { a: b } }", ":root{--x:{a: b}}"),
    ("@charset \"UTF-8\";\na{}", "@charset \"UTF-8\";a{}"),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_stylesheet(a: str, b: str) -> None:
    assert same_stylesheet(a, b)
    assert same_stylesheet(b, a)


DIFFERENT = [
    (".a/**/.b { }", ".a .b { }"),  # rcssmin's comment-in-selector change
    ('a { background: url("a b.png") }', 'a { background: url("ab.png") }'),  # rcssmin's url change
    (":root { --x: { a: b } }", ":root{--x:{a:b}}"),  # rcssmin's custom property change
    (":root { --x: calc(1px + 2px) }", ":root { --x: calc(1px +2px) }"),
    (":root { --x: a b }", ":root { --x: a/**/b }"),
    (":root { --e: ; }", ":root { --e:; }"),
    ("a :hover { }", "a:hover { }"),
    (".a .b { }", ".a.b { }"),
    ("a { width: calc(1px + 2px) }", "a { width: calc(1px +2px) }"),
    ("a { width: calc(1px + 2px) }", "a { width: calc(1px+ 2px) }"),
    ("a { margin: 0px }", "a { margin: 0 }"),
    ("a { z-index: 1 }", "a { z-index: 1.0 }"),
    ("li:nth-child(2n +1) { }", "li:nth-child(2n 1) { }"),
    ("a { color: #FFF }", "a { color: #fff }"),
    ("a { b: c !important }", "a { b: c }"),
    ("a { b: c }", "a { b: c } d { }"),
    ("@media (width > = 600px) { }", "@media (width >= 600px) { }"),
    ("@media screen { a { b: c } }", "@media print { a { b: c } }"),
    ("a { b: c d }", "a { b: c  , d }"),
    ("a { content: 'a b' }", "a { content: 'ab' }"),
    ("a { b: c }", "a { B: c }"),
    ("a { & .b { } }", "a { &.b { } }"),
    ("@supports selector(a :hover) { }", "@supports selector(a:hover) { }"),
    ("a { b: c\\\n d }", "a { b: c\\ d }"),  # rcssmin's backslash-newline change
    ("@import 'a.css';", "@import 'a.css' { }"),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_stylesheet(a: str, b: str) -> None:
    assert not same_stylesheet(a, b)
    assert not same_stylesheet(b, a)


def test_same_stylesheet_survives_deep_nesting() -> None:
    deep = "a { b: " + "(" * 5000 + ")" * 5000 + " }"
    assert same_stylesheet(deep, deep)
    assert not same_stylesheet(deep, deep.replace("b:", "c:"))


# Property: the scan agrees with tinycss2, the CSS Syntax tokenizer, about broken structure.
CSSISH = st.lists(
    st.sampled_from([*"ab1 \n{}[]()\"';:/*\\#@-,.", "url(", "/*", "*/", "\\31 ", "u\\rl("]),
    max_size=30,
).map("".join)


def tinycss2_finds_a_problem(text: str) -> bool:
    pending = list(tinycss2.parse_component_value_list(text))
    while pending:
        node = pending.pop()
        if node.type == "error" and node.kind != "bad-url":
            return True
        if node.type == "function":
            pending.extend(node.arguments)
        elif node.type in ("() block", "[] block", "{} block"):
            pending.extend(node.content)
    # Unclosed blocks, comments or bad urls at the end swallow what follows.
    last = tinycss2.parse_component_value_list(text + "\n\nzzmark")[-1]
    return not (last.type == "ident" and last.value == "zzmark")


@settings(max_examples=400, deadline=None)
@given(CSSISH)
def test_scan_agrees_with_tinycss2(text: str) -> None:
    assert bool(errors(text)) == tinycss2_finds_a_problem(text)


@pytest.mark.parametrize("flags", [0, re.IGNORECASE])
@pytest.mark.parametrize(
    ("name", "spelled_out"),
    [
        ("_NAME_CHAR", r"[\w\-\u0080-\U0010ffff]"),
        ("_NAME_START", r"[A-Za-z_\u0080-\U0010ffff]"),
        ("_BEFORE_NAME", r"[\w\-#@\u0080-\U0010ffff]"),
        ("_BEFORE_NAME_OR_ESCAPE", r"[\w\-#@\\\u0080-\U0010ffff]"),
    ],
)
def test_classes_written_by_exclusion_mean_the_spelled_out_ones(
    name: str, spelled_out: str, flags: int
) -> None:
    """Cheap to compile, and the same characters (the Kelvin sign and long s fold to ASCII letters)."""
    ours, theirs = re.compile(getattr(csscheck, name), flags), re.compile(spelled_out, flags)
    edges = [0x80, 0xFF, 0x130, 0x131, 0x17F, 0x212A, 0x212B, 0xD800, 0xDFFF, 0xFFFF, 0x10000]
    for cp in [*range(0x80), *edges, 0x10FFFF]:
        assert bool(ours.fullmatch(chr(cp))) == bool(theirs.fullmatch(chr(cp))), hex(cp)
