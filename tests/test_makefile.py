"""Makefile.example with the real make and the real assetbuild, in both layouts.

`make install` always asks assetbuild (it knows every input of any config); what is tested is that
every change installs, that nothing else does, and the no-change answer reads no source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAKEFILE = REPO / "Makefile.example"
MAKE = shutil.which("make")
TIMEOUT = 120.0

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

JS_A = 'window.Site = window.Site || {};\nwindow.Site.name = "make test";\n'
JS_B = "(function () {\n  document.title = window.Site.name;\n})();\n"
CSS_A = "body {\n  color: rgb(1, 2, 3);\n}\n"


def _assetbuild() -> str:
    beside = Path(sys.executable).with_name("assetbuild")
    if beside.exists():
        return str(beside)
    found = shutil.which("assetbuild")
    if found is None:
        pytest.skip("the assetbuild command is not installed")
    return found


@dataclass(frozen=True)
class MakeSite:
    """A small zero-config site with the example Makefile and a logging assetbuild wrapper."""

    root: Path
    static_name: str = "static"

    @property
    def static(self) -> Path:
        return self.root / self.static_name

    @property
    def log(self) -> Path:
        return self.root / "assetbuild-calls.log"

    def calls(self) -> list[str]:
        """One line per assetbuild run that make started."""
        if not self.log.exists():
            return []
        return self.log.read_text(encoding="utf-8").splitlines()

    def make(self, target: str, *variables: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        env["LC_ALL"] = "C"  # make's messages in English, whatever the machine's locale
        assert MAKE is not None
        return subprocess.run(
            [
                MAKE,
                "--no-print-directory",
                "-f",
                "Makefile.example",
                target,
                f"ASSETBUILD={self.root / 'assetbuild-logged'}",
                *variables,
            ],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def versions(self, area: str) -> list[int]:
        base = self.static / area
        return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit())


def _age(root: Path, seconds: float) -> None:
    """Date every file and directory under root back, so a fresh stamp is clearly newer."""
    when = time.time() - seconds
    for path in (root, *root.rglob("*")):
        os.utime(path, (when, when))


def _zero_config_cache(static: Path) -> Path:
    from assetbuild.cachehome import site_cache_dir

    return Path(site_cache_dir(str(static.resolve())))


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    root = tmp_path / "site"
    site = MakeSite(root)
    (site.static / "js" / "source").mkdir(parents=True)
    (site.static / "css" / "source").mkdir(parents=True)
    (site.static / "js" / "source" / "10-a.js").write_text(JS_A, encoding="utf-8")
    (site.static / "js" / "source" / "20-b.js").write_text(JS_B, encoding="utf-8")
    (site.static / "css" / "source" / "10-a.css").write_text(CSS_A, encoding="utf-8")
    shutil.copy(MAKEFILE, root / "Makefile.example")
    wrapper = root / "assetbuild-logged"
    wrapper.write_text(
        f'#!/bin/sh\nprintf \'%s\\n\' "$*" >> "{site.log}"\nexec "{_assetbuild()}" "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    _age(site.static, 100)
    return site


def test_first_install_builds_and_second_says_up_to_date(make_site: MakeSite) -> None:
    _ok(make_site.make("install"))
    assert make_site.calls() == ["-C static install"]
    assert make_site.versions("js") == [1]
    assert make_site.versions("css") == [1]
    manifest = make_site.static / "manifest.json"
    before = manifest.stat().st_mtime_ns

    output = _ok(make_site.make("install"))
    assert "up to date" in output
    assert len(make_site.calls()) == 2
    assert make_site.versions("js") == [1] and manifest.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    "source", ["js/source/10-a.js", "js/source/20-b.js", "css/source/10-a.css"]
)
def test_touch_installs_no_new_version(make_site: MakeSite, source: str) -> None:
    _ok(make_site.make("install"))
    manifest = (make_site.static / "manifest.json").read_bytes()
    os.utime(make_site.static / source)

    _ok(make_site.make("install"))
    # Same bytes: assetbuild keeps version 1 and the manifest as it was.
    assert make_site.versions("js") == [1]
    assert make_site.versions("css") == [1]
    assert (make_site.static / "manifest.json").read_bytes() == manifest


@pytest.mark.parametrize(
    ("source", "addition", "area", "other"),
    [
        ("js/source/20-b.js", "var edited = 1;\n", "js", "css"),
        ("css/source/10-a.css", "p {\n  margin: 0;\n}\n", "css", "js"),
    ],
)
def test_content_edit_installs_version_2(
    make_site: MakeSite, source: str, addition: str, area: str, other: str
) -> None:
    _ok(make_site.make("install"))
    path = make_site.static / source
    path.write_text(path.read_text(encoding="utf-8") + addition, encoding="utf-8")

    _ok(make_site.make("install"))
    assert make_site.versions(area) == [1, 2]
    assert make_site.versions(other) == [1]
    # Version 1 stays installed: published URLs keep serving.
    assert (make_site.static / area / "1" / f"main.{area}").is_file()


@pytest.mark.parametrize("change", ["add", "remove"])
def test_adding_or_removing_a_source_rebuilds(make_site: MakeSite, change: str) -> None:
    _ok(make_site.make("install"))
    directory = make_site.static / "js" / "source"
    if change == "add":
        (directory / "30-c.js").write_text("var added = 3;\n", encoding="utf-8")
    else:
        (directory / "20-b.js").unlink()
    _ok(make_site.make("install"))
    assert make_site.versions("js") == [1, 2]


def test_failed_install_fails_make_and_the_fix_installs(make_site: MakeSite) -> None:
    _ok(make_site.make("install"))
    broken = make_site.static / "js" / "source" / "20-b.js"
    broken.write_text("function (\n", encoding="utf-8")
    failed = make_site.make("install")
    assert failed.returncode != 0
    assert "20-b.js" in failed.stdout + failed.stderr
    assert make_site.versions("js") == [1]

    broken.write_text(JS_B + "var fixed = 1;\n", encoding="utf-8")
    _ok(make_site.make("install"))
    assert make_site.versions("js") == [1, 2]


def test_clean_forgets_state_but_keeps_installed_versions(make_site: MakeSite) -> None:
    _ok(make_site.make("install"))
    installed = sorted(p.relative_to(make_site.static) for p in make_site.static.rglob("main.*"))
    assert installed

    # Zero-config mode: the cache is in the user's cache home, never in the served root.
    cache = _zero_config_cache(make_site.static)
    assert (cache / "CACHEDIR.TAG").is_file()
    assert not list(make_site.static.rglob("*cache*"))
    _ok(make_site.make("clean"))
    assert not cache.exists()
    assert make_site.calls()[-1] == "-C static cache clear"
    assert (
        sorted(p.relative_to(make_site.static) for p in make_site.static.rglob("main.*"))
        == installed
    )

    _ok(make_site.make("install"))
    assert make_site.versions("js") == [1]


def test_static_directory_is_overridable(make_site: MakeSite) -> None:
    moved = make_site.root / "public"
    moved.mkdir()
    make_site.static.rename(moved / "assets")
    site = MakeSite(make_site.root, "public/assets")

    _ok(site.make("install", "STATIC=public/assets"))
    assert site.calls() == ["-C public/assets install"]
    assert site.versions("js") == [1]
    assert not (make_site.root / "static").exists()
    assert "up to date" in _ok(site.make("install", "STATIC=public/assets"))


@pytest.mark.parametrize("broken", [False, True])
def test_check_target_checks_and_installs_nothing(make_site: MakeSite, broken: bool) -> None:
    if broken:
        (make_site.static / "js" / "source" / "20-b.js").write_text("var = ;\n", encoding="utf-8")
    result = make_site.make("check")
    output = result.stdout + result.stderr
    assert make_site.calls() == ["-C static check"]
    assert (result.returncode != 0) == broken, output
    if broken:
        assert "20-b.js" in output
    assert make_site.versions("js") == []


def test_watch_target_runs_assetbuild_watch(make_site: MakeSite) -> None:
    result = make_site.make("watch", "-n")
    assert _ok(result).strip().endswith("-C static watch")
    assert make_site.calls() == []


# The README's layout: the config beside the static root, sources that are not in */source.
CONFIG_SOURCES_INSIDE = """root = "static"

