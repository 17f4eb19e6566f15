"""Maps read by a consumer no one here wrote: @jridgewell/trace-mapping under node.

Real library bundles (jQuery; d3 with its nested templates; Bootstrap with its own map) are
installed with `--sourcemap linked`, and every token acorn finds in each bundle is resolved through
the installed map: it must lead to the start of the same token in the original (for Bootstrap, to a
position inside one of the `js/src/*.js` files its own map names).

The node packages come from `.ci/run` (`npm install --prefix .ci/npm`), or from the directory
ASSETBUILD_NODE_MODULES names. Without them the tests skip, except where ASSETBUILD_REQUIRE_NODE=1
(CI sets it: there a missing package is a failure, not a skip).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import run

REPO = Path(__file__).resolve().parent.parent
TRACE = REPO / "tests" / "helpers" / "trace_tokens.js"
ACORN = REPO / "assetbuild" / "js" / "vendor" / "acorn.js"


def _node_modules() -> Path | None:
    named = os.environ.get("ASSETBUILD_NODE_MODULES")
    candidates = [Path(named)] if named else [REPO / ".ci" / "npm" / "node_modules"]
    for candidate in candidates:
        if (candidate / "@jridgewell" / "trace-mapping").is_dir() and shutil.which("node"):
            return candidate
    return None


NODE_MODULES = _node_modules()
if NODE_MODULES is None:
    if os.environ.get("ASSETBUILD_REQUIRE_NODE") == "1":
        raise RuntimeError("ASSETBUILD_REQUIRE_NODE=1 but node or the npm packages are missing")
    pytestmark = pytest.mark.skip(reason="node and .ci/npm packages not installed (see .ci/run)")


def trace(bundle: Path, source_map: Path) -> dict[str, Any]:
    assert NODE_MODULES is not None
    done = subprocess.run(
        ["node", str(TRACE), str(NODE_MODULES), str(ACORN), str(bundle), str(source_map)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _library_site(root: Path, minify: bool) -> Path:
    assert NODE_MODULES is not None
    src = root / "src"
    (src / "vendor").mkdir(parents=True)
    shutil.copy(NODE_MODULES / "jquery" / "dist" / "jquery.js", src / "jquery.js")
    shutil.copy(NODE_MODULES / "d3" / "dist" / "d3.js", src / "d3.js")
    dist = NODE_MODULES / "bootstrap" / "dist" / "js"
    for name in ("bootstrap.bundle.min.js", "bootstrap.bundle.min.js.map"):
        shutil.copy(dist / name, src / "vendor" / name)
    bundles = "".join(
        f'[[bundle]]\noutput = "js/{name}.js"\nsources = ["{source}"]\nminify = {str(minify).lower()}\n'
        for name, source in (
            ("jquery", "src/jquery.js"),
            ("d3", "src/d3.js"),
            ("bootstrap", "src/vendor/bootstrap.bundle.min.js"),
        )
    )
    (root / "assetbuild.toml").write_text('sourcemap = "linked"\n' + bundles)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("minify", [True, False])
def test_every_token_of_real_libraries_resolves_to_itself(tmp_path: Path, minify: bool) -> None:
    site = _library_site(tmp_path / "site", minify)
    done = run("install", cwd=site)
    assert done.returncode == 0, done.stderr
    assert "without a source map" not in done.stderr
    for name in ("jquery", "d3"):
        result = trace(site / "js/1" / f"{name}.js", site / "js/1" / f"{name}.js.map")
        assert result["tokens"] > 20_000, (name, result["tokens"])
        assert result["unmapped"] == [] and result["wrong"] == [], (name, result)
        assert result["exact"] == result["tokens"], (name, result)
        assert list(result["sources"]) == [f"src/{name}.js"]


@pytest.mark.slow
def test_bootstrap_leads_through_its_own_map_to_its_sources(tmp_path: Path) -> None:
    site = _library_site(tmp_path / "site", True)
    done = run("install", cwd=site)
    assert done.returncode == 0, done.stderr
    result = trace(site / "js/1/bootstrap.js", site / "js/1/bootstrap.js.map")
    assert result["tokens"] > 20_000
    assert result["unmapped"] == []
    assert not [w for w in result["wrong"] if w.get("why") == "outside"], result["wrong"]
    originals = [s for s in result["sources"] if not s.endswith("bootstrap.bundle.min.js")]
    assert len(originals) > 10, list(result["sources"])
    assert sum(result["sources"][s] for s in originals) > result["tokens"] * 0.8
    data = json.loads((site / "js/1/bootstrap.js.map").read_text())
    alert = data["sources"].index(next(s for s in data["sources"] if s.endswith("/src/alert.js")))
    assert "class Alert extends BaseComponent" in data["sourcesContent"][alert]
    assert alert in data["ignoreList"]
