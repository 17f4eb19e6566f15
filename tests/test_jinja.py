"""Jinja2 integration: asset_url and asset_tag globals, by function or by extension."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment
from markupsafe import Markup

from assetbuild.jinja import AssetbuildExtension, install_jinja
from assetbuild.manifest import ManifestError, bundle_entry, integrity, write_manifest


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    write_manifest(
        path,
        "json",
        {
            "js/main.js": bundle_entry("js/8/main.js", 8, b"var a;", {}, "/static/"),
            "css/site.css": bundle_entry("css/3/site.css", 3, b"a{}", {}, "/static/"),
            "js/q.js": bundle_entry("js/1/q.js", 1, b"q", {}, '/s?a=1&b="2"/'),
        },
    )
    return path


def env_by_function(manifest: Path) -> Environment:
    env = Environment(autoescape=True)
    install_jinja(env, manifest)
    return env


def env_by_extension(manifest: Path) -> Environment:
    env = Environment(autoescape=True, extensions=[AssetbuildExtension])
    env.assetbuild_manifest = manifest  # type: ignore[attr-defined]
    return env


SETUPS = [env_by_function, env_by_extension]


@pytest.mark.parametrize("setup", SETUPS)
def test_url_and_tag(manifest: Path, setup: object) -> None:
    env = setup(manifest)  # type: ignore[operator]
    html = env.from_string(
        '<p data-u="{{ asset_url("js/main.js") }}">{{ asset_tag("js/main.js") }}{{ asset_tag("css/site.css") }}'
    ).render()
    sri = integrity(b"var a;")
    assert html == (
        '<p data-u="/static/js/8/main.js">'
        f'<script src="/static/js/8/main.js" integrity="{sri}" crossorigin="anonymous"></script>'
        f'<link rel="stylesheet" href="/static/css/3/site.css" integrity="{integrity(b"a{}")}" '
        'crossorigin="anonymous">'
    )


@pytest.mark.parametrize("setup", SETUPS)
def test_escaping_happens_once(manifest: Path, setup: object) -> None:
    env = setup(manifest)  # type: ignore[operator]
    tag = env.globals["asset_tag"]("js/q.js")
    assert isinstance(tag, Markup)
    rendered = env.from_string('{{ asset_tag("js/q.js") }}|{{ asset_url("js/q.js") }}').render()
    tag_part, url_part = rendered.split("|")
    assert 'src="/s?a=1&amp;b=&quot;2&quot;/js/1/q.js"' in tag_part  # escaped once, not twice
    assert url_part == "/s?a=1&amp;b=&#34;2&#34;/js/1/q.js"  # autoescaped as a plain string


@pytest.mark.parametrize("setup", SETUPS)
def test_missing_name_raises_manifest_error(manifest: Path, setup: object) -> None:
    env = setup(manifest)  # type: ignore[operator]
    with pytest.raises(ManifestError, match=r"did you mean 'js/main\.js'"):
        env.from_string('{{ asset_url("js/mian.js") }}').render()


def test_new_manifest_is_picked_up_without_restart(manifest: Path) -> None:
    env = env_by_function(manifest)
    template = env.from_string('{{ asset_url("js/main.js") }}')
    assert template.render() == "/static/js/8/main.js"
    write_manifest(
        manifest, "json", {"js/main.js": bundle_entry("js/9/main.js", 9, b"b", {}, "/static/")}
    )
    assert template.render() == "/static/js/9/main.js"


def test_extension_without_a_manifest_says_what_to_set() -> None:
    env = Environment(extensions=[AssetbuildExtension])
    with pytest.raises(RuntimeError, match="assetbuild_manifest"):
        env.from_string('{{ asset_url("js/main.js") }}').render()
