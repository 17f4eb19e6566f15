"""Zero-config `.mjs` files (issue 15): every `.mjs` below `<area>/source/` is a module installed at
the top of the area's version directory; `init` writes the equivalent `[[modules]]` table."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.build.pipeline import build, install
from assetbuild.build.results import BuildOptions
from assetbuild.commands.init import starter_config
from assetbuild.config import load_config
from assetbuild.errors import ConfigError
from assetbuild.manifest import integrity
from assetbuild.modules.build import collisions
from assetbuild.modules.config import ModuleSpec
from tests.conftest import SiteFactory, write_site
from tests.helpers.watch import Harness
from tests.test_cli import run

FILES = {
    "js/source/a.js": "var a = 1;\n",
    "js/source/m.mjs": 'import { u } from "./lib/util.mjs";\nconsole.log(u);\n',
    "js/source/lib/util.mjs": "export const u = 42;\n",
    "js/source/lib/skipped.js": "var notBundledNorModule = 1;\n",
    "css/source/a.css": "a { color: red }\n",
}


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(*args, cwd=site)


def _manifest(site: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((site / "manifest.json").read_text())
    return data


def _installed(site: Path) -> list[str]:
    return sorted(
        p.relative_to(site).as_posix()
        for area in ("js", "css")
        for p in (site / area).rglob("*")
        if p.is_file() and p.relative_to(site / area).parts[0].isdigit()
    )


def test_zero_config_takes_mjs_below_source_as_a_tree(make_site: SiteFactory) -> None:
    site = make_site(FILES)
    config = load_config(site, None)
    assert config.config_path is None
    assert ModuleSpec("js/source", "js/", suffixes=(".mjs",)) in config.modules
    assert [t.area for t in config.modules] == ["js"]  # css/source has no .mjs file
    install(config, BuildOptions())
    assert _installed(site) == [
        "css/1/main.css",
        "js/1/lib/util.mjs",
        "js/1/m.mjs",
        "js/1/main.js",
    ]
    bundle = (site / "js/1/main.js").read_text()
    assert "export" not in bundle and "42" not in bundle and "notBundled" not in bundle
    data = _manifest(site)
    assert sorted(data["modules"]) == ["js/lib/util.mjs", "js/m.mjs"]
    entry = data["modules"]["js/m.mjs"]
    assert entry["path"] == "js/1/m.mjs" and entry["url"] == "/js/1/m.mjs"
    assert entry["imports"] == ["js/lib/util.mjs"]
    for name in ("js/m.mjs", "js/lib/util.mjs"):
        body = (site / data["modules"][name]["path"]).read_bytes()
        assert data["importmap"]["integrity"][data["modules"][name]["url"]] == integrity(body)
    assert set(data["bundles"]) == {"js/main.js", "css/main.css"}


def test_an_mjs_edit_moves_the_tree_and_the_bundle_keeps_its_version(
    make_site: SiteFactory,
) -> None:
    site = make_site(FILES)
    install(load_config(site, None), BuildOptions())
    (site / "js/source/lib/util.mjs").write_text("export const u = 43;\n")
    install(load_config(site, None), BuildOptions())
    data = _manifest(site)
    assert data["modules"]["js/m.mjs"]["path"] == "js/2/m.mjs"
    assert data["bundles"]["js/main.js"]["path"] == "js/1/main.js"
    assert (site / "js/1/lib/util.mjs").read_text() != (site / "js/2/lib/util.mjs").read_text()


def test_a_tree_of_only_mjs_files_is_enough_for_zero_config(make_site: SiteFactory) -> None:
    site = make_site({"js/source/m.mjs": "export default 1;\n"})
    result = build(load_config(site, None), BuildOptions())
    assert result.modules is not None and result.modules.ok
    assert [m.name for t in result.modules.trees for m in t.modules] == ["m.mjs"]
    assert not result.bundles


def test_importing_a_bundle_source_names_the_rule(make_site: SiteFactory) -> None:
    site = make_site({**FILES, "js/source/m.mjs": 'import "./a.js";\n'})
    proc = _cli(site, "install")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0] == (
        'js/source/m.mjs:1:8: error: import "./a.js": no module js/source/a.js'
        ' (did you mean "m.mjs"?)'
    )
    assert lines[1:3] == ['    import "./a.js";', "           ^"]
    assert lines[3].startswith("note: this tree's modules are its .mjs files: the .js files")
    assert not (site / "js/1").exists() and not (site / "manifest.json").exists()


def test_a_name_taken_by_the_modules_tree_is_an_error(make_site: SiteFactory) -> None:
    site = make_site(
        {**FILES, "js/modules/x.js": "export default 1;\n", "js/source/modules/y.mjs": "1;\n"}
    )
    proc = _cli(site, "install")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[0] == (
        "js/source/modules/y.mjs: error: would install as js/<N>/modules/y.mjs, where the module "
        "tree js/modules/* installs; rename the directory modules (or configure [[modules]] "
        "with an output of its own)"
    )
    assert not (site / "js/1").exists()
    check = _cli(site, "check")
    assert check.returncode == 1 and "js/source/modules/y.mjs: error: would install" in check.stderr


def test_a_name_taken_by_a_bundle_file_is_an_error(make_site: SiteFactory) -> None:
    site = make_site({**FILES, "js/source/main.js.map/x.mjs": "export default 1;\n"})
    result = build(load_config(site, None), BuildOptions())
    assert result.modules is not None and not result.modules.ok
    [diag] = [d for d in result.modules.diagnostics if d.severity == "error"]
    assert diag.location is not None and diag.location.path == "js/source/main.js.map/x.mjs"
    assert "where the bundle js/main.js installs" in diag.message


NAMES = st.sampled_from(["modules", "main.js", "main.js.map", "main.css.gz", "lib", "x.mjs"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(NAMES, min_size=1, max_size=3), max_size=6))
def test_collisions_are_exactly_the_taken_top_names(paths: list[list[str]]) -> None:
    flat = ModuleSpec("js/source", "js/", suffixes=(".mjs",))
    tree = ModuleSpec("js/modules", "js/modules")
    rels = sorted({"js/source/" + "/".join(p) for p in paths})
    found = collisions([(flat, rels), (tree, ["js/modules/a.js"])], ["js/main.js", "css/main.css"])
    taken = {"modules", "main.js", "main.js.map"}  # main.css.gz is another area's
    expected = [r for r in rels if r.split("/")[2] in taken]
    assert [d.location.path for d in found if d.location is not None] == expected


def test_modules_table_with_area_and_suffixes(make_site: SiteFactory) -> None:
    config = '[[modules]]\nsource = "js/source"\narea = "js"\nsuffixes = [".mjs"]\n'
    site = make_site(FILES, config)
    assert load_config(site, None).modules == (ModuleSpec("js/source", "js/", suffixes=(".mjs",)),)
    bad = make_site(
        FILES,
        '[[modules]]\nsource = "js/source"\narea = "js"\noutput = "js/x"\nsuffixes = [".ts"]\n',
        subdir="bad",
    )
    try:
        load_config(bad, None)
    except ConfigError as exc:
        text = "\n".join(d.message for d in exc.diagnostics) or str(exc)
    else:
        raise AssertionError("no ConfigError")
    assert "modules[1].area: give either output (a directory of its own) or area" in text
    assert 'modules[1].suffixes: expected a list of ".js" and/or ".mjs"' in text


def test_init_writes_the_equivalent_modules_tables(tmp_path: Path) -> None:
    files = {**FILES, "js/modules/x.js": "export default 1;\n"}
    zero = write_site(tmp_path / "zero", files)
    configured = write_site(tmp_path / "configured", files)
    text = starter_config(configured)
    assert '[[modules]]\nsource = "js/source"\narea = "js"\nsuffixes = [".mjs"]\n' in text
    assert '[[modules]]\nsource = "js/modules"\noutput = "js/modules"\n' in text
    init = _cli(configured, "init")
    assert init.returncode == 0, init.stderr
    assert (configured / "assetbuild.toml").read_text() == text
    for site in (zero, configured):
        proc = _cli(site, "install")
        assert proc.returncode == 0, proc.stderr
    assert _installed(zero) == _installed(configured)
    assert _manifest(zero)["modules"] == _manifest(configured)["modules"]
    assert _manifest(zero)["importmap"] == _manifest(configured)["importmap"]


def test_cli_install_then_no_change_status_and_build_out(make_site: SiteFactory) -> None:
    site = make_site(FILES)
    first = _cli(site, "install")
    assert first.returncode == 0, first.stderr
    assert "js/*" in first.stdout and "js/1/" in first.stdout
    status = _cli(site, "status", "--check")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "no bundle produces it" not in status.stdout + status.stderr
    out = _cli(site, "build", "--out", str(site.parent / "out"))
    assert out.returncode == 0, out.stderr
    assert (site.parent / "out/js/m.mjs").is_file()
    assert (site.parent / "out/js/lib/util.mjs").is_file()


def test_an_mjs_importing_json_names_where_json_modules_go(make_site: SiteFactory) -> None:
    site = make_site(
        {
            **FILES,
            "js/source/d.json": "{}\n",
            "js/source/m.mjs": 'import d from "./d.json" with { type: "json" };\nexport { d };\n',
        }
    )
    result = build(load_config(site, None), BuildOptions())
    assert result.modules is not None
    [diag] = [d for d in result.modules.diagnostics if d.severity == "error"]
    assert diag.message.startswith('import "./d.json": no module js/source/d.json')
    assert "JSON modules belong in a tree of .js files (zero-config: <area>/modules/)" in (
        diag.notes[0].message
    )


def test_watch_reinstalls_an_edited_mjs(make_site: SiteFactory) -> None:
    site = make_site(FILES)
    harness = Harness(site)
    try:
        first = harness.start()
        assert first.ok, first.error
        (site / "js/source/lib/util.mjs").write_text("export const u = 7;\n")
        rebuild = harness.next()
        while "js/*" not in rebuild.outputs:
            rebuild = harness.next()
        assert rebuild.ok, rebuild.error
        entry = _manifest(site)["modules"]["js/lib/util.mjs"]
        assert (site / entry["path"]).read_text() == "export const u=7;"
        assert (
            "notBundled"
            not in (site / _manifest(site)["bundles"]["js/main.js"]["path"]).read_text()
        )
    finally:
        harness.stop()
