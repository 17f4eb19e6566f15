"""`{% load assetbuild %}`: `{% asset_url "js/main.js" %}` and `{% asset_tag "js/main.js" %}`."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.safestring import mark_safe

from assetbuild.manifest import Manifest

register = template.Library()


def _manifest() -> Manifest:
    path = getattr(settings, "ASSETBUILD_MANIFEST", None)
    if not path:
        raise ImproperlyConfigured(
            "assetbuild: set ASSETBUILD_MANIFEST in your settings to the manifest.json "
            "that `assetbuild install` writes"
        )
    # Cheap per call: Manifest.load reuses the parse until the file is replaced.
    return Manifest.load(path)


def asset_url(name: str) -> str:
    """The URL of an installed bundle (autoescaped like any string)."""
    return _manifest().url(name)


def asset_tag(name: str) -> str:
    """A `<script>` or stylesheet `<link>` with integrity; its attribute values are already escaped."""
    safe: str = mark_safe(_manifest().tag(name))
    return safe


# Registered by call, not decorator, so the functions keep their types for mypy.
register.simple_tag(asset_url)
register.simple_tag(asset_tag)
