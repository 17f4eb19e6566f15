"""install(): policies, immutability, atomicity, locking, errors, crash recovery."""

from __future__ import annotations

import errno
import fcntl
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetbuild.build.results import AreaResult, InstalledFile, ManifestSettings, Output
from assetbuild.errors import ConfigError, InstallError, LockTimeout
from assetbuild.fsutil import TEMP_PREFIX
from assetbuild.install import faults, stage
from assetbuild.install.compress import compress_gzip, decompress, precompress
from assetbuild.install.export import write_plain
from assetbuild.install.local import install
from assetbuild.install.lock import install_lock
from assetbuild.manifest import integrity

LOCK = ".assetbuild.lock"


def out(name: str, text: str | bytes, methods: Sequence[str] = ("gzip",)) -> Output:
    data = text.encode() if isinstance(text, str) else text
    return Output(name, data, precompress(data, methods))


def js(n: int) -> str:
    """Compressible JS that differs per n."""
    return f"var value{n} = {n};\n" * 40


def snapshot(root: Path) -> dict[str, tuple[bytes | str, int]]:
    """Every entry under root (but the lock file) with its bytes (or link target) and mtime."""
    result: dict[str, tuple[bytes | str, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == LOCK:
            continue
        st = path.lstat()
        if path.is_symlink():
            result[rel] = (os.readlink(path), st.st_mtime_ns)
        elif path.is_file():
            result[rel] = (path.read_bytes(), st.st_mtime_ns)
        else:
            result[rel] = (b"<dir>", 0)
    return result


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def settings_for(root: Path, fmt: str = "json", static_url: str | None = None) -> ManifestSettings:
    return ManifestSettings(root / ("manifest." + fmt), fmt, static_url)


def assert_consistent(root: Path, manifest_path: Path) -> dict[str, object]:
    """Every manifest entry names a file in place whose bytes match its integrity; variants agree."""
    data = json.loads(manifest_path.read_text())
    assert data["version"] == 1
    for name, entry in data["bundles"].items():
        body = (root / entry["path"]).read_bytes()
        assert integrity(body) == entry["integrity"], name
        assert len(body) == entry["size"]
        area = os.path.dirname(name)
        assert entry["path"] == "/".join(
            filter(None, [area, str(entry["version"]), os.path.basename(name)])
        )
        for key, variant in entry["variants"].items():
            assert variant["path"] == entry["path"] + "." + key
            raw = (root / variant["path"]).read_bytes()
            assert len(raw) == variant["size"]
            assert decompress("." + key, raw) == body
    bundles: dict[str, object] = data["bundles"]
    return bundles


# --------------------------------------------------------------------------------------------------------
# Policies.


@pytest.mark.parametrize("area", ["js", "", "static/js"])
def test_first_install_creates_version_1(tmp_path: Path, area: str) -> None:
    root = tmp_path / "static"
    name = f"{area}/main.js" if area else "main.js"
    report = install(root, [out(name, js(1))], manifest=settings_for(root))
    prefix = f"{area}/" if area else ""
    assert report.areas == (
        AreaResult(
            area, "created", 1, None, (InstalledFile(name, f"{prefix}1/main.js", "written"),)
        ),
    )
    assert (root / f"{prefix}1/main.js").read_text() == js(1)
    assert gzip.decompress((root / f"{prefix}1/main.js.gz").read_bytes()) == js(1).encode()
    assert report.manifest_changed and report.manifest_path == root / "manifest.json"
    assert not report.dry_run
    assert_consistent(root, root / "manifest.json")


def test_unchanged_is_up_to_date_and_touches_nothing(tmp_path: Path) -> None:
    root = tmp_path / "static"
    outputs = [out("js/main.js", js(1)), out("css/site.css", "a{color:red}" * 30)]
    install(root, outputs, manifest=settings_for(root))
    before = snapshot(root)
    inode = (root / "manifest.json").stat().st_ino
    report = install(root, outputs, manifest=settings_for(root))
    assert [a.action for a in report.areas] == ["up-to-date", "up-to-date"]
    assert {f.action for a in report.areas for f in a.files} == {"unchanged"}
    assert not report.manifest_changed
    assert snapshot(root) == before
    assert (root / "manifest.json").stat().st_ino == inode


def test_new_file_is_added_into_current_version(tmp_path: Path) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))])
    install(root, [out("js/main.js", js(2))])  # version 2
    report = install(root, [out("js/main.js", js(2)), out("js/extra.js", js(3))])
    (area,) = report.areas
    assert (area.action, area.version, area.previous) == ("added", 2, 2)
    assert [f.action for f in area.files] == ["unchanged", "written"]
    assert (root / "js/2/extra.js").read_text() == js(3)
    assert not (root / "js/3").exists()
    assert not (root / "js/1/extra.js").exists()


