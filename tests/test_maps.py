"""Source maps: VLQ, UTF-16 columns, every minifier path, substitutions, input maps, the proof.

The checks here read maps with their own small reader (`_utf16_offset`), not the code under test,
and compare the bundle's token at every mapping with the text at the position it names.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetbuild.build.bundle import join_bundle, output_dir_for, process_file
from assetbuild.build.results import Built, FileJob
from assetbuild.maps import vlq
from assetbuild.maps.align import tokens
from assetbuild.maps.build import BundleMap, assemble, is_ignored
from assetbuild.maps.compose import find_url, strip_url_comment
from assetbuild.maps.text import LineIndex
from assetbuild.maps.verify import MapProblem, verify_file, verify_joined
from assetbuild.sources import read_source
from assetbuild.tokens import substitute

_JS_LINES = re.compile("\r\n|[\n\r\u2028\u2029]")
_CSS_LINES = re.compile("\r\n|[\n\r\f]")


# --- an independent reader ----------------------------------------------------------------------


def _utf16_offset(text: str, line: int, column: int, kind: str = "js") -> int:
    """The code-point offset of (0-based line, UTF-16 column), computed the slow obvious way."""
    lines = (_JS_LINES if kind == "js" else _CSS_LINES).split(text)
    assert line < len(lines), (line, len(lines))
    start = sum(len(x) for x in lines[:line]) + sum(
        len(m.group())
        for m in list((_JS_LINES if kind == "js" else _CSS_LINES).finditer(text))[:line]
    )
    units = 0
    at = start
    while units < column:
        units += len(text[at].encode("utf-16-le")) // 2
        at += 1
    assert units == column
    return at


def _mapped(built: Built) -> tuple[dict[str, Any], dict[tuple[int, int], tuple[int, ...]]]:
    data = json.loads(built.map_data)
    at: dict[tuple[int, int], tuple[int, ...]] = {}
    for line, segments in enumerate(vlq.decode_mappings(data["mappings"])):
        for seg in segments:
            at[line, seg[0]] = seg
    return data, at


def assert_every_token_maps_to_itself(built: Built, *, kind: str, vendor: bool = False) -> int:
    """Every token of the bundle has a mapping at its start; the source holds the same token there
    (or, with `vendor`, a position inside a source its input map names). Returns tokens checked."""
    assert built.sourcemap is not None, [d.message for d in built.diagnostics]
    text = built.data.decode("utf-8")
    data, at = _mapped(built)
    index = LineIndex(text, _JS_LINES if kind == "js" else _CSS_LINES)
    checked = 0
    for start, end in tokens(kind, text):
        token = text[start:end]
        line, column = index.position(start)
        seg = at.get((line, column))
        if token.startswith("sourceMappingURL") or token == "/*# sourceMappingURL":
            continue
        if seg is None:  # inside text the join added (a `@charset` rule): covered, unmapped
            before = [c for (gl, c) in at if gl == line and c < column]
            seg = at[line, max(before)] if before else None
            assert seg is not None and len(seg) == 1, (
                f"no mapping for {token!r} at {line + 1}:{column}"
            )
        if len(seg) == 1:
            assert token in (";", "@charset", '"utf-8"'), token  # a separator
            continue
        source = data["sourcesContent"][seg[1]]
        offset = _utf16_offset(source, seg[2], seg[3], kind)
        if seg[1] in data.get("ignoreList", ()) and vendor:
            assert offset <= len(source)
        elif not source.startswith(token, offset):
            assert "{$" in source[offset : offset + 10] or "url(" in token, (
                token,
                source[offset : offset + 40],
            )
        checked += 1
    return checked


# --- building through process_file and join_bundle -----------------------------------------------


def make(
    root: Path,
    kind: str,
    files: list[tuple[str, str | bytes]],
    *,
    minify: bool = True,
    values: dict[str, str | None] | None = None,
    mode: str = "hidden",
) -> Built:
    output = f"{kind}/main.{kind}"
    results = []
    for index, (name, content) in enumerate(files):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8", newline="")
        src = read_source(path, name)
        if values is not None:
            src, _ = substitute(src, values)
        edits = tuple((e.start, e.end, e.orig_start, e.orig_end) for e in src.edits)
        out_dir = str(output_dir_for(root, output)) if kind == "css" else ""
        job = FileJob(
            kind, str(path), name, src.original, src.text, edits, minify, index == 0, out_dir,
            str(root), sourcemap=True,
        )  # fmt: skip
        results.append(process_file(job))
    return join_bundle(output, kind, results, 0, sourcemap=mode, root=root, ignore=("vendor/",))


# --- VLQ -----------------------------------------------------------------------------------------


def test_vlq_known_values() -> None:
    assert [vlq.encode(v) for v in (0, 1, -1, 15, 16, -16, 123456)] == [
        "A", "C", "D", "e", "gB", "hB", "gkxH",
    ]  # fmt: skip
    assert vlq.decode_values("AAgBC") == [0, 0, 16, 1]


@given(st.lists(st.integers(-(2**40), 2**40), max_size=40))
def test_vlq_round_trip(values: list[int]) -> None:
    assert vlq.decode_values("".join(vlq.encode(v) for v in values)) == values


_SEGMENTS = st.lists(
    st.lists(
        st.one_of(
            st.tuples(st.integers(0, 5000)),
            st.tuples(
                st.integers(0, 5000), st.integers(0, 9), st.integers(0, 9999), st.integers(0, 999)
            ),
        ),
        max_size=12,
    ).map(lambda segs: sorted(segs, key=lambda s: s[0])),
    max_size=12,
)


@given(_SEGMENTS)
def test_mappings_round_trip(lines: list[list[tuple[int, ...]]]) -> None:
    assert vlq.decode_mappings(vlq.encode_mappings(lines)) == lines or (not lines)


@pytest.mark.parametrize("bad", ["A!", "g", "AA", "AAAAAA", "gggggggggggggggB"])
def test_malformed_mappings_are_refused(bad: str) -> None:
    with pytest.raises(vlq.VlqError):
        vlq.decode_mappings(bad)


# --- lines and UTF-16 columns --------------------------------------------------------------------

_CHARS = st.sampled_from(
    ["a", "b", " ", "\n", "\r\n", "\r", "\u2028", "é", "😀", "\U0001d4b3", "\t", "中"]
)


@given(st.lists(_CHARS, max_size=60).map("".join))
def test_line_index_agrees_with_the_obvious_count(text: str) -> None:
    index = LineIndex(text)
    for offset in range(len(text) + 1):
        line, column = index.position(offset)
        if offset < len(text) and text[offset] == "\n" and offset and text[offset - 1] == "\r":
            continue  # inside a CR LF: not a place a token starts
        assert _utf16_offset(text + " ", line, column) == offset
        assert index.offset(line, column) == offset


def test_a_column_inside_an_astral_character_is_no_position() -> None:
    index = LineIndex("a😀b")
    assert index.position(2) == (0, 3)
    assert index.offset(0, 2) is None
    assert index.offset(0, 3) == 2
    assert index.offset(0, 9) is None
    assert index.offset(5, 0) is None


# --- every minifier path -------------------------------------------------------------------------

APP = (
    "// the app\r\n"
    "var greeting = '😀 hi';   var \U0001d4b3 = 1;\r\n"
    "function hello(name) {\r\n"
    "  return `${greeting}, ${name}! ${ {a: 1}.a }` + /re+gex/g.source;\r\n"
    "}\r\n"
    "class A { #secret = 1; get() { return this.#secret } }\n"
)


@pytest.mark.parametrize("minify", [True, False])
def test_js_every_token_maps_to_itself(tmp_path: Path, minify: bool) -> None:
    built = make(
        tmp_path,
        "js",
        [("src/10-app.js", "\ufeff" + APP), ("src/20-more.js", "hello('x')\nvar z = 2")],
        minify=minify,
    )
    assert built.methods == (("rjsmin", "rjsmin") if minify else ("off", "off"))
    assert assert_every_token_maps_to_itself(built, kind="js") > 40
    data = json.loads(built.map_data)
    assert data["sources"] == ["../../src/10-app.js", "../../src/20-more.js"]
    assert data["sourcesContent"][0] == APP  # BOM removed, CR LF kept
    assert data["file"] == "main.js" and data["names"] == [] and data["version"] == 3


def test_js_safe_minifier_path(tmp_path: Path) -> None:
    text = "class A {\n  #a = 1\n  #b = 2\n  get() { return this.#a + this.#b }\n}\n"
    built = make(tmp_path, "js", [("a.js", text)])
    assert built.methods == ("safe",)
    assert assert_every_token_maps_to_itself(built, kind="js") > 15


CSS = (
    '@charset "utf-8";\r\n'
    "/* head */\r\n"
    "body { color : red ; background: url(img/a.png) }\r\n"
    ".é😀 > .b , c { margin: 0 auto !important }\n"
    "@media (min-width: 10px) { a { b: c } }\n"
)


@pytest.mark.parametrize("minify", [True, False])
def test_css_every_token_maps_to_itself(tmp_path: Path, minify: bool) -> None:
    (tmp_path / "src" / "img").mkdir(parents=True)
    (tmp_path / "src" / "img" / "a.png").write_bytes(b"")
    built = make(tmp_path, "css", [("src/a.css", CSS), ("src/b.css", "x{y:z}")], minify=minify)
    assert built.methods == (("rcssmin", "rcssmin") if minify else ("off", "off"))
    assert "url(assets/a-" in built.data.decode()  # the url() names its copy in the version
    assert assert_every_token_maps_to_itself(built, kind="css") > 30


def test_css_safe_minifier_path(tmp_path: Path) -> None:
    built = make(tmp_path, "css", [("a.css", ".a/**/.b { color: red }\n")])
    assert built.methods == ("safe",)
    assert assert_every_token_maps_to_itself(built, kind="css") >= 6


# --- random programs -----------------------------------------------------------------------------

_NAMES = st.sampled_from(["a", "bé", "\U0001d4b3", "_$", "x1", "中文"])
_STRINGS = st.sampled_from(
    ["'😀'", '"a\\"b"', "'\U0001d4b3\U0001d4b3'", "`t ${1} 😀`", "'\\u2028'"]
)
_BREAKS = st.sampled_from(["\n", "\r\n", "\r", " ", "\u2028", "  /* 😀 */ ", " // 😀\n"])


@st.composite
def _programs(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 8))):
        name, value = draw(_NAMES), draw(_STRINGS)
        form = draw(st.integers(0, 2))
        if form == 0:
            parts.append(f"var {name} = {value};")
        elif form == 1:
            parts.append(f"function {name}() {{{draw(_BREAKS)}return {value}{draw(_BREAKS)}}}")
        else:
            parts.append(f"{name} = [{value}, {draw(_STRINGS)}].length;")
        parts.append(draw(_BREAKS))
    return ("\ufeff" if draw(st.booleans()) else "") + "".join(parts)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_programs(), _programs(), st.booleans())
def test_random_programs_map_every_token(
    tmp_path_factory: pytest.TempPathFactory, a: str, b: str, minify: bool
) -> None:
    root = tmp_path_factory.mktemp("maps")
    built = make(
        root, "js", [("a.js", a.encode("utf-8")), ("b.js", b.encode("utf-8"))], minify=minify
    )
    assert assert_every_token_maps_to_itself(built, kind="js") > 0


# --- substitutions -------------------------------------------------------------------------------


def test_tokens_after_a_substituted_value_map_to_their_original_columns(tmp_path: Path) -> None:
    text = "var u = '{$static}/img.png'; var after = 1; load(u, {$static_len});\n"
    built = make(
        tmp_path,
        "js",
        [("a.js", text)],
        values={"static": "https://cdn.example.com/very/long/prefix", "static_len": "12345"},
    )
    assert assert_every_token_maps_to_itself(built, kind="js") > 10
    _, at = _mapped(built)
    bundle = built.data.decode()
    after = bundle.index("after")
    assert at[0, after][2:] == (0, text.index("after"))  # not shifted by the longer value
    load = bundle.index("load")
    assert at[0, load][2:] == (0, text.index("load"))


# --- input maps ----------------------------------------------------------------------------------


def _vendor_map(sources: list[str], contents: list[str], mappings: str) -> str:
    return json.dumps(
        {
            "version": 3,
            "sources": sources,
            "sourcesContent": contents,
            "names": [],
            "mappings": mappings,
        }
    )


ORIGINAL = "export function add(first, second) {\n  return first + second;\n}\n"
# "function add(a,b){return a+b}" as a minifier with a map would write it: each token mapped.
VENDOR_MIN = "function add(a,b){return a+b}\n"
VENDOR_MAPPINGS = vlq.encode_mappings(
    [
        [
            (0, 0, 0, 7), (9, 0, 0, 16), (12, 0, 0, 19), (13, 0, 0, 20), (14, 0, 0, 25),
            (15, 0, 0, 27), (16, 0, 0, 33), (17, 0, 0, 35), (18, 0, 1, 2), (25, 0, 1, 9),
            (26, 0, 1, 15), (27, 0, 1, 17), (28, 0, 2, 0),
        ]
    ]
)  # fmt: skip


def test_an_input_map_beside_the_file_is_composed(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "add.min.js.map").write_text(
        _vendor_map(["../lib/add.js"], [ORIGINAL], VENDOR_MAPPINGS)
    )
    built = make(
        tmp_path,
        "js",
        [
            ("app.js", "add(1, 2);\n"),
            ("vendor/add.min.js", VENDOR_MIN + "//# sourceMappingURL=add.min.js.map\n"),
        ],
        minify=False,
    )
    bundle = built.data.decode()
    assert "sourceMappingURL=add.min.js.map" not in bundle  # the input's comment is gone
    data, at = _mapped(built)
    assert data["sources"] == ["../../app.js", "../../vendor/add.min.js", "../../lib/add.js"]
    assert data["sourcesContent"][2] == ORIGINAL
    assert data["ignoreList"] == [1, 2]  # a vendor/ path, and a source of an input map
    # `return` in the bundle leads to `return` in lib/add.js, line 2.
    line = bundle.split("\n").index(VENDOR_MIN.strip())
    seg = at[line, VENDOR_MIN.index("return")]
    assert seg[1:] == (2, 1, 2)
    assert assert_every_token_maps_to_itself(built, kind="js", vendor=True) > 10


def test_a_data_url_input_map_is_composed(tmp_path: Path) -> None:
    payload = base64.b64encode(_vendor_map(["add.js"], [ORIGINAL], VENDOR_MAPPINGS).encode())
    text = VENDOR_MIN + "//# sourceMappingURL=data:application/json;base64," + payload.decode()
    built = make(tmp_path, "js", [("lib/add.min.js", text)])
    data, _ = _mapped(built)
    assert data["sources"][1] == "../../lib/add.js"
    assert "sourceMappingURL" not in built.data.decode()


@pytest.mark.parametrize(
    ("comment", "files", "why"),
    [
        ("//# sourceMappingURL=gone.js.map", {}, "cannot be read"),
        ("//# sourceMappingURL=bad.js.map", {"bad.js.map": "{not json"}, "not JSON"),
        ("//# sourceMappingURL=v2.js.map", {"v2.js.map": '{"version": 2}'}, "version 3"),
        (
            "//# sourceMappingURL=vlq.js.map",
            {"vlq.js.map": _vendor_map(["x.js"], ["x"], "!!")},
            "malformed",
        ),
    ],
)
def test_a_broken_input_map_is_a_warning_and_the_file_maps_to_itself(
    tmp_path: Path, comment: str, files: dict[str, str], why: str
) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    built = make(tmp_path, "js", [("a.js", "var a = 1;\n" + comment + "\n")], minify=False)
    warnings = [d.message for d in built.diagnostics if d.severity == "warning"]
    assert any(why in w and "mapped to this file itself" in w for w in warnings), warnings
    assert built.data.decode() == "var a = 1;\n"
    assert assert_every_token_maps_to_itself(built, kind="js") == 5


def test_url_comments_are_found_and_stripped() -> None:
    assert find_url("a\n//# sourceMappingURL=a.js.map\n") == "a.js.map"
    assert find_url("a{}\n/*# sourceMappingURL=a.css.map */") == "a.css.map"
    assert find_url("a\n//@ sourceMappingURL=old.map") == "old.map"
    assert find_url("var s = 'no map here';") is None
    assert strip_url_comment("a()\n//# sourceMappingURL=a.js.map\n") == "a()\n"
    assert strip_url_comment("a{}/*# sourceMappingURL=a.css.map */") == "a{}"
    assert strip_url_comment("x = '//# sourceMappingURL=a.js.map';") == (
        "x = '//# sourceMappingURL=a.js.map';"
    )


def test_stray_map_comments_never_reach_the_bundle_even_without_maps(tmp_path: Path) -> None:
    files: list[tuple[str, str | bytes]] = [
        ("a.js", "a()\n//# sourceMappingURL=a.js.map\n"),
        ("b.js", "b()\n//# sourceMappingURL=b.js.map"),
    ]
    built = make(tmp_path, "js", files, minify=False, mode="none")
    assert built.data.decode() == "a()\n;\nb()\n"
    assert built.sourcemap is None and built.map_data == b""


# --- the bundle: modes, ignore list, the proof ----------------------------------------------------


def test_linked_ends_the_bundle_with_the_comment(tmp_path: Path) -> None:
    js = make(tmp_path, "js", [("a.js", "a()")], mode="linked")
    assert js.data.decode().endswith("a()\n//# sourceMappingURL=main.js.map\n")
    css = make(tmp_path, "css", [("a.css", "a{b:c}")], mode="linked")
    assert css.data.decode().endswith("a{b:c}\n/*# sourceMappingURL=main.css.map */\n")
    hidden = make(tmp_path, "js", [("a.js", "a()")], mode="hidden")
    assert "sourceMappingURL" not in hidden.data.decode() and hidden.map_data


def test_join_separators_map_to_nothing(tmp_path: Path) -> None:
    built = make(tmp_path, "js", [("a.js", "a()"), ("b.js", "b()")])
    assert built.data.decode() == "a()\n;\nb()\n"
    _, at = _mapped(built)
    assert at[1, 0] == (0,)


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("static/vendor/x.js", True),
        ("node_modules/a/b.js", True),
        ("static/js/app.js", False),
        ("static/vendors/x.js", False),
        ("static/vendor.js", False),
    ],
)
def test_ignore_patterns(tmp_path: Path, path: str, ignored: bool) -> None:
    assert is_ignored(str(tmp_path / path), tmp_path, ("vendor/", "node_modules/")) is ignored
    assert is_ignored(str(tmp_path / "a/gen/x.js"), tmp_path, ("a/gen/*",))


def _file(tmp_path: Path) -> tuple[str, Any, list[list[int]]]:
    from assetbuild.maps.align import mappings
    from assetbuild.maps.compose import mapped_file

    path = tmp_path / "a.js"
    text = "var a = 1;\nvar b = 2;\n"
    path.write_text(text)
    src = read_source(path, "a.js")
    output = "var a=1;var b=2;"
    fmap = mapped_file("js", src, src.text, output, 0)
    return output, fmap, mappings("js", src, src.text, output)


def test_the_proof_accepts_a_true_map(tmp_path: Path) -> None:
    output, fmap, intended = _file(tmp_path)
    verify_file("js", output, fmap, intended)


def _shift_column(lines: list[list[tuple[int, ...]]]) -> None:
    gen, src, line, col = lines[0][1]
    lines[0][1] = (gen, src, line, col + 1)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (_shift_column, "reads back as"),
        (lambda lines: lines[0].pop(1), "read back"),
        (lambda lines: lines.append([(0, 0, 0, 0)]), "read back"),
    ],
)
def test_the_proof_refuses_a_wrong_file_map(tmp_path: Path, edit: Any, why: str) -> None:
    import dataclasses

    output, fmap, intended = _file(tmp_path)
    lines = [list(line) for line in vlq.decode_mappings(fmap.mappings)]
    edit(lines)
    bad = dataclasses.replace(fmap, mappings=vlq.encode_mappings(lines))
    with pytest.raises(MapProblem, match=why):
        verify_file("js", output, bad, intended)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"sources": [0, 1], "sourcesContent": [0, 1]}, "sources differ"),
        ({"shift": (0, 0, 0, 1)}, "reads back as"),
        ({"mappings": "AAAA"}, "does not hold"),
    ],
)
def test_the_proof_refuses_a_wrong_join(tmp_path: Path, change: dict[str, Any], why: str) -> None:
    built = make(tmp_path, "js", [("a.js", "a()"), ("b.js", "b()")])
    assert built.sourcemap is not None
    made = built.sourcemap
    data = json.loads(built.map_data)
    from assetbuild.maps.build import assemble as real

    bundle = built.data.decode()
    files = [("a()", None), ("b()", None)]
    assert files
    _, joins = real(
        "js/main.js",
        "js",
        bundle,
        [(t, f) for t, f in zip(["a()", "b()"], _file_maps(tmp_path), strict=True)],
        root=tmp_path,
    )
    if "shift" in change:
        offset, state, want = joins[-1]
        joins[-1] = (
            offset,
            tuple(a + b for a, b in zip(state, change["shift"], strict=True)),
            want,
        )
    elif "mappings" in change:
        data["mappings"] = change["mappings"]
    else:
        data.update(change)
    with pytest.raises(MapProblem, match=why):
        verify_joined(json.dumps(data).encode(), made.mappings, made.contents, joins)


def _file_maps(tmp_path: Path) -> list[Any]:
    from assetbuild.maps.compose import mapped_file

    out = []
    for name, text in (("a.js", "a()"), ("b.js", "b()")):
        src = read_source(tmp_path / name, name)
        out.append(mapped_file("js", src, text, text, 0))
    return out


def test_a_map_that_fails_the_proof_ships_no_map_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetbuild.maps import build as mapbuild

    real = mapbuild.assemble

    def off_by_one(*args: Any, **kwargs: Any) -> tuple[BundleMap, Any]:
        made, joins = real(*args, **kwargs)
        bad = BundleMap(made.file, made.sources, made.contents, made.ignore, "AACA")
        return bad, joins

    monkeypatch.setattr(mapbuild, "assemble", off_by_one)
    built = make(tmp_path, "js", [("a.js", "var a = 1;\n")], mode="linked")
    assert built.sourcemap is None and built.map_data == b""
    assert "sourceMappingURL" not in built.data.decode()
    assert any("ships without a source map" in d.message for d in built.diagnostics)
    assert built.ok


def test_a_file_missing_from_the_bundle_means_no_map(tmp_path: Path) -> None:
    built = make(tmp_path, "js", [("a.js", "a()")])
    assert built.sourcemap is not None
    fmap = json.loads(built.map_data)
    assert fmap
    from assetbuild.maps.align import FileMap, NoMap

    with pytest.raises(NoMap):
        assemble(
            "js/main.js",
            "js",
            "b()\n",
            [("a()", FileMap("", ("/a.js",), ("a()",), (), (0, 0, 0, 0, 0)))],
            root=tmp_path,
        )


def test_maps_are_the_same_bytes_wherever_the_site_is(tmp_path: Path) -> None:
    one = make(tmp_path / "one", "js", [("src/a.js", APP)])
    two = make(tmp_path / "elsewhere" / "two", "js", [("src/a.js", APP)])
    assert one.map_data == two.map_data and one.data == two.data


def test_an_input_map_pointing_outside_its_source_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "a.min.js.map").write_text(_vendor_map(["a.js"], ["x"], "AAAA,SAAgB"))
    text = VENDOR_MIN + "//# sourceMappingURL=a.min.js.map\n"
    built = make(tmp_path, "js", [("a.min.js", text)])
    assert any("points outside its source a.js" in d.message for d in built.diagnostics)
    assert assert_every_token_maps_to_itself(built, kind="js") > 10
