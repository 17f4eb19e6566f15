"""Watch mode against a real watchdog observer: real writes, renames, deletes, and the real command."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assetbuild.build.results import BuildOptions
from assetbuild.commands import watch_lines
from assetbuild.config import load_config
from assetbuild.errors import ConfigError
from assetbuild.watch import WatchDir, watch_dirs
from tests.helpers.watch import TIMEOUT, Harness, WatchProcess, installed, wait_for

CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/**/*.js"]

[[bundle]]
output = "css/main.css"
sources = ["css/source/*.css"]
"""


@pytest.fixture
def site(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    path: Path = make_site(
        {
            "js/source/a.js": "var a = 1;\n",
            "js/source/b.js": "function b() { return a; }\n",
            "css/source/a.css": "body { color: red; }\n",
        },
        CONFIG,
    )
    monkeypatch.chdir(path)
    return path


@pytest.fixture
def harness(site: Path) -> Iterator[Harness]:
    h = Harness(site)
    first = h.start()
    assert first.ok, first.error
    yield h
    h.stop()


def test_first_build_installs_and_reports_ready(harness: Harness, site: Path) -> None:
    assert "var a=1" in installed(site) or "var a = 1" in installed(site)
    assert (site / "css/1/main.css").is_file()
    assert harness.directories >= 2
    assert harness.quiet() == []  # our own install wakes nothing


def test_edit_rebuilds_only_that_bundle(harness: Harness, site: Path) -> None:
    (site / "js/source/a.js").write_text("var a = 42;\n")
    r = harness.next()
    assert r.ok
    assert r.changed == ("js/source/a.js",)
    assert r.outputs == ("js/main.js",)
    assert "42" in installed(site)
    assert r.seconds < 5
    assert harness.quiet() == []


def test_new_file_matching_a_glob(harness: Harness, site: Path) -> None:
    (site / "js/source/sub").mkdir()
    (site / "js/source/sub/c.js").write_text("var newcomer = 7;\n")
    r = wait_for(lambda: [x for x in [harness.next()] if "js/source/sub/c.js" in x.changed])
    assert r[0].ok
    assert "newcomer" in installed(site)


def test_delete_and_rename(harness: Harness, site: Path) -> None:
    (site / "js/source/b.js").rename(site / "js/source/c.js")
    r = harness.next()
    assert set(r.changed) == {"js/source/b.js", "js/source/c.js"}
    assert r.renamed == (("js/source/b.js", "js/source/c.js"),)
    (site / "js/source/c.js").unlink()
    r = harness.next()
    assert r.changed == ("js/source/c.js",) and r.renamed == ()
    (site / "js/source/d.js").write_text("var d = 4;\n")  # a new file is not a rename
    r = harness.next()
    assert r.changed == ("js/source/d.js",) and r.renamed == ()
    assert "function b" not in installed(site) and "b(){" not in installed(site)


def test_atomic_save_and_vim_backup_rename(harness: Harness, site: Path) -> None:
    target = site / "js/source/a.js"
    tmp = site / "js/source/.a.js.tmp.123"
    tmp.write_text("var a = 'atomic';\n")
    os.replace(tmp, target)
    r = harness.next()
    assert r.changed == ("js/source/a.js",)
    assert "atomic" in installed(site)
    # vim with backupcopy=no: rename the original away, write a new file, delete the backup.
    backup = site / "js/source/a.js~"
    target.rename(backup)
    target.write_text("var a = 'vim';\n")
    backup.unlink()
    rebuilt = [harness.next(), *harness.quiet()]
    assert "vim" in installed(site)
    assert all(x.ok for x in rebuilt[-1:])


def test_a_burst_is_one_rebuild(site: Path) -> None:
    h = Harness(site, debounce=0.3)
    h.start()
    try:
        for i in range(60):
            (site / f"js/source/n{i:02d}.js").write_text(f"var n{i} = {i};\n")
        r = h.next()
        assert len(r.changed) == 60
        assert h.quiet(0.8) == []
        assert "n59" in installed(site)
    finally:
        h.stop()


def test_error_keeps_last_good_output_then_recovers(harness: Harness, site: Path) -> None:
    good = installed(site)
    (site / "js/source/a.js").write_text("var a = ;\n")
    r = harness.next()
    assert not r.ok and r.error is not None
    (diag,) = [d for d in r.error.diagnostics if d.is_error]
    assert diag.location is not None and (diag.location.path, diag.location.line) == (
        "js/source/a.js",
        1,
    )
    assert installed(site) == good
    (site / "js/source/a.js").write_text("var a = 'fixed';\n")
    r = harness.next()
    assert r.ok and r.fixed == ("js/main.js",)
    assert "fixed" in installed(site)


def test_config_edit_reloads_and_broken_config_keeps_last_good(
    harness: Harness, site: Path
) -> None:
    (site / "assetbuild.toml").write_text(CONFIG.replace('"js/main.js"', '"js/app.js"'))
    r = harness.next()
    assert r.ok and r.config_changed
    assert "js/app.js" in r.outputs
    assert (site / "js/1/app.js").is_file()
    (site / "assetbuild.toml").write_text("[[bundle]\n")
    r = harness.next()
    assert not r.ok and r.config_changed and r.outputs == ()
    (site / "js/source/a.js").write_text("var a = 'still watching';\n")
    r = harness.next()
    assert r.ok and r.outputs == ("js/app.js",)
    assert "still watching" in (site / "js/1/app.js").read_text()


def test_watching_starts_even_when_the_first_build_fails(site: Path) -> None:
    (site / "js/source/a.js").write_text("var a = ;\n")
    h = Harness(site)
    h.thread.start()
    try:
        first = h.next()
        assert first.first and not first.ok
        assert first.failed == ("js/main.js",)
        assert (site / "css/1/main.css").is_file()  # the good bundle went in regardless
        assert not (site / "js/1").exists()
        assert h.ready.wait(TIMEOUT)
        (site / "js/source/a.js").write_text("var a = 1;\n")
        r = h.next()
        assert r.ok and r.fixed == ("js/main.js",)
        assert (site / "js/1/main.js").is_file()
    finally:
        h.stop()


def test_a_config_broken_at_start_is_reported_and_waited_out(site: Path) -> None:
    (site / "assetbuild.toml").write_text("[[bundle]\n")
    h = Harness(site)
    h.thread.start()
    try:
        first = h.next()
        assert first.first and first.config_changed and not first.ok
        assert isinstance(first.error, ConfigError)
        assert h.ready.wait(TIMEOUT)  # watching for the config to be fixed
        assert not (site / "js/1").exists()
        (site / "assetbuild.toml").write_text(CONFIG)
        r = h.next()
        assert r.first and r.ok and set(r.outputs) == {"js/main.js", "css/main.css"}
        assert (site / "js/1/main.js").is_file()
        (site / "js/source/a.js").write_text("var a = 'then as usual';\n")
        r = h.next()
        assert r.ok and not r.first and "then as usual" in installed(site)
    finally:
        h.stop()


def test_stop_while_waiting_for_a_config(site: Path) -> None:
    (site / "assetbuild.toml").write_text("bundle = 3\n")
    h = Harness(site)
    h.thread.start()
    assert not h.next().ok
    assert h.ready.wait(TIMEOUT)
    h.stop()  # returns: the loop ended


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (["js/source/*.js"], ["js/source"]),
        (["js/**/*.js"], ["js", "js/source", "js/source/sub", "js/vendor"]),
        (["js/*/x.js"], ["js", "js/source", "js/source/sub", "js/vendor"]),
        (["js/vendor/jquery.js", "js/source/*.js"], ["js/source", "js/vendor"]),
        (["js/**/*.js", "js/source/*.js"], ["js", "js/source", "js/source/sub", "js/vendor"]),
        (["js/missing/deeper/*.js"], ["js"]),  # nearest existing directory, to see it created
        (["*.js"], []),  # the root itself, which holds the config
        (["js/.hidden/*.js"], ["js"]),  # a pattern may name a hidden directory
    ],
)
def test_watch_dirs(make_site: Any, sources: list[str], expected: list[str]) -> None:
    listed = ", ".join(f'"{s}"' for s in sources)
    site = make_site(
        {
            "js/source/a.js": "1;\n",
            "js/source/sub/b.js": "1;\n",
            "js/vendor/jquery.js": "2;\n",
            "js/.cache/c.js": "3;\n",  # hidden: a glob never enters it
            "js/3/main.js": "4;\n",  # a version directory: never watched
            "a.js": "5;\n",
        },
        f'[[bundle]]\noutput = "out/main.js"\nsources = [{listed}]\n',
    )
    dirs = watch_dirs(load_config(site))
    want = {WatchDir(site.joinpath(*rel.split("/")), False) for rel in expected}
    want.add(WatchDir(site, False))  # the config file's directory
    assert set(dirs) == want


