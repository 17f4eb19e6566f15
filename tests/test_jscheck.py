"""jscheck: syntax errors with exact locations, module detection, bindings, bundle hazards, join."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.diagnostics import Location
from assetbuild.js.check import (
    JsReport,
    TopLevelBinding,
    check_bundle,
    check_js,
    join_js,
    same_program,
)
from assetbuild.sources import Edit, SourceFile


@pytest.fixture(autouse=True, scope="module")
def _both_engines(js_engine: str) -> str:
    """Every test here runs with esprima alone and with the fast engine when it is installed."""
    return js_engine


def source(text: str, name: str = "app.js", original: str | None = None, edits=()) -> SourceFile:
    return SourceFile(Path(name), name, text if original is None else original, text, tuple(edits))


def formatted(report: JsReport) -> list[str]:
    return [d.format().splitlines()[0] for d in report.diagnostics]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("var a = (1;", "app.js:1:11: error: Unexpected token ;"),
        ("var a = 1;\nfoo(bar));\n", "app.js:2:9: error: Unexpected token )"),
        ("'\U0001f600'; var a = );", "app.js:1:14: error: Unexpected token )"),
        ("let x = 1;\nlet x = 2;", "app.js:2:5: error: Identifier 'x' has already been declared"),
        ("function f() {\n  return 1 +;\n}", "app.js:2:13: error: Unexpected token ;"),
        ("x = `abc", "app.js:1:9: error: Unexpected token ILLEGAL"),
    ],
)
def test_syntax_error_location_and_message(text: str, expected: str) -> None:
    report = check_js(source(text), first=True)
    assert not report.ok
    assert formatted(report) == [expected]


def test_syntax_error_location_maps_through_substitutions() -> None:
    original = "var u = '{$static}';\nvar a = );"
    text = "var u = '/static/v1/long/path';\nvar a = );"
    shift = len("/static/v1/long/path") - len("{$static}")
    edit = Edit(start=9, end=9 + len("/static/v1/long/path"), orig_start=9, orig_end=18)
    report = check_js(source(text, original=original, edits=[edit]), first=True)
    assert shift > 0
    assert formatted(report) == ["app.js:2:9: error: Unexpected token )"]
    assert report.diagnostics[0].source_line == "var a = );"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("import x from 'y';\nx();", "1:1", "'import' declaration"),
        ("import 'side-effect';", "1:1", "'import' declaration"),
        ("var a = 1;\nexport const b = 2;", "2:1", "'export' declaration"),
        ("export default function () {}", "1:1", "'export default' declaration"),
        ("export * from './x.js';", "1:1", "'export *' declaration"),
        ("const d = 1;\nconst r = await fetch(d);", "2:11", "top-level 'await'"),
        ("for await (const x of y) {}", "1:1", "top-level 'for await'"),
        ("if (import.meta.url) {}", "1:5", "'import.meta'"),
        # not a valid module either (`with` is sloppy-only): still recognised by its keyword
        ("with (a) {}\nimport x from 'y';", "2:1", "'import' declaration"),
    ],
)
def test_modules_are_reported_as_modules(text: str, where: str, what: str) -> None:
    report = check_js(source(text), first=True)
    assert formatted(report) == [
        f"app.js:{where}: error: {what}: this file is a module; assetbuild bundles are classic scripts"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "import('./lazy.js').then(m => m.run());",
        "async function f() { await g(); for await (const x of y) {} }",
        "var await = 1;",
        "var o = { import: 1, export: 2 }; o.import;",
    ],
)
def test_script_features_that_look_like_modules_are_fine(text: str) -> None:
    assert check_js(source(text), first=True).ok


@pytest.mark.parametrize("depth", [50, 300, 600])
def test_realistic_nesting_passes(depth: int) -> None:
    text = "x = " + "[" * depth + "]" * depth + ";\n" + "f(" * depth + ")" * depth
    assert check_js(source(text), first=True).ok


@pytest.mark.parametrize(
    "text",
    ["[" * 10_000 + "]" * 10_000, "(" * 10_000 + "x" + ")" * 10_000, "x+" * 50_000 + "x"],
)
def test_absurd_nesting_is_the_tools_limit_not_a_syntax_error(text: str, js_engine: str) -> None:
    report = check_js(source(text, "deep.js"), first=True)
    if text.startswith("x+") and js_engine == "auto":
        # meriyah reads a chain of binary operators without recursion, and V8 compiles it: valid
        assert report.ok and report.diagnostics == ()
        return
    assert not report.ok
    (diagnostic,) = report.diagnostics
    assert diagnostic.message.startswith("file is too deeply nested for the JavaScript checker")
    assert diagnostic.location == Location("deep.js")


def test_deep_parse_leaves_the_recursion_limit_alone() -> None:
    before = sys.getrecursionlimit()
    check_js(source("[" * 400 + "]" * 400), first=True)
    assert sys.getrecursionlimit() == before


def test_parser_crash_is_reported_as_the_tools_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    import esprima

    monkeypatch.setenv("ASSETBUILD_ENGINE", "esprima")  # the crash is esprima's

    def broken(*args: object, **kwargs: object) -> None:
        raise IndexError("string index out of range")

    monkeypatch.setattr(esprima, "parseScript", broken)
    report = check_js(source("var a = 1;"), first=True)
    (diagnostic,) = report.diagnostics
    assert diagnostic.is_error
    assert diagnostic.message.startswith("the JavaScript checker failed on this file (IndexError")
    assert "not necessarily an error in the file" in diagnostic.message


@pytest.mark.parametrize(
    ("text", "first", "shipped"),
    [
        ("#!/usr/bin/env node\nfoo();\n", True, "#!/usr/bin/env node\nfoo();\n"),
        ("#!/usr/bin/env node\nfoo();\n", False, "\nfoo();\n"),
        ("#!/usr/bin/env node\r\nfoo();", False, "\r\nfoo();"),
        ("foo();\n", False, "foo();\n"),
    ],
)
def test_hashbang_is_blanked_when_not_first(text: str, first: bool, shipped: str) -> None:
    report = check_js(source(text), first=first)
    assert report.ok
    assert report.text == shipped


def test_errors_after_a_blanked_hashbang_keep_their_line() -> None:
    report = check_js(source("#!/usr/bin/env node\nfoo(;\n"), first=False)
    assert formatted(report) == ["app.js:2:5: error: Unexpected token ;"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'use strict';\nfoo();", Location("app.js", 1, 1)),
        ('// header\n"use strict"\nfoo()', Location("app.js", 2, 1)),
        ("'use asm'; 'use strict'; x", Location("app.js", 1, 12)),
        ("foo(); 'use strict';", None),
        ("'use\\x20strict'; x", None),
        ("function f() { 'use strict'; }", None),
        ("('use strict'); x", None),
    ],
)
def test_use_strict_directive(text: str, expected: Location | None) -> None:
    assert check_js(source(text), first=True).use_strict == expected


def test_top_level_bindings() -> None:
    text = (
        "let a = 1, {b, c: [d, ...e], f = 2} = o;\n"
        "const g = 3;\n"
        "var h;\n"
        "function i() { var inner; let inner2; }\n"
        "async function* j() {}\n"
        "class K {}\n"
        "if (x) { var l; for (var m of n) { var o2; } } else { let blockScoped; }\n"
        "try { var p; } catch (err) { var q; } finally { var r; }\n"
        "switch (s) { case 1: var t; }\n"
        "label: for (var u = 0;;) { break label; }\n"
        "(function () { var hidden; })();\n"
        "x = function named() {};\n"
    )
    report = check_js(source(text), first=True)
    assert report.ok
    found = {(b.name, b.kind) for b in report.bindings}
    assert found == {
        ("a", "let"),
        ("b", "let"),
        ("d", "let"),
        ("e", "let"),
        ("f", "let"),
        ("g", "const"),
        ("h", "var"),
        ("i", "function"),
        ("j", "function"),
        ("K", "class"),
        ("l", "var"),
        ("m", "var"),
        ("o2", "var"),
        ("p", "var"),
        ("q", "var"),
        ("r", "var"),
        ("t", "var"),
        ("u", "var"),
    }
    locations = {b.name: str(b.location) for b in report.bindings}
    assert locations["a"] == "app.js:1:5"
    assert locations["K"] == "app.js:6:7"
    assert locations["o2"] == "app.js:7:40"


def checked(*texts: str) -> list[JsReport]:
    return [check_js(source(t, f"f{i}.js"), first=i == 0) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        ("let a = 1;", "let a = 2;", True),
        ("const a = 1;", "var a;", True),
        ("var a;", "let a;", True),
        ("function a() {}", "class a {}", True),
        ("class a {}", "function a() {}", True),
        ("if (1) { var a; }", "const a = 1;", True),
        ("var a = 1;", "var a = 2;", False),
        ("function a() {}", "function a() {}", False),
        ("var a;", "function a() {}", False),
        ("let a;", "let b;", False),
        ("{ let a; }", "let a;", False),
        ("(function () { let a; })();", "let a;", False),
    ],
)
def test_cross_file_clashes(first: str, second: str, clash: bool) -> None:
    diagnostics = check_bundle(checked(first, second))
    errors = [d for d in diagnostics if d.is_error]
    assert bool(errors) == clash
    if clash:
        (error,) = errors
        assert error.location is not None and error.location.path == "f1.js"
        assert "'a' is declared again at the top level" in error.message
        assert "SyntaxError" in error.message
        (note,) = error.notes
        assert note.message == "previously declared here"
        assert note.location is not None and note.location.path == "f0.js"
        assert note.source_line == first


def test_clash_reports_each_later_declaration_once() -> None:
    diagnostics = check_bundle(checked("let a, b;", "var a;", "const b = 1;", "var c;"))
    assert [(str(d.location), d.notes[0].location.path) for d in diagnostics] == [
        ("f1.js:1:5", "f0.js"),
        ("f2.js:1:7", "f0.js"),
    ]


def test_clash_formats_with_both_locations() -> None:
    (error,) = check_bundle(checked("let config = {};", "\nvar config;"))
    assert error.format().splitlines() == [
        "f1.js:2:5: error: 'config' is declared again at the top level: var here, let in f0.js; "
        "concatenated into one script the bundle would throw a SyntaxError on load (rename one, "
        "or wrap a file in a function)",
        "    var config;",
        "        ^",
        "f0.js:1:5: note: previously declared here",
        "    let config = {};",
        "        ^",
    ]


def test_use_strict_warnings() -> None:
    assert check_bundle(checked("'use strict'; a();")) == ()
    (first,) = check_bundle(checked("'use strict'; a();", "b();", "c();"))
    assert first.severity == "warning"
    assert first.location == Location("f0.js", 1, 1)
    assert "applies to the whole bundle" in first.message and "all 3 files" in first.message
    (later,) = check_bundle(checked("a();", '"use strict";\nb();'))
    assert later.severity == "warning"
    assert later.location == Location("f1.js", 1, 1)
    assert "no effect" in later.message and "sloppy mode" in later.message


def test_binding_is_a_value() -> None:
    binding = TopLevelBinding("a", "let", Location("x.js", 1, 5))
    assert binding == TopLevelBinding("a", "let", Location("x.js", 1, 5))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("a = 1 + 2", "a=1+2;", True),
        ("a = 'x'", 'a = "x"', True),
        ("a = 1", "a = 1.0", True),
        ("a = 0x10", "a = 16", True),
        ("a = '\\x41'", "a = 'A'", True),
        ("/* c */ a // d", "a", True),
        ("#!/usr/bin/env node\na", "a", True),
        ("a = 1", "a = true", False),
        ("a = '1'", "a = 1", False),
        ("a = null", "a = /x/", False),
        ("x = /a/g", "x = /a/i", False),
        ("x = /a/g", "x = /b/g", False),
        ("a\n++b", "a++\nb", False),
        ("return_\n(x)", "return_;\n(x)", False),
        ("x = `a${1}b`", "x = `a${1}b`", True),
        ("x = `a${1}b`", "x = `a${1}c`", False),
        ("x = String.raw`\\x41`", "x = String.raw`A`", False),
        ("x = 1n", "x = 2n", False),
        ("'use strict'; x", "x", False),
        ("a = (1;", "a = (1;", False),
        ("a", "a = (1;", False),
        ("a.b", "a['b']", False),
    ],
)
def test_same_program(a: str, b: str, same: bool) -> None:
    assert same_program(a, b) is same
    assert same_program(b, a) is same


def test_same_program_handles_deep_trees() -> None:
    deep = "x = " + "[" * 800 + "]" * 800
    assert same_program(deep, deep.replace(" ", ""))


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["a()", "b()"], "a()\n;\nb()\n"),
        (["a();", "b();"], "a();\nb();\n"),
        (["a();\n", "b();\n"], "a();\nb();\n"),
        (
            ["x = function () {}", "(function () {})()"],
            "x = function () {}\n;\n(function () {})()\n",
        ),
        (
            ["a();\n//# sourceMappingURL=a.js.map", "b();"],
            "a();\n//# sourceMappingURL=a.js.map\n;\nb();\n",
        ),
        (["a(); // end;", "b();"], "a(); // end;\n;\nb();\n"),
        (["a = 1 <!-- x;", "b();"], "a = 1 <!-- x;\n;\nb();\n"),
        (["a();", "", "b();"], "a();\nb();\n"),
        ([], ""),
        (["only()"], "only()\n"),
    ],
)
def test_join_js(texts: list[str], expected: str) -> None:
    assert join_js(texts) == expected


_PARTS = st.sampled_from(
    [
        "a = b",
        "a = b;",
        "x = function () {}",
        "(function () { return 1; })()",
        "[1, 2].forEach(f)",
        "`t`",
        "/re/.test(s)",
        "+c",
        "-d",
        "// comment",
        "/* block */",
        "//# sourceMappingURL=x.map",
        "var v = 1",
        "f()\n",
        "g() // c;",
        "'use strict'",
        "a\n",
        "++e",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_PARTS, min_size=1, max_size=4))
def test_join_never_merges_files(parts: list[str]) -> None:
    """The joined bundle is each file's statements, one after the other, never fused."""
    joined = join_js(parts)
    assert all(part in joined for part in parts)
    expected = [statement for part in parts for statement in _statements(part)]
    assert _statements(joined) == expected


def _statements(text: str) -> list[object]:
    """Top-level statements without positions, directives or empty statements."""
    import esprima

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("range", "loc", "directive")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    body = esprima.parseScript(text).toDict()["body"]
    return [strip(s) for s in body if s["type"] != "EmptyStatement"]


def test_import_of_package_does_not_load_esprima() -> None:
    code = "import sys, assetbuild.js.check, assetbuild.js.minify; print('esprima' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
