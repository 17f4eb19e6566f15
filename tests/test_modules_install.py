"""Module trees installed (issue 15): one version per tree, links, manifest, no-change proof, CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetbuild import quick
from assetbuild.build.pipeline import build, export, install
from assetbuild.build.results import BuildOptions
from assetbuild.build.session import Session
from assetbuild.cache import state
from assetbuild.config import load_config
from assetbuild.errors import InstallError
from assetbuild.manifest import integrity
from assetbuild.modules.importmap import importmap_csp
from tests.helpers.watch import Harness
from tests.test_cli import run

SiteFactory = Callable[..., Path]
ASSETBUILD = str(Path(sys.executable).parent / "assetbuild")
CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/src/*.js"]

[[modules]]
source = "js/modules"
output = "js/app"

[importmap]
"lib/" = "js/modules/lib/"
"app" = "js/modules/main.js"
"""
FILES = {
    "js/src/a.js": "var a = 1;\n",
    "js/modules/main.js": (
        'import { a } from "./lib/a.js";\nconst lazy = await import("./lazy.js");\n'
        "console.log(a, lazy);\n"
    ),
    "js/modules/lib/a.js": 'import { b } from "./b.js";\nexport const a = b + 1;\n',
    "js/modules/lib/b.js": "export const b = 1;\n",
    "js/modules/lazy.js": "export default 'lazy';\n",
}
NAMES = ["app/lazy.js", "app/lib/a.js", "app/lib/b.js", "app/main.js"]


def _install(site: Path, **kwargs: Any) -> Any:
    options = kwargs.pop("options", BuildOptions())
    return install(load_config(site, None), options, **kwargs)


