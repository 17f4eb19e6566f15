"""Template helpers for ES modules (issue 15): the import map tag, a module entry tag, modulepreload.

Python's `Manifest`, Jinja2, Django and PHP (each run for real) emit the same HTML, and the import
map's text is exactly the text whose sha256 the manifest records as `importmap_csp`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment

import assetbuild
from assetbuild.jinja import install_jinja
from assetbuild.manifest import (
    Manifest,
    ManifestData,
    ManifestError,
    bundle_entry,
    render_json,
    render_php,
)
from assetbuild.modules.build import build_trees
from assetbuild.modules.config import ModuleSpec
from assetbuild.modules.importmap import (
    build_importmap,
    importmap_csp,
    importmap_json,
    module_entries,
)
from tests.helpers.django import render_django

PHP = shutil.which("php") or ""
needs_php = pytest.mark.skipif(not PHP, reason="php is not installed")
HELPERS = Path(assetbuild.__file__).parent / "php" / "assetbuild.php"
SiteFactory = Callable[..., Path]

TREE = {
    "js/modules/main.js": (
        'import { a } from "./lib/a.js";\nimport data from "./data.json" with { type: "json" };\n'
        'import pop from "pop";\nconst lazy = await import("./lazy.js");\n'
        "export default [a, data, pop, lazy];\n"
    ),
    "js/modules/lib/a.js": 'import { b } from "./b.js";\nexport const a = b;\n',
    "js/modules/lib/b.js": "export const b = 1;\n",
    "js/modules/lazy.js": "export default 2;\n",
    "js/modules/data.json": '{"n": 3}\n',
    "js/vendor/pop/index.js": 'import { b } from "./util.js";\nexport default b;\n',
    "js/vendor/pop/util.js": "export const b = 4;\n",
}
PAIRS = (("pop", "js/vendor/pop/index.js"), ("lib/", "js/modules/lib/"))
# A static URL a template must escape in attributes; the import map holds it as JSON.
STATIC_URL = "https://s.example/a&b/<x>'q'/"


def manifest_data(site: Path, *, layout: str = "modules") -> dict[str, Any]:
    """The manifest the install writes for TREE (modules/importmap.py makes every module field)."""
    specs = [ModuleSpec("js/modules", "js/app"), ModuleSpec("js/vendor", "js/vendor")]
    result = build_trees(site, specs, PAIRS, {})
    assert result.ok, result.diagnostics
    versions = {"js": 4}
    modules = module_entries(result.trees, versions, STATIC_URL)
    importmap = build_importmap(result.trees, modules, PAIRS, versions, STATIC_URL)
    bundles: dict[str, Any] = {
        "js/main.js": bundle_entry("js/3/main.js", 3, b"var a;", {}, STATIC_URL)
    }
    data: dict[str, Any] = {"version": 1, "bundles": bundles}
    if layout == "modules":
        data["modules"] = modules
    else:  # module entries among the bundles: the helpers find them by their "imports"
        bundles.update(modules)
    data["importmap"] = importmap
    data["importmap_csp"] = importmap_csp(importmap)
    return data


def write(directory: Path, data: dict[str, Any]) -> Path:
    """manifest.json and manifest.php holding `data`; the JSON one's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_bytes(render_json(cast(ManifestData, data)))
    (directory / "manifest.php").write_bytes(render_php(cast(ManifestData, data)))
    return directory / "manifest.json"


@pytest.fixture(params=["modules", "bundles"])
def manifest(request: pytest.FixtureRequest, make_site: SiteFactory, tmp_path: Path) -> Path:
    site = make_site(TREE)
    return write(tmp_path / "out", manifest_data(site, layout=request.param))


