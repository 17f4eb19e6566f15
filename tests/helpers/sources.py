"""A source file read as the build reads it, optionally with its tokens substituted."""

from __future__ import annotations

from pathlib import Path

from assetbuild.sources import SourceFile, read_source
from assetbuild.tokens import substitute


def read_as_built(path: Path, values: dict[str, str | None] | None = None) -> SourceFile:
    """The file read (named by its base name), then substituted with `values` when given."""
    src = read_source(path, path.name)
    if values is not None:
        src, _ = substitute(src, values)
    return src
