"""`{% load assetbuild %}`: `{% asset_url "js/main.js" %}`, `{% asset_tag "js/main.js" defer=True %}`,
`{% asset_preload "css/main.css" %}` and `{% asset_integrity "js/main.js" %}`; for ES modules
`{% asset_importmap nonce=n %}`, `{% asset_importmap_csp %}`, `{% asset_module_tag "js/app/main.js" %}`
and `{% asset_modulepreload "js/app/main.js" %}`."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.safestring import mark_safe

from assetbuild.manifest import AttributeValue, Manifest

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


def asset_tag(name: str, **attributes: AttributeValue) -> str:
    """A `<script>` or stylesheet `<link>` with integrity; its attribute values are already escaped."""
    safe: str = mark_safe(_manifest().tag(name, **attributes))
    return safe


def asset_preload(name: str, **attributes: AttributeValue) -> str:
    """`<link rel="preload">` with the right `as=`; its attribute values are already escaped."""
    safe: str = mark_safe(_manifest().preload(name, **attributes))
    return safe


def asset_integrity(name: str) -> str:
    """The bundle's Subresource Integrity value, "sha384-..."."""
    return _manifest().integrity(name)


def asset_importmap(**attributes: AttributeValue) -> str:
    """`<script type="importmap">` with the manifest's import map, the text its CSP hash is of."""
    safe: str = mark_safe(_manifest().importmap_tag(**attributes))
    return safe


def asset_importmap_csp() -> str:
    """The import map element's CSP hash source, "sha256-..."."""
    return _manifest().importmap_csp()


def asset_module_tag(name: str, **attributes: AttributeValue) -> str:
    """`<script type="module">` for a module entry point, with integrity; values already escaped."""
    safe: str = mark_safe(_manifest().module_tag(name, **attributes))
    return safe


def asset_modulepreload(name: str, **attributes: AttributeValue) -> str:
    """`<link rel="modulepreload">` for each module the entry imports statically, with integrity."""
    safe: str = mark_safe(_manifest().modulepreload(name, **attributes))
    return safe


# Registered by call, not decorator, so the functions keep their types for mypy.
register.simple_tag(asset_url)
register.simple_tag(asset_tag)
register.simple_tag(asset_preload)
register.simple_tag(asset_integrity)
register.simple_tag(asset_importmap)
register.simple_tag(asset_importmap_csp)
register.simple_tag(asset_module_tag)
register.simple_tag(asset_modulepreload)
