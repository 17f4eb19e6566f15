"""The app's configuration; its label is "assetbuild", not the default "django"."""

from __future__ import annotations

from django.apps import AppConfig


class AssetbuildConfig(AppConfig):  # type: ignore[misc]  # django is untyped here
    """assetbuild's template tags for Django."""

    name = "assetbuild.django"
    label = "assetbuild"
    verbose_name = "assetbuild"
