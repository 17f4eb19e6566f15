"""Start-up cost: `--help` and a no-change install import no checker, minifier or watcher."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

HEAVY = ("esprima", "tinycss2", "watchdog", "rjsmin", "rcssmin", "py_mini_racer")
OURS_HEAVY = (
    "assetbuild.js.check",
    "assetbuild.css.check",
    "assetbuild.js.minify",
    "assetbuild.css.minify",
)

# Runs the real CLI entry point and, at exit (click always exits through sys.exit), writes the names
# of every imported module to a file.
WRAPPER = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv[0] = "assetbuild"
from assetbuild.__main__ import run
run()
"""


def run_cli(
    args: list[str], cwd: Path, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    out = tmp_path / f"modules-{time.monotonic_ns()}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(out), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    modules = set(json.loads(out.read_text())) if out.exists() else set()
    return proc, modules


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m in OURS_HEAVY)


@pytest.mark.parametrize(
    "args", [["--help"], ["install", "--help"], ["watch", "--help"], ["--version"]]
)
def test_help_imports_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    proc, modules = run_cli(args, tmp_path, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "assetbuild.cli" in modules  # the wrapper really ran the CLI
    assert heavy_in(modules) == []
    assert "assetbuild.build.pipeline" not in modules


def age_sources(site: Path, seconds: float = 30.0) -> None:
    """Make sources old enough that their stamps are trusted (see state.RACY_NS)."""
    past = time.time() - seconds
    for path in site.rglob("source/*"):
        os.utime(path, (past, past))


def test_no_change_install_imports_nothing_heavy(
    tmp_path: Path, make_site: Callable[..., Path]
) -> None:
    site = make_site(
        {
            "js/source/a.js": "var a = 1;\n",
            "js/source/b.js": "function b() { return a; }\n",
            "css/source/a.css": "body { color: red; }\na[href] { color: blue; }\n",
        },
    )
    age_sources(site)
    first, modules = run_cli(["install"], site, tmp_path)
    assert first.returncode == 0, first.stderr
    # The full path really checked the sources (with the fast engine when installed, else esprima).
    assert "esprima" in modules or "py_mini_racer" in modules
    # CSS was verified on our own tokens (tinycss2 is the tests' oracle, tests/oracles/cssoracle.py);
    # the rule check (css/rules.py) parses selectors with cssselect2 over tinycss2, on a cache miss
    # (all but plain ones: `a[href]` is not).
    assert "assetbuild.css.minify" in modules
    assert "cssselect2" in modules and "tests.oracles.cssoracle" not in modules
    second, modules = run_cli(["install"], site, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert "tinycss2" not in modules and "cssselect2" not in modules
    assert "assetbuild.cache.state" in modules  # the fast path decided
    assert heavy_in(modules) == []
    # ... and printed click's table without click: the summary is not the CLI's.
    assert "click" not in modules and "assetbuild.cli" not in modules
    assert "assetbuild.summary" in modules
