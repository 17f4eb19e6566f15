"""The content cache: keys, the plain-value codec, entry integrity, bounds, clearing, concurrency."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.build import bundle
from assetbuild.build.bundle import process_file
from assetbuild.build.results import FileJob, FileResult
from assetbuild.cache import codec, fingerprint
from assetbuild.cache import content as cache
from assetbuild.cache.codec import decode_value, encode_value
from assetbuild.cache.content import ContentCache, clear, job_key, trim
from assetbuild.diagnostics import Diagnostic, Location


def make_job(text: str = "var a = 1;\n", kind: str = "js", **changes: Any) -> FileJob:
    job = FileJob(
        kind=kind,
        path=f"/site/{kind}/source/a.{kind}",
        display=f"{kind}/source/a.{kind}",
        original=text,
        text=text,
        edits=(),
        minify=kind == "js",
        first=True,
        output_dir=f"/site/{kind}/1",
        root="/site",
    )
    return dataclasses.replace(job, **changes)


# --- codec -------------------------------------------------------------------------------------------

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.binary(max_size=20),
    st.builds(Path, st.text(min_size=1, max_size=10)),
)
locations = st.builds(Location, st.text(max_size=10), st.integers(0, 99), st.integers(0, 99))
diagnostics = st.builds(
    Diagnostic,
    st.sampled_from(["error", "warning"]),
    st.text(max_size=20),
    st.one_of(st.none(), locations),
    st.one_of(st.none(), st.text(max_size=20)),
)
values = st.recursive(
    st.one_of(leaves, locations, diagnostics),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
        st.frozensets(st.one_of(st.integers(), st.text(max_size=5)), max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(values)
def test_codec_round_trips_exactly(value: Any) -> None:
    encoded = json.loads(json.dumps(encode_value(value)))
    decoded = decode_value(encoded)
    assert decoded == value
    assert type(decoded) is type(value)


long_texts = st.text(min_size=codec.BLOB_MIN_CHARS, max_size=codec.BLOB_MIN_CHARS + 50)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.one_of(leaves, long_texts),
        lambda inner: st.lists(inner, max_size=4).map(tuple),
        max_leaves=10,
    )
)
def test_codec_round_trips_with_long_strings_as_blobs(value: Any) -> None:
    table: dict[str, int] = {}
    encoded = json.dumps(encode_value(value, table))
    strings = list(table)
    assert len(strings) == len(set(strings))  # each distinct long string once
    assert all(len(s) >= codec.BLOB_MIN_CHARS and json.dumps(s) not in encoded for s in strings)
    assert decode_value(json.loads(encoded), strings) == value


def test_an_entry_holds_each_text_once(tmp_path: Path) -> None:
    # A CSS result holds its text as the result, the checked text, the report's and its source's.
    text = "body { color: red; }\n" + "".join(
        f".rule{i} {{ margin: {i}px; }}\n" for i in range(200)
    )
    job = make_job(text, "css", minify=False)
    result = process_file(job)
    assert result.ok and result.text == text
    c = ContentCache(tmp_path / "c")
    c.put_result(job_key(job), result)
    (entry,) = [p for p in c.entries.rglob("*") if p.is_file()]
    assert entry.read_bytes().count(text.encode()) == 1
    assert entry.stat().st_size < 1.2 * len(text.encode())
    assert ContentCache(tmp_path / "c").get_result(job_key(job)) == result


@pytest.mark.parametrize(
    "data",
    [
        {"x": 0},  # a string index with no strings
        {"x": True},
        {"c": "os:system", "f": {}},
        {"c": "subprocess:Popen", "f": {"args": {"t": ["true"]}}},
        {"c": "assetbuild.cache.content:ContentCache", "f": {}},  # ours, but not a dataclass
        {"c": "assetbuild.diagnostics:Location.__init__", "f": {}},
        {"x": [1]},
        {"t": "not a list"},
        [1, 2],
    ],
)
def test_codec_refuses_what_it_did_not_write(data: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        decode_value(data)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}.__iter__()])
def test_codec_declines_values_it_cannot_restore(value: Any) -> None:
    with pytest.raises(codec.Unencodable):
        encode_value(value)


# --- keys --------------------------------------------------------------------------------------------

FIELD_CHANGES = {
    "kind": "css",
    "path": "/site/js/source/b.js",
    "display": "js/source/b.js",
    "original": "var a = 2;\n",
    "text": "var a = 2;\n",
    "edits": ((0, 1, 0, 2),),
    "minify": False,
    "first": False,
    "output_dir": "/site/js/2",
    "root": "/elsewhere",
    "sourcemap": True,
    "input_map": '{"version": 3}',
    "strict": True,
}


def test_every_job_field_is_in_the_key() -> None:
    assert set(FIELD_CHANGES) == {f.name for f in dataclasses.fields(FileJob)}


@pytest.mark.parametrize("field", sorted(FIELD_CHANGES))
def test_key_changes_with_each_job_field(field: str) -> None:
    job = make_job()
    assert job_key(job) == job_key(make_job())
    assert job_key(dataclasses.replace(job, **{field: FIELD_CHANGES[field]})) != job_key(job)


@pytest.mark.parametrize(
    "patch",
    [
        lambda mp: mp.setattr(fingerprint, "RESULT_FORMAT", bundle.RESULT_FORMAT + 1),
        lambda mp: mp.setattr(fingerprint, "__version__", "999.0"),
        lambda mp: mp.setattr(
            fingerprint,
            "PACKAGES",
            (*fingerprint.PACKAGES, ("no-such-dist-xyz", "no_such_mod")),
        ),
    ],
    ids=["result-format", "tool-version", "checker-versions"],
)
def test_key_changes_with_versions(patch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    before = job_key(make_job())
    fingerprint.environment_key.cache_clear()
    try:
        patch(monkeypatch)
        assert job_key(make_job()) != before
    finally:
        monkeypatch.undo()
        fingerprint.environment_key.cache_clear()
    assert job_key(make_job()) == before


# --- entries -----------------------------------------------------------------------------------------


def test_raw_entry_round_trip(tmp_path: Path) -> None:
    c = ContentCache(tmp_path / "c")
    c.put_raw("ns", "ab" * 32, {"x": [1, "two"]}, [b"\x00\x01", b"", b"blob"])
    assert ContentCache(tmp_path / "c").get_raw("ns", "ab" * 32) == (
        {"x": [1, "two"]},
        (b"\x00\x01", b"", b"blob"),
    )
    assert (
        (tmp_path / "c" / "CACHEDIR.TAG")
        .read_bytes()
        .startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    )
    assert (tmp_path / "c" / ".gitignore").read_text().strip().endswith("*")


def entry_file(c: ContentCache, ns: str, key: str) -> Path:
    return c.entries / ns / key[:2] / key


@pytest.mark.parametrize(
    "damage",
    [
        "truncate-half",
        "truncate-header",
        "empty",
        "flip-payload",
        "flip-digest",
        "append",
        "garbage",
    ],
)
def test_damaged_entries_are_ignored_then_replaced(tmp_path: Path, damage: str) -> None:
    c = ContentCache(tmp_path / "c")
    key = "cd" * 32
    c.put_raw("ns", key, ["meta"], [b"x" * 100])
    path = entry_file(c, "ns", key)
    data = path.read_bytes()
    broken = {
        "truncate-half": data[: len(data) // 2],
        "truncate-header": data[:10],
        "empty": b"",
        "flip-payload": data[:-1] + bytes([data[-1] ^ 1]),
        "flip-digest": data[:12] + bytes([data[12] ^ 1]) + data[13:],
        "append": data + b"more",
        "garbage": os.urandom(len(data)),
    }[damage]
    path.write_bytes(broken)
    assert c.get_raw("ns", key) is None
    c.put_raw("ns", key, ["meta"], [b"x" * 100])
    assert c.get_raw("ns", key) == (["meta"], (b"x" * 100,))


def test_an_entry_copied_under_another_key_is_not_trusted(tmp_path: Path) -> None:
    c = ContentCache(tmp_path / "c")
    a, b = "aa" * 32, "ab" * 32
    c.put_raw("ns", a, "for a")
    target = entry_file(c, "ns", b)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(entry_file(c, "ns", a).read_bytes())
    assert c.get_raw("ns", b) is None
    assert c.get_raw("ns", a) == ("for a", ())


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("js", "var a = 1;\nfunction f(x) { return x * 2; }\n"),
        ("js", "'use strict';\nlet a = 1;\n"),
        ("js", "var a = ;\n"),  # a syntax error: its diagnostics are cached too
        ("css", "body { color: red; }\n@media (min-width: 1px) { a { b: c } }\n"),
        ("css", "a { color: red;\n"),
    ],
)
def test_real_results_round_trip_through_disk(tmp_path: Path, kind: str, text: str) -> None:
    job = make_job(text, kind)
    result = process_file(job)
    key = job_key(job)
    ContentCache(tmp_path / "c").put_result(key, result)
    again = ContentCache(tmp_path / "c").get_result(key)  # a new instance: no memory layer
    assert again == result
    assert isinstance(again, FileResult)
    assert type(again.facts) is type(result.facts)


def test_memory_layer_serves_without_disk(tmp_path: Path) -> None:
    c = ContentCache(tmp_path / "c")
    job = make_job()
    result = process_file(job)
    c.put_result(job_key(job), result)
    for path in c.entries.rglob("*"):
        if path.is_file():
            path.unlink()
    assert c.get_result(job_key(job)) is result
    assert ContentCache(tmp_path / "c").get_result(job_key(job)) is None


@pytest.mark.parametrize("methods", [("gzip",), ("br",), ("gzip", "br")])
def test_precompress_is_cached_and_identical(tmp_path: Path, methods: tuple[str, ...]) -> None:
    from assetbuild.install import compress

    data = b"function f() { return 42; }\n" * 200

    def cached(data: bytes) -> tuple[tuple[str, bytes], ...]:
        return compress.cached_precompress_many(ContentCache(tmp_path / "c"), [data], methods)[0]

    first = cached(data)
    assert first == compress.precompress(data, methods)
    files = sorted(p for p in (tmp_path / "c").rglob("*") if p.is_file() and "compress" in p.parts)
    assert len(files) == 1
    assert cached(data) == first
    assert cached(data + b" ") != first


def test_unwritable_directory_is_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    c = ContentCache(blocker / "cache")
    job = make_job()
    c.put_result(job_key(job), process_file(job))
    assert not c.writable
    (diag,) = c.diagnostics()
    assert diag.severity == "warning"
    assert "cannot write the cache directory" in diag.message
    c.put_raw("ns", "ee" * 32, "x")  # no second warning, no exception
    assert len(c.diagnostics()) == 1


# --- bounds and clearing -------------------------------------------------------------------------------


def test_trim_drops_least_recently_used_first(tmp_path: Path) -> None:
    c = ContentCache(tmp_path / "c")
    keys = [f"{i:02x}" * 32 for i in range(10)]
    now = time.time()
    for age, key in enumerate(keys):
        c.put_raw("ns", key, "v", [b"x" * 1000])
        path = entry_file(c, "ns", key)
        os.utime(path, (now - 1000 + age, now - 1000 + age))  # keys[0] is the oldest
    size = entry_file(c, "ns", keys[0]).stat().st_size
    removed = trim(tmp_path / "c", max_bytes=size * 5)
    assert sorted(removed) == sorted(entry_file(c, "ns", k) for k in keys[:6])
    assert all(c.get_raw("ns", k) is not None for k in keys[6:])
    assert trim(tmp_path / "c", max_bytes=size * 5) == ()


def test_trim_removes_stale_temp_files_only(tmp_path: Path) -> None:
    c = ContentCache(tmp_path / "c")
    c.put_raw("ns", "aa" * 32, "v")
    folder = entry_file(c, "ns", "aa" * 32).parent
    stale, fresh = folder / ".tmp-1-stale", folder / ".tmp-2-fresh"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"being written")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    assert trim(tmp_path / "c", max_bytes=10**9) == (stale,)
    assert fresh.exists()


def test_size_bound_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(cache.ENV_MAX_SIZE, "1.5")
    assert ContentCache(tmp_path).max_bytes == int(1.5 * 1024 * 1024)
    monkeypatch.setenv(cache.ENV_MAX_SIZE, "nonsense")
    assert ContentCache(tmp_path).max_bytes == cache.DEFAULT_MAX_BYTES


def test_clear_removes_only_its_own_entries(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    c = ContentCache(directory)
    c.put_raw("ns", "aa" * 32, "v")
    (directory / "state").mkdir()
    (directory / "state" / f"{'ab' * 12}.state").write_text("a state")
    (directory / "state" / "quick.bin").write_text("a quick record")
    (directory / "state" / "notes.txt").write_text("mine")
    (directory / "v0" / "cd").mkdir(parents=True)  # an older layout
    (directory / "v0" / "cd" / ("cd" * 32)).write_text("an old entry")
    (directory / "user-notes.txt").write_text("mine")
    removed = clear(directory)
    assert sorted(p.name for p in removed) == sorted(
        [".gitignore", "state", "v0", cache.ENTRIES_DIR]
    )
    # Our tag stays while anything else is left: the directory is still recognisably a cache.
    assert sorted(p.name for p in directory.iterdir()) == [
        "CACHEDIR.TAG",
        "state",
        "user-notes.txt",
    ]
    assert [p.name for p in (directory / "state").iterdir()] == ["notes.txt"]
    (directory / "user-notes.txt").unlink()
    (directory / "state" / "notes.txt").unlink()
    assert [p.name for p in clear(directory)] == ["state"]
    assert not directory.exists()
    assert clear(directory) == ()


def test_clear_of_an_empty_cache_removes_the_directory(tmp_path: Path) -> None:
    ContentCache(tmp_path / "c").put_raw("ns", "aa" * 32, "v")
    clear(tmp_path / "c")
    assert not (tmp_path / "c").exists()
    assert clear(tmp_path / "c") == ()


# --- several processes at once --------------------------------------------------------------------------


def _hammer(directory: str, worker: int, rounds: int, out: Any) -> None:
    c = ContentCache(Path(directory))
    bad = 0
    for i in range(rounds):
        key = f"{i % 5:02x}" * 32
        c.put_raw("ns", key, {"i": i % 5}, [bytes([i % 5]) * 5000])
        got = ContentCache(Path(directory)).get_raw("ns", key)
        if got is not None and got != ({"i": i % 5}, (bytes([i % 5]) * 5000,)):
            bad += 1
    out.put(bad)


def test_concurrent_writers_never_produce_a_bad_read(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path / "c"), w, 60, out)) for w in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == [0, 0, 0]
    leftovers = [p for p in (tmp_path / "c").rglob(".tmp-*")]
    assert leftovers == []


# --- through the pipeline and the CLI ----------------------------------------------------------------


def test_second_build_comes_from_the_cache(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from assetbuild.build import executor
    from assetbuild.build.pipeline import build
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    site = make_site(
        {
            "js/source/a.js": "var a = 1;\n",
            "js/source/b.js": "function b() { return a; }\n",
            "css/source/a.css": "a { color: red; }\n",
            "css/source/b.css": "b { margin: 0; }\n",
        }
    )
    monkeypatch.chdir(site)
    config = load_config(site)
    cold = build(config, BuildOptions())
    calls: list[str] = []
    real = executor.process_files
    monkeypatch.setattr(
        executor, "process_files", lambda jobs: calls.extend(j.display for j in jobs) or real(jobs)
    )
    # each build is a run of its own, with a fresh memory: only the disk cache is left
    warm = build(config, BuildOptions())
    assert calls == []
    assert [b.data for b in warm.bundles] == [b.data for b in cold.bundles]
    assert warm.diagnostics == cold.diagnostics
    (site / "js" / "source" / "b.js").write_text("function b() { return a + 1; }\n")
    build(config, BuildOptions())
    assert calls == ["js/source/b.js"]


def test_no_cache_writes_no_cache(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from assetbuild.build.pipeline import install
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    site = make_site({"js/source/a.js": "var a = 1;\n"})
    monkeypatch.chdir(site)
    config = load_config(site)
    install(config, BuildOptions(use_cache=False))
    assert not config.cache_dir.exists()
    install(config, BuildOptions())
    assert (config.cache_dir / cache.ENTRIES_DIR).is_dir()


def test_cli_cache_clear(make_site: Any) -> None:
    config = '[[bundle]]\noutput = "js/main.js"\nsources = ["js/source/*.js"]\n'
    site = make_site({"js/source/a.js": "var a = 1;\n"}, config)
    past = time.time() - 60  # old enough for the install state to be recorded
    for path in (site / "js" / "source" / "a.js", site / "assetbuild.toml"):
        os.utime(path, (past, past))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    cli = [sys.executable, "-m", "assetbuild.cli"]
    assert subprocess.run([*cli, "install", "-q"], cwd=site, env=env).returncode == 0
    assert (site / ".assetbuild-cache").is_dir()
    (site / ".assetbuild-cache" / "keep-me").write_text("not ours")
    proc = subprocess.run(
        [*cli, "cache", "clear"], cwd=site, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert f"removed .assetbuild-cache/{cache.ENTRIES_DIR}" in proc.stdout
    assert "removed .assetbuild-cache/state" in proc.stdout
    assert "cleared .assetbuild-cache" in proc.stdout
    # Our tag stays while a file of someone else's is there: the directory is still a cache.
    assert sorted(p.name for p in (site / ".assetbuild-cache").iterdir()) == [
        "CACHEDIR.TAG",
        "keep-me",
    ]
    again = subprocess.run(
        [*cli, "cache", "clear"], cwd=site, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0
    assert "nothing to remove" in again.stdout


def test_check_fills_the_cache_and_writes_nothing_else(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetbuild.build import executor
    from assetbuild.build.pipeline import build, install
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    site = make_site({"js/source/a.js": "var a = 1;\n", "css/source/a.css": "a { b: c; }\n"})
    monkeypatch.chdir(site)
    config = load_config(site)
    before = sorted(site.rglob("*"))
    build(config, BuildOptions(check_only=True))
    assert sorted(site.rglob("*")) == before  # nothing in the site (its cache lives elsewhere)
    made = [p for p in config.cache_dir.rglob("*") if p.is_file()]
    assert any(p.parent.parent.name == "file" for p in made)  # per-file results
    assert not any(p.name.endswith(".state") or p.name.startswith("quick") for p in made)
    calls: list[str] = []
    real = executor.process_files
    monkeypatch.setattr(
        executor, "process_files", lambda jobs: calls.extend(j.display for j in jobs) or real(jobs)
    )
    install(config, BuildOptions())
    assert calls == []  # the install after check finds every file checked


def test_trim_scans_once_then_tracks_what_it_wrote(tmp_path: Path) -> None:
    c = ContentCache(tmp_path / "c", max_bytes=10_000)
    c.put_raw("ns", "aa" * 32, "v", [b"x" * 4000])
    assert c.trim() == ()
    # Written behind this instance's back: not seen until its own writes pass the bound.
    ContentCache(tmp_path / "c").put_raw("ns", "ab" * 32, "v", [b"y" * 4000])
    c.put_raw("ns", "ac" * 32, "v", [b"z" * 4000])
    assert c.trim() == ()
    c.put_raw("ns", "ad" * 32, "v", [b"w" * 4000])  # the estimate passes the bound: a real scan
    removed = c.trim()
    assert removed and cache.cache_size(tmp_path / "c") <= 10_000


def test_the_measured_total_is_kept_for_the_next_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ContentCache(tmp_path / "c", max_bytes=100_000)
    first.put_raw("ns", "aa" * 32, "v", [b"x" * 4000])
    assert first.trim() == ()
    measured = cache.cache_size(tmp_path / "c")
    walks: list[Path] = []
    real = cache._entry_files
    monkeypatch.setattr(cache, "_entry_files", lambda d: walks.append(d) or real(d))
    second = ContentCache(tmp_path / "c", max_bytes=100_000)  # a later build
    second.put_raw("ns", "ab" * 32, "v", [b"y" * 4000])
    assert second.trim() == ()
    assert walks == []  # it added what it wrote to the kept total instead of walking
    kept = json.loads((tmp_path / "c" / cache.SIZE_FILE).read_bytes())["bytes"]
    assert kept == cache.cache_size(tmp_path / "c") > measured


@pytest.mark.parametrize(
    "kept", [b"", b"{}", b'{"bytes": -1, "scanned": 0}', b'{"bytes": 5, "scanned": 1}', b"\xff"]
)
def test_a_bad_or_old_total_means_a_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: bytes
) -> None:
    c = ContentCache(tmp_path / "c", max_bytes=100_000)
    c.put_raw("ns", "aa" * 32, "v", [b"x" * 4000])
    (tmp_path / "c" / cache.SIZE_FILE).write_bytes(kept)
    walks: list[Path] = []
    real = cache._entry_files
    monkeypatch.setattr(cache, "_entry_files", lambda d: walks.append(d) or real(d))
    assert c.trim() == ()
    assert len(walks) == 1


def test_an_hour_old_total_is_measured_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = ContentCache(tmp_path / "c", max_bytes=100_000)
    c.put_raw("ns", "aa" * 32, "v", [b"x" * 4000])
    c.trim()
    later = time.time() + cache.RESCAN_SECONDS + 1
    monkeypatch.setattr(cache.time, "time", lambda: later)
    walks: list[Path] = []
    real = cache._entry_files
    monkeypatch.setattr(cache, "_entry_files", lambda d: walks.append(d) or real(d))
    fresh = ContentCache(tmp_path / "c", max_bytes=100_000)
    fresh.put_raw("ns", "ab" * 32, "v", [b"y" * 4000])
    fresh.trim()
    assert len(walks) == 1


def test_package_versions_agree_with_importlib_metadata() -> None:
    """The keys' versions come from one listing of sys.path; they must be what importlib says."""
    from importlib import metadata

    for dist, module in fingerprint.PACKAGES:
        try:
            expected = metadata.version(dist)
        except metadata.PackageNotFoundError:
            assert fingerprint.package_version(dist, module).startswith("unknown:")
            continue
        assert fingerprint.package_version(dist, module) == expected


