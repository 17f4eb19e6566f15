"""Reliability figures: SIGKILL faults, timed kills and concurrent installs against the real command.

Usage: python bench/reliability.py [--kills N] [--stress-seconds S] [--writers W] [--interrupts N]
       [--selectors N] [--string-mb MB] [--script-mb MB] [--memory-cap-mb MB] [--only-figures]
       [--figures forged,traps,readonly,interrupts,memory] [--seed N] [--json]

Every scenario runs `assetbuild install` in subprocesses on a temporary site and checks, after every
fault and on every poll, the invariants a web server relies on:
- the manifest is valid JSON and names only files that exist with its size and integrity;
- every numbered version directory is complete (every bundle, its .gz, the hand-placed files) and
  holds bytes a clean install produces for some state of the sources;
- versions are consecutive (1..N) and a file, once seen in a version directory, never changes;
- the next undisturbed run succeeds, removes every hidden temporary entry and serves the sources.

A second table (issue 12, round 2) counts what was tried and what went wrong (`bad`, must be 0):
forged and damaged cache entries, state and quick records (nothing shipped that is in no source, no
"up to date" to a changed site); symlink and special-file traps (nothing written outside the root, no
hang, traceback or memory exhaustion); read-only leftovers met as a user without root's file
capabilities (no install blocked); Ctrl-C at random moments (exit 130 and one line); and peak memory
per MB of input for the largest-source cases (measured only). The exit status is 1 when any
invariant fails or any `bad` is above 0.

The tests (tests/test_faults.py, tests/test_stress.py, tests/test_reliability_bench.py) load this
file and run the same scenarios smaller.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assetbuild.fsutil import TEMP_PREFIX
from assetbuild.manifest import ManifestError, integrity, parse_manifest
from assetbuild.versions import list_versions

ASSETBUILD = str(Path(sys.executable).with_name("assetbuild"))
FAULT_POINTS = ("locked", "staging", "staged", "renamed", "manifest-temp", "done")
BUNDLES = ("css/site.css", "js/main.js", "js/vendor.js")
AREAS = ("css", "js")
HAND_FILES = ("hand.txt", "img/logo.svg", "img/deep/icon.svg")
RUN_TIMEOUT = 120.0

CONFIG = """\
root = "static"
compress = ["gzip"]
lock_timeout = 60

[[bundle]]
output = "js/main.js"
sources = ["js/src/*.js"]

[[bundle]]
output = "js/vendor.js"
sources = ["js/vendor/*.js"]