def test_changed_file_bumps_with_hard_links_to_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1)), out("js/other.js", js(5))])
    v1 = root / "js/1"
    (v1 / "hand.txt").write_text("placed by hand")
    (v1 / "img").mkdir()
    (v1 / "img/logo.svg").write_text("<svg/>")
    (v1 / "link").symlink_to("img/logo.svg")
    before_v1 = snapshot(v1)
    report = install(root, [out("js/main.js", js(2)), out("js/other.js", js(5))])
    (area,) = report.areas
    assert (area.action, area.version, area.previous) == ("bumped", 2, 1)
    assert {f.name: f.action for f in area.files} == {
        "js/main.js": "written",
        "js/other.js": "unchanged",
    }
    # The unchanged bundle keeps its URL: the version where its bytes were first installed.
    assert report.placed == {"js/main.js": "js/2/main.js", "js/other.js": "js/1/other.js"}
    v2 = root / "js/2"
    assert (v2 / "main.js").read_text() == js(2)
    assert (v2 / "other.js").read_text() == js(5)
    assert (v2 / "hand.txt").read_text() == "placed by hand"
    assert (v2 / "img/logo.svg").read_text() == "<svg/>"
    assert os.readlink(v2 / "link") == "img/logo.svg"
    # Hard links, not copies: a new version costs only its changed files on disk. Nothing
    # assetbuild does writes into an installed file, so the versions stay immutable.
    assert (v2 / "hand.txt").stat().st_ino == (v1 / "hand.txt").stat().st_ino
    assert (v2 / "other.js").stat().st_ino == (v1 / "other.js").stat().st_ino
    assert (v2 / "main.js").stat().st_ino != (v1 / "main.js").stat().st_ino
    assert snapshot(v1) == before_v1


def test_gz_of_changed_bundle_follows_it(tmp_path: Path) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))])
    assert (root / "js/1/main.js.gz").exists()
    # Random bytes do not compress: no .gz may survive from the copy of version 1.
    noise = os.urandom(2000)
    report = install(root, [out("js/main.js", noise)])
    assert report.areas[0].action == "bumped"
    assert (root / "js/2/main.js").read_bytes() == noise
    assert not (root / "js/2/main.js.gz").exists()
    assert (root / "js/1/main.js.gz").exists()


def test_new_variant_method_is_added_not_bumped(tmp_path: Path) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1), ["gzip"])])
    report = install(root, [out("js/main.js", js(1), ["gzip", "br"])], manifest=settings_for(root))
    assert report.areas[0].action == "added"
    assert decompress(".br", (root / "js/1/main.js.br").read_bytes()) == js(1).encode()
    bundles = assert_consistent(root, root / "manifest.json")
    assert set(bundles["js/main.js"]["variants"]) == {"gz", "br"}  # type: ignore[index]


def test_variant_from_another_zlib_counts_as_the_same(tmp_path: Path) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))])
    other = gzip.compress(
        js(1).encode(), 1, mtime=12345
    )  # another compressor's bytes, same content
    (root / "js/1/main.js.gz").write_bytes(other)
    report = install(root, [out("js/main.js", js(1))], manifest=settings_for(root))
    assert report.areas[0].action == "up-to-date"
    assert (root / "js/1/main.js.gz").read_bytes() == other
    assert_consistent(root, root / "manifest.json")


@pytest.mark.parametrize("stale", [b"not gzip at all", compress_gzip(b"other content")])
def test_disagreeing_variant_forces_a_new_version(tmp_path: Path, stale: bytes) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))])
    (root / "js/1/main.js.gz").write_bytes(stale)
    report = install(root, [out("js/main.js", js(1))], manifest=settings_for(root))
    assert report.areas[0].action == "bumped"
    assert report.areas[0].files[0].action == "written"
    assert (root / "js/1/main.js.gz").read_bytes() == stale  # a published URL is never rewritten
    assert_consistent(root, root / "manifest.json")


