"""Run per-file jobs: from the content cache, in a process pool, or serially.

Whichever way a result is computed, it is the same value: `process_file` is pure, and the pool only
changes where it runs. The pool is used only when there is enough uncached work to repay starting it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bundle import FileJob, FileResult, process_file

if TYPE_CHECKING:
    from concurrent.futures import Future

Progress = Callable[[int, int], None]

# Measured on 2 busy cores: the first pool of a process costs ~0.3-0.5 s (the forkserver starts and
# preloads the checkers; later pools ~0.1 s), and checking plus verified minifying runs at ~0.3-0.5 MB/s
# of JavaScript per core. At 350 KB the pool was still slower than serial; from ~1 MB it breaks even
# or wins, more so on an idle machine. The number of files does not matter (per-file overhead in the
# serial path is negligible).
POOL_MIN_FILES = 2
POOL_MIN_BYTES = 1024 * 1024
POOL_MIN_BYTES_FAST = 6 * 1024 * 1024
ENV_JOBS = "ASSETBUILD_JOBS"  # "1" forces the serial path; N caps the workers


def run_jobs(
    jobs: Sequence[FileJob],
    *,
    cache_dir: Path | None = None,
    on_progress: Progress | None = None,
    read_only: bool = False,
) -> list[FileResult]:
    """Results for `jobs`, in order; identical whichever way they were computed.

    With `cache_dir`, results come from and go to the content cache (only from it when `read_only`).
    """
    total = len(jobs)
    results: list[FileResult | None] = [None] * total
    done = 0

    def finished(index: int, result: FileResult) -> None:
        nonlocal done
        results[index] = result
        done += 1
        if on_progress:
            on_progress(done, total)

    cache = None
    keys: list[str] = []
    if cache_dir is not None and jobs:
        from .cache import job_key, open_cache

        cache = open_cache(cache_dir, read_only=read_only)
        keys = [job_key(job) for job in jobs]
    todo: list[int] = []
    for i in range(total):
        hit = cache.get_result(keys[i]) if cache is not None else None
        if hit is not None:
            finished(i, hit)
        else:
            todo.append(i)

    def computed(index: int, result: FileResult) -> None:
        if cache is not None:
            cache.put_result(keys[index], result)
        finished(index, result)

    workers = pool_size([jobs[i] for i in todo])
    if workers > 1:
        todo = _run_pool(jobs, todo, workers, computed)
    for i in todo:
        computed(i, process_file(jobs[i]))
    if cache is not None and cache.wrote:
        cache.trim()
    return [r for r in results if r is not None]


def pool_size(pending: Sequence[FileJob]) -> int:
    """How many worker processes to use for these uncached jobs; 1 means none."""
    cpus = _cpu_count()
    limit = os.environ.get(ENV_JOBS, "").strip()
    if limit.isdigit() and int(limit) > 0:
        cpus = min(cpus, int(limit))
    work = sum(len(job.text) for job in pending)
    if cpus < 2 or len(pending) < 2:
        return 1
    if len(pending) < POOL_MIN_FILES or work < _min_bytes():
        return 1
    return min(cpus, len(pending))


def _min_bytes() -> int:
    """With the fast engine (~3 MB/s per core, 0.2 s to start in each worker) a pool pays off later."""
    from .jscheck import engine_name

    return POOL_MIN_BYTES_FAST if engine_name() == "v8" else POOL_MIN_BYTES


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _run_pool(
    jobs: Sequence[FileJob],
    todo: list[int],
    workers: int,
    computed: Callable[[int, FileResult], None],
) -> list[int]:
    """Run `todo` on a process pool, biggest first; return the indexes left for the serial path."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    order = sorted(todo, key=lambda i: len(jobs[i].text), reverse=True)
    left = set(todo)
    try:
        pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_worker_init)
    except (OSError, ValueError, ImportError):
        return todo  # no processes to be had here: serial it is
    futures: dict[Future[FileResult], int] = {}
    try:
        for i in order:
            futures[pool.submit(process_file, jobs[i])] = i
        pending: set[Future[FileResult]] = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                i = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    raise
                except Exception:
                    continue  # rerun here, so a genuine bug raises with its real traceback
                left.discard(i)
                computed(i, result)
    except BrokenProcessPool:
        pass  # a worker died (killed, out of memory): finish the rest serially
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [i for i in todo if i in left]


def _context() -> Any:
    """A start method that is safe with threads (watch mode runs an observer thread)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that imported the checkers once, so none pays the import.
        ctx.set_forkserver_preload(
            [
                "assetbuild.bundle",
                "assetbuild.jscheck",
                "assetbuild.csscheck",
                "assetbuild.jsminify",
                "assetbuild.cssminify",
                "esprima",
            ]
        )
        return ctx
    return multiprocessing.get_context("spawn")


def _worker_init() -> None:
    """Workers leave Ctrl-C to the parent, which shuts the pool down."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform != "win32":
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
