"""Regression tests for issue 12 (reliability, round 2): globs, watch, interrupts, memory, config."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetbuild import sources
from assetbuild.config import BundleSpec
from assetbuild.errors import SourceError
from assetbuild.js import engine as jsengine
from assetbuild.sources import collect
from assetbuild.versions import is_version_name
from tests.conftest import SiteFactory
from tests.helpers.benchload import load_bench
from tests.helpers.watch import Harness, installed, wait_for

rel = load_bench("reliability")

# --- item 8: `**` globs are polynomial -------------------------------------------------------


def _deep_tree(root: Path, depth: int) -> None:
    directory = root / "js" / "src"
    for i in range(depth):
        directory = directory / f"d{i}"
    directory.mkdir(parents=True)
    (directory / "deep.js").write_text("")
    (root / "js" / "src" / "top.js").write_text("")


class ListingBudget:
    """Counts directory listings and fails a walk that exceeds its budget (instead of hanging)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.budget = 10_000
        real_scandir = os.scandir

        def counting_scandir(path: str | Path) -> object:
            self.calls += 1
            if self.calls > self.budget:
                raise AssertionError(f"over {self.budget} directory listings")
            return real_scandir(path)

        monkeypatch.setattr(sources.os, "scandir", counting_scandir)


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> ListingBudget:
    return ListingBudget(monkeypatch)


@pytest.mark.parametrize("stars", [2, 3, 4, 6])
def test_repeated_double_stars_list_each_directory_a_bounded_number_of_times(
    tmp_path: Path, listings: ListingBudget, stars: int
) -> None:
    depth = 40
    _deep_tree(tmp_path, depth)
    listings.budget = 50 * depth  # the exponential walk lists millions of times: stop it early
    pattern = "js/src/" + "**/" * stars + "*.js"
    found = collect(tmp_path, BundleSpec("js/main.js", "js", (pattern,)))
    assert [p.name for p in found] == ["deep.js", "top.js"]  # byte order of the paths: "d0/" < "t"
    assert listings.calls <= 3 * (depth + 3)


def _reference(tree: set[str], dirs: set[str], pattern: list[str]) -> list[str]:
    """The documented glob semantics, by brute force over every file's path segments."""

    def dir_ok(name: str, seg: str) -> bool:
        if not (set(seg) & set("*?[")):
            return name == seg
        return (
            fnmatch.fnmatchcase(name, seg)
            and not sources._ignored(name, seg)
            and not is_version_name(name)
        )

    def file_ok(name: str, seg: str) -> bool:
        return fnmatch.fnmatchcase(name, seg) and not sources._ignored(name, seg)

    def match(i: int, parts: list[str], j: int) -> bool:
        seg, last = pattern[i], i == len(pattern) - 1
        if seg == "**":
            if last:
                return all(dir_ok(p, "*") for p in parts[j:-1]) and file_ok(parts[-1], "*")
            if match(i + 1, parts, j):
                return True
            return j < len(parts) - 1 and dir_ok(parts[j], "*") and match(i, parts, j + 1)
        if last:
            return j == len(parts) - 1 and file_ok(parts[j], seg)
        return j < len(parts) - 1 and dir_ok(parts[j], seg) and match(i + 1, parts, j + 1)

    found = [rel for rel in tree if rel not in dirs and match(0, rel.split("/"), 0)]
    return sorted(found, key=lambda r: r.encode())


