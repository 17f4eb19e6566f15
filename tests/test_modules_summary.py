"""What `check` and `build` say about module trees (issue 15): the check line, `--json`'s "modules"
list, `build --out`'s rows; the library functions and the real command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from assetbuild.build.pipeline import build
from assetbuild.build.results import BuildOptions, BuildResult
from assetbuild.config import load_config
from assetbuild.modules import summary as modules_summary
from tests.conftest import SiteFactory
from tests.test_cli import run

CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/src/*.js"]

[[modules]]
source = "js/modules"
output = "js/app"
"""
FILES = {
    "js/src/a.js": "var a = 1;\n",
    "js/src/b.js": "var b = 2;\n",
    "js/modules/main.js": 'import { b } from "./lib/b.js";\nimport d from "./d.json" with { type: "json" };\nconsole.log(b, d);\n',
    "js/modules/lib/b.js": "export const b = 1;\n",
    "js/modules/d.json": '{"x": 1}\n',
}


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(*args, cwd=site)


def _built(site: Path) -> BuildResult:
    return build(load_config(site, None), BuildOptions(check_only=True))


def test_check_line_counts_modules_and_trees(make_site: SiteFactory) -> None:
    result = _built(make_site(FILES, CONFIG))
    assert modules_summary.counts(result) == (3, 1)
    assert (
        modules_summary.check_line(result) == "checked 2 files in 1 bundle, 3 modules in 1 tree: ok"
    )


def test_check_line_without_trees_or_without_bundles(make_site: SiteFactory) -> None:
    plain = make_site({"js/src/a.js": "var a;\n"}, CONFIG.split("[[modules]]")[0], subdir="p")
    assert modules_summary.check_line(_built(plain)) == "checked 1 file in 1 bundle: ok"
    only = make_site(
        {"js/modules/m.mjs": "export default 1;\n"},
        '[[modules]]\nsource = "js/modules"\noutput = "js/app"\n',
        subdir="m",
    )
    assert modules_summary.check_line(_built(only)) == "checked 1 module in 1 tree: ok"


def test_modules_json_names_sources_sizes_and_imports(make_site: SiteFactory) -> None:
    result = _built(make_site(FILES, CONFIG))
    found = {m["name"]: m for m in modules_summary.modules_json(result, {})}
    assert sorted(found) == ["js/app/d.json", "js/app/lib/b.js", "js/app/main.js"]
    main = found["js/app/main.js"]
    assert main["source"] == "js/modules/main.js" and main["tree"] == "js/app"
    assert main["imports"] == ["js/app/lib/b.js", "js/app/d.json"]
    assert main["path"] is None and main["action"] is None and main["map"] is None
    assert found["js/app/d.json"]["minified_by"] == "json"
    assert found["js/app/d.json"]["size"] == len(FILES["js/modules/d.json"])


def test_export_rows_line_up_with_the_bundle_columns(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    result = _built(make_site(FILES, CONFIG))
    out = tmp_path / "out"
    nbytes = sum(len(m.text.encode()) for t in result.modules.trees for m in t.modules)  # type: ignore[union-attr]
    rows = modules_summary.export_rows(result, out, 9)
    assert rows == [["js/app/*", "3", "", f"{nbytes} B", "", "", "", f"{out}/js/app/", "written"]]
    assert modules_summary.written_modules(result, out)["js/app/lib/b.js"] == (
        str(out / "js/app/lib/b.js"),
        "written",
    )


def test_cli_check_and_check_json(make_site: SiteFactory) -> None:
    site = make_site(FILES, CONFIG)
    proc = _cli(site, "check")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "checked 2 files in 1 bundle, 3 modules in 1 tree: ok"
    doc = json.loads(_cli(site, "check", "--json").stdout)
    assert [m["name"] for m in doc["modules"]] == [
        "js/app/d.json",
        "js/app/lib/b.js",
        "js/app/main.js",
    ]
    assert all(m["path"] is None for m in doc["modules"])
    assert not (site / "js/app").exists() and not (site / "manifest.json").exists()


def test_cli_build_out_lists_the_tree_and_its_files(make_site: SiteFactory) -> None:
    site = make_site(FILES, CONFIG)
    out = site.parent / "out"
    proc = _cli(site, "build", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    [row] = [line for line in proc.stdout.splitlines() if line.startswith("js/app/*")]
    assert row.split()[:2] == ["js/app/*", "3"] and row.split()[-2:] == [
        f"{out}/js/app/",
        "written",
    ]
    doc = json.loads(_cli(site, "build", "--json", "--out", str(out)).stdout)
    paths = {m["name"]: m["path"] for m in doc["modules"]}
    assert paths["js/app/main.js"] == str(out / "js/app/main.js")
    for name, path in paths.items():
        size = next(m["size"] for m in doc["modules"] if m["name"] == name)
        assert Path(path).stat().st_size == size