def _manifest(site: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((site / "manifest.json").read_text())
    return data


def _age(site: Path, seconds: float = 60) -> None:
    """Make every file old: the no-change state trusts only stamps older than RACY_NS."""
    past = time.time() - seconds
    for path in site.rglob("*"):
        if path.is_file() and ".assetbuild-cache" not in path.parts:
            os.utime(path, (past, past), follow_symlinks=False)


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(*args, cwd=site)


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return make_site(FILES, CONFIG)


def test_the_whole_tree_is_installed_with_the_bundles_of_its_area(site: Path) -> None:
    outcome = _install(site)
    assert sorted(
        p.relative_to(site / "js/1").as_posix() for p in (site / "js/1").rglob("*.js")
    ) == [
        *NAMES,
        "main.js",
    ]
    assert (site / "js/1/app/lib/b.js").read_text() == "export const b=1;"
    (tree,) = outcome.report.trees
    assert (tree.output, tree.version, tree.files, tree.action) == ("js/app", 1, 4, "written")
    assert tree.size == sum((site / "js/1" / n).stat().st_size for n in NAMES)


def test_the_manifest_has_an_entry_per_module_and_the_import_map(site: Path) -> None:
    _install(site)
    data = _manifest(site)
    modules = data["modules"]
    assert sorted(modules) == [f"js/{n}" for n in NAMES]
    main = modules["js/app/main.js"]
    body = (site / "js/1/app/main.js").read_bytes()
    assert main["path"] == "js/1/app/main.js" and main["url"] == "/js/1/app/main.js"
    assert (main["version"], main["size"], main["integrity"]) == (1, len(body), integrity(body))
    assert main["imports"] == ["js/app/lib/a.js", "js/app/lib/b.js"]  # static closure only
    importmap = data["importmap"]
    assert importmap["imports"] == {"app": "/js/1/app/main.js", "lib/": "/js/1/app/lib/"}
    assert importmap["integrity"] == {
        f"/js/1/{n}": integrity((site / "js/1" / n).read_bytes()) for n in NAMES
    }
    assert data["importmap_csp"] == importmap_csp(importmap)
    assert "js/main.js" in data["bundles"] and "js/app/main.js" not in data["bundles"]


def test_static_url_makes_absolute_module_urls(make_site: SiteFactory) -> None:
    site = make_site(FILES, 'static_url = "https://cdn.example/s/"\n' + CONFIG)
    _install(site)
    data = _manifest(site)
    assert data["modules"]["js/app/lazy.js"]["url"] == "https://cdn.example/s/js/1/app/lazy.js"
    assert data["importmap"]["imports"]["app"] == "https://cdn.example/s/js/1/app/main.js"


def test_an_edited_module_makes_a_new_version_of_the_whole_tree(site: Path) -> None:
    _install(site)
    published = {n: (site / "js/1" / n).read_bytes() for n in NAMES}
    (site / "js/modules/lib/b.js").write_text("export const b = 2;\n")
    outcome = _install(site)
    assert outcome.report.trees[0].version == 2
    assert {n: (site / "js/1" / n).read_bytes() for n in NAMES} == published  # URLs keep bytes
    assert (site / "js/2/app/lib/b.js").read_text() == "export const b=2;"
    for name in ("app/main.js", "app/lib/a.js", "app/lazy.js"):  # unchanged: hard links
        assert (site / "js/1" / name).stat().st_ino == (site / "js/2" / name).stat().st_ino
    data = _manifest(site)
    assert {e["version"] for e in data["modules"].values()} == {2}  # one directory per tree
    assert set(data["importmap"]["integrity"]) == {f"/js/2/{n}" for n in NAMES}
    assert data["bundles"]["js/main.js"]["path"] == "js/1/main.js"  # the bundle keeps its URL


def test_an_unchanged_tree_keeps_its_version_when_a_bundle_bumps_the_area(site: Path) -> None:
    _install(site)
    (site / "js/src/a.js").write_text("var a = 2;\n")
    outcome = _install(site)
    assert outcome.report.areas[0].version == 2
    data = _manifest(site)
    assert {e["version"] for e in data["modules"].values()} == {1}
    assert outcome.report.trees[0].action == "unchanged"
    assert (site / "js/2/app/main.js").stat().st_ino == (site / "js/1/app/main.js").stat().st_ino


def test_a_new_module_moves_the_tree_into_the_current_version(site: Path) -> None:
    _install(site)
    (site / "js/src/a.js").write_text("var a = 2;\n")
    _install(site)  # js/2 holds the bundle; the tree is still named in js/1
    (site / "js/modules/extra.js").write_text("export {};\n")
    outcome = _install(site)
    assert outcome.report.areas[0].action == "added"
    data = _manifest(site)
    assert {e["version"] for e in data["modules"].values()} == {2}
    assert (site / "js/2/app/extra.js").exists() and not (site / "js/1/app/extra.js").exists()


def test_a_removed_module_is_not_carried_into_the_next_version(site: Path) -> None:
    (site / "js/modules/old.js").write_text("export {};\n")
    _install(site)
    (site / "js/modules/old.js").unlink()
    (site / "js/modules/lazy.js").write_text("export default 'new';\n")
    _install(site)
    assert (site / "js/1/app/old.js").exists()  # published: kept
    assert not (site / "js/2/app/old.js").exists()
    assert "js/app/old.js" not in _manifest(site)["modules"]


def test_bump_and_into_current(site: Path) -> None:
    _install(site)
    _install(site, policy="bump")
    assert {e["version"] for e in _manifest(site)["modules"].values()} == {2}
    (site / "js/modules/lib/b.js").write_text("export const b = 3;\n")
    _install(site, policy="into-current")
    assert (site / "js/2/app/lib/b.js").read_text() == "export const b=3;"
    assert not (site / "js/3").exists()


def test_precompressed_variants_per_module(make_site: SiteFactory) -> None:
    big = "export const words = [" + ", ".join(f'"w{i}"' for i in range(400)) + "];\n"
    site = make_site({**FILES, "js/modules/lib/b.js": big + "export const b = 1;\n"}, CONFIG)
    _install(site, compress=("gzip",))
    gz = site / "js/1/app/lib/b.js.gz"
    assert gz.exists()
    entry = _manifest(site)["modules"]["js/app/lib/b.js"]
    assert entry["variants"] == {"gz": {"path": "js/1/app/lib/b.js.gz", "size": gz.stat().st_size}}
    (site / "js/modules/lib/b.js").write_text(big + "export const b = 2;\n")
    _install(site, compress=("gzip",))
    import gzip

    assert (
        gzip.decompress((site / "js/2/app/lib/b.js.gz").read_bytes())
        == (site / "js/2/app/lib/b.js").read_bytes()
    )


def test_a_link_in_place_of_the_tree_directory_is_never_written_through(
    site: Path, tmp_path: Path
) -> None:
    _install(site)
    outside = tmp_path / "outside"
    shutil.copytree(site / "js/1/app", outside)
    shutil.rmtree(site / "js/1/app")
    (site / "js/1/app").symlink_to(outside)
    (site / "js/modules/lib/b.js").write_text("export const b = 5;\n")
    before = {p: p.read_bytes() for p in outside.rglob("*.js")}
    with pytest.raises(InstallError, match="real directories"):
        _install(site)
    assert {p: p.read_bytes() for p in outside.rglob("*.js")} == before
    assert not (site / "js/2").exists()


def test_build_out_writes_the_tree(site: Path, tmp_path: Path) -> None:
    config = load_config(site, None)
    result = build(config, BuildOptions())
    export(result, tmp_path / "out", config)
    assert (
        tmp_path / "out/js/app/lib/a.js"
    ).read_text() == 'import{b}from"./b.js";export const a=b+1;'
    done = _cli(site, "build", "--out", str(tmp_path / "cli-out"))
    assert done.returncode == 0, done.stderr
    assert sorted(
        p.relative_to(tmp_path / "cli-out/js").as_posix()
        for p in (tmp_path / "cli-out").rglob("*.js")
    ) == sorted([*NAMES, "main.js"])


def test_no_change_is_proven_by_the_state_and_the_quick_record(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    monkeypatch.chdir(site)
    _install(site)
    config = load_config(site, None)
    session = Session(config, BuildOptions())
    outcome = session.prove_up_to_date(())
    assert outcome is not None  # proven from stamps: no module read or checked
    assert outcome.report.trees[0].files == 4
    assert outcome.report.modules == _manifest(site)["modules"]
    assert str(site / "js/modules/lib/b.js") in dict(session.snapshot.sources)  # type: ignore[union-attr]
    assert str(site / "js/modules/lib") in session.snapshot.dirs  # type: ignore[union-attr]
    assert quick.answer(["install", "-q"]) == 0  # state proof, then the record
    assert quick.answer(["install", "-q"]) == 0
    capsys.readouterr()
    (site / "js/modules/lib/b.js").write_text("export const b = 9;\n")  # an edit is noticed
    assert quick.answer(["install", "-q"]) is None
    assert Session(config, BuildOptions()).prove_up_to_date(()) is None


@pytest.mark.parametrize(
    "mutation",
    ["edit", "add", "remove", "tamper"],
)
def test_any_change_to_a_tree_voids_the_proof(
    site: Path, monkeypatch: pytest.MonkeyPatch, mutation: str
) -> None:
    monkeypatch.setattr(state, "RACY_NS", 0)
    _install(site)
    config = load_config(site, None)
    assert Session(config, BuildOptions()).prove_up_to_date(()) is not None
    if mutation == "edit":
        (site / "js/modules/lazy.js").write_text("export default 'other';\n")
    elif mutation == "add":
        (site / "js/modules/lib/new.js").write_text("export {};\n")
    elif mutation == "remove":
        (site / "js/modules/lazy.js").unlink()
        (site / "js/modules/main.js").write_text('import "./lib/a.js";\n')
    else:  # an installed module edited by someone
        (site / "js/1/app/lib/b.js").write_text("export const b = 666;\n")
    assert Session(config, BuildOptions()).prove_up_to_date(()) is None


def test_cli_install_then_up_to_date_then_edit(site: Path) -> None:
    _age(site)
    first = _cli(site, "install")
    assert first.returncode == 0, first.stderr
    assert "js/app/*" in first.stdout and "js/1/app/" in first.stdout
    assert "not yet installed" not in first.stderr
    time.sleep(2.1)  # past RACY_NS: the stamps now prove "unchanged"
    second = _cli(site, "install")
    assert second.returncode == 0 and second.stdout.splitlines()[-1] == "up to date"
    assert quick.QUICK_FILE and (site / quick.QUICK_FILE).exists()  # answered, recorded
    third = _cli(site, "install", "--json")
    doc = json.loads(third.stdout)
    assert doc["modules"] == [
        {
            "tree": "js/app",
            "version": 1,
            "files": 4,
            "size": sum((site / "js/1" / n).stat().st_size for n in NAMES),
            "path": "js/1/app/",
            "action": "up to date",
        }
    ]
    (site / "js/modules/lib/b.js").write_text("export const b = 7;\n")
    _age(site, 30)
    fourth = _cli(site, "install")
    assert fourth.returncode == 0, fourth.stderr
    assert "new version js/2" in fourth.stdout
    assert _manifest(site)["modules"]["js/app/lib/b.js"]["path"] == "js/2/app/lib/b.js"


def test_cli_status_lists_each_tree(site: Path) -> None:
    assert _cli(site, "install").returncode == 0
    done = _cli(site, "status", "--check")
    assert done.returncode == 0, done.stdout
    assert any(
        line.split()[:1] == ["js/app/*"] and "up to date" in line
        for line in done.stdout.splitlines()
    )
    (site / "js/modules/lazy.js").write_text("export default 'changed';\n")
    done = _cli(site, "status", "--check", "--json")
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["changed"] == ["js/app/*"]


def test_cli_prune_keeps_the_version_the_manifest_names_for_a_tree(site: Path) -> None:
    assert _cli(site, "install").returncode == 0  # js/1: bundle and tree
    for text in ("var a = 2;\n", "var a = 3;\n"):
        (site / "js/src/a.js").write_text(text)
        assert _cli(site, "install").returncode == 0  # js/2, js/3: the tree still named in js/1
    assert _manifest(site)["modules"]["js/app/main.js"]["version"] == 1
    done = _cli(site, "prune", "--keep", "1", "--min-age", "0")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (site / "js").iterdir() if p.name.isdigit()) == ["1", "3"]


def test_modules_only_config_is_pruned_too(make_site: SiteFactory) -> None:
    config = '[[modules]]\nsource = "js/modules"\noutput = "js/app"\n'
    site = make_site({k: v for k, v in FILES.items() if "modules" in k}, config)
    for text in ("1", "2", "3"):
        (site / "js/modules/lazy.js").write_text(f"export default {text};\n")
        assert _cli(site, "install").returncode == 0
    done = _cli(site, "prune", "--keep", "1", "--min-age", "0")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (site / "js").iterdir() if p.name.isdigit()) == ["3"]


