"""Render a Django template with assetbuild's template tags, in a fresh process (Django's settings
are configured once per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import django
    from django.conf import settings
    settings.configure(
        INSTALLED_APPS=["assetbuild.django"],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                    "APP_DIRS": True}],
        ASSETBUILD_MANIFEST=sys.argv[1],
    )
    django.setup()
    from django.template import engines
    template = engines["django"].from_string(sys.argv[2])
    print(template.render(json.loads(sys.argv[3])), end="")
    """
)


def render_django(manifest: Path, template: str, context: dict[str, Any] | None = None) -> str:
    """The template rendered with `{% load assetbuild %}` available and `manifest` configured."""
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(manifest), template, json.dumps(context or {})],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
