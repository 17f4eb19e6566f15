"""The whole run in one screen: collect, read, substitute, check, minify, join, install, manifest.

Every entry point takes the config and options of a run, or a `Session` that already holds them
(with what the run learned so far: the no-change check's collected sources are the build's).
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assetbuild import stamps
from assetbuild.accept.entries import partition
from assetbuild.build.bundle import join_bundle, output_dir_for
from assetbuild.build.executor import run_jobs
from assetbuild.build.results import (
    BuildOptions,
    BuildResult,
    Built,
    FileJob,
    FileResult,
    InstallOutcome,
    ManifestSettings,
    ModulesInput,
    Output,
    Policy,
)
from assetbuild.build.session import Memory, Prepared, PreparedJobs, Session
from assetbuild.cache.content import ContentCache
from assetbuild.config import BundleSpec, Config
from assetbuild.diagnostics import Diagnostic, summarize
from assetbuild.errors import ConfigError, SourceError
from assetbuild.manifest import BundleEntry
from assetbuild.stamps import Stamp, trusted_stamp

if TYPE_CHECKING:
    from assetbuild.cache.index import SourceIndex
    from assetbuild.sources import SourceFile

Progress = Callable[[int, int], None]


def build(
    config: Config | Session,
    options: BuildOptions | None = None,
    on_progress: Progress | None = None,
    *,
    reuse: Mapping[str, Built] | None = None,
) -> BuildResult:
    """Build every bundle in memory; source problems come back as diagnostics, never half-done output.

    Takes a run's config and options, or the `Session` that holds them. Bundles in `reuse` (proven
    unchanged by the last install's state) are taken as they are, their sources not read.
    """
    session = _session(config, options)
    config, options = session.config, session.options
    diags: list[Diagnostic] = []
    plans: list[tuple[BundleSpec, list[FileJob | FileResult], int] | Built] = []
    run = _RunSettings.of(config, options)
    memo = session.memory.prepared
    cache = session.cache()
    # One-shot runs only: watch keeps each source's job in its memory, trusted by stamp, already.
    index = _Index.of(config, cache) if not session.memory.long_lived else None
    for spec in session.wanted():
        kept = (reuse or {}).get(spec.output)
        if kept is not None:
            plans.append(kept)
            continue
        try:
            paths = session.sources(spec)
        except SourceError as exc:
            diags.extend(exc.diagnostics)
            continue
        items: list[FileJob | FileResult] = []
        raw_size = 0
        for position, path in enumerate(paths):
            known = index.result(path, _settings(position, spec, run)) if index else None
            if known is not None:  # its stamp and settings name a cached result: not read
                items.append(known[0])
                raw_size += known[1]
                continue
            try:
                job, size, token_diags = _prepare(path, position, spec, run, memo, index)
            except SourceError as exc:
                diags.extend(exc.diagnostics)
                continue
            items.append(job)
            raw_size += size
            diags.extend(token_diags)
        plans.append((spec, items, raw_size))

    if any(not isinstance(p, Built) and p[0].kind == "css" and p[1] for p in plans):
        diags.extend(_values_note())
    all_jobs = [
        j for p in plans if not isinstance(p, Built) for j in p[1] if isinstance(j, FileJob)
    ]
    computed = iter(run_jobs(all_jobs, cache=cache, on_progress=on_progress))
    if index is not None:
        index.record(all_jobs)
    built: list[Built] = []
    for plan in plans:
        if isinstance(plan, Built):
            diags.extend(plan.diagnostics)
            built.append(plan)
            continue
        spec, items, raw_size = plan
        mine: Sequence[FileResult] = [
            next(computed) if isinstance(item, FileJob) else item for item in items
        ]
        bundle = join_bundle(
            spec.output,
            spec.kind,
            mine,
            raw_size,
            sourcemap=config.sourcemap_for(spec, options.sourcemap),
            root=config.root,
            ignore=config.sourcemap_ignore,
            debug_id=config.sourcemap_debug_id if options.debug_id is None else options.debug_id,
        )
        diags.extend(bundle.diagnostics)
        built.append(bundle)
    if cache is not None:
        diags.extend(cache.diagnostics())
    if any(b.asset_sources for b in built):
        from assetbuild.install.assets import read_assets

        with_assets, asset_diags = read_assets(config.root, built)
        built = list(with_assets)
        diags.extend(asset_diags)
    trees = None
    if config.modules and options.modules:  # ES module trees (issue 15): every error reported
        from assetbuild.cache.modules import CachedModules
        from assetbuild.modules.build import build_trees

        trees = build_trees(
            config.root,
            config.modules,
            config.importmap,
            dict(run.values),
            strict_tokens=run.strict,
            minify=options.minify,
            check_only=options.check_only,
            memo=CachedModules(cache) if cache is not None else None,
            sourcemap=options.sourcemap or config.sourcemap,
            ignore=config.sourcemap_ignore,
            allow_outside=config.allow_symlinks_outside,
            bundle_outputs=[b.output for b in config.bundles],
        )
        diags.extend(trees.diagnostics)
    shown, accepted = partition(diags, config.accept, config.root)
    return BuildResult(tuple(built), shown, trees, accepted)


def _values_note() -> tuple[Diagnostic, ...]:
    """Once a run that reads stylesheets: their values are not checked without the engine."""
    from assetbuild.css import values

    if values.available():
        return ()
    message = (
        "CSS values are not checked against their properties' grammars: that check runs in the "
        "V8 engine (mini-racer), which is not installed here or is turned off (ASSETBUILD_ENGINE)"
    )
    return (Diagnostic("warning", message, code=values.UNCHECKED),)


def _session(config: Config | Session, options: BuildOptions | None) -> Session:
    if isinstance(config, Session):
        return config
    return Session(config, options if options is not None else BuildOptions())


def _cwd() -> Path | None:
    try:
        return Path(os.getcwd())
    except OSError:
        return None  # display_path shows absolute paths then


@dataclass(frozen=True)
class _RunSettings:
    """What every file of one build shares, computed once."""

    config: Config
    options: BuildOptions
    values: tuple[tuple[str, str | None], ...]  # declared tokens, sorted
    strict: bool
    cwd: Path | None  # None when the working directory is gone
    limits: tuple[int, int]  # the largest sources read (CSS, JavaScript), in bytes

    @classmethod
    def of(cls, config: Config, options: BuildOptions) -> _RunSettings:
        from assetbuild.sources import source_limits

        return cls(
            config,
            options,
            tuple(sorted(config.tokens, key=lambda item: item[0])),
            options.strict_tokens or config.strict_tokens,
            _cwd(),
            source_limits(),
        )


def _settings(index: int, spec: BundleSpec, run: _RunSettings) -> tuple[object, ...]:
    """Everything but its text that a source's job depends on (its place, the bundle, the run)."""
    options = run.options
    return (
        spec.kind, spec.tokens, run.values, run.strict, options.check_only,
        spec.minify and options.minify, index == 0,
        str(output_dir_for(run.config.root, spec.output)), str(run.config.root),
        run.config.sourcemap_for(spec, options.sourcemap) != "none", options.strict,
    )  # fmt: skip


