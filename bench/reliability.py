"""Reliability figures: SIGKILL faults, timed kills and concurrent installs against the real command.

Usage: python bench/reliability.py [--kills N] [--stress-seconds S] [--writers W] [--seed N] [--json]

Every scenario runs `assetbuild install` in subprocesses on a temporary site and checks, after every
fault and on every poll, the invariants a web server relies on:
- the manifest is valid JSON and names only files that exist with its size and integrity;
- every numbered version directory is complete (every bundle, its .gz, the hand-placed files) and
  holds bytes a clean install produces for some state of the sources;
- versions are consecutive (1..N) and a file, once seen in a version directory, never changes;
- the next undisturbed run succeeds, removes every hidden temporary entry and serves the sources.

The tests (tests/test_faults.py, tests/test_stress.py) load this file and run the same scenarios smaller.
"""

from __future__ import annotations

import argparse
import contextlib
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
# Each figure counts what was tried and what went wrong (`bad`, which must be 0). Scenarios that
# belong to other parts of the work are placeholders that say so (`measured=False`) until filled.

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


def forged_cache_scenario(work: Path) -> Figure:
    """PLACEHOLDER (cache trust, issue 12 item 6): forge content-cache entries and the quick record
    (recomputed checksums, other code), then install and check: count the forged entries tried and
    the installs that shipped bytes that are in no source (must be 0)."""
    return Figure("forged cache entries shipped", measured=False, detail="not measured here yet")


def trap_scenario(work: Path) -> Figure:
    """PLACEHOLDER (filesystem safety, issue 12 items 1, 4, 9): symlinks at the lock, the manifest,
    area and version directories, FIFOs and /dev files at the manifest path; count the traps tried
    and the runs that wrote through one, hung or exhausted memory (must be 0)."""
    return Figure("symlink/special-file traps", measured=False, detail="not measured here yet")


def readonly_scenario(work: Path) -> Figure:
    """PLACEHOLDER (filesystem safety, issue 12 item 5): read-only leftovers (version
    subdirectories, .assetbuild-tmp-*, the current version) as a user without CAP_DAC_OVERRIDE;
    count the leftovers met and the installs they blocked (must be 0)."""
    return Figure("read-only leftovers", measured=False, detail="not measured here yet")


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kills", type=int, default=30, help="timed kills (default 30)")
    parser.add_argument("--stress-seconds", type=float, default=20.0, help="stress duration")
    parser.add_argument("--writers", type=int, default=3, help="concurrent installing processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--no-s3",
        action="store_true",
        help="skip the s3 target's scenarios (bench/s3_reliability.py)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assetbuild-reliability-") as tmp:
        work = Path(tmp)
        tallies = [
            fault_scenario(work),
            timed_kill_scenario(work, args.kills, args.seed),
            stress_scenario(work, args.stress_seconds, args.writers),
        ]
        if not args.no_s3:
            tallies += _s3_tallies(work, args)
        shutil.rmtree(work, ignore_errors=True)
    return print_tallies(tallies, as_json=args.json)


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


def print_tallies(tallies: list[Tally], *, as_json: bool) -> int:
    """Print the figures (a table, or JSON); 0 when no scenario found a problem."""
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
    problems = [p for t in tallies for p in t.problems]
    if as_json:
        print(
            json.dumps(
                {"scenarios": [asdict(t) for t in tallies], "total": total, "ok": not problems},
                indent=2,
            )
        )
    else:
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
        for p in problems:
            print(f"PROBLEM: {p}")
        print("ok" if not problems else f"{len(problems)} problems")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
