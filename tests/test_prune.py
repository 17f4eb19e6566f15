"""prune: which versions go, which stay and why; rename-then-delete; the lock; durations."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from assetbuild.build.results import ManifestSettings, Output
from assetbuild.errors import ConfigError, InstallError, LockTimeout
from assetbuild.fsutil import TEMP_PREFIX
from assetbuild.install import prune as prune_mod
from assetbuild.install.local import install
from assetbuild.install.prune import parse_duration, prune

NOW = 1_700_000_000.0
DAY = 86400.0


def make_versions(root: Path, area: str, ages: dict[int, float]) -> None:
    """Version directories with one file each, whose newest mtime is `age` seconds before NOW."""
    area_dir = root / area if area else root
    for version, age in ages.items():
        d = area_dir / str(version)
        (d / "sub").mkdir(parents=True)
        (d / "main.js").write_text(f"v{version}")
        (d / "sub/img.svg").write_text("<svg/>")
        for p in (d / "sub/img.svg", d / "sub", d / "main.js", d):
            os.utime(p, (NOW - age, NOW - age))


def versions(root: Path, area: str) -> list[int]:
    area_dir = root / area if area else root
    return sorted(int(p.name) for p in area_dir.iterdir() if p.name.isdigit())


def run(root: Path, areas: list[str], **kw: object) -> prune_mod.PruneReport:
    args: dict[str, object] = {
        "keep": 2,
        "min_age": 0.0,
        "dry_run": False,
        "manifest_path": None,
        "now": NOW,
    }
    args.update(kw)
    return prune(root, areas, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("90s", 90),
        ("30m", 1800),
        ("12h", 43200),
        ("7d", 604800),
        ("2w", 1209600),
        ("1.5h", 5400),
        (" 10 m ", 600),
        ("45", 45),
        ("3D", 259200),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-1h", "1y", "1 hour", "1h30m", "1e3s", "one", "1..2s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid duration") as info:
        parse_duration(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("keep", "left"), [(0, [5]), (1, [5]), (2, [4, 5]), (3, [3, 4, 5]), (9, [1, 2, 3, 4, 5])]
)
def test_keep_newest(tmp_path: Path, keep: int, left: list[int]) -> None:
    make_versions(tmp_path, "js", {n: 10 * DAY for n in range(1, 6)})
    report = run(tmp_path, ["js"], keep=keep)
    assert versions(tmp_path, "js") == left
    assert sorted(d.version for d in report.removed) == sorted(set(range(1, 6)) - set(left))
    assert {d.version: d.reason for d in report.kept}[5] == "current"
    assert not any(p.name.startswith(TEMP_PREFIX) for p in (tmp_path / "js").iterdir())


def test_min_age_keeps_young_versions(tmp_path: Path) -> None:
    make_versions(tmp_path, "js", {1: 10 * DAY, 2: 2 * DAY, 3: 3600, 4: 60})
    report = run(tmp_path, ["js"], keep=1, min_age=parse_duration("1d"))
    assert versions(tmp_path, "js") == [3, 4]
    assert {d.version: d.reason for d in report.kept} == {4: "current", 3: "younger than 1d"}


def test_a_recent_file_makes_an_old_version_young(tmp_path: Path) -> None:
    make_versions(tmp_path, "js", {1: 10 * DAY, 2: 10 * DAY, 3: 10 * DAY})
    deep = tmp_path / "js/1/sub/img.svg"
    os.utime(deep, (NOW - 5, NOW - 5))
    run(tmp_path, ["js"], keep=1, min_age=3600)
    assert versions(tmp_path, "js") == [1, 3]


def test_manifest_references_are_kept(tmp_path: Path) -> None:
    root = tmp_path / "static"
    ms = ManifestSettings(root / "manifest.json", "json", "/s")
    install(root, [Output("js/a.js", b"1"), Output("css/c.css", b"x")], manifest=ms)
    for n in range(2, 6):
        install(
            root, [Output("js/a.js", str(n).encode())]
        )  # no manifest update: it still names js/1
    report = run(root, ["js", "css"], keep=1, manifest_path=ms.path)
    assert versions(root, "js") == [1, 5]
    assert versions(root, "css") == [1]
    assert {(d.area, d.version): d.reason for d in report.kept} == {
        ("js", 5): "current",
        ("js", 1): "in the manifest",
        ("css", 1): "current",
    }


@pytest.mark.parametrize("fmt", ["json", "php"])
def test_manifest_in_either_format(tmp_path: Path, fmt: str) -> None:
    root = tmp_path / "static"
    ms = ManifestSettings(root / f"manifest.{fmt}", fmt, None)
    install(root, [Output("it's/a.js", b"1"), Output("b.js", b"1")], manifest=ms)
    install(root, [Output("it's/a.js", b"2"), Output("b.js", b"2")])
    install(root, [Output("it's/a.js", b"3"), Output("b.js", b"3")])
    run(root, ["it's", ""], keep=1, manifest_path=ms.path)
    assert versions(root, "it's") == [1, 3]
    assert versions(root, "") == [1, 3]


def test_root_area_prefix_is_exact(tmp_path: Path) -> None:
    # "1/..." in the manifest protects version 1 of the root area, not 10 or 11.
    make_versions(tmp_path, "", {1: DAY, 10: DAY, 11: DAY, 12: DAY})
    manifest = tmp_path / "m.json"
    manifest.write_text(
        '{"version": 1, "bundles": {"main.js": {"path": "1/main.js", "url": "1/main.js", "integrity": "x"}}}'
    )
    run(tmp_path, [""], keep=1, manifest_path=manifest)
    assert versions(tmp_path, "") == [1, 12]


def test_corrupt_manifest_refuses_to_prune(tmp_path: Path) -> None:
    make_versions(tmp_path, "js", {1: DAY, 2: DAY, 3: DAY})
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{broken")
    with pytest.raises(InstallError, match="refusing to prune") as info:
        run(tmp_path, ["js"], keep=1, manifest_path=manifest)
    assert str(manifest) in str(info.value)
    assert "`assetbuild install`" in str(info.value)  # install writes the manifest, build does not
    assert versions(tmp_path, "js") == [1, 2, 3]


def test_missing_manifest_references_nothing(tmp_path: Path) -> None:
    make_versions(tmp_path, "js", {1: DAY, 2: DAY})
    run(tmp_path, ["js"], keep=1, manifest_path=tmp_path / "none.json")
    assert versions(tmp_path, "js") == [2]


def test_dry_run_deletes_nothing_and_reports_the_same(tmp_path: Path) -> None:
    for base in ("dry", "real"):
        make_versions(tmp_path / base, "js", {1: 5 * DAY, 2: 4 * DAY, 3: 60, 4: 0})
    dry = run(tmp_path / "dry", ["js"], keep=1, min_age=3600, dry_run=True)
    real = run(tmp_path / "real", ["js"], keep=1, min_age=3600)
    assert [(d.version, d.reason) for d in dry.removed] == [
        (d.version, d.reason) for d in real.removed
    ]
    assert [(d.version, d.reason) for d in dry.kept] == [(d.version, d.reason) for d in real.kept]
    assert versions(tmp_path / "dry", "js") == [1, 2, 3, 4]
    assert versions(tmp_path / "real", "js") == [3, 4]
    assert not (tmp_path / "dry/.assetbuild.lock").exists()
    assert "would remove js/1" in dry.describe()
    assert "removed js/2" in real.describe() and "kept js/3 (younger than 1h)" in real.describe()


def test_nothing_to_prune(tmp_path: Path) -> None:
    assert run(tmp_path / "absent", ["js"]).removed == ()
    make_versions(tmp_path, "js", {1: DAY})
    report = run(tmp_path, ["js", "css"], keep=1)
    assert report.removed == () and "nothing to remove" in report.describe()


def test_renamed_out_before_deletion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_versions(tmp_path, "js", {1: DAY, 2: DAY})

    def crash(path: Path) -> None:
        raise OSError(5, "Input/output error", str(path))

    monkeypatch.setattr(prune_mod, "remove_entry", crash)
    with pytest.raises(InstallError, match="Input/output error"):
        run(tmp_path, ["js"], keep=1)
    monkeypatch.undo()
    # Version 1 is no longer served under its number; its remains are hidden ...
    assert versions(tmp_path, "js") == [2]
    hidden = [p for p in (tmp_path / "js").iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert len(hidden) == 1 and (hidden[0] / "main.js").read_text() == "v1"
    # ... and the next prune (or install) cleans them up.
    run(tmp_path, ["js"], keep=1)
    assert [p.name for p in (tmp_path / "js").iterdir()] == ["2"]


def test_prune_waits_for_the_install_lock(tmp_path: Path) -> None:
    make_versions(tmp_path, "js", {1: DAY, 2: DAY})
    fd = os.open(tmp_path / ".assetbuild.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(LockTimeout):
            run(tmp_path, ["js"], keep=1, lock_timeout=0.1)
    finally:
        os.close(fd)
    assert versions(tmp_path, "js") == [1, 2]


@pytest.mark.parametrize(("keep", "min_age"), [(-1, 0.0), (1, -5.0)])
def test_bad_arguments(tmp_path: Path, keep: int, min_age: float) -> None:
    with pytest.raises(ConfigError):
        run(tmp_path, ["js"], keep=keep, min_age=min_age)
