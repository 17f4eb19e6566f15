"""Django app: add "assetbuild.django" to INSTALLED_APPS, set ASSETBUILD_MANIFEST, `{% load assetbuild %}`."""