[[bundle]]
output = "css/site.css"
sources = ["css/src/*.css"]
"""


# --------------------------------------------------------------------------------------------- the site


def _js(tag: str, n: int, lines: int) -> str:
    return "".join(
        f"var {tag}_{n}_{i} = function (x) {{ return x * {i} + {n}; }}; // line {i}\n"
        for i in range(lines)
    )


def _css(n: int, lines: int) -> str:
    return "".join(
        f".c{n}-{i} {{ color: #{(n * 7 + i) % 4096:03x}; margin: {i}px; }}\n" for i in range(lines)
    )


def state_files(state: int, lines: int = 60) -> dict[str, str]:
    """The sources of one edit state: main.js changes every state, css on odd states, vendor every third."""
    return {
        "js/src/a.js": _js("a", 0, lines),
        "js/src/b.js": _js("b", state, lines),
        "js/src/c.js": _js("c", state // 2, lines // 2),
        "js/vendor/lib.js": _js("lib", state // 3, lines),
        "css/src/base.css": _css((state + 1) // 2, lines),
        "css/src/more.css": _css(1000, lines // 2),
    }


def _write_atomic(path: Path, text: str) -> None:
    """Write a source the way an editor that saves by rename does (hidden temp, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def make_site(site: Path, state: int = 0, lines: int = 60) -> Path:
    """A site with a config, the sources of `state`, and the static root; return the site dir."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "assetbuild.toml").write_text(CONFIG, encoding="utf-8")
    write_state(site, state, lines)
    return site


def write_state(site: Path, state: int, lines: int = 60) -> None:
    """Replace the sources with those of `state`."""
    for rel, text in state_files(state, lines).items():
        _write_atomic(site / "static" / rel, text)


def place_hand_files(root: Path) -> None:
    """Files a person put into the current version of each area; every later version must copy them."""
    for area in AREAS:
        versions = list_versions(root / area)
        for rel in HAND_FILES:
            path = root / area / str(versions[-1]) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"placed by hand: {rel}\n", encoding="utf-8")


def expected_outputs(site: Path, state: int, lines: int = 60) -> dict[str, bytes]:
    """What a clean install of `state` puts in a version directory, built in memory in a scratch copy."""
    from assetbuild.build.pipeline import build
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        scratch = make_site(Path(tmp) / site.name, state, lines)
        result = build(load_config(scratch), BuildOptions(use_cache=False))
        if not result.ok:
            raise RuntimeError(f"state {state} does not build: {result.diagnostics}")
        return {b.output: b.data for b in result.bundles}


def built_outputs(site: Path) -> dict[str, bytes]:
    """What a clean install of the site's current sources serves, built in memory."""
    from assetbuild.build.pipeline import build
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    result = build(load_config(site), BuildOptions(use_cache=False))
    if not result.ok:
        raise RuntimeError(f"{site} does not build: {result.diagnostics}")
    return {b.output: b.data for b in result.bundles}


def run_cli(
    site: Path, *args: str, fault: str | None = None, timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run `assetbuild install -q` (or other args) in `site`; ASSETBUILD_FAULT set only when asked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    if fault:
        env["ASSETBUILD_FAULT"] = fault
    return subprocess.run(
        [ASSETBUILD, *(args or ("install", "-q"))],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# ----------------------------------------------------------------------------------------- invariants


def leftovers(root: Path) -> list[Path]:
    """Hidden temporary entries anywhere under root."""
    return sorted(p for p in root.rglob(f"{TEMP_PREFIX}*"))


def check_manifest(root: Path, raw: bytes) -> list[str]:
    """Problems with one read of the manifest: validity, and every named file in place and intact."""
    path = root / "manifest.json"
    try:
        data = parse_manifest(path, raw)
    except ManifestError as exc:
        return [f"invalid manifest: {exc}"]
    problems = []
    for name, entry in data["bundles"].items():
        try:
            body = (root / entry["path"]).read_bytes()
        except OSError as exc:
            problems.append(f"manifest names {entry['path']} for {name}: {exc.strerror}")
            continue
        if len(body) != entry["size"] or integrity(body) != entry["integrity"]:
            problems.append(f"{entry['path']}: size or integrity differs from the manifest")
        for key, variant in entry["variants"].items():
            try:
                raw_variant = (root / variant["path"]).read_bytes()
            except OSError as exc:
                problems.append(f"manifest names variant {variant['path']}: {exc.strerror}")
                continue
            if len(raw_variant) != variant["size"] or (
                key == "gz" and gzip.decompress(raw_variant) != body
            ):
                problems.append(f"{variant['path']}: does not match {entry['path']}")
    return problems


def check_tree(
    root: Path, good: Mapping[str, set[bytes]], *, hand: bool = True, final: bool = True
) -> list[str]:
    """Problems with the installed tree: manifest, complete version directories, consecutive versions.

    `good` maps each bundle to the bytes clean installs produce; `final` also demands no leftovers.
    """
    problems: list[str] = []
    manifest = root / "manifest.json"
    if manifest.exists():
        problems += check_manifest(root, manifest.read_bytes())
    for area in AREAS:
        versions = list_versions(root / area)
        if list(versions) != list(range(1, len(versions) + 1)):
            problems.append(f"{area}: versions are not consecutive: {versions}")
        names = [b for b in BUNDLES if b.startswith(area + "/")]
        for version in versions:
            vdir = root / area / str(version)
            for name in names:
                base = name.rsplit("/", 1)[1]
                try:
                    body = (vdir / base).read_bytes()
                    gz = (vdir / (base + ".gz")).read_bytes()
                except OSError:
                    problems.append(f"{vdir}: incomplete, {base} or its .gz is missing")
                    continue
                if body not in good[name]:
                    problems.append(f"{vdir / base}: bytes no clean install produces")
                if gzip.decompress(gz) != body:
                    problems.append(f"{vdir / base}.gz: does not decompress to {base}")
            if hand and version > 1:
                missing = [rel for rel in HAND_FILES if not (vdir / rel).is_file()]
                if missing:
                    problems.append(f"{vdir}: hand-placed files not copied: {missing}")
    if final:
        problems += [f"leftover {p}" for p in leftovers(root)]
    return problems


def served(root: Path) -> dict[str, bytes]:
    """The bytes the manifest currently serves for each bundle."""
    data = json.loads((root / "manifest.json").read_bytes())
    return {name: (root / e["path"]).read_bytes() for name, e in data["bundles"].items()}


@dataclass
class Ledger:
    """Hashes of every file seen in a version directory; a later different hash is a changed URL."""

    seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    changed_bytes: int = 0
    lost_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    def scan(self, root: Path) -> None:
        present: set[str] = set()
        for area in AREAS:
            for version in list_versions(root / area):
                vdir = root / area / str(version)
                for path in vdir.rglob("*"):
                    if TEMP_PREFIX in str(path) or not path.is_file():
                        continue
                    try:
                        body = path.read_bytes()
                    except FileNotFoundError:
                        continue  # counted as lost below
                    rel = path.relative_to(root).as_posix()
                    present.add(rel)
                    digest = hashlib.sha256(body).hexdigest()
                    first = self.seen.setdefault(rel, (digest, len(body)))
                    if first[0] != digest:
                        self.changed_bytes += max(first[1], len(body))
                        self.problems.append(f"{rel} changed its bytes")
                        self.seen[rel] = (digest, len(body))
        for rel, (_, size) in list(self.seen.items()):
            if rel not in present and not (root / rel).is_file():
                self.lost_bytes += size
                self.problems.append(f"{rel} disappeared")
                del self.seen[rel]


@dataclass
class Tally:
    """The figures one scenario reports."""

    scenario: str
    faults_injected: int = 0
    runs: int = 0
    runs_survived: int = 0
    versions_created: int = 0
    bytes_lost_or_changed: int = 0
    manifest_reads: int = 0
    invalid_manifest_reads: int = 0
    objects_overwritten: int = 0  # the s3 scenarios: versioned keys written twice
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, where: str, problems: list[str]) -> None:
        self.problems += [f"{where}: {p}" for p in problems[:5]]


def _count_versions(root: Path) -> int:
    return sum(len(list_versions(root / area)) for area in AREAS)


# ------------------------------------------------------------------------------------------- scenarios


def _first_install(site: Path) -> tuple[dict[str, set[bytes]], Ledger, float]:
    """Install state 0 cleanly, add hand-placed files: the good outputs, a ledger, the seconds taken."""
    root = site / "static"
    good: dict[str, set[bytes]] = {name: set() for name in BUNDLES}
    t0 = time.monotonic()
    first = run_cli(site)
    duration = time.monotonic() - t0
    if first.returncode != 0:
        raise RuntimeError(first.stderr)
    place_hand_files(root)
    for name, data in expected_outputs(site, 0).items():
        good[name].add(data)
    ledger = Ledger()
    ledger.scan(root)
    return good, ledger, duration


def fault_scenario(work: Path, points: tuple[str, ...] | None = None) -> Tally:
    """SIGKILL at every fault point (and several staging counts), each followed by a recovery run."""
    tally = Tally("fault points")
    start = time.monotonic()
    site = make_site(work / "faults")
    root = site / "static"
    good, ledger, _ = _first_install(site)
    if points is None:
        staging = tuple(f"staging:{n}" for n in (1, 2, 3, 5, 8, 13, 21))
        points = (*FAULT_POINTS, *staging, "renamed:2")
    for state, point in enumerate(points, start=1):
        write_state(site, state)
        wanted = expected_outputs(site, state)
        for name, data in wanted.items():
            good[name].add(data)
        manifest_before = (root / "manifest.json").read_bytes()
        killed = run_cli(site, fault=point)
        tally.runs += 1
        if killed.returncode == -signal.SIGKILL:
            tally.faults_injected += 1
        elif killed.returncode != 0:
            tally.fail(f"{point}: run", [f"exit {killed.returncode}: {killed.stderr.strip()}"])
        problems = check_tree(root, good, final=False)
        manifest_now = (root / "manifest.json").read_bytes()
        if point != "done" and killed.returncode != 0 and manifest_now != manifest_before:
            problems.append("the manifest changed although the run was killed before 'done'")
        ledger.scan(root)
        again = run_cli(site)
        tally.runs += 1
        if again.returncode != 0:
            problems.append(f"recovery run exit {again.returncode}: {again.stderr.strip()}")
        else:
            problems += check_tree(root, good)
            if served(root) != wanted:
                problems.append("after recovery the manifest does not serve the current sources")
        ledger.scan(root)
        if problems:
            tally.fail(point, problems)
        else:
            tally.runs_survived += 2
    tally.problems += ledger.problems
    tally.bytes_lost_or_changed = ledger.changed_bytes + ledger.lost_bytes
    tally.versions_created = _count_versions(root)
    tally.seconds = time.monotonic() - start
    return tally


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def timed_kill_scenario(work: Path, kills: int, seed: int = 0, recover_every: int = 3) -> Tally:
    """Kill real installs after random delays (several kills in a row, then a recovery run)."""
    rng = random.Random(seed)
    tally = Tally("timed kills")
    start = time.monotonic()
    site = make_site(work / "timed")
    root = site / "static"
    good, ledger, duration = _first_install(site)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    for n in range(1, kills + 1):
        state = n
        write_state(site, state)
        wanted = expected_outputs(site, state)
        for name, data in wanted.items():
            good[name].add(data)
        proc = subprocess.Popen(
            [ASSETBUILD, "install", "-q"],
            cwd=site,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.0, duration * 1.2))
        finished = proc.poll() is not None
        _kill_group(proc)
        code = proc.wait(RUN_TIMEOUT)
        tally.runs += 1
        tally.faults_injected += 0 if finished else 1
        problems = [] if code in (0, -signal.SIGKILL) else [f"run exit {code}"]
        problems += check_tree(root, good, final=False)
        ledger.scan(root)
        if n % recover_every == 0 or n == kills:
            again = run_cli(site)
            tally.runs += 1
            if again.returncode != 0:
                problems.append(f"recovery run exit {again.returncode}: {again.stderr.strip()}")
            else:
                problems += check_tree(root, good)
                if served(root) != wanted:
                    problems.append(
                        "after recovery the manifest does not serve the current sources"
                    )
            ledger.scan(root)
        if problems:
            tally.fail(f"kill {n}", problems)
        else:
            tally.runs_survived += 1 + (n % recover_every == 0 or n == kills)
    tally.problems += ledger.problems
    tally.bytes_lost_or_changed = ledger.changed_bytes + ledger.lost_bytes
    tally.versions_created = _count_versions(root)
    tally.seconds = time.monotonic() - start
    return tally


WRITER = """
import os, random, subprocess, sys, time
sys.path.insert(0, sys.argv[4])
import reliability
site, index, until = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = random.Random(index)
env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
runs = failures = 0
n = 0
while time.time() < until:
    n += 1
    tag = index * 1_000_000 + n
    rel = rng.choice(["js/src/w%d.js" % index, "js/vendor/w%d.js" % index, "css/src/w%d.css" % index])
    text = (reliability._css(tag, 20) if rel.endswith(".css") else reliability._js("w%d" % index, tag, 20))
    reliability._write_atomic(reliability.Path(site) / "static" / rel, text)
    proc = subprocess.run([reliability.ASSETBUILD, "install", "-q"], cwd=site, env=env,
                          capture_output=True, text=True, timeout=reliability.RUN_TIMEOUT)
    runs += 1
    if proc.returncode != 0:
        failures += 1
        sys.stderr.write("exit %d: %s\\n" % (proc.returncode, proc.stderr.strip()))
print(runs, failures, flush=True)
"""


@contextlib.contextmanager
def _writers(site: Path, count: int, until: float) -> Iterator[list[subprocess.Popen[str]]]:
    here = str(Path(__file__).resolve().parent)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(site), str(i), str(until), here],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for i in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(RUN_TIMEOUT)


