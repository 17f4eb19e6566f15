"""Names under the static root: numbered version directories (which names count, which exist, which is
current) and the one rule for a bundle's output name."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath


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


def output_problem(output: str, *, normalised: bool = False, any_kind: bool = False) -> str | None:
    """Why a bundle's output name is not acceptable, or None: the one rule for output names.

    The config checks what people write (then normalises `./js//main.js`); the install and the
    plain export check the names they are handed, which must already be normalised, and may be of
    any kind (`any_kind`: the library installs whatever bytes it is given).
    """
    if "\\" in output:
        return "use / as the separator, not a backslash"
    if "\0" in output:
        return "must not contain a NUL character"
    if control := next((c for c in output if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F), ""):
        return f"must not contain a control character (U+{ord(control):04X})"  # (file name, URL)
    if output.startswith("/") or re.match(r"[A-Za-z]:", output):
        return "must be relative to root, not absolute"
    if ".." in output.split("/"):
        return "must stay inside root (no .. segments)"
    parts = PurePosixPath(output).parts
    if not parts or output.endswith("/"):
        return "names a directory, not a file"
    if normalised and output != normalise_output(output):
        return f"is not normalised (write {normalise_output(output)!r})"
    suffix = PurePosixPath(output).suffix
    if not any_kind and suffix not in (".js", ".css"):
        return f"the extension must be .js or .css, not {suffix or 'none'}"
    from assetbuild.fsutil import TEMP_PREFIX  # not at the top: no file's result depends on fsutil

    hidden = [p for p in parts if p.startswith(TEMP_PREFIX)]
    if hidden:
        return (
            f'"{hidden[0]}" starts with {TEMP_PREFIX}, the prefix of assetbuild\'s temporary files'
        )
    numbered = [p for p in parts[:-1] if is_version_name(p)]
    if numbered:
        return (
            f'directory "{numbered[0]}" is a version directory name; assetbuild manages numbered '
            "directories itself, so choose a non-numeric directory"
        )
    return None


def normalise_output(output: str) -> str:
    """`./js//main.js` -> `js/main.js`."""
    return "/".join(p for p in output.split("/") if p not in ("", "."))
