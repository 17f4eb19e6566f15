"""Run per-file jobs: from the content cache, in parallel (threads or a process pool), or serially.

Whichever way a result is computed, it is the same value: `process_file` is pure, `process_files`
gives its values a batch of scripts at a time (see `units`), and parallelism only changes where they
run. It is used only when there is enough uncached work to repay starting it, and this thread works
alongside its helper threads or worker processes.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from assetbuild.build.bundle import process_files
from assetbuild.build.results import FileJob, FileResult
from assetbuild.cache.content import job_key
from assetbuild.fsutil import available_memory, cpu_count

if TYPE_CHECKING:
    from concurrent.futures import Future

    from assetbuild.cache.content import ContentCache

Progress = Callable[[int, int], None]

# Measured on 2 busy cores (others' load 1.5-2.7; bench/js_path.py --pool-mb 0.25,0.5,1,3, serial
# vs parallel, best of 3). Processes: the first pool of a process costs ~0.2 s before a worker runs
# (the fork server starts and preloads the checkers; this process works meanwhile) and ~0.7 s of CPU
# in all (imports, V8 and its cold JIT in the worker, pickling): 0.25 MB 0.59/0.57 s, 0.65 MB
# 1.06/1.00 s, 1 MB 1.22/1.06 s, 2.2 MB 2.02/1.56 s; and ~0.4 MB/s per core without the engine
# (esprima, CSS): from ~1 MB a pool wins. Threads (JavaScript with the engine) cost ~0.1 s and
# 0.1-0.4 s of CPU (a second isolate's cold JIT): 0.25 MB 0.58/0.71 s, 0.65 MB 0.85/0.68 s, 1 MB
# 1.29/0.97 s: from ~0.5 MB (measured with `threads` helper threads, before this thread took scripts
# too). The number of files does not matter (per-file overhead is negligible).
# Script batches (see `units`). A batch holds its scripts' trees in the engine between its two calls
# (~14 bytes of V8 heap a character) and its files' license comments in js.check's memo (4,096 texts).
BATCH_CHARS = 256 * 1024
BATCH_MIN_CHARS = 32 * 1024
BATCH_FILES = 256
POOL_MIN_FILES = 2
POOL_MIN_BYTES = 1024 * 1024
POOL_MIN_BYTES_FAST = 512 * 1024  # when threads with the engine check the JavaScript
# What a worker holds at its peak (4x corpus: Python ~40 MB, V8 ~65 MB, acorn trees and compile
# zones for its biggest file ~100 bytes a character): never start more workers than free memory holds.
WORKER_BYTES = 150 * 1024 * 1024
WORKER_BYTES_PER_CHAR = 100
ENV_JOBS = "ASSETBUILD_JOBS"  # "1" forces the serial path; N caps the processes or threads


def run_jobs(
    jobs: Sequence[FileJob],
    *,
    cache: ContentCache | None = None,
    on_progress: Progress | None = None,
) -> list[FileResult]:
    """Results for `jobs`, in order; identical whichever way they were computed.

    With `cache`, results come from and go to the content cache (a read-only one only serves hits).
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

    keys = [job_key(job) for job in jobs] if cache is not None else []
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

    pending = [jobs[i] for i in todo]
    processes = pool_size(pending)
    with cache.writing() if cache is not None else contextlib.nullcontext():
        if processes > 1 and _threads_pay(pending):
            todo = _run_threads(jobs, todo, processes, computed)
        elif processes > 1:
            todo = _run_pool(jobs, todo, processes, computed)
        for unit in units(jobs, todo, processes):
            for i, result in zip(unit, _run_unit(jobs, unit), strict=True):
                computed(i, result)
    if cache is not None and cache.wrote:
        cache.trim()
    return [r for r in results if r is not None]


