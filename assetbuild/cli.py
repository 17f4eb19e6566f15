"""The `assetbuild` command: thin click commands over the library.

This is the one place where errors become exit codes (see `_reporting`).
Heavy modules are imported inside commands so `--help` and a no-change
install start fast.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from assetbuild import __version__
from assetbuild.errors import AssetbuildError, ConfigError, SourceError

if TYPE_CHECKING:
    from assetbuild.build.pipeline import BuildOptions, BuildResult, InstallOutcome
    from assetbuild.config import Config
    from assetbuild.diagnostics import Diagnostic

F = TypeVar("F", bound=Callable[..., Any])

EXIT_SOURCE, EXIT_USAGE, EXIT_INSTALL, EXIT_INTERNAL = 1, 2, 3, 4


@dataclass
class Settings:
    """Options gathered from the group and the command line, before the config is loaded."""

    directory: Path | None = None
    config_file: Path | None = None
    static_url: str | None = None
    tokens: list[tuple[str, str]] = field(default_factory=list)
    strict_tokens: bool = False
    minify: bool = True
    use_cache: bool = True
    quiet: bool = False
    json: bool = False
    verbose: bool = False
    started: float = field(default_factory=time.monotonic)


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(Settings)


def _parse_token(
    ctx: click.Context, param: click.Parameter, values: Sequence[str]
) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", ctx, param)
        pairs.append((name, text))
    return pairs


def _store(attr: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        settings = _settings(ctx)
        if value is not None and value != () and value != [] and value is not False:
            setattr(settings, attr, value)
        return value

    return callback


def _location_options(f: F) -> F:
    f = click.option(
        "-C",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        callback=_store("directory"),
        help="Run as if started in DIR.",
    )(f)
    f = click.option(
        "-c",
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_store("config_file"),
        help="Use this config file (assetbuild.toml or pyproject.toml).",
    )(f)
    return f


def _build_options(f: F) -> F:
    """Options shared by every command that builds."""
    for decorator in reversed(
        [
            _location_options,
            click.option(
                "--static-url",
                metavar="URL",
                expose_value=False,
                callback=_store("static_url"),
                help="Value of the {$static} token (overrides the config and ASSETBUILD_STATIC_URL).",
            ),
            click.option(
                "--token",
                "tokens",
                metavar="NAME=VALUE",
                multiple=True,
                expose_value=False,
                callback=lambda c, p, v: _store("tokens")(c, p, _parse_token(c, p, v)),
                help="Set a token's value; repeatable.",
            ),
            click.option(
                "--strict-tokens",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=_store("strict_tokens"),
                help="Make undeclared {$name} tokens errors instead of warnings.",
            ),
            click.option(
                "--no-minify",
                "no_minify",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=lambda c, p, v: setattr(_settings(c), "minify", False) if v else None,
                help="Concatenate, substitute and check, but do not minify.",
            ),
            click.option(
                "--no-cache",
                "no_cache",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=lambda c, p, v: setattr(_settings(c), "use_cache", False) if v else None,
                help="Neither read nor write the content cache.",
            ),
            _output_options,
        ]
    ):
        f = decorator(f)
    return f


def _output_options(f: F) -> F:
    f = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=_store("quiet"),
        help="Print only errors and warnings.",
    )(f)
    f = click.option(
        "-v",
        "--verbose",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=_store("verbose"),
        help="Also say how each file was minified and how long the run took (on stderr).",
    )(f)
    f = click.option(
        "--json",
        "json_output",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=_store("json"),
        help="Print a machine-readable report on stdout.",
    )(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assetbuild")
@_location_options
def main() -> None:
    """Bundle, check, minify and install CSS and JavaScript into numbered version directories.

    Without a config file, every <root>/<area>/source/ directory becomes
    <area>/<N>/main.js and <area>/<N>/main.css.  Exit codes: 0 success,
    1 errors in sources, 2 usage or config errors, 3 install errors.
    """


# -- helpers -----------------------------------------------------------------


def _err_color() -> bool:
    from assetbuild.report import use_color

    return use_color(sys.stderr)


def _print_diagnostics(diags: Sequence[Diagnostic]) -> None:
    from assetbuild.report import format_diagnostics, write_err

    if diags:
        write_err(format_diagnostics(diags, _err_color()))


@contextmanager
def _reporting(settings: Settings) -> Iterator[None]:
    """Turn every AssetbuildError into its diagnostics on stderr and its exit code."""
    from assetbuild.diagnostics import summarize
    from assetbuild.report import write_err

    try:
        yield
    except AssetbuildError as exc:
        _print_diagnostics(exc.diagnostics)
        if isinstance(exc, SourceError):
            write_err(f"assetbuild: {exc.message}")
        elif exc.diagnostics:
            first = exc.diagnostics[0].message
            tail = f" ({summarize(exc.diagnostics)})" if len(exc.diagnostics) > 1 else ""
            if exc.message and exc.message != first:
                write_err(f"assetbuild: {exc.message}{tail}")
        else:
            write_err(f"assetbuild: error: {exc.message}")
        if settings.json:
            _emit_json(
                {
                    "ok": False,
                    "exit_code": exc.exit_code,
                    "error": exc.message,
                    "diagnostics": _diagnostics_json(exc.diagnostics),
                }
            )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        write_err("assetbuild: interrupted")
        sys.exit(130)
    except OSError as exc:
        # The library translates the OS errors it expects; this is the last line of defence.
        where = f"{exc.filename}: " if exc.filename else ""
        write_err(f"assetbuild: error: {where}{exc.strerror or exc}")
        sys.exit(EXIT_INSTALL)
    except Exception as exc:
        if os.environ.get("ASSETBUILD_DEBUG"):
            raise
        write_err(
            f"assetbuild: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in assetbuild; run again with ASSETBUILD_DEBUG=1 to see the traceback."
        )
        sys.exit(EXIT_INTERNAL)


def _load_directory(settings: Settings) -> None:
    """Change to -C DIRECTORY, once: later loads read from there."""
    if settings.directory is not None:
        try:
            os.chdir(settings.directory)
        except OSError as exc:
            raise ConfigError(
                f"cannot change to directory {settings.directory}: {exc.strerror}"
            ) from None
        settings.directory = None


def _load(settings: Settings) -> Config:
    from assetbuild.config import Overrides, load_config

    _load_directory(settings)
    overrides = Overrides(
        static_url=settings.static_url,
        tokens=tuple(settings.tokens),
        strict_tokens=settings.strict_tokens or None,
    )
    return load_config(Path.cwd(), settings.config_file, overrides, os.environ)


def _options(settings: Settings, *, check_only: bool = False) -> BuildOptions:
    from assetbuild.build.pipeline import BuildOptions

    return BuildOptions(
        minify=settings.minify,
        check_only=check_only,
        strict_tokens=settings.strict_tokens,
        use_cache=settings.use_cache,
    )


def _progress(settings: Settings, label: str) -> Any:
    from assetbuild.report import Progress

    return Progress(sys.stderr, label, enabled=not settings.quiet and not settings.json)


def _build_checked(
    settings: Settings,
    config: Config,
    label: str,
    consequence: str = "",
    *,
    check_only: bool = False,
) -> BuildResult:
    """Build every bundle in memory with a progress bar; SourceError when any has errors."""
    from assetbuild.build.pipeline import build, require_ok

    progress = _progress(settings, label)
    try:
        return require_ok(
            build(config, _options(settings, check_only=check_only), progress), consequence
        )
    finally:
        progress.close()


def _diagnostics_json(diags: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    from assetbuild.report import diagnostic_json

    return [diagnostic_json(d) for d in diags]


def _emit_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def _bundle_rows(
    result: BuildResult,
    where: dict[str, tuple[str, str]],
    previous: dict[str, int],
    variants: dict[str, dict[str, int]],
) -> list[list[str]]:
    from assetbuild.report import delta, size

    brotli = any("br" in v for v in variants.values())
    rows = [
        [
            "bundle",
            "files",
            "raw",
            "min",
            "gzip",
            *(["br"] if brotli else []),
            "change",
            "installed",
            "action",
        ]
    ]
    for b in result.bundles:
        path, action = where.get(b.output, ("", ""))
        mine = variants.get(b.output, {})
        rows.append(
            [
                b.output,
                str(len(b.sources)),
                size(b.raw_size),
                size(b.size),
                size(mine.get("gz", b.gzip_size)),
                *([size(mine.get("br"))] if brotli else []),
                delta(b.size, previous.get(b.output)),
                path,
                action,
            ]
        )
    return rows


def _bundle_json(result: BuildResult, where: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {
            "name": b.output,
            "kind": b.kind,
            "sources": list(b.sources),
            "files": len(b.sources),
            "raw_size": b.raw_size,
            "size": b.size,
            "gzip_size": b.gzip_size,
            "minified_by": sorted(set(b.methods)),
            "path": where.get(b.output, ("", ""))[0] or None,
            "action": where.get(b.output, ("", ""))[1] or None,
        }
        for b in result.bundles
    ]


def _print_details(settings: Settings, result: BuildResult) -> None:
    """-v: how each bundle's files were minified, and the time taken, on stderr."""
    if not settings.verbose:
        return
    from assetbuild.report import minify_details, write_err

    lines = minify_details(result.bundles)
    if result.bundles and all(b.known_gzip_size is not None for b in result.bundles):
        lines.append("up to date: proven by the install state, no source read")
    lines.append(f"done in {time.monotonic() - settings.started:.2f} s")
    write_err("\n".join(f"assetbuild: {line}" for line in lines))


