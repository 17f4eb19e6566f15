"""Watch rebuild shortcuts: which bundles a batch re-stamps, and which sources a build reads again."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assetbuild import sources
from assetbuild.build import pipeline
from assetbuild.build.results import BuildOptions, BuildResult
from assetbuild.build.session import Memory, Session
from assetbuild.config import Config, load_config
from assetbuild.watched import has_links, may_concern
from tests.helpers.watch import Harness, installed

CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/source/*.js"]

[[bundle]]
output = "lib/all.js"
sources = ["lib/**/*.js"]
"""

OLD_NS = 1_600_000_000 * 10**9  # long before any test runs: stamps this old are trusted


def _age(*paths: Path) -> None:
    for path in paths:
        os.utime(path, ns=(OLD_NS, OLD_NS))


@pytest.fixture
def two(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    path: Path = make_site(
        {"js/source/a.js": "var a = 1;\n", "lib/x/b.js": "var b = 2;\n"},
        CONFIG,
    )
    monkeypatch.chdir(path)
    return path


@pytest.mark.parametrize(
    ("event", "main", "lib"),
    [
        ("js/source/a.js", True, False),
        ("js/source", True, False),
        ("js", True, False),  # a parent renamed or created
        ("", True, True),  # the root itself
        ("js/sourcex/a.js", False, False),  # a sibling with a common prefix
        ("lib/x/y/deep.js", False, True),  # recursive glob
        ("lib", False, True),
        ("css/a.css", False, False),
        ("assetbuild.toml", False, False),
    ],
)
def testmay_concern(two: Path, event: str, main: bool, lib: bool) -> None:
    config = load_config(two, None)
    specs = {s.output: s for s in config.bundles}
    path = str(config.root / event) if event else str(config.root)
    assert may_concern(config, specs["js/main.js"], [path]) is main
    assert may_concern(config, specs["lib/all.js"], [path]) is lib


def test_relative_event_paths_are_resolved(two: Path) -> None:
    config = load_config(two, None)
    spec = next(s for s in config.bundles if s.output == "js/main.js")
    rel = os.path.relpath(config.root / "js/source/a.js")
    assert may_concern(config, spec, [rel])


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        ((("a", 1, 2, 3, 4, 5, False),), False),
        ((("a", 1, 2, 3, 4, 5, False), ("b", 1, 2, 3, 4, 5, True)), True),
        ((("a", None),), False),
        (("error", "message"), True),
    ],
)
def testhas_links(stamps: tuple[Any, ...], expected: bool) -> None:
    assert has_links(stamps) is expected


def test_edit_through_a_symlink_in_another_bundle_rebuilds_both(two: Path) -> None:
    (two / "js/source/link.js").symlink_to(two / "lib/x/b.js")
    h = Harness(two)
    first = h.start()
    try:
        assert first.ok, first.error
        (two / "lib/x/b.js").write_text("var b = 77;\n")
        got = {h.next().outputs[0]}
        deadline = time.monotonic() + 5
        while "77" not in installed(two) and time.monotonic() < deadline:
            got.update(r.outputs[0] for r in h.quiet(0.2))
        assert "77" in installed(two)
        assert "77" in installed(two, "lib/all.js")
    finally:
        h.stop()