class _Index:
    """The run's source index (`cache.index`): cached results found by stamp, and what to record."""

    def __init__(
        self, index: SourceIndex, cache: ContentCache, run_key: tuple[object, ...]
    ) -> None:
        self.index = index
        self.cache = cache
        self.run_key = run_key  # the working directory (display paths) and the read limits
        self.digests: dict[tuple[object, ...], str] = {}
        self.read: dict[FileJob, tuple[Stamp, str, int]] = {}  # stamp, settings, bytes

    @classmethod
    def of(cls, config: Config, cache: ContentCache | None) -> _Index | None:
        if cache is None:
            return None
        from assetbuild.cache.index import SourceIndex, site_name
        from assetbuild.sources import source_limits

        index = SourceIndex(cache.directory, site_name(config.root, config.config_path), cache.key)
        return cls(index, cache, (str(_cwd()), source_limits()))

    def digest(self, settings: tuple[object, ...]) -> str:
        found = self.digests.get(settings)
        if found is None:
            from assetbuild.cache.index import settings_digest

            found = self.digests[settings] = settings_digest([*settings, *self.run_key])
        return found

    def result(self, path: Path, settings: tuple[object, ...]) -> tuple[FileResult, int] | None:
        """The cached result of a source its stamp and settings name, and its size; else None."""
        entry = self.index.get(str(path), stamps.stamp(path), self.digest(settings))
        if entry is None:
            return None
        hit = self.cache.get_result(entry[0])
        return None if hit is None else (hit, entry[1])

    def seen(
        self, path: Path, before: Stamp | None, settings: tuple[object, ...], prepared: Prepared
    ) -> None:
        """A job read from a source under the trusted stamp `before`, still its stamp now: its
        entry is recorded after the build, unless reading it gave token diagnostics."""
        if before is not None and not prepared[2] and stamps.stamp(path) == before:
            self.read[prepared[0]] = (before, self.digest(settings), prepared[1])

    def record(self, jobs: Sequence[FileJob]) -> None:
        """Each job read under a trusted stamp, by its key, unless its job depends on more than
        the file's text (a source map file it names)."""
        from assetbuild.cache.content import job_key

        for job in jobs:
            seen = self.read.get(job)
            if seen is not None and job.input_map is None and not _names_map(job):
                self.index.add(job.path, seen[0], seen[1], job_key(job), seen[2])
        if self.cache.writable:
            self.index.save()