def _print_summary(settings: Settings, result: BuildResult, lines: Callable[[], list[str]]) -> None:
    """The warnings, then (unless -q or --json) the summary `lines()` makes."""
    _print_diagnostics([d for d in result.diagnostics if not d.is_error])
    if settings.quiet or settings.json:
        return
    for line in lines():
        click.echo(line)


def _summary_lines(
    result: BuildResult,
    where: dict[str, tuple[str, str]],
    previous: dict[str, int],
    tail: str,
    variants: dict[str, dict[str, int]],
) -> list[str]:
    from assetbuild.report import table

    rows = _bundle_rows(result, where, previous, variants)
    numeric = frozenset(range(1, len(rows[0]) - 2))
    return table(rows, right=numeric) + ([tail] if tail else [])


def install_summary(config: Config, outcome: InstallOutcome, dry_run: bool = False) -> list[str]:
    """The lines `install` prints on stdout for this outcome (the quick path records them)."""
    report: Any = outcome.report
    return _summary_lines(
        outcome.build,
        _where(report),
        outcome.previous_sizes,
        _install_tail(report, dry_run),
        _variant_sizes(config, dry_run),
    )


# -- commands ----------------------------------------------------------------


@main.command()
@_build_options
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check every source (syntax, tokens, bundle hazards); write nothing."""
    settings = _settings(ctx)
    with _reporting(settings):
        config = _load(settings)
        result = _build_checked(settings, config, "checking", check_only=True)
        _print_diagnostics([d for d in result.diagnostics if not d.is_error])
        files = sum(len(b.sources) for b in result.bundles)
        if settings.json:
            _emit_json(
                {
                    "ok": True,
                    "command": "check",
                    "bundles": _bundle_json(result, {}),
                    "diagnostics": _diagnostics_json(result.diagnostics),
                }
            )
        elif not settings.quiet:
            click.echo(
                f"checked {files} file{'s' if files != 1 else ''} in "
                f"{len(result.bundles)} bundle{'s' if len(result.bundles) != 1 else ''}: ok"
            )
        _print_details(settings, result)


@main.command()
@_build_options
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the bundles to (no version directories).",
)
@click.pass_context
def build(ctx: click.Context, out_dir: Path) -> None:
    """Build the bundles into a plain directory, without versions or manifest."""
    settings = _settings(ctx)
    with _reporting(settings):
        from assetbuild.build.pipeline import export

        config = _load(settings)
        result = _build_checked(settings, config, "building", "nothing was written")
        export(result, out_dir.resolve())
        where = {b.output: (str(out_dir / b.output), "written") for b in result.bundles}
        if settings.json:
            _emit_json(
                {
                    "ok": True,
                    "command": "build",
                    "bundles": _bundle_json(result, where),
                    "diagnostics": _diagnostics_json(result.diagnostics),
                }
            )
        _print_summary(settings, result, lambda: _summary_lines(result, where, {}, "", {}))
        _print_details(settings, result)


@main.command()
@_build_options
@click.option("--bump", "policy", flag_value="bump", help="Always create the next version.")
@click.option(
    "--into-current",
    "policy",
    flag_value="into-current",
    help="Overwrite files in the current version (development servers only).",
)
@click.option("--dry-run", is_flag=True, help="Print what would happen; write nothing.")
@click.option(
    "--compress",
    "compress",
    metavar="LIST",
    default=None,
    help="Precompressed variants to write: gzip, br or gzip,br (overrides the config).",
)
@click.pass_context
def install(ctx: click.Context, policy: str | None, dry_run: bool, compress: str | None) -> None:
    """Build and install into numbered version directories, then write the manifest.

    A new version N+1 is created only when an installed file would change,
    so a published URL never changes its bytes.
    """
    settings = _settings(ctx)
    with _reporting(settings):
        from assetbuild.build.pipeline import install as install_all

        config = _load(settings)
        methods = _parse_compress(compress)
        progress = _progress(settings, "building")
        try:
            outcome = install_all(
                config,
                _options(settings),
                policy=policy or "auto",
                dry_run=dry_run,
                compress=methods,
                on_progress=progress,
                on_wait=lambda: _waiting(settings),
                on_phase=progress.phase,
            )
        finally:
            progress.close()
        report: Any = outcome.report
        where = _where(report)
        if settings.json:
            _emit_json(
                {
                    "ok": True,
                    "command": "install",
                    "dry_run": dry_run,
                    "bundles": _bundle_json(outcome.build, where),
                    "areas": [
                        {
                            "area": a.area,
                            "action": a.action,
                            "version": a.version,
                            "previous": a.previous,
                        }
                        for a in report.areas
                    ],
                    "manifest": str(report.manifest_path) if report.manifest_path else None,
                    "diagnostics": _diagnostics_json(outcome.build.diagnostics),
                }
            )
        _print_summary(settings, outcome.build, lambda: install_summary(config, outcome, dry_run))
        _print_details(settings, outcome.build)


def _variant_sizes(config: Config, dry_run: bool) -> dict[str, dict[str, int]]:
    """Sizes of the precompressed files the manifest lists (what browsers really download)."""
    from assetbuild.manifest import ManifestError, read_manifest

    if dry_run or config.manifest_format != "json":
        return {}
    try:
        entries = read_manifest(config.manifest_path)["bundles"]
    except ManifestError:
        return {}
    return {
        name: {suffix: variant["size"] for suffix, variant in entry.get("variants", {}).items()}
        for name, entry in entries.items()
    }


def _parse_compress(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    methods = tuple(m.strip() for m in value.split(",") if m.strip())
    for m in methods:
        if m not in ("gzip", "br"):
            raise ConfigError(f"--compress: unknown method {m!r}; choose gzip, br or gzip,br")
    return methods


def _waiting(settings: Settings) -> None:
    if not settings.quiet:
        from assetbuild.report import write_err

        write_err("assetbuild: waiting for another install to finish...")


def _where(report: Any) -> dict[str, tuple[str, str]]:
    labels = {
        "created": "created {area}{version}",
        "bumped": "new version {area}{version}",
        "added": "added to {area}{version}",
        "overwritten": "overwrote {area}{version}",
        "up-to-date": "up to date",
    }
    where: dict[str, tuple[str, str]] = {}
    for area in report.areas:
        prefix = f"{area.area}/" if area.area else ""
        for f in area.files:
            action = labels.get(area.action, area.action).format(area=prefix, version=area.version)
            if area.action != "up-to-date" and f.action == "unchanged":
                action = "unchanged"
            where[f.name] = (f.path, action)
    return where


def _install_tail(report: Any, dry_run: bool) -> str:
    if all(a.action == "up-to-date" for a in report.areas):
        return "up to date" + (" (dry run)" if dry_run else "")
    if dry_run:
        return "dry run: nothing was written"
    return f"manifest: {_display(report.manifest_path)}" if report.manifest_path else ""


def _display(path: Path) -> str:
    from assetbuild.sources import display_path

    return display_path(path)


@main.command()
@_build_options
@click.option(
    "--check",
    "exit_if_changed",
    is_flag=True,
    help="Exit 1 when sources changed since the current version was built (for CI).",
)
@click.pass_context
def status(ctx: click.Context, exit_if_changed: bool) -> None:
    """Show versions per area and whether sources changed since the current one was built."""
    settings = _settings(ctx)
    with _reporting(settings):
        from assetbuild.versions import list_versions

        config = _load(settings)
        result = _build_checked(settings, config, "checking")
        rows = [["bundle", "versions", "current", "state"]]
        changed = []
        entries = []
        for b in result.bundles:
            area = str(Path(b.output).parent) if "/" in b.output else ""
            area_dir = config.root / area if area else config.root
            versions = list_versions(area_dir)
            current = versions[-1] if versions else None
            installed = area_dir / str(current) / Path(b.output).name if current else None
            try:
                same = installed is not None and installed.read_bytes() == b.data
            except OSError:
                same = False
            state = "up to date" if same else ("not installed" if current is None else "changed")
            if not same:
                changed.append(b.output)
            rows.append([b.output, _ranges(versions), str(current or "-"), state])
            entries.append(
                {
                    "name": b.output,
                    "versions": list(versions),
                    "current": current,
                    "state": state.replace(" ", "-"),
                }
            )
        if settings.json:
            _emit_json({"ok": True, "command": "status", "bundles": entries, "changed": changed})
        elif not settings.quiet:
            from assetbuild.report import table

            for line in table(rows):
                click.echo(line)
        if exit_if_changed and changed:
            sys.exit(1)


def _ranges(versions: Sequence[int]) -> str:
    if not versions:
        return "-"
    if len(versions) <= 4:
        return ", ".join(map(str, versions))
    return f"{versions[0]}..{versions[-1]} ({len(versions)})"


@main.command()
@_location_options
@_output_options
@click.option(
    "--keep", type=click.IntRange(min=1), required=True, help="Versions to keep per area."
)
@click.option(
    "--min-age",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Never delete a version younger than this (0, 90s, 30m, 12h, 7d).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
@click.pass_context
def prune(ctx: click.Context, keep: int, min_age: str, dry_run: bool) -> None:
    """Delete old version directories (never the current one, a recent one, or one the manifest names)."""
    settings = _settings(ctx)
    with _reporting(settings):
        from assetbuild.install.prune import parse_duration
        from assetbuild.install.prune import prune as prune_versions

        config = _load(settings)
        seconds = parse_duration(min_age)
        areas = sorted({b.area for b in config.bundles})
        report: Any = prune_versions(
            config.root,
            areas,
            keep=keep,
            min_age=seconds,
            dry_run=dry_run,
            manifest_path=config.manifest_path,
            lock_timeout=config.lock_timeout,
        )
        if settings.json:
            _emit_json(
                {"ok": True, "command": "prune", "dry_run": dry_run, "report": _plain(report)}
            )
        elif not settings.quiet:
            click.echo(_plain_text(report, dry_run))


def _plain(obj: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _plain_text(report: Any, dry_run: bool) -> str:
    describe = getattr(report, "describe", None)
    if callable(describe):
        return str(describe(dry_run))
    return json.dumps(_plain(report), indent=2)


@main.command()
@_build_options
@click.option("--bump", "policy", flag_value="bump", help="Install every rebuild as a new version.")
@click.option(
    "--auto",
    "policy",
    flag_value="auto",
    help="New version only when an installed file changes (as `install` does).",
)
@click.option(
    "--debounce",
    "debounce_ms",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    metavar="MS",
    help="Quiet time that ends a burst of changes before rebuilding.",
)
@click.option(
    "--compress",
    "compress",
    metavar="LIST",
    default=None,
    help="Precompressed variants to write on each rebuild: gzip, br or gzip,br "
    "(default: none; the config's apply to install).",
)
@click.pass_context
def watch(ctx: click.Context, policy: str | None, debounce_ms: int, compress: str | None) -> None:
    """Install, then rebuild and reinstall whenever a source or the config changes.

    Rebuilds go into the current version (--into-current, for development
    servers) unless --bump or --auto is given. No precompressed variants are
    made unless --compress is given (brotli takes seconds a megabyte); stale
    ones are removed. Ctrl-C stops.
    """
    settings = _settings(ctx)
    with _reporting(settings):
        import signal

        from assetbuild.watch import Watcher

        _load_directory(settings)  # -C applies once (a missing one is fatal); reloads stay there

        watcher = Watcher(
            lambda: _load(settings),
            _options(settings),
            policy=policy or "into-current",
            compress=_parse_compress(compress) or (),
            debounce=debounce_ms / 1000,
            on_build=lambda r: _watch_built(settings, r),
            on_error=lambda r: _watch_failed(settings, r),
            on_ready=lambda n: _watch_ready(settings, n),
        )

        def stop(signum: int, frame: Any) -> None:
            watcher.stop()
            if watcher.building:
                raise KeyboardInterrupt  # atomic writes clean up after themselves

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        with suppress(KeyboardInterrupt):
            watcher.run()
        if settings.json:
            click.echo(json.dumps({"event": "stopped"}))
        elif not settings.quiet:
            click.echo("stopped", err=True)


def _clock() -> str:
    import time

    return time.strftime("%H:%M:%S")


def _watch_what(r: Any) -> str:
    if r.first:
        return "started"
    moved = {path for pair in r.renamed for path in pair}
    names = [name for name in r.changed if name not in moved]
    parts = [f"{a} renamed to {b}" for a, b in r.renamed[:3]]
    if len(r.renamed) > 3:
        parts.append(f"{len(r.renamed) - 3} more renamed")
    if names:
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        parts.append(", ".join(names[:3]) + more + " changed")
    return ", ".join(parts) or "rebuild"


def _watch_installed(r: Any) -> list[str]:
    """ "js/main.js installed into js/3" for each area a rebuild installed into."""
    from assetbuild.watch import installed_paths

    if r.outcome is None:
        return []
    placed = installed_paths(r.outcome)
    parts = []
    for area in r.outcome.report.areas:
        names = [f.name for f in area.files if f.name in r.outputs]
        if names:
            where = Path(placed[names[0]]).parent.as_posix()
            verb = "up to date in" if area.action == "up-to-date" else "installed into"
            parts.append(f"{', '.join(names)} {verb} {where}")
    return parts


def _watch_event(r: Any, diagnostics: Sequence[Diagnostic], **extra: Any) -> None:
    """`watch --json`: one JSON object per line on stdout for each build (JSON Lines)."""
    from assetbuild.watch import installed_paths

    placed = installed_paths(r.outcome) if r.outcome is not None else {}
    data = {
        "event": "build",
        "ok": r.ok,
        "first": r.first,
        "changed": list(r.changed),
        "renamed": [list(pair) for pair in r.renamed],
        "outputs": list(r.outputs),
        "installed": {name: placed[name] for name in r.outputs if name in placed},
        "fixed": list(r.fixed),
        "ms": round(r.seconds * 1000),
        "diagnostics": _diagnostics_json(diagnostics),
        **extra,
    }
    click.echo(json.dumps(data, sort_keys=True))


def _watch_built(settings: Settings, r: Any) -> None:
    warnings = [d for d in r.outcome.build.diagnostics if not d.is_error]
    _print_diagnostics(warnings)
    if settings.json:
        _watch_event(r, warnings)
        return
    if settings.quiet:
        return
    parts = _watch_installed(r) or ["nothing to install"]
    click.echo(f"{_clock()} {_watch_what(r)} -> {'; '.join(parts)} ({round(r.seconds * 1000)} ms)")
    if r.fixed:
        click.echo(f"{_clock()} fixed: {', '.join(r.fixed)} rebuilt")


def _watch_failed(settings: Settings, r: Any) -> None:
    from assetbuild.diagnostics import summarize

    exc = r.error
    _print_diagnostics(exc.diagnostics)
    config_only = r.config_changed and not r.outputs  # a broken config: no bundle was built
    if settings.json:
        not_built = [] if config_only else list(r.failed or r.outputs)
        _watch_event(
            r, exc.diagnostics, error=exc.message, failed=not_built, config_reloaded=not config_only
        )
        return
    if not isinstance(exc, SourceError) and (
        not exc.diagnostics or exc.message != exc.diagnostics[0].message
    ):
        click.echo(f"assetbuild: {exc.message}", err=True)
    summary = summarize(exc.diagnostics) if exc.diagnostics else "error"
    if r.first and r.config_changed:
        parts = [f"configuration: {summary}; nothing built, waiting for a change"]
    elif config_only:
        parts = [f"configuration not reloaded: {summary}; kept the last good one"]
    else:
        failed = ", ".join(r.failed or r.outputs)
        parts = [f"{failed} failed: {summary}; the last good output stays installed"]
    parts += _watch_installed(r)
    click.echo(f"{_clock()} {_watch_what(r)} -> {'; '.join(parts)} ({round(r.seconds * 1000)} ms)")
    if r.fixed:
        click.echo(f"{_clock()} fixed: {', '.join(r.fixed)} rebuilt")


def _watch_ready(settings: Settings, directories: int) -> None:
    if settings.json:
        click.echo(json.dumps({"event": "ready", "directories": directories}))
    elif not settings.quiet:
        plural = "y" if directories == 1 else "ies"
        click.echo(f"watching {directories} director{plural}; Ctrl-C to stop")


@main.group()
def cache() -> None:
    """Manage the content cache (per-file check and minify results)."""


@cache.command("clear")
@_location_options
@click.pass_context
def cache_clear(ctx: click.Context) -> None:
    """Delete the content cache and the no-change state; the next build checks every file again."""
    settings = _settings(ctx)
    with _reporting(settings):
        from assetbuild.cache.content import cache_size, clear

        config = _load(settings)
        size = cache_size(config.cache_dir)
        removed = clear(config.cache_dir)
        where = _display(config.cache_dir)
        if not removed:
            click.echo(f"{where}: nothing to remove")
            return
        for path in removed:
            click.echo(f"removed {_display(path)}")
        from assetbuild.report import size as human

        click.echo(f"cleared {where} ({human(size)} of cached results)")


def run() -> None:
    """`python -m assetbuild.cli`: the console script, falling back to this module's commands."""
    from assetbuild.quick import run as quick_run

    quick_run(main)


if __name__ == "__main__":  # pragma: no cover
    run()
