"""Template helpers take attributes (defer, async, nonce, media, type), escaped; integrity and preload.

The same tags from Python, Jinja2, Django and PHP (each run for real).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from jinja2 import Environment

import assetbuild
from assetbuild.jinja import install_jinja
from assetbuild.manifest import Manifest, bundle_entry, write_manifest
from tests.helpers.django import render_django

PHP = shutil.which("php") or ""
HELPERS = Path(assetbuild.__file__).parent / "php" / "assetbuild.php"
SRI = {}


def entries() -> dict[str, object]:
    return {
        "js/alpine.js": bundle_entry("js/3/alpine.js", 3, b"var a;", {}, "/static/"),
        "css/main.css": bundle_entry("css/2/main.css", 2, b"a{}", {}, "/static/"),
        "js/app.mjs": bundle_entry("js/1/app.mjs", 1, b"x", {}, '/s?a=1&b="2"/'),
    }


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    json_path = tmp_path / "manifest.json"
    write_manifest(json_path, "json", entries())  # type: ignore[arg-type]
    write_manifest(tmp_path / "manifest.php", "php", entries())  # type: ignore[arg-type]
    return json_path


def test_tag_with_boolean_and_valued_attributes(manifest: Path) -> None:
    m = Manifest.load(manifest)
    sri = m.integrity("js/alpine.js")
    assert sri.startswith("sha384-")
    assert m.tag("js/alpine.js", defer=True, nonce='n"<1') == (
        f'<script src="/static/js/3/alpine.js" integrity="{sri}" crossorigin="anonymous" '
        'defer nonce="n&quot;&lt;1"></script>'
    )
    assert m.tag("js/alpine.js", **{"async": True, "defer": False, "nonce": None}).endswith(
        'crossorigin="anonymous" async></script>'
    )
    assert m.tag("js/alpine.js", async_=True, data_turbo_track="reload").endswith(
        ' async data-turbo-track="reload"></script>'
    )
    assert 'media="print"' in m.tag("css/main.css", media="print")
    assert m.tag("js/alpine.js", type="module").count("type=") == 1
    assert m.tag("js/app.mjs").startswith('<script type="module" src="/s?a=1&amp;b=&quot;2&quot;/')
    for bad in ({"src": "x"}, {"integrity": "x"}, {"on click": "x"}, {"x><script": True}):
        with pytest.raises(ValueError):
            m.tag("js/alpine.js", **bad)


def test_preload_has_the_right_as(manifest: Path) -> None:
    m = Manifest.load(manifest)
    assert m.preload("js/alpine.js").startswith(
        '<link rel="preload" href="/static/js/3/alpine.js" as="script" integrity="sha384-'
    )
    assert ' as="style" ' in m.preload("css/main.css")
    module = m.preload("js/app.mjs", fetchpriority="high")
    assert module.startswith('<link rel="modulepreload" ') and " as=" not in module
    assert module.endswith(' crossorigin="anonymous" fetchpriority="high">')


def test_jinja_helpers(manifest: Path) -> None:
    env = Environment(autoescape=True)
    install_jinja(env, manifest)
    html = env.from_string(
        '{{ asset_tag("js/alpine.js", defer=True, nonce=n) }}|{{ asset_preload("css/main.css") }}'
        '|{{ asset_integrity("js/alpine.js") }}|{{ asset_tag("css/main.css", media="print") }}'
    ).render(n='"x')
    m = Manifest.load(manifest)
    assert html == "|".join(
        [
            m.tag("js/alpine.js", defer=True, nonce='"x'),
            m.preload("css/main.css"),
            m.integrity("js/alpine.js"),
            m.tag("css/main.css", media="print"),
        ]
    )


def test_django_helpers(manifest: Path) -> None:
    pytest.importorskip("django")
    html = render_django(
        manifest,
        '{% load assetbuild %}{% asset_tag "js/alpine.js" defer=True nonce=n %}|'
        '{% asset_preload "css/main.css" %}|{% asset_integrity "js/alpine.js" %}',
        {"n": '"x'},
    )
    m = Manifest.load(manifest)
    assert html == "|".join(
        [
            m.tag("js/alpine.js", defer=True, nonce='"x'),
            m.preload("css/main.css"),
            m.integrity("js/alpine.js"),
        ]
    )


@pytest.mark.skipif(not PHP, reason="php is not installed")
def test_php_helpers_give_the_same_tags(manifest: Path) -> None:
    code = (
        "require_once $argv[1]; $a = require $argv[2];"
        "echo assetbuild_tag($a, 'js/alpine.js', ['defer' => true, 'nonce' => '\"x', 'async' => false]),"
        " '|', assetbuild_preload($a, 'css/main.css'), '|', assetbuild_integrity($a, 'js/alpine.js'),"
        " '|', assetbuild_tag($a, 'js/app.mjs'), '|', assetbuild_preload($a, 'js/app.mjs'),"
        " '|', assetbuild_tag($a, 'css/main.css', ['media' => 'print']);"
    )
    result = subprocess.run(
        [PHP, "-r", code, str(HELPERS), str(manifest.with_suffix(".php"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    m = Manifest.load(manifest)
    assert result.stdout == "|".join(
        [
            m.tag("js/alpine.js", defer=True, nonce='"x'),
            m.preload("css/main.css"),
            m.integrity("js/alpine.js"),
            m.tag("js/app.mjs"),
            m.preload("js/app.mjs"),
            m.tag("css/main.css", media="print"),
        ]
    )