def _names_map(job: FileJob) -> bool:
    """Whether a source names a map file (`sourceMappingURL`): its job holds that file's text."""
    return job.sourcemap and "sourceMappingURL" in job.original


def _prepare(
    path: Path,
    index: int,
    spec: BundleSpec,
    run: _RunSettings,
    memo: PreparedJobs,
    sources: _Index | None = None,
) -> Prepared:
    """One source read and substituted into a job, with its size and token diagnostics.

    In a long-lived process (watch) a file whose stamp is unchanged is not read again, and a file
    whose text is unchanged is not substituted again. With `sources`, a file read under a trusted
    stamp is noted for the source index.
    """
    from assetbuild.sources import display_path, read_source
    from assetbuild.tokens import substitute

    options, root = run.options, str(run.config.root)
    settings = _settings(index, spec, run)
    minify, output_dir, mapped = bool(settings[5]), str(settings[7]), bool(settings[9])
    stamp = trusted_stamp(path)
    remembered = memo.unchanged(str(path), stamp, (str(run.cwd), *settings, run.limits))
    if remembered is not None:  # not read again: its stamp proves the text is the same
        if sources is not None:
            sources.seen(path, stamp, settings, remembered)
        return remembered
    src = read_source(path, display_path(path, run.cwd))
    key = (src.original, src.display, *settings)
    prepared = memo.get(str(path), key)
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
            sourcemap=mapped,
            input_map=_input_map(src) if mapped else None,
            strict=options.strict and spec.kind == "css",
        )
        prepared = (job, size, token_diags)
    stamped = (stamp, (str(run.cwd), *settings, run.limits)) if stamp else None
    memo.put(str(path), key, prepared, stamped)
    if sources is not None:
        sources.seen(path, stamp, settings, prepared)
    return prepared


def _input_map(src: SourceFile) -> str | None:
    """The map file a source's own `sourceMappingURL` names, read here so that the job (and its
    cache key) holds it: an edited map is a new job. None when there is none, or it cannot be read
    (then the map is read once more where it is used, and the reason becomes a warning)."""
    from assetbuild.maps.compose import InputMapProblem, find_url, read_map_file

    url = find_url(src.original)
    if url is None or url.startswith("data:"):
        return None
    try:
        return read_map_file(url, src.path.parent)[0]
    except InputMapProblem:
        return None


def require_ok(result: BuildResult, consequence: str = "") -> BuildResult:
    """Raise SourceError (exit 1) carrying every diagnostic when any bundle has errors."""
    if not result.ok:
        message = summarize(result.diagnostics) + (f"; {consequence}" if consequence else "")
        raise SourceError(message, result.diagnostics)
    return result


