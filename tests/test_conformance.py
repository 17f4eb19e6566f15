"""A sample of the test262 parser suite through the checker and the minifier (skipped without it)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.benchload import load_bench

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO.parent / "shared" / "test262-parser-tests"
SAMPLE = 40

pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason=f"no test262 parser suite at {SUITE}")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench("conformance")


def _sample(bench: ModuleType, directory: str) -> list[Path]:
    files = bench.suite_files(SUITE, directory)
    step = max(1, len(files) // SAMPLE)
    return files[::step][:SAMPLE]


def test_stale_files_are_left_out(bench: ModuleType) -> None:
    stale = bench.stale_files(SUITE)
    assert len(stale) == 12
    listed = {f"fail/{p.name}" for p in bench.suite_files(SUITE, "fail")}
    assert not stale & listed


# Known esprima-fork verdicts that disagree with the suite (parser bugs, not ours).
KNOWN = {
    "pass/c546a199e87abaad.js",
    "fail/50a060984b757dc1.js",
    "fail/6b9bc191e6f5ef69.js",
    "fail/90cd97db35a1a503.js",
    "fail/a38011d2c010999e.js",
    "fail/a651ee9d0db08692.js",
    "fail/db41a80ccf646002.js",
    "fail/ef2d369cccc5386c.js",
}


@pytest.mark.parametrize("directory", ["pass", "fail", "early"])
def test_sample_verdicts(bench: ModuleType, directory: str) -> None:
    for path in _sample(bench, directory):
        name = f"{directory}/{path.name}"
        row = bench.check_file(name, path.read_text(encoding="utf-8"))
        assert not row["crash"], name
        if name not in KNOWN:
            assert row["accepted"] == (directory == "pass"), name


def test_sample_minifies_without_changing_programs(bench: ModuleType) -> None:
    files = [p for p in _sample(bench, "pass") if not p.name.endswith(".module.js")]
    summary = bench.minify_summary(
        [(f"pass/{p.name}", p.read_text(encoding="utf-8")) for p in files], jobs=1
    )
    assert summary["files"] == len(files) > 30
    assert summary["changed_program"] == 0
    assert summary["shipped_bytes"] <= summary["source_bytes"]
    assert summary["rjsmin"] + summary["safe"] >= len(files) - 1


def test_independent_verifier_sees_changes(bench: ModuleType) -> None:
    assert bench._independently_same("a = 1 + 2", "a=1+2")
    assert not bench._independently_same("a\n++b", "a++b")
    assert not bench._independently_same("class A {\n #a = 1\n #b }", "class A{#a=1#b}")