def units(jobs: Sequence[FileJob], todo: Sequence[int], workers: int = 1) -> list[tuple[int, ...]]:
    """The indexes `todo` as units of work, the biggest first: one job, or a batch of scripts.

    With the fast engine, scripts go in batches (`process_files`: two calls into the engine a batch
    instead of two a file). A script of `BATCH_CHARS` or more is a batch of its own; the others fill
    batches up to that size, smaller when there is too little for `workers` to share (four batches
    each at least, so that they finish together), and at most `BATCH_FILES` files.
    """
    by_size = sorted(todo, key=lambda i: len(jobs[i].text), reverse=True)
    if not _batched():
        return [(i,) for i in by_size]
    scripts = [i for i in by_size if jobs[i].kind == "js"]
    found: list[tuple[int, ...]] = [(i,) for i in by_size if jobs[i].kind != "js"]
    share = sum(len(jobs[i].text) for i in scripts) // (4 * max(1, workers))
    budget = max(BATCH_MIN_CHARS, min(BATCH_CHARS, share))
    batch: list[int] = []
    size = 0
    for i in scripts:
        n = len(jobs[i].text)
        if batch and (size + n > budget or len(batch) >= BATCH_FILES):
            found.append(tuple(batch))
            batch, size = [], 0
        batch.append(i)
        size += n
    if batch:
        found.append(tuple(batch))
    return sorted(found, key=lambda unit: sum(len(jobs[i].text) for i in unit), reverse=True)


def _batched() -> bool:
    """Scripts go in batches: when the fast engine checks them (esprima gains nothing from it)."""
    from assetbuild.js.check import engine_name

    return engine_name() == "v8"


def _run_unit(jobs: Sequence[FileJob], unit: Sequence[int]) -> list[FileResult]:
    return process_files([jobs[i] for i in unit])


