"""One source file through check and minify, and one bundle joined from its files.

Everything here is pure: values in, values out, nothing written. `process_file`
is the unit of work that the content cache stores and the process pool runs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from assetbuild.build.results import Built, FileJob, FileResult
from assetbuild.diagnostics import Diagnostic, Location

if TYPE_CHECKING:
    from assetbuild.minified import Minified

# Bumped whenever a change to the code below can change a file's result, so
# that cached results of older versions are never trusted.
RESULT_FORMAT = 5


def process_file(job: FileJob) -> FileResult:
    """Check one file and minify it when asked; runs in worker processes too."""
    src = _source(job)
    if job.kind == "js":
        from assetbuild.js.check import check_scripts

        report = check_scripts([(src, job.first)], mapped=[job.sourcemap])[0]
        minified = None
        if report.ok and job.minify:
            from assetbuild.js.minify import minify_js

            minified = minify_js(report.text)
        made = _engine_maps([job], [src], [report], [minified])
        return _js_result(job, src, report, minified, made[0])
    return _process_css(src, job)


def process_files(jobs: Sequence[FileJob]) -> list[FileResult]:
    """`process_file` of each job, the same values; the scripts a batch at a time.

    With the fast engine, one call into it checks every script, rjsmin runs on each, and one more
    call verifies them all: two calls for the batch, where each file took two (a call hops through
    mini-racer's event-loop thread, ~0.4 ms, and parses no faster for coming alone).
    """
    from assetbuild.js.check import check_scripts
    from assetbuild.js.minify import minify_scripts

    scripts = [i for i, job in enumerate(jobs) if job.kind == "js"]
    sources = {i: _source(jobs[i]) for i in scripts}
    # A tree is worth holding for the comparison only when the text minified is the one checked.
    keep = [
        jobs[i].minify and not (sources[i].text.startswith("#!") and not jobs[i].first)
        for i in scripts
    ]
    # The check's tokens of a file whose map is made next: the map needs no tokenizing of its own.
    mapped = [jobs[i].sourcemap for i in scripts]
    reports = dict(
        zip(
            scripts,
            check_scripts([(sources[i], jobs[i].first) for i in scripts], keep, mapped),
            strict=True,
        )
    )
    wanted = [i for i in scripts if reports[i].ok and jobs[i].minify]
    minified = dict(zip(wanted, minify_scripts([reports[i].text for i in wanted]), strict=True))
    made = dict(
        zip(
            scripts,
            _engine_maps(
                [jobs[i] for i in scripts],
                [sources[i] for i in scripts],
                [reports[i] for i in scripts],
                [minified.get(i) for i in scripts],
            ),
            strict=True,
        )
    )
    return [
        _js_result(job, sources[i], reports[i], minified.get(i), made[i])
        if i in reports
        else process_file(job)
        for i, job in enumerate(jobs)
    ]


def _engine_maps(
    jobs: Sequence[FileJob],
    sources: Sequence[Any],
    reports: Sequence[Any],
    minified: Sequence[Minified | None],
) -> list[Any]:
    """The scripts' maps the engine makes, one call for them all (None: the Python path's)."""
    wanted = [i for i, job in enumerate(jobs) if job.sourcemap and reports[i].ok]
    made: list[Any] = [None] * len(jobs)
    if not wanted:
        return made
    from assetbuild.maps.scripts import script_maps

    items = []
    for i in wanted:
        src, report = sources[i], reports[i]
        text, _ = _js_text(report, minified[i])
        items.append((src, report.text, text, len(src.text) - len(report.text)))
    for i, fmap in zip(wanted, script_maps(items), strict=True):
        made[i] = fmap
    return made


def _source(job: FileJob) -> Any:
    from assetbuild.sources import Edit, SourceFile

    return SourceFile(
        Path(job.path), job.display, job.original, job.text, tuple(Edit(*e) for e in job.edits)
    )


def _js_text(report: Any, minified: Minified | None) -> tuple[str, str]:
    """The text a checked script ships and how it was minified."""
    if minified is None:
        text, method = report.text, "off"
    else:
        text, method = minified.text, minified.method
    if report.ok and method in ("off", "none"):
        text = _without_map_comment(text)
    return text, method


def _js_result(
    job: FileJob, src: Any, report: Any, minified: Minified | None, made: Any = None
) -> FileResult:
    """A checked script's result: minified when `minified` is given (only for a file that passed);
    `made`: its map when the engine made it."""
    diags = tuple(report.diagnostics)
    text, method = _js_text(report, minified)
    if minified is not None:
        diags += _fallback_warning(src, "JavaScript", "rjsmin", method)
    if not report.ok:
        return FileResult(job.display, text, report.text, method, diags, report)
    fmap = made
    if job.sourcemap and fmap is None:
        shift = len(src.text) - len(report.text)  # a hashbang line's text was dropped
        fmap, map_diags = _file_map("js", src, report.text, text, shift, job.input_map)
        diags += map_diags
    return FileResult(job.display, text, report.text, method, diags, report, sourcemap=fmap)


def _process_css(src: Any, job: FileJob) -> FileResult:
    from assetbuild.css.check import check_css, without_charsets

    report = check_css(src, strict=job.strict)
    diags = tuple(report.diagnostics)
    if not report.ok:
        return FileResult(job.display, report.text, report.text, "off", diags, report)
    assets: tuple[tuple[str, str], ...] = ()
    if job.output_dir:
        from assetbuild.css.urls import rewrite_with_assets

        rewritten, url_diags, assets = rewrite_with_assets(
            src, Path(job.path).parent, Path(job.output_dir), Path(job.root)
        )
        diags += tuple(url_diags)
        if rewritten.text != src.text:
            # Offsets moved: re-read the at-rules from the text that will ship; the
            # rewritten file's edits still map them to the original lines and columns.
            report = check_css(rewritten, rules=False)
        src = rewritten
    body = without_charsets(report)
    text, method = body, "off"
    if job.minify:
        from assetbuild.css.minify import minify_css

        minified = minify_css(body)
        text, method = minified.text, minified.method
        diags += _fallback_warning(src, "CSS", "rcssmin", minified.method)
    if method in ("off", "none"):
        text = _without_map_comment(text)
    fmap = None
    if job.sourcemap:
        from assetbuild.maps.styles import style_map

        fmap = style_map(src, report.text, text)  # None: the Python path's, which says why
        if fmap is None:
            fmap, map_diags = _file_map("css", src, report.text, text, 0, job.input_map)
            diags += map_diags
    return FileResult(job.display, text, body, method, diags, report, assets, fmap)


def _without_map_comment(text: str) -> str:
    """An input's `sourceMappingURL` comment names its own map, not the bundle's: removed."""
    if "sourceMappingURL" not in text[-4096:]:
        return text
    from assetbuild.maps.compose import strip_url_comment

    return strip_url_comment(text)


def _file_map(
    kind: str, src: Any, input_text: str, output: str, shift: int, input_map: str | None
) -> tuple[Any, tuple[Diagnostic, ...]]:
    """The file's map and warnings: an unusable input map maps the file to itself; a map that
    cannot be made means none for the bundle (never a wrong one)."""
    from assetbuild.maps.align import NoMap
    from assetbuild.maps.compose import InputMapProblem, mapped_file
    from assetbuild.maps.verify import MapProblem

    diags: tuple[Diagnostic, ...] = ()
    try:
        try:
            return mapped_file(kind, src, input_text, output, shift, input_map), diags
        except InputMapProblem as exc:
            diags = (
                Diagnostic(
                    "warning",
                    f"{exc}; mapped to this file itself",
                    Location(src.display),
                    code="input-map",
                ),
            )
            return mapped_file(kind, src, input_text, output, shift, None, compose=False), diags
    except (NoMap, MapProblem) as exc:
        warning = Diagnostic(
            "warning",
            f"no source map for this file's bundle: {exc} (this is a limit of assetbuild)",
            Location(src.display),
            code="no-sourcemap",
        )
        return None, (*diags, warning)


def _fallback_warning(src: Any, language: str, fast: str, method: str) -> tuple[Diagnostic, ...]:
    # The safe minifier's output is verified like the fast one's: a correct result, so no
    # warning (it would repeat on every build of most modern code); --json lists the method.
    if method != "none":
        return ()
    return (
        Diagnostic(
            "warning",
            f"{fast} would change this {language} file's meaning and the safe minifier "
            "could not be verified; shipped unminified",
            Location(src.display),
            code="unminified",
        ),
    )


def join_bundle(
    output: str,
    kind: str,
    results: Sequence[FileResult],
    raw_size: int,
    *,
    sourcemap: str = "none",
    root: Path | None = None,
    ignore: Sequence[str] = (),
    debug_id: bool = False,
) -> Built:
    """Join checked files into one bundle, with the checks that only the whole bundle can make.

    With `sourcemap` "linked" or "hidden" (and `root`, where the bundle is installed), the bundle
    gets its proven map, or a warning and none.
    """
    diags: list[Diagnostic] = [d for r in results for d in r.diagnostics]
    methods = tuple(r.method for r in results)
    sources = tuple(r.display for r in results)
    if not all(r.ok for r in results):
        return Built(output, kind, sources, raw_size, b"", methods, tuple(diags))
    if kind == "js":
        from assetbuild.js.check import check_bundle, join_js

        diags.extend(check_bundle([r.facts for r in results]))
        text = join_js([r.text for r in results])
    else:
        from assetbuild.css.check import join_css

        text, join_diags = join_css([r.facts for r in results], [r.text for r in results])
        diags.extend(join_diags)
    wanted = tuple(sorted({place: path for r in results for place, path in r.assets}.items()))
    data_bytes = text.encode("utf-8")
    made, data = None, b""
    if sourcemap != "none" and root is not None:
        from assetbuild.maps.build import mapped_bundle

        text, made, data, map_diags = mapped_bundle(
            output,
            kind,
            text,
            results,
            sourcemap,
            output_dir_for(root, output),
            root,
            ignore,
            debug_id=debug_id,
        )
        diags.extend(map_diags)
        data_bytes = text.encode("utf-8")
    return Built(
        output,
        kind,
        sources,
        raw_size,
        data_bytes,
        methods,
        tuple(diags),
        asset_sources=wanted,
        sourcemap=made,
        map_data=data,
    )


@functools.lru_cache(maxsize=1024)  # asked once per source of every build: the same few answers
def output_dir_for(root: Path, output: str) -> Path:
    """A stand-in version directory with the installed bundle's depth, for url() rewriting."""
    area = PurePosixPath(output).parent
    return root.joinpath(*area.parts, "1")