_NAMES = st.sampled_from(["a", "b", "ab", "1", "12", ".h", "x~", "a.js", "b.js"])
_SEGMENTS = st.sampled_from(["**", "*", "a", "b", "?", "[ab]", "*.js", "a*", ".*", "1", "*~"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_NAMES, min_size=1, max_size=5), min_size=1, max_size=12),
    st.lists(_SEGMENTS, min_size=1, max_size=6),
)
def test_glob_matches_a_brute_force_reference(paths: list[list[str]], pattern: list[str]) -> None:
    """The memoised walker finds exactly what the definition finds, in the same order."""
    tree: set[str] = set()
    dirs: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for parts in paths:
            # every prefix is a directory; a name already used for a file cannot be one
            above = ["/".join(parts[: k + 1]) for k in range(len(parts) - 1)]
            full = "/".join(parts)
            if any(r in tree and r not in dirs for r in above) or full in dirs:
                continue
            tree.update(above)
            dirs.update(above)
            tree.add(full)
            (root / full).parent.mkdir(parents=True, exist_ok=True)
            (root / full).write_text("")
        problems: list[str] = []
        walked = sources._Walker(root, False, problems).expand(list(pattern))
        assert not problems
        assert sorted(set(walked), key=lambda r: r.encode()) == _reference(tree, dirs, pattern)
        expected = _reference(tree, dirs, pattern)
        entry = "/".join(pattern)
        # The matcher `build --out` uses to refuse outputs a glob would read back: the same answer.
        assert [
            r
            for r in sorted(tree - dirs, key=lambda r: r.encode())
            if sources.entry_matches(entry, r)
        ] == expected
        spec = BundleSpec("zz/main.js", "js", (entry,))
        if not any(set(seg) & set("*?[") for seg in pattern):
            return  # a plain path is not walked
        if expected and all(r.lower().endswith(".js") for r in expected):
            got = [p.relative_to(root).as_posix() for p in collect(root, spec)]
            assert got == expected
        elif not expected:
            with pytest.raises(SourceError, match="matched no files"):
                collect(root, spec)


@pytest.mark.skipif(os.name == "nt", reason="needs symlinks")
def test_symlinks_that_double_the_paths_at_each_level_end_the_walk(
    tmp_path: Path, listings: ListingBudget
) -> None:
    """Each level links twice to the next: 2**24 paths to the last directory, an error at once."""
    levels = 24
    for i in range(levels + 1):
        (tmp_path / "js" / f"l{i}").mkdir(parents=True)
    for i in range(levels):
        for name in ("x", "y"):
            (tmp_path / "js" / f"l{i}" / name).symlink_to(Path("..") / f"l{i + 1}")
    (tmp_path / "js" / f"l{levels}" / "a.js").write_text("")
    listings.budget = 100_000
    with pytest.raises(SourceError) as info:
        collect(tmp_path, BundleSpec("js/main.js", "js", ("js/l0/**/*.js",)))
    (diag,) = info.value.diagnostics
    assert (
        "paths to" in diag.message and "through symlinks; link it from fewer places" in diag.message
    )


# --- item 7: watch follows a directory swapped in at the same path ---------------------------

