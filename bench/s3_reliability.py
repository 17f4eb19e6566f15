"""Reliability figures for `install --target s3://...`: kills, taken versions, concurrent installers.

Usage: python bench/s3_reliability.py [--kills N] [--stress-seconds S] [--writers W] [--seed N]
(`python bench/reliability.py` runs these too, after the local scenarios, when moto is installed.)

moto's S3 server runs in this process on a loopback port (tests/helpers/s3.py); the installers are
real `assetbuild install --target` subprocesses talking to it over HTTP with fake credentials. The
bucket is versioned, so "objects overwritten" counts every versioned key written twice. After every
run, and on every poll of the reader, the remote manifest must be valid JSON naming only objects that
exist with its size and integrity (and variants that decompress to them).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for entry in (str(HERE.parent), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import reliability as rel  # noqa: E402

from assetbuild.manifest import ManifestError, integrity, parse_manifest  # noqa: E402
from tests.helpers import s3  # noqa: E402

PREFIX = "site"
UPLOAD_POINTS = ("uploading:1", "uploading:2", "uploading:4", "uploaded", "manifest", "done")


def run_install(
    server: s3.S3Server, site: Path, bucket: str, fault: str | None = None
) -> subprocess.Popen[str]:
    env = {k: v for k, v in server.env().items() if not k.startswith("ASSETBUILD_")}
    if fault:
        env["ASSETBUILD_FAULT"] = fault
    return subprocess.Popen(
        [rel.ASSETBUILD, "install", "-q", "--target", f"s3://{bucket}/{PREFIX}"],
        cwd=site,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=rel.RUN_TIMEOUT)
    return proc.returncode, err


def manifest_problems(client: Any, bucket: str, raw: bytes | None) -> list[str]:
    """Problems with one read of the remote manifest: validity, every named object intact."""
    if raw is None:
        return []
    try:
        data = parse_manifest(Path(f"s3://{bucket}/{PREFIX}/manifest.json"), raw)
    except ManifestError as exc:
        return [f"invalid manifest: {exc}"]
    problems = []
    for name, entry in data["bundles"].items():
        try:
            body = client.get_object(Bucket=bucket, Key=f"{PREFIX}/{entry['path']}")["Body"].read()
        except client.exceptions.NoSuchKey:
            problems.append(f"manifest names {entry['path']} for {name}, which is missing")
            continue
        if len(body) != entry["size"] or integrity(body) != entry["integrity"]:
            problems.append(f"{entry['path']}: size or integrity differs from the manifest")
        for variant in entry["variants"].values():
            try:
                key = f"{PREFIX}/{variant['path']}"
                packed = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            except client.exceptions.NoSuchKey:
                problems.append(f"manifest names {variant['path']}, which is missing")
                continue
            if len(packed) != variant["size"] or gzip.decompress(packed) != body:
                problems.append(f"{variant['path']}: does not match {entry['path']}")
    return problems


def read_manifest(client: Any, bucket: str) -> bytes | None:
    try:
        body: bytes = client.get_object(Bucket=bucket, Key=f"{PREFIX}/manifest.json")["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return body


def served(client: Any, bucket: str) -> dict[str, bytes]:
    raw = read_manifest(client, bucket)
    data = json.loads(raw or b'{"bundles": {}}')
    return {
        name: client.get_object(Bucket=bucket, Key=f"{PREFIX}/{e['path']}")["Body"].read()
        for name, e in data["bundles"].items()
    }


def _versions(client: Any, bucket: str) -> int:
    found = set()
    for key in s3.keys(client, bucket):
        parts = key.split("/")
        if len(parts) == 4 and parts[2].isdigit():
            found.add((parts[1], parts[2]))
    return len(found)


def _close(tally: rel.Tally, client: Any, bucket: str, start: float) -> rel.Tally:
    overwritten = s3.overwritten(client, bucket)
    tally.objects_overwritten = len(overwritten)
    tally.problems += [f"written twice: {k}" for k in overwritten[:5]]
    tally.versions_created = _versions(client, bucket)
    tally.seconds = time.monotonic() - start
    return tally


def _recover(
    tally: rel.Tally, server: s3.S3Server, site: Path, bucket: str, state: int, where: str
) -> None:
    """An undisturbed run completes the work and serves the current sources."""
    code, err = finish(run_install(server, site, bucket))
    tally.runs += 1
    client = server.client()
    problems = [] if code == 0 else [f"recovery run exit {code}: {err.strip()}"]
    problems += manifest_problems(client, bucket, read_manifest(client, bucket))
    if not problems and served(client, bucket) != rel.expected_outputs(site, state):
        problems.append("after recovery the manifest does not serve the current sources")
    if problems:
        tally.fail(where, problems)
    else:
        tally.runs_survived += 1


def fault_scenario(
    server: s3.S3Server, work: Path, points: tuple[str, ...] = UPLOAD_POINTS
) -> rel.Tally:
    """SIGKILL at every upload stage, each followed by a check and a recovery run."""
    tally = rel.Tally("s3: kill at each stage")
    start = time.monotonic()
    bucket = server.bucket()
    client = server.client()
    site = rel.make_site(work / "s3-faults")
    _recover(tally, server, site, bucket, 0, "first install")
    for state, point in enumerate(points, start=1):
        rel.write_state(site, state)
        before = read_manifest(client, bucket)
        code, err = finish(run_install(server, site, bucket, fault=point))
        tally.runs += 1
        problems = manifest_problems(client, bucket, read_manifest(client, bucket))
        if code == -signal.SIGKILL:
            tally.faults_injected += 1
            if point != "done" and read_manifest(client, bucket) != before:
                problems.append("the manifest changed although the run was killed before it")
        elif code != 0:
            problems.append(f"exit {code}: {err.strip()}")
        if problems:
            tally.fail(point, problems)
        else:
            tally.runs_survived += 1
        _recover(tally, server, site, bucket, state, point)
    return _close(tally, client, bucket, start)


def timed_kill_scenario(server: s3.S3Server, work: Path, kills: int, seed: int = 0) -> rel.Tally:
    """SIGKILL at random moments of an install (0.1-2 s in), each checked, every third recovered."""
    tally = rel.Tally("s3: kill at random")
    start = time.monotonic()
    rng = random.Random(seed)
    bucket = server.bucket()
    client = server.client()
    site = rel.make_site(work / "s3-timed")
    _recover(tally, server, site, bucket, 0, "first install")
    for n in range(1, kills + 1):
        rel.write_state(site, n)
        proc = run_install(server, site, bucket)
        try:
            proc.wait(timeout=rng.uniform(0.1, 2.0))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            tally.faults_injected += 1
        code, err = finish(proc)
        tally.runs += 1
        problems = manifest_problems(client, bucket, read_manifest(client, bucket))
        if code not in (0, -signal.SIGKILL):
            problems.append(f"exit {code}: {err.strip()}")
        if problems:
            tally.fail(f"kill {n}", problems)
        else:
            tally.runs_survived += 1
        if n % 3 == 0:
            _recover(tally, server, site, bucket, n, f"recovery {n}")
    _recover(tally, server, site, bucket, kills, "final recovery")
    return _close(tally, client, bucket, start)


def taken_scenario(server: s3.S3Server, work: Path, runs: int = 4) -> rel.Tally:
    """Before each run, another writer holds the next version's keys with other bytes."""
    tally = rel.Tally("s3: next version taken")
    start = time.monotonic()
    bucket = server.bucket()
    client = server.client()
    site = rel.make_site(work / "s3-taken")
    _recover(tally, server, site, bucket, 0, "first install")
    for state in range(1, runs + 1):
        rel.write_state(site, state)
        data = json.loads(read_manifest(client, bucket) or b"{}")
        version = data["bundles"]["js/main.js"]["version"] + 1
        planted = f"{PREFIX}/js/{version}/main.js"
        client.put_object(Bucket=bucket, Key=planted, Body=b"another builder's bytes")
        tally.faults_injected += 1
        _recover(tally, server, site, bucket, state, f"taken {version}")
        body = client.get_object(Bucket=bucket, Key=planted)["Body"].read()
        if body != b"another builder's bytes":
            tally.fail(f"taken {version}", [f"{planted} was overwritten"])
    return _close(tally, client, bucket, start)