def test_watch_reinstalls_a_changed_tree_into_the_current_version(site: Path) -> None:
    harness = Harness(site)
    first = harness.start()
    try:
        assert first.outcome is not None and first.outcome.report.trees[0].version == 1
        (site / "js/modules/lib/b.js").write_text("export const b = 42;\n")
        rebuild = harness.next()
        assert rebuild.ok, rebuild.error
        assert "js/app/*" in rebuild.outputs and "js/main.js" not in rebuild.outputs
        assert (site / "js/1/app/lib/b.js").read_text() == "export const b=42;"
        assert not (site / "js/2").exists()
        assert harness.quiet() == []  # its own writes set nothing off
        (site / "js/modules/lib/c.js").write_text("export const c = 1;\n")
        rebuild = harness.next()
        assert str(site / "js/modules/lib/c.js") in [str(site / p) for p in rebuild.added] or any(
            p.endswith("c.js") for p in rebuild.added
        )
        assert "js/app/lib/c.js" in _manifest(site)["modules"]
    finally:
        harness.stop()


def test_a_one_edit_rebuild_checks_only_the_edited_module(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetbuild.modules import build as modules_build

    _install(site)
    checked: list[str] = []
    real = modules_build.check_module

    def counting(src: Any, *args: Any) -> Any:
        checked.append(src.display)
        return real(src, *args)

    monkeypatch.setattr(modules_build, "check_module", counting)
    (site / "js/modules/lib/b.js").write_text("export const b = 3;\n")
    _install(site)
    assert checked == ["js/modules/lib/b.js"]  # the others: cache hits


def test_the_popper_esm_tree_is_installed_with_a_complete_import_map(tmp_path: Path) -> None:
    from tests.test_modules_build import POPPER

    if POPPER is None:
        pytest.skip("@popperjs/core not installed (.ci/run installs it)")
    site = tmp_path / "site"
    shutil.copytree(POPPER / "dist" / "esm", site / "js" / "modules" / "vendor" / "popper")
    (site / "js/modules/main.js").write_text(
        'import { createPopper } from "@popperjs/core";\nexport const made = typeof createPopper;\n'
    )
    (site / "assetbuild.toml").write_text(
        '[[modules]]\nsource = "js/modules"\noutput = "js/app"\n'
        '[importmap]\n"@popperjs/core" = "js/modules/vendor/popper/index.js"\n'
    )
    done = _cli(site, "install")
    assert done.returncode == 0, done.stderr
    data = _manifest(site)
    files = sorted(
        p.relative_to(site / "js/modules").as_posix() for p in (site / "js/modules").rglob("*.js")
    )
    assert len(files) > 50
    assert sorted(data["importmap"]["integrity"]) == sorted(f"/js/1/app/{f}" for f in files)
    for name in files:  # every installed file is the integrity the map names
        body = (site / "js/1/app" / name).read_bytes()
        assert data["importmap"]["integrity"][f"/js/1/app/{name}"] == integrity(body)
    assert data["importmap"]["imports"] == {"@popperjs/core": "/js/1/app/vendor/popper/index.js"}
    closure = data["modules"]["js/app/main.js"]["imports"]
    assert "js/app/vendor/popper/index.js" in closure
    assert "js/app/vendor/popper/dom-utils/getBoundingClientRect.js" in closure


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d/e", "d/f"]), min_size=1, max_size=5, unique=True),
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 99)), min_size=1, max_size=4),
)
def test_every_install_keeps_published_bytes_and_one_version_per_tree(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], edits: list[tuple[int, int]]
) -> None:
    site = tmp_path_factory.mktemp("prop")
    config = '[[modules]]\nsource = "js/modules"\noutput = "js/app"\n'
    (site / "assetbuild.toml").write_text(config)
    for name in names:
        path = site / "js/modules" / f"{name}.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("export const v = 0;\n")
    published: dict[Path, bytes] = {}
    for index, value in [(0, 0), *edits]:
        name = names[index % len(names)]
        (site / "js/modules" / f"{name}.js").write_text(f"export const v = {value};\n")
        _install(site, options=BuildOptions(use_cache=False))
        for path, data in published.items():
            assert path.read_bytes() == data  # a published URL never changes its bytes
        published.update(
            {p: p.read_bytes() for p in (site / "js").rglob("*.js") if "modules" not in p.parts}
        )
        modules = _manifest(site)["modules"]
        assert len({e["version"] for e in modules.values()}) == 1
        version = next(iter(modules.values()))["version"]
        for name in names:
            source = (site / "js/modules" / f"{name}.js").read_text()
            expected = "export const v=" + source.split("= ")[1].strip()
            assert (site / f"js/{version}/app/{name}.js").read_text() == expected


