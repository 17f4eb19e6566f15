"""The files a stylesheet's url()s refer to, read to be copied beside the bundle.

Only a regular file of bounded size, inside the root after every symbolic link is resolved, is ever
read: a url() is the stylesheet author's, and an install must not publish `/etc/passwd`, hang on a
FIFO or fill its memory because one names them. Anything else is a warning and is not copied.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from assetbuild.build.results import Built
from assetbuild.diagnostics import Diagnostic, Location
from assetbuild.fsutil import RefusedFile, read_regular

# The largest file copied for a url(): fonts and images are far smaller; a bigger one is a mistake.
ASSET_MAX_BYTES = 32 * 2**20


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _read(root: Path, source: str, shown: str, bundle: str) -> tuple[bytes | None, str | None]:
    """The file's bytes, or None and why it is not copied (None, None: missing, already warned)."""
    root_real = os.path.realpath(root)
    real = os.path.realpath(source)
    if not _inside(real, root_real):
        return None, (
            f"url() of {bundle} names {shown}, which leads outside the root through a symbolic "
            "link; not copied (only files inside the root are published)"
        )
    try:
        return read_regular(Path(real), ASSET_MAX_BYTES, follow_symlinks=False), None
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    except RefusedFile as exc:
        return None, f"url() of {bundle} names {shown}, which {exc.problem}; not copied"
    except OSError as exc:
        return None, f"url() of {bundle} names {shown}: {exc.strerror or exc}; not copied"


def read_assets(root: Path, bundles: Sequence[Built]) -> tuple[tuple[Built, ...], list[Diagnostic]]:
    """Each bundle with the bytes of the files its url()s refer to; warnings for those not copied.

    A stylesheet among them (a local @import) is copied with its own url()s rewritten to lead to
    the copies of its files, which are copied too (and so on, each place once), so that the
    imported stylesheet loads everything from the installed version, as the bundle does.
    """
    out: list[Built] = []
    diags: list[Diagnostic] = []
    seen: dict[str, tuple[bytes | None, str | None]] = {}
    for b in bundles:
        if not b.asset_sources or not b.ok:
            out.append(b)
            continue
        read: dict[str, bytes] = {}
        wanted = list(b.asset_sources)
        places = {place for place, _ in wanted}
        for place, source in wanted:  # grows with the files of imported stylesheets
            shown = Path(os.path.relpath(source, root)).as_posix()
            if source not in seen:
                seen[source] = _read(root, source, shown, b.output)
                if seen[source][1] is not None:
                    diags.append(_refused(str(seen[source][1]), b.output))
            data = seen[source][0]
            if data is None:
                continue
            if place.lower().endswith(".css") and source.lower().endswith(".css"):
                data, more, found = _imported(root, b.output, place, source, data)
                diags.extend(found)
                for nested in more:
                    if nested[0] not in places:
                        places.add(nested[0])
                        wanted.append(nested)
            read[place] = data
        out.append(replace(b, asset_sources=tuple(wanted), assets=tuple(read.items())))
    return tuple(out), diags


def _imported(
    root: Path, output: str, place: str, source: str, data: bytes
) -> tuple[bytes, tuple[tuple[str, str], ...], tuple[Diagnostic, ...]]:
    """An @imported stylesheet's copy: its url()s rewritten for its place, and the files they name."""
    from assetbuild.build.bundle import output_dir_for
    from assetbuild.css.urls import rewrite_with_assets
    from assetbuild.sources import SourceFile, display_path

    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return data, (), ()  # not UTF-8: copied as it is (browsers read it by its own @charset)
    src = SourceFile(Path(source), display_path(Path(source)), text, text)
    base = posixpath.dirname(place)
    rewritten, diags, files = rewrite_with_assets(
        src, Path(source).parent, output_dir_for(root, output), root, base=base
    )
    return rewritten.text.encode("utf-8"), files, diags


def _refused(why: str, output: str) -> Diagnostic:
    return Diagnostic("warning", why, Location(output), code="asset-refused")
