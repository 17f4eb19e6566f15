"""One file through `bundle.process_file` (which minifier outcomes are worth a warning), and
`process_files`, the batched path, which must give exactly its values."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.build import bundle
from assetbuild.build.bundle import process_file
from assetbuild.build.results import FileJob
from assetbuild.css import minify as cssminify
from assetbuild.js import minify as jsminify
from assetbuild.minified import Minified

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def job(tmp_path: Path, kind: str, text: str) -> FileJob:
    path = tmp_path / f"a.{kind}"
    path.write_text(text, "utf-8")
    return FileJob(kind, str(path), f"src/a.{kind}", text, text, (), True, True, "", str(tmp_path))


# rjsmin joins class fields written without semicolons (research: js-checkers.md), and
# rcssmin joins selector parts across a comment: both ship through the verified safe minifier.
SAFE_CASES = [
    ("js", "class A {\n  #a = 1\n  #b = 2\n  get() { return this.#a + this.#b }\n}\n"),
    ("css", ".a/**/.b { color: red }\n"),
]


@pytest.mark.parametrize(("kind", "text"), SAFE_CASES)
def test_the_safe_minifier_is_a_correct_result_and_no_warning(
    tmp_path: Path, kind: str, text: str
) -> None:
    result = process_file(job(tmp_path, kind, text))
    assert result.method == "safe"
    assert len(result.text) < len(text)
    assert result.diagnostics == ()


@pytest.mark.parametrize(("kind", "text"), SAFE_CASES)
def test_shipping_unminified_is_a_warning_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, text: str
) -> None:
    monkeypatch.setattr(jsminify, "minify_js", lambda t: Minified(t, "none"))
    monkeypatch.setattr(cssminify, "minify_css", lambda t: Minified(t, "none"))
    result = process_file(job(tmp_path, kind, text))
    assert result.method == "none"
    assert result.text == text
    [warning] = result.diagnostics
    assert warning.severity == "warning"
    assert warning.location is not None and warning.location.path == f"src/a.{kind}"
    assert "shipped unminified" in warning.message


def test_fast_minifier_results_carry_no_warning(tmp_path: Path) -> None:
    result = process_file(job(tmp_path, "js", "var a = 1;\nvar b = a + 2;\n"))
    assert (result.method, result.diagnostics) == ("rjsmin", ())
    assert bundle._fallback_warning(None, "CSS", "rcssmin", "rcssmin") == ()


# --- process_files: the batched path gives process_file's values ---------------------------------

FRAGMENTS = [
    "var a = 1;",
    "let b = 2;",
    "const c = [1, 2, 3].map((x) => x * 2);",
    "function f(x) { return x ?? 0; }",
    "class A {\n  #a = 1\n  #b\n}",  # rjsmin breaks it: the safe minifier
    "x = `${a ? ` b` : ''}`;",  # nested templates: rjsmin breaks it too
    "/*! kept */ var k;",
    "// @license MIT\nvar m;",
    "'use strict';",
    "x = '\U0001f600' + 'é';",  # astral: UTF-16 offsets differ from indexes after it
    "x = (1 + );",
    "let let = 1;",
    "import x from 'y';",
    "return 1;",
    "a\n++b",
    "x = /[/;",
    "}); (function () {",
    "#!/usr/bin/env node",
]


def script_job(i: int, text: str, *, first: bool, minify: bool, kind: str = "js") -> FileJob:
    return FileJob(
        kind, f"/s/{i}.{kind}", f"src/{i}.{kind}", text, text, (), minify, first, "", "/s"
    )


@st.composite
def script_jobs(draw: st.DrawFn) -> list[FileJob]:
    jobs = []
    for i in range(draw(st.integers(1, 8))):
        parts = draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4))
        text = draw(st.sampled_from(["\n", " ", ""])).join(parts)
        kind = draw(st.sampled_from(["js", "js", "js", "css"]))
        if kind == "css":
            text = ".a { color: red }\n" if draw(st.booleans()) else ".b { color: red \n"
        jobs.append(
            script_job(i, text, first=draw(st.booleans()), minify=draw(st.booleans()), kind=kind)
        )
    return jobs


@settings(max_examples=40, deadline=None)
@given(script_jobs())
def test_process_files_gives_process_files_values(jobs: list[FileJob]) -> None:
    assert bundle.process_files(jobs) == [process_file(j) for j in jobs]


def fixture_jobs() -> list[FileJob]:
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".js", ".css") and path.is_file():
            try:
                text = path.read_text("utf-8")
            except UnicodeDecodeError:
                continue  # the bad-encoding fixtures: refused before any check
            rel = path.relative_to(FIXTURES).as_posix()
            found.append(
                FileJob(
                    path.suffix[1:], str(path), rel, text, text, (), True, not found, "", str(path)
                )
            )
    return found


@pytest.mark.parametrize("engine", ["auto", "esprima"])
def test_process_files_on_the_fixtures(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    monkeypatch.setenv("ASSETBUILD_ENGINE", engine)
    jobs = fixture_jobs()
    assert sum(j.kind == "js" for j in jobs) >= 5
    assert bundle.process_files(jobs) == [process_file(j) for j in jobs]


def test_a_failing_file_in_a_batch_reports_what_it_reports_alone() -> None:
    texts = ["var a = 1;\n", "var broken = (1 + );\n", "let let = 1;\n", "var z = 2;\n"]
    jobs = [script_job(i, t, first=i == 0, minify=True) for i, t in enumerate(texts)]
    results = bundle.process_files(jobs)
    assert results == [process_file(j) for j in jobs]
    assert [r.ok for r in results] == [True, False, False, True]
    [error] = results[1].diagnostics
    assert (error.location.line, error.location.column) == (1, 19)
    assert error.location.path == "src/1.js"
    assert results[0].method == results[3].method == "rjsmin"


def test_a_batch_the_engine_cannot_take_whole_is_checked_file_by_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jsengine = pytest.importorskip("assetbuild.js.engine")
    if not jsengine.available():
        pytest.skip("the fast engine (mini-racer) is not installed")
    from py_mini_racer import JSEvalException

    texts = ["var a = 1;\n", "class A {\n  #a = 1\n  #b\n}\n", "x = (;\n", "var s = '\ud800';\n"]
    jobs = [script_job(i, t, first=True, minify=True) for i, t in enumerate(texts)]
    alone = [process_file(j) for j in jobs]
    real = jsengine._Engine.call
    sizes: list[int] = []

    def no_batches(self: object, function: object, size: int, *args: object) -> object:
        lengths = args[1] if len(args) > 1 else None
        texts = len(lengths.split(",")) if isinstance(lengths, str) else 1
        if texts > (1 if len(args) == 3 else 2):  # several scripts analyzed, or pairs compared
            sizes.append(texts)
            raise JSEvalException("out of memory, say")
        return real(self, function, size, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(jsengine._Engine, "call", no_batches)
    assert bundle.process_files(jobs) == alone
    assert sizes and max(sizes) >= 3  # a batch was tried, then each on its own