@pytest.mark.parametrize("mode", ["linked", "hidden"])
def test_source_maps_for_modules(make_site: SiteFactory, mode: str) -> None:
    site = make_site(FILES, f'sourcemap = "{mode}"\n' + CONFIG)
    _install(site)
    text = (site / "js/1/app/lib/a.js").read_text()
    assert text.endswith("//# sourceMappingURL=a.js.map\n") == (mode == "linked")
    data = json.loads((site / "js/1/app/lib/a.js.map").read_text())
    assert data["file"] == "a.js"
    assert data["sources"] == ["../../../modules/lib/a.js"]  # from js/1/app/lib/ to the source
    assert data["sourcesContent"] == [FILES["js/modules/lib/a.js"]]
    entry = _manifest(site)["modules"]["js/app/lib/a.js"]
    assert entry["map"] == {
        "path": "js/1/app/lib/a.js.map",
        "url": "/js/1/app/lib/a.js.map",
        "size": (site / "js/1/app/lib/a.js.map").stat().st_size,
    }
    assert entry["integrity"] == integrity((site / "js/1/app/lib/a.js").read_bytes())
    assert "js/app/lib/a.js.map" not in _manifest(site)["modules"]
    assert "/js/1/app/lib/a.js.map" not in _manifest(site)["importmap"]["integrity"]


