"""The no-change fast path: taken when nothing changed, and never when anything did."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetbuild import sources, stamps
from assetbuild.build.pipeline import install
from assetbuild.build.results import BuildOptions, InstallOutcome
from assetbuild.cache import state
from assetbuild.config import Overrides, load_config

CONFIG = """\
static_url = "/static"

[[bundle]]
output = "js/main.js"
sources = ["js/source/*.js"]

[[bundle]]
output = "css/main.css"
sources = ["css/source/**/*.css"]
"""

FILES = {
    "js/source/a.js": "var a = 1;\n",
    "js/source/b.js": "function b() { return a; }\n",
    "css/source/a.css": "body { color: red; }\n",
    "css/source/deep/b.css": "p { margin: 0; }\n",
}


def age(site: Path, seconds: float = 60.0) -> None:
    """Make every source and the config old, so stamps are trusted (see state.RACY_NS)."""
    past = time.time() - seconds
    for path in [*site.rglob("source/**/*"), site / "assetbuild.toml"]:
        if path.is_file():
            os.utime(path, (past, past))


class Runner:
    """Runs installs in-process and tells whether the fast path answered."""

    def __init__(self, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.site = site
        self.reads = 0
        self.read_paths: list[str] = []
        self.environ: dict[str, str] = {}
        self.overrides = Overrides()
        self.options = BuildOptions()
        self.compress: tuple[str, ...] | None = None
        real = sources.read_source

        def counting(path: Path, display: str) -> Any:
            self.reads += 1
            self.read_paths.append(Path(path).relative_to(site).as_posix())
            return real(path, display)

        monkeypatch.setattr(sources, "read_source", counting)
        self.answered = 0
        real_up_to_date = state.up_to_date

        def answering(*args: Any, **kwargs: Any) -> Any:
            outcome = real_up_to_date(*args, **kwargs)
            self.answered += outcome is not None
            return outcome

        monkeypatch.setattr(state, "up_to_date", answering)
        monkeypatch.chdir(site)

    def install(self, **kwargs: Any) -> tuple[bool, InstallOutcome]:
        """(the state answered "up to date" and no source was read, outcome)."""
        config = load_config(self.site, None, self.overrides, self.environ)
        before, answered = self.reads, self.answered
        outcome = install(config, self.options, compress=self.compress, **kwargs)
        self.last_answered = self.answered > answered
        return self.reads == before and self.last_answered, outcome


@pytest.fixture
def runner(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> Runner:
    site = make_site(FILES, CONFIG)
    age(site)
    # The source index trusts a stamp once its ctime (which `age` cannot set) is settled too.
    monkeypatch.setattr(stamps, "RACY_NS", 50_000_000)
    time.sleep(0.06)
    r = Runner(site, monkeypatch)
    fast, _ = r.install()
    assert not fast  # the first install must build
    return r


def test_fast_path_when_nothing_changed(runner: Runner) -> None:
    fast, outcome = runner.install()
    assert fast
    report: Any = outcome.report
    assert [a.action for a in report.areas] == ["up-to-date", "up-to-date"]
    assert [(f.name, f.path) for a in report.areas for f in a.files] == [
        ("css/main.css", "css/1/main.css"),
        ("js/main.js", "js/1/main.js"),
    ]
    full = {b.output: b.data for b in outcome.build.bundles}
    assert full["js/main.js"] == (runner.site / "js/1/main.js").read_bytes()
    assert outcome.build.bundles[0].sources  # the summary still names the sources
    assert runner.install()[0]


def test_fast_path_outcome_matches_the_full_path(runner: Runner) -> None:
    _, fast = runner.install()
    runner.options = BuildOptions(use_cache=True, only=frozenset({"js/main.js", "css/main.css"}))
    slow_taken, slow = runner.install()  # `only` disables the fast path
    assert not slow_taken
    assert [(b.output, b.data, b.sources, b.raw_size, b.methods) for b in fast.build.bundles] == [
        (b.output, b.data, b.sources, b.raw_size, b.methods) for b in slow.build.bundles
    ]
    assert fast.report == slow.report
    assert fast.build.diagnostics == slow.build.diagnostics


def replace_same_size_same_second(site: Path) -> None:
    path = site / "js/source/a.js"
    st = path.stat()
    path.write_text("var a = 2;\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # same second, 1 ns later


def replace_restoring_mtime(site: Path) -> None:
    path = site / "js/source/a.js"
    st = path.stat()
    path.write_text("var a = 3;\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # only the ctime tells


def add_matching_file(site: Path) -> None:
    (site / "css/source/deep/c.css").write_text("i { color: blue; }\n")
    age(site)


def add_hidden_and_unmatched(site: Path) -> None:
    (site / "js/source/.hidden.js").write_text("var hidden = 1;\n")
    (site / "js/source/notes.txt").write_text("not a source\n")


def tamper_installed(site: Path) -> None:
    path = site / "js/1/main.js"
    st = path.stat()
    data = path.read_bytes()
    path.write_bytes(data[:-1] + (b"X" if data[-1:] != b"X" else b"Y"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def edit_manifest(site: Path) -> None:
    path = site / "manifest.json"
    data = json.loads(path.read_text())
    data["bundles"]["js/main.js"]["integrity"] = "sha384-forged"
    path.write_text(json.dumps(data))


def new_version_dir(site: Path) -> None:
    shutil.copytree(site / "js/1", site / "js/2")


CHANGES: dict[str, Callable[[Path], None]] = {
    "edit-same-size-same-second": replace_same_size_same_second,
    "edit-restoring-mtime": replace_restoring_mtime,
    "new-file-matching-glob": add_matching_file,
    "deleted-file": lambda s: (s / "js/source/b.js").unlink(),
    "renamed-file": lambda s: (s / "js/source/b.js").rename(s / "js/source/0.js"),
    "config-edit": lambda s: (s / "assetbuild.toml").write_text(
        CONFIG.replace("/static", "/assets")
    ),
    "config-comment": lambda s: (s / "assetbuild.toml").write_text("# note\n" + CONFIG),
    "tampered-installed-file": tamper_installed,
    "deleted-installed-file": lambda s: (s / "css/1/main.css").unlink(),
    "deleted-version-dir": lambda s: shutil.rmtree(s / "js/1"),
    "new-version-dir": new_version_dir,
    "manifest-edited": edit_manifest,
    "manifest-deleted": lambda s: (s / "manifest.json").unlink(),
    "variant-appeared": lambda s: (s / "js/1/main.js.gz").write_bytes(b"stale"),
    "state-corrupt": lambda s: next((s / ".assetbuild-cache/state").glob("*.state")).write_text(
        "{"
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_takes_the_full_path(runner: Runner, change: str) -> None:
    CHANGES[change](runner.site)
    fast, _ = runner.install()
    assert not fast
    # The full path repaired and recorded everything: once old enough, it is fast again.
    age(runner.site)  # (itself a change: new ctimes)
    runner.install()
    assert runner.install()[0]


def test_unrelated_files_do_not_invalidate(runner: Runner) -> None:
    add_hidden_and_unmatched(runner.site)
    assert runner.install()[0]


def test_touching_an_installed_file_is_proven_by_hash(runner: Runner) -> None:
    os.utime(runner.site / "js/1/main.js")
    assert runner.install()[0]


@pytest.mark.parametrize(
    "setting",
    [
        "static-url-option",
        "static-url-env",
        "other-env",
        "token",
        "no-minify",
        "compress",
        "version",
    ],
)
def test_settings_changes_take_the_full_path(
    runner: Runner, setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if setting == "static-url-option":
        runner.overrides = Overrides(static_url="https://cdn.example/")
    elif setting == "static-url-env":
        runner.environ = {"ASSETBUILD_STATIC_URL": "https://cdn.example/"}
    elif setting == "other-env":
        monkeypatch.setenv("ASSETBUILD_SOMETHING", "1")  # unknown to us today: still counts
    elif setting == "token":
        runner.overrides = Overrides(tokens=(("name", "value"),))
    elif setting == "no-minify":
        runner.options = BuildOptions(minify=False)
    elif setting == "compress":
        runner.compress = ("gzip",)
    else:
        monkeypatch.setattr(state, "__version__", "99.0")
    assert not runner.install()[0]
    assert runner.install()[0]


def test_a_freshly_edited_source_is_confirmed_by_content(runner: Runner) -> None:
    (runner.site / "js/source/a.js").write_text("var a = 5;\n")  # mtime: now
    assert not runner.install()[0]
    # Within the timestamp granularity window its stamp proves nothing: the state answers "up to
    # date" only after reading that one file (git's racily clean entries), nothing else.
    runner.read_paths.clear()
    fast, outcome = runner.install()
    assert not fast and runner.last_answered
    assert runner.read_paths == ["js/source/a.js"]
    assert [a.action for a in outcome.report.areas] == ["up-to-date", "up-to-date"]
    # Same stamp, other content (a write the stamp cannot see): built, never answered.
    path = runner.site / "js/source/a.js"
    before = path.stat()
    path.write_text("var a = 6;\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    real_stamp = state.stamps.stamp
    frozen = real_stamp(path)

    def same_stamp(p: Any) -> Any:
        found = real_stamp(p)
        if found is not None and Path(p) == path and frozen is not None:
            return (*frozen[:2], before.st_ctime_ns, *frozen[3:])  # as if ctime had not moved
        return found

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(state.stamps, "stamp", same_stamp)
        _, outcome = runner.install()
        assert not runner.last_answered
    assert b"6" in (runner.site / outcome.report.placed["js/main.js"]).read_bytes()
    age(runner.site)
    assert not runner.install()[0]  # aged: new stamps, built and recorded old
    assert runner.install()[0]


def test_bump_never_takes_the_fast_path(runner: Runner) -> None:
    fast, outcome = runner.install(policy="bump")
    assert not fast
    assert [a.version for a in outcome.report.areas] == [2, 2]  # type: ignore[attr-defined]
    assert runner.install()[0]  # the bumped install was recorded


def test_dry_run_uses_but_never_records_state(runner: Runner) -> None:
    fast, outcome = runner.install(dry_run=True)
    assert fast
    assert outcome.report.dry_run  # type: ignore[attr-defined]
    (runner.site / "js/source/a.js").write_text("var a = 9;\n")
    age(runner.site)
    assert not runner.install(dry_run=True)[0]
    assert not runner.install(dry_run=True)[0]  # a dry run recorded nothing


def test_no_cache_neither_reads_nor_writes_state(runner: Runner) -> None:
    runner.options = BuildOptions(use_cache=False)
    assert not runner.install()[0]
    for path in (runner.site / ".assetbuild-cache").rglob("*"):
        if path.is_file():
            path.unlink()
    assert not runner.install()[0]
    assert not (runner.site / ".assetbuild-cache" / "state").exists() or not any(
        (runner.site / ".assetbuild-cache" / "state").iterdir()
    )


def test_warnings_are_replayed(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site({"js/source/a.js": "var a = '{$undeclared}';\n"})
    age(site)
    r = Runner(site, monkeypatch)
    _, slow = r.install()
    fast, quick = r.install()
    assert fast
    assert slow.build.diagnostics and quick.build.diagnostics == slow.build.diagnostics


def test_state_is_written_atomically_in_the_cache_dir(runner: Runner) -> None:
    config = load_config(runner.site)
    path = state.state_path(config)
    assert path.parent == config.cache_dir / "state"
    raw = path.read_bytes()
    assert raw.startswith(state._MAGIC)  # then the key's id and the signature
    data = json.loads(raw[len(state._MAGIC) + 8 + 32 :])
    assert data["format"] == state.STATE_FORMAT
    assert {Path(p).name for p, _ in data["sources"]} == {"a.js", "b.js", "a.css", "b.css"}
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


# --- one bundle edited: the others are taken from the last install -----------------------------------


def _fresh_build(site: Path) -> dict[str, bytes]:
    """What a build from scratch (no cache, no state) makes of the site now."""
    from assetbuild.build.pipeline import build

    config = load_config(site, None, Overrides(), {})
    return {b.output: b.data for b in build(config, BuildOptions(use_cache=False)).bundles}


def _installed(outcome: InstallOutcome, site: Path) -> dict[str, bytes]:
    return {name: (site / path).read_bytes() for name, path in outcome.report.placed.items()}


def test_an_edit_reads_only_its_own_bundle(runner: Runner) -> None:
    (runner.site / "js/source/a.js").write_text("var a = 2;\n")  # young: its stamp proves nothing
    runner.read_paths.clear()
    fast, outcome = runner.install()
    assert not fast
    # No CSS read, and not b.js either: the source index knows its result by its stamp.
    assert sorted(runner.read_paths) == ["js/source/a.js"]
    assert _installed(outcome, runner.site) == _fresh_build(runner.site)
    css = next(b for b in outcome.build.bundles if b.output == "css/main.css")
    assert css.sources == ("css/source/a.css", "css/source/deep/b.css")  # the summary still knows
    # The edited file was recorded young: the next edit elsewhere rebuilds its bundle too.
    (runner.site / "css/source/a.css").write_text("body { color: blue; }\n")
    runner.read_paths.clear()
    _, outcome = runner.install()
    assert {p.split("/")[0] for p in runner.read_paths} == {"js", "css"}
    assert _installed(outcome, runner.site) == _fresh_build(runner.site)
    age(runner.site)  # both old now: one more install records them old
    time.sleep(0.06)  # ... once their ctimes settle too (the runner's short window)
    runner.install()
    (runner.site / "js/source/b.js").write_text("function b() { return 2; }\n")
    runner.read_paths.clear()
    _, outcome = runner.install()
    assert sorted(runner.read_paths) == ["js/source/b.js"]
    assert _installed(outcome, runner.site) == _fresh_build(runner.site)


def test_a_hand_edited_installed_bundle_is_not_reused(runner: Runner) -> None:
    installed = runner.site / "css/1/main.css"
    installed.write_text("body{color:green}")  # by hand, over the published bytes
    (runner.site / "js/source/a.js").write_text("var a = 3;\n")
    runner.read_paths.clear()
    _, outcome = runner.install()
    css = next(b for b in outcome.build.bundles if b.output == "css/main.css")
    assert not css.proven  # rebuilt (its unchanged sources' results found by the source index)
    assert _installed(outcome, runner.site) == _fresh_build(runner.site)


@pytest.mark.parametrize(
    "change",
    ["add a source", "remove a source", "rename a source", "reorder the globs", "settings"],
)
def test_a_bundle_whose_inputs_changed_is_built(runner: Runner, change: str) -> None:
    site = runner.site
    if change == "add a source":
        (site / "css/source/c.css").write_text("a { b: c; }\n")
    elif change == "remove a source":
        (site / "css/source/deep/b.css").unlink()
    elif change == "rename a source":
        (site / "css/source/a.css").rename(site / "css/source/z.css")
    elif change == "reorder the globs":
        config = (site / "assetbuild.toml").read_text()
        (site / "assetbuild.toml").write_text(
            config.replace(
                '["css/source/**/*.css"]', '["css/source/deep/*.css", "css/source/*.css"]'
            )
        )
    else:
        runner.overrides = Overrides(static_url="/elsewhere")
    age(site)
    runner.read_paths.clear()
    _, outcome = runner.install()
    assert any(p.startswith("css/") for p in runner.read_paths)
    assert _installed(outcome, site) == _fresh_build(site) or change == "settings"


def test_random_edits_always_install_what_a_fresh_build_makes(runner: Runner) -> None:
    import random

    rng = random.Random(7)
    names = sorted(FILES)
    for step in range(8):
        name = rng.choice(names)
        path = runner.site / name
        text = path.read_text()
        path.write_text(text + (f"/* {step} */\n" if name.endswith(".css") else f"// {step}\n"))
        if rng.random() < 0.5:
            age(runner.site, rng.choice([0.5, 60.0]))
        _, outcome = runner.install()
        assert _installed(outcome, runner.site) == _fresh_build(runner.site), step


def test_a_quiet_install_leaves_gzip_sizes_to_whoever_shows_them(runner: Runner) -> None:
    """Without `sizes` (a quiet install) the state records the gzip size unknown; the next
    no-change answer measures it from the installed bytes: the same number."""
    import gzip

    (runner.site / "js/source/a.js").write_text("var a = 4;\n")
    age(runner.site)
    runner.install(gzip_sizes=False)
    saved = {b["name"]: b["gzip_size"] for b in _saved_state(runner.site)["bundles"]}
    assert saved["js/main.js"] is None
    fast, outcome = runner.install()
    assert fast
    js = next(b for b in outcome.build.bundles if b.output == "js/main.js")
    assert js.gzip_size == len(gzip.compress(js.data, 9, mtime=0))
    runner.install(gzip_sizes=True, policy="bump")  # measured while installing: recorded
    saved = {b["name"]: b["gzip_size"] for b in _saved_state(runner.site)["bundles"]}
    assert saved["js/main.js"] == len(gzip.compress(js.data, 9, mtime=0))


def _saved_state(site: Path) -> dict[str, Any]:
    config = load_config(site, None, Overrides(), {})
    raw = state.state_path(config).read_bytes()
    return dict(json.loads(raw[len(b"ABSTATE4") + 8 + 32 :]))