def sha256_source(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def inner_text(tag: str) -> str:
    start = tag.index(">") + 1
    assert tag.endswith("</script>")
    return tag[start : -len("</script>")]


# Python's Manifest ------------------------------------------------------------------------------


def test_module_tag(manifest: Path) -> None:
    m = Manifest.load(manifest)
    entry = m.module("js/app/main.js")
    assert entry["url"] == "https://s.example/a&b/<x>'q'/js/4/app/main.js"
    url = "https://s.example/a&amp;b/&lt;x&gt;&#x27;q&#x27;/js/4/app/main.js"
    assert m.module_tag("js/app/main.js") == (
        f'<script type="module" src="{url}" integrity="{entry["integrity"]}" '
        'crossorigin="anonymous"></script>'
    )
    assert m.module_tag("js/app/main.js", async_=True, nonce='n"<1', defer=None).endswith(
        ' crossorigin="anonymous" async nonce="n&quot;&lt;1"></script>'
    )
    assert 'crossorigin="use-credentials"' in m.module_tag(
        "js/app/main.js", crossorigin="use-credentials"
    )
    for bad in ({"src": "x"}, {"type": "text/javascript"}, {"integrity": "x"}, {"a b": "x"}):
        with pytest.raises(ValueError):
            m.module_tag("js/app/main.js", **bad)
    with pytest.raises(ValueError, match="JSON module"):
        m.module_tag("js/app/data.json")


def test_unknown_module_says_what_exists(manifest: Path) -> None:
    m = Manifest.load(manifest)
    with pytest.raises(
        ManifestError, match=r"no module named 'js/app/mian.js'; did you mean 'js/app/main.js'"
    ):
        m.module_tag("js/app/mian.js")
    with pytest.raises(ManifestError, match=r"no module named 'js/main\.js'"):
        m.modulepreload("js/main.js")  # a bundle, not a module


def test_modulepreload_links_the_static_closure(manifest: Path) -> None:
    m = Manifest.load(manifest)
    links = m.modulepreload("js/app/main.js").split("\n")
    # the closure in first-visit order; the dynamic import() and the JSON module are not preloaded
    names = [
        "js/app/lib/a.js",
        "js/app/lib/b.js",
        "js/vendor/pop/index.js",
        "js/vendor/pop/util.js",
    ]
    assert m.module("js/app/main.js")["imports"] == [*names[:2], "js/app/data.json", *names[2:]]
    assert len(links) == len(names)
    for link, name in zip(links, names, strict=True):
        entry = m.module(name)
        url = entry["url"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        url = url.replace("'", "&#x27;")
        assert link == (
            f'<link rel="modulepreload" href="{url}" integrity="{entry["integrity"]}" '
            'crossorigin="anonymous">'
        )
    assert m.modulepreload("js/app/lib/b.js") == ""
    assert m.modulepreload("js/app/lib/a.js", fetchpriority="low").endswith(
        ' crossorigin="anonymous" fetchpriority="low">'
    )
    with pytest.raises(ValueError):
        m.modulepreload("js/app/main.js", rel="preload")


def test_importmap_tag_is_exactly_what_the_csp_hash_covers(manifest: Path) -> None:
    m = Manifest.load(manifest)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    tag = m.importmap_tag()
    assert tag.startswith('<script type="importmap">{"imports":{')
    text = inner_text(tag)
    assert text == importmap_json(data["importmap"])  # the install's text
    assert sha256_source(text) == data["importmap_csp"] == m.importmap_csp()
    assert json.loads(text) == data["importmap"]
    assert "<" not in text  # the static URL's "<x>" is \u003c inside the JSON
    # every module URL has its integrity, the ones reached only by a relative import included
    modules = data.get("modules") or {k: v for k, v in data["bundles"].items() if "imports" in v}
    assert json.loads(text)["integrity"] == {e["url"]: e["integrity"] for e in modules.values()}
    with_nonce = m.importmap_tag(nonce="r'4\"")
    assert with_nonce.startswith('<script type="importmap" nonce="r&#x27;4&quot;">')
    assert inner_text(with_nonce) == text
    for bad in ({"type": "module"}, {"src": "x"}):
        with pytest.raises(ValueError):
            m.importmap_tag(**bad)


def test_embedded_text_cannot_end_the_element(tmp_path: Path) -> None:
    importmap = {
        "imports": {"</script><script>alert(1)</script>": "/a.js", "<!--x": "/é\u2028.js"},
        "integrity": {"/a.js": "sha384-x"},
    }
    data = {"version": 1, "bundles": {}, "importmap": importmap}
    data["importmap_csp"] = importmap_csp(importmap)
    m = Manifest.load(write(tmp_path, data))
    tag = m.importmap_tag()
    assert tag.count("<") == 2 and tag.count("</script") == 1
    assert json.loads(inner_text(tag)) == importmap
    assert sha256_source(inner_text(tag)) == m.importmap_csp()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("importmap"), "holds no import map"),
        (lambda d: d.update(importmap_csp="sha256-AAAA"), "importmap_csp is not the hash"),
        (lambda d: d.pop("importmap_csp"), "importmap_csp is not the hash"),
        (
            lambda d: d["importmap"]["imports"].update(x="/other.js"),
            "importmap_csp is not the hash",
        ),
        (lambda d: d["importmap"].update(imports=["/a.js"]), "bad importmap"),
        (lambda d: d["importmap"]["imports"].update(x=1), "bad importmap"),
        (lambda d: d.update(importmap="x"), "bad importmap"),
        (lambda d: d["importmap"].update(scopes={"/": {"a": {"b": "c"}}}), "bad importmap"),
    ],
)
def test_a_wrong_import_map_is_refused(
    make_site: SiteFactory, tmp_path: Path, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = manifest_data(make_site(TREE))
    change(data)
    m = Manifest.load(write(tmp_path / "m", data))
    with pytest.raises(ManifestError, match=message):
        m.importmap_tag()
    with pytest.raises(ManifestError, match=message):
        m.importmap_csp()


def test_a_lone_surrogate_is_refused_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(
        '{"version": 1, "bundles": {}, "importmap": {"imports": {"\\ud800": "/a.js"}},'
        ' "importmap_csp": "sha256-x"}',
        encoding="utf-8",
    )
    with pytest.raises(ManifestError, match="lone surrogate"):
        Manifest.load(path).importmap_tag()


def test_a_bad_module_entry_is_refused(make_site: SiteFactory, tmp_path: Path) -> None:
    data = manifest_data(make_site(TREE))
    data["modules"]["js/app/lib/a.js"]["imports"] = "js/app/lib/b.js"
    data["modules"]["js/app/lib/b.js"].pop("integrity")
    m = Manifest.load(write(tmp_path / "m", data))
    for call in (
        lambda: m.modulepreload("js/app/lib/a.js"),
        lambda: m.module_tag("js/app/lib/b.js"),
    ):
        with pytest.raises(ManifestError, match="bad module entry"):
            call()
    data["modules"] = ["js/app/main.js"]
    m = Manifest.load(write(tmp_path / "n", data))
    with pytest.raises(ManifestError, match='"modules" is not an object'):
        m.module_tag("js/app/main.js")


# From a real install --------------------------------------------------------------------------------

CONFIG = """
static_url = "https://s.example/st"
manifest_format = "{fmt}"

[[modules]]
source = "js/modules"
output = "js/app"

[[modules]]
source = "js/vendor"
output = "js/vendor"

[importmap]
"pop" = "js/vendor/pop/index.js"
"lib/" = "js/modules/lib/"
"""


@pytest.mark.parametrize("fmt", ["json", "php"])
def test_helpers_read_what_the_real_install_writes(make_site: SiteFactory, fmt: str) -> None:
    site = make_site(TREE, CONFIG.replace("{fmt}", fmt))
    exe = Path(sys.executable).with_name("assetbuild")
    done = subprocess.run(
        [str(exe), "-C", str(site), "install"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    if fmt == "php":
        if not PHP:
            pytest.skip("php is not installed")
        script = "$a = require $argv[2]; echo json_encode($a, JSON_UNESCAPED_SLASHES);"
        result = php(script, str(site / "manifest.php"))
        assert result.returncode == 0, result.stderr
        as_json = json.loads(result.stdout)
        as_json["bundles"] = as_json["bundles"] or {}  # PHP's empty array is a list to json_encode
        (site / "manifest.json").write_text(json.dumps(as_json), encoding="utf-8")
    data = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    m = Manifest.load(site / "manifest.json")
    text = inner_text(m.importmap_tag())
    assert sha256_source(text) == data["importmap_csp"]
    assert json.loads(text) == data["importmap"]
    assert json.loads(text)["imports"]["pop"] == m.module("js/vendor/pop/index.js")["url"]
    assert m.module("js/app/main.js")["url"] == "https://s.example/st/js/1/app/main.js"
    # every URL a page names is the installed file with that integrity
    for link in [m.module_tag("js/app/main.js"), *m.modulepreload("js/app/main.js").split("\n")]:
        url = link.split('src="' if "<script" in link else 'href="')[1].split('"')[0]
        installed = site / url.removeprefix("https://s.example/st/")
        sri = link.split('integrity="')[1].split('"')[0]
        assert (
            sri
            == "sha384-"
            + base64.b64encode(hashlib.sha384(installed.read_bytes()).digest()).decode()
        )
    if PHP:
        source = site / ("manifest.php" if fmt == "php" else "manifest.json")
        load = (
            "require $argv[2]" if fmt == "php" else "json_decode(file_get_contents($argv[2]), true)"
        )
        result = php(PAGE_PHP.replace("{load}", load), str(source), NONCE)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout == expected_page(m)


# The same HTML from Jinja2, Django and PHP ---------------------------------------------------------

NONCE = "n'\"<&"


def expected_page(m: Manifest) -> str:
    return "|".join(
        [
            m.importmap_tag(nonce=NONCE),
            m.importmap_csp(),
            m.modulepreload("js/app/main.js"),
            m.module_tag("js/app/main.js", nonce=NONCE),
            m.module_tag("js/vendor/pop/index.js", async_=True),
        ]
    )


def test_jinja_helpers(manifest: Path) -> None:
    env = Environment(autoescape=True)
    install_jinja(env, manifest)
    html = env.from_string(
        "{{ asset_importmap(nonce=n) }}|{{ asset_importmap_csp() }}"
        '|{{ asset_modulepreload("js/app/main.js") }}|{{ asset_module_tag("js/app/main.js", nonce=n) }}'
        '|{{ asset_module_tag("js/vendor/pop/index.js", async_=True) }}'
    ).render(n=NONCE)
    assert html == expected_page(Manifest.load(manifest))


def test_django_helpers(manifest: Path) -> None:
    pytest.importorskip("django")
    html = render_django(
        manifest,
        "{% load assetbuild %}{% asset_importmap nonce=n %}|{% asset_importmap_csp %}|"
        '{% asset_modulepreload "js/app/main.js" %}|{% asset_module_tag "js/app/main.js" nonce=n %}|'
        '{% asset_module_tag "js/vendor/pop/index.js" async_=True %}',
        {"n": NONCE},
    )
    assert html == expected_page(Manifest.load(manifest))


def php(code: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PHP, "-r", f"require_once $argv[1]; {code}", str(HELPERS), *args],
        capture_output=True,
        text=True,
        check=False,
        input=stdin,
        timeout=60,
    )


PAGE_PHP = (
    "$n = $argv[3]; $a = {load};"
    "echo assetbuild_importmap($a, ['nonce' => $n]), '|', assetbuild_importmap_csp($a), '|',"
    " assetbuild_modulepreload($a, 'js/app/main.js'), '|',"
    " assetbuild_module_tag($a, 'js/app/main.js', ['nonce' => $n]), '|',"
    " assetbuild_module_tag($a, 'js/vendor/pop/index.js', ['async' => true]);"
)


@needs_php
@pytest.mark.parametrize(
    "load",
    ["require $argv[2]", "json_decode(file_get_contents($argv[2]), true)"],
    ids=["manifest.php", "manifest.json"],
)
def test_php_helpers_give_the_same_html(manifest: Path, load: str) -> None:
    source = manifest.with_suffix(".php") if load.startswith("require") else manifest
    result = php(PAGE_PHP.replace("{load}", load), str(source), NONCE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == expected_page(Manifest.load(manifest))


@needs_php
def test_php_refuses_what_python_refuses(make_site: SiteFactory, tmp_path: Path) -> None:
    data = manifest_data(make_site(TREE))
    data["importmap"]["imports"]["x"] = "/other.js"
    path = write(tmp_path / "m", data).with_suffix(".php")
    result = php("$a = require $argv[2]; echo assetbuild_importmap($a);", str(path))
    assert (
        result.returncode != 0 and "importmap_csp is not the hash" in result.stdout + result.stderr
    )
    result = php(
        "$a = require $argv[2]; echo assetbuild_module_tag($a, 'js/app/mian.js');", str(path)
    )
    assert (
        result.returncode != 0
        and "no module named 'js/app/mian.js'" in result.stdout + result.stderr
    )
    result = php(
        "$a = require $argv[2]; echo assetbuild_module_tag($a, 'js/app/main.js', ['src' => 'x']);",
        str(path),
    )
    assert (
        result.returncode != 0 and "'src' is set from the manifest" in result.stdout + result.stderr
    )


# Any import map: PHP writes the text Python writes (and hashes), byte for byte ----------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_objects = st.dictionaries(_text, _text, max_size=4)
_importmaps = st.fixed_dictionaries(
    {"imports": _objects, "integrity": _objects},
    optional={"scopes": st.dictionaries(_text, _objects, max_size=3)},
)


EDGES: list[dict[str, Any]] = [
    {"imports": {}, "integrity": {}},
    {"imports": {"0": "/a.js", "10": "/b.js", "9": "/c.js", "": "/d.js"}, "integrity": {}},
    {"imports": {"</script>": "<!--", 'a\\"b': "/\x00\x1f\x7f\b\f\n\r\t.js"}, "integrity": {}},
    {"imports": {"é": "/\u2028\u2029\ufeff😀.js", "z": "/", "Z": "/", "ä": "/"}, "integrity": {}},
    {"imports": {}, "integrity": {}, "scopes": {"/x/": {"a": "/b.js"}, "/": {}}},
]


@needs_php
def test_php_writes_the_same_importmap_text_at_the_edges() -> None:
    check_php_text(EDGES)


@needs_php
@settings(max_examples=8, deadline=None)
@given(st.lists(_importmaps, min_size=1, max_size=40))
def test_php_writes_the_same_importmap_text(importmaps: list[dict[str, Any]]) -> None:
    check_php_text(importmaps)


def check_php_text(importmaps: list[dict[str, Any]]) -> None:
    documents = [
        {"version": 1, "bundles": {}, "importmap": i, "importmap_csp": importmap_csp(i)}
        for i in importmaps
    ]
    code = (
        "foreach (json_decode(stream_get_contents(STDIN), true) as $a) {"
        " echo base64_encode(assetbuild_importmap($a)), ' ', assetbuild_importmap_csp($a), \"\\n\"; }"
    )
    result = php(code, stdin=json.dumps(documents))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(importmaps)
    for line, importmap in zip(lines, importmaps, strict=True):
        tag, csp = line.split(" ")
        text = inner_text(base64.b64decode(tag).decode("utf-8"))
        assert text == importmap_json(importmap)
        assert csp == importmap_csp(importmap) == sha256_source(text)


@needs_php
@settings(max_examples=5, deadline=None)
@given(st.lists(_text, min_size=1, max_size=30))
def test_php_escapes_attributes_as_python_does(values: list[str]) -> None:
    data = manifest_data_for_attributes()
    code = (
        "$a = json_decode($argv[2], true);"
        "foreach (json_decode(stream_get_contents(STDIN), true) as $v) {"
        " echo base64_encode(assetbuild_module_tag($a, 'js/app/main.js', ['nonce' => $v])), ' ',"
        " base64_encode(assetbuild_importmap($a, ['data-x' => $v])), \"\\n\"; }"
    )
    result = php(code, json.dumps(data), stdin=json.dumps(values))
    assert result.returncode == 0, result.stdout + result.stderr
    m = Manifest(Path("manifest.json"), cast(ManifestData, data))
    for line, value in zip(result.stdout.splitlines(), values, strict=True):
        tag, importmap = (base64.b64decode(part).decode("utf-8") for part in line.split(" "))
        assert tag == m.module_tag("js/app/main.js", nonce=value)
        assert importmap == m.importmap_tag(data_x=value)


def manifest_data_for_attributes() -> dict[str, Any]:
    entry = {"url": "/a&'<>\"/main.js", "integrity": "sha384-x", "imports": []}
    importmap = {"imports": {"a": "/a.js"}, "integrity": {}}
    return {
        "version": 1,
        "bundles": {},
        "modules": {"js/app/main.js": entry},
        "importmap": importmap,
        "importmap_csp": importmap_csp(importmap),
    }
