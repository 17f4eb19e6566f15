"""The executor: cache hits, the process pool (byte-identical to serial), progress, crash fallback."""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from assetbuild.build import executor
from assetbuild.build.bundle import process_file
from assetbuild.build.executor import pool_size, run_jobs
from assetbuild.build.results import FileJob, FileResult
from assetbuild.cache import content as cache
from assetbuild.fsutil import available_memory


def job(i: int, text: str, kind: str = "js") -> FileJob:
    return FileJob(
        kind=kind,
        path=f"/site/{kind}/source/{i:03d}.{kind}",
        display=f"{kind}/source/{i:03d}.{kind}",
        original=text,
        text=text,
        edits=(),
        minify=kind == "js",
        first=i == 0,
        output_dir=f"/site/{kind}/1",
        root="/site",
    )


def mixed_jobs(n: int = 24) -> list[FileJob]:
    """JS and CSS of different sizes, with a syntax error and a warning among them."""
    jobs = []
    for i in range(n):
        if i % 4 == 3:
            jobs.append(job(i, f".c{i} {{ color: red; margin: {i}px; }}\n" * (i + 1), "css"))
        elif i == 5:
            jobs.append(job(i, "var broken = ;\n"))
        elif i == 6:
            jobs.append(job(i, "class A {\n  #a = 1\n  #b\n}\n"))  # rjsmin fails: the safe minifier
        else:
            body = "".join(
                f"function f{i}_{k}(a, b) {{ return a * {k} + b; }}\n" for k in range(i * 3 + 1)
            )
            jobs.append(job(i, body))
    return jobs


def each(function: Callable[[FileJob], FileResult], jobs: Sequence[FileJob]) -> list[FileResult]:
    """`process_files` made of a per-file function (picklable with `functools.partial`)."""
    return [function(j) for j in jobs]


def per_file(function: Callable[[FileJob], FileResult]) -> Callable[..., list[FileResult]]:
    return functools.partial(each, function)


