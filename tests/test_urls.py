"""urls: relative url() rewriting for the bundle's directory, missing-file warnings."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import tinycss2
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.css.check import check_css
from assetbuild.css.urls import _Edits, rewrite_source, rewrite_urls
from assetbuild.sources import Edit, SourceFile
from assetbuild.tokens import substitute

ROOT = Path("/site")
SOURCE_DIR = ROOT / "css" / "source"


def src(text: str, directory: Path = SOURCE_DIR, name: str = "main.css") -> SourceFile:
    return SourceFile(directory / name, f"css/source/{name}", text, text)


def rewrite(text: str, output_dir: Path, source_dir: Path = SOURCE_DIR) -> str:
    out, diags = rewrite_urls(
        src(text, source_dir), source_dir, output_dir, ROOT, check_exists=False
    )
    assert diags == ()
    return out


@pytest.mark.parametrize(
    "text",
    [
        "a { background: url(../img/a.png) }",
        "a { background: url( '../img/a b.png?v=1#x' ) }",
        '@import "../shared/base.css" screen;',
        "a { background: image-set('../img/a.png' 1x, url(../img/b.png) 2x) }",
    ],
)
def test_same_depth_changes_nothing(text: str) -> None:
    assert rewrite(text, ROOT / "css" / "8") == text


@pytest.mark.parametrize(
    "text",
    [
        "a { b: url(data:image/png;base64,iVBORw0KGgo=) }",
        "a { b: url(http://cdn.example/x.png) url(https://x/y.png) url(HTTPS://X/Y) }",
        "a { b: url(//cdn.example/x.png) url(/static/x.png) url(#frag) url(?query) }",
        'a { b: url("data:image/svg+xml,%3Csvg%3E") url("") url() }',
        "a { b: url(about:blank) url(mailto:x@y) }",
        "@namespace svg url(relative-namespace);",
        "/* url(commented.png) */ a { b: c }",
        "a { content: 'url(in-a-string.png)' }",
    ],
)
def test_non_relative_references_are_left_alone(text: str) -> None:
    assert rewrite(text, ROOT / "bundles") == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a { b: url(img/a.png) }", "a { b: url(css/source/img/a.png) }"),
        ("a { b: url(./img/a.png) }", "a { b: url(css/source/img/a.png) }"),
        ("a { b: url(../img/a.png) }", "a { b: url(css/img/a.png) }"),
        ("a { b: url(../../img/a.png) }", "a { b: url(img/a.png) }"),
        ("a { b: url('../img/a.png') }", "a { b: url('css/img/a.png') }"),
        ('a { b: url( "../fonts/f.eot?#iefix" ) }', 'a { b: url( "css/fonts/f.eot?#iefix" ) }'),
        ("a { b: url(../i/s.svg#icon) }", "a { b: url(css/i/s.svg#icon) }"),
        ("a { b: URL(x.png) }", "a { b: URL(css/source/x.png) }"),
        ('@import "base.css";', '@import "css/source/base.css";'),
        ("@import 'base.css' screen;", "@import 'css/source/base.css' screen;"),
        ("@import url(base.css);", "@import url(css/source/base.css);"),
        ('a { b: image-set("a.png" 1x, "b.png" type("image/png")) }',
         'a { b: image-set("css/source/a.png" 1x, "css/source/b.png" type("image/png")) }'),
        ('a { b: -webkit-image-set(url(a.png) 1x) }', 'a { b: -webkit-image-set(url(css/source/a.png) 1x) }'),
        ('a { b: src("x.png") }', 'a { b: src("css/source/x.png") }'),
        ("a { b: url(dir/) }", "a { b: url(css/source/dir/) }"),
        ("a { b: url(a%20b.png) }", "a { b: url(css/source/a%20b.png) }"),
        ('a { b: url("a b.png") }', 'a { b: url("css/source/a b.png") }'),
        ("a { b: url(a\\ b.png) }", "a { b: url(css/source/a\\ b.png) }"),
        ("a { b: url(a\\(1\\).png) }", "a { b: url(css/source/a\\(1\\).png) }"),
        ("a { b: url('it\\'s.png') }", "a { b: url('css/source/it\\'s.png') }"),
    ],
)  # fmt: skip
def test_rewrites_from_the_output_directory(text: str, expected: str) -> None:
    assert rewrite(text, ROOT) == expected


def test_deeper_output_climbs_back() -> None:
    out = rewrite("a { b: url(img/a.png) url(../x.png) }", ROOT / "static" / "css" / "12")
    assert out == "a { b: url(../../../css/source/img/a.png) url(../../../css/x.png) }"


def test_directory_names_are_percent_encoded() -> None:
    source_dir = ROOT / "my styles"
    out = rewrite("a { b: url(a.png) }", ROOT / "out", source_dir)
    assert out == "a { b: url(../my%20styles/a.png) }"


def test_crlf_offsets() -> None:
    text = "a {\r\n  b: url(a.png);\r\n  c: url('../b.png');\r\n}\r\n"
    out = rewrite(text, ROOT)
    assert out == "a {\r\n  b: url(css/source/a.png);\r\n  c: url('css/b.png');\r\n}\r\n"


def test_substituted_tokens_are_left_alone() -> None:
    original = "a { b: url({$static}/img/a.png) url(img/b.png) }"
    substituted, _ = substitute(src(original), {"static": "/static/v3"})
    assert substituted.edits
    out, _ = rewrite_urls(substituted, SOURCE_DIR, ROOT, ROOT, check_exists=False)
    assert out == "a { b: url(/static/v3/img/a.png) url(css/source/img/b.png) }"


def test_relative_token_values_are_left_alone() -> None:
    # A token that expands to a relative path was written for the installed location.
    original = "a { b: url(<$img>/a.png) }"
    text = "a { b: url(../img/a.png) }"
    source = SourceFile(SOURCE_DIR / "m.css", "m.css", original, text, (Edit(11, 17, 11, 17),))
    out, _ = rewrite_urls(source, SOURCE_DIR, ROOT, ROOT, check_exists=False)
    assert out == text


def test_unsubstituted_tokens_are_left_alone() -> None:
    text = "a { b: url({$missing}/a.png) url(<$x>/b.png) }"
    assert rewrite(text, ROOT) == text


def test_missing_files_are_warnings_at_their_location(tmp_path: Path) -> None:
    source_dir = tmp_path / "css" / "source"
    (tmp_path / "css" / "img").mkdir(parents=True)
    source_dir.mkdir()
    (tmp_path / "css" / "img" / "here.png").write_bytes(b"")
    (tmp_path / "css" / "img" / "a b.png").write_bytes(b"")
    text = (
        "a { b: url(../img/here.png?v=2#x) url('../img/a%20b.png') }\n"
        "c { d: url(../img/gone.png) }\n"
        "e { f: url(  ../img/gone.png ) url(http://x/missing.png) }\n"
    )
    source = SourceFile(source_dir / "m.css", "css/source/m.css", text, text)
    out, diags = rewrite_urls(source, source_dir, tmp_path / "css" / "3", tmp_path)
    assert out == text
    (diag,) = diags
    assert diag.severity == "warning"
    assert diag.location is not None and (diag.location.line, diag.location.column) == (2, 8)
    assert "../img/gone.png" in diag.message
    assert "css/img/gone.png" in diag.message
    assert "1 more" in diag.message
    out, diags = rewrite_urls(
        source, source_dir, tmp_path / "css" / "3", tmp_path, check_exists=False
    )
    assert diags == ()


# Property: the rewritten reference reaches the same file from the output directory.
SEGMENT = st.sampled_from(["a", "b", "img", "..", ".", "x y", "é", "c.png", "d%20e"])
DIR = st.lists(st.sampled_from(["a", "b", "css", "deep", "my dir"]), max_size=4)


def resolve(directory: str, reference: str) -> str:
    path = re.split(r"[?#]", reference, maxsplit=1)[0]
    return posixpath.normpath(posixpath.join(directory, unquote(path)))


def url_values(text: str) -> list[str]:
    values = []
    for node in tinycss2.parse_component_value_list(text):
        if node.type == "{} block":
            for inner in node.content:
                if inner.type == "url":
                    values.append(inner.value)
                elif inner.type == "function" and inner.lower_name == "url":
                    values.extend(a.value for a in inner.arguments if a.type == "string")
    return values


@settings(max_examples=300, deadline=None)
@given(
    st.lists(SEGMENT, min_size=1, max_size=5),
    DIR,
    DIR,
    st.sampled_from(["", "?v=1", "#f", "?#iefix"]),
    st.sampled_from(["", "'", '"']),
)
def test_rewritten_urls_reach_the_same_file(
    segments: list[str], source_parts: list[str], output_parts: list[str], suffix: str, quote: str
) -> None:
    reference = "/".join(segments) + suffix
    reference_css = reference if quote else reference.replace(" ", "\\ ")
    text = f"a {{ b: url({quote}{reference_css}{quote}) }}"
    source_dir = ROOT.joinpath(*source_parts)
    output_dir = ROOT.joinpath("out", *output_parts)
    out, _ = rewrite_urls(src(text, source_dir), source_dir, output_dir, ROOT, check_exists=False)
    (before,) = url_values(text)
    (after,) = url_values(out)
    assert resolve(output_dir.as_posix(), after) == resolve(source_dir.as_posix(), before)
    assert after.endswith(suffix)
    if quote:
        assert f"url({quote}" in out


def test_rewritten_source_keeps_original_locations() -> None:
    original = (
        "a { b: url({$static}/x.png) url(img/a.png) }\n"
        "c { d: url(../img/b.png) } @import 'late.css';\n"
        "e {\n"
    )
    substituted, _ = substitute(src(original), {"static": "/s"})
    rewritten, _ = rewrite_source(
        substituted, SOURCE_DIR, ROOT / "out" / "deeper", ROOT, check_exists=False
    )
    assert rewritten.text != substituted.text
    report = check_css(rewritten)
    (late,) = report.at_rules
    assert (late.location.line, late.location.column) == (2, 28)
    (unclosed,) = report.diagnostics
    assert unclosed.location is not None
    assert (unclosed.location.line, unclosed.location.column) == (3, 3)
    for offset in range(len(rewritten.text)):
        assert 0 <= rewritten.original_offset(offset) <= len(original)


def test_nothing_to_rewrite_returns_the_same_source() -> None:
    source = src("a { b: url(http://x/y.png) }")
    assert rewrite_source(source, SOURCE_DIR, ROOT, ROOT, check_exists=False) == (source, ())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 4)), max_size=6))
def test_edit_index_agrees_with_source_file(gaps: list[tuple[int, int, int]]) -> None:
    edits, pos, orig = [], 0, 0
    for gap, new_len, old_len in gaps:
        pos, orig = pos + gap, orig + gap
        edits.append(Edit(pos, pos + new_len, orig, orig + old_len))
        pos, orig = pos + new_len, orig + old_len
    source = SourceFile(Path("x.css"), "x.css", "o" * (orig + 3), "t" * (pos + 3), tuple(edits))
    index = _Edits(source)
    for offset in range(pos + 3):
        inside = any(e.start <= offset < e.end for e in edits)
        assert index.overlaps(offset, offset + 1) == inside
        if not inside:
            assert index.original_offset(offset) == source.original_offset(offset)
