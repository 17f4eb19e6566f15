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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from assetbuild import __version__, summary
from assetbuild.commands import watch_lines
from assetbuild.commands.options import (
    Settings,
    build_options,
    chosen_policy,
    location_options,
    output_options,
    policy_flag,
    settings_of,
    target_option,
)
from assetbuild.errors import AssetbuildError, ConfigError
from assetbuild.interrupts import caused_by_interrupt, exit_on_interrupt, interrupted
from assetbuild.interrupts import install as install_interrupts
from assetbuild.report import Progress, format_diagnostics, use_color, write_err

if TYPE_CHECKING:
    from types import FrameType

    from assetbuild.build.results import BuildOptions, BuildResult
    from assetbuild.config import Config
    from assetbuild.diagnostics import Diagnostic
    from assetbuild.watch import Rebuild

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["Settings", "main"]

EXIT_SOURCE, EXIT_USAGE, EXIT_INSTALL, EXIT_INTERNAL = 1, 2, 3, 4


class _Group(click.Group):
    """The top group: Ctrl-C anywhere in click's parsing or a command ends with exit 130 and one
    line (click itself would print "Aborted!" and exit 1)."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            interrupted()
        except Exception as exc:
            if caused_by_interrupt(exc):
                interrupted()
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted()
        except Exception as exc:
            if caused_by_interrupt(exc):
                interrupted()
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assetbuild")
@location_options
def main() -> None:
    """Bundle, check, minify and install CSS and JavaScript into numbered version directories.

    Without a config file, every <root>/<area>/source/ directory becomes
    <area>/<N>/main.js and <area>/<N>/main.css.  Exit codes: 0 success,
    1 errors in sources, 2 usage or config errors, 3 install errors.
    """


# -- helpers -----------------------------------------------------------------


def _print_diagnostics(diags: Sequence[Diagnostic]) -> None:
    if diags:
        write_err(format_diagnostics(diags, use_color(sys.stderr)))


@contextmanager
def _reporting(settings: Settings) -> Iterator[None]:
    """Turn every AssetbuildError into its diagnostics on stderr and its exit code."""
    try:
        yield
    except AssetbuildError as exc:
        _print_diagnostics(exc.diagnostics)
        write_err(summary.error_message(exc))
        if settings.json:
            _emit_json(summary.error_json(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        interrupted()
    except OSError as exc:
        # The library translates the OS errors it expects; this is the last line of defence.
        where = f"{exc.filename}: " if exc.filename else ""
        write_err(f"assetbuild: error: {where}{exc.strerror or exc}")
        sys.exit(EXIT_INSTALL)
    except Exception as exc:
        if caused_by_interrupt(exc):
            interrupted()
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
        target=settings.target,
    )
    return load_config(Path.cwd(), settings.config_file, overrides, os.environ)


def _options(settings: Settings, *, check_only: bool = False) -> BuildOptions:
    from assetbuild.build.results import BuildOptions

    return BuildOptions(
        minify=settings.minify,
        check_only=check_only,
        strict_tokens=settings.strict_tokens,
        strict=settings.strict,
        use_cache=settings.use_cache,
        sourcemap=settings.sourcemap,
        debug_id=settings.debug_id,
    )


def _progress(settings: Settings, label: str) -> Progress:
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


def _emit_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def _print_details(settings: Settings, result: BuildResult, more: Sequence[str] = ()) -> None:
    """-v: how each bundle's files were minified, and the time taken, on stderr."""
    if settings.verbose:
        lines = [*more, *summary.detail_lines(result, time.monotonic() - settings.started)]
        write_err("\n".join(f"assetbuild: {line}" for line in lines))


def _print_summary(settings: Settings, result: BuildResult, lines: Callable[[], list[str]]) -> None:
    """The warnings, then (unless -q or --json) the summary `lines()` makes."""
    _print_diagnostics([d for d in result.diagnostics if not d.is_error])
    if settings.quiet or settings.json:
        return
    for line in lines():
        click.echo(line)


# -- commands ----------------------------------------------------------------


