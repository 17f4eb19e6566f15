"""The real `assetbuild` command, run as users and CI run it: a subprocess per call."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "fixtures" / "site" / "static"
STATIC = "https://static.example.com"


def assetbuild_exe() -> list[str]:
    """The installed console script when it is on PATH next to this Python, else the module."""
    exe = Path(sys.executable).with_name("assetbuild")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "assetbuild"]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    full_env["NO_COLOR"] = "1"
    full_env.update(env or {})
    return subprocess.run(
        [*assetbuild_exe(), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the bundled example site (zero-config layout)."""
    dest = tmp_path / "static"

    def ignore(directory: str, names: list[str]) -> set[str]:
        # Leave out what an earlier run of the README's command installed there.
        return {
            n
            for n in names
            if n.startswith(".")
            or n == "manifest.json"
            or (n.isdigit() and os.path.isdir(os.path.join(directory, n)))
        }

    shutil.copytree(EXAMPLE, dest, ignore=ignore)
    return dest


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_install_example_site_then_up_to_date_then_new_version(site: Path) -> None:
    first = run("install", "--static-url", STATIC, cwd=site)
    assert first.returncode == 0, first.stderr
    js1 = site / "js" / "1" / "main.js"
    css1 = site / "css" / "1" / "main.css"
    assert js1.is_file() and css1.is_file()
    assert STATIC + "/img/logo.svg" in js1.read_text()
    assert "{$static}" not in js1.read_text() + css1.read_text()
    manifest = json.loads((site / "manifest.json").read_text())
    entry = manifest["bundles"]["js/main.js"]
    assert entry["path"] == "js/1/main.js"
    assert entry["url"] == f"{STATIC}/js/1/main.js"
    assert entry["integrity"].startswith("sha384-")
    assert entry["size"] == js1.stat().st_size
    old_bytes = js1.read_bytes()

    second = run("install", "--static-url", STATIC, cwd=site)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert not (site / "js" / "2").exists()

    write(site / "js" / "source" / "40-extra.js", "window.extra = 1;\n")
    third = run("install", "--static-url", STATIC, cwd=site)
    assert third.returncode == 0, third.stderr
    assert (site / "js" / "2" / "main.js").is_file()
    assert js1.read_bytes() == old_bytes  # a published URL never changes its bytes
    assert not (site / "css" / "2").exists()  # css did not change
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["bundles"]["js/main.js"]["path"] == "js/2/main.js"
    assert manifest["bundles"]["css/main.css"]["path"] == "css/1/main.css"


