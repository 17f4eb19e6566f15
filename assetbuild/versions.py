"""Numbered version directories: which names count, which exist, which is current."""

from __future__ import annotations

import os
from pathlib import Path


def is_version_name(name: str) -> bool:
    """A plain decimal integer without leading zeros: "1", "41"; not "01", "1.2", "latest"."""
    return name.isascii() and name.isdigit() and (name == "0" or not name.startswith("0"))


def list_versions(area_dir: Path) -> tuple[int, ...]:
    """The version numbers present in an area directory, ascending."""
    try:
        entries = list(os.scandir(area_dir))
    except (FileNotFoundError, NotADirectoryError):
        return ()
    return tuple(
        sorted(
            int(e.name)
            for e in entries
            if is_version_name(e.name) and e.is_dir(follow_symlinks=False)
        )
    )


def current_version(area_dir: Path) -> int | None:
    """The highest version number in an area, or None when there is none."""
    versions = list_versions(area_dir)
    return versions[-1] if versions else None


def area_path(root: Path, area: str) -> Path:
    """The directory of an area ("js", "" for the root itself) under the static root."""
    return root / area if area else root