def stress_scenario(work: Path, seconds: float, writers: int = 3) -> Tally:
    """Several processes install random edits at once while this one polls the manifest and files."""
    tally = Tally("concurrent installs")
    start = time.monotonic()
    site = make_site(work / "stress", lines=20)
    root = site / "static"
    first = run_cli(site)
    if first.returncode != 0:
        raise RuntimeError(first.stderr)
    ledger = Ledger()
    until = time.time() + seconds
    manifest = root / "manifest.json"
    with _writers(site, writers, until) as procs:
        while time.time() < until + 1 and any(p.poll() is None for p in procs):
            raw = manifest.read_bytes()
            tally.manifest_reads += 1
            problems = check_manifest(root, raw)
            for area in AREAS:
                versions = list_versions(root / area)
                if list(versions) != list(range(1, len(versions) + 1)):
                    problems.append(f"{area}: versions are not consecutive: {versions}")
            if problems:
                tally.invalid_manifest_reads += 1
                tally.fail(f"poll {tally.manifest_reads}", problems)
            ledger.scan(root)
        outputs = [p.communicate(timeout=RUN_TIMEOUT) for p in procs]
    for (out, err), proc in zip(outputs, procs, strict=True):
        runs, failures = (int(x) for x in out.split()) if out.strip() else (0, 0)
        tally.runs += runs
        tally.runs_survived += runs - failures
        if failures or proc.returncode != 0:
            tally.fail(
                f"writer {proc.pid}", err.strip().splitlines() or [f"exit {proc.returncode}"]
            )
    final = run_cli(site)
    tally.runs += 1
    problems = (
        [] if final.returncode == 0 else [f"final run exit {final.returncode}: {final.stderr}"]
    )
    problems += [p for p in check_manifest(root, manifest.read_bytes())]
    problems += [f"leftover {p}" for p in leftovers(root)]
    if not problems and served(root) != built_outputs(site):
        problems.append("after the last run the manifest does not serve the current sources")
    tally.runs_survived += 0 if problems else 1
    if problems:
        tally.fail("final", problems)
    ledger.scan(root)
    tally.problems += ledger.problems
    tally.bytes_lost_or_changed = ledger.changed_bytes + ledger.lost_bytes
    tally.versions_created = _count_versions(root)
    tally.seconds = time.monotonic() - start
    return tally


# ---------------------------------------------------------------------------- round 2 (issue 12)
# Each figure counts what was tried and what went wrong (`bad`, which must be 0); a scenario that
# cannot run here says why (`measured=False`) instead of reporting 0.

INTERRUPTED_LINE = "assetbuild: interrupted"
INTERRUPT_EXIT_LIMIT = 10.0  # seconds from Ctrl-C to exit before it counts as a hang
STARTUP_SECONDS = 0.6  # imports, config, collecting, the engine or the process pool starting


@dataclass
class Figure:
    """One round-2 figure: how many times something was tried, and how many went wrong."""

    scenario: str
    tried: int = 0
    bad: int = 0
    measured: bool = True
    detail: str = ""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def interrupt_site(site: Path, *, pool: bool = False) -> Path:
    """A site whose `check --no-cache` takes seconds: one 6 MB script and small ones (the fast
    engine's threads), or, with `pool`, 1.6 MB in four scripts (esprima in the process pool)."""
    root = site / "static"
    files = {f"js/src/s{n:02d}.js": _js("s", n, 40) for n in range(20)}
    if pool:
        files.update({f"js/src/big{n}.js": _js("big", n, 6_000) for n in range(4)})
    else:
        files["js/src/big.js"] = _js("big", 0, 85_000)
    files.update({f"css/src/c{n}.css": _css(n, 200) for n in range(10)})
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (site / "assetbuild.toml").write_text(
        'root = "static"\n\n[[bundle]]\noutput = "js/main.js"\nsources = ["js/src/*.js"]\n\n'
        '[[bundle]]\noutput = "css/site.css"\nsources = ["css/src/*.css"]\n',
        encoding="utf-8",
    )
    return site


def classify_interrupt(returncode: int, stderr: str) -> str:
    """How one interrupted run ended.

    "clean": exit 130 and the one line; "finished": the run ended before the signal (exit 0, no
    traceback); "before-entry": the interpreter had not reached assetbuild's entry point yet (killed
    by the signal before Python handles it, or a KeyboardInterrupt in its own start-up, such as
    `site`: no assetbuild frame past an import); anything else is "traceback".
    """
    if returncode == 130 and stderr == INTERRUPTED_LINE + "\n":
        return "clean"
    if returncode == 0 and "Traceback" not in stderr and "Exception" not in stderr:
        return "finished"
    entered = "in run\n" in stderr or INTERRUPTED_LINE in stderr
    if (
        not entered
        and returncode in (-signal.SIGINT, 1)
        and (stderr == "" or stderr.rstrip().endswith("KeyboardInterrupt"))
    ):
        return "before-entry"
    return "traceback"