@main.command()
@build_options
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check every source (syntax, tokens, bundle hazards); write nothing."""
    settings = settings_of(ctx)
    with _reporting(settings):
        config = _load(settings)
        result = _build_checked(settings, config, "checking", check_only=True)
        _print_diagnostics([d for d in result.diagnostics if not d.is_error])
        if settings.json:
            _emit_json(summary.build_json("check", result, {}))
        elif not settings.quiet:
            click.echo(summary.check_line(result))
        _print_details(settings, result)


@main.command()
@build_options
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
    settings = settings_of(ctx)
    with _reporting(settings):
        from assetbuild.build.pipeline import export

        config = _load(settings)
        result = _build_checked(settings, config, "building", "nothing was written")
        export(result, out_dir.resolve(), config)
        where = summary.written_where(result, out_dir)
        if settings.json:
            _emit_json(summary.build_json("build", result, where))
        _print_summary(
            settings,
            result,
            lambda: summary.summary_lines(result, where, {}, "", {}, out_dir=out_dir),
        )
        _print_details(settings, result)


@main.command()
@build_options
@target_option
@click.option(
    "--bump",
    "bump",
    flag_value="bump",
    default=None,
    expose_value=False,
    callback=policy_flag,
    help="Always create the next version.",
)
@click.option(
    "--into-current",
    "into_current",
    flag_value="into-current",
    default=None,
    expose_value=False,
    callback=policy_flag,
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
def install(ctx: click.Context, dry_run: bool, compress: str | None) -> None:
    """Build and install into numbered version directories, then write the manifest.

    A new version N+1 is created only when an installed file would change,
    so a published URL never changes its bytes.
    """
    policy = chosen_policy(ctx)
    settings = settings_of(ctx)
    with _reporting(settings):
        from assetbuild.build.pipeline import Session
        from assetbuild.build.pipeline import install as install_all
        from assetbuild.config import parse_compress_option

        config = _load(settings)
        methods = parse_compress_option(compress)
        session = Session(config, _options(settings))
        checked = settings.checked
        plain = policy is None and not dry_run and methods is None
        if (
            plain
            and checked is not None
            and (checked.config, checked.options)
            == (
                session.config,
                session.options,
            )
        ):
            session = checked  # the quick path already collected, stamped and asked the state
        progress = _progress(settings, "building")
        try:
            outcome = install_all(
                session,
                policy=policy or "auto",
                dry_run=dry_run,
                compress=methods,
                on_progress=progress,
                on_wait=lambda: _waiting(settings),
                on_phase=progress.phase,
                gzip_sizes=not settings.quiet or settings.json,  # else nothing shows the gzip sizes
            )
        finally:
            progress.close()
        if settings.json:
            _emit_json(summary.install_json(outcome, dry_run))
        _print_summary(
            settings, outcome.build, lambda: summary.install_summary(config, outcome, dry_run)
        )
        if plain and settings.remember is not None:
            settings.remember(session, outcome)  # the next no-change run answers at once
        _print_details(settings, outcome.build, summary.link_lines(outcome.report))


def _waiting(settings: Settings) -> None:
    if not settings.quiet:
        write_err("assetbuild: waiting for another install to finish...")


@main.command()
@build_options
@target_option
@click.option(
    "--check",
    "exit_if_changed",
    is_flag=True,
    help="Exit 1 when sources changed since the current version was built (for CI).",
)
@click.pass_context
def status(ctx: click.Context, exit_if_changed: bool) -> None:
    """Show versions per area and whether sources changed since the current one was built."""
    settings = settings_of(ctx)
    with _reporting(settings):
        config = _load(settings)
        if config.static_url is None and config.manifest_format == "json":
            from assetbuild.manifest import installed_static_url

            # Compare with what was installed: the manifest knows the static_url it used.
            settings.static_url = installed_static_url(config.manifest_path)
            if settings.static_url is not None:
                config = _load(settings)
        # A token without a value is no change (a warning, as for `check`), never exit 1.
        result = _build_checked(settings, config, "checking", check_only=True)
        statuses = summary.bundle_status(config, result)
        found = summary.orphans(config, result)
        if settings.json:
            _emit_json(summary.status_json(statuses, found))
        elif not settings.quiet:
            for line in summary.status_lines(statuses) + summary.orphan_lines(found):
                click.echo(line)
        if exit_if_changed and any(s.changed for s in statuses):
            sys.exit(1)


@main.command()
@location_options
@output_options
@target_option
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
    settings = settings_of(ctx)
    with _reporting(settings):
        from assetbuild.install.prune import parse_duration
        from assetbuild.install.prune import prune as prune_versions

        config = _load(settings)
        seconds = parse_duration(min_age)
        areas = sorted({b.area for b in config.bundles} | {t.area for t in config.modules})
        where = None  # a target's URL: the paths of its versions are relative to it
        if config.target is not None:
            from assetbuild.remote.connect import open_target
            from assetbuild.remote.prune import remote_prune

            target = open_target(config.target, manifest_format=config.manifest_format)
            report = remote_prune(target, areas, keep=keep, min_age=seconds, dry_run=dry_run)
            where = target.url
        else:
            report = prune_versions(
                config.root,
                areas,
                keep=keep,
                min_age=seconds,
                dry_run=dry_run,
                manifest_path=config.manifest_path,
                lock_timeout=config.lock_timeout,
            )
        if settings.json:
            _emit_json(summary.prune_json(report, dry_run, where))
        elif not settings.quiet:
            click.echo(summary.prune_text(report, dry_run))


@main.command()
@build_options
@click.option(
    "--bump",
    "bump",
    flag_value="bump",
    default=None,
    expose_value=False,
    callback=policy_flag,
    help="Install every rebuild as a new version.",
)
@click.option(
    "--auto",
    "auto",
    flag_value="auto",
    default=None,
    expose_value=False,
    callback=policy_flag,
    help="New version only when an installed file changes (as `install` does).",
)
@click.option(
    "--debounce",
    "debounce_ms",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    metavar="MS",
    help="Quiet time that ends a burst of changes before rebuilding (webpack's default too).",
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
def watch(ctx: click.Context, debounce_ms: int, compress: str | None) -> None:
    """Install, then rebuild and reinstall whenever a source or the config changes.

    Rebuilds go into the current version (--into-current, for development
    servers) unless --bump or --auto is given. No precompressed variants are
    made unless --compress is given (brotli takes seconds a megabyte); stale
    ones are removed. Ctrl-C stops.
    """
    policy = chosen_policy(ctx)
    settings = settings_of(ctx)
    with _reporting(settings):
        import signal

        from assetbuild.config import parse_compress_option
        from assetbuild.watch import Watcher

        _load_directory(settings)  # -C applies once (a missing one is fatal); reloads stay there

        watcher = Watcher(
            lambda: _load(settings),
            _options(settings),
            policy=policy or "into-current",
            compress=parse_compress_option(compress) or (),
            debounce=debounce_ms / 1000,
            on_build=lambda r: _watch_built(settings, r),
            on_error=lambda r: _watch_failed(settings, r),
            on_ready=lambda n: _watch_ready(settings, n),
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            watcher.stop()
            if watcher.building:
                raise KeyboardInterrupt  # atomic writes clean up after themselves

        install_interrupts(stop)  # SIGINT, deferred where raising is unsafe (imports, __del__)
        signal.signal(signal.SIGTERM, stop)
        with suppress(KeyboardInterrupt):
            watcher.run()
        if settings.json:
            click.echo(json.dumps({"event": "stopped"}))
        elif not settings.quiet:
            click.echo("stopped", err=True)


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def _watch_built(settings: Settings, r: Rebuild) -> None:
    # on_build: the rebuild installed, or the config is good again with nothing to build
    outcome = r.outcome
    warnings = [d for d in outcome.build.diagnostics if not d.is_error] if outcome else []
    _print_diagnostics(warnings)
    if settings.json:
        click.echo(json.dumps(watch_lines.watch_event(r, warnings), sort_keys=True))
    elif not settings.quiet:
        for line in watch_lines.watch_built_lines(r, _clock()):
            click.echo(line)


def _watch_failed(settings: Settings, r: Rebuild) -> None:
    exc = r.error
    assert exc is not None  # on_error: the rebuild failed
    _print_diagnostics(exc.diagnostics)
    if settings.json:
        click.echo(json.dumps(watch_lines.watch_failure_event(r, exc), sort_keys=True))
        return
    message = watch_lines.watch_error_message(exc)
    if message:
        click.echo(message, err=True)
    for line in watch_lines.watch_failed_lines(r, exc, _clock()):
        click.echo(line)


def _watch_ready(settings: Settings, directories: int) -> None:
    if settings.json:
        click.echo(json.dumps({"event": "ready", "directories": directories}))
    elif not settings.quiet:
        click.echo(watch_lines.watch_ready_line(directories))


@main.command()
@location_options
@output_options
@click.pass_context
def init(ctx: click.Context) -> None:
    """Write a commented starter assetbuild.toml here from what zero-config mode finds.

    Each <area>/source/ directory becomes bundles; an existing file is never overwritten.
    """
    settings = settings_of(ctx)
    with _reporting(settings):
        from assetbuild.commands.init import write_starter

        _load_directory(settings)
        target = write_starter(Path.cwd())
        if settings.json:
            _emit_json({"ok": True, "command": "init", "config": str(target)})
        elif not settings.quiet:
            click.echo(f"wrote {target.name}; check it, then run `assetbuild install`")


@main.group()
def cache() -> None:
    """Manage the content cache (per-file check and minify results)."""


@cache.command("clear")
@location_options
@click.pass_context
def cache_clear(ctx: click.Context) -> None:
    """Delete the content cache and the no-change state; the next build checks every file again."""
    settings = settings_of(ctx)
    with _reporting(settings):
        from assetbuild.cache.content import cache_size, clear, foreign

        config = _load(settings)
        if foreign(config.cache_dir):
            write_err(summary.cache_not_ours(config.cache_dir))
            return
        size = cache_size(config.cache_dir)
        removed = clear(config.cache_dir)
        for line in summary.cache_cleared(config.cache_dir, removed, size):
            click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    # The click commands alone; the `assetbuild` script is `assetbuild.__main__.run`.
    install_interrupts()
    try:
        main()
    finally:
        exit_on_interrupt()
