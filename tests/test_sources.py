"""Collecting sources (globs, order, errors) and reading them as UTF-8."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.config import BundleSpec
from assetbuild.errors import SourceError
from assetbuild.sources import collect, display_path, read_source

SiteFactory = Callable[..., Path]


def js(*sources: str, output: str = "js/main.js") -> BundleSpec:
    return BundleSpec(output, "js", sources)


def css(*sources: str, output: str = "css/main.css") -> BundleSpec:
    return BundleSpec(output, "css", sources)


def rels(site: Path, paths: tuple[Path, ...]) -> list[str]:
    return [p.relative_to(site).as_posix() for p in paths]


def problems(site: Path, spec: BundleSpec, **kwargs: bool) -> list[str]:
    with pytest.raises(SourceError) as info:
        collect(site, spec, **kwargs)
    assert info.value.exit_code == 1
    messages = [d.message for d in info.value.diagnostics]
    summary = f'bundle "{spec.output}": problems with its sources'
    assert str(info.value) == (messages[0] if len(messages) == 1 else summary)
    return messages


# --- order -----------------------------------------------------------------------------


def test_explicit_paths_keep_their_order(make_site: SiteFactory) -> None:
    site = make_site({"js/c.js": "", "js/a.js": "", "js/b.js": ""})
    assert rels(site, collect(site, js("js/c.js", "js/a.js", "js/b.js"))) == [
        "js/c.js",
        "js/a.js",
        "js/b.js",
    ]


def test_glob_byte_order(make_site: SiteFactory) -> None:
    names = ["b.js", "B.js", "a10.js", "a2.js", "_x.js", "é.js", "z.js", "a-b.js", "a.b.js"]
    site = make_site({f"js/src/{n}": "" for n in names})
    expected = sorted((f"js/src/{n}" for n in names), key=lambda s: s.encode("utf-8"))
    assert rels(site, collect(site, js("js/src/*.js"))) == expected
    assert expected[:2] == ["js/src/B.js", "js/src/_x.js"]  # byte order, not locale order


def test_duplicates_kept_at_first_place(make_site: SiteFactory) -> None:
    site = make_site({"js/src/a.js": "", "js/src/b.js": "", "js/src/c.js": "", "js/first.js": ""})
    spec = js("js/src/b.js", "js/first.js", "js/src/*.js", "js/src/b.js", "./js/src/a.js")
    assert rels(site, collect(site, spec)) == [
        "js/src/b.js",
        "js/first.js",
        "js/src/a.js",
        "js/src/c.js",
    ]


def test_double_star_any_depth(make_site: SiteFactory) -> None:
    site = make_site(
        {"js/a.js": "", "js/x/b.js": "", "js/x/y/c.js": "", "js/x/y/d.css": "", "other/e.js": ""}
    )
    assert rels(site, collect(site, js("js/**/*.js"))) == ["js/a.js", "js/x/b.js", "js/x/y/c.js"]
    assert rels(site, collect(site, js("**/c.js"))) == ["js/x/y/c.js"]
    assert rels(site, collect(site, js("js/**/y/*.js"))) == ["js/x/y/c.js"]
    assert problems(site, css("js/**")) == [
        'bundle "css/main.css": source "js/**": match "js/a.js" is not a CSS file (a css bundle takes .css files)',
        'bundle "css/main.css": source "js/**": match "js/x/b.js" is not a CSS file (a css bundle takes .css files)',
        'bundle "css/main.css": source "js/**": match "js/x/y/c.js" is not a CSS file (a css bundle takes .css files)',
    ]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("js/?.js", ["js/a.js", "js/b.js"]),
        ("js/[ab].js", ["js/a.js", "js/b.js"]),
        ("js/[!a].js", ["js/b.js"]),
        ("js/*/*.js", ["js/lib/l.js"]),
        ("js/l*/l.js", ["js/lib/l.js"]),
        ("js/.*.js", ["js/.h.js"]),  # a pattern starting with "." may match hidden files
        ("js/*", ["js/a.js", "js/b.js"]),
    ],
)
def test_glob_patterns(make_site: SiteFactory, pattern: str, expected: list[str]) -> None:
    site = make_site(
        {"js/a.js": "", "js/b.js": "", "js/lib/l.js": "", "js/.h.js": "", "js/a.js~": ""}
    )
    assert rels(site, collect(site, js(pattern))) == expected


@pytest.mark.parametrize(
    "ignored", [".hidden.js", "x.js~", "x.js.swp", "x.js.tmp", ".git/y.js", "3/v.js", "12/x/v.js"]
)
def test_globs_skip_hidden_temp_and_version_dirs(make_site: SiteFactory, ignored: str) -> None:
    site = make_site({"js/a.js": "", f"js/{ignored}": ""})
    assert rels(site, collect(site, js("js/**/*"))) == ["js/a.js"]


def test_explicit_hidden_file_is_allowed(make_site: SiteFactory) -> None:
    site = make_site({"js/.config.js": ""})
    assert rels(site, collect(site, js("js/.config.js"))) == ["js/.config.js"]


def test_version_dir_outside_the_area_is_fine(make_site: SiteFactory) -> None:
    site = make_site({"vendor/lib/3/x.js": ""})
    assert rels(site, collect(site, js("vendor/lib/3/x.js"))) == ["vendor/lib/3/x.js"]


def test_uppercase_extension_is_the_right_kind(make_site: SiteFactory) -> None:
    site = make_site({"js/OLD.JS": ""})
    assert rels(site, collect(site, js("js/*.JS"))) == ["js/OLD.JS"]


def test_returns_paths_under_the_given_root(make_site: SiteFactory) -> None:
    site = make_site({"js/a.js": ""})
    (path,) = collect(site, js("js/a.js"))
    assert path == site / "js" / "a.js" and path.is_absolute()


@settings(max_examples=30, deadline=None)
@given(
    st.sets(
        st.text(
            st.characters(
                codec="utf-8", exclude_characters="/\\*?[]\x00", exclude_categories=("Cs",)
            ),
            min_size=1,
            max_size=8,
        )
        .filter(lambda n: not n.startswith(".") and n not in (".", ".."))
        .map(lambda n: n + ".js"),
        min_size=1,
        max_size=8,
    )
)
def test_glob_order_is_byte_order(names: set[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "js").mkdir()
        for name in names:
            (root / "js" / name).write_text("")
        found = [p.name for p in collect(root, js("js/*.js"))]
    visible = [n for n in names if not n.endswith(("~", ".swp", ".tmp"))]
    assert found == sorted(visible, key=lambda n: n.encode("utf-8"))


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("js/nope/*.js", "matched no files"),
        ("js/*.coffee", "matched no files"),
        ("js/mian.js", 'does not exist (did you mean "main.js"?)'),
        ("js/missing/x.js", "does not exist"),
        ("js/dir", 'is a directory; list files, or use a glob such as "js/dir/*.js"'),
        ("js/style.css", "is not a JS file (a js bundle takes .js files)"),
        (
            "js/7/old.js",
            'is inside version directory "7", which assetbuild manages; '
            "sources must live outside numbered directories",
        ),
        ("../x.js", "must stay inside root (no .. segments)"),
        ("js/../../x.js", "must stay inside root (no .. segments)"),
        ("../*.js", "must stay inside root (no .. segments)"),
        ("/etc/passwd", "must be relative to root, not absolute"),
        ("C:/x.js", "must be relative to root, not absolute"),
        ("js\\main.js", "use / as the separator, not a backslash"),
        ("", "is empty"),
        (".", "names the root directory, not a file"),
    ],
)
def test_source_errors(make_site: SiteFactory, entry: str, message: str) -> None:
    site = make_site({"js/main.js": "", "js/dir/a.js": "", "js/style.css": "", "js/7/old.js": ""})
    assert problems(site, js(entry)) == [f'bundle "js/main.js": source "{entry}": {message}']


def test_all_problems_are_reported_together(make_site: SiteFactory) -> None:
    site = make_site({"css/a.css": "", "css/b.js": ""})
    messages = problems(site, css("css/a.css", "css/none.css", "css/*", "fonts/*.css"))
    assert messages == [
        'bundle "css/main.css": source "css/none.css": does not exist',
        'bundle "css/main.css": source "css/*": match "css/b.js" is not a CSS file (a css bundle takes .css files)',
        'bundle "css/main.css": source "fonts/*.css": matched no files',
    ]


needs_symlinks = pytest.mark.skipif(
    not hasattr(os, "symlink") or os.name == "nt", reason="needs symlinks"
)


@needs_symlinks
def test_symlinks_inside_root_are_followed(make_site: SiteFactory) -> None:
    site = make_site({"shared/util.js": "", "js/a.js": ""})
    (site / "js" / "lib").symlink_to(site / "shared")
    (site / "js" / "u.js").symlink_to(site / "shared" / "util.js")
    assert rels(site, collect(site, js("js/**/*.js"))) == [
        "js/a.js",
        "js/lib/util.js",
    ]  # u.js is util.js
    assert rels(site, collect(site, js("js/u.js", "js/**/*.js"))) == ["js/u.js", "js/a.js"]


@needs_symlinks
def test_symlink_outside_root(tmp_path: Path, make_site: SiteFactory) -> None:
    site = make_site({"js/a.js": ""})
    outside = make_site({"x.js": "", "lib/y.js": ""}, subdir="outside")
    (site / "js" / "x.js").symlink_to(outside / "x.js")
    (site / "js" / "lib").symlink_to(outside / "lib")
    messages = problems(site, js("js/x.js", "js/**/*.js"))
    assert messages == [
        f'bundle "js/main.js": source "js/x.js": resolves to {outside.resolve() / "x.js"}, outside the root; '
        "set allow_symlinks_outside = true to allow it",
        f'bundle "js/main.js": source "js/**/*.js": directory "js/lib" resolves to {outside.resolve() / "lib"}, '
        "outside the root; set allow_symlinks_outside = true to allow it",
        f'bundle "js/main.js": source "js/**/*.js": match "js/x.js" resolves to {outside.resolve() / "x.js"}, '
        "outside the root; set allow_symlinks_outside = true to allow it",
    ]
    found = collect(site, js("js/x.js", "js/**/*.js"), allow_outside=True)
    assert rels(site, found) == ["js/x.js", "js/a.js", "js/lib/y.js"]


@needs_symlinks
def test_symlink_loops_do_not_hang(make_site: SiteFactory) -> None:
    site = make_site({"js/a.js": "", "js/sub/b.js": ""})
    (site / "js" / "sub" / "up").symlink_to(site / "js")
    (site / "js" / "self.js").symlink_to(site / "js" / "self.js")
    (site / "js" / "broken.js").symlink_to(site / "js" / "gone.js")
    messages = problems(site, js("js/**/*.js"))
    assert messages == [
        'bundle "js/main.js": source "js/**/*.js": symlink loop at "js/sub/up" (it leads back to a directory above it)',
        'bundle "js/main.js": source "js/**/*.js": match "js/broken.js" is a broken symlink '
        f"(to {site / 'js' / 'gone.js'})",
        'bundle "js/main.js": source "js/**/*.js": match "js/self.js" is a symlink loop',
    ]


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"a\r\nb\r\n", "a\r\nb\r\n"),  # line endings are kept
        (b"\xef\xbb\xbfbody{}", "body{}"),  # the BOM is dropped
        (b"", ""),
        ("caf\u00e9 \u2603 \U0001f600".encode(), "caf\u00e9 \u2603 \U0001f600"),
    ],
)
def test_read_source(tmp_path: Path, data: bytes, text: str) -> None:
    path = tmp_path / "a.js"
    path.write_bytes(data)
    src = read_source(path, "a.js")
    assert (src.path, src.display, src.original, src.text, src.edits) == (
        path,
        "a.js",
        text,
        text,
        (),
    )


@pytest.mark.parametrize(
    ("data", "line", "column", "byte", "src_line"),
    [
        (b"\xff", 1, 1, 0xFF, "\ufffd"),
        (b"var a;\nvar caf\xe9 = 1;\nx", 2, 8, 0xE9, "var caf\ufffd = 1;"),
        ("\u00e9\u00e9".encode() + b"\x80", 1, 3, 0x80, "\u00e9\u00e9\ufffd"),
        (b"\xef\xbb\xbfab\xc3", 1, 3, 0xC3, "\ufeffab\ufffd"),  # column counted without the BOM
    ],
)
def test_invalid_utf8_is_located(
    tmp_path: Path, data: bytes, line: int, column: int, byte: int, src_line: str
) -> None:
    path = tmp_path / "a.js"
    path.write_bytes(data)
    with pytest.raises(SourceError) as info:
        read_source(path, "js/a.js")
    (diag,) = info.value.diagnostics
    message = f"invalid UTF-8 byte 0x{byte:02x}; assetbuild reads sources as UTF-8"
    assert diag.message == message
    assert str(diag.location) == f"js/a.js:{line}:{column}"
    assert diag.source_line == src_line
    assert str(info.value) == f"js/a.js:{line}:{column}: {message}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00",
            "js/a.js:3:1: looks like a binary file (contains a NUL byte)",
        ),
        (
            "a = 1;".encode("utf-16"),
            "js/a.js: looks like UTF-16 (byte order mark); save it as UTF-8",
        ),
    ],
)
def test_binary_files(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "a.js"
    path.write_bytes(data)
    with pytest.raises(SourceError) as info:
        read_source(path, "js/a.js")
    assert str(info.value).startswith(expected)


@pytest.mark.parametrize(
    ("make", "reason"),
    [("missing", "No such file or directory"), ("dir", "it is a directory, not a regular file")],
)
def test_unreadable_source(tmp_path: Path, make: str, reason: str) -> None:
    path = tmp_path / "a.js"
    if make == "dir":
        path.mkdir()
    with pytest.raises(SourceError) as info:
        read_source(path, "js/a.js")
    assert str(info.value) == f"js/a.js: cannot read source: {reason}"
    assert info.value.diagnostics[0].location is not None


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "a.js"
    path.write_text("x")
    path.chmod(0)
    with pytest.raises(SourceError, match=r"js/a\.js: cannot read source: Permission denied"):
        read_source(path, "js/a.js")


# --- display ---------------------------------------------------------------------------


def test_display_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "js" / "a.js") == "js/a.js"
    assert display_path(Path("js/a.js")) == "js/a.js"
    assert display_path(tmp_path) == "."
    assert display_path(tmp_path.parent / "x.js") == (tmp_path.parent / "x.js").as_posix()
    assert display_path(tmp_path / "a" / "b.js", start=tmp_path / "a") == "b.js"


@needs_symlinks
def test_display_path_under_a_symlinked_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "real" / "js").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path / "link")
    assert (
        display_path((tmp_path / "real" / "js" / "a.js").resolve(), start=tmp_path / "link")
        == "js/a.js"
    )


def test_a_fifo_source_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "a.js"
    os.mkfifo(path)
    with pytest.raises(SourceError) as info:
        read_source(path, "js/a.js")  # would block forever on an open without O_NONBLOCK
    assert (
        str(info.value)
        == "js/a.js: cannot read source: it is a named pipe (FIFO), not a regular file"
    )


@pytest.mark.parametrize(
    ("name", "language", "megabytes"), [("a.css", "CSS", 8), ("a.js", "JavaScript", 10)]
)
def test_each_kind_has_its_memory_bounded_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, language: str, megabytes: int
) -> None:
    monkeypatch.delenv("ASSETBUILD_MAX_SOURCE_MB", raising=False)
    path = tmp_path / name
    with path.open("wb") as f:
        f.truncate(megabytes * 1_000_000 + 1)  # sparse: refused before it is read
    with pytest.raises(SourceError) as info:
        read_source(path, name)
    message = info.value.diagnostics[0].message
    assert f"{language} sources of up to {megabytes} MB" in message
    assert "bytes of memory per source byte" in message and "ASSETBUILD_MAX_SOURCE_MB" in message
    monkeypatch.setenv("ASSETBUILD_MAX_SOURCE_MB", str(megabytes + 1))
    with pytest.raises(SourceError) as info:
        read_source(path, name)  # now read: the NULs of the sparse file are what is wrong
    assert "binary" in info.value.diagnostics[0].message
