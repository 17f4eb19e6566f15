"""Configuration: find and parse assetbuild.toml (or pyproject.toml), zero-config discovery, overrides.

Decisions worth knowing:
- `static` in `[tokens]` is the same token as `static_url`; setting both is an error.
- Bundles are numbered from 1 in messages (`bundle[1]` is the first `[[bundle]]` table).
- An output path must be a plain relative posix path (`js/main.js`): no `..`, no backslash, no
  absolute path, no numbered directory (`js/3/main.js`), because numbered directories are the
  version directories assetbuild manages.
- An empty `ASSETBUILD_STATIC_URL` counts as unset.
"""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from assetbuild.accept.entries import Accept, parse_accept
from assetbuild.cachehome import check_cache_dir, site_cache_dir
from assetbuild.diagnostics import Diagnostic, Location
from assetbuild.errors import ConfigError
from assetbuild.fsutil import read_toml
from assetbuild.minified import has_lone_surrogate
from assetbuild.modules.config import (
    ModuleSpec,
    parse_importmap,
    parse_modules,
    zero_config_modules,
)
from assetbuild.remote.url import target_problem
from assetbuild.versions import is_version_name, normalise_output, output_problem

CONFIG_NAME = "assetbuild.toml"
PYPROJECT_NAME = "pyproject.toml"
ENV_STATIC_URL = "ASSETBUILD_STATIC_URL"
TOKEN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KINDS = {".js": "js", ".css": "css"}
COMPRESS_METHODS = ("gzip", "br")
MANIFEST_FORMATS = ("json", "php")

_TOP_KEYS = (
    "root",
    "static_url",
    "tokens",
    "manifest",
    "manifest_format",
    "compress",
    "cache_dir",
    "strict_tokens",
    "lock_timeout",
    "allow_symlinks_outside",
    "target",
    "manifest_cache_control",
    "sourcemap",
    "sourcemap_ignore",
    "sourcemap_debug_id",
    "bundle",
    "modules",
    "importmap",
    "accept",
)
_BUNDLE_KEYS = ("output", "sources", "minify", "tokens", "sourcemap")
SOURCEMAP_MODES = ("none", "linked", "hidden")
# Sources a map lists in `ignoreList` (devtools skip them in stack traces): a pattern ending in "/"
# is a directory name anywhere in the source's path; any other is a glob on its root-relative path.
DEFAULT_SOURCEMAP_IGNORE = ("vendor/", "node_modules/")


@dataclass(frozen=True)
class BundleSpec:
    """One output file and the sources concatenated into it."""

    output: str
    kind: str
    sources: tuple[str, ...]
    minify: bool = True
    tokens: bool = True
    sourcemap: str | None = None  # None: the top-level setting

    @property
    def area(self) -> str:
        """The directory holding the output's version directories ("" at the root)."""
        parent = PurePosixPath(self.output).parent.as_posix()
        return "" if parent == "." else parent


@dataclass(frozen=True)
class Overrides:
    """Settings from the command line; None means "not given"."""

    static_url: str | None = None
    tokens: tuple[tuple[str, str], ...] = ()
    strict_tokens: bool | None = None
    compress: tuple[str, ...] | None = None
    target: str | None = None


@dataclass(frozen=True)
class Config:
    """Everything a build needs to know, validated and with paths resolved."""

    root: Path
    config_path: Path | None
    base_dir: Path
    static_url: str | None
    tokens: tuple[tuple[str, str | None], ...]
    bundles: tuple[BundleSpec, ...]
    manifest_path: Path
    manifest_format: str
    compress: tuple[str, ...] = ()
    cache_dir: Path = Path(".assetbuild-cache")
    strict_tokens: bool = False
    allow_symlinks_outside: bool = False
    lock_timeout: float = 60.0
    target: str | None = None  # "s3://bucket/prefix": install into object storage (remote/)
    manifest_cache_control: str = "no-cache"  # the remote manifest's Cache-Control
    sourcemap: str = "none"
    sourcemap_ignore: tuple[str, ...] = DEFAULT_SOURCEMAP_IGNORE
    sourcemap_debug_id: bool = False  # `//# debugId=` and "debugId" in each map

    def sourcemap_for(self, spec: BundleSpec, override: str | None = None) -> str:
        """The map mode of one bundle: the command line's, else the bundle's, else the top level's."""
        return override or spec.sourcemap or self.sourcemap

    modules: tuple[ModuleSpec, ...] = ()  # [[modules]] trees (assetbuild/modules/config.py)
    importmap: tuple[tuple[str, str], ...] = ()  # [importmap]: specifier -> root-relative path
    accept: tuple[Accept, ...] = ()  # [[accept]]: warnings known and accepted (accept.py)

    @property
    def zero_config(self) -> bool:
        return self.config_path is None