def stress_scenario(server: s3.S3Server, work: Path, seconds: float, writers: int = 3) -> rel.Tally:
    """`writers` installers of different edits at once, again and again, while a reader polls."""
    tally = rel.Tally("s3: concurrent + reader")
    start = time.monotonic()
    bucket = server.bucket()
    client = server.client()
    sites = [rel.make_site(work / f"s3-writer-{i}") for i in range(writers)]
    _recover(tally, server, sites[0], bucket, 0, "first install")
    stop = threading.Event()
    reader_problems: list[str] = []

    def reader() -> None:
        poll = server.client()
        while not stop.is_set():
            raw = read_manifest(poll, bucket)
            tally.manifest_reads += 1
            problems = manifest_problems(poll, bucket, raw)
            if problems:
                tally.invalid_manifest_reads += 1
                reader_problems.extend(problems[:2])

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    state = 1
    begin = time.monotonic()  # after the first install: a loaded machine still runs one round
    try:
        while state == 1 or time.monotonic() - begin < seconds:
            procs = []
            for site in sites:
                rel.write_state(site, state)
                state += 1
                procs.append(run_install(server, site, bucket))
            for proc in procs:
                code, err = finish(proc)
                tally.runs += 1
                if code == 0:
                    tally.runs_survived += 1
                else:
                    tally.fail("concurrent run", [f"exit {code}: {err.strip()}"])
    finally:
        stop.set()
        thread.join()
    tally.problems += reader_problems[:5]
    tally.problems += manifest_problems(client, bucket, read_manifest(client, bucket))
    return _close(tally, client, bucket, start)


def tallies(work: Path, kills: int, seconds: float, writers: int, seed: int) -> list[rel.Tally]:
    """Every s3 scenario on one moto server."""
    server = s3.S3Server()
    try:
        return [
            fault_scenario(server, work),
            timed_kill_scenario(server, work, kills, seed),
            taken_scenario(server, work),
            stress_scenario(server, work, seconds, writers),
        ]
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--stress-seconds", type=float, default=20.0)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="assetbuild-s3-reliability-") as tmp:
        found = tallies(Path(tmp), args.kills, args.stress_seconds, args.writers, args.seed)
    return rel.print_tallies(found, as_json=False)


if __name__ == "__main__":
    sys.exit(main())
