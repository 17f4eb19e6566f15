"""The whole run in one screen: collect, read, substitute, check, minify, join, install, manifest."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assetbuild.build.bundle import Built, FileJob, FileResult, join_bundle, output_dir_for
from assetbuild.config import BundleSpec, Config
from assetbuild.diagnostics import Diagnostic, summarize
from assetbuild.errors import SourceError
from assetbuild.build.executor import run_jobs
from assetbuild.fsutil import Stamp, trusted_stamp

if TYPE_CHECKING:
    from assetbuild.cache.content import ContentCache

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BuildOptions:
    """Options of one run that change what is built."""

    minify: bool = True
    check_only: bool = False  # `assetbuild check`: a token without a value is only a warning
    strict_tokens: bool = False
    use_cache: bool = True
    only: frozenset[str] | None = None  # build only these outputs (watch mode)


@dataclass(frozen=True)
class BuildResult:
    bundles: tuple[Built, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class InstallOutcome:
    build: BuildResult
    report: object  # install.InstallReport
    previous_sizes: dict[str, int] = field(default_factory=dict)


def build(
    config: Config, options: BuildOptions, on_progress: Progress | None = None
) -> BuildResult:
    """Build every bundle in memory; source problems come back as diagnostics, never half-done output."""
    from assetbuild.sources import collect

    diags: list[Diagnostic] = []
    plans: list[tuple[BundleSpec, list[FileJob], int]] = []
    run = _RunSettings.of(config, options)
    for spec in config.bundles:
        if options.only is not None and spec.output not in options.only:
            continue
        try:
            paths = collect(config.root, spec, allow_outside=config.allow_symlinks_outside)
        except SourceError as exc:
            diags.extend(exc.diagnostics)
            continue
        jobs: list[FileJob] = []
        raw_size = 0
        for index, path in enumerate(paths):
            try:
                job, size, token_diags = _prepare(path, index, spec, run)
            except SourceError as exc:
                diags.extend(exc.diagnostics)
                continue
            jobs.append(job)
            raw_size += size
            diags.extend(token_diags)
        plans.append((spec, jobs, raw_size))

    all_jobs = [job for _, jobs, _ in plans for job in jobs]
    cache = _cache(config, options)
    results = run_jobs(
        all_jobs,
        cache_dir=config.cache_dir if options.use_cache else None,
        on_progress=on_progress,
        read_only=options.check_only,  # `check` writes nothing, not even the cache
    )
    built: list[Built] = []
    start = 0
    for spec, jobs, raw_size in plans:
        mine: Sequence[FileResult] = results[start : start + len(jobs)]
        start += len(jobs)
        bundle = join_bundle(
            spec.output,
            spec.kind,
            mine,
            raw_size,
        )
        diags.extend(bundle.diagnostics)
        built.append(bundle)
    if cache is not None:
        diags.extend(cache.diagnostics())
    return BuildResult(tuple(built), tuple(diags))


def _cwd() -> Path | None:
    try:
        return Path(os.getcwd())
    except OSError:
        return None  # display_path shows absolute paths then


Prepared = tuple[FileJob, int, tuple[Diagnostic, ...]]  # job, raw size, token diagnostics
# key (full text and settings), the prepared job, and the stamp and settings it was read under
_Entry = tuple[tuple[object, ...], Prepared, "tuple[Stamp, tuple[object, ...]] | None"]


class _PreparedJobs:
    """Each source's job as last prepared (read, decoded, substituted), for a long-lived process.

    Watch mode rebuilds a bundle after one edit: a file whose stat stamp (taken before its last
    read, and old enough to be trusted, as in state.py) and settings are unchanged is not read again;
    a file read again whose text and settings are equal is not substituted or hashed again. One
    entry per path, bounded in total size.
    """

    MAX_BYTES = 64 * 1024 * 1024

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.watchers = 0  # stamps are trusted only while a long-lived watcher runs
        self._bytes = 0

    def get(self, path: str, key: tuple[object, ...]) -> Prepared | None:
        entry = self._entries.get(path)
        if entry is None or entry[0] != key:
            return None
        self._entries.move_to_end(path)
        return entry[1]

    def unchanged(
        self, path: str, stamp: Stamp | None, settings: tuple[object, ...]
    ) -> Prepared | None:
        """The job prepared from this path when its stamp (taken before that read) is the same."""
        entry = self._entries.get(path)
        if not self.watchers or stamp is None or entry is None or entry[2] != (stamp, settings):
            return None
        self._entries.move_to_end(path)
        return entry[1]

    def put(
        self,
        path: str,
        key: tuple[object, ...],
        prepared: Prepared,
        seen: tuple[Stamp, tuple[object, ...]] | None = None,
    ) -> None:
        old = self._entries.pop(path, None)
        if old is not None:
            self._bytes -= _weight(old[1])
        self._entries[path] = (key, prepared, seen)
        self._bytes += _weight(prepared)
        while self._bytes > self.MAX_BYTES and self._entries:
            _, (_, dropped, _) = self._entries.popitem(last=False)
            self._bytes -= _weight(dropped)


def _weight(prepared: Prepared) -> int:
    job = prepared[0]
    return len(job.original) + len(job.text)


_PREPARED = _PreparedJobs()


@contextmanager
def long_lived() -> Iterator[None]:
    """While inside, a source whose trusted stat stamp is unchanged is not read again (watch mode)."""
    _PREPARED.watchers += 1
    try:
        yield
    finally:
        _PREPARED.watchers -= 1


@dataclass(frozen=True)
class _RunSettings:
    """What every file of one build shares, computed once."""

    config: Config
    options: BuildOptions
    values: tuple[tuple[str, str | None], ...]  # declared tokens, sorted
    strict: bool
    cwd: Path | None  # None when the working directory is gone
    limit: int  # the largest source, in bytes

    @classmethod
    def of(cls, config: Config, options: BuildOptions) -> _RunSettings:
        from assetbuild.sources import max_source_bytes

        return cls(
            config,
            options,
            tuple(sorted(config.tokens, key=lambda item: item[0])),
            options.strict_tokens or config.strict_tokens,
            _cwd(),
            max_source_bytes(),
        )


def _prepare(path: Path, index: int, spec: BundleSpec, run: _RunSettings) -> Prepared:
    """One source read and substituted into a job, with its size and token diagnostics.

    In a long-lived process (watch) a file whose stamp is unchanged is not read again, and a file
    whose text is unchanged is not substituted again.
    """
    from assetbuild.sources import display_path, read_source
    from assetbuild.tokens import substitute

    options, root = run.options, str(run.config.root)
    minify = spec.minify and options.minify
    output_dir = str(output_dir_for(run.config.root, spec.output))
    settings = (
        spec.kind, spec.tokens, run.values, run.strict, options.check_only, minify,
        index == 0, output_dir, root,
    )  # fmt: skip
    stamp = trusted_stamp(path)
    remembered = _PREPARED.unchanged(str(path), stamp, (str(run.cwd), *settings, run.limit))
    if remembered is not None:  # not read again: its stamp proves the text is the same
        return remembered
    src = read_source(path, display_path(path, run.cwd))
    key = (src.original, src.display, *settings)
    prepared = _PREPARED.get(str(path), key)
    if prepared is None:
        size = len(src.original.encode("utf-8"))
        token_diags: tuple[Diagnostic, ...] = ()
        if spec.tokens:
            src, token_diags = substitute(
                src, dict(run.values), strict=run.strict, check_only=options.check_only
            )
        job = FileJob(
            kind=spec.kind,
            path=str(path),
            display=src.display,
            original=src.original,
            text=src.text,
            edits=tuple((e.start, e.end, e.orig_start, e.orig_end) for e in src.edits),
            minify=minify,
            first=index == 0,
            output_dir=output_dir,
            root=root,
        )
        prepared = (job, size, token_diags)
    stamped = (stamp, (str(run.cwd), *settings, run.limit)) if stamp else None
    _PREPARED.put(str(path), key, prepared, stamped)
    return prepared


def _cache(config: Config, options: BuildOptions) -> ContentCache | None:
    if not options.use_cache:
        return None
    from assetbuild.cache.content import open_cache

    return open_cache(config.cache_dir, read_only=options.check_only)


def require_ok(result: BuildResult, consequence: str = "") -> BuildResult:
    """Raise SourceError (exit 1) carrying every diagnostic when any bundle has errors."""
    if not result.ok:
        message = summarize(result.diagnostics) + (f"; {consequence}" if consequence else "")
        raise SourceError(message, result.diagnostics)
    return result


def install(
    config: Config,
    options: BuildOptions,
    *,
    policy: str = "auto",
    dry_run: bool = False,
    compress: Sequence[str] | None = None,
    on_progress: Progress | None = None,
    on_wait: Callable[[], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> InstallOutcome:
    """Build, then install every bundle into its area's versions and write the manifest last.

    `on_progress` counts files while building, then (after `on_phase("compressing")`) the
    precompressed variants still to make.
    """
    from assetbuild.install.local import ManifestSettings, Output
    from assetbuild.install.local import install as install_outputs

    methods = tuple(config.compress if compress is None else compress)
    snapshot = None
    if options.use_cache and options.only is None:
        from assetbuild.cache import state

        # The no-change fast path: stamps only, no source read, no checker imported.
        snapshot = state.take_snapshot(config, state.settings_key(config, options, methods))
        saved = state.check(config, snapshot) if snapshot is not None and policy != "bump" else None
        outcome = state.up_to_date(config, saved, dry_run) if saved is not None else None
        if outcome is not None:
            return outcome  # type: ignore[no-any-return]
    result = require_ok(build(config, options, on_progress), "nothing was installed")
    cache = _cache(config, options)
    if methods and on_phase is not None:
        on_phase("compressing")
    variants = _variants([b.data for b in result.bundles], methods, cache, on_progress)
    outputs = [Output(b.output, b.data, v) for b, v in zip(result.bundles, variants, strict=True)]
    previous = _previous_sizes(config)
    report = install_outputs(
        config.root,
        outputs,
        policy=policy,  # type: ignore[arg-type]
        dry_run=dry_run,
        manifest=ManifestSettings(config.manifest_path, config.manifest_format, config.static_url),
        lock_timeout=config.lock_timeout,
        on_wait=on_wait,
    )
    if snapshot is not None and not dry_run:
        state.record(config, snapshot, result.bundles, outputs, report, result.diagnostics)
    return InstallOutcome(result, report, previous)


def _variants(
    datas: Sequence[bytes],
    methods: Sequence[str],
    cache: ContentCache | None = None,
    on_progress: Progress | None = None,
) -> list[tuple[tuple[str, bytes], ...]]:
    if not methods:
        return [() for _ in datas]
    if cache is not None:
        return cache.precompress_many(datas, methods, on_progress)
    from assetbuild.install.compress import precompress_many

    return precompress_many(datas, methods, on_progress=on_progress)


def _previous_sizes(config: Config) -> dict[str, int]:
    """Sizes of the bundles the manifest named before this run, for the summary's change column."""
    from assetbuild.manifest import ManifestError, read_manifest

    if config.manifest_format != "json":
        return {}
    try:
        data = read_manifest(config.manifest_path)
    except ManifestError:
        return {}
    return {name: entry["size"] for name, entry in data["bundles"].items()}


def export(result: BuildResult, out_dir: Path) -> tuple[Path, ...]:
    """Write built bundles to a plain directory (no versions), each file atomically."""
    from assetbuild.install.local import write_plain

    return write_plain(out_dir, [(b.output, b.data) for b in result.bundles])
