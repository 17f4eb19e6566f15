"""The source index (cache/index.py): unchanged sources' results found by stamp, never a wrong one."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild import sources, stamps
from assetbuild.build.pipeline import build, install
from assetbuild.build.results import BuildOptions
from assetbuild.cache import content, index
from assetbuild.cachehome import Key, load_key
from assetbuild.config import Overrides, load_config
from tests.test_cli import run

CONFIG = """\
static_url = "/static"

[[bundle]]
output = "js/main.js"
sources = ["js/source/*.js"]

[[bundle]]
output = "css/main.css"
sources = ["css/source/*.css"]
"""

FILES = {
    "js/source/a.js": "var a = 1;\n",
    "js/source/b.js": "function b() { return a; }\n",
    "js/source/c.js": "var c = b();\n",
    "css/source/a.css": "body { color: red; }\n",
}

OLD = 60.0  # seconds: stamps this old are trusted (stamps.RACY_NS is 2 s)
SHORT_RACY_NS = 50_000_000  # in-process tests: a ctime (which no test can set) settles this fast


@pytest.fixture(autouse=True)
def _short_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stamps, "RACY_NS", SHORT_RACY_NS)


def age(site: Path, *names: str, seconds: float = OLD) -> None:
    """Make sources (default all) old enough for their stamps to be trusted: the mtime set in the
    past, then the ctime (now) left to settle for the racy window."""
    past = time.time() - seconds
    paths = (
        [site / n for n in names] if names else [*site.rglob("source/*"), site / "assetbuild.toml"]
    )
    for path in paths:
        os.utime(path, (past, past))
    time.sleep(stamps.RACY_NS / 1e9 + 0.01)


class Site:
    """A site built in-process, counting which sources were read."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.read: list[str] = []
        real = sources.read_source

        def counting(path: Path, display: str) -> Any:
            self.read.append(Path(path).relative_to(root).as_posix())
            return real(path, display)

        monkeypatch.setattr(sources, "read_source", counting)
        monkeypatch.chdir(root)

    def build(self) -> dict[str, bytes]:
        self.read.clear()
        config = load_config(self.root, None, Overrides(), {})
        result = build(config, BuildOptions())
        assert result.ok, result.diagnostics
        return {b.output: b.data for b in result.bundles}

    def fresh(self) -> dict[str, bytes]:
        """What a build without any cache (so without the index) makes of the site now."""
        config = load_config(self.root, None, Overrides(), {})
        read = list(self.read)
        made = {b.output: b.data for b in build(config, BuildOptions(use_cache=False)).bundles}
        self.read[:] = read  # what this build read does not count
        return made

    def index_file(self) -> Path:
        found = list((self.root / ".assetbuild-cache" / "state").glob("*" + index.SUFFIX))
        assert len(found) == 1
        return found[0]