def interrupt_scenario(work: Path, runs: int, seed: int = 0, *, pool: bool = False) -> Figure:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) at random moments of real
    `assetbuild check --no-cache` runs: half in the first 0.6 s (start-up: imports, config, the
    engine or the pool), half anywhere in a run, each half stratified (one random moment in each
    of equal slices). Each must end with exit 130 and one line, promptly."""
    name = "interrupts, process pool" if pool else "interrupts, engine threads"
    figure = Figure(name)
    start = time.monotonic()
    site = interrupt_site(work / ("interrupt-pool" if pool else "interrupt"), pool=pool)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    env["NO_COLOR"] = "1"
    if pool:
        env["ASSETBUILD_ENGINE"] = "esprima"
    t0 = time.monotonic()
    first = subprocess.run(
        [ASSETBUILD, "check", "--no-cache"], cwd=site, env=env, capture_output=True, text=True
    )
    duration = time.monotonic() - t0
    if first.returncode != 0:
        figure.bad += 1
        figure.problems.append(f"{name}: the uninterrupted check failed: {first.stderr[-500:]}")
        return figure
    rng = random.Random(seed)
    kinds: dict[str, int] = {}
    latencies: list[float] = []
    early = (runs + 1) // 2  # stratified: one random moment in each slice of the start-up
    for n in range(runs):
        if n < early:
            delay = (n + rng.random()) * STARTUP_SECONDS / early
        else:
            delay = (n - early + rng.random()) * duration * 1.1 / (runs - early)
        proc = subprocess.Popen(
            [ASSETBUILD, "check", "--no-cache"],
            cwd=site,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        sent = time.monotonic()
        try:
            _, stderr = proc.communicate(timeout=60)
            kind = classify_interrupt(proc.returncode, stderr)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            _, stderr = proc.communicate()
            kind = "hang"
        latency = time.monotonic() - sent
        latencies.append(latency)
        if kind == "clean" and latency > INTERRUPT_EXIT_LIMIT:
            kind = "slow"
        kinds[kind] = kinds.get(kind, 0) + 1
        figure.tried += 1
        if kind in ("traceback", "hang", "slow"):
            figure.bad += 1
            figure.problems.append(
                f"{name}: after {delay:.3f} s: {kind}, exit {proc.returncode}: {stderr[-800:]}"
            )
    latencies.sort()
    figure.detail = (
        f"{kinds.get('clean', 0)} exit 130 with one line, {kinds.get('finished', 0)} finished "
        f"first, {kinds.get('before-entry', 0)} in Python's start-up; exit after the signal: "
        f"median {latencies[len(latencies) // 2]:.2f} s, max {latencies[-1]:.2f} s"
        if latencies
        else ""
    )
    figure.seconds = time.monotonic() - start
    return figure


# --- forged and damaged caches (item 6) ---------------------------------------------------------
# The attacker writes the cache directory (a CI cache restored from a pull request's run, a shared
# build box), not the sources, the installed files or the user's home where the cache key lives.
# Forgeries use the cache's own formats, as someone reading this code would: entries signed with a
# key of their own, the genuine header around new contents, and the checksum-only framing anyone can
# recompute (the format before the fix); damaged entries are truncated, bit-flipped or garbage.

PWNED = "alert('pwned');"
FORGERIES = ("own key", "genuine header", "checksum only")
DAMAGES = ("truncated", "bit flip", "garbage")
CACHE_KINDS = FORGERIES + DAMAGES
RACY_SECONDS = 2.1  # stamps.RACY_NS, and a little


def _attacker_key() -> Any:
    from assetbuild.cachehome import Key

    return Key(b"the attacker's own key, from their machine or pull request", "attacker")


def _damage(kind: str, raw: bytes) -> bytes:
    if kind == "truncated":
        return raw[: len(raw) // 2]
    if kind == "bit flip":
        at = len(raw) * 2 // 3
        return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :] if raw else b"\x01"
    return random.Random(len(raw)).randbytes(max(len(raw), 64))


def _frame_entry(kind: str, genuine: bytes, namespace: str, key: str, value: Any) -> bytes:
    """A content-cache entry for `key` holding `value` ((meta, blobs) or a FileResult), framed as
    `kind` (a forgery) or `genuine` damaged (a damage)."""
    import struct

    from assetbuild.cache import content
    from assetbuild.cache.codec import encode_value

    if kind in DAMAGES:
        return _damage(kind, genuine)
    if isinstance(value, tuple):
        meta, blobs = value
    else:
        table: dict[str, int] = {}
        meta = encode_value(value, table)
        blobs = [s.encode("utf-8", "surrogatepass") for s in table]
    made = content.format_entry(_attacker_key(), namespace, key, meta, blobs)
    if kind == "own key":
        return made
    meta_len = content._HEADER.unpack_from(made)[3]
    body = made[content._HEADER.size :]
    if kind == "genuine header":
        magic, ident, mac, _ = content._HEADER.unpack_from(genuine)
        return content._HEADER.pack(magic, ident, mac, meta_len) + body
    digest = hashlib.sha256(key.encode() + b"\0" + body).digest()  # the format before the fix
    return struct.pack(">8s32sI", b"ABCACHE1", digest, meta_len) + body


def _cache_entries(cache_dir: Path, namespace: str) -> list[Path]:
    from assetbuild.cache import content

    folder = cache_dir / content.ENTRIES_DIR / namespace
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _forge_entries(cache_dir: Path, kind: str, make: Any) -> int:
    """Replace every per-file result and every precompressed variant; return how many."""
    from assetbuild.cache.content import ContentCache
    from assetbuild.install.compress import compress_gzip

    reader = ContentCache(cache_dir, read_only=True)
    count = 0
    for path in _cache_entries(cache_dir, "file"):
        genuine = reader.get_result(path.name)
        if genuine is None:
            continue
        forged = _frame_entry(kind, path.read_bytes(), "file", path.name, make(genuine))
        path.write_bytes(forged)
        count += 1
    for path in _cache_entries(cache_dir, "compress"):
        bad = ([".gz"], [compress_gzip(PWNED.encode() * 10)])
        path.write_bytes(_frame_entry(kind, path.read_bytes(), "compress", path.name, bad))
        count += 1
    return count


def _age_site(site: Path, seconds: float = 60.0) -> None:
    """Stamps older than the racy window, so that only the cache's signatures stand in the way."""
    past = time.time() - seconds
    for path in site.rglob("*"):
        if path.is_file() and ".assetbuild-cache" not in path.parts:
            os.utime(path, (past, past))


