"""css/rules: what browsers drop from a stylesheet whose structure is sound, at the user's place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.css import rules
from assetbuild.css.check import check_css
from assetbuild.sources import SourceFile
from tests.test_cli import run


def source(text: str, name: str = "a.css") -> SourceFile:
    return SourceFile(Path("/site/css") / name, f"css/{name}", text, text)


def reports(text: str, strict: bool = False) -> list[tuple[int, int, str, str]]:
    return [
        (d.location.line, d.location.column, d.severity, d.message)
        for d in check_css(source(text), strict=strict).diagnostics
        if d.location is not None
    ]


def test_stray_script_between_rules_is_reported_where_it_starts() -> None:
    text = ".a { color: red }\nwindow.marker = 'm1';\n.next { color: blue }\n"
    found = reports(text)
    assert len(found) == 1
    line, col, severity, message = found[0]
    assert (line, col, severity) == (2, 1, "warning")
    assert "stray text between rules" in message and "window.marker" in message
    (diag,) = check_css(source(text)).diagnostics
    assert diag.notes[0].location is not None and diag.notes[0].location.line == 3


def test_missing_semicolon_between_declarations() -> None:
    found = reports(".b {\n  color: red\n  background: blue;\n}\n")
    assert [(f[0], f[1]) for f in found] == [(3, 3)]
    assert "missing ';' before 'background'" in found[0][3]


def test_missing_semicolon_in_custom_properties() -> None:
    found = reports(":root {\n  --a: #000\n  --b: #fff;\n}\n")
    assert [(f[0], f[1]) for f in found] == [(3, 3)]
    assert "'--b' is never set" in found[0][3]


@pytest.mark.parametrize(
    ("text", "column"),
    [
        (".d > > .e { a: b }", 6),
        (".g, { a: b }", 4),
        ("a..b { a: b }", 3),
        ("[x=] { a: b }", 5),
    ],
)
def test_invalid_selectors(text: str, column: int) -> None:
    found = reports(text)
    assert len(found) == 1, found
    assert found[0][1] == column
    assert "invalid selector" in found[0][3] and "drop this whole rule" in found[0][3]


def test_strict_makes_them_errors() -> None:
    found = reports(".a { color: red background: blue }", strict=True)
    assert [f[2] for f in found] == ["error"]
    assert not check_css(source(".a { color: red background: blue }"), strict=True).ok


@pytest.mark.parametrize(
    "text",
    [
        # What cssselect2 alone refuses but browsers read: any pseudo-element, functional ones,
        # pseudo-classes after them, namespace prefixes, nesting.
        "::-moz-selection { a: b } ::-webkit-scrollbar-thumb:hover { a: b }",
        "::part(x), ::slotted(span), ::view-transition-group(*), ::highlight(h) { a: b }",
        "svg|a, *|*, |b { a: b }",
        ":is(.a, ::before), :where(.b), :not(.c, .d), :has(> img) { a: b }",
        ".x { &:hover { a: b } > .y { c: d } .z & { e: f } }",
        "@media (min-width: 1px) { .f { a: b } } @supports (display: grid) { .g { a: b } }",
        "@keyframes k { from { a: b } 50%, 75% { a: b } to { a: b } }",
        "@font-face { font-family: x; src: url(a.woff2) format('woff2') }",
        "@page :first { margin: 1in; @top-left { content: 'x' } }",
        ".h { *zoom: 1; filter: progid:DXImageTransform.Microsoft.gradient(a=1); --e: ; }",
        ":root { --x: { a: b }; --y: a: b }",
        ".i { color: red !important; margin : 0 }",
        ".a/**/.b, .c /* x */ > .d { a: b }",
        "@import url(x.css); @layer a, b; @charset 'x'; @unknown foo { bar baz }",
        "<!-- .a { b: c } -->",
        "a[href$='.pdf' i]::after, .w-1\\/2, .md\\:flex { a: b }",
        ".x { @media (min-width: 1px) { color: red } }",
    ],
)
def test_what_browsers_accept_is_not_reported(text: str) -> None:
    assert reports(text) == []


def test_keyframe_and_trailing_text_and_empty_value() -> None:
    found = reports("@keyframes k { bogus { a: b } }\n.a { color: ; }\n.trailing\n")
    assert [(f[0], f[1]) for f in found] == [(1, 16), (2, 6), (3, 1)]


def test_reports_are_at_original_positions_after_token_substitution(tmp_path: Path) -> None:
    site = tmp_path / "static"
    (site / "css" / "source").mkdir(parents=True)
    (site / "css" / "source" / "a.css").write_text(
        ".a { background: url({$static}/img/a.png) }\n.b { color: red margin: 0 }\n"
    )
    result = run("check", "--static-url", "https://cdn.example.com/long/prefix", cwd=site)
    assert result.returncode == 0, result.stderr
    assert "source/a.css:2:17: warning: missing ';' before 'margin'" in result.stderr


def test_cli_warns_by_default_and_fails_with_strict(tmp_path: Path) -> None:
    site = tmp_path / "static"
    (site / "css" / "source").mkdir(parents=True)
    (site / "css" / "source" / "a.css").write_text(
        ".a { color: red }\nwindow.marker = 'm1';\n.next { color: blue }\n"
    )
    checked = run("check", cwd=site)
    assert checked.returncode == 0, checked.stderr
    assert "a.css:2:1: warning: stray text between rules" in checked.stderr
    strict = run("install", "--strict", cwd=site)
    assert strict.returncode == 1, strict.stderr
    assert "a.css:2:1: error: stray text between rules" in strict.stderr
    assert not (site / "css" / "1").exists()
    installed = run("install", cwd=site)
    assert installed.returncode == 0, installed.stderr
    assert "warning: stray text between rules" in installed.stderr
    # The warning is cached with the file: a strict run after it still fails.
    again = run("check", "--strict", cwd=site)
    assert again.returncode == 1 and "error: stray text" in again.stderr


_CSS_PIECES = st.sampled_from(
    [
        "a", ".b", "#c", " ", "\n", "{", "}", ";", ":", "::", "(", ")", "[", "]", ",", ">", "&",
        "@media", "@keyframes", "@font-face", "--x", "color", "red", "!important", "'s'", "1%",
        "/* c */", "progid", "*", "from", "url(x)", "f(", "|",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_CSS_PIECES, max_size=40))
def test_any_stylesheet_is_walked_without_crashing(pieces: list[str]) -> None:
    report = check_css(source("".join(pieces)), strict=True)
    for diag in report.diagnostics:
        assert diag.location is not None


_LIBRARIES = Path(os.environ.get("ASSETBUILD_CSS_LIBRARIES", "/tmp/assetbuild-css-libraries"))


@pytest.mark.slow
def test_no_false_reports_on_popular_libraries() -> None:
    """The CSS of Bootstrap, Bulma, Font Awesome, Foundation, KaTeX, Leaflet, Tailwind's output and
    animate.css (installed by .ci/run from npm) works in every browser: nothing is reported."""
    if not _LIBRARIES.is_dir():
        pytest.skip(f"no libraries at {_LIBRARIES} (.ci/run installs them with npm)")
    bench = Path(__file__).resolve().parents[1] / "bench" / "css_rules.py"
    result = subprocess.run(
        [sys.executable, str(bench), str(_LIBRARIES), "--include-min"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(bench.parents[1])},
    )
    assert result.returncode == 0, result.stderr
    last = [line for line in result.stdout.splitlines() if line.startswith("all ")]
    assert last and last[0].split()[-2:] == ["0", "0"], result.stdout  # rules, values


_SELECTOR_PIECES = st.sampled_from(
    [
        "a", "B", "div", "-x", "_y", "--z", "1", "-1", "*", ".", "#", ":", "::", "hover",
        "before", "not(", ")", "(", "[", "]", "=", '"', " ", "  ", "\t", "\n", ">", "+", "~",
        ",", "&", "\\", "é", "/*", "*/", "|", "0a", "-webkit-x", "first-line", "AFTER", "before-x",
    ]
)  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(_SELECTOR_PIECES, min_size=1, max_size=12), st.booleans())
def test_plain_selector_shortcut_accepts_only_what_the_parse_accepts(
    pieces: list[str], nested: bool
) -> None:
    """The selectors taken without parsing are ones the parse accepts: the shortcut never hides
    a problem (it may leave a valid one to the parse)."""
    text = "".join(pieces)
    if rules._PLAIN_SELECTORS.fullmatch(text):
        assert rules._parsed_problem(text, nested) is None, text


def test_plain_selector_shortcut_takes_the_common_shapes() -> None:
    for text in ["a", ".btn.btn-primary:hover", "ul > li + li ~ li a", "*, ::before, ::after",
                 "#main .nav-item:first-child", "a:focus-visible,\n.b::-webkit-scrollbar",
                 ".fa-glass:before", "a:hover:after, b:before-x"]:  # fmt: skip
        assert rules._PLAIN_SELECTORS.fullmatch(text), text
        assert rules._selector_problem(text, False) is None
    for text in [".1a", "a >", "a,,b", "a*", ":before.a", "a:AFTER:hover", "a:first-line#b"]:
        assert not rules._PLAIN_SELECTORS.fullmatch(text)
        assert rules._selector_problem(text, False) is not None