@pytest.fixture
def site(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> Site:
    root = make_site(FILES, CONFIG)
    age(root)
    s = Site(root, monkeypatch)
    s.build()
    assert sorted(s.read) == sorted(FILES)  # the first build reads everything
    return s


# --- the pipeline -----------------------------------------------------------------------------------


def test_unchanged_sources_are_not_read_again(site: Site) -> None:
    assert site.build() == site.fresh()
    assert site.read == []


def test_an_edit_reads_only_the_edited_file(site: Site) -> None:
    (site.root / "js/source/b.js").write_text("function b() { return a + 1; }\n")
    assert site.build() == site.fresh()
    assert site.read == ["js/source/b.js"]  # young: read; the others by their stamps
    assert b"a+1" in site.build()["js/main.js"]
    assert site.read == ["js/source/b.js"]  # still young: never indexed, always read


def test_a_young_file_is_never_recorded(site: Site) -> None:
    recorded = len(json.loads(_body(site.index_file()))["entries"])
    (site.root / "js/source/c.js").write_text("var c = 2;\n")  # young: its stamp proves nothing
    site.build()
    assert site.read == ["js/source/c.js"]
    assert len(json.loads(_body(site.index_file()))["entries"]) == recorded  # nothing added


def test_touched_but_same_file_is_read_and_ships_the_same(site: Site) -> None:
    path = site.root / "js/source/a.js"
    path.write_bytes(path.read_bytes())  # a new mtime and ctime, the same bytes
    age(site.root, "js/source/a.js")
    before = site.fresh()
    assert site.build() == before
    assert site.read == ["js/source/a.js"]  # another stamp: not found, read
    assert site.build() == before
    assert site.read == []  # recorded under its new stamp


def test_same_size_and_restored_mtime_is_still_seen(site: Site) -> None:
    """An edit that keeps the size and puts the mtime back still changes the ctime: read again."""
    path = site.root / "js/source/c.js"
    st = path.stat()
    text = path.read_text()
    path.write_text(text.replace("b()", "d()"))  # same length
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    (site.root / "js/source/d.js").write_text("function d() { return 4; }\n")
    age(site.root, "js/source/d.js")
    built = site.build()
    assert "js/source/c.js" in site.read
    assert b"d()" in built["js/main.js"]
    assert built == site.fresh()


def test_a_renamed_over_file_is_read(site: Site) -> None:
    """A file replaced by a rename (a new inode), even with the old size and mtime, is read."""
    path = site.root / "js/source/a.js"
    st = path.stat()
    other = site.root / "a.js.new"
    other.write_text("var a = 7;\n")  # same size as "var a = 1;\n"
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    other.replace(path)
    built = site.build()
    assert "js/source/a.js" in site.read
    assert b"a=7" in built["js/main.js"]


def test_a_forged_index_changes_nothing(site: Site) -> None:
    """An index signed with another key, claiming b.js holds a.js's result, is not read."""
    path = site.index_file()
    real = load_key(create=False)[0]
    assert real is not None
    forger = Key(b"not the user's key" * 2)
    entries = json.loads(_body(path))["entries"]
    a_entry = next(iter(entries.values()))
    forged = index.SourceIndex(path.parents[1], path.name, forger)
    for lookup in entries:
        forged._added[lookup] = a_entry  # every source "is" one file's result
    assert forged.save()
    assert site.build() == site.fresh()
    assert sorted(site.read) == sorted(FILES)  # nothing trusted: every source read


@pytest.mark.parametrize("damage", ["flip", "truncate", "other name", "fifo", "symlink"])
def test_a_damaged_or_misplaced_index_is_a_miss(site: Site, damage: str, tmp_path: Path) -> None:
    path = site.index_file()
    raw = path.read_bytes()
    if damage == "flip":
        path.write_bytes(raw[:-3] + bytes([raw[-3] ^ 1]) + raw[-2:])
    elif damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "other name":  # this site's entries, signed for another index's name
        key = load_key(create=False)[0]
        elsewhere = index.SourceIndex(path.parent.parent, index.index_name("elsewhere"), key)
        elsewhere._added.update(json.loads(_body(path))["entries"])
        assert elsewhere.save()
        path.write_bytes(elsewhere.path.read_bytes())
    elif damage == "fifo":
        path.unlink()
        os.mkfifo(path)
    else:
        target = tmp_path / "elsewhere.index"
        target.write_bytes(raw)
        path.unlink()
        path.symlink_to(target)
    assert site.build() == site.fresh()
    assert sorted(site.read) == sorted(FILES)


def test_another_environment_finds_nothing(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgrade (another environment key) never takes an entry recorded before it."""
    from assetbuild.cache import fingerprint

    monkeypatch.setattr(fingerprint, "environment_key", lambda: "another version")
    monkeypatch.setattr(index, "environment_key", lambda: "another version")
    site.build()
    assert sorted(site.read) == sorted(FILES)


def test_token_diagnostics_are_never_skipped(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose reading warns (a token without a value) is read every time: its warning stays."""
    config = CONFIG.replace(
        'sources = ["js/source/*.js"]', 'sources = ["js/source/*.js"]\ntokens = true'
    )
    root = make_site({**FILES, "js/source/t.js": "var t = '{$missing}';\n"}, config)
    age(root)
    s = Site(root, monkeypatch)
    for _ in range(2):
        c = load_config(root, None, Overrides(), {})
        result = build(c, BuildOptions(check_only=True))
        assert any("missing" in d.message for d in result.diagnostics)
    assert s.read.count("js/source/t.js") == 2


def test_the_install_state_and_index_agree(site: Site) -> None:
    """An install after an edit installs what a fresh build makes, from the index."""
    config = load_config(site.root, None, Overrides(), {})
    install(config, BuildOptions())
    (site.root / "js/source/c.js").write_text("var c = b() + 1;\n")
    site.read.clear()
    outcome = install(load_config(site.root, None, Overrides(), {}), BuildOptions())
    assert site.read == ["js/source/c.js"]
    placed = outcome.report.placed["js/main.js"]
    assert (site.root / placed).read_bytes() == site.fresh()["js/main.js"]


# --- the index itself -------------------------------------------------------------------------------


def _body(path: Path) -> bytes:
    return path.read_bytes()[len(b"ABINDEX1") + 8 + 32 :]


def _stamp(mtime_ns: int) -> stamps.Stamp:
    return (10, mtime_ns, mtime_ns, 7, 3)


OLD_NS = time.time_ns() - 3600 * 10**9


def test_round_trip_and_bindings(tmp_path: Path) -> None:
    key = Key(b"k" * 32)
    idx = index.SourceIndex(tmp_path, index.index_name("site"), key)
    idx.add("/s/a.js", _stamp(OLD_NS), "settings", "a" * 64, 10)
    assert idx.save()
    loaded = index.SourceIndex(tmp_path, index.index_name("site"), key)
    assert loaded.get("/s/a.js", _stamp(OLD_NS), "settings") == ("a" * 64, 10)
    assert loaded.get("/s/b.js", _stamp(OLD_NS), "settings") is None  # another path
    assert loaded.get("/s/a.js", _stamp(OLD_NS + 1), "settings") is None  # another mtime
    assert loaded.get("/s/a.js", (11, *_stamp(OLD_NS)[1:]), "settings") is None  # size
    assert loaded.get("/s/a.js", (*_stamp(OLD_NS)[:3], 8, 3), "settings") is None  # inode
    assert loaded.get("/s/a.js", (*_stamp(OLD_NS)[:4], 4), "settings") is None  # device
    assert loaded.get("/s/a.js", _stamp(OLD_NS), "other") is None  # other settings
    assert (
        index.SourceIndex(tmp_path, index.index_name("site"), Key(b"j" * 32)).get(
            "/s/a.js", _stamp(OLD_NS), "settings"
        )
        is None
    )  # another user's key


def test_racy_stamps_are_neither_recorded_nor_trusted(tmp_path: Path) -> None:
    key = Key(b"k" * 32)
    now = time.time_ns()
    idx = index.SourceIndex(tmp_path, "x" * 24 + ".index", key)
    idx.add("/s/a.js", _stamp(now), "s", "a" * 64, 10)
    assert not idx.save()  # nothing to save: a young stamp is not recorded
    idx._added[index.lookup_key("/s/a.js", _stamp(now), "s")] = ["a" * 64, 10]
    assert idx.save()  # even when present (written by an older version, say) ...
    loaded = index.SourceIndex(tmp_path, "x" * 24 + ".index", key)
    assert loaded.get("/s/a.js", _stamp(now), "s") is None  # ... a young stamp finds nothing


def test_an_old_mtime_with_a_young_ctime_is_not_recorded(tmp_path: Path) -> None:
    """A copy that keeps the mtime (`rsync -t`, `tar x`) has a young ctime: not proof yet."""
    key = Key(b"k" * 32)
    now = time.time_ns()
    copied = (10, OLD_NS, now, 7, 3)
    assert not stamps.racy(copied) and stamps.settling(copied)
    idx = index.SourceIndex(tmp_path, "x" * 24 + ".index", key)
    idx.add("/s/a.js", copied, "s", "a" * 64, 10)
    assert not idx.save()
    idx._added[index.lookup_key("/s/a.js", copied, "s")] = ["a" * 64, 10]
    assert idx.save()
    loaded = index.SourceIndex(tmp_path, "x" * 24 + ".index", key)
    assert loaded.get("/s/a.js", copied, "s") is None


def test_the_index_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "MAX_ENTRIES", 3)
    key = Key(b"k" * 32)
    name = index.index_name("bounded")
    for n in range(5):
        idx = index.SourceIndex(tmp_path, name, key)
        idx.add(f"/s/{n}.js", _stamp(OLD_NS), "s", f"{n}" * 64, n)
        idx.save()
    loaded = index.SourceIndex(tmp_path, name, key)
    assert [loaded.get(f"/s/{n}.js", _stamp(OLD_NS), "s") for n in range(5)] == [
        None,
        None,
        ("2" * 64, 2),
        ("3" * 64, 3),
        ("4" * 64, 4),
    ]


def test_cache_clear_removes_the_index(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert content.claim(cache)
    idx = index.SourceIndex(cache, index.index_name("site"), Key(b"k" * 32))
    idx.add("/s/a.js", _stamp(OLD_NS), "s", "a" * 64, 1)
    assert idx.save() and idx.path.exists()
    content.clear(cache)
    assert not idx.path.exists()


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_changed_byte_is_refused(
    tmp_path_factory: pytest.TempPathFactory, position: int, bit: int
) -> None:
    directory = tmp_path_factory.mktemp("idx")
    key = Key(b"k" * 32)
    name = index.index_name("flip")
    idx = index.SourceIndex(directory, name, key)
    idx.add("/s/a.js", _stamp(OLD_NS), "s", "a" * 64, 10)
    assert idx.save()
    raw = bytearray(idx.path.read_bytes())
    raw[position % len(raw)] ^= 1 << bit
    idx.path.write_bytes(bytes(raw))
    assert index.SourceIndex(directory, name, key).get("/s/a.js", _stamp(OLD_NS), "s") is None


@settings(max_examples=200, deadline=None)
@given(
    a=st.tuples(st.text(max_size=8), st.tuples(*[st.integers(0, 2**64)] * 5), st.text(max_size=8)),
    b=st.tuples(st.text(max_size=8), st.tuples(*[st.integers(0, 2**64)] * 5), st.text(max_size=8)),
)
def test_lookups_differ_when_anything_differs(a: Any, b: Any) -> None:
    assert (index.lookup_key(*a) == index.lookup_key(*b)) == (a == b)


# --- the real command -------------------------------------------------------------------------------


def test_cli_edit_installs_the_edit_and_clear_removes_the_index(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site(FILES, CONFIG)
    monkeypatch.setattr(stamps, "RACY_NS", 2_000_000_000)  # the command's own window: real ctimes
    age(root)
    assert run("install", "--quiet", cwd=root).returncode == 0
    state = root / ".assetbuild-cache" / "state"
    assert len(list(state.glob("*.index"))) == 1
    (root / "js/source/b.js").write_text("function b() { return a * 6; }\n")
    done = run("install", "--quiet", cwd=root)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((root / "manifest.json").read_text())
    installed = (root / manifest["bundles"]["js/main.js"]["path"]).read_text()
    assert "a*6" in installed and "var c=b()" in installed
    assert run("cache", "clear", cwd=root).returncode == 0
    assert not list(state.glob("*.index")) if state.exists() else True
