"""Scripts' maps made in the engine (`maps/scripts.py`) are the maps the Python path makes.

The engine path exists only to be fast: for every text here (fixtures, random programs with astral
characters, CRLF, BOM, hashbangs and substitutions, and real libraries: jQuery, d3, Bootstrap's
minified bundle) its `FileMap` must equal, field by field, the one `compose.mapped_file` makes,
through each minifier (rjsmin, the safe minifier, none), both from acorn's tokens and from the
tokens the check's parse heard (meriyah's, `check_scripts(..., mapped=...)`). Where the engine cannot
make a map it answers None and the caller takes the Python path, which says why.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetbuild.js import engine
from assetbuild.js.check import check_js, check_scripts
from assetbuild.js.minify import minify_js
from assetbuild.maps.align import NoMap
from assetbuild.maps.compose import mapped_file
from assetbuild.maps.scripts import _job, script_maps
from assetbuild.sources import SourceFile
from tests.helpers.sources import read_as_built as _read
from tests.test_maps import _programs
from tests.test_maps_consumer import NODE_MODULES

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not engine.available(), reason="the engine (mini-racer) is missing")


def _outputs(src: SourceFile, first: bool = True) -> list[tuple[str, str, str, int]]:
    """(path taken, input text, output text, shift) for each minifier path of a checked file."""
    report = check_js(src, first=first)
    assert report.ok, [d.message for d in report.diagnostics]
    shift = len(src.text) - len(report.text)
    made = [("off", report.text, report.text, shift)]
    rjsmin = minify_js(report.text)
    made.append((rjsmin.method, report.text, rjsmin.text, shift))
    safe = engine.safe_minified([report.text])[0]
    if safe is not None:
        made.append(("safe", report.text, safe, shift))
    return made


def assert_same_maps(src: SourceFile, first: bool = True) -> int:
    """The engine's map equals the Python path's for every minifier path, made from acorn's tokens
    and from the check's; the mappings compared (the check's tokens: `heard_maps`)."""
    return _compare(src, first)[0]


def heard_maps(src: SourceFile, first: bool = True) -> int:
    """`assert_same_maps`; how many of the maps were made from the tokens the check heard."""
    return _compare(src, first)[1]


def _compare(src: SourceFile, first: bool) -> tuple[int, int]:
    compared = heard = 0
    cases = _outputs(src, first)
    made = script_maps([(src, text, output, shift) for _, text, output, shift in cases])
    for (how, text, output, shift), fast in zip(cases, made, strict=True):
        # The same file checked again, its tokens kept, and mapped right after (as a build does).
        check_scripts([(src, first)], mapped=[True])
        answer = engine.script_maps([_job(src, text, output, shift)])[0]
        check_scripts([(src, first)], mapped=[True])
        from_check = script_maps([(src, text, output, shift)])[0]
        try:
            slow = mapped_file("js", src, text, output, shift, None, compose=False)
        except NoMap:
            assert fast is None, how
            assert from_check is None, how
            continue
        assert fast is not None, (how, src.display)
        assert fast == slow, (how, src.display, fast.first, slow.first)
        assert from_check == slow, (how, src.display)
        assert answer is not None
        if len(answer) > 1:
            # The first answer says where its tokens came from; acorn's alone have no say here.
            heard += answer[11]
        compared += 1
    return compared, heard


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for p in (REPO / "fixtures").rglob("*.js")
        if "bad" not in p.parts and "modules" not in p.parts and "/4/" not in p.as_posix()
    ),
    ids=lambda p: p.relative_to(REPO).as_posix(),
)
def test_fixtures_map_the_same(path: Path) -> None:
    assert assert_same_maps(_read(path)) >= 2


@pytest.mark.parametrize(
    "text",
    [
        "class A { #x = 1; #m() { return this.#x + (#x in this); } static #s; }\n",
        "var t = `a${`b${c}d`}e${{f: 1}.f}` + `plain` + tag`x${y}`;\n",
        "var r = /[/]}/g, d = a / b / c; if (x) /re/.test(y);\n",
        "var a = 1;\r\nvar b = '😀' + \U0001d4b3;\u2028c();\n",
        "#!/usr/bin/env node\nvar a = 1;\n",
    ],
    ids=["private", "templates", "regexes", "crlf-astral", "hashbang"],
)
def test_the_checks_tokens_make_the_same_maps(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.js"
    path.write_bytes(text.encode("utf-8"))
    # Every minifier path's map (off, rjsmin, safe) made from meriyah's tokens, not acorn's.
    assert heard_maps(_read(path)) == 3


def test_tokens_that_do_not_tile_the_text_are_left_for_acorns(tmp_path: Path) -> None:
    path = tmp_path / "a.js"
    # An HTML-like comment: meriyah skips it, but it is no gap align.py's _GAP skips, so the
    # check's tokens are not proven acorn's: acorn tokenizes the text, the maps are the same.
    path.write_text("var a = 1;\n<!-- old browsers\nvar b = 2;\n", "utf-8")
    src = _read(path)
    assert heard_maps(src) == 0
    check_scripts([(src, True)], mapped=[True])
    answer = engine.script_maps([_job(src, src.text, src.text, 0)])[0]
    assert answer is not None and answer[11] == 0  # unminified: mapped, from acorn's tokens


@pytest.mark.parametrize(
    "text",
    [
        "var a = '😀'; var b = 1;\r\nfunction f() {\r\n  return `x ${a} 😀 ${b}`;\r\n}\r\n",
        "\ufeff/* 😀 */ var \U0001d4b3 = 1;\u2028var c = \U0001d4b3 + 1;\r// end\n",
        "#!/usr/bin/env node\nvar a = 1; /*! keep */ var b = /re[/]x/g.test('a');\n",
        "var u = '{$static}/img.png'; var after = 1; load(u, {$n}); /* {$static} */ x('{$static}', {$n});\n",
        "var empty;",
        "",
        "   \n// only a comment\n",
    ],
    ids=["crlf-astral", "bom-ls-cr", "hashbang", "substituted", "short", "empty", "comment"],
)
@pytest.mark.parametrize("first", [True, False])
def test_edge_texts_map_the_same(tmp_path: Path, text: str, first: bool) -> None:
    path = tmp_path / "a.js"
    path.write_bytes(text.encode("utf-8"))
    src = _read(path, {"static": "https://cdn.example/😀/very/long", "n": "12345"})
    assert assert_same_maps(src, first) >= 1


def test_a_file_the_engine_cannot_map_is_left_to_the_python_path(tmp_path: Path) -> None:
    path = tmp_path / "a.js"
    path.write_text("var a = 1;\nvar b = 2;\n", "utf-8")
    src = _read(path)
    report = check_js(src, first=True)
    # An output that is not the input's tokens, and one naming an input map: no engine map.
    with_map = SourceFile(
        src.path, src.display, src.original + "//# sourceMappingURL=a.js.map\n", src.text
    )
    made = script_maps(
        [(src, report.text, "var a=1;var c=2;", 0), (with_map, report.text, "var a=1;var b=2;", 0)]
    )
    assert made == [None, None]
    with pytest.raises(NoMap, match="is not next"):
        mapped_file("js", src, report.text, "var a=1;var c=2;", 0, None, compose=False)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_programs(), st.booleans())
def test_random_programs_map_the_same(
    tmp_path_factory: pytest.TempPathFactory, text: str, first: bool
) -> None:
    path = tmp_path_factory.mktemp("engine-maps") / "a.js"
    path.write_bytes(text.encode("utf-8"))
    compared, heard = _compare(_read(path), first)
    assert compared >= 1
    if first or not text.startswith("#!"):
        assert heard == compared  # the check's tokens tile every random program


@pytest.mark.slow
@pytest.mark.skipif(NODE_MODULES is None, reason="the .ci/npm packages are not installed")
@pytest.mark.parametrize(
    "relative",
    ["jquery/dist/jquery.js", "d3/dist/d3.js", "bootstrap/dist/js/bootstrap.bundle.min.js"],
)
def test_real_libraries_map_the_same(tmp_path: Path, relative: str) -> None:
    assert NODE_MODULES is not None
    path = tmp_path / Path(relative).name
    data = (NODE_MODULES / relative).read_bytes()
    # Bootstrap's own map is composed by the Python path only: its tokens are compared here.
    path.write_bytes(re.sub(rb"//# sourceMappingURL=\S*\s*$", b"", data))
    compared, heard = _compare(_read(path), True)
    assert compared >= 2
    assert heard == compared
