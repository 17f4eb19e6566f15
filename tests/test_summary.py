"""summary: the lines and JSON documents a run prints, from what the library returns."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assetbuild import summary
from assetbuild.build.pipeline import BuildOptions, InstallOutcome, install
from assetbuild.commands import watch_lines
from assetbuild.config import Overrides, load_config
from assetbuild.diagnostics import Diagnostic, Location
from assetbuild.errors import ConfigError, SourceError
from assetbuild.watch import Rebuild

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
FILES = {
    "js/source/a.js": "var a = 1;\n",
    "css/source/a.css": "body { color: red; }\n",
}

SIZES = ["bundle", "files", "raw", "min", "gzip"]


def _install(site: Path, **kwargs: Any) -> InstallOutcome:
    config = load_config(site, None, Overrides(), {})
    return install(config, BuildOptions(use_cache=False), **kwargs)


@pytest.fixture
def site(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    site: Path = make_site(FILES)
    monkeypatch.chdir(site)  # paths are shown relative to the working directory
    return site


def test_install_json_names_each_bundle_area_and_the_manifest(site: Path) -> None:
    doc = summary.install_json(_install(site), dry_run=False)
    assert set(doc) == {
        "ok", "command", "dry_run", "bundles", "areas", "manifest", "diagnostics",
        "accepted_warnings",
    }  # fmt: skip
    assert doc["accepted_warnings"] == {"count": 0, "by_warning": {}}
    assert (doc["ok"], doc["command"], doc["dry_run"]) == (True, "install", False)
    assert doc["areas"] == [
        {"area": "css", "action": "created", "version": 1, "previous": None},
        {"area": "js", "action": "created", "version": 1, "previous": None},
    ]
    js = next(b for b in doc["bundles"] if b["name"] == "js/main.js")
    assert set(js) == {
        "name",
        "kind",
        "sources",
        "files",
        "raw_size",
        "size",
        "gzip_size",
        "minified_by",
        "path",
        "action",
        "map",
    }
    assert js["map"] is None  # no source map asked for
    assert (js["path"], js["action"], js["sources"]) == (
        "js/1/main.js",
        "created js/1",
        ["js/source/a.js"],
    )
    assert doc["manifest"] == str(site / "manifest.json")


def test_install_summary_says_what_happened_then_up_to_date(site: Path) -> None:
    config = load_config(site, None, Overrides(), {})
    first = summary.install_summary(config, _install(site))
    assert first[0].split() == [*SIZES, "change", "installed", "action"]
    assert re.fullmatch(
        r"js/main\.js +1 +\d+ B +\d+ B +\d+ B +new  js/1/main\.js +created js/1", first[2]
    )
    assert first[-1] == "manifest: manifest.json"
    again = summary.install_summary(config, _install(site))
    assert again[2].endswith("=  js/1/main.js    up to date")
    assert again[-1] == "up to date"
    (site / "js/source/a.js").write_text("var a = 22;\n")
    dry = summary.install_summary(config, _install(site, dry_run=True), dry_run=True)
    assert "new version js/2" in dry[2] and dry[-1] == "dry run: nothing was written"


def test_a_br_column_only_when_a_variant_has_one(site: Path) -> None:
    # Large enough to be worth compressing.
    (site / "js/source/a.js").write_text("".join(f"var v{i} = {i};\n" for i in range(300)))
    config = load_config(site, None, Overrides(), {})
    outcome = _install(site, compress=("gzip", "br"))
    lines = summary.install_summary(config, outcome)
    assert lines[0].split() == [*SIZES, "br", "change", "installed", "action"]
    assert set(outcome.variant_sizes["js/main.js"]) == {"gz", "br"}
    manifest = json.loads((site / "manifest.json").read_bytes())  # what the manifest lists
    assert outcome.variant_sizes == {
        name: {k: v["size"] for k, v in entry["variants"].items()}
        for name, entry in manifest["bundles"].items()
    }
    # A dry run's table has the same columns and sizes (of the variants it made, unwritten).
    dry = _install(site, dry_run=True, compress=("gzip", "br"))
    assert dry.variant_sizes == outcome.variant_sizes
    assert summary.install_summary(config, dry, dry_run=True)[0] == lines[0]


def test_status_before_after_and_since_the_install(site: Path) -> None:
    config = load_config(site, None, Overrides(), {})

    def states() -> list[summary.BundleStatus]:
        return summary.bundle_status(config, _install(site, dry_run=True).build)

    before = states()
    assert [(s.name, s.versions, s.current, s.state) for s in before] == [
        ("css/main.css", (), None, "not installed"),
        ("js/main.js", (), None, "not installed"),
    ]
    _install(site)
    installed = states()
    assert summary.status_lines(installed) == [
        "bundle        versions  current  state",
        "css/main.css  1         1        up to date",
        "js/main.js    1         1        up to date",
    ]
    (site / "js/source/a.js").write_text("var a = 22;\n")
    doc = summary.status_json(states())
    assert doc["changed"] == ["js/main.js"]
    assert [b["state"] for b in doc["bundles"]] == ["up-to-date", "changed"]
    assert doc["bundles"][1] == {
        "name": "js/main.js",
        "versions": [1],
        "current": 1,
        "state": "changed",
    }


@pytest.mark.parametrize(
    ("versions", "shown"),
    [((), "-"), ((3,), "3"), ((1, 2, 3, 4), "1, 2, 3, 4"), ((2, 3, 4, 5, 9), "2..9 (5)")],
)
def test_ranges(versions: tuple[int, ...], shown: str) -> None:
    assert summary.ranges(versions) == shown


def _diag(message: str, severity: Any = "error") -> Diagnostic:
    return Diagnostic(severity, message, Location("js/source/a.js", 1, 5))


def test_error_message_adds_only_what_the_diagnostics_do_not_say() -> None:
    two = [_diag("bad token"), _diag("unused", "warning")]
    assert summary.error_message(SourceError("1 error in js/main.js", two)) == (
        "assetbuild: 1 error in js/main.js"
    )
    assert summary.error_message(ConfigError("no sources")) == "assetbuild: error: no sources"
    assert summary.error_message(ConfigError("", [_diag("bad key")])) == ""
    assert summary.error_message(ConfigError("config is broken", two)) == (
        "assetbuild: config is broken (1 error, 1 warning)"
    )
    doc = summary.error_json(ConfigError("", [_diag("bad key")]))
    assert (doc["ok"], doc["exit_code"], doc["error"]) == (False, 2, "bad key")
    assert doc["diagnostics"][0]["line"] == 1 and doc["diagnostics"][0]["column"] == 5


def test_watch_what_names_renames_and_changes_a_few_at_a_time() -> None:
    assert watch_lines.watch_what(Rebuild((), (), 0.0, first=True)) == "started"
    assert watch_lines.watch_what(Rebuild((), ("js/main.js",), 0.0)) == "rebuild"
    changed = tuple(f"js/source/{c}.js" for c in "abcde")
    assert watch_lines.watch_what(Rebuild(changed, (), 0.0)) == (
        "js/source/a.js, js/source/b.js, js/source/c.js and 2 more changed"
    )
    renamed = (("old.js", "new.js"),)
    assert watch_lines.watch_what(
        Rebuild(("old.js", "new.js", "x.js"), (), 0.0, renamed=renamed)
    ) == ("old.js renamed to new.js, x.js changed")


def _readme_keys(sentence: str) -> set[str]:
    return set(re.findall(r'"(\w+)":', sentence))


def test_watch_events_have_the_keys_the_readme_documents(site: Path) -> None:
    start = README.index("`watch --json` prints")
    documented = README[start : README.index("\n\n", start)]
    build_keys = _readme_keys(documented[documented.index('{"event": "build"') :])
    outcome = _install(site)
    good = Rebuild(("js/source/a.js",), ("js/main.js",), 0.0123, outcome=outcome)
    event = watch_lines.watch_event(good, [])
    assert set(event) == build_keys
    assert event["installed"] == {"js/main.js": "js/1/main.js"} and event["ms"] == 12
    assert watch_lines.watch_installed(good) == ["js/main.js installed into js/1"]
    error = SourceError("1 error", [_diag("bad")])
    bad = Rebuild(("js/source/a.js",), ("js/main.js",), 0.0, error=error, failed=("js/main.js",))
    failed = watch_lines.watch_failure_event(bad, error)
    assert set(failed) == build_keys | {"error", "failed", "config_reloaded"}
    assert (failed["ok"], failed["failed"], failed["config_reloaded"]) == (
        False,
        ["js/main.js"],
        True,
    )
    lines = watch_lines.watch_failed_lines(bad, error, "12:00:00")
    assert lines == [
        "12:00:00 js/source/a.js changed -> js/main.js failed: 1 error; "
        "the last good output stays installed (0 ms)"
    ]


def test_plain_makes_dataclasses_json_ready() -> None:
    @dataclass(frozen=True)
    class Decision:
        path: Path
        versions: tuple[int, ...]

    assert summary.plain([Decision(Path("js/1"), (1, 2))]) == [{"path": "js/1", "versions": [1, 2]}]