def _stamp_list(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _forge_state(site: Path, kind: str) -> int:
    """Restamp the install state with the sources' current stamps, framed as `kind`."""
    from assetbuild.cache import state
    from assetbuild.config import load_config

    config = load_config(site)
    path = state.state_path(config)
    raw = path.read_bytes()
    head = len(state._MAGIC) + 8 + 32
    if kind in DAMAGES:
        path.write_bytes(_damage(kind, raw))
        return 1
    data = json.loads(raw[head:])
    data["sources"] = [[p, _stamp_list(p)] for p, _ in data["sources"]]
    body = json.dumps(data, sort_keys=True).encode()
    if kind == "own key":
        attacker = _attacker_key()
        mac = attacker.sign(b"state", state._site(config), body, new=hashlib.sha256)
        forged = state._MAGIC + attacker.ident + mac + body
    elif kind == "genuine header":
        forged = raw[:head] + body
    else:
        forged = body  # the plain JSON state before the fix
    path.write_bytes(forged)
    return 1


def _forge_quick(site: Path, kind: str) -> int:
    """Restamp every quick record with the stamps the files have now, framed as `kind`."""
    import marshal
    import zlib

    from assetbuild import quick, stamps

    path = site / quick.QUICK_FILE
    raw = path.read_bytes()
    if kind in DAMAGES:
        path.write_bytes(_damage(kind, raw))
        return 1
    head = len(quick._MAGIC) + 8 + quick._MAC_SIZE
    data = marshal.loads(raw[head:])
    for record in data["entries"].values():
        record["stamps"] = [[p, stamps.stamp(p)] for p, _ in record["stamps"]]
    payload = marshal.dumps(data)
    if kind == "own key":
        forged = quick._dump(data["entries"], str(site / quick.QUICK_CACHE), _attacker_key())
    elif kind == "genuine header":
        forged = raw[:head] + payload
    else:  # the CRC-32 framing before the fix
        forged = b"ABQUICK2" + zlib.crc32(payload).to_bytes(4, "big") + payload
    path.write_bytes(forged)
    return 1


def _says_up_to_date(stdout: str) -> bool:
    """Whether the install answered "up to date" as a whole (its last line), not per bundle."""
    return any(line.strip() == "up to date" for line in stdout.splitlines())


def _serves_sources(site: Path) -> list[str]:
    """Problems when the manifest does not serve exactly what a clean build of the sources makes."""
    root = site / "static"
    problems = check_manifest(root, (root / "manifest.json").read_bytes())
    shipped = served(root)
    for name, data in built_outputs(site).items():
        if shipped.get(name) != data:
            pwned = PWNED.encode() in shipped.get(name, b"")
            problems.append(
                f"{name}: shipped bytes in no source{' (the forgery)' if pwned else ''}"
            )
    return problems


def forged_cache_scenario(work: Path, kinds: tuple[str, ...] = CACHE_KINDS) -> Figure:
    """Forge (and damage) the content cache's per-file results, precompressed variants and
    verdicts, the install state and the quick record, then run the real `install` and `check`:
    `tried` counts the planted entries, `bad` the installs that shipped bytes in no source, the
    `check`/`install` runs that passed a broken source, and the "up to date" answers given to a
    changed site (each must be 0)."""
    figure = Figure("forged/damaged cache entries")
    start = time.monotonic()
    site = make_site(work / "forged")
    cache_dir = site / ".assetbuild-cache"
    state_no = 0
    counts = {"entries": 0, "verdicts": 0, "states": 0, "quick records": 0}
    shipped_bad = passed_broken = up_to_date = 0

    def bad(where: str, problems: list[str]) -> None:
        figure.bad += 1
        figure.problems += [f"forged cache, {where}: {p}" for p in problems[:3]]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(site, *args)

    first = run("install", "-q")
    if first.returncode != 0:
        bad("first install", [first.stderr])
        return figure
    broken = site / "static/js/src/zz-broken.js"
    for kind in kinds:
        # 1. every cached per-file result says `alert('pwned')`, every .gz variant too
        n = _forge_entries(
            cache_dir, kind, lambda r: dataclasses.replace(r, text=PWNED, checked_text=PWNED)
        )
        counts["entries"] += n
        done = run("install", "-q", "--bump")
        problems = [] if done.returncode == 0 else [f"exit {done.returncode}: {done.stderr}"]
        problems = problems or _serves_sources(site)
        if problems:
            shipped_bad += 1
            bad(f"{kind} entries", problems)
        # 2. a broken source whose cached verdict is a good file's "ok"
        from assetbuild.cache.content import ContentCache

        good = ContentCache(cache_dir, read_only=True).get_result(
            _cache_entries(cache_dir, "file")[0].name
        )
        broken.write_text("var = ;\n", encoding="utf-8")
        run("install", "-q")  # the real verdict (an error), cached
        counts["verdicts"] += _forge_entries(cache_dir, kind, lambda _r, g=good: g)
        checked, installed = run("check", "-q"), run("install", "-q")
        if checked.returncode == 0 or installed.returncode == 0:
            passed_broken += 1
            bad(
                f"{kind} verdict",
                [
                    f"check exit {checked.returncode}, "
                    f"install exit {installed.returncode} on a syntax error"
                ],
            )
        broken.unlink()
        # 3. the install state, restamped after an edit: must not answer "up to date"
        run("install", "-q")
        state_no += 1
        write_state(site, state_no)
        _age_site(site)
        counts["states"] += _forge_state(site, kind)
        done = run("install")
        problems = _serves_sources(site) if done.returncode == 0 else [done.stderr]
        if _says_up_to_date(done.stdout):
            up_to_date += 1
            problems.insert(0, "answered 'up to date' to a changed site")
        if problems:
            bad(f"{kind} state", problems)
        # 4. the quick record, proven once, then restamped after an edit
        _age_site(site)
        time.sleep(RACY_SECONDS)  # a stamp (ctime too) younger than this is never recorded
        run("install")  # proven by hash: the state takes the new stamps
        run("install")  # proven by the state's stamps: recorded
        quick_file = site / ".assetbuild-cache/state/quick.bin"
        if not quick_file.is_file():
            bad(f"{kind} quick record", ["no quick record was written to forge"])
            continue
        state_no += 1
        write_state(site, state_no)
        _age_site(site)
        counts["quick records"] += _forge_quick(site, kind)
        done = run("install")
        problems = _serves_sources(site) if done.returncode == 0 else [done.stderr]
        if _says_up_to_date(done.stdout):
            up_to_date += 1
            problems.insert(0, "answered 'up to date' to a changed site")
        if problems:
            bad(f"{kind} quick record", problems)
    figure.tried = sum(counts.values())
    figure.detail = (
        ", ".join(f"{n} {what}" for what, n in counts.items())
        + f" ({', '.join(kinds)}); shipped bytes in no source {shipped_bad}, broken source"
        f" passed {passed_broken}, 'up to date' to a changed site {up_to_date}"
    )
    figure.seconds = time.monotonic() - start
    return figure


# --- symlink and special-file traps (items 1, 2, 4, 9) ------------------------------------------
# Each trap is planted in a fresh zero-config site (js/source/a.js) beside an `outside` directory
# that the links point at; the real command runs with a timeout and an address-space limit, so a
# hang or a runaway read is counted instead of hurting the machine.

LOCK_NAME = ".assetbuild.lock"
TRAP_TIMEOUT = 30.0
TRAP_MEMORY = 1 << 30  # RLIMIT_AS of every trapped run: a read of /dev/zero ends in MemoryError
_LIMITED = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)
USER_FILES = {
    ".gitignore": "node_modules/\n",
    "state/notes.txt": "mine\n",
    "v2/draft.txt": "mine\n",
}
PRUNE = ("prune", "--keep", "1", "--min-age", "0")