def test_hand_placed_variant_blocks_in_place_add(tmp_path: Path) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))])
    (root / "js/1/new.js.gz").write_bytes(b"something else")
    report = install(root, [out("js/main.js", js(1)), out("js/new.js", js(2))])
    assert report.areas[0].action == "bumped"
    assert decompress(".gz", (root / "js/2/new.js.gz").read_bytes()) == js(2).encode()


def test_into_current_overwrites_in_place(tmp_path: Path) -> None:
    root = tmp_path / "static"
    report = install(root, [out("js/main.js", js(1))], policy="into-current")
    assert report.areas[0].action == "created"
    (root / "js/1/keep.txt").write_text("kept")
    report = install(root, [out("js/main.js", os.urandom(500))], policy="into-current")
    (area,) = report.areas
    assert (area.action, area.version, area.previous) == ("overwritten", 1, 1)
    assert area.files[0].action == "written"
    assert not (root / "js/1/main.js.gz").exists()  # stale variant removed, not left disagreeing
    assert (root / "js/1/keep.txt").read_text() == "kept"
    assert not (root / "js/2").exists()
    report = install(root, [out("js/main.js", js(3))], policy="into-current")
    assert decompress(".gz", (root / "js/1/main.js.gz").read_bytes()) == js(3).encode()
    assert install(root, [out("js/main.js", js(3))], policy="into-current").areas[0].action == (
        "up-to-date"
    )


def test_bump_always_makes_a_new_version(tmp_path: Path) -> None:
    root = tmp_path / "static"
    outputs = [out("js/main.js", js(1))]
    assert install(root, outputs, policy="bump").areas[0].action == "created"
    for expected in (2, 3):
        (area,) = install(root, outputs, policy="bump").areas
        assert (area.action, area.version, area.previous) == ("bumped", expected, expected - 1)
        assert area.files[0].action == "linked"
    assert (root / "js/3/main.js").read_text() == js(1)


def test_versions_compare_numerically(tmp_path: Path) -> None:
    root = tmp_path / "static"
    for n in (1, 2, 9, 10):
        d = root / f"js/{n}"
        d.mkdir(parents=True)
        (d / "main.js").write_text(js(n))
    (root / "js/latest").mkdir()
    report = install(root, [out("js/main.js", js(10))])
    assert report.areas[0].action == "added"  # the .gz is new, in version 10
    assert install(root, [out("js/main.js", js(11))]).areas[0].version == 11


def test_manifest_keeps_other_bundles_and_repoints_them(tmp_path: Path) -> None:
    root = tmp_path / "static"
    ms = settings_for(root, static_url="https://cdn.example.com/s/")
    install(
        root,
        [out("js/a.js", js(1)), out("js/b.js", js(2)), out("css/c.css", "b{x:y}")],
        manifest=ms,
    )
    install(root, [out("js/a.js", js(3))], manifest=ms)  # only a, changed: js/2
    bundles = assert_consistent(root, ms.path)
    # b did not change: it keeps the URL where its bytes were first installed (and js/2 links it).
    assert bundles["js/b.js"]["path"] == "js/1/b.js"  # type: ignore[index]
    assert bundles["js/b.js"]["url"] == "https://cdn.example.com/s/js/1/b.js"  # type: ignore[index]
    assert (root / "js/2/b.js").stat().st_ino == (root / "js/1/b.js").stat().st_ino
    assert bundles["css/c.css"]["path"] == "css/1/c.css"  # type: ignore[index]
    assert set(bundles) == {"js/a.js", "js/b.js", "css/c.css"}


def test_manifest_drops_entries_whose_files_are_gone(tmp_path: Path) -> None:
    root = tmp_path / "static"
    ms = settings_for(root)
    install(root, [out("js/a.js", js(1)), out("old/x.js", js(2))], manifest=ms)
    import shutil

    shutil.rmtree(root / "old")
    install(root, [out("js/a.js", js(3))], manifest=ms)
    assert set(assert_consistent(root, ms.path)) == {"js/a.js"}


def test_php_manifest_is_written(tmp_path: Path) -> None:
    root = tmp_path / "static"
    report = install(root, [out("js/a.js", js(1))], manifest=settings_for(root, "php", "/s"))
    text = (root / "manifest.php").read_text()
    assert report.manifest_changed
    assert text.startswith("<?php") and "'url' => '/s/js/1/a.js'" in text
    assert not install(
        root, [out("js/a.js", js(1))], manifest=settings_for(root, "php", "/s")
    ).manifest_changed


