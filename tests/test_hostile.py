"""Hostile and odd input through the real command: a clear error or correct handling, never a traceback,
a hang, or a write outside the places the config names.

Sizes are small by default so CI stays fast; ASSETBUILD_BIG_MB (e.g. 100) and ASSETBUILD_LONG_MB (e.g. 5)
run the full-size cases and print the time and peak memory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assetbuild import config as config_mod
from assetbuild import manifest, tokens
from assetbuild.css import check as csscheck
from assetbuild.css import minify as cssminify
from assetbuild.css import urls
from assetbuild.errors import ConfigError
from assetbuild.install import prune
from assetbuild.js import check as jscheck
from assetbuild.js import minify as jsminify
from assetbuild.sources import SourceFile

ASSETBUILD = str(Path(sys.executable).with_name("assetbuild"))
TIMEOUT = 120


def run(site: Path, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    return subprocess.run(
        [ASSETBUILD, *(args or ("install", "-q"))],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def no_crash(result: subprocess.CompletedProcess[str]) -> None:
    for bad in ("Traceback", "internal error", "RecursionError", "MemoryError"):
        assert bad not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1, 2, 3), result.returncode


def expect(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    no_crash(result)
    assert result.returncode == code, result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr[-2000:]


def tree(base: Path) -> dict[str, bytes | str]:
    """Every entry under base: file bytes, link targets, "<dir>"."""
    found: dict[str, bytes | str] = {}
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[rel] = "<dir>"
        else:
            found[rel] = path.read_bytes()
    return found


def changed(before: dict[str, bytes | str], after: dict[str, bytes | str]) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """tmp_path/site (a zero-config static dir) next to tmp_path/outside (files a link may point at)."""
    (tmp_path / "outside/dir").mkdir(parents=True)
    (tmp_path / "outside/secret.js").write_text("var secret = 1;\n")
    (tmp_path / "outside/dir/lib.js").write_text("var lib = 2;\n")
    site = tmp_path / "site"
    (site / "js/source").mkdir(parents=True)
    (site / "js/source/a.js").write_text("var a = 1;\n")
    return tmp_path


def only_under(tmp: Path, before: dict[str, bytes | str], *allowed: str) -> None:
    """Nothing changed in tmp except under the `allowed` prefixes."""
    stray = {p for p in changed(before, tree(tmp)) if not p.startswith(allowed)}
    assert stray == set()


# --------------------------------------------------------------------------------------------- symlinks


@pytest.mark.parametrize("link", ["file", "dir"])
def test_symlink_outside_the_root_is_refused_unless_allowed(sandbox: Path, link: str) -> None:
    site = sandbox / "site"
    if link == "file":
        (site / "js/source/b.js").symlink_to(sandbox / "outside/secret.js")
        sources = '["js/source/*.js"]'
    else:
        (site / "js/source/vendor").symlink_to(sandbox / "outside/dir")
        sources = '["js/source/*.js", "js/source/vendor/*.js"]'
    toml = f'[[bundle]]\noutput = "js/main.js"\nsources = {sources}\n'
    (site / "assetbuild.toml").write_text(toml)
    before = tree(sandbox)
    expect(run(site), 1, "outside the root", "allow_symlinks_outside = true")
    only_under(sandbox, before, "site/.assetbuild-cache")
    assert not (site / "js/1").exists()

    (site / "assetbuild.toml").write_text("allow_symlinks_outside = true\n" + toml)
    expect(run(site, "install", "-q", "--no-minify"), 0)
    body = (site / "js/1/main.js").read_text()
    assert "var a = 1" in body and ("secret" in body if link == "file" else "lib" in body)
    only_under(sandbox, before, "site/")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ({"js/source/loop": ".."}, "symlink loop"),
        ({"js/source/deep/up": "../.."}, "symlink loop"),
        ({"js/source/x.js": "y.js", "js/source/y.js": "x.js"}, "symlink loop"),
        ({"js/source/self.js": "self.js"}, "symlink loop"),
        ({"js/source/gone.js": "nowhere.js"}, "broken symlink"),
    ],
)
def test_symlink_loops_and_dangling_links(
    sandbox: Path, make: dict[str, str], message: str
) -> None:
    site = sandbox / "site"
    for rel, target in make.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).symlink_to(target)
    (site / "assetbuild.toml").write_text(
        '[[bundle]]\noutput = "js/main.js"\nsources = ["js/source/**/*.js"]\n'
    )
    before = tree(sandbox)
    expect(run(site, timeout=60), 1, message)
    only_under(sandbox, before, "site/.assetbuild-cache")


# ----------------------------------------------------------------------------------- paths in the config

BUNDLE = '[[bundle]]\noutput = "{output}"\nsources = {sources}\n'


@pytest.mark.parametrize(
    ("top", "output", "sources", "code", "fragment"),
    [
        (
            'root = "/nonexistent/assetbuild/root"',
            "js/main.js",
            '["js/source/*.js"]',
            2,
            "does not exist",
        ),
        ("", "js/main.js", '["../outside/secret.js"]', 1, "no .. segments"),
        ("", "js/main.js", '["js/../../outside/secret.js"]', 1, "no .. segments"),
        ("", "js/main.js", '["js/**/../../../outside/*.js"]', 1, "no .. segments"),
        ("", "js/main.js", '["/etc/hostname.js"]', 1, "not absolute"),
        ("", "js/main.js", '["C:/x.js"]', 1, "not absolute"),
        ("", "../outside/main.js", '["js/source/*.js"]', 2, "no .. segments"),
        ("", "js/../../main.js", '["js/source/*.js"]', 2, "no .. segments"),
        ("", "/tmp/main.js", '["js/source/*.js"]', 2, "not absolute"),
        ("", "js/7/main.js", '["js/source/*.js"]', 2, "version directory"),
        (
            'manifest = "js/1/manifest.json"',
            "js/main.js",
            '["js/source/*.js"]',
            2,
            "inside version directory",
        ),
        ('manifest = "js/source/a.js"', "js/main.js", '["js/source/*.js"]', 2, "would overwrite"),
        ('manifest = "js"', "js/main.js", '["js/source/*.js"]', 2, "is a directory"),
        ('cache_dir = "js/2"', "js/main.js", '["js/source/*.js"]', 2, "inside version directory"),
        ('root = "\\u0000"', "js/main.js", '["js/source/*.js"]', 2, ""),
    ],
)
def test_bad_paths_in_the_config_write_nothing(
    sandbox: Path, top: str, output: str, sources: str, code: int, fragment: str
) -> None:
    site = sandbox / "site"
    (site / "assetbuild.toml").write_text(
        top + "\n" + BUNDLE.format(output=output, sources=sources)
    )
    before = tree(sandbox)
    expect(run(site), code, fragment)
    if code == 2:
        assert changed(before, tree(sandbox)) == set()
    else:
        only_under(sandbox, before, "site/.assetbuild-cache")


@pytest.mark.parametrize("key", ["manifest", "cache_dir"])
@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_paths_outside_the_root_are_written_exactly_where_configured(
    sandbox: Path, key: str, form: str
) -> None:
    site = sandbox / "site"
    target = sandbox / "elsewhere" / ("m.json" if key == "manifest" else "cache")
    (sandbox / "elsewhere").mkdir()
    # A relative manifest is relative to root (site/static), cache_dir to the config's directory.
    relative = "../../elsewhere/m.json" if key == "manifest" else "../elsewhere/cache"
    value = str(target) if form == "absolute" else relative
    (site / "static").mkdir()
    (site / "js").rename(site / "static/js")
    (site / "assetbuild.toml").write_text(
        f'root = "static"\n{key} = "{value}"\n'
        + BUNDLE.format(output="js/main.js", sources='["js/source/*.js"]')
    )
    before = tree(sandbox)
    expect(run(site), 0)
    allowed = ["site/static/", "elsewhere/"]
    if key == "manifest":
        allowed.append("site/.assetbuild-cache")
        assert json.loads(target.read_text())["bundles"]["js/main.js"]["path"] == "js/1/main.js"
    else:
        assert target.is_dir() and any(target.iterdir())
        assert not (site / ".assetbuild-cache").exists()
    only_under(sandbox, before, *allowed)


# ---------------------------------------------------------------------------------- bytes in the sources


@pytest.mark.parametrize("ext", ["js", "css"])
@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"var a\x00= 1;", "NUL byte"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"\xff\xfev\x00a\x00r\x00", "UTF-16"),
        (b"var \xc3\x28 = 1;", "invalid UTF-8"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), "binary"),
    ],
)
def test_binary_and_nul_bytes_are_source_errors(
    sandbox: Path, ext: str, data: bytes, fragment: str
) -> None:
    site = sandbox / "site"
    (site / f"{ext}/source").mkdir(parents=True, exist_ok=True)
    (site / f"{ext}/source/bad.{ext}").write_bytes(data)
    result = run(site)
    expect(result, 1, f"{ext}/source/bad.{ext}:", fragment)
    assert "\x00" not in result.stderr
    assert not (site / "js/1").exists()


# -------------------------------------------------------------------------------------- large and long


def _measured(site: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run the command in a child that reports its own children's peak RSS (KiB) and wall time."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.monotonic()\n"
        "r = subprocess.run(sys.argv[1:])\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stdout.write('%d %d %.2f' % (r.returncode, rss, time.monotonic() - t))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    proc = subprocess.run(
        [sys.executable, "-c", probe, ASSETBUILD, *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    code, rss, seconds = proc.stdout.split()
    result = subprocess.CompletedProcess(proc.args, int(code), "", proc.stderr)
    return result, float(seconds), int(rss)


def test_very_large_file_bounded_memory(sandbox: Path) -> None:
    megabytes = float(os.environ.get("ASSETBUILD_BIG_MB", "1"))
    if megabytes > 32:
        pytest.skip(
            "over the 32 MB source limit: see test_file_over_the_size_limit_is_a_clear_error"
        )
    site = sandbox / "site"
    statement = "x = x + 1; // a repeated statement\n"
    body = "var x = 0;\n" + statement * int(megabytes * 2**20 / len(statement))
    (site / "js/source/a.js").write_text(body)
    result, seconds, rss_kib = _measured(site, "install", "-q", "--no-minify", "--no-cache")
    print(
        f"\n{megabytes:g} MB of JS, --no-minify: {seconds:.1f} s, peak RSS {rss_kib / 1024:.0f} MiB"
    )
    expect(result, 0)
    assert (site / "js/1/main.js").read_text() == body
    # Generous: esprima's tree costs about 75 bytes per source byte (measured, see the report).
    assert rss_kib / 1024 < 300 + 150 * megabytes


def test_file_over_the_size_limit_is_a_clear_error(sandbox: Path) -> None:
    """A 100 MB source is refused up front (memory stays bounded), never a crash or a swap storm."""
    site = sandbox / "site"
    with (site / "js/source/a.js").open("w") as f:
        f.truncate(100 * 1000 * 1000 + 1)  # sparse: size is what is checked, before reading
    result, _seconds, rss_kib = _measured(site, "install", "-q", "--no-cache")
    expect(
        result,
        1,
        "js/source/a.js",
        "100.0 MB",
        "JavaScript sources of up to 10 MB",
        "ASSETBUILD_MAX_SOURCE_MB",
    )
    assert rss_kib / 1024 < 300
    assert not (site / "js/1").exists()


def test_very_long_line(sandbox: Path) -> None:
    megabytes = float(os.environ.get("ASSETBUILD_LONG_MB", "0.25"))
    site = sandbox / "site"
    n = int(megabytes * 2**20 / 24)
    line = "".join(f"var v{i}=function(a){{return a+{i}}};" for i in range(n))
    (site / "js/source/vendor.min.js").write_text(line)
    result, seconds, rss_kib = _measured(site, "install", "-q", "--no-cache")
    print(
        f"\n{megabytes:g} MB on one line, minified: {seconds:.1f} s, peak RSS {rss_kib / 1024:.0f} MiB"
    )
    expect(result, 0)
    assert (site / "js/1/main.js").stat().st_size > len(line) * 0.9
    # An error at the end of the long line is shown as a window, not the whole line.
    (site / "js/source/vendor.min.js").write_text(line + "var = ;")
    result = run(site, "check", "--no-cache")
    expect(result, 1, "vendor.min.js:1:")
    assert len(result.stderr) < 5000


# ---------------------------------------------------------------------------------------------- nesting

DEPTH = 10_000
NESTED = {
    "js-array": ("js", "var a = " + "[" * DEPTH + "]" * DEPTH + ";\n"),
    "js-parens": ("js", "var a = " + "(" * DEPTH + "1" + ")" * DEPTH + ";\n"),
    "js-blocks": ("js", "{" * DEPTH + "}" * DEPTH + "\n"),
    "js-objects": ("js", "var a = " + "{a:" * DEPTH + "1" + "}" * DEPTH + ";\n"),
    "js-functions": ("js", "function f(){" * 2000 + "}" * 2000 + "\n"),
    "js-unclosed": ("js", "var a = " + "[" * DEPTH + "\n"),
    "css-rules": ("css", "a{" * DEPTH + "color:red" + "}" * DEPTH + "\n"),
    "css-media": ("css", "@media screen{" * DEPTH + "a{color:red}" + "}" * DEPTH + "\n"),
    "css-calc": ("css", "a{width:" + "calc(" * DEPTH + "1px" + ")" * DEPTH + "}\n"),
    "css-unclosed": ("css", "a{b:" + "[" * DEPTH + "}\n"),
    "css-mismatched": ("css", "a{b:" + "(" * DEPTH + "]" * DEPTH + "}\n"),
}


@pytest.mark.parametrize("case", sorted(NESTED))
def test_deep_nesting_is_an_error_or_accepted_never_a_crash(sandbox: Path, case: str) -> None:
    kind, text = NESTED[case]
    site = sandbox / "site"
    (site / f"{kind}/source").mkdir(parents=True, exist_ok=True)
    (site / f"{kind}/source/deep.{kind}").write_text(text)
    start = time.monotonic()
    result = run(site, timeout=60)
    no_crash(result)
    assert time.monotonic() - start < 60
    assert result.returncode in (0, 1)
    if result.returncode == 1:
        assert f"{kind}/source/deep.{kind}" in result.stderr
        assert len(result.stderr) < 100_000  # a few located errors, not one per bracket
    else:
        assert (site / f"{kind}/1/main.{kind}").stat().st_size > 0
    if case.endswith(("unclosed", "mismatched")):
        assert result.returncode == 1


# ------------------------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    "names",
    [
        ["a b.js", "c  d.js"],
        ["ünïcødé.js", "日本語.js", "emoji-😀.js"],
        ["new\nline.js", "tab\tname.js", "quote'\"name.js"],
        ["-dash.js", "--help.js", "$(touch pwned).js"],
    ],
)
def test_odd_file_names_are_bundled_in_byte_order(sandbox: Path, names: list[str]) -> None:
    site = sandbox / "site"
    for i, name in enumerate(names):
        (site / "js/source" / name).write_text(f"var n{i} = {i};\n")
    result = run(site, "install", "-q", "--no-minify")
    expect(result, 0)
    body = (site / "js/1/main.js").read_text()
    order = sorted([*names, "a.js"], key=lambda n: n.encode())
    positions = [
        body.index("var a = 1") if n == "a.js" else body.index(f"var n{names.index(n)} =")
        for n in order
    ]
    assert positions == sorted(positions)
    assert not list(sandbox.rglob("pwned"))
    # An error in such a file names it.
    (site / "js/source" / names[0]).write_text("var = ;\n")
    result = run(site, "check")
    expect(result, 1)
    assert names[0].split("\n")[0] in result.stderr


# ------------------------------------------------------------------------------------------ invalid TOML


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('root = "static\n', ":1:"),
        ("[[bundle]\noutput = 'a.js'\n", ":1:"),
        ("[[bundle]]\noutput = 'a.js'\noutput = 'b.js'\n", ":3:"),
        ("x = [" * 5000, ""),
        ("a = {" * 5000, ""),
        ("\x00 = 1\n", ":1:"),
        ("[[bundle]]\nsources = ['a.js',\n", ""),
        ("a = 1e99999999999999\n[[bundle]]\n", ""),
        ('"\\u0000" = 1\n', ""),
    ],
)
def test_invalid_toml_is_a_located_config_error(sandbox: Path, text: str, where: str) -> None:
    site = sandbox / "site"
    (site / "assetbuild.toml").write_text(text)
    before = tree(sandbox)
    result = run(site)
    expect(result, 2, "assetbuild.toml" + where)
    assert changed(before, tree(sandbox)) == set()


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('root = "' + "x" * 300 + '"', "File name too long"),  # found by fuzz/fuzz_config.py
        ('root = "a\\u0000b"', "contains a NUL character"),
        ('manifest = "a\\u0000b.json"', "contains a NUL character"),
        ('cache_dir = "a\\u0000b"', "contains a NUL character"),
    ],
)
def test_unusable_path_names_are_config_errors(sandbox: Path, line: str, fragment: str) -> None:
    site = sandbox / "site"
    (site / "assetbuild.toml").write_text(
        line + "\n" + BUNDLE.format(output="js/main.js", sources='["js/source/*.js"]')
    )
    before = tree(sandbox)
    expect(run(site), 2, fragment)
    assert changed(before, tree(sandbox)) == set()


def test_config_that_is_not_utf8_or_is_a_directory(sandbox: Path) -> None:
    site = sandbox / "site"
    (site / "assetbuild.toml").write_bytes(b'root = "\xff"\n')
    expect(run(site), 2, "assetbuild.toml:1:", "UTF-8")
    (site / "assetbuild.toml").unlink()
    (site / "assetbuild.toml").mkdir()
    no_crash(run(site))
    expect(run(site, "-c", "assetbuild.toml", "install"), 2, "is a directory")


@pytest.mark.parametrize(
    "command",
    [
        ("install", "-q"),
        ("prune", "--keep", "1"),
        ("status",),
    ],
)
def test_deeply_nested_manifest(sandbox: Path, command: tuple[str, ...]) -> None:
    site = sandbox / "site"
    assert run(site).returncode == 0
    (site / "manifest.json").write_text('{"version": 1, "bundles": {"a": ' + "[" * 100_000)
    result = run(site, *command)
    no_crash(result)
    assert result.returncode in (0, 3)
    if command[0] == "prune":
        expect(result, 3, "manifest.json", "not valid JSON", "refusing to prune")


def test_deeply_nested_manifest_in_the_reader(tmp_path: Path) -> None:
    from assetbuild.manifest import Manifest, ManifestError

    path = tmp_path / "manifest.json"
    path.write_text("[" * 100_000)
    with pytest.raises(ManifestError, match="not a valid assetbuild manifest"):
        Manifest.load(path)


# ------------------------------------------------------------------------------------------------ tokens


def test_token_values_are_never_substituted_again(sandbox: Path) -> None:
    site = sandbox / "site"
    (site / "js/source/a.js").write_text(
        'var a = "{$a}", b = "{$b}", c = "<$a>", s = "{$static}/x";\n'
    )
    (site / "assetbuild.toml").write_text(
        'static_url = "{$b}/"\n[tokens]\na = "{$b}<$b>{$static}"\nb = "B"\n'
        + BUNDLE.format(output="js/main.js", sources='["js/source/*.js"]')
    )
    expect(run(site, "install", "-q", "--no-minify"), 0)
    body = (site / "js/1/main.js").read_text()
    assert body == 'var a = "{$b}<$b>{$static}", b = "B", c = "{$b}<$b>{$static}", s = "{$b}/x";\n'


# ------------------------------------------------------------------------------- pathological patterns


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _css(text: str) -> SourceFile:
    return SourceFile(Path("/r/css/source/a.css"), "a.css", text, text)


def _js(text: str) -> SourceFile:
    return SourceFile(Path("/r/js/source/a.js"), "a.js", text, text)


def _rewrite(text: str) -> object:
    return urls.rewrite_urls(_css(text), Path("/r/css/source"), Path("/r/css/1"), Path("/r"))


N = 20_000
# Every regular expression in the package, each fed strings built to make a backtracking engine
# try many ways to match (repeated optional parts, unterminated constructs, long near-misses).
PATHOLOGICAL: dict[str, Callable[[], object]] = {
    "csscheck escapes that eat a space": lambda: csscheck.check_css(
        _css("a{b:" + "\\41 " * N + "}")
    ),
    "csscheck escaped name, no paren": lambda: csscheck.check_css(_css("a{b:" + "\\g" * N + "}")),
    "csscheck name then escape": lambda: csscheck.check_css(_css("x" * N + "\\g" + "x" * N)),
    "csscheck <!-- before url": lambda: csscheck.check_css(_css("<!--" * N + "url(")),
    "csscheck unterminated string": lambda: csscheck.check_css(_css('a{b:"' + "\\\\" * N)),
    "csscheck unterminated url": lambda: csscheck.check_css(_css("a{b:url(" + "\\)" * N)),
    "csscheck mismatched brackets": lambda: csscheck.check_css(_css("(" * N + "]" * N)),
    "csscheck at-rule names": lambda: csscheck.check_css(_css("@" + "\\a" * N)),
    "cssminify escapes": lambda: cssminify.minify_css("a{b:" + "\\41 " * N + "}"),
    "cssminify comments": lambda: cssminify.minify_css("/*" * N),
    "urls unquoted escapes": lambda: _rewrite("a{b:url(" + "\\41 " * N + ")}"),
    "urls unterminated quote": lambda: _rewrite('a{b:url("' + "\\\\" * N),
    "urls many url(": lambda: _rewrite("a{b:" + "url(" * N),
    "urls long scheme-like": lambda: _rewrite("a{b:url(" + "a+" * N + ")}"),
    "urls nested image-set": lambda: _rewrite("a{b:" + "image-set(" * N + "}"),
    "tokens open braces": lambda: tokens.substitute(_js("{$" * N), {"a": "x"}),
    "tokens long name unclosed": lambda: tokens.substitute(_js("{$" + "a" * N), {"a": "x"}),
    "tokens angle": lambda: tokens.substitute(_js("<$a" * N), {"a": "x"}),
    "jscheck import spaces": lambda: jscheck.check_js(_js("import" + " " * N + "x"), first=True),
    "jscheck line terminators": lambda: jscheck.check_js(_js("\u2028" * N + "@"), first=True),
    "jsminify escaped quotes": lambda: jsminify.minify_js("var a = '" + "\\'" * N + "';"),
    "jsminify regex classes": lambda: jsminify.minify_js("var a = /" + "[/" * N + "/;"),
    "config output drive letters": lambda: config_mod.output_problem("C:" * N),
    "config token names": lambda: config_mod.TOKEN_NAME.fullmatch("a" * N + "-"),
    "prune durations": lambda: _refused(
        lambda: prune.parse_duration(" " * N + "1" * N + " " * N + "x")
    ),
    "prune php strings": lambda: manifest._PHP_STRING.findall("'" + "\\'" * N),
}


def _refused(fn: Callable[[], object]) -> object:
    try:
        return fn()
    except ConfigError as exc:
        return exc


@pytest.mark.parametrize("case", sorted(PATHOLOGICAL))
def test_pathological_input_for_each_pattern_is_fast(case: str) -> None:
    start = time.monotonic()
    with time_limit(20):
        PATHOLOGICAL[case]()
    assert time.monotonic() - start < 10


def test_catastrophic_css_escape_through_the_command(sandbox: Path) -> None:
    """Exponential before the fix (`\\41 ` repeated 2,000 times did not finish in 10 minutes)."""
    site = sandbox / "site"
    (site / "css/source").mkdir(parents=True)
    (site / "css/source/a.css").write_text(
        ".x" + "\\41 " * 20_000 + "{color:red}\n" + "a{b:(" * 5000
    )
    start = time.monotonic()
    result = run(site, "check", timeout=60)
    expect(result, 1, "stopped checking this file after 100 errors")
    assert time.monotonic() - start < 60


# ------------------------------------------------------------------------------ checking never executes


@pytest.mark.parametrize(
    "source",
    [
        "for (;;) {}\n",
        "require('fs').writeFileSync({marker}, 'ran');\n",
        "new Function(\"require('fs').writeFileSync({marker}, 'ran')\")();\n",
        "}); require('fs').writeFileSync({marker}, 'ran'); (function () {\n",
        "*/ require('fs').writeFileSync({marker}, 'ran'); /*\n",
        "`; require('fs').writeFileSync({marker}, 'ran'); `\n",
    ],
)
def test_checking_never_runs_the_code(sandbox: Path, source: str) -> None:
    site = sandbox / "site"
    marker = sandbox / "ran"
    (site / "js/source/evil.js").write_text(source.replace("{marker}", json.dumps(str(marker))))
    start = time.monotonic()
    for args in (("check",), ("install", "-q")):
        no_crash(run(site, *args, timeout=60))
    assert time.monotonic() - start < 60  # `for (;;) {}` was not run
    assert not marker.exists()


def test_bindings_on_one_line_share_its_text() -> None:
    """The note "previously declared here" needs the line; one copy serves every binding on it
    (a copy each made a 3 MB one-line script take 24 GB: bench/reliability.py's memory row)."""
    line = "".join(f"var v{i}=function(a){{return a+{i}}};" for i in range(400))
    report = jscheck.check_js(_js(line + "\nvar w = 1, x = 2;\n"), first=True)
    texts = {id(b.source_line) for b in report.bindings}
    assert len(report.bindings) == 402 and len(texts) == 2
    assert report.bindings[0].source_line == line