def pool_size(pending: Sequence[FileJob]) -> int:
    """How many processes or threads (this one and helpers) run these uncached jobs; 1: serial."""
    cpus = cpu_count()
    limit = os.environ.get(ENV_JOBS, "").strip()
    if limit.isdigit() and int(limit) > 0:
        cpus = min(cpus, int(limit))
    work = sum(len(job.text) for job in pending)
    if cpus < 2 or len(pending) < 2:
        return 1
    if len(pending) < POOL_MIN_FILES or work < _min_bytes(pending):
        return 1
    processes = min(cpus, len(pending))
    free = available_memory()
    if free is not None:
        need = WORKER_BYTES + WORKER_BYTES_PER_CHAR * max(len(job.text) for job in pending)
        processes = min(processes, 1 + free // need)  # this process is one of them
    return processes


def _min_bytes(pending: Sequence[FileJob]) -> int:
    """The least work (characters) that repays parallel checking: threads start sooner."""
    return POOL_MIN_BYTES_FAST if _threads_pay(pending) else POOL_MIN_BYTES


def _threads_pay(pending: Sequence[FileJob]) -> bool:
    """Threads (one V8 engine each) rather than processes: when JavaScript is at least half the work.

    V8 runs outside the GIL; CSS and esprima are Python and do not. 4x corpus, 2 cores: JS 8.8 M
    chars in 7.4 s of CPU (~85% in V8), CSS 4.0 M chars in 2.3 s: two helper threads (this one ran
    the CSS) took the JS from 7.0 to 4.2-5.4 s in one process of ~170-200 MB, where the process pool
    took ~350 MB (RSS, tree). `_run_threads` now runs one helper fewer and gives this thread scripts.
    """
    from assetbuild.js.check import engine_name

    if engine_name() != "v8":
        return False
    js = sum(len(job.text) for job in pending if job.kind == "js")
    return js > 0 and 2 * js >= sum(len(job.text) for job in pending)


def _run_threads(
    jobs: Sequence[FileJob],
    todo: list[int],
    threads: int,
    computed: Callable[[int, FileResult], None],
) -> list[int]:
    """JavaScript jobs on `threads` engines, the rest here; return the indexes left undone.

    `threads - 1` helper threads take the JavaScript, a batch at a time, biggest first, then the
    smallest stylesheets left (when the CSS is the longer part: their value checks run in V8 while
    this thread runs Python). This thread runs the other jobs (CSS: Python, one thread is as fast
    as several), biggest first, then takes the smallest batches with the shared engine (the one
    the CSS value check used) until none is left: one busy thread a core, where a helper a core
    plus this one's CSS made three (2 cores, the benchmark corpus, interleaved runs: 2.68 s
    against 3.22 s, peak RSS 150 against 167 MB). It reports every result, so progress and the
    cache are only touched here.
    """
    import queue
    import threading
    from collections import deque

    from assetbuild.js import engine as jsengine

    work_units = units(jobs, todo, threads)
    scripts = deque(u for u in work_units if jobs[u[0]].kind == "js")
    others = deque(u for u in work_units if jobs[u[0]].kind != "js")
    lock = threading.Lock()
    done: queue.SimpleQueue[tuple[tuple[int, ...], list[FileResult] | None]] = queue.SimpleQueue()
    left = set(todo)
    expected = len(scripts) + len(others)  # units the helpers may report

    def take(pending: deque[tuple[int, ...]], *, smallest: bool) -> None:
        while True:
            with lock:
                if not pending:
                    return
                unit = pending.pop() if smallest else pending.popleft()
            try:
                results: list[FileResult] | None = _run_unit(jobs, unit)
            except Exception:
                results = None  # rerun by the caller, so a genuine bug raises with its traceback
            done.put((unit, results))

    def engine() -> AbstractContextManager[None]:
        """An engine of its own for a thread, made in this one; else the shared one."""
        try:
            return jsengine.lend()
        except Exception:
            return contextlib.nullcontext()  # V8 refused another: the shared one, calls serialized

    def work(own: AbstractContextManager[None]) -> None:
        with contextlib.suppress(Exception), own:
            take(scripts, smallest=False)
        take(scripts, smallest=False)  # only if `own` failed: on with the shared engine
        # No script left: the smallest stylesheets this thread has not begun. Their Python waits
        # for the GIL, but their value checks run in V8 beside this thread's (the shared engine,
        # made by this thread, its css-tree JIT warm).
        if shared.is_set():
            take(others, smallest=True)

    shared = threading.Event()  # the shared engine is made: a helper may check stylesheets
    helpers = []
    for n in range(threads - 1):
        helper = threading.Thread(
            target=work, args=(engine(),), name=f"assetbuild-js-{n}", daemon=True
        )
        helper.start()  # working while the next engine starts
        helpers.append(helper)
    if others:
        # The shared engine, made here (only this thread sets up isolates) before any helper can
        # reach a stylesheet; the first value check would make it here anyway.
        with contextlib.suppress(Exception):
            jsengine.check_scripts(())
            shared.set()

    def report(block: bool) -> None:
        nonlocal expected
        while expected:
            try:
                unit, results = done.get(timeout=0.1) if block else done.get_nowait()
            except queue.Empty:
                if not block:
                    return  # what the helpers left (none should) is run by the caller
                block = any(helper.is_alive() for helper in helpers)  # else drain, then return
                continue
            expected -= 1
            if results is not None:
                for i, result in zip(unit, results, strict=True):
                    left.discard(i)
                    computed(i, result)

    def take_here(pending: deque[tuple[int, ...]], *, smallest: bool) -> None:
        nonlocal expected
        while True:
            with lock:
                if not pending:
                    return
                unit = pending.pop() if smallest else pending.popleft()
            expected -= 1  # not one for the helpers' queue
            for i, result in zip(unit, _run_unit(jobs, unit), strict=True):
                computed(i, result)
                left.discard(i)
            report(block=False)

    try:
        take_here(others, smallest=False)  # the biggest first: helpers take the smallest
        # This thread's scripts go to the shared engine, which the CSS value check has already
        # started and warmed (css/values.py): a third isolate would cost its start-up (~0.1 s of
        # CPU) and a cold JIT at the very end of the run, where it is on the critical path.
        take_here(scripts, smallest=True)  # the smallest: the helpers began with the biggest
        report(block=True)
    except BaseException:
        # Interrupted (Ctrl-C) or failed: the helpers' work is not wanted now; stop them in
        # V8 rather than wait for big ones to finish.
        with lock:
            scripts.clear()
            others.clear()
        jsengine.cancel_calls()
        raise
    finally:
        with lock:
            scripts.clear()  # on an error here, the helpers stop after their current job
            others.clear()
        for helper in helpers:
            helper.join()
    return [i for i in todo if i in left]


def _run_pool(
    jobs: Sequence[FileJob],
    todo: list[int],
    processes: int,
    computed: Callable[[int, FileResult], None],
) -> list[int]:
    """Run `todo` on `processes - 1` workers and this process; return the indexes left to run here.

    Workers take the biggest jobs first and this process the smallest, until they meet: it works
    while the pool starts (~0.2 s for the fork server, off this thread) instead of idling, and one
    fewer process holds a JavaScript engine.
    """
    import signal
    import threading
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    queue = deque(units(jobs, todo, processes))
    left = set(todo)
    workers = processes - 1
    running: dict[Future[list[FileResult]], tuple[int, ...]] = {}
    lock = threading.Lock()  # queue and running: the starter thread submits the first jobs
    made: list[ProcessPoolExecutor] = []
    pools: list[ProcessPoolExecutor] = []  # once started

    def top_up(pool: ProcessPoolExecutor) -> None:
        # Two units a worker in flight, so none waits while this process runs one of its own.
        with lock:
            while queue and len(running) < 2 * workers:
                unit = queue.popleft()
                running[pool.submit(process_files, [jobs[i] for i in unit])] = unit

    def start() -> None:
        try:
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init)
            made.append(pool)
            # Ctrl-C is this process's to handle: a terminal sends SIGINT to the whole process
            # group, and the fork server (a new interpreter, importing) and its workers, started
            # from this thread, inherit its signal mask. Blocked here, it never reaches them (nor
            # do their tracebacks reach the terminal); the main thread still takes it. (After the
            # constructor: multiprocessing's resource tracker unblocks SIGINT in this thread.)
            if hasattr(signal, "pthread_sigmask"):
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            pool.submit(int)  # starts the fork server and the workers: ~0.2 s, outside the lock
            pools.append(pool)
            top_up(pool)
        except Exception:
            pass  # no processes to be had (this process does it all), or seen again below

    def collect(finished: set[Future[list[FileResult]]]) -> None:
        for future in finished:
            with lock:
                unit = running.pop(future)
            try:
                results = future.result()
            except BrokenProcessPool:
                raise
            except Exception:
                continue  # rerun here, so a genuine bug raises with its real traceback
            for i, result in zip(unit, results, strict=True):
                left.discard(i)
                computed(i, result)

    context = _context()  # here, not in the starter thread: a wrong preload name must fail loudly
    starter = threading.Thread(target=start, name="assetbuild-pool-start", daemon=True)
    starter.start()
    try:
        while True:
            if pools:
                top_up(pools[0])
            with lock:
                mine = queue.pop() if queue else None
                waiting = set(running)
            if mine is not None:
                for i, result in zip(mine, _run_unit(jobs, mine), strict=True):
                    computed(i, result)
                    left.discard(i)
                collect(wait(waiting, timeout=0, return_when=FIRST_COMPLETED)[0])
            elif waiting:
                collect(wait(waiting, return_when=FIRST_COMPLETED)[0])
            else:
                break
    except BrokenProcessPool:
        pass  # a worker died (killed, out of memory): finish the rest serially
    except BaseException:
        # Interrupted (Ctrl-C) or failed: no result is wanted now; end the workers rather than
        # wait for the big files they are checking (seconds), then shut down as usual.
        starter.join()
        for pool in made:
            running_workers = getattr(pool, "_processes", None) or {}  # the executor's own
            for process in list(running_workers.values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        raise
    finally:
        starter.join()
        for pool in made:
            pool.shutdown(wait=True, cancel_futures=True)
    return [i for i in todo if i in left]


# What the fork server imports once, so that no worker pays for it: `process_file` and the checkers.
PRELOAD = (
    "assetbuild.build.bundle",
    "assetbuild.js.check",
    "assetbuild.css.check",
    "assetbuild.js.minify",
    "assetbuild.css.minify",
    "esprima",
)


def preload_modules() -> tuple[str, ...]:
    """`PRELOAD`, each name proven importable: the fork server would silently skip a wrong one."""
    import importlib.util

    for name in PRELOAD:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise RuntimeError(f"executor.PRELOAD names {name!r}, which cannot be imported")
    return PRELOAD


def _context() -> Any:
    """A start method that is safe with threads (watch mode runs an observer thread)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that imported the checkers once, so none pays the import.
        ctx.set_forkserver_preload(list(preload_modules()))
        return ctx
    return multiprocessing.get_context("spawn")


def _worker_init() -> None:
    """Workers leave Ctrl-C to the parent, which shuts the pool down."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform != "win32":
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
