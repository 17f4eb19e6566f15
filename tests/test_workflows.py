"""The workflows around releases (issue 13, section 3), through the real command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run, site  # noqa: F401  (the fixture)


def test_contradicting_policy_flags_are_a_usage_error(site: Path) -> None:  # noqa: F811
    result = run("install", "--bump", "--into-current", "--static-url", "/s", cwd=site)
    assert result.returncode == 2
    assert "--bump and --into-current contradict each other" in result.stderr
    assert not (site / "js" / "1").exists()
    watched = run("watch", "--auto", "--bump", cwd=site)
    assert watched.returncode == 2
    assert "--auto and --bump contradict each other" in watched.stderr
    same = run("install", "--bump", "--bump", "--static-url", "/s", "-q", cwd=site)
    assert same.returncode == 0, same.stderr


def test_dry_run_table_has_the_columns_of_a_real_run(site: Path) -> None:  # noqa: F811
    args = ("--static-url", "/s", "--compress", "gzip,br")
    dry = run("install", "--dry-run", *args, cwd=site)
    real = run("install", *args, cwd=site)
    assert dry.returncode == 0 and real.returncode == 0, dry.stderr + real.stderr
    dry_lines, real_lines = dry.stdout.splitlines(), real.stdout.splitlines()
    assert dry_lines[0] == real_lines[0]
    assert dry_lines[0].split() == [
        "bundle", "files", "raw", "min", "gzip", "br", "change", "installed", "action",
    ]  # fmt: skip
    assert dry_lines[1:3] == real_lines[1:3]
    assert dry_lines[-1] == "dry run: nothing was written"


def test_status_needs_no_token_values(site: Path) -> None:  # noqa: F811
    installed = run("install", "--static-url", "/static", "-q", cwd=site)
    assert installed.returncode == 0, installed.stderr
    status = run("status", "--check", cwd=site)
    assert status.returncode == 0, status.stderr
    assert "has no value" not in status.stderr
    assert "changed" not in status.stdout
    # An edit is still a change: exit 1.
    source = sorted((site / "js" / "source").glob("*.js"))[-1]
    source.write_text(source.read_text() + "\nvar edited = 1;\n")
    changed = run("status", "--check", "--json", cwd=site)
    assert changed.returncode == 1, changed.stderr
    states = {s["name"]: s["state"] for s in json.loads(changed.stdout)["bundles"]}
    assert states["js/main.js"] == "changed" and states["css/main.css"] == "up-to-date"


def test_init_writes_a_starter_config_and_never_overwrites(site: Path) -> None:  # noqa: F811
    zero = run("install", "--static-url", "/s", "--dry-run", "--json", cwd=site)
    assert zero.returncode == 0, zero.stderr
    made = run("init", cwd=site)
    assert made.returncode == 0, made.stderr
    text = (site / "assetbuild.toml").read_text()
    assert 'output = "js/main.js"' in text and 'sources = ["js/source/*.js"]' in text
    assert "#   js/source/30-main.js" in text and "# static_url = " in text
    # The starter config builds what zero-config mode built, with the cache outside the root.
    configured = run("install", "--static-url", "/s", "--dry-run", "--json", cwd=site)
    assert configured.returncode == 0, configured.stderr
    names = lambda r: [(b["name"], b["size"]) for b in json.loads(r.stdout)["bundles"]]  # noqa: E731
    assert names(configured) == names(zero)
    real = run("install", "--static-url", "/s", "-q", cwd=site)
    assert real.returncode == 0, real.stderr
    assert (site.parent / ".assetbuild-cache").is_dir() and not (
        site / ".assetbuild-cache"
    ).exists()
    again = run("init", cwd=site)
    assert again.returncode == 2
    assert "already exists; init never overwrites" in again.stderr
    assert (site / "assetbuild.toml").read_text() == text


def test_init_in_an_empty_directory_writes_an_example(tmp_path: Path) -> None:
    result = run("init", "-C", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "assetbuild.toml").read_text()
    assert "# [[bundle]]" in text
    check = run("check", cwd=tmp_path)
    assert check.returncode == 2 and "bundle" in check.stderr  # a valid file, but no bundle yet


def test_status_without_a_manifest_takes_a_token_without_value_as_any_value(
    site: Path,  # noqa: F811
) -> None:
    never = run("status", "--check", "--json", cwd=site)
    assert never.returncode == 1, never.stderr  # nothing installed yet: that is a change
    assert "has no value" not in never.stderr and "error" not in never.stderr
    states = {s["name"]: s["state"] for s in json.loads(never.stdout)["bundles"]}
    assert set(states.values()) == {"not-installed"}
    installed = run("install", "--static-url", "https://cdn.example.com/st/", "-q", cwd=site)
    assert installed.returncode == 0, installed.stderr
    assert "{$static}" in "".join(p.read_text() for p in (site / "js" / "source").glob("*.js"))
    (site / "manifest.json").unlink()  # lost (or a PHP manifest): the value is unknown
    status = run("status", "--check", cwd=site)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "changed" not in status.stdout and "has no value" not in status.stderr
    source = sorted((site / "js" / "source").glob("*.js"))[-1]
    source.write_text(source.read_text() + "\nvar edited = 1;\n")
    changed = run("status", "--check", cwd=site)
    assert changed.returncode == 1 and "changed" in changed.stdout
