"""`assetbuild build --out`: bundles written to a plain directory, no versions, each file atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assetbuild.errors import ConfigError
from assetbuild.fsutil import atomic_write, real_directory, remove_leftovers
from assetbuild.install.local import install_error
from assetbuild.versions import output_problem


def write_plain(
    out_dir: Path,
    files: Sequence[tuple[str, bytes]],
    assets: Sequence[tuple[str, bytes]] = (),
) -> tuple[Path, ...]:
    """Write `(name, bytes)` pairs under `out_dir` with no versions, each file atomically; the
    bundles' url() `assets` first, at the same places beside them as in a version.

    Every name is checked before anything is written; directories below `out_dir` must be real
    directories (a link there is an InstallError naming it), as the install's are.
    """
    written: list[Path] = []
    try:
        for name, _ in files:
            problem = output_problem(name, normalised=True, any_kind=True)
            if problem:
                raise ConfigError(f"output name {name!r} {problem}")
        for name, _ in assets:
            if name.startswith("/") or any(p in ("", ".", "..") for p in name.split("/")):
                raise ConfigError(f"asset path {name!r} must stay inside the out directory")
        for name, data in (*assets, *files):
            path = out_dir.joinpath(*name.split("/"))
            # The out directory is the user's to name; below it, real directories only.
            out_dir.mkdir(parents=True, exist_ok=True)
            real_directory(out_dir, path.parent, create=True, within="the --out directory")
            remove_leftovers(path.parent)
            atomic_write(path, data)
            written.append(path)
    except OSError as exc:
        raise install_error(exc, out_dir) from exc
    return tuple(written)