@pytest.fixture
def one_file_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every script a batch of its own, so that these tests see where each file ran."""
    monkeypatch.setattr(executor, "BATCH_CHARS", 1)
    monkeypatch.setattr(executor, "BATCH_MIN_CHARS", 1)


@pytest.fixture
def force_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "POOL_MIN_FILES", 0)
    monkeypatch.setattr(executor, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(executor, "POOL_MIN_BYTES_FAST", 0)
    monkeypatch.setattr(executor, "cpu_count", lambda: 2)
    monkeypatch.setattr(executor, "available_memory", lambda: None)
    monkeypatch.setattr(executor, "_threads_pay", lambda pending: False)
    monkeypatch.delenv(executor.ENV_JOBS, raising=False)


def _has_engine() -> bool:
    from assetbuild.js import engine as jsengine

    return jsengine.available()


def _force_mode(monkeypatch: pytest.MonkeyPatch, mode: str) -> str:
    if mode == "threads":
        if not _has_engine():
            pytest.skip("threads need the fast engine (mini-racer)")
        monkeypatch.setenv("ASSETBUILD_ENGINE", "auto")
    monkeypatch.setattr(executor, "_threads_pay", lambda pending: mode == "threads")
    return mode


@pytest.fixture(params=["processes", "threads"])
def parallel(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, force_pool: None
) -> str:
    """The pool forced, as processes or as threads with an engine each."""
    return _force_mode(monkeypatch, request.param)


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch, force_pool: None) -> str:
    """The pool forced, as threads with an engine each."""
    return _force_mode(monkeypatch, "threads")


@pytest.mark.parametrize(
    ("files", "size", "cpus", "env", "expected"),
    [
        (1, 10**6, 8, "", 1),  # one file: nothing to share
        (10, 1000, 8, "", 1),  # small build: no pool
        (300, 30_000, 8, "", 1),  # many tiny files: the pool would cost more than it saves
        (100, 2 * 10**6, 8, "", 8),  # much work in many files
        (3, 1200 * 1024, 2, "", 2),  # few but big
        (30, 600 * 1024, 2, "", 1),  # not enough work to repay starting processes
        (100, 10**6, 1, "", 1),  # one core
        (100, 10**6, 8, "1", 1),  # ASSETBUILD_JOBS=1: serial
        (100, 2 * 10**6, 8, "3", 3),  # ASSETBUILD_JOBS caps the workers
        (4, 2 * 10**6, 8, "", 4),  # never more workers than jobs
    ],
)
def test_pool_size(
    monkeypatch: pytest.MonkeyPatch, files: int, size: int, cpus: int, env: str, expected: int
) -> None:
    monkeypatch.setattr(executor, "cpu_count", lambda: cpus)
    monkeypatch.setattr(executor, "available_memory", lambda: None)
    monkeypatch.setenv(executor.ENV_JOBS, env)
    monkeypatch.setenv("ASSETBUILD_ENGINE", "esprima")
    jobs = [job(i, "x" * (size // files)) for i in range(files)]
    assert pool_size(jobs) == expected


@pytest.mark.parametrize(
    ("size", "kind", "expected"),
    [
        (400 * 1024, "js", 1),
        (600 * 1024, "js", 2),  # threads start soon: they pay from ~0.5 MB
        (600 * 1024, "css", 1),  # processes: from ~1 MB
        (1200 * 1024, "css", 2),
    ],
)
def test_pool_threshold_with_the_fast_engine(
    monkeypatch: pytest.MonkeyPatch, size: int, kind: str, expected: int
) -> None:
    from assetbuild.js import engine as jsengine

    if not jsengine.available():
        pytest.skip("the fast engine (mini-racer) is not installed")
    monkeypatch.setattr(executor, "cpu_count", lambda: 2)
    monkeypatch.setattr(executor, "available_memory", lambda: None)
    monkeypatch.delenv(executor.ENV_JOBS, raising=False)
    monkeypatch.setenv("ASSETBUILD_ENGINE", "auto")
    jobs = [job(i, "x" * (size // 20), kind) for i in range(20)]
    assert pool_size(jobs) == expected


@pytest.mark.parametrize(
    ("free_mb", "biggest", "cpus", "expected"),
    [
        (None, 10**6, 8, 8),  # unknown: no cap
        (16_000, 10**6, 8, 8),  # plenty
        (400, 10**5, 8, 3),  # two workers fit beside this process
        (400, 2 * 10**6, 8, 2),  # a big file needs more room per worker
        (100, 10**6, 8, 1),  # not even one worker: no pool
        (400, 10**5, 2, 2),  # never more than the cores
    ],
)
def test_workers_fit_in_free_memory(
    monkeypatch: pytest.MonkeyPatch, free_mb: int | None, biggest: int, cpus: int, expected: int
) -> None:
    monkeypatch.setattr(executor, "cpu_count", lambda: cpus)
    monkeypatch.delenv(executor.ENV_JOBS, raising=False)
    free = None if free_mb is None else free_mb * 1024 * 1024
    monkeypatch.setattr(executor, "available_memory", lambda: free)
    jobs = [job(0, "x" * biggest)] + [job(i, "x" * 100_000) for i in range(1, 20)]
    assert pool_size(jobs) == expected


def test_available_memory_is_read_or_unknown() -> None:
    free = available_memory()
    assert free is None or free > 0
    if os.path.exists("/proc/meminfo"):
        assert free is not None


def spy_pool(monkeypatch: pytest.MonkeyPatch, mode: str = "processes") -> list[list[int]]:
    """Record what each pool run (of processes or threads) left for the serial path."""
    left: list[list[int]] = []
    name = "_run_threads" if mode == "threads" else "_run_pool"
    real = getattr(executor, name)

    def spy(*args: Any) -> list[int]:
        rest: list[int] = real(*args)
        left.append(list(rest))
        return rest

    monkeypatch.setattr(executor, name, spy)
    return left


def test_pool_results_equal_serial_results(monkeypatch: pytest.MonkeyPatch, parallel: str) -> None:
    jobs = mixed_jobs()
    left = spy_pool(monkeypatch, parallel)
    pooled = run_jobs(jobs)
    assert left == [[]]  # the pool ran and did everything
    monkeypatch.setenv(executor.ENV_JOBS, "1")
    serial = run_jobs(jobs)
    assert pooled == serial
    assert [r.display for r in pooled] == [j.display for j in jobs]
    assert any(not r.ok for r in pooled) and any(r.method == "safe" for r in pooled)


@pytest.mark.usefixtures("parallel")
def test_pool_bundle_bytes_equal_serial(make_site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from assetbuild.build.pipeline import build
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    files = {
        f"js/source/{i:03d}.js": f"var v{i} = {i};\nfunction g{i}() {{ return v{i}; }}\n"
        for i in range(30)
    }
    files.update({f"css/source/{i:03d}.css": f".k{i} {{ width: {i}px; }}\n" for i in range(20)})
    site = make_site(files)
    monkeypatch.chdir(site)
    config = load_config(site)
    pooled = build(config, BuildOptions(use_cache=False))
    monkeypatch.setenv(executor.ENV_JOBS, "1")
    serial = build(config, BuildOptions(use_cache=False))
    assert [b.data for b in pooled.bundles] == [b.data for b in serial.bundles]
    assert pooled.diagnostics == serial.diagnostics
    assert all(b.data for b in pooled.bundles)


@pytest.mark.parametrize("pool", [False, True])
def test_progress_counts_every_file_once(
    pool: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if pool:
        monkeypatch.setattr(executor, "POOL_MIN_FILES", 0)
        monkeypatch.setattr(executor, "cpu_count", lambda: 2)
    else:
        monkeypatch.setenv(executor.ENV_JOBS, "1")
    jobs = mixed_jobs(12)
    run_jobs(jobs[:5], cache=cache.ContentCache(tmp_path / "c"))  # some of them cached
    calls: list[tuple[int, int]] = []
    run_jobs(
        jobs,
        cache=cache.ContentCache(tmp_path / "c"),
        on_progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(i, len(jobs)) for i in range(1, len(jobs) + 1)]


@pytest.mark.usefixtures("force_pool")
def test_pool_results_are_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = mixed_jobs(10)
    first = run_jobs(jobs, cache=cache.ContentCache(tmp_path / "c"))
    computed: list[str] = []
    monkeypatch.setattr(
        executor, "process_files", lambda js: computed.extend(j.display for j in js)
    )
    for runner in ("_run_pool", "_run_threads"):
        monkeypatch.setattr(
            executor, runner, lambda *a: pytest.fail("pool started for cached jobs")
        )
    assert run_jobs(jobs, cache=cache.ContentCache(tmp_path / "c")) == first  # from the disk
    assert computed == []


def tell_where(j: FileJob) -> FileResult:
    """process_file, with the id of the process that ran it in the display name.

    This process runs its second job only once a worker has run one (markers in `j.root`), so the
    split does not depend on how fast the pool starts.
    """
    root = Path(j.root)
    if multiprocessing.current_process().name == "MainProcess":
        if (root / "parent-ran").exists():
            for _ in range(3000):
                if (root / "worker-ran").exists():
                    break
                time.sleep(0.01)
        (root / "parent-ran").touch()
    else:
        (root / "worker-ran").touch()
    result = process_file(j)
    return dataclasses.replace(result, display=f"{result.display}@{os.getpid()}")


@pytest.mark.usefixtures("force_pool", "one_file_units")
def test_this_process_works_beside_the_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    jobs = [dataclasses.replace(j, root=str(tmp_path)) for j in mixed_jobs(24)]
    monkeypatch.setattr(executor, "process_files", per_file(tell_where))
    results = run_jobs(jobs)
    where = [r.display.rsplit("@", 1) for r in results]
    assert [display for display, _ in where] == [j.display for j in jobs]  # each job once, in order
    here = {j.display for j, (_, pid) in zip(jobs, where, strict=True) if pid == str(os.getpid())}
    smallest = min(jobs, key=lambda j: len(j.text)).display
    biggest = max(jobs, key=lambda j: len(j.text)).display
    assert smallest in here  # this process starts from the small end ...
    assert biggest not in here  # ... the worker from the big one
    assert len({pid for _, pid in where}) == 2
    unmarked = [dataclasses.replace(r, display=d) for r, (d, _) in zip(results, where, strict=True)]
    assert unmarked == [process_file(j) for j in jobs]


def crash_in_worker(j: FileJob) -> FileResult:
    """Kills the worker process for the biggest job (a worker's first); fine in the parent."""
    if j.display.endswith("010.js") and multiprocessing.current_process().name != "MainProcess":
        os._exit(17)
    return process_file(j)


def fail_everywhere(j: FileJob) -> FileResult:
    if j.display.endswith("002.js"):
        raise ValueError("a bug in a checker")
    return process_file(j)


@pytest.mark.usefixtures("force_pool", "one_file_units")
def test_worker_crash_falls_back_to_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = mixed_jobs(12)
    monkeypatch.setattr(executor, "process_files", per_file(crash_in_worker))
    left = spy_pool(monkeypatch)
    results = run_jobs(jobs)
    assert len(left) == 1 and 10 in left[0]  # the pool broke; the rest ran serially
    assert results == [process_file(j) for j in jobs]


@pytest.mark.usefixtures("parallel")
def test_an_exception_in_a_worker_is_raised_as_in_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "process_files", per_file(fail_everywhere))
    with pytest.raises(ValueError, match="a bug in a checker"):
        run_jobs(mixed_jobs(8))