# --------------------------------------------------------------------------------------------------------
# Dry run.

SCENARIOS = {
    "first": ([], [("js/main.js", 1)]),
    "same": ([[("js/main.js", 1)]], [("js/main.js", 1)]),
    "add": ([[("js/main.js", 1)]], [("js/main.js", 1), ("js/new.js", 2)]),
    "change": ([[("js/main.js", 1), ("css/a.css", 4)]], [("js/main.js", 2), ("css/a.css", 4)]),
    "root-area": ([[("main.js", 1)]], [("main.js", 2)]),
}


@pytest.mark.parametrize("policy", ["auto", "into-current", "bump"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_dry_run_reports_the_same_and_writes_nothing(
    tmp_path: Path, scenario: str, policy: str
) -> None:
    history, final = SCENARIOS[scenario]
    roots = [tmp_path / "dry", tmp_path / "real"]
    for root in roots:
        for step in history:
            install(root, [out(n, js(v)) for n, v in step], manifest=settings_for(root))
        (root / LOCK).unlink(missing_ok=True)
    outputs = [out(n, js(v)) for n, v in final]
    dry_root, real_root = roots
    before = snapshot(dry_root) if dry_root.exists() else None
    dry = install(dry_root, outputs, policy=policy, dry_run=True, manifest=settings_for(dry_root))  # type: ignore[arg-type]
    real = install(real_root, outputs, policy=policy, manifest=settings_for(real_root))  # type: ignore[arg-type]
    assert dry.dry_run and not real.dry_run
    assert dry.areas == real.areas
    assert dry.manifest_changed == real.manifest_changed
    if before is None:
        assert not dry_root.exists()
    else:
        assert snapshot(dry_root) == before
        assert not (dry_root / LOCK).exists()


# --------------------------------------------------------------------------------------------------------
# Immutability under auto, across random edits.

names = st.sampled_from(["js/a.js", "js/b.js", "css/c.css", "root.js"])
edits = st.lists(
    st.dictionaries(
        names, st.sampled_from([js(1), js(2), "", "x", "y" * 300, "\x00\xff"]), min_size=1
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=edits)
def test_auto_never_changes_a_published_url(steps: list[dict[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "static"
        ms = settings_for(root)
        published: dict[str, bytes] = {}
        for step in steps:
            outputs = [out(n, t) for n, t in sorted(step.items())]
            report = install(root, outputs, manifest=ms)
            for rel, (body, _) in snapshot(root).items():
                if rel.endswith("manifest.json") or not isinstance(body, bytes) or body == b"<dir>":
                    continue
                assert published.setdefault(rel, body) == body, f"{rel} changed its bytes"
            bundles = assert_consistent(root, ms.path)
            for area in report.areas:
                # After auto, every bundle of an area is in that area's current version with its
                # current bytes, and the manifest names the version where those bytes were first
                # installed (the current one for a changed bundle).
                for f in area.files:
                    parts = [area.area, str(area.version), os.path.basename(f.name)]
                    current = root / "/".join(p for p in parts if p)
                    data = {o.name: o.data for o in outputs}[f.name]
                    assert current.read_bytes() == data
                    entry = bundles[f.name]
                    assert f.path == entry["path"]  # type: ignore[index]
                    assert (root / f.path).read_bytes() == data
                    assert entry["version"] <= area.version  # type: ignore[index,operator]
                    if f.action == "written":
                        assert entry["version"] == area.version  # type: ignore[index]


# --------------------------------------------------------------------------------------------------------
# Leftovers and validation.


def test_leftovers_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))], manifest=settings_for(root))
    junk = [
        root / f"{TEMP_PREFIX}file-1-aa",
        root / "js" / f"{TEMP_PREFIX}2-1-bb",
        root / "js/1" / f"{TEMP_PREFIX}file-1-cc",
        root / "js" / f"{TEMP_PREFIX}prune-3-1-dd",
    ]
    for path in junk:
        if "file" in path.name:
            path.write_text("half")
        else:
            path.mkdir()
            (path / "main.js").write_text("half")
    report = install(root, [out("js/main.js", js(1))], manifest=settings_for(root))
    assert report.areas[0].action == "up-to-date"
    assert leftovers(root) == []


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/abs.js",
        "a//b.js",
        "../x.js",
        "js/../x.js",
        "./x.js",
        "js\\x.js",
        "js/",
        f"js/{TEMP_PREFIX}x.js",
        "js/8/main.js",
    ],
)
def test_bad_names_are_config_errors(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        install(tmp_path, [Output(name, b"x")])
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "outputs",
    [
        [Output("js/a.js", b"1"), Output("js/a.js", b"2")],
        [Output("js/a.js", b"1", ((".gz", b"z"),)), Output("js/a.js.gz", b"2")],
        [Output("js/a.js", b"1"), Output("js/a.js.br", b"2")],
        [Output("js/a.js", b"1", (("gz", b"z"),))],
    ],
)
def test_colliding_outputs_are_config_errors(tmp_path: Path, outputs: list[Output]) -> None:
    with pytest.raises(ConfigError):
        install(tmp_path, outputs)