def run_limited(
    cwd: Path, *args: str, timeout: float = TRAP_TIMEOUT, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str] | None:
    """The real command under an address-space limit (esprima: V8 reserves more); None on a hang."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    env["ASSETBUILD_ENGINE"] = "esprima"
    env["NO_COLOR"] = "1"
    command = [*prefix, ASSETBUILD, *(args or ("install", "-q"))]
    if prefix:
        command[0] = shutil.which(command[0]) or command[0]
    proc = subprocess.Popen(
        [sys.executable, "-c", _LIMITED, str(TRAP_MEMORY), *command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        return None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def snapshot(base: Path) -> dict[str, bytes | str]:
    """Every entry under base: file bytes, link targets, directories and special files by kind."""
    import stat

    found: dict[str, bytes | str] = {}
    if not base.exists():
        return found
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base).as_posix()
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[rel] = "-> " + os.readlink(path)
        elif stat.S_ISDIR(mode):
            found[rel] = f"<dir {stat.S_IMODE(mode):o}>"
        elif stat.S_ISREG(mode):
            found[rel] = path.read_bytes()
        else:
            found[rel] = "<special>"
    return found


def trap_sandbox(base: Path) -> Path:
    """base/site (zero-config: js/source/a.js) beside base/outside (what links point at)."""
    (base / "outside/dir").mkdir(parents=True)
    (base / "outside/victim.txt").write_text("precious\n")
    (base / "outside/dir/keep.txt").write_text("keep\n")
    (base / "beside.txt").write_text("the user's, beside the site\n")
    site = base / "site"
    (site / "js/source").mkdir(parents=True)
    (site / "js/source/a.js").write_text("var a = 1;\n")
    return site


def _config(site: Path, output: str = "js/main.js", extra: str = "") -> None:
    (site / "assetbuild.toml").write_text(
        f'{extra}[[bundle]]\noutput = "{output}"\nsources = ["js/source/*.js"]\n'
    )


def _installed_twice(site: Path) -> None:
    for n in (1, 2):
        (site / "js/source/a.js").write_text(f"var a = {n};\n")
        run_limited(site)


def _sparse(path: Path, size: int = 65 << 20) -> None:
    with open(path, "wb") as f:
        f.truncate(size)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _replace(path: Path, make: Any) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    make(path)


def _link(target: str | Path) -> Any:
    return lambda path: path.symlink_to(target)


def _mkdir_with_file(path: Path) -> None:
    path.mkdir()
    (path / "x").write_text("x")


def _traps(base: Path) -> list[tuple[str, Any, tuple[tuple[str, ...], ...]]]:
    """(name, plant(site), the commands run against it)."""
    outside = base / "outside"
    install: tuple[tuple[str, ...], ...] = (("install", "-q"),)
    both = (("install", "-q"), PRUNE)
    manifest = "manifest.json"

    def at(rel: str, make: Any, before: Any = None, config: str | None = None) -> Any:
        def plant(site: Path) -> None:
            if config is not None:
                _config(site, extra=config)
            if before is not None:
                before(site)
            _replace(site / rel, make)

        return plant

    def cache_at(rel: str, make: Any) -> Any:
        def plant(site: Path) -> None:
            _config(site)
            run_limited(site)
            (site / "js/source/a.js").write_text("var a = 2;\n")
            found = sorted((site / ".assetbuild-cache").glob(rel))
            target = found[0] if found else site / ".assetbuild-cache" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            _replace(target, make)

        return plant

    def area(output: str, link: str, target: Path, then: Any = None) -> Any:
        def plant(site: Path) -> None:
            _config(site, output)
            (site / link).parent.mkdir(parents=True, exist_ok=True)
            (site / link).symlink_to(target)
            if then is not None:
                then(site)

        return plant

    def version_link(target: Path) -> Any:
        def plant(site: Path) -> None:
            run_limited(site)
            (site / "js/2").symlink_to(target)
            (site / "js/source/a.js").write_text("var a = 2;\n")

        return plant

    def cache_dir(value: str, root: str = "") -> Any:
        def plant(site: Path) -> None:
            for rel, text in USER_FILES.items():
                (site / rel).parent.mkdir(parents=True, exist_ok=True)
                (site / rel).write_text(text)
            _config(site, extra=(f'root = "{root}"\n' if root else "") + f'cache_dir = "{value}"\n')

        return plant

    other_site = outside / "other-site/js"

    def prune_through(site: Path) -> None:
        for version in (1, 2, 3):
            (other_site / str(version)).mkdir(parents=True, exist_ok=True)
            (other_site / str(version) / "main.js").write_text(f"v{version}")

    return [
        ("lock -> a file outside", at(LOCK_NAME, _link(outside / "victim.txt")), both),
        ("lock -> nothing (dangling)", at(LOCK_NAME, _link(outside / "created.txt")), both),
        ("lock is a FIFO", at(LOCK_NAME, _fifo), both),
        ("lock is a directory", at(LOCK_NAME, _mkdir_with_file), install),
        ("manifest -> a file outside", at(manifest, _link(outside / "victim.txt")), install),
        ("manifest is a FIFO", at(manifest, _fifo, _installed_twice), both),
        ("manifest -> /dev/zero", at(manifest, _link("/dev/zero"), _installed_twice), both),
        ("manifest is a directory", at(manifest, _mkdir_with_file, _installed_twice), both),
        ("manifest is 65 MB sparse", at(manifest, _sparse, _installed_twice), both),
        ("manifest = /dev/full", lambda s: _config(s, extra='manifest = "/dev/full"\n'), install),
        ("manifest = /dev/zero", lambda s: _config(s, extra='manifest = "/dev/zero"\n'), install),
        (
            "manifest dir -> outside",
            area(
                "js/main.js",
                "meta",
                outside / "dir",
                lambda s: _config(s, extra='manifest = "meta/manifest.json"\n'),
            ),
            install,
        ),
        ("area -> outside", area("dist/main.js", "dist", outside / "dir"), install),
        (
            "nested area -> outside",
            area("assets/js/main.js", "assets/js", outside / "dir"),
            install,
        ),
        (
            "prune through an area link",
            area("dist/main.js", "dist", other_site, prune_through),
            (PRUNE,),
        ),
        ("version 2 -> outside", version_link(outside / "dir"), install),
        ("version 2 -> nothing", version_link(outside / "nothing"), install),
        (
            "build --out through a link",
            area("js/main.js", "out/js", outside / "dir"),
            (("build", "--out", "out", "-q"),),
        ),
        ('cache_dir = "."', cache_dir("."), (("install", "-q"), ("cache", "clear"))),
        ('cache_dir = ".."', cache_dir(".."), (("install", "-q"), ("cache", "clear"))),
        (
            "cache_dir = the root",
            cache_dir("static", "static"),
            (("install", "-q"), ("cache", "clear")),
        ),
        ("cached entries dir -> outside", cache_at("v2", _link(outside / "dir")), install),
        ("cached state -> /dev/zero", cache_at("state/*.state", _link("/dev/zero")), install),
        ("quick record is a FIFO", cache_at("state/quick.bin", _fifo), install),
    ]


def trap_scenario(work: Path, only: int | None = None) -> Figure:
    """Symlinks at the lock, the manifest, area, version, manifest and output directories, FIFOs,
    devices and giants at the manifest path, a cache_dir over the site, traps in the cache: run the
    real commands against each; `tried` counts the trapped runs, `bad` those that changed anything
    outside the root (or the user's files), hung, printed a traceback or ran out of memory."""
    figure = Figure("symlink/special-file traps")
    start = time.monotonic()
    exits: dict[int, int] = {}
    kinds = {"wrote outside": 0, "hung": 0, "traceback": 0, "out of memory": 0}
    traps = _traps(work / "names")
    for index, (name, _plant, commands) in enumerate(traps):
        if only is not None and index % only != 0:
            continue
        base = work / f"trap-{index}"
        site = trap_sandbox(base)
        _traps(base)[index][1](site)
        outside = snapshot(base / "outside")
        beside = (base / "beside.txt").read_bytes()
        top = sorted(os.listdir(base))  # the site's parent: nothing appears or goes there
        user = {rel: (site / rel).read_bytes() for rel in USER_FILES if (site / rel).is_file()}
        for command in commands:
            figure.tried += 1
            result = run_limited(site, *command)
            found: list[str] = []
            if result is None:
                found.append("hung")
            else:
                exits[result.returncode] = exits.get(result.returncode, 0) + 1
                if "MemoryError" in result.stderr:
                    found.append("out of memory")
                if "Traceback" in result.stderr or result.returncode in (4, -signal.SIGSEGV):
                    found.append("traceback")
            if (
                snapshot(base / "outside") != outside
                or (base / "beside.txt").read_bytes() != beside
                or sorted(os.listdir(base)) != top
                or any(
                    not (site / rel).is_file() or (site / rel).read_bytes() != data
                    for rel, data in user.items()
                )
            ):
                found.append("wrote outside")
            if found:
                figure.bad += 1
                for kind in found:
                    kinds[kind] += 1
                tail = "" if result is None else result.stderr[-600:]
                figure.problems.append(f"trap {name!r}, {' '.join(command)}: {found}: {tail}")
        shutil.rmtree(base, ignore_errors=True)
    figure.detail = (
        f"{len(traps) if only is None else len(range(0, len(traps), only))} traps; "
        + ", ".join(f"{what} {n}" for what, n in kinds.items())
        + "; exits "
        + " ".join(f"{code}x{n}" for code, n in sorted(exits.items()))
    )
    figure.seconds = time.monotonic() - start
    return figure


# --- read-only leftovers (item 5) ------------------------------------------------------------
# Run as root without the capabilities that let it ignore file modes (CI runs as root), or as the
# unprivileged user running the bench: modes then bind the tool as they bind any user.

_CAPS = "-dac_override,-dac_read_search,-fowner"
DROP_CAPS = ("setpriv", f"--inh-caps={_CAPS}", f"--bounding-set={_CAPS}")


def unprivileged_prefix() -> tuple[tuple[str, ...] | None, str]:
    """(a command prefix under which file modes bind, "") or (None, why there is none)."""
    if os.geteuid() != 0:
        return (), ""
    if shutil.which("setpriv") is None:
        return None, "running as root without setpriv (util-linux) to drop CAP_DAC_OVERRIDE"
    probe = subprocess.run([*DROP_CAPS, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return None, f"setpriv cannot drop capabilities here: {probe.stderr.strip()[-200:]}"
    return DROP_CAPS, ""


def _writable_rmtree(path: Path) -> None:
    """Remove a tree whatever its modes (the bench's own files)."""
    for sub in [path, *path.rglob("*")] if path.exists() else []:
        if sub.is_dir() and not sub.is_symlink():
            with contextlib.suppress(OSError):
                sub.chmod(0o700)
    shutil.rmtree(path, ignore_errors=True)


def _temp_leftovers(base: Path) -> list[Path]:
    return [p for p in base.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def readonly_scenario(
    work: Path, inner_modes: tuple[int, ...] = (0o555, 0o500, 0o111, 0o000)
) -> Figure:
    """Read-only leftovers met by the real command as a user without root's file capabilities:
    a read-only hand-placed directory in the current version (installs and prunes), read-only
    `.assetbuild-tmp-*` leftovers of a failed bump or prune with read-only or unreadable
    directories inside, a read-only current version. `tried` counts the read-only directories
    planted, `bad` the installs or prunes they blocked and the leftovers still there after."""
    figure = Figure("read-only leftovers")
    start = time.monotonic()
    prefix, why = unprivileged_prefix()
    if prefix is None:
        figure.measured = False
        figure.detail = f"not measured: {why}"
        return figure
    runs = blocked = remaining = 0

    def step(site: Path, *args: str, expect: int = 0) -> None:
        nonlocal runs, blocked
        runs += 1
        result = run_limited(site, *args, prefix=prefix)
        if result is None or result.returncode != expect or "Traceback" in result.stderr:
            blocked += 1
            figure.bad += 1
            code = "hang" if result is None else f"exit {result.returncode}"
            tail = "" if result is None else result.stderr[-500:]
            figure.problems.append(
                f"read-only, {site.parent.name}: {' '.join(args)}: {code}: {tail}"
            )

    def settled(site: Path) -> None:
        nonlocal remaining
        left = _temp_leftovers(site)
        if left:
            remaining += len(left)
            figure.bad += 1
            figure.problems.append(f"read-only, {site.parent.name}: leftovers remain: {left}")

    def edit(site: Path, n: int) -> None:
        (site / "js/source/a.js").write_text(f"var a = {n};\n")

    # 1. a hand-placed read-only directory, copied into every later version and pruned with it
    site = trap_sandbox(work / "ro-hand")
    step(site)
    vendor = site / "js/1/vendor"
    (vendor / "deep").mkdir(parents=True)
    (vendor / "deep/lib.txt").write_text("lib\n")
    (vendor / "deep").chmod(0o555)
    vendor.chmod(0o555)
    figure.tried += 2
    for n in (2, 3):
        edit(site, n)
        step(site)
        step(site, *PRUNE)
    settled(site)
    if not (site / "js/3/vendor/deep/lib.txt").is_file():
        figure.bad += 1
        figure.problems.append("read-only, ro-hand: the hand-placed files were not carried over")
    _writable_rmtree(work / "ro-hand")
    # 2. leftovers of a failed bump or prune, read-only, with read-only or unreadable insides
    for inner in inner_modes:
        for name in ("2-77-aa", "prune-1-77-bb"):
            base = work / f"ro-left-{inner:o}-{name}"
            site = trap_sandbox(base)
            step(site)
            left = site / "js" / f"{TEMP_PREFIX}{name}"
            (left / "sub/deeper").mkdir(parents=True)
            (left / "sub/deeper/f.js").write_text("half")
            (left / "main.js").write_text("half")
            for path in (left / "sub/deeper", left / "sub"):
                path.chmod(inner)
            left.chmod(0o555)
            figure.tried += 3
            edit(site, 2)
            step(site)
            settled(site)
            _writable_rmtree(base)
    # 3. a read-only current version: a bump copies it; in place is refused with a clear message
    site = trap_sandbox(work / "ro-current")
    step(site)
    (site / "js/1").chmod(0o555)
    figure.tried += 1
    edit(site, 2)
    step(site)
    edit(site, 3)
    step(site, "install", "-q", "--into-current", expect=3)  # refused, names `chmod u+w`
    step(site, "install", "-q", "--bump")
    settled(site)
    _writable_rmtree(work / "ro-current")
    who = "root without CAP_DAC_OVERRIDE/CAP_FOWNER (setpriv)" if prefix else "an unprivileged user"
    figure.detail = (
        f"{runs} runs as {who}; installs or prunes blocked {blocked}, leftovers remaining"
        f" {remaining}"
    )
    figure.seconds = time.monotonic() - start
    return figure


# --- peak memory per MB of input (item 11: measured here, reduced elsewhere) -------------------

MEMORY_CAP_MB = 2048  # a run whose process group holds more is killed and reported as "over"


def _group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in the group, from /proc (Linux)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21])  # rss, in pages
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def peak_run(
    command: list[str], cwd: Path, env: Mapping[str, str], cap_mb: float = MEMORY_CAP_MB
) -> tuple[int, float, bool]:
    """(exit code, peak resident MB, whether it was killed at `cap_mb`) of one run in a fresh
    process: the peak is the child's ru_maxrss from wait4 (the largest process, with everything it
    waited for); the cap watches the whole group's resident memory every 20 ms."""
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    capped = threading.Event()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            if _group_rss_mb(proc.pid) > cap_mb:
                capped.set()
                _kill_group(proc)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    _kill_group(proc)  # anything it left behind
    return proc.returncode, usage.ru_maxrss / 1024, capped.is_set()


def memory_cases(selectors: int, string_mb: float, script_mb: float) -> dict[str, tuple[str, str]]:
    """name -> (the file under css/src or js/src, its text): the largest-source cases of item 11."""
    string_chars = int(string_mb * 1_000_000)
    script = []
    size = i = 0
    while size < script_mb * 1_000_000:
        part = f"var v{i}=function(x){{return [x,{i},'s{i}'];}};"
        script.append(part)
        size += len(part)
        i += 1
    return {
        "baseline (one small file each)": ("js/src/small.js", "var small = 1;\n"),
        f"{selectors:,} CSS selectors": (
            "css/src/many.css",
            "".join(f".s{n}{{color:red}}\n" for n in range(selectors)),
        ),
        "unterminated CSS string": ("css/src/string.css", 'a { content: "' + "x" * string_chars),
        "one-line script": ("js/src/line.js", "".join(script) + "\n"),
    }


@dataclass
class MemoryRow:
    case: str
    input_mb: float
    peak_mb: float
    exit: int
    capped: bool  # killed at the cap: the peak is at least this
    ratio: float  # peak / input
    above_baseline_ratio: float  # (peak - the baseline's peak) / input


def memory_scenario(
    work: Path,
    selectors: int = 100_000,
    string_mb: float = 1.0,
    script_mb: float = 3.0,
    cap_mb: float = MEMORY_CAP_MB,
) -> tuple[Figure, list[MemoryRow]]:
    """Peak resident memory of `assetbuild install -q --no-cache` (ASSETBUILD_JOBS=1: one
    process does all the work, so the largest child's peak is the run's) in a fresh subprocess
    per case, from getrusage(RUSAGE_CHILDREN).ru_maxrss; the ratio peak / input, and above the
    peak of a baseline run on two tiny files. Measures only: `bad` stays 0."""
    figure = Figure("peak memory per MB of input")
    start = time.monotonic()
    rows: list[MemoryRow] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
    env["ASSETBUILD_JOBS"] = "1"
    baseline = 0.0
    over = 0
    for n, (case, (rel, text)) in enumerate(memory_cases(selectors, string_mb, script_mb).items()):
        site = work / f"memory-{n}"
        files = {"css/src/small.css": "a{color:red}\n", "js/src/small.js": "var small = 1;\n"}
        files[rel] = text
        for name, body in files.items():
            (site / "static" / name).parent.mkdir(parents=True, exist_ok=True)
            (site / "static" / name).write_text(body, encoding="utf-8")
        (site / "assetbuild.toml").write_text(
            'root = "static"\n\n[[bundle]]\noutput = "js/main.js"\nsources = ["js/src/*.js"]\n'
            '\n[[bundle]]\noutput = "css/site.css"\nsources = ["css/src/*.css"]\n',
            encoding="utf-8",
        )
        command = [ASSETBUILD, "install", "-q", "--no-cache"]
        code, peak, capped = peak_run(command, site, env, cap_mb)
        if capped:
            over += 1
        size = len(text.encode("utf-8")) / 1_000_000
        if n == 0:
            baseline = peak
        rows.append(
            MemoryRow(case, size, peak, code, capped, peak / size, max(peak - baseline, 0.0) / size)
        )
        figure.tried += 1
        shutil.rmtree(site, ignore_errors=True)
    big = [r for r in rows[1:]]
    figure.detail = f"{over} over the {cap_mb:.0f} MB cap; " * bool(over) + "; ".join(
        f"{r.case} {r.input_mb:.1f} MB: peak {'over ' if r.capped else ''}{r.peak_mb:.0f} MB,"
        f" {r.ratio:.0f}x"
        f" ({r.above_baseline_ratio:.0f}x above the {baseline:.0f} MB baseline)"
        for r in big
    )
    figure.seconds = time.monotonic() - start
    return figure, rows


# ------------------------------------------------------------------------------------------------ main


FIGURES = ("forged", "traps", "readonly", "interrupts", "memory")


def round_two(work: Path, args: argparse.Namespace) -> tuple[list[Figure], list[MemoryRow]]:
    """The issue-12 figures: forged caches, traps, read-only leftovers, interrupts, memory."""
    from assetbuild.js import engine as jsengine

    wanted = set(args.figures.split(","))
    unknown = wanted - set(FIGURES)
    if unknown:
        raise SystemExit(f"--figures: unknown {sorted(unknown)}; choose from {','.join(FIGURES)}")
    figures: list[Figure] = []
    rows: list[MemoryRow] = []
    if "forged" in wanted:
        figures.append(forged_cache_scenario(work))
    if "traps" in wanted:
        figures.append(trap_scenario(work))
    if "readonly" in wanted:
        figures.append(readonly_scenario(work))
    if "interrupts" in wanted and args.interrupts > 0:
        if jsengine.available():
            figures.append(interrupt_scenario(work, args.interrupts, args.seed))
        else:
            figures.append(
                Figure(
                    "interrupts, engine threads",
                    measured=False,
                    detail="not measured: needs the fast engine (pip install 'assetbuild[fast]')",
                )
            )
        figures.append(interrupt_scenario(work, args.interrupts, args.seed, pool=True))
    if "memory" in wanted:
        memory, rows = memory_scenario(
            work, args.selectors, args.string_mb, args.script_mb, args.memory_cap_mb
        )
        figures.append(memory)
    return figures, rows


@contextlib.contextmanager
def _private_cache_home(home: Path) -> Iterator[None]:
    """The cache key and zero-config caches of every run go to `home`, not ~/.cache; the caller's
    environment is restored afterwards (the tests call main() in their own process)."""
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "ASSETBUILD_CACHE_KEY")}
    os.environ["XDG_CACHE_HOME"] = str(home)
    os.environ.pop("ASSETBUILD_CACHE_KEY", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kills", type=int, default=30, help="timed kills (default 30)")
    parser.add_argument("--stress-seconds", type=float, default=20.0, help="stress duration")
    parser.add_argument("--writers", type=int, default=3, help="concurrent installing processes")
    parser.add_argument(
        "--interrupts", type=int, default=8, help="Ctrl-C runs per interrupt scenario (default 8)"
    )
    parser.add_argument(
        "--selectors",
        type=int,
        default=100_000,
        help="memory row: CSS selectors (1,000,000 = 17 MB)",
    )
    parser.add_argument(
        "--string-mb", type=float, default=1.0, help="memory row: unterminated CSS string, MB"
    )
    parser.add_argument(
        "--script-mb", type=float, default=3.0, help="memory row: one-line script, MB"
    )
    parser.add_argument(
        "--memory-cap-mb",
        type=float,
        default=MEMORY_CAP_MB,
        help=f"memory row: kill a run above this resident size (default {MEMORY_CAP_MB})",
    )
    parser.add_argument("--only-figures", action="store_true", help="skip the round-1 scenarios")
    parser.add_argument(
        "--figures",
        default=",".join(FIGURES),
        help=f"round-2 figures to run, comma-separated (default {','.join(FIGURES)})",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--no-s3",
        action="store_true",
        help="skip the s3 target's scenarios (bench/s3_reliability.py)",
    )
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="assetbuild-reliability-") as tmp,
        _private_cache_home(Path(tmp) / "cache-home"),
    ):
        work = Path(tmp)
        tallies = []
        if not args.only_figures:
            tallies = [
                fault_scenario(work),
                timed_kill_scenario(work, args.kills, args.seed),
                stress_scenario(work, args.stress_seconds, args.writers),
            ]
            if not args.no_s3:
                tallies += _s3_tallies(work, args)
        figures, rows = round_two(work, args)
        _writable_rmtree(work)
    total = {
        key: sum(getattr(t, key) for t in tallies)
        for key in (
            "faults_injected",
            "runs",
            "runs_survived",
            "versions_created",
            "bytes_lost_or_changed",
            "manifest_reads",
            "invalid_manifest_reads",
            "objects_overwritten",
        )
    }
    problems = [p for t in tallies for p in t.problems] + [p for f in figures for p in f.problems]
    bad = sum(f.bad for f in figures)
    ok = not problems and bad == 0
    if args.json:
        print(
            json.dumps(
                {
                    "scenarios": [asdict(t) for t in tallies],
                    "total": total,
                    "figures": [asdict(f) for f in figures],
                    "memory": [asdict(r) for r in rows],
                    "ok": ok,
                },
                indent=2,
            )
        )
    else:
        if tallies:
            header = f"{'scenario':<22}{'faults':>8}{'runs':>7}{'survived':>10}{'versions':>10}"
            header += f"{'bytes lost/changed':>20}{'manifest reads':>16}{'invalid':>9}"
            header += f"{'overwritten':>13}{'s':>7}"
            print(header)
            for t in tallies:
                print(
                    f"{t.scenario:<22}{t.faults_injected:>8}{t.runs:>7}{t.runs_survived:>10}"
                    f"{t.versions_created:>10}{t.bytes_lost_or_changed:>20}{t.manifest_reads:>16}"
                    f"{t.invalid_manifest_reads:>9}{t.objects_overwritten:>13}{t.seconds:>7.1f}"
                )
            print()
        print(f"{'figure':<32}{'tried':>7}{'bad':>5}{'s':>7}  detail")
        for f in figures:
            tried = f"{f.tried}" if f.measured else "-"
            print(f"{f.scenario:<32}{tried:>7}{f.bad:>5}{f.seconds:>7.1f}  {f.detail}")
        print()
        print(
            f"{'memory case':<34}{'input MB':>9}{'peak MB':>9}{'exit':>6}{'peak/input':>12}"
            f"{'above baseline/input':>22}"
        )
        for r in rows:
            peak = f"{'>' if r.capped else ''}{r.peak_mb:.0f}"
            ratios = (
                f"{r.ratio:>12.0f}{r.above_baseline_ratio:>22.0f}"
                if r is not rows[0]
                else f"{'-':>12}{'-':>22}"
            )
            print(f"{r.case:<34}{r.input_mb:>9.2f}{peak:>9}{r.exit:>6}{ratios}")
        for p in problems:
            print(f"PROBLEM: {p}")
        print("ok" if ok else f"{len(problems)} problems, {bad} bad")
    return 0 if ok else 1


def _s3_tallies(work: Path, args: argparse.Namespace) -> list[Tally]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import s3_reliability

    from tests.helpers.s3 import available

    if available() is not None:
        print(f"s3 scenarios skipped: {available()}", file=sys.stderr)
        return []
    found: list[Tally] = s3_reliability.tallies(
        work, max(1, args.kills * 2 // 3), args.stress_seconds, args.writers, args.seed
    )
    return found


if __name__ == "__main__":
    sys.exit(main())
