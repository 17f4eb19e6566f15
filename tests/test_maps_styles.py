"""Stylesheets' maps made from offset arrays (`maps/styles.py`) are the maps the Python path makes.

The array path exists only to be fast: for every stylesheet here (fixtures, random stylesheets with
astral characters, CRLF, CR, form feeds, BOM, @charset, url()s, license comments and substitutions,
and real libraries: Bootstrap, Bulma, Font Awesome, Foundation, ...) its `FileMap` must equal,
field by field, the one `compose.mapped_file` makes, through each path (rcssmin, the safe minifier,
none). Where it cannot make a map it answers None and the caller takes the Python path, which says
why. Its proof (`verify.verify_arrays`) refuses maps that do not read back as made.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assetbuild.build.bundle import output_dir_for
from assetbuild.css.check import check_css, without_charsets
from assetbuild.css.minify import minify_css
from assetbuild.css.urls import rewrite_with_assets
from assetbuild.css.walk import safe_minify
from assetbuild.maps import styles
from assetbuild.maps.align import NoMap
from assetbuild.maps.compose import mapped_file, strip_url_comment
from assetbuild.maps.verify import MapProblem, verify_arrays
from assetbuild.sources import SourceFile
from tests.helpers.sources import read_as_built as _read
from tests.test_cli import run

REPO = Path(__file__).resolve().parent.parent
LIBRARIES = Path(os.environ.get("ASSETBUILD_CSS_LIBRARIES", "/tmp/assetbuild-css-libraries"))
VALUES: dict[str, str | None] = {"color": "#00ff00", "static": "https://cdn.example/😀/very/long"}


def _outputs(src: SourceFile) -> list[tuple[str, SourceFile, str, str]]:
    """(path taken, source, input text, output) for each path of a checked stylesheet, as
    `build.bundle._process_css` takes them (url()s rewritten where the files exist)."""
    report = check_css(src)
    if not report.ok:
        return []  # no map is made of a file with errors
    out_dir = output_dir_for(src.path.parent, "css/main.css")
    rewritten, _, _ = rewrite_with_assets(src, src.path.parent, out_dir, src.path.parent)
    if rewritten.text != src.text:
        src, report = rewritten, check_css(rewritten, rules=False)
    body = without_charsets(report)
    minified = minify_css(body)
    return [
        ("off", src, report.text, strip_url_comment(body)),
        (minified.method, src, report.text, minified.text),
        ("safe", src, report.text, safe_minify(body)),
    ]


def assert_same_maps(src: SourceFile) -> int:
    """The array path's map equals the Python path's for every path; returns maps compared."""
    compared = 0
    for how, source, text, output in _outputs(src):
        fast = styles.style_map(source, text, output)
        try:
            slow = mapped_file("css", source, text, output, 0, None)
        except (NoMap, MapProblem):
            assert fast is None, how
            continue
        assert fast is not None, (how, src.display)
        assert fast == slow, (how, src.display, fast.first, slow.first)
        compared += 1
    return compared


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (REPO / "fixtures").rglob("*.css") if "bad" not in p.parts),
    ids=lambda p: p.relative_to(REPO).as_posix(),
)
def test_fixtures_map_the_same(path: Path) -> None:
    assert assert_same_maps(_read(path)) == 3


@pytest.mark.parametrize(
    "text",
    [
        "a { color: red; }\r\n.b{x:url(img/a.png)}\r\n",
        '\ufeff@charset "utf-8";\n/* 😀 */ .\U0001d4b3 { content: "😀 \\31 x" }\r.c\f{y:z}\n',
        "/*! keep 😀 */\na{b:{$color};c:url({$static}/x.png)}/* {$color} */ d{e:f}\n",
        "@media (min-width: 1px) { a > b ~ c { d: e !important } }",
        "",
        "   \n/* only a comment */\n",
    ],
    ids=["crlf-url", "bom-charset-astral-cr-ff", "substituted", "media", "empty", "comment"],
)
def test_edge_stylesheets_map_the_same(tmp_path: Path, text: str) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"")
    path = tmp_path / "a.css"
    path.write_bytes(text.encode("utf-8"))
    assert assert_same_maps(_read(path, VALUES)) >= 1


_PIECES = st.sampled_from(
    [
        "a", ".b", "#c", "d > e", "f:hover", "[g=\"h\"]", "{", "}", "x:y;", "x: 1px 2px;", ";",
        "color:{$color};", "background:url(img/a.png)", "background: url( 'img/a.png' );",
        "u:url({$static}/i.png);", "content:'😀';", 'content:"\\1F600 \U0001d4b3";',
        " ", "  ", "\n", "\r\n", "\r", "\f", "\t", "/* c */", "/* 😀\r\n */", "/*! lic */",
        "@media screen{", "@charset \"utf-8\";", "-webkit-x:0", "--v: { a b };", "!important",
        "\\31 a", "calc(1px + 2%)", "é", "中文", "\U0001d4b3", ",",
    ]
)  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_PIECES, max_size=40), st.booleans())
def test_random_stylesheets_map_the_same(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], bom: bool
) -> None:
    root = tmp_path_factory.mktemp("style-maps")
    (root / "img").mkdir()
    (root / "img" / "a.png").write_bytes(b"")
    path = root / "a.css"
    path.write_bytes((("\ufeff" if bom else "") + "".join(pieces)).encode("utf-8"))
    src = _read(path, VALUES)
    assume(check_css(src).ok)
    assert assert_same_maps(src) >= 1


def test_what_the_array_path_does_not_map_is_left_to_the_python_path(tmp_path: Path) -> None:
    path = tmp_path / "a.css"
    path.write_text("a { b: c }\n.d { e: f }\n", "utf-8")
    src = _read(path)
    with_map = dataclasses.replace(src, original=src.original + "/*# sourceMappingURL=a.map */")
    assert styles.style_map(src, src.text, "a{b:c}.d{e:g}") is None  # a token not in the input
    assert styles.style_map(with_map, src.text, "a{b:c}.d{e:f}") is None  # an input map
    assert styles.style_map(src, src.text, "a{b:c}.d{e:f}") is not None
    with pytest.raises(NoMap, match="has no partner"):
        mapped_file("css", src, src.text, "a{b:c}.d{e:g}", 0, None)


def test_the_array_proof_refuses_what_was_not_made(tmp_path: Path) -> None:
    path = tmp_path / "a.css"
    path.write_text("a {\n  b: c;\n}\n.d { e: f }\n", "utf-8")
    src = _read(path)
    output = "a{b:c}.d{e:f}"
    made = styles._arrays(src, src.text, output)
    assert made is not None
    fmap = styles.style_map(src, src.text, output)
    assert fmap is not None
    verify_arrays(output, fmap, made)  # a true map passes
    gen_lines, gen_cols, lines, cols, out_at, src_at = made
    wrong = [
        (dataclasses.replace(fmap, mappings=fmap.mappings.replace("AAAA", "AAAC", 1)), made),
        (dataclasses.replace(fmap, mappings=fmap.mappings + ",C"), made),
        (dataclasses.replace(fmap, mappings=fmap.mappings + ",!"), made),
        (dataclasses.replace(fmap, mappings="CCAA," + fmap.mappings), made),
        (fmap, (gen_lines, gen_cols, lines, cols, [n + 1 for n in out_at], src_at)),
        (fmap, (gen_lines, gen_cols, lines, cols, out_at, [n + 1 for n in src_at])),
    ]
    for bad, arrays in wrong:
        with pytest.raises(MapProblem):
            verify_arrays(output, bad, arrays)
    # A column past the end of its line that lands on the next line's token: still refused.
    beyond = (gen_lines, gen_cols, [0] * len(lines), src_at, out_at, src_at)
    with pytest.raises(MapProblem):
        verify_arrays(
            output, dataclasses.replace(fmap, mappings=styles._encoded(*beyond[:4])), beyond
        )


def test_the_cli_installs_the_python_paths_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installed command's map (the array path) has the bytes of the Python path's map."""
    from assetbuild.build.pipeline import Memory, Session, install
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    sites = []
    for name in ("fast", "python"):
        site = tmp_path / name
        (site / "static" / "css" / "source" / "img").mkdir(parents=True)
        (site / "static" / "css" / "source" / "img" / "a.png").write_bytes(b"png")
        for i, text in enumerate(
            [
                (REPO / "fixtures" / "css" / "framework-like.css").read_text("utf-8"),
                "a {\r\n  color: {$color};\r\n  background: url(img/a.png);\r\n}\r\n",
                "/*! lic 😀 */\n.\U0001d4b3 { content: '😀' }\f.c{color:red}\n",
            ]
        ):
            (site / "static" / "css" / "source" / f"{i}.css").write_bytes(text.encode("utf-8"))
        (site / "assetbuild.toml").write_text(
            'root = "static"\nsourcemap = "linked"\n[tokens]\ncolor = "#0f0"\n'
            '[[bundle]]\noutput = "css/main.css"\nsources = ["css/source/*.css"]\n',
            "utf-8",
        )
        sites.append(site)
    done = run("install", "-q", cwd=sites[0])
    assert done.returncode == 0, done.stderr
    monkeypatch.setattr(styles, "style_map", lambda *args: None)
    install(Session(load_config(sites[1], None), BuildOptions(use_cache=False), Memory()))
    fast = sites[0] / "static" / "css" / "1" / "main.css.map"
    slow = sites[1] / "static" / "css" / "1" / "main.css.map"
    assert fast.read_bytes() == slow.read_bytes()
    assert b'"mappings":"' in fast.read_bytes()