def test_unknown_policy_and_format(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="policy"):
        install(tmp_path, [out("a.js", "x")], policy="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="format"):
        install(
            tmp_path, [out("a.js", "x")], manifest=ManifestSettings(tmp_path / "m", "yaml", None)
        )


def test_write_plain(tmp_path: Path) -> None:
    paths = write_plain(tmp_path / "out", [("js/a.js", b"1"), ("b.css", b"2")])
    assert [p.read_bytes() for p in paths] == [b"1", b"2"]
    assert paths[0] == tmp_path / "out/js/a.js"
    with pytest.raises(ConfigError):
        write_plain(tmp_path / "out", [("../x", b"1")])


# --------------------------------------------------------------------------------------------------------
# Locking.


@pytest.fixture
def held_lock(tmp_path: Path) -> Iterator[Path]:
    """The install lock of tmp_path/static, held through another open file description.

    The file says "4242": assetbuild names the holder from the kernel's lock table, this process.
    """
    root = tmp_path / "static"
    root.mkdir()
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242\n")
    try:
        yield root
    finally:
        os.close(fd)


def test_lock_timeout_names_holder_and_file(held_lock: Path) -> None:
    waits: list[float] = []
    start = time.monotonic()
    with pytest.raises(LockTimeout) as info:
        install(
            held_lock, [out("js/a.js", js(1))], lock_timeout=0.3, on_wait=lambda: waits.append(1)
        )
    elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 3
    assert waits == [1]
    message = str(info.value)
    assert f"pid {os.getpid()}" in message and "4242" not in message
    assert str(held_lock / LOCK) in message and "0.3 s" in message
    assert (held_lock / LOCK).read_bytes() == b"4242\n"  # never written by assetbuild
    assert info.value.exit_code == 3
    assert not (held_lock / "js").exists()


def test_lock_is_taken_as_soon_as_it_is_free(tmp_path: Path) -> None:
    root = tmp_path / "static"
    root.mkdir()
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(root / LOCK), "0.4"], stdout=subprocess.PIPE
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        report = install(root, [out("js/a.js", js(1))], lock_timeout=20)
        assert holder.wait(10) == 0
    assert report.areas[0].action == "created"


HOLD_LOCK = textwrap.dedent(
    """
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, str(os.getpid()).encode())
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def test_dead_holder_releases_the_lock(tmp_path: Path) -> None:
    root = tmp_path / "static"
    root.mkdir()
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(root / LOCK), "60"], stdout=subprocess.PIPE
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        with pytest.raises(LockTimeout, match=f"pid {holder.pid}"):
            install(root, [out("js/a.js", js(1))], lock_timeout=0.1)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    # The lock file still says the dead pid; flock knows better.
    assert (root / LOCK).read_text() == str(holder.pid)
    report = install(root, [out("js/a.js", js(1))], lock_timeout=5)
    assert report.areas[0].action == "created"


def test_lock_serializes_threads_in_one_process(tmp_path: Path) -> None:
    # flock belongs to the open file description, so two opens in one process exclude each other too.
    with install_lock(tmp_path, 1), pytest.raises(LockTimeout):
        install(tmp_path, [out("a.js", "x")], lock_timeout=0.05)


INSTALL_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assetbuild.install.compress import precompress
    from assetbuild.install.local import ManifestSettings, Output, install
    root, tag = Path(sys.argv[1]), sys.argv[2]
    outputs = []
    for name in ("js/main.js", "js/lib.js", "css/site.css"):
        data = ("/* %s %s */" % (name, tag) + " body {}" * 200).encode()
        outputs.append(Output(name, data, precompress(data, ["gzip"])))
    report = install(root, outputs, manifest=ManifestSettings(root / "manifest.json", "json", "/s"),
                     lock_timeout=60)
    print(" ".join("%s=%s:%d" % (a.area, a.action, a.version) for a in report.areas), flush=True)
    """
)


