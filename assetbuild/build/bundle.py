"""One source file through check and minify, and one bundle joined from its files.

Everything here is pure: values in, values out, nothing written. `process_file`
is the unit of work that the content cache stores and the process pool runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from assetbuild.build.results import Built, FileJob, FileResult
from assetbuild.diagnostics import Diagnostic, Location

# Bumped whenever a change to the code below can change a file's result, so
# that cached results of older versions are never trusted.
RESULT_FORMAT = 3


def process_file(job: FileJob) -> FileResult:
    """Check one file and minify it when asked; runs in worker processes too."""
    from assetbuild.sources import Edit, SourceFile

    src = SourceFile(
        Path(job.path), job.display, job.original, job.text, tuple(Edit(*e) for e in job.edits)
    )
    if job.kind == "js":
        return _process_js(src, job)
    return _process_css(src, job)


def _process_js(src: Any, job: FileJob) -> FileResult:
    from assetbuild.js.check import check_js

    report = check_js(src, first=job.first)
    diags = tuple(report.diagnostics)
    if not report.ok:
        return FileResult(job.display, report.text, report.text, "off", diags, report)
    text, method = report.text, "off"
    if job.minify:
        from assetbuild.js.minify import minify_js

        minified = minify_js(report.text)
        text, method = minified.text, minified.method
        diags += _fallback_warning(src, "JavaScript", "rjsmin", method)
    return FileResult(job.display, text, report.text, method, diags, report)


def _process_css(src: Any, job: FileJob) -> FileResult:
    from assetbuild.css.check import check_css, without_charsets

    report = check_css(src, strict=job.strict)
    diags = tuple(report.diagnostics)
    if not report.ok:
        return FileResult(job.display, report.text, report.text, "off", diags, report)
    if job.output_dir:
        from assetbuild.css.urls import rewrite_source

        rewritten, url_diags = rewrite_source(
            src, Path(job.path).parent, Path(job.output_dir), Path(job.root)
        )
        diags += tuple(url_diags)
        if rewritten.text != src.text:
            # Offsets moved: re-read the at-rules from the text that will ship; the
            # rewritten file's edits still map them to the original lines and columns.
            report = check_css(rewritten, rules=False)
    body = without_charsets(report)
    if not job.minify:
        return FileResult(job.display, body, body, "off", diags, report)
    from assetbuild.css.minify import minify_css

    minified = minify_css(body)
    diags += _fallback_warning(src, "CSS", "rcssmin", minified.method)
    return FileResult(job.display, minified.text, body, minified.method, diags, report)


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
        ),
    )


def join_bundle(
    output: str,
    kind: str,
    results: Sequence[FileResult],
    raw_size: int,
) -> Built:
    """Join checked files into one bundle, with the checks that only the whole bundle can make."""
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
    return Built(output, kind, sources, raw_size, text.encode("utf-8"), methods, tuple(diags))


def output_dir_for(root: Path, output: str) -> Path:
    """A stand-in version directory with the installed bundle's depth, for url() rewriting."""
    area = PurePosixPath(output).parent
    return root.joinpath(*area.parts, "1")