def install(
    config: Config | Session,
    options: BuildOptions | None = None,
    *,
    policy: Policy = "auto",
    dry_run: bool = False,
    compress: Sequence[str] | None = None,
    on_progress: Progress | None = None,
    on_wait: Callable[[], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
    gzip_sizes: bool = True,
) -> InstallOutcome:
    """Build, then install every bundle into its area's versions and write the manifest last.

    `on_progress` counts files while building, then (after `on_phase("compressing")`) the
    precompressed variants still to make. `gzip_sizes`: measure each new bundle's gzip size while it
    is installed (the summary shows it); without, it is measured only if asked for later (a quiet
    install: ~0.1 s a megabyte saved), and the state records it unknown.
    """
    from assetbuild.install.local import install as install_outputs

    session = _session(config, options)
    config, options = session.config, session.options
    session.read_only = session.read_only or dry_run  # a dry run writes nothing, not even the cache
    methods = tuple(config.compress if compress is None else compress)
    remote = config.target is not None  # the bucket decides, never the local state
    if (
        not remote
        and options.use_cache
        and options.only is None
        and (not session.checked or policy == "bump")
    ):
        outcome = session.prove_up_to_date(methods, policy=policy, dry_run=dry_run)
        if outcome is not None:
            return outcome
    snapshot = (
        session.snapshot if options.use_cache and options.only is None and not remote else None
    )
    reuse: dict[str, Built] = {}
    if snapshot is not None:
        from assetbuild.cache import state

        if not any(config.sourcemap_for(s, options.sourcemap) != "none" for s in config.bundles):
            reuse = state.reusable(config, snapshot)  # bundles none of whose inputs changed
    result = require_ok(
        build(session, on_progress=on_progress, reuse=reuse), "nothing was installed"
    )
    # The state records each bundle's gzip size: measured meanwhile (watch and dry runs never ask).
    measuring = gzip_sizes and snapshot is not None and not dry_run and not remote
    measured = _measure_gzip(result.bundles if measuring else ())
    if methods and on_phase is not None:
        on_phase("compressing")
    files = [(b.output, b.data, b.assets, "") for b in result.bundles]
    files += [(b.output + ".map", b.map_data, (), "") for b in result.bundles if b.map_data]
    files += module_files(result)
    variants = _variants([f[1] for f in files], methods, session.cache(), on_progress)
    outputs = [
        Output(name, data, v, assets, tree)
        for (name, data, assets, tree), v in zip(files, variants, strict=True)
    ]
    modules = (
        ModulesInput(result.modules.trees, config.importmap)
        if result.modules is not None and result.modules.trees
        else None
    )
    # Versioned outputs never meet a source (collect refuses sources in version directories);
    # the manifest can: `manifest = "js/app.js"` overwrote that source, or a glob read it back.
    check_outputs_apart(config, [("the manifest", config.manifest_path)], session)
    settings = ManifestSettings(config.manifest_path, config.manifest_format, config.static_url)
    if config.target is not None:
        from assetbuild.remote.connect import open_target
        from assetbuild.remote.publish import remote_install

        if on_phase is not None:
            on_phase("uploading")
        target = open_target(config.target, manifest_format=config.manifest_format)
        report = remote_install(
            target,
            outputs,
            manifest=settings,
            cache_control=config.manifest_cache_control,
            policy=policy,
            dry_run=dry_run,
            on_progress=on_progress,
            modules=modules,
        ).report(settings, dry_run)
        previous = {name: entry["size"] for name, entry in report.previous.items()}
        return InstallOutcome(
            result, report, previous, _variant_sizes(config, report.entries, dry_run, outputs)
        )
    report = install_outputs(
        config.root,
        outputs,
        policy=policy,
        dry_run=dry_run,
        manifest=settings,
        lock_timeout=config.lock_timeout,
        on_wait=on_wait,
        disk_entries=session.memory.disk_entries,
        configured=frozenset(spec.output for spec in config.bundles),
        modules=modules,
        keep_modules=not options.modules,
    )
    if measuring:
        result = dataclasses.replace(result, bundles=measured())
    if snapshot is not None and not dry_run:
        from assetbuild.cache import state

        # What the build read of each young source: its stamp proves nothing, its content will.
        texts = dict(result.modules.originals) if result.modules is not None else {}
        read = {
            p: texts[p] if p in texts else session.memory.prepared.original(p)
            for p in snapshot.young
        }
        # The accepted warnings too: the no-change answer counts them again (and shows them
        # once the config accepts them no more).
        warnings = [
            d for d in (*result.diagnostics, *result.accepted) if d.code != "css-value-unchecked"
        ]
        state.record(config, snapshot, result.bundles, outputs, report, warnings, read=read)
    previous = {name: entry["size"] for name, entry in report.previous.items()}
    sizes = _variant_sizes(config, report.entries, dry_run, outputs)
    return InstallOutcome(result, report, previous, sizes)


def _measure_gzip(bundles: Sequence[Built]) -> Callable[[], tuple[Built, ...]]:
    """Start measuring, on a thread, the gzip size of each bundle not measured yet (the summary and
    the state give it); the returned function waits and gives the bundles with their sizes known.

    zlib lets go of the GIL while it compresses, so the ~0.1 s per megabyte of level 9 overlaps
    with writing the version instead of adding to an edit's install.
    """
    todo = [b for b in bundles if b.known_gzip_size is None and b.data]
    if not todo:
        return lambda: tuple(bundles)
    sizes: dict[str, int] = {}

    def measure() -> None:
        for b in todo:
            sizes[b.output] = b.gzip_size

    worker = threading.Thread(target=measure, name="assetbuild-gzip-size", daemon=True)
    worker.start()

    def finish() -> tuple[Built, ...]:
        worker.join()
        return tuple(
            dataclasses.replace(b, known_gzip_size=sizes[b.output]) if b.output in sizes else b
            for b in bundles
        )

    return finish


def module_files(result: BuildResult) -> list[tuple[str, bytes, tuple[()], str]]:
    """Every module of every tree as an install's file: (name, bytes, no assets, its tree), and
    each module's map beside it."""
    if result.modules is None:
        return []
    files = []
    for tree in result.modules.trees:
        for m in tree.modules:
            name = tree.spec.key(m.name)
            files.append((name, m.text.encode("utf-8"), (), tree.spec.output))
            if m.map_data:
                files.append((name + ".map", m.map_data, (), tree.spec.output))
    return files


def _variant_sizes(
    config: Config, entries: dict[str, BundleEntry], dry_run: bool, outputs: Sequence[Output]
) -> dict[str, dict[str, int]]:
    """Sizes of the precompressed files the manifest lists (what browsers really download).

    A dry run (or a PHP manifest) gives the sizes of the variants it made, so its table has
    the same columns as a real run's.
    """
    if dry_run or config.manifest_format != "json":
        return {o.name: {s.lstrip("."): len(data) for s, data in o.variants} for o in outputs}
    return {
        name: {suffix: variant["size"] for suffix, variant in entry.get("variants", {}).items()}
        for name, entry in entries.items()
    }


def _variants(
    datas: Sequence[bytes],
    methods: Sequence[str],
    cache: ContentCache | None = None,
    on_progress: Progress | None = None,
) -> list[tuple[tuple[str, bytes], ...]]:
    from assetbuild.install.compress import cached_precompress_many, precompress_many

    if not methods:
        return [() for _ in datas]
    if cache is not None:
        return cached_precompress_many(cache, datas, methods, on_progress)
    return precompress_many(datas, methods, on_progress=on_progress)


def export(result: BuildResult, out_dir: Path, config: Config | None = None) -> tuple[Path, ...]:
    """Write built bundles to a plain directory (no versions), each file atomically.

    With `config`, first refuse (ConfigError, nothing written) an output that is a source or that
    a source entry names: `--out` onto the sources overwrote them, and `--out static` with
    `js/**/*.js` made the bundle include its last output, growing on every run.
    """
    from assetbuild.install.export import write_plain

    if config is not None:
        targets = [(f'output "{b.output}"', out_dir / b.output) for b in result.bundles]
        targets += [(f'module "{n}"', out_dir / n) for n, _, _, _ in module_files(result)]
        check_outputs_apart(config, targets)
    assets = [
        (posixpath.join(posixpath.dirname(b.output), place), data)
        for b in result.bundles
        for place, data in b.assets
    ]
    files = [(b.output, b.data) for b in result.bundles]
    files += [(name, data) for name, data, _, _ in module_files(result)]
    for b in result.bundles:
        if b.sourcemap is not None:  # its sources relative to where this map is written
            files.append(
                (
                    b.output + ".map",
                    b.sourcemap.render(Path(os.path.abspath(out_dir / b.output)).parent),
                )
            )
    return write_plain(out_dir, files, assets)


def check_outputs_apart(
    config: Config, targets: Sequence[tuple[str, Path]], session: Session | None = None
) -> None:
    """ConfigError when writing any `(what, path)` would overwrite a source or feed one back."""
    from assetbuild.sources import output_conflicts

    problems = output_conflicts(
        config.root,
        config.bundles,
        targets,
        allow_outside=config.allow_symlinks_outside,
        collected=session.sources if session is not None else None,
    )
    if problems:
        diagnostics = [Diagnostic("error", p) for p in problems]
        text = problems[0] if len(problems) == 1 else f"{len(problems)} writes would meet sources"
        raise ConfigError(text, diagnostics)


__all__ = ["Memory", "Session", "build", "export", "install", "require_ok"]