def test_a_module_map_points_every_token_at_its_source(make_site: SiteFactory) -> None:
    site = make_site(FILES, 'sourcemap = "linked"\n' + CONFIG)
    _install(site)
    from assetbuild.maps.vlq import decode_mappings

    data = json.loads((site / "js/1/app/main.js.map").read_text())
    out_lines = (site / "js/1/app/main.js").read_text().split("\n")
    src_lines = FILES["js/modules/main.js"].split("\n")
    segments = [seg for line in decode_mappings(data["mappings"]) for seg in line]
    assert len(segments) > 10
    for line_no, line in enumerate(decode_mappings(data["mappings"])):
        for seg in line:
            generated = out_lines[line_no][seg[0] :]
            original = src_lines[seg[2]][seg[3] :]
            assert generated[:1] == original[:1], (generated, original)


def test_a_module_too_young_for_its_stamp_is_proven_by_its_text(site: Path) -> None:
    _age(site)
    _install(site)
    (site / "js/modules/lazy.js").write_text("export default 'young';\n")  # stamped just now
    _install(site)
    config = load_config(site, None)
    session = Session(config, BuildOptions())
    assert session.prove_up_to_date(()) is not None  # the text the build read, compared
    assert str(site / "js/modules/lazy.js") in session.snapshot.young  # type: ignore[union-attr]
    (site / "js/modules/lazy.js").write_text("export default 'YOUNG';\n")  # same size, new text
    assert Session(config, BuildOptions()).prove_up_to_date(()) is None


