"""`assetbuild init`: a commented starter assetbuild.toml from what zero-config mode finds here."""

from __future__ import annotations

import os
from pathlib import Path

from assetbuild.config import CONFIG_NAME, zero_config
from assetbuild.errors import ConfigError, InstallError
from assetbuild.modules.config import ModuleSpec

_HEADER = """\
# assetbuild.toml, written by `assetbuild init` from what it found in this directory.
# Every key is described in assetbuild's README (Configuration). Paths are relative to this file.

# The static root: bundles are installed in <root>/<area>/<N>/ and the manifest beside them.
root = "."

# The value of {{$static}} in sources and the prefix of the manifest's URLs, e.g. a CDN.
# (--static-url and ASSETBUILD_STATIC_URL override it.)
# static_url = "https://static.example.com"

# Precompressed variants beside each bundle: "gzip", and "br" with assetbuild[brotli].
# compress = ["gzip"]

# The content cache, outside the static root so the web server never serves it.
cache_dir = "../.assetbuild-cache"

# Further tokens: cdn = "https://cdn.example.com" gives {{$cdn}}.
# [tokens]
# cdn = "https://cdn.example.com"
"""

_EXAMPLE = """
# No <area>/source/ directory with .js or .css files was found here. A bundle looks like this:
#
# [[bundle]]
# output = "js/main.js"
# sources = ["js/source/polyfills/*.js", "js/source/app.js", "js/source/**/*.js"]
"""


def starter_config(root: Path) -> str:
    """The text of a starter config for `root`: each zero-config area becomes a bundle, each
    module tree zero-config finds a `[[modules]]` table."""
    try:
        config = zero_config(root)
    except ConfigError:
        return _HEADER.format() + _EXAMPLE
    parts = [_HEADER.format()]
    for spec in config.bundles:
        files = _files(root, spec.sources)
        parts.append(
            "\n"
            f"# {len(files)} file{'s' if len(files) != 1 else ''} today, joined in byte order of "
            "their names (prefix them with numbers: 00-x, 10-y):\n"
            + "".join(f"#   {name}\n" for name in files[:20])
            + (f"#   ... and {len(files) - 20} more\n" if len(files) > 20 else "")
            + "[[bundle]]\n"
            f'output = "{spec.output}"\n'
            f"sources = [{', '.join(_quoted(s) for s in spec.sources)}]\n"
            "# minify = true     # false ships the checked, concatenated sources\n"
        )
    for tree in config.modules:
        parts.append(_modules_table(tree))
    return "".join(parts)


def _modules_table(tree: ModuleSpec) -> str:
    """The `[[modules]]` table doing what zero-config does with a tree."""
    if tree.name:  # <area>/modules/
        return (
            f"\n# Every .js and .mjs file below {tree.source}/ is an ES module, installed as "
            f"{tree.area}/<N>/{tree.name}/<path below it>.\n"
            f"[[modules]]\nsource = {_quoted(tree.source)}\noutput = {_quoted(tree.output)}\n"
        )
    suffixes = ", ".join(_quoted(s) for s in tree.suffixes)
    return (
        f"\n# The {' and '.join(tree.suffixes)} files below {tree.source}/ are ES modules (its .js "
        "files are the bundle's sources),\n"
        f"# installed straight into {tree.area}/<N>/ at their path below {tree.source}/.\n"
        f"[[modules]]\nsource = {_quoted(tree.source)}\narea = {_quoted(tree.area)}\n"
        f"suffixes = [{suffixes}]\n"
    )


def _files(root: Path, patterns: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        found.extend(
            p.relative_to(root).as_posix()
            for p in sorted(root.glob(pattern))
            if p.is_file() and not p.name.startswith(".")
        )
    return sorted(found, key=lambda n: n.encode("utf-8", "surrogateescape"))


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_starter(root: Path) -> Path:
    """Write `root/assetbuild.toml`; ConfigError (exit 2) when it exists: never overwritten."""
    target = root / CONFIG_NAME
    if os.path.lexists(target):
        raise ConfigError(f"{target}: already exists; init never overwrites a config")
    text = starter_config(root)
    try:
        with open(target, "x", encoding="utf-8", newline="\n") as out:
            out.write(text)
    except FileExistsError:
        raise ConfigError(f"{target}: already exists; init never overwrites a config") from None
    except OSError as exc:
        raise InstallError(f"{target}: cannot write: {exc.strerror or exc}") from None
    return target