_BOTH_STARTED = threading.Barrier(2, timeout=30)


def on_two_threads(j: FileJob) -> FileResult:
    """process_file, noting the thread and engine; each thread's first script waits for the other's."""
    from assetbuild.js import engine as jsengine

    local = _SEEN.setdefault(threading.current_thread().name, [])
    if j.kind == "js" and not any(local):
        _BOTH_STARTED.wait()
    local.append(id(jsengine._engine()) if j.kind == "js" else 0)
    return process_file(j)


_SEEN: dict[str, list[int]] = {}


@pytest.mark.usefixtures("threads", "one_file_units")
def test_threads_check_javascript_with_an_engine_each(monkeypatch: pytest.MonkeyPatch) -> None:
    _SEEN.clear()
    _BOTH_STARTED.reset()
    monkeypatch.setattr(executor, "process_files", per_file(on_two_threads))
    jobs = mixed_jobs(24)
    results = run_jobs(jobs)
    assert results == [process_file(j) for j in jobs]
    # Two cores: one helper thread, and this thread, which runs the CSS, then scripts too.
    helpers = {name: ids for name, ids in _SEEN.items() if name.startswith("assetbuild-js-")}
    assert list(helpers) == ["assetbuild-js-0"]
    here = _SEEN[threading.current_thread().name]
    css = here.count(0)
    assert css == sum(j.kind == "css" for j in jobs) and not any(here[:css])  # the CSS first
    mine, theirs = set(here[css:]), set(helpers["assetbuild-js-0"])
    assert len(mine) == 1 and len(theirs) == 1 and mine != theirs  # one engine a thread