[[bundle]]
output = "js/app.js"
sources = ["src/**/*.js"]
"""


def test_config_whose_sources_are_not_in_a_source_directory(make_site: MakeSite) -> None:
    config = make_site.root / "assetbuild.toml"
    config.write_text(CONFIG_SOURCES_INSIDE, encoding="utf-8")
    nested = make_site.static / "src" / "deep" / "er"
    nested.mkdir(parents=True)
    (nested / "a.js").write_text("var a = 1;\n", encoding="utf-8")
    _ok(make_site.make("install"))
    assert make_site.versions("js") == [1]
    assert "up to date" in _ok(make_site.make("install"))

    (nested / "a.js").write_text("var a = 2;\n", encoding="utf-8")
    _ok(make_site.make("install"))
    assert make_site.versions("js") == [1, 2]
    (nested / "b.js").write_text("var b = 1;\n", encoding="utf-8")  # a new file, deep down
    _ok(make_site.make("install"))
    assert make_site.versions("js") == [1, 2, 3]
    app = (make_site.static / "js" / "3" / "app.js").read_text(encoding="utf-8")
    assert "b=1" in app.replace(" ", "")


def test_config_change_rebuilds_and_clean_removes_its_cache(make_site: MakeSite) -> None:
    config = make_site.root / "assetbuild.toml"
    config.write_text(CONFIG_JS_ONLY, encoding="utf-8")
    _ok(make_site.make("install"))
    assert make_site.versions("js") == [1]
    assert make_site.versions("css") == []
    assert "up to date" in _ok(make_site.make("install"))

    config.write_text(CONFIG_JS_ONLY + CONFIG_CSS_BUNDLE, encoding="utf-8")
    _ok(make_site.make("install"))
    assert make_site.versions("css") == [1]
    assert make_site.versions("js") == [1]

    assert (make_site.root / ".assetbuild-cache").is_dir()
    _ok(make_site.make("clean"))
    assert not (make_site.root / ".assetbuild-cache").exists()
    assert make_site.versions("js") == [1]
    assert make_site.versions("css") == [1]


CONFIG_JS_ONLY = """root = "static"

[[bundle]]
output = "js/main.js"
sources = ["js/source/*.js"]
"""

CONFIG_CSS_BUNDLE = """
[[bundle]]
output = "css/main.css"
sources = ["css/source/*.css"]
"""
