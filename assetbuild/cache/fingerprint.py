"""What, beside a job's own fields, decides a result: the checkers' versions and the code that runs them.

One list of the packages whose versions change what assetbuild produces (`PACKAGES`), one list of our
own code that computes a file's result (`RESULT_CODE`: `process_file` and everything it imports), and
the code of the whole package (`code_files`, which the no-change state stamps). Editing the CLI's
wording changes no cache key; editing a checker changes every one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import sys
from pathlib import Path

from assetbuild import __version__
from assetbuild.build.bundle import RESULT_FORMAT

# Packages whose versions change a result or a precompressed variant: (distribution, import name).
PACKAGES: tuple[tuple[str, str], ...] = (
    ("esprima-fork", "esprima"),
    ("rjsmin", "rjsmin"),
    ("rcssmin", "rcssmin"),
    ("mini-racer", "py_mini_racer"),
    ("brotli", "brotli"),
    ("tinycss2", "tinycss2"),
    ("cssselect2", "cssselect2"),
)

# Our code that computes a file's result, relative to the package: `build.bundle.process_file` and
# `join_bundle` import nothing else of ours (tests/test_layers.py proves it). A directory means every
# .py and .js under it (the vendored parser and the engine's harness included).
RESULT_CODE: tuple[str, ...] = (
    "__init__.py",
    "build/__init__.py",
    "build/bundle.py",
    "build/results.py",
    "css",
    "js",
    "maps",
    "diagnostics.py",
    "errors.py",
    "fsutil.py",  # sources are read through it (bounded regular files)
    "interrupts.py",  # js/engine.py defers Ctrl-C while an engine is set up
    "minified.py",
    "sources.py",
    "versions.py",
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _code_in(folder: Path) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.suffix in (".py", ".js") and path.is_file() and "__pycache__" not in path.parts
    ]


def code_dirs() -> list[Path]:
    """The package's directories (subpackages and vendored files; no __pycache__)."""
    return [
        PACKAGE_DIR,
        *sorted(d for d in PACKAGE_DIR.rglob("*") if d.is_dir() and d.name != "__pycache__"),
    ]


def code_files() -> list[Path]:
    """Every module and vendored file of the package, in a stable order."""
    return sorted(_code_in(PACKAGE_DIR))


def result_code_files() -> list[Path]:
    """The files of `RESULT_CODE`, in a stable order."""
    found: set[Path] = set()
    for part in RESULT_CODE:
        path = PACKAGE_DIR / part
        if path.is_dir():
            found.update(_code_in(path))
        elif path.is_file():
            found.add(path)
        else:  # a module moved or renamed without this list: never key the cache without it
            raise RuntimeError(f"fingerprint.RESULT_CODE names {part}, which does not exist")
    return sorted(found)


def package_version(dist: str, module: str) -> str:
    """The installed version of a distribution, or where its module comes from when unknown."""
    found = _dist_info_versions().get(_normalise(dist))
    if found is not None:
        return found
    from importlib import metadata  # ~40 ms: only when the directory scan did not find it

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        return f"unknown:{spec.origin if spec else None}"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.lru_cache(maxsize=1)
def _dist_info_versions() -> dict[str, str]:
    """`name-version.dist-info` directories on sys.path, first one of a name winning (as
    importlib.metadata finds them): one listing per path entry instead of its ~40 ms of imports
    and per-call scans, which cost a one-file edit's install ~0.1 s."""
    versions: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if not name.endswith(".dist-info"):
                continue
            dist, sep, version = name[: -len(".dist-info")].partition("-")
            if sep and version:
                versions.setdefault(_normalise(dist), version)
    return versions


def package_origins() -> list[tuple[str, str | None]]:
    """Where each package of `PACKAGES` is installed (None: not installed)."""
    found: list[tuple[str, str | None]] = []
    for _, name in PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        found.append((name, spec.origin if spec is not None else None))
    return found


@functools.lru_cache(maxsize=1)
def environment_key() -> str:
    """A hash of what, beside a job's own fields, decides its result: versions and the result code."""
    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{RESULT_FORMAT}\0".encode())
    # The fast engine may reject what esprima accepts: results depend on which checker ran.
    digest.update(f"engine={os.environ.get('ASSETBUILD_ENGINE', 'auto')}\0".encode())
    for dist, module in PACKAGES:
        digest.update(f"{dist}={package_version(dist, module)}\0".encode())
    # The bytes of the code that computes results are part of every key, so an edited checker never
    # meets results cached by its previous self even if RESULT_FORMAT was not bumped.
    for path in result_code_files():
        name = path.relative_to(PACKAGE_DIR).as_posix()
        try:
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            digest.update(name.encode() + b"\0unreadable\0")
    return digest.hexdigest()