def test_an_edit_elsewhere_does_not_restamp_a_bundle(
    two: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetbuild import watched

    h = Harness(two)
    first = h.start()
    stamped: list[str] = []
    real = watched.bundle_stamps

    def counting(config: Any, spec: Any) -> Any:
        stamped.append(spec.output)
        return real(config, spec)

    def counting_edits(config: Any, spec: Any, old: Any, names: Any) -> Any:
        stamped.append(spec.output)
        return real_edits(config, spec, old, names)

    real_edits = watched.restamped
    monkeypatch.setattr(watched, "bundle_stamps", counting)
    monkeypatch.setattr(watched, "restamped", counting_edits)
    try:
        assert first.ok, first.error
        (two / "lib/x/b.js").write_text("var b = 3;\n")
        r = h.next()
        assert r.outputs == ("lib/all.js",)
        assert "js/main.js" not in stamped
        assert "lib/all.js" in stamped
    finally:
        h.stop()


def test_an_edit_in_place_does_not_walk_the_globs(
    two: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The globs match names, which an edit in place leaves alone: no walk; a new file walks."""
    from assetbuild import watched

    (two / "js/source/c.js").write_text("var c = 1;\n")
    h = Harness(two)
    first = h.start()
    walked: list[str] = []
    real = watched.bundle_stamps

    def counting(config: Any, spec: Any) -> Any:
        walked.append(spec.output)
        return real(config, spec)

    monkeypatch.setattr(watched, "bundle_stamps", counting)
    try:
        assert first.ok, first.error
        (two / "js/source/c.js").write_text("var c = 'edited';\n")
        r = h.next()
        assert r.outputs == ("js/main.js",) and r.changed == ("js/source/c.js",)
        assert walked == []
        assert "edited" in installed(two)
        (two / "js/source/d.js").write_text("var d = 'new';\n")
        r = h.next()
        assert r.added == ("js/source/d.js",)
        assert walked == ["js/main.js"]
        assert "new" in installed(two)
    finally:
        h.stop()


def test_restamped_takes_the_walk_when_names_may_have_changed(two: Path) -> None:
    from assetbuild import watched

    config = load_config(two)
    spec = {s.output: s for s in config.bundles}["js/main.js"]
    a, other = two / "js/source/a.js", two / "lib/x/b.js"
    old = watched.bundle_stamps(config, spec)
    assert watched.restamped(config, spec, old, [str(a)]) == old  # nothing changed yet
    a.write_text("var a = 'longer now';\n")
    fresh = watched.restamped(config, spec, old, [str(a), str(other)])  # lib/: not its globs
    assert fresh == watched.bundle_stamps(config, spec) != old
    assert watched.restamped(config, spec, old, [str(two / "js/source/n.js")]) is None  # new name
    assert watched.restamped(config, spec, old, [str(two / "js/source")]) is None  # its directory
    a.unlink()
    assert watched.restamped(config, spec, old, [str(a)]) is None  # gone
    a.symlink_to(other)
    assert watched.restamped(config, spec, old, [str(a)]) is None  # a link now
    linked = ((str(a), 1, 2, 3, 4, 5, True),)
    assert watched.restamped(config, spec, linked, [str(a)]) is None  # reached through a link


def test_restamped_sees_an_edit_whose_event_was_lost(two: Path) -> None:
    """An event names one source; another source of the bundle changed too (its event lost, e.g.
    an inotify queue overflow): the new stamps show both edits."""
    from assetbuild import watched

    (two / "js/source/c.js").write_text("var c = 3;\n")
    config = load_config(two)
    spec = {s.output: s for s in config.bundles}["js/main.js"]
    old = watched.bundle_stamps(config, spec)
    first, second = two / "js/source/a.js", two / "js/source/c.js"
    assert {str(first), str(second)} <= {s[0] for s in old}
    second.write_text(second.read_text() + "var lost = 1;\n")
    fresh = watched.restamped(config, spec, old, [str(first)])
    assert fresh is not None
    assert fresh == watched.bundle_stamps(config, spec) != old


def test_a_rebuild_lists_no_other_bundle_sources(
    two: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Watch stamps what changed; the install takes those lists (the manifest's check of the
    sources included) instead of walking every bundle's globs again."""
    from assetbuild.build import session as session_mod

    h = Harness(two)
    first = h.start()
    walked: list[str] = []
    real = session_mod.collect

    def counting(root: Any, spec: Any, **kwargs: Any) -> Any:
        walked.append(spec.output)
        return real(root, spec, **kwargs)

    monkeypatch.setattr(session_mod, "collect", counting)
    try:
        assert first.ok, first.error
        (two / "lib/x/b.js").write_text("var b = 4;\n")
        r = h.next()
        assert r.outputs == ("lib/all.js",) and r.error is None
        assert walked == []  # lib/all.js stamped by watch itself, js/main.js not touched at all
        assert "b=4" in installed(two, "lib/all.js")
    finally:
        h.stop()


@pytest.fixture
def counted_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    reads: list[str] = []
    real = sources.read_source

    def counting(path: Path, display: str) -> Any:
        reads.append(path.name)
        return real(path, display)

    monkeypatch.setattr(sources, "read_source", counting)
    global _memory
    _memory = Memory(long_lived=True)  # as watch mode keeps one
    yield reads


_memory = Memory(long_lived=True)


def build(config: Config, options: BuildOptions) -> BuildResult:
    """A build in the long-lived process the fixture set up."""
    return pipeline.build(Session(config, options, _memory))


def test_one_shot_builds_read_every_source(two: Path, counted_reads: list[str]) -> None:
    _age(two / "js/source/a.js", two / "lib/x/b.js")
    config = load_config(two, None)
    # Without the cache (whose source index finds unchanged files' results by stamp, see
    # test_index.py): what a memory alone lets a one-shot run skip.
    options = BuildOptions(use_cache=False)
    pipeline.build(config, options)  # each one-shot run has a memory of its own
    pipeline.build(config, options)
    one = Memory()  # and one shared by runs that are not long-lived trusts no stamp
    pipeline.build(Session(config, options, one))
    pipeline.build(Session(config, options, one))
    assert sorted(counted_reads) == ["a.js"] * 4 + ["b.js"] * 4


@pytest.mark.parametrize("aged", [True, False])
def test_old_unchanged_sources_are_not_read_again(
    two: Path, counted_reads: list[str], aged: bool
) -> None:
    files = [two / "js/source" / f"f{i}.js" for i in range(4)]
    for i, path in enumerate(files):
        path.write_text(f"var f{i} = {i};\n")
    if aged:
        _age(*files, two / "js/source/a.js", two / "lib/x/b.js")
    config = load_config(two, None)
    first = build(config, BuildOptions())
    counted_reads.clear()
    files[1].write_text("var f1 = 100;\n")  # same size class, new stamp (and racy: just written)
    second = build(config, BuildOptions())
    assert second.ok
    if aged:
        assert counted_reads == ["f1.js"]
    else:
        assert len(counted_reads) == 6  # too recent to trust a stamp: every file read
    main = {b.output: b.data for b in second.bundles}["js/main.js"]
    assert b"100" in main
    assert {b.output: b.data for b in first.bundles}["lib/all.js"] in {
        b.data for b in second.bundles
    }


def test_same_size_same_mtime_rewrite_is_seen(two: Path, counted_reads: list[str]) -> None:
    path = two / "js/source/a.js"
    _age(path, two / "lib/x/b.js")
    config = load_config(two, None)
    build(config, BuildOptions())
    path.write_text("var a = 9;\n")  # same size
    _age(path)  # same mtime as before: only the ctime tells
    counted_reads.clear()
    result = build(config, BuildOptions())
    assert counted_reads == ["a.js"]
    assert b"9" in {b.output: b.data for b in result.bundles}["js/main.js"]


def test_settings_change_prepares_again(two: Path, counted_reads: list[str]) -> None:
    _age(two / "js/source/a.js", two / "lib/x/b.js")
    config = load_config(two, None)
    minified = build(config, BuildOptions())
    counted_reads.clear()
    plain = build(config, BuildOptions(minify=False))
    assert sorted(counted_reads) == ["a.js", "b.js"]
    assert b"var a = 1;" in plain.bundles[0].data
    assert b"var a = 1;" not in minified.bundles[0].data
    assert _memory.prepared.unchanged("nowhere", None, ()) is None


def test_installed_entries_are_hashed_once_while_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetbuild.install import entries as install

    calls: list[bytes] = []
    real = install.bundle_entry

    def counting(rel: str, version: int, data: bytes, *args: Any) -> Any:
        calls.append(data)
        return real(rel, version, data, *args)

    monkeypatch.setattr(install, "bundle_entry", counting)
    path = tmp_path / "main.js"
    path.write_bytes(b"var a=1;")
    _age(path)
    disk = install.DiskEntries()
    first = disk.entry("js/1/main.js", path, 1, "/static")
    again = disk.entry("js/1/main.js", path, 1, "/static")
    assert first == again
    assert len(calls) == 1
    path.write_bytes(b"var a=2;")  # same size
    _age(path)  # same mtime: only the ctime differs
    changed = disk.entry("js/1/main.js", path, 1, "/static")
    assert len(calls) == 2
    assert changed is not None and first is not None
    assert changed["integrity"] != first["integrity"]
    (tmp_path / "main.js.gz").write_bytes(b"x")
    assert disk.entry("js/1/main.js", path, 1, "/static") != changed  # a new variant
    assert len(calls) == 3


def test_an_edited_url_asset_rebuilds_its_stylesheet(make_site: Any) -> None:
    site = make_site(
        {
            "css/main.css": '@font-face{font-family:k;src:url("../vendor/k.woff2")}\n',
            "vendor/k.woff2": "font-1",
        },
        '[[bundle]]\noutput = "out/main.css"\nsources = ["css/main.css"]\n',
    )
    h = Harness(site)
    first = h.start()
    try:
        assert first.ok, first.error
        (copy,) = (site / "out/1/assets").iterdir()
        assert copy.read_text() == "font-1"
        (site / "vendor/k.woff2").write_text("font-2")  # vendor/ holds no source
        rebuilt = h.next()
        assert rebuilt.ok and rebuilt.outputs == ("out/main.css",), rebuilt
        assert any(p.endswith("k.woff2") for p in rebuilt.changed)
        assert copy.read_text() == "font-2"  # watch writes into the current version
    finally:
        h.stop()