def run_install(root: Path, tag: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("ASSETBUILD_FAULT", None)
    if fault:
        env["ASSETBUILD_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-c", INSTALL_SCRIPT, str(root), tag],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_concurrent_installs_end_with_consecutive_versions(tmp_path: Path) -> None:
    root = tmp_path / "static"
    assert run_install(root, "base").returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "ASSETBUILD_FAULT"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", INSTALL_SCRIPT, str(root), tag],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("one", "two", "three")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], results
    js_versions = sorted(int(r[0].split("js=bumped:")[1].split()[0]) for r in results)
    assert js_versions == [2, 3, 4]
    assert sorted(int(p.name) for p in (root / "js").iterdir()) == [1, 2, 3, 4]
    bundles = assert_consistent(root, root / "manifest.json")
    assert {e["version"] for e in bundles.values()} == {4}  # type: ignore[index]
    assert leftovers(root) == []


# --------------------------------------------------------------------------------------------------------
# Crashes at every stage (the test hook SIGKILLs the process there).

FAULTS = [
    "locked",
    "staging",
    "staging:4",
    "staging:7",
    "staged",
    "renamed",
    "renamed:2",
    "manifest-temp",
    "done",
]


@pytest.mark.parametrize("fault", FAULTS)
def test_killed_install_leaves_a_served_consistent_tree(tmp_path: Path, fault: str) -> None:
    root = tmp_path / "static"
    first = run_install(root, "v1")
    assert first.returncode == 0, first.stderr
    (root / "js/1/hand.txt").write_text("by hand")
    old_manifest = (root / "manifest.json").read_bytes()
    old_v1 = snapshot(root / "js/1")

    killed = run_install(root, "v2", fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # The manifest is old or new, never half, and names only files that are in place.
    assert_consistent(root, root / "manifest.json")
    if fault != "done":
        assert (root / "manifest.json").read_bytes() == old_manifest
    assert snapshot(root / "js/1") == old_v1
    # Every served version directory is complete.
    for version_dir in (root / "js").iterdir():
        if not version_dir.name.startswith(TEMP_PREFIX):
            assert {p.name for p in version_dir.iterdir()} >= {"main.js", "lib.js", "hand.txt"}

    again = run_install(root, "v2")
    assert again.returncode == 0, again.stderr
    assert leftovers(root) == []
    bundles = assert_consistent(root, root / "manifest.json")
    assert b"v2" in (root / bundles["js/main.js"]["path"]).read_bytes()  # type: ignore[index]
    versions = sorted(int(p.name) for p in (root / "js").iterdir())
    assert versions == [1, 2]


# --------------------------------------------------------------------------------------------------------
# OS errors.


def _failing(real: object, code: int, when: str) -> object:
    is_open = real is os.open

    def fake(*args: object, **kwargs: object) -> object:
        # os.open fails only when creating: reading and rmtree's cleanup still work, as with EACCES.
        creating = not is_open or (len(args) > 1 and int(args[1]) & os.O_CREAT)  # type: ignore[call-overload]
        if creating and any(when in str(a) for a in args):
            raise OSError(code, os.strerror(code), str(args[0]))
        return real(*args, **kwargs)  # type: ignore[operator]

    return fake


@pytest.mark.parametrize(
    ("target", "code", "when", "hint"),
    [
        ("rename", errno.ENOSPC, TEMP_PREFIX, "disk is full"),
        ("rename", errno.EXDEV, TEMP_PREFIX, "run again"),
        ("replace", errno.EROFS, "manifest.json", "read-only"),
        ("open", errno.EACCES, TEMP_PREFIX, "permissions"),
        ("open", errno.EIO, "main.js.gz", "I/O error"),
        ("mkdir", errno.EDQUOT, TEMP_PREFIX, "quota"),
    ],
)
def test_os_errors_become_install_errors_and_keep_the_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, code: int, when: str, hint: str
) -> None:
    root = tmp_path / "static"
    ms = settings_for(root)
    install(root, [out("js/main.js", js(1))], manifest=ms)
    before = snapshot(root)
    monkeypatch.setattr(os, target, _failing(getattr(os, target), code, when))
    with pytest.raises(InstallError) as info:
        install(root, [out("js/main.js", js(2))], manifest=ms)
    monkeypatch.undo()
    message = str(info.value)
    assert str(root) in message and os.strerror(code) in message and hint in message
    assert leftovers(root) == []
    after = snapshot(root)
    # Nothing installed before is lost or changed; the manifest is untouched.
    assert {k: v for k, v in after.items() if k in before} == before
    assert (
        json.loads((root / "manifest.json").read_text())["bundles"]["js/main.js"]["path"]
        == "js/1/main.js"
    )
    # And the next run succeeds.
    assert install(root, [out("js/main.js", js(2))], manifest=ms).areas[0].version >= 2
    assert_consistent(root, ms.path)


def test_in_place_write_error_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))], policy="into-current")
    monkeypatch.setattr(os, "replace", _failing(os.replace, errno.ENOSPC, "js/1"))
    with pytest.raises(InstallError, match="disk is full"):
        install(root, [out("js/main.js", js(2))], policy="into-current")
    monkeypatch.undo()
    assert (root / "js/1/main.js").read_text() == js(1)
    assert leftovers(root) == []