def test_a_killed_in_place_write_leaves_nothing_in_a_tree_directory(site: Path) -> None:
    _install(site)
    leftover = site / "js/1/app/lib/.assetbuild-tmp-b.js.123"
    leftover.write_text("half")
    (site / "js/modules/lib/b.js").write_text("export const b = 4;\n")
    _install(site, policy="into-current")
    assert not leftover.exists()
    assert (site / "js/1/app/lib/b.js").read_text() == "export const b=4;"


def test_cli_dry_run_writes_nothing_and_shows_the_tree(site: Path) -> None:
    done = _cli(site, "install", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "js/app/*" in done.stdout and "dry run: nothing was written" in done.stdout
    assert not (site / "js/1").exists() and not (site / "manifest.json").exists()


def test_cli_a_fifo_in_a_tree_is_an_error_not_a_hang(site: Path) -> None:
    os.mkfifo(site / "js/modules/pipe.js")
    done = subprocess.run(
        [ASSETBUILD, "install"], cwd=site, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "js/modules/pipe.js: error: cannot read source: it is a named pipe" in done.stderr
    assert not (site / "js/1").exists()


def test_a_php_manifest_holds_the_module_fields(make_site: SiteFactory) -> None:
    site = make_site(FILES, 'manifest_format = "php"\nmanifest = "manifest.php"\n' + CONFIG)
    _install(site)
    text = (site / "manifest.php").read_text()
    assert "'importmap_csp' => 'sha256-" in text
    assert "'js/app/lib/a.js' => [" in text and "'/js/1/app/main.js' => 'sha384-" in text
    php = shutil.which("php")
    if php is not None:  # what PHP reads is what the JSON manifest would say
        code = 'echo json_encode((require "manifest.php")["importmap"], JSON_UNESCAPED_SLASHES);'
        done = subprocess.run(
            [php, "-r", code], cwd=site, capture_output=True, text=True, check=True
        )
        assert json.loads(done.stdout)["imports"]["app"] == "/js/1/app/main.js"


def test_a_module_linked_to_a_file_outside_the_root_is_never_published(
    site: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.js"
    secret.write_text("export const key = 'hunter2';\n")
    (site / "js/modules/config.js").symlink_to(secret)
    done = _cli(site, "install")
    assert done.returncode == 1
    assert (
        "js/modules/config.js: error: resolves to" in done.stderr
        and "outside the root" in done.stderr
    )
    assert "hunter2" not in done.stderr + done.stdout
    assert not (site / "js/1").exists()
    (site / "assetbuild.toml").write_text("allow_symlinks_outside = true\n" + CONFIG)
    assert _cli(site, "install").returncode == 0
    assert (site / "js/1/app/config.js").read_text() == "export const key='hunter2';"


def test_a_target_install_uploads_each_module_at_its_place_in_the_tree(
    site: Path, tmp_path: Path
) -> None:
    """Trees go up whole, each module at its path below the tree (they once went up flattened
    to their base names: js/1/a.js for js/modules/lib/a.js)."""
    remote = tmp_path / "remote"
    remote.mkdir()
    proc = _cli(site, "install", "--target", remote.as_uri())
    assert proc.returncode == 0, proc.stderr
    uploaded = sorted(p.relative_to(remote).as_posix() for p in remote.rglob("*") if p.is_file())
    expected = sorted(["js/1/main.js", *(f"js/1/{name}" for name in NAMES)])
    assert [p for p in uploaded if p.startswith("js/")] == expected