def slow_in_a_helper(j: FileJob) -> FileResult:
    if threading.current_thread().name.startswith("assetbuild-js-") and j.display.endswith("4.js"):
        time.sleep(0.3)  # longer than the reporting thread waits at a time
    return process_file(j)


@pytest.mark.usefixtures("one_file_units")
def test_threads_slow_jobs_are_waited_for(monkeypatch: pytest.MonkeyPatch, threads: str) -> None:
    monkeypatch.setattr(executor, "process_files", per_file(slow_in_a_helper))
    left = spy_pool(monkeypatch, threads)
    jobs = mixed_jobs(16)
    assert run_jobs(jobs) == [process_file(j) for j in jobs]
    assert left == [[]]


def test_threads_without_engines_of_their_own_share_one(
    monkeypatch: pytest.MonkeyPatch, threads: str
) -> None:
    from assetbuild.js import engine as jsengine

    def refuse() -> Any:
        raise RuntimeError("V8 would not start another isolate")

    monkeypatch.setattr(jsengine, "lend", refuse)
    left = spy_pool(monkeypatch, threads)
    jobs = mixed_jobs(16)
    assert run_jobs(jobs) == [process_file(j) for j in jobs]
    assert left == [[]]


@pytest.mark.usefixtures("one_file_units")
def test_threads_this_thread_uses_the_shared_engine(
    monkeypatch: pytest.MonkeyPatch, threads: str
) -> None:
    """One isolate a helper, none more: this thread's scripts go to the shared engine."""
    from assetbuild.js import engine as jsengine

    lent: list[str] = []
    where: dict[str, set[str]] = {}
    real_lend = jsengine.lend

    def counted() -> Any:
        lent.append(threading.current_thread().name)
        return real_lend()

    def recorded(j: FileJob) -> FileResult:
        own = getattr(jsengine._LENT, "engine", None)
        where.setdefault("lent" if own is not None else "shared", set()).add(
            threading.current_thread().name
        )
        return process_file(j)

    monkeypatch.setattr(jsengine, "lend", counted)
    monkeypatch.setattr(executor, "process_files", per_file(recorded))
    monkeypatch.setattr(executor, "cpu_count", lambda: 3)
    jobs = [job(i, f"var a{i} = {i};\n" * (50 + i)) for i in range(40)]
    assert run_jobs(jobs) == [process_file(j) for j in jobs]
    assert lent == ["MainThread", "MainThread"]  # one for each of the two helpers, made here
    assert all(name.startswith("assetbuild-js-") for name in where.get("lent", set()))
    assert where.get("shared", set()) <= {"MainThread"}