def _libraries() -> list[Path]:
    """Each library's largest stylesheet as written and its largest minified one."""
    if not LIBRARIES.is_dir():
        return []
    largest: dict[tuple[str, bool], Path] = {}
    for path in LIBRARIES.rglob("*.css"):
        parts = path.relative_to(LIBRARIES).parts
        key = (parts[1] if parts[0].startswith("@") else parts[0], ".min." in path.name)
        if key not in largest or path.stat().st_size > largest[key].stat().st_size:
            largest[key] = path
    return sorted(largest.values())


@pytest.mark.slow
@pytest.mark.skipif(not _libraries(), reason=f"no CSS libraries at {LIBRARIES}")
@pytest.mark.parametrize("path", _libraries(), ids=lambda p: p.relative_to(LIBRARIES).as_posix())
def test_real_libraries_map_the_same(tmp_path: Path, path: Path) -> None:
    # A library's own map is composed by the Python path only: its tokens are compared here.
    copy = tmp_path / path.name
    copy.write_text(strip_url_comment(path.read_text("utf-8")), "utf-8", newline="")
    assert assert_same_maps(_read(copy)) >= 2


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "😀", "\n", "\r\n", "\r", "\f", " "]), max_size=60).map("".join),
    st.lists(st.integers(0, 80), max_size=30),
)
def test_array_positions_are_the_line_index_positions(text: str, offsets: list[int]) -> None:
    from assetbuild.maps.text import CSS_BREAKS, LineIndex

    index = LineIndex(text, CSS_BREAKS)
    wanted = sorted(n for n in offsets if n <= len(text))
    lines, cols = styles._positions(index, wanted)
    assert list(zip(lines, cols, strict=True)) == [index.position(n) for n in wanted]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 4), st.integers(0, 9)), max_size=6),
    st.lists(st.integers(0, 120), max_size=40),
)
def test_array_original_offsets_are_the_sources(
    gaps: list[tuple[int, int, int]], offsets: list[int]
) -> None:
    from assetbuild.sources import Edit

    edits, at, orig = [], 0, 0
    for gap, length, orig_length in gaps:  # sorted, disjoint, maybe empty, maybe adjacent
        at, orig = at + gap, orig + gap
        edits.append(Edit(at, at + length, orig, orig + orig_length))
        at, orig = at + length, orig + orig_length
    src = SourceFile(Path("a.css"), "a.css", "x" * (orig + 200), "x" * (at + 200), tuple(edits))
    wanted = sorted(set(offsets))
    assume(edits)
    assert styles._original_offsets(src, wanted) == [src.original_offset(n) for n in wanted]
