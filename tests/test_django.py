"""Django integration: the app, `{% load assetbuild %}`, asset_url and asset_tag, with the real Django.

Django's settings are process-global, so every check runs in a fresh subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assetbuild.manifest import bundle_entry, integrity, write_manifest

pytest.importorskip("django")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["assetbuild.django"],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        ASSETBUILD_MANIFEST=sys.argv[1],
    )
    django.setup()
    from django.apps import apps
    from django.template import engines

    engine = engines["django"]
    result = {"label": apps.get_app_config("assetbuild").name}
    result["html"] = engine.from_string(
        '{% load assetbuild %}<a href="{% asset_url "js/q.js" %}">{% asset_tag "js/main.js" %}'
        '{% asset_tag "css/site.css" %}{% asset_tag "js/q.js" %}'
    ).render({})
    result["as_var"] = engine.from_string(
        '{% load assetbuild %}{% asset_url "js/main.js" as u %}[{{ u }}]'
    ).render({})
    try:
        engine.from_string('{% load assetbuild %}{% asset_url "js/mian.js" %}').render({})
    except KeyError as exc:
        result["missing"] = [type(exc).__name__, str(exc)]
    del settings.ASSETBUILD_MANIFEST
    try:
        engine.from_string('{% load assetbuild %}{% asset_url "js/main.js" %}').render({})
    except Exception as exc:
        result["unset"] = [type(exc).__name__, str(exc)]
    print(json.dumps(result))
    """
)


def test_django_template_tags(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    write_manifest(
        manifest,
        "json",
        {
            "js/main.js": bundle_entry(
                "js/8/main.js", 8, b"var a;", {}, "https://cdn.example.com/"
            ),
            "css/site.css": bundle_entry(
                "css/3/site.css", 3, b"a{}", {}, "https://cdn.example.com/"
            ),
            "js/q.js": bundle_entry("js/1/q.js", 1, b"q", {}, '/s?a=1&b="2"/'),
        },
    )
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(manifest)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["label"] == "assetbuild.django"
    sri_main, sri_css, sri_q = integrity(b"var a;"), integrity(b"a{}"), integrity(b"q")
    assert result["html"] == (
        '<a href="/s?a=1&amp;b=&quot;2&quot;/js/1/q.js">'
        f'<script src="https://cdn.example.com/js/8/main.js" integrity="{sri_main}" crossorigin="anonymous"></script>'
        f'<link rel="stylesheet" href="https://cdn.example.com/css/3/site.css" integrity="{sri_css}" crossorigin="anonymous">'
        f'<script src="/s?a=1&amp;b=&quot;2&quot;/js/1/q.js" integrity="{sri_q}" crossorigin="anonymous"></script>'
    )
    assert result["as_var"] == "[https://cdn.example.com/js/8/main.js]"
    kind, message = result["missing"]
    assert kind == "ManifestError"
    assert str(manifest) in message and "did you mean 'js/main.js'?" in message
    kind, message = result["unset"]
    assert kind == "ImproperlyConfigured" and "ASSETBUILD_MANIFEST" in message
    assert "`assetbuild install` writes" in message