WATCH_CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/source/*.js"]
"""


def _swap(directory: Path, edit: Callable[[Path], None], n: int, keep_old: bool) -> None:
    """What deploy tools do: copy, change the copy, rename the old away and the copy into place."""
    new = directory.with_name(f"{directory.name}.new{n}")
    old = directory.with_name(f"{directory.name}.old{n}")
    shutil.copytree(directory, new)
    edit(new)
    directory.rename(old)
    new.rename(directory)
    if not keep_old:
        shutil.rmtree(old)  # the old watch hears these deletions; kept, it hears nothing


@pytest.mark.parametrize(
    "config", [WATCH_CONFIG, WATCH_CONFIG.replace("source/*", "source/**/*")], ids=["flat", "deep"]
)
def test_watch_keeps_hearing_a_directory_swapped_in_at_the_same_path(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    site = make_site({"js/source/a.js": "var a = 1;\n", "js/source/sub/b.js": "var b;\n"}, config)
    monkeypatch.chdir(site)
    harness = Harness(site)
    assert harness.start().ok
    try:
        for n, keep_old in ((2, False), (3, False), (4, True), (5, True)):
            _swap(
                site / "js/source",
                lambda d, n=n: (d / "a.js").write_text(f"var a = {n};\n"),
                n,
                keep_old,
            )
            wait_for(lambda n=n: f"a={n}" in installed(site))
            harness.quiet(0.3)
        (site / "js/source/a.js").write_text("var a = 6;\n")  # a plain edit after the swaps
        wait_for(lambda: "a=6" in installed(site))
        (site / "js/source/sub/b.js").write_text("var b = 7;\n")
        if "**" in config:
            wait_for(lambda: "b=7" in installed(site))
    finally:
        harness.stop()


# --- item 10: Ctrl-C ends every run with exit 130 and one line -------------------------------

INTERRUPTED = "assetbuild: interrupted\n"


def _python(
    code: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _big_script(n: int = 60_000) -> str:
    """~6 MB of valid JavaScript: the fast engine takes over a second to check it."""
    return "".join(
        f"var a{i} = function (x) {{ return [x, {i}, 's{i}'].map(function (y) {{ return y + 1; }}); }};\n"
        for i in range(n)
    )


@pytest.mark.skipif(not jsengine.available(), reason="needs the fast engine (mini-racer)")
@pytest.mark.parametrize("then", ["exit", "reuse"])
def test_ctrl_c_during_a_v8_check_stops_it_and_exits_without_a_traceback(then: str) -> None:
    """Before: the script went on in V8 and answered onto mini-racer's loop, closed at exit:
    "RuntimeError: Event loop is closed", "Task was destroyed but it is pending!"."""
    proc = _python(
        f"""
        import os, signal, sys, threading, time
        from assetbuild.js import engine
        from tests.test_reliability_run import _big_script
        big = _big_script()
        engine.check_scripts(["var warm = 1;"])
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        start = time.monotonic()
        try:
            engine.check_scripts([big])
        except KeyboardInterrupt:
            print(f"interrupted {{time.monotonic() - start:.2f}}")
        if {then!r} == "reuse":
            assert engine.check_scripts(["var after = 1;"]) == [None]  # the engine still works
        """,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stderr == ""
    assert proc.returncode == 0
    assert proc.stdout.startswith("interrupted ")
    assert float(proc.stdout.split()[1]) < 1.0


_ENTRY = """
import builtins, os, signal, sys, time
sys.argv = ["assetbuild", *{args!r}]
{setup}
from assetbuild.__main__ import run
run()
"""


def _run_entry(site: Path, setup: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _python(_ENTRY.format(args=list(args) or ["check"], setup=textwrap.dedent(setup)), site)


def test_ctrl_c_while_the_commands_are_imported(make_site: SiteFactory) -> None:
    """Before: a raw KeyboardInterrupt traceback (the import of click and the commands)."""
    site = make_site({"js/source/a.js": "var a = 1;\n"})
    setup = """
    real_import = builtins.__import__
    def interrupting_import(name, *args, **kwargs):
        if name == "click":
            builtins.__import__ = real_import
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)
        return real_import(name, *args, **kwargs)
    builtins.__import__ = interrupting_import
    """
    proc = _run_entry(site, setup)
    assert (proc.returncode, proc.stderr) == (130, INTERRUPTED)


def test_ctrl_c_inside_an_import_waits_for_it_then_exits(make_site: SiteFactory) -> None:
    """An interrupt inside Python's import machinery is deferred until the module is imported
    (raised there, it can leave the import lock held: the next import of any thread hangs)."""
    site = make_site({"js/source/a.js": "var a = 1;\n", "slowmod.py": SLOW_MODULE})
    setup = """
    sys.path.insert(0, os.getcwd())
    real_import = builtins.__import__
    def importing(name, *args, **kwargs):
        if name == "click":
            builtins.__import__ = real_import
            import slowmod
        return real_import(name, *args, **kwargs)
    builtins.__import__ = importing
    """
    proc = _run_entry(site, setup)
    assert (proc.returncode, proc.stderr) == (130, INTERRUPTED)
    assert proc.stdout == "slowmod imported\n"


SLOW_MODULE = """\
import os, signal, time
os.kill(os.getpid(), signal.SIGINT)
time.sleep(0.1)
print("slowmod imported", flush=True)
"""


def test_ctrl_c_inside_a_finalizer_is_not_lost(make_site: SiteFactory) -> None:
    """Before: "Exception ignored in: ...__del__" with a traceback, and the interrupt was lost."""
    site = make_site({"js/source/a.js": "var a = 1;\n"})
    setup = """
    class Finalized:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
    real_import = builtins.__import__
    def importing(name, *args, **kwargs):
        if name == "click":
            builtins.__import__ = real_import
            Finalized()  # dropped at once: __del__ runs here
            time.sleep(0.3)
        return real_import(name, *args, **kwargs)
    builtins.__import__ = importing
    """
    proc = _run_entry(site, setup)
    assert (proc.returncode, proc.stderr) == (130, INTERRUPTED)


def test_ctrl_c_while_the_process_exits_is_one_line(make_site: SiteFactory) -> None:
    """After the commands are done, atexit callbacks run: an interrupt there ends at once."""
    site = make_site({"js/source/a.js": "var a = 1;\n"})
    setup = """
    import atexit
    def slow_cleanup():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(2)
        print("cleanup finished")
    atexit.register(slow_cleanup)
    """
    proc = _run_entry(site, setup)
    assert proc.returncode == 130
    assert proc.stderr == INTERRUPTED
    assert "cleanup finished" not in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("pool", [False, True], ids=["engine-threads", "process-pool"])
def test_ctrl_c_at_random_moments_of_real_runs(tmp_path: Path, pool: bool) -> None:
    """SIGINT to the process group (as a terminal sends it) at random moments of real `check`
    runs, half of them in the first 0.6 s: every run that reached assetbuild ends with exit 130
    and one line within seconds (bench/reliability.py runs the same scenario longer)."""
    if not pool and not jsengine.available():
        pytest.skip("needs the fast engine (mini-racer)")
    figure = rel.interrupt_scenario(tmp_path, runs=16, seed=12, pool=pool)
    assert figure.problems == []
    assert figure.bad == 0 and figure.tried == 16


# --- item 3: outputs never overwrite or feed back into the sources ---------------------------


def _cli(site: Path, *args: str) -> Any:
    from click.testing import CliRunner

    from assetbuild.cli import main

    return CliRunner().invoke(main, ["-C", str(site), *args], catch_exceptions=False)


def _tree(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and ".assetbuild-cache" not in p.parts
    }


OVERLAP_CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/**/*.js"]

[[bundle]]
output = "css/site.css"
sources = ["css/src/*.css"]
"""


def test_build_out_onto_the_root_refuses_a_glob_that_would_read_the_output_back(
    make_site: SiteFactory,
) -> None:
    """Before: `--out .` wrote js/main.js, which js/**/*.js took in on the next run: each build
    grew the bundle by the last one."""
    site = make_site(
        {"js/a.js": "var a = 1;\n", "css/src/a.css": "a { color: red }\n"}, OVERLAP_CONFIG
    )
    before = _tree(site)
    for _ in range(2):
        result = _cli(site, "build", "--out", str(site))
        assert result.exit_code == 2, result.output
        assert 'output "js/main.js" would be written to' in result.stderr
        assert 'which source "js/**/*.js" of bundle "js/main.js" matches' in result.stderr
        assert _tree(site) == before  # nothing written, not even the CSS bundle


def test_build_out_refuses_to_overwrite_a_source(make_site: SiteFactory) -> None:
    config = '[[bundle]]\noutput = "app.js"\nsources = ["src/app.js", "src/lib.js"]\n'
    site = make_site({"src/app.js": "var app = 1;\n", "src/lib.js": "var lib;\n"}, config)
    before = _tree(site)
    result = _cli(site, "build", "--out", str(site / "src"))
    assert result.exit_code == 2, result.output
    assert f'output "app.js" would overwrite {(site / "src/app.js").resolve()}' in result.stderr
    assert 'a source of bundle "app.js"' in result.stderr
    assert _tree(site) == before


@pytest.mark.skipif(os.name == "nt", reason="needs symlinks")
def test_build_out_through_a_symlink_onto_the_sources_is_refused(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    config = '[[bundle]]\noutput = "app.js"\nsources = ["src/app.js"]\n'
    site = make_site({"src/app.js": "var app = 1;\n"}, config)
    (tmp_path / "out").symlink_to(site / "src")
    result = _cli(site, "build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert "would overwrite" in result.stderr
    assert (site / "src/app.js").read_text() == "var app = 1;\n"


def test_build_out_onto_a_hard_link_of_a_source_leaves_the_source_alone(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    """The same file under another name (a hard link) is replaced by a rename, never written into:
    the build goes on and the source keeps its bytes."""
    config = '[[bundle]]\noutput = "app.js"\nsources = ["src/app.js"]\n'
    site = make_site({"src/app.js": "var app = 1;\n"}, config)
    (tmp_path / "out").mkdir()
    os.link(site / "src/app.js", tmp_path / "out/app.js")
    result = _cli(site, "build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (site / "src/app.js").read_text() == "var app = 1;\n"
    assert (tmp_path / "out/app.js").read_text() != "var app = 1;\n"  # the minified bundle


def test_build_out_beside_the_sources_still_works(make_site: SiteFactory) -> None:
    config = OVERLAP_CONFIG.replace("js/**/*.js", "js/src/**/*.js")
    site = make_site({"js/src/a.js": "var a = 1;\n", "css/src/a.css": "a { color: red }\n"}, config)
    for out in (site, site / "dist"):  # js/main.js and css/site.css match no source entry
        result = _cli(site, "build", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert (out / "js/main.js").read_text().startswith("var a")


def test_a_manifest_a_glob_would_read_back_is_refused(make_site: SiteFactory) -> None:
    """Before: the first install wrote js/manifest.json, and from then on every run failed with
    "match js/manifest.json is not a JS file". (A manifest named like a source is refused by the
    config already: it must end in .json or .php.)"""
    config = 'manifest = "js/manifest.json"\n' + OVERLAP_CONFIG.replace("js/**/*.js", "js/**/*")
    site = make_site({"js/src/a.js": "var a = 1;\n", "css/src/a.css": "a { color: red }\n"}, config)
    before = _tree(site)
    result = _cli(site, "install")
    assert result.exit_code == 2, result.output
    assert "the manifest would be written to" in result.stderr
    assert 'which source "js/**/*" of bundle "js/main.js" matches' in result.stderr
    assert _tree(site) == before


# --- item 12 (part): configuration errors ------------------------------------------------------


def _python_entry(site: Path, *args: str, setup: str = "") -> subprocess.CompletedProcess[str]:
    return _python(_ENTRY.format(args=list(args), setup=textwrap.dedent(setup)), site)


NO_BROTLI = "sys.modules['brotli'] = None  # as without the brotli extra"


@pytest.mark.parametrize("command", ["check", "install", "build"])
def test_br_without_the_brotli_extra_is_a_config_error_naming_the_key(
    make_site: SiteFactory, command: str
) -> None:
    """Before: check passed and install failed after the whole build."""
    config = 'compress = ["gzip", "br"]\n[[bundle]]\noutput = "js/main.js"\nsources = ["js/*.js"]\n'
    site = make_site({"js/a.js": "var a = 1;\n"}, config)
    args = [command, "--out", "out"] if command == "build" else [command]
    proc = _python_entry(site, *args, setup=NO_BROTLI)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        'assetbuild.toml: error: compress: "br" needs the brotli extra: '
        "pip install 'assetbuild[brotli]'\n"
    )
    assert not (site / "js/1").exists()


def test_compress_br_option_without_the_brotli_extra(make_site: SiteFactory) -> None:
    site = make_site({"js/source/a.js": "var a = 1;\n"})
    proc = _python_entry(site, "install", "--compress", "gzip,br", setup=NO_BROTLI)
    assert proc.returncode == 2, proc.stderr
    assert '--compress: "br" needs the brotli extra' in proc.stderr
    assert not (site / "js/1").exists()


@pytest.mark.parametrize(
    ("config", "line"),
    [
        (
            '[[bundle]]\noutput = "js/main.js"\nsources = ["js/a.js",\n           "js/b.js"\n\n'
            '[[bundle]]\noutput = "css/main.css"\nsources = ["css/*.css"]\n',
            3,
        ),
        ('tokens = { cdn = "x",\n\n[[bundle]]\noutput = "js/main.js"\nsources = ["a.js"]\n', 1),
        ('[[bundle]]\noutput = "js/main.js"\nsources = [\n  "a.js",\n  "b.js",\n', 3),
    ],
)
def test_an_unclosed_array_is_reported_where_it_opens(
    make_site: SiteFactory, config: str, line: int
) -> None:
    """Before: "assetbuild.toml:6:1: error: invalid TOML: Unclosed array" at the next table."""
    site = make_site({"js/a.js": "var a = 1;\n"}, config)
    result = _cli(site, "check")
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"assetbuild.toml:{line}:"), result.stderr
    assert "not closed" in first


@pytest.mark.parametrize(
    "config",
    [
        'root = 3\n[[bundle]]\noutput = "js/main.js"\nsources = ["js/*.js"]\n',
        'colour = "x"\n[[bundle]]\noutput = "js/main.js"\nsources = ["js/*.js"]\n',
        '[[bundle]]\noutput = "js/main.js"\nsources = [\n',
        "x = = 1\n",
        'compress = ["zip"]\n[[bundle]]\noutput = "js/main.js"\nsources = ["js/*.js"]\n',
    ],
)
def test_each_configuration_error_is_printed_once(make_site: SiteFactory, config: str) -> None:
    site = make_site({"js/a.js": "var a = 1;\n"}, config)
    result = _cli(site, "check")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len([line for line in lines if "error" in line]) == 1, result.stderr
    assert not [line for line in lines if line.startswith("assetbuild: ")], result.stderr