def test_copy_error_cleans_the_staging_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))])
    (root / "js/1/hand.txt").write_text("x")

    def broken(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(args[0]))

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(stage.os, "link", no_link)  # then it copies, and the copy fails
    monkeypatch.setattr(stage, "copy_file", broken)
    with pytest.raises(InstallError, match=r"hand\.txt: Permission denied"):
        install(root, [out("js/main.js", js(2))])
    assert sorted(p.name for p in (root / "js").iterdir()) == ["1"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory(tmp_path: Path) -> None:
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))])
    (root / "js").chmod(0o555)
    try:
        with pytest.raises(InstallError, match="permissions"):
            install(root, [out("js/main.js", js(2))])
    finally:
        (root / "js").chmod(0o755)
    assert (root / "js/1/main.js").read_text() == js(1)


def test_fault_point_is_inert_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSETBUILD_FAULT", raising=False)
    faults.fault_point("locked")
    monkeypatch.setenv("ASSETBUILD_FAULT", "staged:3")
    faults.fault_point("locked")  # another point: nothing happens


@pytest.mark.parametrize("syncfs", [True, False])
def test_copies_are_flushed_with_or_without_syncfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syncfs: bool
) -> None:
    flushed: list[Path] = []
    if not syncfs:
        monkeypatch.setattr(stage, "sync_filesystem", lambda path: False)
        monkeypatch.setattr(stage, "fsync_file", flushed.append)
    root = tmp_path / "static"
    install(root, [out("js/main.js", js(1))])
    (root / "js/1/sub").mkdir()
    for name in ("a.png", "sub/b.png"):
        (root / "js/1" / name).write_bytes(name.encode())
    install(root, [out("js/main.js", js(2))])
    assert (root / "js/2/sub/b.png").read_bytes() == b"sub/b.png"
    assert flushed == []  # hard links: nothing was copied, nothing to flush
    (root / "js/2/c.png").write_bytes(b"c")

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(stage.os, "link", no_link)
    report = install(root, [out("js/main.js", js(3))])
    assert (root / "js/3/c.png").read_bytes() == b"c"
    assert (root / "js/3/c.png").stat().st_ino != (root / "js/2/c.png").stat().st_ino
    assert sorted(p.name for p in flushed) == ([] if syncfs else ["a.png", "b.png", "c.png"])
    assert sorted(name for name, _ in report.areas[0].not_linked) == [
        "a.png",
        "c.png",
        "sub/b.png",
    ]
    assert all(p.parent.name.startswith(TEMP_PREFIX) or p.parent.name == "sub" for p in flushed)


def test_sync_filesystem_works_here(tmp_path: Path) -> None:
    from assetbuild.fsutil import sync_filesystem

    assert sync_filesystem(tmp_path) is (sys.platform == "linux")
