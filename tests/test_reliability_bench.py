"""bench/reliability.py's round-2 figures (issue 12), run small: every scenario tries something and
nothing goes wrong. The bench runs the same scenarios at scale (`python bench/reliability.py`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.benchload import load_bench

rel = load_bench("reliability")


def _assert_clean(figure: Any) -> None:
    assert figure.measured, figure.detail
    assert figure.problems == [], figure.problems
    assert figure.bad == 0 and figure.tried > 0, figure


def test_forged_cache_entries_never_ship_small(tmp_path: Path) -> None:
    figure = rel.forged_cache_scenario(tmp_path, kinds=("genuine header",))
    _assert_clean(figure)
    assert "1 quick records" in figure.detail and "1 states" in figure.detail


@pytest.mark.slow
def test_forged_and_damaged_cache_entries_never_ship(tmp_path: Path) -> None:
    figure = rel.forged_cache_scenario(tmp_path)
    _assert_clean(figure)
    assert f"{len(rel.CACHE_KINDS)} quick records" in figure.detail


def test_symlink_and_special_file_traps_small(tmp_path: Path) -> None:
    figure = rel.trap_scenario(tmp_path, only=4)
    _assert_clean(figure)
    assert "6 traps" in figure.detail


@pytest.mark.slow
def test_symlink_and_special_file_traps(tmp_path: Path) -> None:
    figure = rel.trap_scenario(tmp_path)
    _assert_clean(figure)
    assert figure.tried >= len(rel._traps(tmp_path))


def test_read_only_leftovers_block_nothing_small(tmp_path: Path) -> None:
    if rel.unprivileged_prefix()[0] is None:
        pytest.skip(rel.unprivileged_prefix()[1])
    _assert_clean(rel.readonly_scenario(tmp_path, inner_modes=(0o000,)))


@pytest.mark.slow
def test_read_only_leftovers_block_nothing(tmp_path: Path) -> None:
    if rel.unprivileged_prefix()[0] is None:
        pytest.skip(rel.unprivileged_prefix()[1])
    _assert_clean(rel.readonly_scenario(tmp_path))


def test_memory_row_small(tmp_path: Path) -> None:
    """The one-line script of 0.3 MB took 1.9 GB before each binding stopped copying its line:
    under a 1 GB cap it is killed ("capped"); now it stays far below."""
    figure, rows = rel.memory_scenario(
        tmp_path, selectors=5_000, string_mb=0.1, script_mb=0.3, cap_mb=1024
    )
    assert figure.bad == 0 and figure.tried == 4 and figure.problems == []
    assert [r.capped for r in rows] == [False] * 4, rows
    assert [r.exit for r in rows] == [0, 0, 1, 0]  # the unterminated string is an error
    assert all(r.peak_mb > 0 and r.ratio > 0 for r in rows)


def test_the_memory_cap_stops_a_run(tmp_path: Path) -> None:
    import sys

    grow = "x = []\nwhile True:\n    x.append(bytearray(1 << 20))\n"
    code, peak, capped = rel.peak_run([sys.executable, "-c", grow], tmp_path, {}, cap_mb=200)
    assert capped and code < 0 and peak >= 150


# --- the checks are not vacuous --------------------------------------------------------------------


def test_shipped_bytes_in_no_source_are_caught(tmp_path: Path) -> None:
    site = rel.make_site(tmp_path / "site")
    assert rel.run_cli(site).returncode == 0
    assert rel._serves_sources(site) == []
    manifest = json.loads((site / "static/manifest.json").read_text())
    entry = manifest["bundles"]["js/main.js"]
    body = rel.PWNED.encode()
    (site / "static" / entry["path"]).write_bytes(body)
    problems = rel._serves_sources(site)
    assert any("shipped bytes in no source (the forgery)" in p for p in problems), problems


def test_up_to_date_means_the_whole_install() -> None:
    assert rel._says_up_to_date("bundle ...\njs/main.js  ...  up to date\nup to date\n")
    assert not rel._says_up_to_date("js/main.js  3  ...  js/1/main.js    up to date\nmanifest: x\n")


def test_a_write_through_a_trap_is_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 'command' that writes through the planted link is counted as bad."""
    real = rel._traps

    def writes_through(cwd: Path, *args: str, **_: Any) -> Any:
        (cwd / rel.LOCK_NAME).write_text("overwritten")
        return rel.subprocess.CompletedProcess(args, 3, "", "")

    lock_trap = lambda base: [("lock", real(base)[0][1], (("install",),))]  # noqa: E731
    monkeypatch.setattr(rel, "_traps", lock_trap)  # lock -> outside/victim.txt
    monkeypatch.setattr(rel, "run_limited", writes_through)
    figure = rel.trap_scenario(tmp_path)
    assert figure.tried == 1 and figure.bad == 1 and "wrote outside" in figure.problems[0]


def test_main_reports_figures_and_fails_on_any_bad(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    home = os.environ.get("XDG_CACHE_HOME")
    row = rel.MemoryRow("case", 1.0, 50.0, 0, False, 50.0, 10.0)
    for bad, code in ((0, 0), (1, 1)):
        figure = rel.Figure("forged", tried=3, bad=bad, detail="d")
        monkeypatch.setattr(rel, "round_two", lambda work, args, f=figure: ([f], [row]))
        assert rel.main(["--only-figures", "--json"]) == code
        data = json.loads(capsys.readouterr().out)
        assert data["figures"][0]["tried"] == 3 and data["memory"][0]["peak_mb"] == 50.0
        assert data["ok"] is (bad == 0)
        assert rel.main(["--only-figures"]) == code
        out = capsys.readouterr().out
        assert "forged" in out and "peak/input" in out
    assert os.environ.get("XDG_CACHE_HOME") == home  # main() restores the caller's environment
