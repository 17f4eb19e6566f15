"""A module with an error (issue 15): `watch` still installs the bundles and leaves every tree where
the manifest names it; `install` installs nothing, as for a bundle's error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assetbuild.build.pipeline import install
from assetbuild.build.results import BuildOptions, ManifestSettings
from assetbuild.config import load_config
from assetbuild.errors import SourceError
from assetbuild.install.entries import read_current
from tests.conftest import SiteFactory
from tests.helpers.watch import Harness, WatchProcess

ASSETBUILD = str(Path(sys.executable).parent / "assetbuild")
CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/src/*.js"]

[[modules]]
source = "js/modules"
output = "js/app"

[importmap]
"app" = "js/modules/main.js"
"""
FILES = {
    "js/src/a.js": "var a = 1;\n",
    "js/modules/main.js": 'import { b } from "./lib/b.js";\nconsole.log(b);\n',
    "js/modules/lib/b.js": "export const b = 1;\n",
}
BROKEN = "export const b = ;\n"


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return make_site(FILES, CONFIG)


def _manifest(site: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((site / "manifest.json").read_text())
    return data


def _tree_fields(site: Path) -> tuple[Any, Any, Any]:
    data = _manifest(site)
    return data["modules"], data["importmap"], data["importmap_csp"]


@pytest.fixture
def harness(site: Path) -> Iterator[Harness]:
    h = Harness(site)
    yield h
    h.stop()


def test_watch_installs_the_bundles_and_keeps_the_broken_tree_where_it_was(
    site: Path, harness: Harness
) -> None:
    first = harness.start()
    assert first.ok, first.error
    before = _tree_fields(site)
    installed_b = (site / "js/1/app/lib/b.js").read_bytes()
    (site / "js/modules/lib/b.js").write_text(BROKEN)
    (site / "js/src/a.js").write_text("var a = 'after';\n")
    rebuild = harness.next()
    while "js/main.js" not in rebuild.outputs:  # the two edits may arrive in two rebuilds
        rebuild = harness.next()
    assert rebuild.error is not None
    assert "js/app/*" in rebuild.failed and "js/main.js" not in rebuild.failed
    [diag] = [d for d in rebuild.error.diagnostics if d.severity == "error"]
    assert diag.location is not None
    assert (diag.location.path, diag.location.line, diag.location.column) == (
        "js/modules/lib/b.js",
        1,
        18,
    )
    assert rebuild.outcome is not None
    path = _manifest(site)["bundles"]["js/main.js"]["path"]
    assert "after" in (site / path).read_text()
    assert _tree_fields(site) == before  # every tree where the manifest named it
    assert (site / "js/1/app/lib/b.js").read_bytes() == installed_b
    (site / "js/modules/lib/b.js").write_text("export const b = 2;\n")
    fixed = harness.next()
    assert fixed.ok, fixed.error
    assert "js/app/*" in fixed.fixed
    entry = _manifest(site)["modules"]["js/app/lib/b.js"]
    assert (site / entry["path"]).read_text() == "export const b=2;"


def test_watch_with_only_a_broken_tree_and_no_bundle_installs_nothing(
    make_site: SiteFactory,
) -> None:
    site = make_site(
        {"js/modules/m.js": BROKEN}, '[[modules]]\nsource = "js/modules"\noutput = "js/app"\n'
    )
    h = Harness(site)
    try:
        first = h.start()
        assert first.error is not None and first.outcome is None
        assert not (site / "manifest.json").exists() and not (site / "js/1").exists()
    finally:
        h.stop()


def test_install_with_a_module_error_installs_nothing(site: Path) -> None:
    install(load_config(site, None), BuildOptions())
    manifest = (site / "manifest.json").read_bytes()
    (site / "js/modules/lib/b.js").write_text(BROKEN)
    (site / "js/src/a.js").write_text("var a = 'after';\n")
    with pytest.raises(SourceError):
        install(load_config(site, None), BuildOptions())
    assert (site / "manifest.json").read_bytes() == manifest
    assert not (site / "js/2").exists()
    assert "after" not in (site / "js/1/main.js").read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    proc = subprocess.run(
        [ASSETBUILD, "install"], cwd=site, capture_output=True, text=True, check=False, env=env
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0].startswith("js/modules/lib/b.js:1:18: error:")
    assert "nothing was installed" in proc.stderr
    assert (site / "manifest.json").read_bytes() == manifest


def test_bundles_alone_keep_the_manifests_module_fields_verbatim(site: Path) -> None:
    install(load_config(site, None), BuildOptions())
    before = _tree_fields(site)
    (site / "js/src/a.js").write_text("var a = 'bump';\n")
    install(load_config(site, None), BuildOptions(modules=False), policy="bump")
    data = _manifest(site)
    assert data["bundles"]["js/main.js"]["version"] == 2
    assert _tree_fields(site) == before
    assert all(e["version"] == 1 for e in data["modules"].values())
    for entry in data["modules"].values():
        assert (site / entry["path"]).is_file()


def test_read_current_takes_the_module_fields_only_when_all_are_there(site: Path) -> None:
    install(load_config(site, None), BuildOptions())
    settings = ManifestSettings(site / "manifest.json", "json", None)
    fields = read_current(settings).fields
    assert fields is not None and set(fields) == {"modules", "importmap", "importmap_csp"}
    data = _manifest(site)
    del data["importmap_csp"]
    (site / "manifest.json").write_text(json.dumps(data))
    assert read_current(settings).fields is None


def test_real_watch_prints_the_module_error_and_installs_the_bundle(site: Path) -> None:
    w = WatchProcess(site)
    try:
        w.line("watching")
        (site / "js/modules/lib/b.js").write_text(BROKEN)
        line = w.line("failed")
        assert "js/app/*" in line
        (site / "js/src/a.js").write_text("var a = 'after';\n")
        w.line("js/main.js installed into")
        stderr = w.stop()
    finally:
        w.close()
    assert "js/modules/lib/b.js:1:18: error:" in stderr
    assert "    export const b = ;" in stderr
    assert "after" in (site / _manifest(site)["bundles"]["js/main.js"]["path"]).read_text()