def test_threads_helpers_take_the_smallest_stylesheets_once_scripts_run_out(
    monkeypatch: pytest.MonkeyPatch, threads: str
) -> None:
    """When the CSS is the longer part, a helper out of scripts takes stylesheets from the end."""
    ran: dict[str, list[int]] = {}

    def slow_here(j: FileJob) -> FileResult:
        name = threading.current_thread().name
        if j.kind == "css" and name == "MainThread":
            time.sleep(0.05)  # this thread's CSS outlasts the helper's one small script
        ran.setdefault(name, []).append(int(j.display.rsplit("/", 1)[1].split(".")[0]))
        return process_file(j)

    monkeypatch.setattr(executor, "process_files", per_file(slow_here))
    left = spy_pool(monkeypatch, threads)
    jobs = [job(0, "var a = 1;\n" * 2000)] + [
        job(i, f".c{i} {{ color: red; }}\n" * (40 - i), "css") for i in range(1, 30)
    ]
    assert run_jobs(jobs) == [process_file(j) for j in jobs]
    assert left == [[]]
    helped = ran.get("assetbuild-js-0", [])
    assert helped[0] == 0 and len(helped) > 1  # its script, then stylesheets
    # The helper began at the smallest (the last, here), this thread at the biggest.
    assert helped[1] == 29 and ran["MainThread"][0] == 1
    assert sorted(helped + ran["MainThread"]) == list(range(30))


def test_threads_without_the_shared_engine_helpers_leave_stylesheets_here(
    monkeypatch: pytest.MonkeyPatch, threads: str
) -> None:
    """A helper never makes an isolate: if this thread could not make the shared one, the
    stylesheets all stay here."""
    from assetbuild.js import engine as jsengine

    ran: dict[str, list[str]] = {}
    real = jsengine.check_scripts

    def refuse_empty(texts: Sequence[str], **kwargs: Any) -> Any:
        if not texts:
            raise RuntimeError("V8 would not start another isolate")
        return real(texts, **kwargs)

    def slow_here(j: FileJob) -> FileResult:
        name = threading.current_thread().name
        if j.kind == "css" and name == "MainThread":
            time.sleep(0.02)
        ran.setdefault(name, []).append(j.kind)
        return process_file(j)

    monkeypatch.setattr(jsengine, "check_scripts", refuse_empty)
    monkeypatch.setattr(executor, "process_files", per_file(slow_here))
    jobs = [job(0, "var a = 1;\n" * 2000)] + [
        job(i, f".c{i} {{ color: red; }}\n" * (40 - i), "css") for i in range(1, 20)
    ]
    assert run_jobs(jobs) == [process_file(j) for j in jobs]
    assert ran.get("assetbuild-js-0") == ["js"]
    assert ran["MainThread"] == ["css"] * 19