def test_package_version_reads_dist_info_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First one of a name on sys.path wins, names normalised as the dist-info spec writes them."""
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "Some_Dist-2.0.dist-info").mkdir(parents=True)
    (second / "some_dist-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr("sys.path", [str(first), str(second), str(tmp_path / "missing")])
    fingerprint._dist_info_versions.cache_clear()
    try:
        assert fingerprint.package_version("some-dist", "some_dist") == "2.0"
        assert fingerprint.package_version("other.dist", "nothing_here").startswith("unknown:")
    finally:
        monkeypatch.undo()
        fingerprint._dist_info_versions.cache_clear()


def test_a_run_of_writes_opens_each_directory_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within `writing()` the entry directories stay open: the cold build's hundreds of entries
    no longer open the cache, v2 and the namespace again for each one."""
    c = ContentCache(tmp_path / "c")
    jobs = [make_job(f"var a{i} = {i};\n") for i in range(40)]
    results = [process_file(job) for job in jobs]
    opened: list[str] = []
    real_open = os.open

    def counting(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting)
    with c.writing():
        for job, result in zip(jobs, results, strict=True):
            c.put_result(job_key(job), result)
    monkeypatch.undo()
    temps = [p for p in opened if p.startswith(cache.TEMP_PREFIX)]
    assert len(temps) == 40  # one temporary file an entry ...
    # ... and each directory once (twice where it had to be made first), not once an entry
    assert 0 < opened.count(cache.ENTRIES_DIR) <= 2 and 0 < opened.count("file") <= 2
    assert max(opened.count(job_key(job)[:2]) for job in jobs) <= 2
    fresh = ContentCache(tmp_path / "c")
    for job, result in zip(jobs, results, strict=True):
        assert fresh.get_result(job_key(job)) == result


def test_writes_survive_a_cleared_cache_and_refuse_planted_links(tmp_path: Path) -> None:
    c = ContentCache(tmp_path / "c")
    first, second, third = (make_job(f"var b{i} = {i};\n") for i in range(3))
    with c.writing():
        c.put_result(job_key(first), process_file(first))
        assert clear(tmp_path / "c")  # `cache clear` while watch builds: the open ones are gone
        c.put_result(job_key(second), process_file(second))
        assert c.writable and ContentCache(tmp_path / "c").get_result(job_key(second)) is not None
        # A link planted where the next entry's directory goes: never written through.
        outside = tmp_path / "outside"
        outside.mkdir()
        key = job_key(third)
        prefix = tmp_path / "c" / cache.ENTRIES_DIR / "file" / key[:2]
        if prefix.exists():  # made by one of the two entries before: a link replaces it
            shutil.rmtree(prefix)
        prefix.symlink_to(outside)
        c.put_result(key, process_file(third))
        assert list(outside.iterdir()) == []
        assert not c.writable and any("cannot write" in w for w in c.warnings)
