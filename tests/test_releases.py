"""Releases through the real CLI: unchanged bundles keep their URLs, url() assets ship in the version."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assetbuild.build.results import AreaResult, InstallReport
from assetbuild.summary import link_lines

TOML = """root = "static"
manifest_format = "{fmt}"
compress = ["gzip"]

[[bundle]]
output = "js/vendor.js"
sources = ["js/source/vendor.js"]

[[bundle]]
output = "js/app.js"
sources = ["js/source/app.js"]

[[bundle]]
output = "css/main.css"
sources = ["css/source/main.css"]
"""

CSS = """@font-face{font-family:a;src:url(fonts/a.woff2) format("woff2")}
@font-face{font-family:k;src:url("../../vendor/katex/k.woff2")}
.logo{background:url(data:image/png;base64,AAAA)}
"""


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(site / ".xdg"), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "assetbuild", "-C", str(site), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def make_site(tmp_path: Path, fmt: str = "json") -> Path:
    site = tmp_path / "site"
    static = site / "static"
    (static / "js/source").mkdir(parents=True)
    (static / "css/source/fonts").mkdir(parents=True)
    (static / "vendor/katex").mkdir(parents=True)
    (static / "js/source/vendor.js").write_text("".join(f"var v{i} = {i};\n" for i in range(300)))
    (static / "js/source/app.js").write_text("var app = 1;\n")
    (static / "css/source/fonts/a.woff2").write_bytes(b"font-a" * 100)
    (static / "vendor/katex/k.woff2").write_bytes(b"font-k" * 100)
    (static / "css/source/main.css").write_text(CSS)
    (site / "assetbuild.toml").write_text(TOML.format(fmt=fmt))
    return site


def manifest(site: Path) -> dict[str, dict[str, object]]:
    return dict(json.loads((site / "static/manifest.json").read_text())["bundles"])


def ino(path: Path) -> int:
    return path.stat().st_ino


def test_an_edit_to_one_bundle_keeps_the_others_urls(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    static = site / "static"
    assert run(site, "install").returncode == 0
    (static / "js/source/app.js").write_text("var app = 2;\n")
    done = run(site, "install")
    assert done.returncode == 0, done.stderr
    assert "unchanged" in done.stdout
    bundles = manifest(site)
    assert bundles["js/app.js"]["path"] == "js/2/app.js"
    assert bundles["js/vendor.js"]["path"] == "js/1/vendor.js"  # its URL did not change
    assert bundles["js/vendor.js"]["variants"]["gz"]["path"] == "js/1/vendor.js.gz"  # type: ignore[index]
    # The current number still holds every current file, as hard links to the bytes of js/1.
    assert (static / "js/2/vendor.js").read_bytes() == (static / "js/1/vendor.js").read_bytes()
    assert ino(static / "js/2/vendor.js") == ino(static / "js/1/vendor.js")
    assert ino(static / "js/2/vendor.js.gz") == ino(static / "js/1/vendor.js.gz")
    assert ino(static / "js/2/app.js") != ino(static / "js/1/app.js")
    # A second edit: vendor still points at js/1, where its bytes were first installed.
    (static / "js/source/app.js").write_text("var app = 3;\n")
    assert run(site, "install").returncode == 0
    assert manifest(site)["js/vendor.js"]["path"] == "js/1/vendor.js"
    assert manifest(site)["js/app.js"]["path"] == "js/3/app.js"
    # Prune keeps js/1: the manifest still names it for vendor.js.
    pruned = run(site, "prune", "--keep", "1", "--min-age", "0")
    assert pruned.returncode == 0, pruned.stderr
    assert sorted(p.name for p in (static / "js").iterdir()) == ["1", "3", "source"]
    assert (static / "js/1/vendor.js").exists()
    # status and the quick path still answer "up to date".
    time.sleep(2.1)
    assert run(site, "install").stdout.strip().endswith("up to date")
    status = run(site, "status", "--check")
    assert status.returncode == 0, status.stdout + status.stderr
    # A changed vendor bundle gets the new number.
    with (static / "js/source/vendor.js").open("a") as f:
        f.write("var extra = 1;\n")
    assert run(site, "install").returncode == 0
    assert manifest(site)["js/vendor.js"]["path"] == "js/4/vendor.js"


def test_bump_gives_every_bundle_the_new_version(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert run(site, "install").returncode == 0
    assert run(site, "install", "--bump").returncode == 0
    bundles = manifest(site)
    assert bundles["js/vendor.js"]["path"] == "js/2/vendor.js"
    static = site / "static"
    assert ino(static / "js/2/vendor.js") == ino(static / "js/1/vendor.js")


def test_php_manifest_follows_the_links(tmp_path: Path) -> None:
    site = make_site(tmp_path, fmt="php")
    assert run(site, "install").returncode == 0
    (site / "static/js/source/app.js").write_text("var app = 2;\n")
    assert run(site, "install").returncode == 0
    php = (site / "static/manifest.php").read_text()
    assert "'js/1/vendor.js'" in php and "'js/2/app.js'" in php
    assert "'js/2/vendor.js'" not in php
    assert "'css/1/fonts/a.woff2'," in php  # the assets list
    if shutil.which("php"):
        out = subprocess.run(
            ["php", "-r", "echo json_encode(require $argv[1]);", str(site / "static/manifest.php")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert json.loads(out)["bundles"]["css/main.css"]["assets"][1] == "css/1/fonts/a.woff2"


def test_url_assets_are_copied_rewritten_and_listed(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    static = site / "static"
    done = run(site, "install")
    assert done.returncode == 0, done.stderr
    css = (static / "css/1/main.css").read_text()
    assert "url(fonts/a.woff2)" in css  # the layout below css/source/ is kept: not rewritten
    (katex,) = re.findall(r'url\("(assets/k-[0-9a-f]{12}\.woff2)"\)', css)
    assert "data:image/png" in css
    assert (static / "css/1/fonts/a.woff2").read_bytes() == b"font-a" * 100
    assert (static / "css/1" / katex).read_bytes() == b"font-k" * 100
    entry = manifest(site)["css/main.css"]
    assert entry["assets"] == [f"css/1/{katex}", "css/1/fonts/a.woff2"]
    # An edit to a JS bundle leaves the CSS and its assets where they are.
    (static / "js/source/app.js").write_text("var app = 2;\n")
    assert run(site, "install").returncode == 0
    assert manifest(site)["css/main.css"]["path"] == "css/1/main.css"
    # An edited font is a change: the stylesheet gets a new version, the other font is linked.
    time.sleep(0.01)
    (static / "css/source/fonts/a.woff2").write_bytes(b"font-A" * 100)
    done = run(site, "install")
    assert done.returncode == 0, done.stderr
    entry = manifest(site)["css/main.css"]
    assert entry["path"] == "css/2/main.css"
    assert (static / "css/2/fonts/a.woff2").read_bytes() == b"font-A" * 100
    assert (static / "css/1/fonts/a.woff2").read_bytes() == b"font-a" * 100
    assert ino(static / "css/1" / katex) == ino(static / "css/2" / katex)
    # build --out: the same places beside the bundle, so its url()s resolve wherever DIR is.
    out = tmp_path / "out"
    done = run(site, "build", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "css/fonts/a.woff2").read_bytes() == b"font-A" * 100
    assert (out / "css" / katex).read_bytes() == b"font-k" * 100
    assert "url(fonts/a.woff2)" in (out / "css/main.css").read_text()


def test_hostile_url_assets_are_never_copied(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    static = site / "static"
    fonts = static / "css/source/fonts"
    os.mkfifo(fonts / "pipe.woff")
    (fonts / "passwd.woff").symlink_to("/etc/passwd")
    (static / ".secret").write_text("token")
    with (static / "css/source/main.css").open("a") as f:
        f.write(".a{background:url(fonts/pipe.woff)}\n")
        f.write(".b{background:url(fonts/passwd.woff)}\n")
        f.write(".c{background:url(../../../../../../../etc/passwd)}\n")
        f.write(".d{background:url(../../.secret)}\n")
        f.write(".e{background:url(fonts/missing.png)}\n")
    done = run(site, "install")
    assert done.returncode == 0, done.stderr
    assert "pipe.woff, which is a named pipe (FIFO)" in done.stderr
    assert "passwd.woff, which leads outside the root through a symbolic link" in done.stderr
    assert "url() points at a missing file: fonts/missing.png" in done.stderr
    copied = sorted(
        p.relative_to(static / "css/1").as_posix()
        for p in (static / "css/1").rglob("*")
        if p.is_file()
    )
    assert len(copied) == 4
    assert copied[0].startswith("assets/k-") and copied[1:] == [
        "fonts/a.woff2",
        "main.css",
        "main.css.gz",
    ]
    for path in (static / "css/1").rglob("*"):
        assert b"root:" not in (path.read_bytes() if path.is_file() else b"")


def test_link_fallbacks_are_listed_under_verbose() -> None:
    area = AreaResult("js", "bumped", 2, 1, (), (("hand.txt", "Invalid cross-device link"),))
    report = InstallReport((area,), None, False, False)
    (line,) = link_lines(report)
    assert "js/2: 1 unchanged file(s) copied, not hard-linked" in line
    assert "Invalid cross-device link" in line and "hand.txt" in line


@pytest.mark.parametrize("area", ["css", ""])
def test_asset_places_are_distinct_and_inside(area: str) -> None:
    from assetbuild.css.urls import asset_place

    root = "/r"
    area_dir = f"/r/{area}" if area else "/r"
    src = f"{area_dir}/source"
    paths = [
        f"{src}/fonts/a.woff",
        f"{src}/assets/x.png",
        f"{src}/x.png",
        f"{src}/main.css",
        f"{src}/source/x.png",
        "/r/assets/x.png",
        "/r/vendor/k.woff2",
        "/r/vendor/fonts/a.woff",
        "/r/logo",
    ]
    places = [asset_place(p, area_dir, root) for p in paths]
    assert all(p is not None for p in places)
    assert len(set(places)) == len(places)
    for place in places:
        segments = str(place).split("/")
        assert ".." not in segments and "source" not in segments and "" not in segments
        assert "/" in str(place) or not str(place).endswith((".css", ".js", ".gz", ".br"))
    assert places[0] == "fonts/a.woff"  # the layout below source/ is kept
    for hidden in ("/r/.git/config", f"{area_dir}/2/a.png".replace("//", "/"), "/etc/passwd", "/r"):
        assert asset_place(hidden, area_dir, root) is None


def test_a_removed_bundle_leaves_the_manifest_and_new_versions(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    static = site / "static"
    assert run(site, "install").returncode == 0
    toml = (site / "assetbuild.toml").read_text()
    removed = '[[bundle]]\noutput = "js/vendor.js"\nsources = ["js/source/vendor.js"]\n\n'
    assert removed in toml
    (site / "assetbuild.toml").write_text(toml.replace(removed, ""))
    # status names the installed file that no bundle produces any more.
    status = run(site, "status")
    assert "js/1/vendor.js" in status.stdout and "no bundle produces" in status.stdout
    (static / "js/source/app.js").write_text("var app = 2;\n")
    (static / "js/1/robots.txt").write_text("hand-placed")
    done = run(site, "install")
    assert done.returncode == 0, done.stderr
    assert set(manifest(site)) == {"js/app.js", "css/main.css"}
    assert sorted(p.name for p in (static / "js/2").iterdir()) == ["app.js", "robots.txt"]
    assert (static / "js/1/vendor.js").exists()  # published URLs keep working
    # Only the current version counts for status: js/2 has no vendor.js.
    assert "no bundle produces" not in run(site, "status").stdout


def test_local_imports_are_copied_with_their_own_assets(tmp_path: Path) -> None:
    from assetbuild.build.results import Built
    from assetbuild.css.urls import rewrite_with_assets
    from assetbuild.install.assets import read_assets
    from assetbuild.sources import SourceFile

    root = tmp_path / "static"
    source = root / "css/source"
    (source / "part").mkdir(parents=True)
    (root / "vendor/lib/fonts").mkdir(parents=True)
    for name in ("a.css", "c.png", "part/d.png"):
        (source / name).write_text("x")
    (source / "part/p.css").write_text(".p{background:url(../c.png)}\n.q{background:url(d.png)}\n")
    (root / "vendor/lib/lib.css").write_text("@font-face{src:url(fonts/l.woff2)}\n")
    (root / "vendor/lib/fonts/l.woff2").write_text("font")
    text = (
        '@import url("a.css") screen;\n@import "part/p.css";\n'
        "@import '../../vendor/lib/lib.css';\n@import 'https://cdn.example.com/x.css';\n"
        ".x{background:url(c.png)}\n"
    )
    src = SourceFile(source / "main.css", "css/source/main.css", text, text, ())
    rewritten, diags, assets = rewrite_with_assets(src, source, root / "css/1", root)
    places = [place for place, _ in assets]
    lib = [p for p in places if p.startswith("assets/lib-") and p.endswith(".css")]
    bare = [p for p in places if p.startswith("assets/a-") and p.endswith(".css")]
    # A bare name beside the bundles goes to assets/ (it could be taken for a bundle).
    assert sorted(places) == sorted(["c.png", "part/p.css", *lib, *bare])
    assert len(lib) == 1 and len(bare) == 1
    assert "@import 'https://cdn.example.com/x.css'" in rewritten.text  # not local: as written
    assert f"@import '{lib[0]}'" in rewritten.text
    assert f'@import url("{bare[0]}")' in rewritten.text
    assert diags == ()
    built = Built(
        "css/main.css", "css", ("css/source/main.css",), 1, b"", ("off",), (), None, assets
    )
    (read,), problems = read_assets(root, [built])
    copies = dict(read.assets)
    assert problems == []
    # The imported stylesheets' url()s lead to the copies of their files, copied too.
    assert copies["part/p.css"] == b".p{background:url(../c.png)}\n.q{background:url(d.png)}\n"
    assert copies["part/d.png"] == b"x"
    fonts = [p for p in copies if p.startswith("assets/l-") and p.endswith(".woff2")]
    assert len(fonts) == 1 and copies[fonts[0]] == b"font"
    assert copies[lib[0]] == f"@font-face{{src:url({fonts[0][len('assets/') :]})}}\n".encode()
    assert {place for place, _ in read.asset_sources} == set(copies)


def test_cli_an_imported_stylesheet_loads_its_files_from_the_version(tmp_path: Path) -> None:
    from tests.test_cli import run as cli

    css = tmp_path / "css" / "source"
    (css / "partials").mkdir(parents=True)
    (css / "img").mkdir()
    (css / "main.css").write_text('@import "partials/x.css";\n.a { color: red }\n')
    (css / "partials/x.css").write_text(".x { background: url(../img/b.png) }\n")
    (css / "img/b.png").write_bytes(b"PNG")
    first = cli("install", "--static-url", "/s", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    version = tmp_path / "css" / "1"
    assert (version / "main.css").read_text().startswith('@import "partials/x.css";')
    assert (version / "partials/x.css").read_text() == ".x { background: url(../img/b.png) }\n"
    assert (version / "img/b.png").read_bytes() == b"PNG"
    entry = json.loads((tmp_path / "manifest.json").read_text())["bundles"]["css/main.css"]
    assert entry["assets"] == ["css/1/img/b.png", "css/1/partials/x.css"]
    # An edit of the imported stylesheet is a change: a new version, the old one untouched.
    (css / "partials/x.css").write_text(".x { background: url(../img/b.png); color: blue }\n")
    assert cli("status", "--check", "--static-url", "/s", cwd=tmp_path).returncode == 1
    second = cli("install", "--static-url", "/s", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "color: blue" in (tmp_path / "css/2/partials/x.css").read_text()
    assert "color: blue" not in (version / "partials/x.css").read_text()
