"""cssnorm and csscheck on tokens against their tinycss2 and character-scan oracles.

The shipped path (csstokens + an iterative walk) must give exactly what the walk over
tinycss2's tree gives (`cssoracle.tree_*`): the same facts, the same safe-minifier output, the
same license comments; csscheck's statements read from tokens must equal its character scan's.
Where the tree walk gives up (RecursionError) the token walk goes on, and is checked by
verification instead.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.css import check as csscheck
from assetbuild.css import urls
from assetbuild.css import walk as cssnorm
from assetbuild.css.check import check_css, same_stylesheet
from assetbuild.css.minify import _rcssmin_or_none, minify_css
from assetbuild.sources import SourceFile
from tests.helpers.benchload import load_bench
from tests.oracles import cssoracle

ROOT = Path(__file__).resolve().parent.parent
CSS_FILES = sorted(p for p in (ROOT / "fixtures").rglob("*.css") if p.is_file())


def assert_like_the_oracle(text: str) -> None:
    """Facts, safe output and licenses equal the tinycss2 walk's, for the text and rcssmin's."""
    fast = _rcssmin_or_none(text)  # None where rcssmin fails (cssminify never ships that)
    for candidate in (text,) if fast is None else (text, fast):
        expected = cssoracle.tree_facts(candidate)
        if expected is not None:  # None: too deep for the recursive walk
            assert cssnorm.stylesheet_facts(candidate) == expected
        try:
            tree_safe = cssoracle.tree_minified_with_facts(candidate)
        except RecursionError:
            continue
        assert cssnorm.minified_with_facts(candidate) == tree_safe
    assert cssnorm.license_comments(text) == cssoracle.tree_license_comments(text)


def assert_check_like_the_scan(text: str) -> None:
    """check_css from tokens (clean files) equals the character scan, message for message."""
    src = SourceFile(Path("/r/css/source/a.css"), "a.css", text, text)
    scan = csscheck._Scan(src)
    scan.run()
    report = check_css(src, rules=False)  # the structure check; css/rules is tested on its own
    assert report.diagnostics == tuple(scan.diagnostics)
    assert report.at_rules == tuple(scan.at_rules)
    assert report.first_rule == scan.first_rule


def assert_urls_like_the_oracle(text: str) -> None:
    assert urls._references(text) == sorted(
        cssoracle.tree_find_references(text), key=lambda ref: ref.span
    )


@pytest.mark.parametrize("path", CSS_FILES, ids=lambda p: p.name)
def test_project_stylesheets(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert_like_the_oracle(text)
    assert_check_like_the_scan(text)
    assert_urls_like_the_oracle(text)


# Where the character scan reads a text differently from the CSS tokenizer: the scan's
# result stands (check_css must not take the token path there).
SCAN_DIFFERS = [
    "a{b:\\ url(a(b))}",  # the function ` url(` for the tokenizer, a bad url( for the scan
    "a{b:<!url(a{b)}",  # a url token after `<!` for the tokenizer, brackets for the scan
    "a{b:u+1url(a{b)}",
    'a{content:"\\41\n"}',  # a hex escape takes the line break in a string
    "a{b:url(a\0b)}",  # NUL is U+FFFD for the tokenizer, a control character for the scan
]


@pytest.mark.parametrize("text", SCAN_DIFFERS)
def test_check_keeps_the_scan_where_it_reads_differently(text: str) -> None:
    assert_check_like_the_scan(text)
    assert check_css(SourceFile(Path("a.css"), "a.css", text, text)).diagnostics


# Shapes real frameworks use (Bootstrap, Bulma, Font Awesome, Tailwind, normalize, old IE hacks).
SNIPPETS = [
    ':root{--bs-blue:#0d6efd;--bs-font-sans-serif:system-ui,-apple-system,"Segoe UI";'
    "--bs-gradient:linear-gradient(180deg, rgba(255, 255, 255, 0.15), rgba(255, 255, 255, 0))}",
    ".btn{--bs-btn-padding-x: 0.75rem;--bs-btn-focus-box-shadow: 0 0 0 0.25rem "
    "rgba(var(--bs-btn-focus-shadow-rgb), .5);padding:var(--bs-btn-padding-y) var(--bs-btn-padding-x)}",
    '.fa-glass:before{content:"\\f000"}.fa-music:before{content:"\\f001"}',
    "@font-face{font-family:'FontAwesome';src:url('../fonts/fa.eot?v=4.7.0');"
    "src:url('../fonts/fa.eot?#iefix&v=4.7.0') format('embedded-opentype'),"
    "url(../fonts/fa.woff2?v=4.7.0) format('woff2');font-weight:normal}",
    "@supports (display: grid) and (not (display: inline-grid)) { .a { display: grid } }",
    "@layer base, components;@layer base{html{color:red}}",
    "@media (min-width: 576px) and (max-width: 767.98px), print and (orientation:landscape) {"
    ".container{max-width:540px}}",
    "@media (400px <= width <= 700px) { a { b: c } } @media (width > = 1px) {}",
    ".a:is(.b, .c) > .d:not( .e ):where(  p  ) ::slotted(span) {}",
    'a[href^="http"]:not([href*="example.com"])::after{content:" (" attr(href) ")"}',
    ".card { & > .t { m: 0 } &:hover .l { u: v } .x & { y: z } }",
    "a{color:red!important;margin:0 ! important;*zoom:1;_height:1px;filter:"
    "progid:DXImageTransform.Microsoft.gradient(startColorstr='#80000000', endColorstr='#80000000')}",
    "a{width:calc(100% - (2 * var(--gap, 1px)));background:url(data:image/svg+xml;base64,AAAA==)}",
    '.grid{grid-template-areas:"header header" "sidebar main";grid-template-columns:[full-start] '
    "minmax(1em, 1fr) [main-start] minmax(0, 40em) [main-end]}",
    "@font-face{unicode-range:U+0000-00FF,U+0131,U+0152-0153,u+1??}",
    "a{color:red\\9;width:100px\\0/}",
    '@charset "UTF-8";\n@import url("a.css") layer(x) supports(display: grid) screen;\n'
    "@import 'b.css';@namespace svg url(http://www.w3.org/2000/svg);",
    "/*! keep */\n/* @license MIT */ a { /* @preserve x */ b: c }",
    ':root{--empty:;--space: ;--json:{ "a": [1, 2] };--x:  a  ,  b  }',
    "<!-- a { b: c } -->",
    "@keyframes spin{from{transform:rotate(0deg)}to{transform:rotate(360deg)}}",
    "a{transition:opacity .15s linear,transform .3s ease-out;font:italic bold 12px/30px "
    "Georgia,serif}",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_framework_snippets(text: str) -> None:
    assert_like_the_oracle(text)
    assert_check_like_the_scan(text)
    assert_urls_like_the_oracle(text)


# A grammar-ish stylesheet: rules, at-rules, declarations and values with the tokens that
# make whitespace matter or not, comments anywhere.
_IDENT = st.sampled_from(["a", "b", "color", "--x", "--", "-webkit-x", "important", "url", "u"])
_SPACE = st.sampled_from(["", " ", "  ", "\n", "/**/", " /* c */ ", "/*! l */", "\t"])
_VALUE = st.sampled_from(
    [
        "red", "0", "1px", ".5em", "+1", "-1", "50%", "1e3", "#fff", "'s'", '"s t"', "url(x.png)",
        'url("y z.png")', "calc(1px + 2px)", "var(--a, 1px)", "rgba(0, 0, 0, .5)", ",", "/",
        "!important", "! IMPORTANT", "{ a: b }", "[a]", "(b)", "u+0-7f", "\\41", "a\\ b",
        ">", "=", "<", ":", "*", "+", "~", "||", "|=", "\\", "'unterminated", "url(bad url)",
    ]
)  # fmt: skip
_SELECTOR = st.sampled_from(
    [
        "a", ".b", "#c", "*", "a > b", "a + b", "a ~ b", "a b", ":hover", "::before",
        ":not(.a, .b)", ":is(a b)", "[href]", "[a = 'b']", "[a|=b]", "a,b", "&", "& .x",
    ]
)  # fmt: skip


@st.composite
def _stylesheet(draw: st.DrawFn, depth: int = 0) -> str:
    pieces: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["rule", "decl", "at", "at-block", "junk"]))
        s = draw(_SPACE)
        if kind == "decl":
            values = draw(st.lists(st.tuples(_VALUE, _SPACE), max_size=4))
            value = "".join(v + sp for v, sp in values)
            pieces.append(
                f"{draw(_IDENT)}{s}:{draw(_SPACE)}{value}{draw(st.sampled_from([';', '']))}"
            )
        elif kind == "at":
            name = draw(st.sampled_from(["import", "charset", "namespace", "layer", "x"]))
            pieces.append(f"@{name}{s}{draw(_VALUE)}{draw(_SPACE)};")
        elif kind == "at-block" and depth < 3:
            prelude = draw(st.sampled_from(["screen", "(a: b)", "(a >= 1px)", "x , y", ""]))
            body = draw(_stylesheet(depth + 1))
            pieces.append(f"@media{s}{prelude}{draw(_SPACE)}{{{body}}}")
        elif kind == "rule" and depth < 3:
            body = draw(_stylesheet(depth + 1))
            pieces.append(f"{draw(_SELECTOR)}{s}{{{body}}}")
        else:
            pieces.append(draw(_VALUE) + s)
        pieces.append(draw(_SPACE))
    return "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(_stylesheet())
def test_generated_stylesheets(text: str) -> None:
    assert_like_the_oracle(text)
    assert_check_like_the_scan(text)
    assert_urls_like_the_oracle(text)


_SOUP_PIECES = st.sampled_from(
    [
        "a", "--x", "1", ".5", "{", "}", "(", ")", "[", "]", ";", ":", ",", "!", "important",
        " ", "\n", "\r\n", "/* c */", "/*! l */", "/*", '"s t"', "'u", "url(v)", 'url("w")',
        "url(a b", "@media", "@import", "@charset", "@namespace", "\\", "\\31 ", "<!--",
        "-->", "<", ">", "=", "|", "u+0-7f", "#x", "%", "calc(", "selector(", "@layer",
    ]
)  # fmt: skip
_SOUP = st.lists(_SOUP_PIECES, max_size=30).map("".join)


@settings(max_examples=600, deadline=None)
@given(_SOUP)
def test_token_soup(text: str) -> None:
    assert_like_the_oracle(text)
    assert_check_like_the_scan(text)
    assert_urls_like_the_oracle(text)


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())))
def test_arbitrary_text(text: str) -> None:
    assert_like_the_oracle(text)
    assert_check_like_the_scan(text)
    assert_urls_like_the_oracle(text)


@pytest.mark.parametrize(
    "text", ["a{b:\ud835}", "\udc80", "a\udfff{}", "/*\ud800*/", ">/**é", "url(%>/**éurl("]
)
def test_text_rcssmin_fails_on_takes_the_safe_path(text: str) -> None:
    """rcssmin segfaults on a lone surrogate (a token value from the command line can carry
    one) and raises UnicodeDecodeError on some unterminated comments."""
    result = minify_css(text)  # the process survives
    assert result.method == "safe"  # "none" would ship the text unminified: trivially the same
    assert same_stylesheet(text, result.text)


DEEP = 10_000
NESTED = {
    "parens": "a{b:" + "(" * DEEP + ")" * DEEP + "}",
    "functions": "a{width:" + "calc(" * DEEP + "1px" + ")" * DEEP + "}",
    "rules": "a{" * DEEP + "color:red" + "}" * DEEP,
    "media": "@media screen{" * DEEP + "a{color:red}" + "}" * DEEP,
    "custom": ":root{--x:" + "{" * DEEP + "}" * DEEP + "}",
}


@pytest.mark.parametrize("case", sorted(NESTED))
def test_deep_nesting_is_walked_and_verified(case: str) -> None:
    text = NESTED[case]
    assert cssoracle.tree_facts(text) is None  # the recursive oracle gives up here
    facts = cssnorm.stylesheet_facts(text)
    assert len(facts[0]) > DEEP
    assert same_stylesheet(text, text)
    assert not same_stylesheet(text, text.replace("a{", "b{", 1).replace(":", ";", 1))
    result = minify_css(text)
    assert result.method in ("rcssmin", "safe")
    assert cssnorm.stylesheet_facts(result.text) == facts


N = 250_000  # ~1 MB each
HOSTILE = {
    "comment openers": "/*" * N,
    "quotes": '"' * N,
    "url openers": "url(" * N,
    "backslashes": "\\" * (2 * N),
    "parens": "a{b:" + "(" * N,
    "blocks": "{" * N,
    "mismatched": "a{b:" + "(" * N + "]" * N + "}",
    "declarations": "a{" + "b:c;" * N + "}",
    "important": "a{b:" + "! important " * N + "}",
    "spaces in selectors": "a " * N + "{}",
    "custom properties": ":root{" + "--a: b , c;" * (N // 3) + "}",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_walked_in_linear_time(case: str) -> None:
    text = HOSTILE[case]
    start = time.process_time()
    cssnorm.stylesheet_facts(text)
    safe, _ = cssnorm.minified_with_facts(text)
    elapsed = time.process_time() - start
    assert elapsed < 10, f"{elapsed:.1f} s for {len(text) / 1e6:.1f} MB"  # ~1 s when linear
    assert len(safe) <= 2 * len(text)  # at most a closer for each block left open


def test_the_benchmark_compares_both_paths_on_a_site(tmp_path: Path) -> None:
    """bench/css_verify.py: same bytes from the tree path and the token path, methods counted."""
    css_verify = load_bench("css_verify")
    (tmp_path / "static/css/source").mkdir(parents=True)
    (tmp_path / "assetbuild.toml").write_text(
        'root = "static"\nstatic_url = "/static"\n\n[[bundle]]\noutput = "css/main.css"\n'
        'sources = ["css/source/*.css"]\n'
    )
    for k, text in enumerate(SNIPPETS[:6]):
        (tmp_path / f"static/css/source/{k}.css").write_text(text + "\n")
    result = css_verify.measure(css_verify.css_jobs(tmp_path), 1)
    assert result["files"] == 6
    assert result["same_output"] is True
    methods = result["methods"]
    assert methods["tree"] == methods["tokens"]
    assert sum(methods["tokens"].values()) == 6
