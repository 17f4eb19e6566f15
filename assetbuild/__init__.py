"""assetbuild: bundle, check, minify and install CSS and JavaScript into numbered versions."""

from __future__ import annotations

__version__ = "0.1.0"
