"""assetbuild: bundle, check, minify and install CSS and JavaScript into numbered versions.

For library use, the public names are those in `__all__`: the manifest reader (`Manifest`, and
`ManifestError`, which it raises) and the Jinja2 helpers (`install_jinja`, `AssetbuildExtension`).
Django uses the app `"assetbuild.django"` (INSTALLED_APPS) and its `{% load assetbuild %}` tags.
Every other module and name is internal and may change in any release; building is done through
the `assetbuild` command.

The names load on first use (PEP 562), so `import assetbuild` imports no submodule and the command's
start-up stays as fast as it is.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing would add to every start-up

__version__ = "0.1.0"  # defined here, not lazily: cache keys and the quick paths read it

__all__ = ["AssetbuildExtension", "Manifest", "ManifestError", "__version__", "install_jinja"]

# Each lazy name and the module that defines it.
_LAZY = {
    "Manifest": "assetbuild.manifest",
    "ManifestError": "assetbuild.manifest",
    "AssetbuildExtension": "assetbuild.jinja",
    "install_jinja": "assetbuild.jinja",
}

if TYPE_CHECKING:
    from assetbuild.jinja import AssetbuildExtension, install_jinja
    from assetbuild.manifest import Manifest, ManifestError
else:
    # Hidden from type checkers, which see the imports above and so report unknown names.

    def __getattr__(name: str) -> object:
        """Import a public name's module on first use (the Jinja2 helpers need jinja2)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups find it without this function
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