def find_config(start: Path) -> Path | None:
    """The nearest assetbuild.toml, or pyproject.toml with [tool.assetbuild], from start upwards."""
    directory = Path(os.path.abspath(start))
    for folder in (directory, *directory.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT_NAME
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def load_config(
    cwd: Path,
    config_file: Path | None = None,
    overrides: Overrides = Overrides(),
    environ: Mapping[str, str] = os.environ,
) -> Config:
    """Find, parse and validate the configuration, then apply environment and CLI overrides."""
    cwd = Path(os.path.abspath(cwd))
    if config_file is not None:
        path = Path(os.path.abspath(cwd / config_file))
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "does not exist"
            raise ConfigError(f"{_display(path, cwd)}: config file {what}")
    else:
        found = find_config(cwd)
        if found is None:
            return _zero_config(cwd, overrides, environ)
        path = found
    return _file_config(path, cwd, overrides, environ)


# --- reading ---------------------------------------------------------------------------


def _has_tool_table(pyproject: Path) -> bool:
    """Whether a pyproject.toml has [tool.assetbuild]; a broken unrelated one is skipped."""
    try:
        text = pyproject.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except (tomllib.TOMLDecodeError, RecursionError):
        # Only ours if it mentions us; then load_config reports the syntax error with its location.
        return "tool.assetbuild" in text
    tool = data.get("tool")
    return isinstance(tool, dict) and "assetbuild" in tool


# --- validation ------------------------------------------------------------------------


class _Problems:
    """Collects every problem of one config file, so all are reported together."""

    def __init__(self, shown: str, prefix: str) -> None:
        self.shown = shown
        self.prefix = prefix
        self.items: list[Diagnostic] = []

    def add(self, key: str, message: str) -> None:
        text = f"{self.prefix}{key}: {message}" if key else message
        self.items.append(Diagnostic("error", text, Location(self.shown)))

    def raise_if_any(self) -> None:
        if self.items:
            # The CLI prints each diagnostic; the message is the one-line summary.
            one = len(self.items) == 1
            text = f"{self.shown}: {self.items[0].message if one else 'invalid configuration'}"
            raise ConfigError(text, self.items)


def _file_config(path: Path, cwd: Path, overrides: Overrides, environ: Mapping[str, str]) -> Config:
    shown = _display(path, cwd)
    data, text = read_toml(path, shown)
    prefix = ""
    if path.name == PYPROJECT_NAME:
        tool = data.get("tool")
        table = tool.get("assetbuild") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise ConfigError(
                f"{shown}: no [tool.assetbuild] table",
                [Diagnostic("error", "no [tool.assetbuild] table", Location(shown))],
            )
        data, prefix = table, "tool.assetbuild."
    problems = _Problems(shown, prefix)
    base_dir = path.parent
    _check_keys(problems, data, _TOP_KEYS, "")

    root = base_dir
    root_value = _get(problems, data, "root", str, "a string")
    if root_value is not None:
        root = Path(os.path.abspath(base_dir / root_value))
        problem = _dir_problem(root_value, root)
        if problem:
            shown_root = _display(root, cwd)
            where = f"directory {shown_root}" if problem == "does not exist" else shown_root
            problems.add("root", f"{where} {problem}")
    root = root.resolve() if _dir_problem(str(root), root) is None else root

    static_url = _get(problems, data, "static_url", str, "a string")
    tokens: dict[str, str] = {}
    table = _get(problems, data, "tokens", dict, 'a table of NAME = "value"')
    for name, value in (table or {}).items():
        if not TOKEN_NAME.fullmatch(name):
            problems.add(f"tokens.{name}", "token names must match [A-Za-z_][A-Za-z0-9_]*")
        elif not isinstance(value, str):
            problems.add(f"tokens.{name}", f"expected a string, got {_type_name(value)}")
        elif name == "static":
            if static_url is not None:
                problems.add("tokens.static", "{$static} is static_url; set only one of the two")
            else:
                static_url = value
        else:
            tokens[name] = value

    manifest = _get(problems, data, "manifest", str, "a path relative to root")
    manifest_format = _get(problems, data, "manifest_format", str, '"json" or "php"')
    if manifest_format is not None and manifest_format not in MANIFEST_FORMATS:
        problems.add("manifest_format", f'expected "json" or "php", got "{manifest_format}"')
        manifest_format = None
    if manifest == "":
        problems.add("manifest", "expected a path relative to root, got an empty string")
        manifest = None
    if manifest_format is None:
        manifest_format = "php" if manifest is not None and manifest.endswith(".php") else "json"
    manifest_path = root / (manifest or f"manifest.{manifest_format}")

    compress = _compress_list(problems, data.get("compress"), "compress")
    cache_value = _get(problems, data, "cache_dir", str, "a path")
    cache_dir = base_dir / (cache_value or ".assetbuild-cache")
    _check_written_path(problems, "manifest", manifest_path, root, cwd, manifest=True)
    _check_written_path(problems, "cache_dir", cache_dir, root, cwd, manifest=False)
    strict_tokens = _get(problems, data, "strict_tokens", bool, "true or false")
    allow_outside = _get(problems, data, "allow_symlinks_outside", bool, "true or false")
    lock_timeout = _lock_timeout(problems, data.get("lock_timeout"))
    target = _get(problems, data, "target", str, 'a URL such as "s3://bucket/prefix"')
    if target is not None and (why := target_problem(target)):
        problems.add("target", why)
    cache_control = _get(problems, data, "manifest_cache_control", str, "a Cache-Control value")
    sourcemap = _sourcemap_mode(problems, data, "")
    ignore = data.get("sourcemap_ignore", DEFAULT_SOURCEMAP_IGNORE)
    if not isinstance(ignore, (list, tuple)) or not all(isinstance(p, str) and p for p in ignore):
        problems.add("sourcemap_ignore", "expected a list of non-empty strings (globs)")
        ignore = DEFAULT_SOURCEMAP_IGNORE
    debug_id = _get(problems, data, "sourcemap_debug_id", bool, "true or false")
    bundles = _bundles(problems, data.get("bundle"), modules_only="modules" in data)
    modules = parse_modules(problems.add, data.get("modules"), root, [b.output for b in bundles])
    importmap = parse_importmap(problems.add, data.get("importmap"), root, modules)
    check_cache_dir(cache_dir, base_dir, root, bundles, cwd, problems.add)
    accept, located = parse_accept(data.get("accept"), text, shown, prefix)
    problems.items.extend(located)
    problems.raise_if_any()

    return _finish(
        Config(
            root=root,
            config_path=path,
            base_dir=base_dir,
            static_url=static_url,
            tokens=tuple(tokens.items()),
            bundles=bundles,
            manifest_path=Path(os.path.normpath(manifest_path)),
            manifest_format=manifest_format,
            compress=compress or (),
            cache_dir=Path(os.path.normpath(cache_dir)),
            strict_tokens=bool(strict_tokens),
            allow_symlinks_outside=bool(allow_outside),
            lock_timeout=60.0 if lock_timeout is None else lock_timeout,
            target=target,
            manifest_cache_control=cache_control or "no-cache",
            sourcemap=sourcemap or "none",
            sourcemap_ignore=tuple(ignore),
            sourcemap_debug_id=bool(debug_id),
            modules=modules,
            importmap=importmap,
            accept=accept,
        ),
        overrides,
        environ,
    )


def _dir_problem(value: str, path: Path) -> str | None:
    """Why `path` is not a usable directory; stat errors (a name too long) are answers, not crashes."""
    if "\0" in value:
        return "contains a NUL character"
    try:
        if not path.exists():
            return "does not exist"
        if not path.is_dir():
            return "is not a directory"
    except OSError as exc:
        return f"cannot be used: {exc.strerror or exc}"
    return None


def _check_written_path(
    problems: _Problems, key: str, path: Path, root: Path, cwd: Path, *, manifest: bool
) -> None:
    """Refuse a manifest or cache path that would write into a version directory or over a source."""
    path = Path(os.path.normpath(path))
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = ()
    numbered = [p for p in parts[: -1 if manifest else None] if is_version_name(p)]
    shown = _display(path, cwd)
    if "\0" in str(path):
        problems.add(key, "contains a NUL character")
    elif numbered:
        problems.add(
            key,
            f'{shown} is inside version directory "{numbered[0]}", whose files must never '
            "change once installed; choose a path outside numbered directories",
        )
    elif manifest and path.suffix.lower() in KINDS:
        problems.add(
            key, f"{shown} would overwrite a {path.suffix} file; name it manifest.json or .php"
        )
    elif manifest and _dir_problem(str(path), path) is None:
        problems.add(key, f"{shown} is a directory; give the manifest's file name")


def _check_keys(
    problems: _Problems, table: Mapping[str, Any], known: tuple[str, ...], where: str
) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            per_bundle = difflib.get_close_matches(key, _BUNDLE_KEYS, n=1)
            if not close and not where and per_bundle:
                hint = f' (did you mean "{per_bundle[0]}"? it is set per [[bundle]])'
            place = f"{problems.prefix}{where}".rstrip(".")
            place = f" in {place}" if place else ""
            problems.add("", f'unknown key "{key}"{place}{hint}')


def _sourcemap_mode(problems: _Problems, table: Mapping[str, Any], where: str) -> str | None:
    value = _get(problems, table, "sourcemap", str, '"none", "linked" or "hidden"', where)
    if value is not None and value not in SOURCEMAP_MODES:
        key = f"{where}.sourcemap" if where else "sourcemap"
        problems.add(key, f'expected "none", "linked" or "hidden", got "{value}"')
        return None
    return str(value) if value is not None else None


def _get(
    problems: _Problems,
    table: Mapping[str, Any],
    key: str,
    kind: type,
    expected: str,
    where: str = "",
) -> Any:
    value = table.get(key)
    # bool is an int in Python; check it exactly so `minify = 1` is refused.
    if value is None or type(value) is kind:
        return value
    problems.add(
        f"{where}.{key}" if where else key, f"expected {expected}, got {_type_name(value)}"
    )
    return None


def _compress_list(problems: _Problems, value: Any, key: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(key, f'expected a list of "gzip" and "br", got {_type_name(value)}')
        return None
    methods, ok = _normalise_compress(value)
    for bad in (v for v in value if v not in COMPRESS_METHODS):
        close = difflib.get_close_matches(bad, [*COMPRESS_METHODS, "brotli"], n=1)
        hint = ' (did you mean "br"?)' if close and close[0] in ("br", "brotli") else ""
        hint = f' (did you mean "{close[0]}"?)' if close and close[0] == "gzip" else hint
        problems.add(key, f'unknown method "{bad}"; expected "gzip" or "br"{hint}')
    if ok and _brotli_missing(methods):
        problems.add(key, _BROTLI_MISSING)
        return None
    return methods if ok else None


_BROTLI_MISSING = "\"br\" needs the brotli extra: pip install 'assetbuild[brotli]'"


def _brotli_missing(methods: Sequence[str]) -> bool:
    """Whether "br" is asked for without brotli: said now, not by install after the whole build."""
    return "br" in methods and importlib.util.find_spec("brotli") is None


def _normalise_compress(values: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """Known methods in canonical order, and whether every value was known."""
    return tuple(m for m in COMPRESS_METHODS if m in values), all(
        v in COMPRESS_METHODS for v in values
    )


def _compress_option(values: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """The methods of a --compress option, and what is wrong with it (None: nothing)."""
    methods, ok = _normalise_compress(tuple(values))
    if ok:
        return methods, f"--compress: {_BROTLI_MISSING}" if _brotli_missing(methods) else None
    bad = ", ".join(v for v in values if v not in COMPRESS_METHODS)
    return methods, f'--compress: unknown method {bad}; expected "gzip" or "br"'


def parse_compress_option(value: str | None) -> tuple[str, ...] | None:
    """`--compress gzip,br` as methods (None when not given); ConfigError for an unknown one.

    The one check of a --compress value: the config's `compress` list and this option share it.
    """
    if value is None:
        return None
    methods, problem = _compress_option([m.strip() for m in value.split(",") if m.strip()])
    if problem:
        raise ConfigError(problem)
    return methods


def _lock_timeout(problems: _Problems, value: Any) -> float | None:
    if value is None:
        return None
    if type(value) not in (int, float):
        problems.add("lock_timeout", f"expected a number of seconds, got {_type_name(value)}")
        return None
    if not math.isfinite(value) or value < 0:
        problems.add("lock_timeout", f"expected a number of seconds >= 0, got {value!r}")
        return None
    return float(value)


def _bundles(problems: _Problems, value: Any, modules_only: bool) -> tuple[BundleSpec, ...]:
    if value is None and modules_only:
        return ()
    if value is None:
        table = f"[[{problems.prefix}bundle]]"
        problems.add(
            "", f'no {table} tables; add one with output = "js/main.js" and sources = [...]'
        )
        return ()
    if not isinstance(value, list) or not all(isinstance(b, dict) for b in value):
        problems.add("bundle", "expected [[bundle]] tables")
        return ()
    specs: list[BundleSpec] = []
    seen: dict[str, int] = {}
    for number, table in enumerate(value, start=1):
        where = f"bundle[{number}]"
        _check_keys(problems, table, _BUNDLE_KEYS, where)
        output = _bundle_output(problems, table.get("output"), where)
        sources = table.get("sources")
        if (
            not isinstance(sources, list)
            or not sources
            or not all(isinstance(s, str) and s for s in sources)
        ):
            problems.add(f"{where}.sources", "expected a non-empty list of strings")
            sources = None
        minify = _get(problems, table, "minify", bool, "true or false", where)
        use_tokens = _get(problems, table, "tokens", bool, "true or false", where)
        sourcemap = _sourcemap_mode(problems, table, where)
        if output is not None:
            if output in seen:
                problems.add(
                    f"{where}.output", f'"{output}" is also the output of bundle[{seen[output]}]'
                )
            seen.setdefault(output, number)
        if output is None or sources is None:
            continue
        kind = KINDS[PurePosixPath(output).suffix]
        specs.append(
            BundleSpec(
                output,
                kind,
                tuple(sources),
                minify=True if minify is None else minify,
                tokens=True if use_tokens is None else use_tokens,
                sourcemap=sourcemap,
            )
        )
    return tuple(specs)


def _bundle_output(problems: _Problems, value: Any, where: str) -> str | None:
    """A validated, normalised output path, or None after reporting why not."""
    key = f"{where}.output"
    if value is None:
        problems.add(key, 'missing; e.g. output = "js/main.js"')
        return None
    if not isinstance(value, str) or not value:
        problems.add(key, f'expected a path like "js/main.js", got {_type_name(value)}')
        return None
    problem = output_problem(value)
    if problem:
        problems.add(key, f'"{value}": {problem}')
        return None
    return normalise_output(value)


# --- zero-config -----------------------------------------------------------------------


def zero_config(cwd: Path) -> Config:
    """What zero-config mode finds in `cwd`, whatever config files are in its parents (for init)."""
    return _zero_config(cwd, Overrides(), {})


def _zero_config(cwd: Path, overrides: Overrides, environ: Mapping[str, str]) -> Config:
    root = cwd.resolve()
    bundles: list[BundleSpec] = []
    try:
        areas = sorted(
            (e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")),
            key=lambda n: n.encode("utf-8", "surrogateescape"),
        )
    except OSError as exc:
        raise ConfigError(f"{cwd}: cannot list directory: {exc.strerror or exc}") from None
    for area in areas:
        names = _plain_files(root / area / "source")
        for ext, kind in (("js", "js"), ("css", "css")):
            if any(n.lower().endswith(f".{ext}") for n in names):
                bundles.append(BundleSpec(f"{area}/main.{ext}", kind, (f"{area}/source/*.{ext}",)))
    modules = zero_config_modules(root, areas)
    if not bundles and not modules:
        message = (
            f"no {CONFIG_NAME} (or {PYPROJECT_NAME} with [tool.assetbuild]) in {cwd} or its parents, "
            f"and no <area>/source/ directory with .js or .css files in {cwd} for zero-config mode; "
            f'create {CONFIG_NAME} with a [[bundle]] table (output = "js/main.js", '
            'sources = ["js/source/*.js"]), or run assetbuild in your static directory'
        )
        raise ConfigError(message, [Diagnostic("error", message)])
    config = Config(
        root=root,
        config_path=None,
        base_dir=cwd,
        static_url=None,
        tokens=(),
        bundles=tuple(bundles),
        manifest_path=root / "manifest.json",
        manifest_format="json",
        cache_dir=Path(site_cache_dir(str(root))),  # never in the served root
        modules=modules,
    )
    return _finish(config, overrides, environ)


def _plain_files(directory: Path) -> list[str]:
    """Names of the visible files in a directory (what `*.js` would match), [] if none."""
    try:
        return [
            e.name
            for e in os.scandir(directory)
            if not e.name.startswith(".")
            and not e.name.endswith(("~", ".swp", ".tmp"))
            and e.is_file()
        ]
    except OSError:
        return []


# --- overrides -------------------------------------------------------------------------


def _finish(config: Config, overrides: Overrides, environ: Mapping[str, str]) -> Config:
    """Apply --static-url, ASSETBUILD_STATIC_URL, --token, --strict-tokens and --compress."""
    diags: list[Diagnostic] = []
    static_url = config.static_url
    if environ.get(ENV_STATIC_URL):
        static_url = environ[ENV_STATIC_URL]
        if has_lone_surrogate(static_url):
            diags.append(_cli_error(f"{ENV_STATIC_URL}: {_UNDECODABLE}: {_shown(static_url)}"))
    cli_static = overrides.static_url
    if cli_static is not None and has_lone_surrogate(cli_static):
        diags.append(_cli_error(f"--static-url: {_UNDECODABLE}: {_shown(cli_static)}"))
    tokens = dict(config.tokens)
    for name, value in overrides.tokens:
        if has_lone_surrogate(name) or has_lone_surrogate(value):
            diags.append(_cli_error(f"--token: {_UNDECODABLE}: {_shown(name)}={_shown(value)}"))
        elif not TOKEN_NAME.fullmatch(name):
            diags.append(
                _cli_error(
                    f'--token {name}={value}: "{name}" is not a token name; names match [A-Za-z_][A-Za-z0-9_]*'
                )
            )
        elif name == "static":
            if cli_static is not None and cli_static != value:
                diags.append(
                    _cli_error("--token static=... and --static-url disagree; pass only one")
                )
            cli_static = value
        else:
            tokens[name] = value
    if cli_static is not None:
        static_url = cli_static
    compress = config.compress
    if overrides.compress is not None:
        compress, problem = _compress_option(overrides.compress)
        if problem:
            diags.append(_cli_error(problem))
    target = config.target
    if overrides.target is not None:
        target = overrides.target
        if why := target_problem(target):
            diags.append(_cli_error(f"--target {_shown(target)}: {why}"))
    if diags:
        raise ConfigError("\n".join(d.message for d in diags), diags)
    strict = config.strict_tokens if overrides.strict_tokens is None else overrides.strict_tokens
    return replace(  # every other field as the file says
        config,
        static_url=static_url,
        tokens=(("static", static_url), *tokens.items()),
        compress=compress,
        strict_tokens=strict,
        target=target,
    )


def _cli_error(message: str) -> Diagnostic:
    return Diagnostic("error", message)


# Arguments and environment variables are bytes; Python keeps the ones that are not UTF-8 as lone
# surrogates, which no bundle (and no JavaScript engine) can take.
_UNDECODABLE = "the value holds bytes that are not UTF-8 text"


def _shown(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _type_name(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    if value == "":
        return "an empty string"
    return names.get(type(value), type(value).__name__)


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix() or "."
    except ValueError:
        return path.as_posix()