def test_dash_C_runs_in_directory(site: Path, tmp_path: Path) -> None:
    result = run("-C", str(site), "install", "--static-url", STATIC, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (site / "js" / "1" / "main.js").is_file()


def test_environment_variable_sets_static_url(site: Path) -> None:
    result = run("install", cwd=site, env={"ASSETBUILD_STATIC_URL": "https://cdn.example.org"})
    assert result.returncode == 0, result.stderr
    assert "https://cdn.example.org/img/logo.svg" in (site / "js" / "1" / "main.js").read_text()


def test_syntax_error_reports_original_location_and_installs_nothing(site: Path) -> None:
    write(site / "js" / "source" / "25-broken.js", "var ok = 1;\nvar x = (1 + );\n")
    result = run("install", "--static-url", STATIC, cwd=site)
    assert result.returncode == 1
    first_line = next(line for line in result.stderr.splitlines() if ": error: " in line)
    assert (
        first_line
        == os.path.join("js", "source", "25-broken.js") + ":2:14: error: Unexpected token )"
    )
    assert "Traceback" not in result.stderr
    assert not (site / "js" / "1").exists()
    assert not (site / "css" / "1").exists()  # a build with any error installs nothing
    assert not (site / "manifest.json").exists()


def test_every_error_of_a_run_is_reported(site: Path) -> None:
    write(site / "js" / "source" / "25-a.js", "let = ;\n")
    write(site / "js" / "source" / "26-b.js", "if (x {}\n")
    write(site / "css" / "source" / "20-c.css", ".a { color: red;\n")
    result = run("check", "--static-url", STATIC, cwd=site)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    paths = {line.split(":")[0] for line in errors}
    assert {
        os.path.join("js", "source", "25-a.js"),
        os.path.join("js", "source", "26-b.js"),
        os.path.join("css", "source", "20-c.css"),
    } <= paths


def test_error_shows_source_line_and_caret(site: Path) -> None:
    write(site / "js" / "source" / "25-broken.js", "var a = [1, 2;\n")
    result = run("check", "--static-url", STATIC, cwd=site)
    lines = result.stderr.splitlines()
    index = next(i for i, line in enumerate(lines) if ": error: " in line)
    column = int(lines[index].split(":")[2])
    assert lines[index + 1].strip() == "var a = [1, 2;"
    caret_line = lines[index + 2]
    assert caret_line.strip() == "^"
    assert caret_line.index("^") - lines[index + 1].index("v") == column - 1


def test_missing_static_url_is_an_error_for_install_and_a_warning_for_check(site: Path) -> None:
    result = run("install", cwd=site)
    assert result.returncode == 1
    assert os.path.join("js", "source", "10-config.js") + ":3:" in result.stderr
    assert not (site / "js" / "1").exists()
    checked = run("check", cwd=site)
    assert checked.returncode == 0, checked.stderr
    assert "warning" in checked.stderr


def test_config_error_exits_2_naming_file_and_key(site: Path) -> None:
    write(site / "assetbuild.toml", '[[bundle]]\noutput = "js/main.js"\nsources = []\n')
    result = run("install", cwd=site)
    assert result.returncode == 2
    assert "assetbuild.toml" in result.stderr
    assert "sources" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_option_is_usage_error(site: Path) -> None:
    result = run("install", "--no-such-option", cwd=site)
    assert result.returncode == 2


def test_check_writes_nothing(site: Path) -> None:
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    result = run("check", "--static-url", STATIC, cwd=site)
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before


def test_build_out_writes_plain_files(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("build", "--out", str(out), "--static-url", STATIC, cwd=site)
    assert result.returncode == 0, result.stderr
    assert (out / "js" / "main.js").is_file()
    assert (out / "css" / "main.css").is_file()
    assert not (site / "js" / "1").exists()


def test_dry_run_writes_nothing(site: Path) -> None:
    result = run("install", "--dry-run", "--static-url", STATIC, cwd=site)
    assert result.returncode == 0, result.stderr
    assert not (site / "js" / "1").exists()
    assert not (site / "manifest.json").exists()


def test_bump_and_into_current(site: Path) -> None:
    assert run("install", "--static-url", STATIC, cwd=site).returncode == 0
    bumped = run("install", "--bump", "--static-url", STATIC, cwd=site)
    assert bumped.returncode == 0, bumped.stderr
    assert (site / "js" / "2" / "main.js").read_bytes() == (
        site / "js" / "1" / "main.js"
    ).read_bytes()
    write(site / "js" / "source" / "40-extra.js", "window.extra = 2;\n")
    current = run("install", "--into-current", "--static-url", STATIC, cwd=site)
    assert current.returncode == 0, current.stderr
    assert not (site / "js" / "3").exists()
    assert "window.extra" in (site / "js" / "2" / "main.js").read_text()


def test_json_report(site: Path) -> None:
    result = run("install", "--json", "--static-url", STATIC, cwd=site)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    names = {b["name"] for b in report["bundles"]}
    assert names == {"js/main.js", "css/main.css"}
    js = next(b for b in report["bundles"] if b["name"] == "js/main.js")
    assert js["files"] == 4
    assert 0 < js["gzip_size"] < js["size"] < js["raw_size"]


def test_json_report_on_error(site: Path) -> None:
    write(site / "js" / "source" / "25-broken.js", "var = 1;\n")
    result = run("check", "--json", "--static-url", STATIC, cwd=site)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["diagnostics"][0]["line"] == 1


def test_summary_lists_sizes_and_action(site: Path) -> None:
    result = run("install", "--static-url", STATIC, cwd=site)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("js/main.js"))
    assert "js/1/main.js" in line
    assert "created" in line
    assert "kB" in line or " B" in line


def test_quiet_prints_nothing_on_success(site: Path) -> None:
    result = run("install", "-q", "--static-url", STATIC, cwd=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_no_color_when_not_a_terminal(site: Path) -> None:
    write(site / "js" / "source" / "25-broken.js", "var = 1;\n")
    result = run("check", "--static-url", STATIC, cwd=site, env={"FORCE_COLOR": ""})
    assert "\x1b[" not in result.stderr


def test_force_color_colours_a_log_unless_no_color(site: Path) -> None:
    write(site / "js" / "source" / "25-broken.js", "var = 1;\n")
    forced = run(
        "check", "--static-url", STATIC, cwd=site, env={"NO_COLOR": "", "FORCE_COLOR": "1"}
    )
    assert forced.returncode == 1 and "\x1b[1;31merror:" in forced.stderr
    both = run("check", "--static-url", STATIC, cwd=site, env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert both.returncode == 1 and "\x1b[" not in both.stderr and "error:" in both.stderr


def test_status_check_exits_1_when_sources_changed(site: Path) -> None:
    assert run("install", "--static-url", STATIC, cwd=site).returncode == 0
    clean = run("status", "--check", "--static-url", STATIC, cwd=site)
    assert clean.returncode == 0, clean.stderr
    write(site / "css" / "source" / "20-more.css", ".more { color: blue }\n")
    dirty = run("status", "--check", "--static-url", STATIC, cwd=site)
    assert dirty.returncode == 1
    assert "changed" in dirty.stdout


def test_version_flag() -> None:
    result = run("--version", cwd=REPO)
    assert result.returncode == 0
    assert "assetbuild" in result.stdout


def test_python_dash_m_is_the_same_command(site: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    env["NO_COLOR"] = "1"

    def module(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assetbuild", *args],
            cwd=site,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    usage = module("--help")
    assert usage.returncode == 0 and "python -m assetbuild" in usage.stdout
    built = module("install", "--static-url", STATIC)
    assert built.returncode == 0, built.stderr
    assert json.loads((site / "manifest.json").read_text())["bundles"]
    assert module("status", "--check", "--static-url", STATIC).returncode == 0
    broken = module("install", "-c", "missing.toml")
    assert broken.returncode == 2 and "missing.toml" in broken.stderr


def test_compress_writes_variants_and_summary_shows_their_sizes(site: Path) -> None:
    result = run("install", "--compress", "gzip,br", "--static-url", STATIC, cwd=site)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[:6] == ["bundle", "files", "raw", "min", "gzip", "br"]
    manifest = json.loads((site / "manifest.json").read_text())
    variants = manifest["bundles"]["js/main.js"]["variants"]
    assert (site / variants["gz"]["path"]).stat().st_size == variants["gz"]["size"]
    assert (site / variants["br"]["path"]).stat().st_size == variants["br"]["size"]
    row = next(line for line in result.stdout.splitlines() if line.startswith("js/main.js")).split()
    assert f"{variants['br']['size']} B" in " ".join(row)


def test_unknown_compress_method_is_a_usage_error(site: Path) -> None:
    result = run("install", "--compress", "zip", "--static-url", STATIC, cwd=site)
    assert result.returncode == 2
    assert "zip" in result.stderr


def test_verbose_names_the_fallbacks_and_the_time(tmp_path: Path) -> None:
    site = tmp_path / "static"
    write(site / "js/source/a.js", "var a = 1;\n")
    write(site / "js/source/b.js", "class A {\n  #a = 1\n  #b = 2\n  get() { return this.#a }\n}\n")
    quiet = run("install", cwd=site)
    assert quiet.returncode == 0 and "assetbuild:" not in quiet.stderr
    done = run("install", "-v", "--bump", cwd=site)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "assetbuild: js/main.js: 2 files: 1 rjsmin; 1 safe minifier (js/source/b.js)" in lines
    assert lines[-1].startswith("assetbuild: done in ") and lines[-1].endswith(" s")
    assert "js/main.js" in done.stdout  # the summary is unchanged on stdout


def test_minify_details_lists_at_most_a_few_names() -> None:
    from assetbuild.build.results import Built
    from assetbuild.report import minify_details

    names = tuple(f"s/{i}.css" for i in range(8))
    methods = ("rcssmin",) + ("safe",) * 6 + ("none",)
    built = Built("css/main.css", "css", names, 10, b"", methods, ())
    checked = Built("js/main.js", "js", ("a.js",), 1, b"", ("off",), ())
    one = Built("js/one.js", "js", ("b.js",), 1, b"", ("rjsmin",), ())
    assert minify_details([built, checked, one], shown=2) == [
        "css/main.css: 8 files: 1 rcssmin; 6 safe minifier (s/1.css, s/2.css, and 4 more); "
        "1 unminified (s/7.css)",
        "js/one.js: 1 file: 1 rjsmin",
    ]
