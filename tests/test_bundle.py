"""One file through `bundle.process_file`: which minifier outcomes are worth a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetbuild.build import bundle
from assetbuild.build.bundle import process_file
from assetbuild.build.results import FileJob
from assetbuild.css import minify as cssminify
from assetbuild.js import minify as jsminify
from assetbuild.minified import Minified


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