def test_huge_trees_get_one_recursive_watch(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetbuild import watch

    files = {f"js/d{i}/a.js": "1;\n" for i in range(5)}
    site = make_site(files, '[[bundle]]\noutput = "out/main.js"\nsources = ["js/**/*.js"]\n')
    monkeypatch.setattr(watch, "MAX_WATCHED_DIRS", 3)
    assert set(watch_dirs(load_config(site))) == {
        WatchDir(site / "js", True),
        WatchDir(site, False),
    }


def test_recursive_glob_ignores_its_own_version_dirs(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site({"js/source/a.js": "var a = 1;\n"}, CONFIG.split("\n\n")[0] + "\n")
    monkeypatch.chdir(site)
    h = Harness(site)
    h.start()
    try:
        for i in range(3):
            (site / "js/source/a.js").write_text(f"var a = {i + 10};\n")
            assert h.next().ok
        assert h.quiet(0.5) == []  # installing into js/1 under the watched js/ woke nothing
        (site / "js/source/new").mkdir()
        (site / "js/source/new/b.js").write_text("var fresh = 1;\n")
        wait_for(lambda: "fresh" in installed(site))
    finally:
        h.stop()


def test_stop_ends_run(site: Path) -> None:
    h = Harness(site)
    h.start()
    started = time.monotonic()
    h.stop()
    assert time.monotonic() - started < 3


# --- the real command ------------------------------------------------------------------------------


@pytest.fixture
def watch_process(site: Path) -> Iterator[Callable[..., WatchProcess]]:
    started: list[WatchProcess] = []

    def start(*args: str) -> WatchProcess:
        started.append(WatchProcess(site, *args))
        return started[-1]

    yield start
    for process in started:
        process.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_command_rebuilds_and_exits_cleanly(
    site: Path, sig: signal.Signals, watch_process: Callable[..., WatchProcess]
) -> None:
    w = watch_process()
    assert "started" in w.line("installed into js/1")
    w.line("watching")
    (site / "js/source/a.js").write_text("var a = 'from the test';\n")
    line = w.line("js/source/a.js changed -> js/main.js installed into js/1")
    assert line.rstrip().endswith(" ms)")
    assert "from the test" in installed(site)
    (site / "js/source/a.js").write_text("var a = ;\n")
    line = w.line("failed")
    assert "js/main.js failed: 1 error; the last good output stays installed" in line
    (site / "js/source/a.js").write_text("var a = 'again';\n")
    w.line("js/source/a.js changed -> js/main.js installed into js/1")
    assert "fixed: js/main.js rebuilt" in w.line("fixed")
    (site / "js/source/b.js").rename(site / "js/source/e.js")
    w.line(
        "js/source/b.js renamed to js/source/e.js -> js/main.js up to date in js/1"
    )  # same order
    stderr = w.stop(sig)
    assert "js/source/a.js:1:9: error:" in stderr  # compiler-style, with the source line
    assert "    var a = ;" in stderr
    leftovers = [p for p in site.rglob("*") if p.name.startswith((".assetbuild-tmp-", ".tmp-"))]
    assert leftovers == []


def test_no_variants_by_default_stale_ones_removed_and_install_restores_them(site: Path) -> None:
    from assetbuild.build.pipeline import install

    (site / "js/source/a.js").write_text("var a = '" + "original " * 50 + "';\n")
    (site / "assetbuild.toml").write_text('compress = ["gzip"]\n' + CONFIG)  # for install only
    config = load_config(site, None)
    install(config, BuildOptions())
    gz = site / "js/1/main.js.gz"
    assert gz.is_file()
    h = Harness(site)
    try:
        assert h.start().ok
        assert gz.is_file()  # still the same content: a variant that agrees stays
        (site / "js/source/a.js").write_text("var a = '" + "edited " * 50 + "';\n")
        assert h.next().ok
        assert "edited" in installed(site)
        assert not gz.exists()  # it would have served the old bundle
        manifest = json.loads((site / "manifest.json").read_text())
        assert manifest["bundles"]["js/main.js"]["variants"] == {}
    finally:
        h.stop()
    install(config, BuildOptions())  # the next install makes it again, in place
    assert gz.is_file() and not (site / "js/2").exists()
    assert "edited" in gzip.decompress(gz.read_bytes()).decode()


def test_command_compress_makes_variants_on_each_rebuild(
    site: Path, watch_process: Callable[..., WatchProcess]
) -> None:
    (site / "assetbuild.toml").write_text('compress = ["br"]\n' + CONFIG)  # not watch's
    w = watch_process("--compress", "gzip")
    w.line("installed into js/1")
    w.line("watching")
    (site / "js/source/a.js").write_text("var a = '" + "compressed " * 50 + "';\n")
    w.line("js/source/a.js changed -> js/main.js installed into js/1")
    assert "compressed" in gzip.decompress((site / "js/1/main.js.gz").read_bytes()).decode()
    assert not (site / "js/1/main.js.br").exists()
    w.stop()


def test_command_json_prints_one_object_per_line(
    site: Path, watch_process: Callable[..., WatchProcess]
) -> None:
    w = watch_process("--json")

    def event() -> dict[str, Any]:
        data: dict[str, Any] = json.loads(w.line())  # every stdout line is one JSON object
        return data

    first = event()
    assert (first["event"], first["ok"], first["first"]) == ("build", True, True)
    assert first["installed"]["js/main.js"] == "js/1/main.js"
    assert set(first["installed"]) == set(first["outputs"])
    assert event() == {"event": "ready", "directories": len(watch_dirs(load_config(site)))}
    (site / "js/source/a.js").write_text("var a = ;\n")
    failed = event()
    assert (failed["ok"], failed["failed"], failed["changed"]) == (
        False,
        ["js/main.js"],
        ["js/source/a.js"],
    )
    [diag] = failed["diagnostics"]
    assert (diag["path"], diag["line"], diag["column"]) == ("js/source/a.js", 1, 9)
    (site / "js/source/a.js").write_text("var a = 'again';\n")
    fixed = event()
    assert (fixed["ok"], fixed["fixed"], fixed["outputs"]) == (True, ["js/main.js"], ["js/main.js"])
    assert fixed["renamed"] == []
    (site / "js/source/b.js").rename(site / "js/source/f.js")
    moved = event()
    assert moved["renamed"] == [["js/source/b.js", "js/source/f.js"]]
    assert sorted(moved["changed"]) == ["js/source/b.js", "js/source/f.js"]
    assert isinstance(fixed["ms"], int)
    w.stop()
    assert event() == {"event": "stopped"}


def test_command_waits_out_a_broken_config_but_not_a_missing_directory(
    site: Path, watch_process: Callable[..., WatchProcess]
) -> None:
    missing = subprocess.run(
        [sys.executable, "-m", "assetbuild.cli", "-C", "nowhere", "watch"],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "cannot change to directory nowhere" in missing.stderr
    (site / "assetbuild.toml").write_text("[[bundle]]\noutput = 3\n")
    w = watch_process()
    line = w.line("started")
    assert "-> configuration: " in line and "waiting for a change" in line
    w.line("watching 1 directory")
    (site / "assetbuild.toml").write_text(CONFIG)
    w.line("installed into js/1")
    assert "assetbuild.toml" in w.stop()


def test_added_and_removed_files_are_reported_as_such(harness: Harness, site: Path) -> None:
    (site / "js/source/c.js").write_text("var c = 3;\n")
    r = harness.next()
    assert r.ok and r.added == ("js/source/c.js",) and r.removed == ()
    assert watch_lines.watch_what(r) == "js/source/c.js added"
    (site / "js/source/c.js").unlink()
    r = harness.next()
    assert r.ok and r.removed == ("js/source/c.js",) and r.added == ()
    assert watch_lines.watch_what(r) == "js/source/c.js removed"
    (site / "js/source/a.js").write_text("var a = 2;\n")
    r = harness.next()
    assert (r.added, r.removed) == ((), ()) and watch_lines.watch_what(
        r
    ) == "js/source/a.js changed"


def test_a_config_restored_to_good_says_so(harness: Harness, site: Path) -> None:
    config = site / "assetbuild.toml"
    good = config.read_text()
    config.write_text("[[bundle]\n")
    r = harness.next()
    assert not r.ok and r.config_changed
    config.write_text(good)
    r = harness.next()
    assert r.ok and r.config_restored and r.outputs == ()
    assert watch_lines.watch_built_lines(r, "12:00:00") == [
        "12:00:00 assetbuild.toml is good again; nothing changed"
    ]
    assert watch_lines.watch_event(r, [])["config_restored"] is True


def test_command_says_added_removed_and_good_again(
    site: Path, watch_process: Callable[..., WatchProcess]
) -> None:
    w = watch_process()
    w.line("watching")
    (site / "js/source/c.js").write_text("var c = 3;\n")
    w.line("js/source/c.js added -> js/main.js installed into js/1")
    (site / "js/source/c.js").unlink()
    w.line("js/source/c.js removed -> js/main.js installed into js/1")
    config = site / "assetbuild.toml"
    good = config.read_text()
    config.write_text("[[bundle]\n")
    w.line("configuration not reloaded")
    config.write_text(good)
    assert "assetbuild.toml is good again" in w.line("good again")
    w.stop(signal.SIGINT)
