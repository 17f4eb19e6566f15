"""Jinja2 integration: `asset_url(name)` and `asset_tag(name)` template globals read from the manifest."""

from __future__ import annotations

import os
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension
from markupsafe import Markup

from assetbuild.manifest import Manifest

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

    def asset_tag(name: str) -> Markup:
        # Manifest.tag escapes every attribute value, so the whole tag is safe to mark.
        return Markup(_manifest_of(env).tag(name))

    return {"asset_url": asset_url, "asset_tag": asset_tag}


class AssetbuildExtension(Extension):
    """`Environment(extensions=[AssetbuildExtension])`, then set `env.assetbuild_manifest = path`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(assetbuild_manifest=None)
        environment.globals.update(_globals(environment))


def install_jinja(env: Environment, manifest_path: PathLike) -> None:
    """Add `asset_url` and `asset_tag` to `env`, reading the manifest at `manifest_path`."""
    env.extend(assetbuild_manifest=manifest_path)
    env.globals.update(_globals(env))