@pytest.mark.parametrize(
    ("engine", "js", "css", "expected"),
    [
        ("auto", 600, 400, True),
        ("auto", 500, 500, True),  # half the work
        ("auto", 400, 600, False),  # mostly CSS: processes
        ("auto", 0, 600, False),
        ("esprima", 600, 0, False),  # esprima is Python: processes
    ],
)
def test_threads_pay_when_javascript_is_half_the_work(
    monkeypatch: pytest.MonkeyPatch, engine: str, js: int, css: int, expected: bool
) -> None:
    if engine == "auto" and not _has_engine():
        pytest.skip("the fast engine (mini-racer) is not installed")
    monkeypatch.setenv("ASSETBUILD_ENGINE", engine)
    pending = [job(1, "x" * js), job(2, "y" * css, "css")]
    assert executor._threads_pay(pending) is expected


def test_no_processes_means_serial(monkeypatch: pytest.MonkeyPatch, force_pool: None) -> None:
    import concurrent.futures

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no processes for you")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", refuse)
    jobs = mixed_jobs(6)
    assert run_jobs(jobs) == [process_file(j) for j in jobs]


def test_empty() -> None:
    assert run_jobs([]) == []


def test_units_batch_scripts_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "_batched", lambda: True)
    monkeypatch.setattr(executor, "BATCH_CHARS", 1000)
    monkeypatch.setattr(executor, "BATCH_MIN_CHARS", 100)
    monkeypatch.setattr(executor, "BATCH_FILES", 3)
    sizes = [5000, 1500, 900, 400, 300, 200, 150, 100, 60, 50, 40, 30]
    jobs = [job(i, "x" * n) for i, n in enumerate(sizes)] + [job(99, "y" * 2000, "css")]
    found = executor.units(jobs, range(len(jobs)))
    assert sorted(i for unit in found for i in unit) == list(range(len(jobs)))  # each job once
    assert (12,) in found  # CSS: a unit of its own
    assert (0,) in found and (1,) in found  # big scripts: batches of their own
    for unit in found:
        assert len(unit) <= 3
        assert len(unit) == 1 or sum(sizes[i] for i in unit) <= 1000
    totals = [sum(len(jobs[i].text) for i in unit) for unit in found]
    assert totals == sorted(totals, reverse=True)  # the biggest first
    # little work for several workers: smaller batches, so that they finish together
    small = jobs[2:12]  # 2,230 characters: a quarter of each worker's share is 278
    shared = executor.units(small, range(10), workers=2)
    assert all(sum(len(small[i].text) for i in u) <= 278 for u in shared if len(u) > 1)
    assert len(shared) > len(executor.units(small, range(10)))
    monkeypatch.setattr(executor, "_batched", lambda: False)
    assert all(len(unit) == 1 for unit in executor.units(jobs, range(len(jobs))))


@pytest.mark.parametrize("mode", ["serial", "processes", "threads"])
def test_batches_give_each_files_own_result(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    if not _has_engine():
        pytest.skip("batches need the fast engine (mini-racer)")
    monkeypatch.setenv("ASSETBUILD_ENGINE", "auto")
    monkeypatch.setattr(executor, "BATCH_MIN_CHARS", 600)  # a few batches of several files
    monkeypatch.setattr(executor, "BATCH_CHARS", 600)
    if mode == "serial":
        monkeypatch.setenv(executor.ENV_JOBS, "1")
    else:
        monkeypatch.setattr(executor, "POOL_MIN_FILES", 0)
        monkeypatch.setattr(executor, "POOL_MIN_BYTES", 0)
        monkeypatch.setattr(executor, "POOL_MIN_BYTES_FAST", 0)
        monkeypatch.setattr(executor, "cpu_count", lambda: 2)
        monkeypatch.setattr(executor, "available_memory", lambda: None)
        monkeypatch.delenv(executor.ENV_JOBS, raising=False)
        _force_mode(monkeypatch, mode)
    batches: list[int] = []
    real = executor.process_files
    monkeypatch.setattr(executor, "process_files", lambda js: batches.append(len(js)) or real(js))
    jobs = mixed_jobs(24)
    assert run_jobs(jobs) == [process_file(j) for j in jobs]
    if mode != "processes":  # (the workers' calls are not seen here)
        assert max(batches) > 1
