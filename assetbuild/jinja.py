"""Jinja2 integration: template globals read from the manifest.

`asset_url(name)`, `asset_tag(name, **attributes)` (`defer=True`, `nonce=...`),
`asset_preload(name, **attributes)` and `asset_integrity(name)`; for ES modules
`asset_importmap(**attributes)`, `asset_importmap_csp()`, `asset_module_tag(name, **attributes)`
and `asset_modulepreload(name, **attributes)`.
"""

from __future__ import annotations

import os
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension
from markupsafe import Markup

from assetbuild.manifest import AttributeValue, Manifest

PathLike = str | os.PathLike[str]


def _manifest_of(env: Environment) -> Manifest:
    path = getattr(env, "assetbuild_manifest", None)
    if path is None:
        raise RuntimeError(
            "assetbuild: set env.assetbuild_manifest = '/path/to/manifest.json' "
            "before rendering templates that use asset_url or asset_tag"
        )
    # Loaded on every call, cheaply: Manifest.load reuses the parse until the file is replaced.
    return Manifest.load(path)


def _globals(env: Environment) -> dict[str, Any]:
    def asset_url(name: str) -> str:
        return _manifest_of(env).url(name)

    def asset_tag(name: str, **attributes: AttributeValue) -> Markup:
        # Manifest.tag escapes every attribute value, so the whole tag is safe to mark.
        return Markup(_manifest_of(env).tag(name, **attributes))

    def asset_preload(name: str, **attributes: AttributeValue) -> Markup:
        return Markup(_manifest_of(env).preload(name, **attributes))

    def asset_integrity(name: str) -> str:
        return _manifest_of(env).integrity(name)

    def asset_importmap(**attributes: AttributeValue) -> Markup:
        # The JSON text is the manifest's own, `<` escaped; the attributes are escaped.
        return Markup(_manifest_of(env).importmap_tag(**attributes))

    def asset_importmap_csp() -> str:
        return _manifest_of(env).importmap_csp()

    def asset_module_tag(name: str, **attributes: AttributeValue) -> Markup:
        return Markup(_manifest_of(env).module_tag(name, **attributes))

    def asset_modulepreload(name: str, **attributes: AttributeValue) -> Markup:
        return Markup(_manifest_of(env).modulepreload(name, **attributes))

    return {
        "asset_url": asset_url,
        "asset_tag": asset_tag,
        "asset_preload": asset_preload,
        "asset_integrity": asset_integrity,
        "asset_importmap": asset_importmap,
        "asset_importmap_csp": asset_importmap_csp,
        "asset_module_tag": asset_module_tag,
        "asset_modulepreload": asset_modulepreload,
    }


class AssetbuildExtension(Extension):
    """`Environment(extensions=[AssetbuildExtension])`, then set `env.assetbuild_manifest = path`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(assetbuild_manifest=None)
        environment.globals.update(_globals(environment))


def install_jinja(env: Environment, manifest_path: PathLike) -> None:
    """Add the `asset_*` globals to `env`, reading the manifest at `manifest_path`."""
    env.extend(assetbuild_manifest=manifest_path)
    env.globals.update(_globals(env))
