"""`install --target s3://...` against moto's S3 server over real HTTP, boto3 as the client.

Buckets are versioned, so every test can prove that no versioned object was written twice. The
installs run as the real command in subprocesses (fake credentials, `AWS_ENDPOINT_URL` on loopback).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assetbuild.manifest import integrity
from tests.helpers import s3

pytestmark = pytest.mark.skipif(s3.available() is not None, reason=str(s3.available()))

ASSETBUILD = str(Path(sys.executable).with_name("assetbuild"))
CONFIG = """\
root = "static"
static_url = "https://cdn.example.com/site"
compress = ["gzip"]

[[bundle]]
output = "js/main.js"
sources = ["js/src/*.js"]

[[bundle]]
output = "css/site.css"
sources = ["css/src/*.css"]
"""


def _js(n: int) -> str:
    return "".join(f"function f{n}_{i}(a) {{ return a + {i * n}; }}\n" for i in range(80))


def write_site(site: Path, state: int = 0) -> Path:
    (site / "static/js/src").mkdir(parents=True, exist_ok=True)
    (site / "static/css/src").mkdir(parents=True, exist_ok=True)
    (site / "assetbuild.toml").write_text(CONFIG)
    (site / "static/js/src/a.js").write_text(_js(state + 1))
    (site / "static/css/src/a.css").write_text(
        "".join(f".c{i} {{ margin: {i}px; }}\n" for i in range(60))
    )
    return site


@pytest.fixture(scope="module")
def server() -> Iterator[s3.S3Server]:
    srv = s3.S3Server()
    yield srv
    srv.stop()


@pytest.fixture
def bucket(server: s3.S3Server) -> str:
    return server.bucket()


def run(
    site: Path,
    server: s3.S3Server,
    *args: str,
    fault: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    environ = server.env()
    environ.pop("ASSETBUILD_FAULT", None)
    if fault:
        environ["ASSETBUILD_FAULT"] = fault
    environ.update(env or {})
    return subprocess.run(
        [ASSETBUILD, *args],
        cwd=site,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def install(site: Path, server: s3.S3Server, bucket: str, *args: str, **kw: Any) -> Any:
    return run(site, server, "install", "--target", f"s3://{bucket}/site", *args, **kw)


def remote_manifest(server: s3.S3Server, bucket: str) -> dict[str, Any]:
    body = server.client().get_object(Bucket=bucket, Key="site/manifest.json")["Body"].read()
    data: dict[str, Any] = json.loads(body)
    return data


def check_remote(server: s3.S3Server, bucket: str) -> list[str]:
    """Every object the remote manifest names is there with its size and integrity."""
    client = server.client()
    problems = []
    for name, entry in remote_manifest(server, bucket)["bundles"].items():
        body = client.get_object(Bucket=bucket, Key="site/" + entry["path"])["Body"].read()
        if len(body) != entry["size"] or integrity(body) != entry["integrity"]:
            problems.append(f"{name}: {entry['path']} differs from its entry")
        for variant in entry["variants"].values():
            raw = client.get_object(Bucket=bucket, Key="site/" + variant["path"])["Body"].read()
            if gzip.decompress(raw) != body:
                problems.append(f"{variant['path']} does not decompress to {entry['path']}")
    return problems


def test_install_uploads_every_file_with_cdn_headers_and_writes_both_manifests(
    tmp_path: Path, server: s3.S3Server, bucket: str
) -> None:
    site = write_site(tmp_path / "site")
    done = install(site, server, bucket, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["remote"]["uploaded"] == 4 and report["remote"]["skipped"] == 0
    assert {a["area"]: a["version"] for a in report["areas"]} == {"css": 1, "js": 1}
    client = server.client()
    assert s3.keys(client, bucket) == [
        "site/css/1/site.css",
        "site/css/1/site.css.gz",
        "site/js/1/main.js",
        "site/js/1/main.js.gz",
        "site/manifest.json",
    ]
    js = client.head_object(Bucket=bucket, Key="site/js/1/main.js")
    assert js["ContentType"] == "text/javascript; charset=utf-8"
    assert js["CacheControl"] == "public, max-age=31536000, immutable"
    gz = client.head_object(Bucket=bucket, Key="site/js/1/main.js.gz")
    assert gz["ContentEncoding"] == "gzip"
    assert gz["ContentType"] == "text/javascript; charset=utf-8"
    css = client.head_object(Bucket=bucket, Key="site/css/1/site.css")
    assert css["ContentType"] == "text/css; charset=utf-8"
    manifest = client.head_object(Bucket=bucket, Key="site/manifest.json")
    assert manifest["CacheControl"] == "no-cache"
    assert check_remote(server, bucket) == []
    # The local manifest (the app ships it) names the same entries; no version directory is made.
    local = json.loads((site / "static/manifest.json").read_bytes())
    assert local == remote_manifest(server, bucket)
    assert local["bundles"]["js/main.js"]["url"] == "https://cdn.example.com/site/js/1/main.js"
    assert not (site / "static/js/1").exists() and not (site / "static/css/1").exists()


def test_a_fresh_checkout_is_up_to_date_and_a_change_creates_the_next_version(
    tmp_path: Path, server: s3.S3Server, bucket: str
) -> None:
    site = write_site(tmp_path / "site")
    assert install(site, server, bucket).returncode == 0
    fresh = tmp_path / "fresh"
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("manifest.json", ".assetbuild-*"))
    again = install(fresh, server, bucket, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["remote"]["uploaded"] == 0
    assert all(a["action"] == "up-to-date" for a in report["areas"])
    assert (fresh / "static/manifest.json").read_bytes() == (
        site / "static/manifest.json"
    ).read_bytes()
    write_site(fresh, state=1)
    changed = install(fresh, server, bucket, "--json")
    assert changed.returncode == 0, changed.stderr
    report = json.loads(changed.stdout)
    assert {a["area"]: (a["action"], a["version"]) for a in report["areas"]} == {
        "css": ("up-to-date", 1),
        "js": ("bumped", 2),
    }
    assert report["remote"]["uploaded"] == 2  # main.js and its .gz; the css keeps its URL
    entries = remote_manifest(server, bucket)["bundles"]
    assert entries["js/main.js"]["path"] == "js/2/main.js"
    assert entries["css/site.css"]["path"] == "css/1/site.css"
    assert check_remote(server, bucket) == []
    assert s3.overwritten(server.client(), bucket) == []


def test_a_taken_version_is_never_overwritten_the_next_number_is_claimed(
    tmp_path: Path, server: s3.S3Server, bucket: str
) -> None:
    site = write_site(tmp_path / "site")
    assert install(site, server, bucket).returncode == 0
    client = server.client()
    # Another builder (or an earlier run with other sources) holds js/2 with other bytes.
    client.put_object(Bucket=bucket, Key="site/js/2/main.js.gz", Body=b"someone else's")
    write_site(site, state=1)
    done = install(site, server, bucket, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["remote"]["taken"] == ["js/2"]
    assert remote_manifest(server, bucket)["bundles"]["js/main.js"]["path"] == "js/3/main.js"
    body = client.get_object(Bucket=bucket, Key="site/js/2/main.js.gz")["Body"].read()
    assert body == b"someone else's"
    assert check_remote(server, bucket) == []
    assert s3.overwritten(client, bucket) == []


@pytest.mark.parametrize("point", ["uploading:1", "uploading:2", "uploaded", "manifest", "done"])
def test_a_killed_install_leaves_a_valid_manifest_and_the_next_run_completes_it(
    tmp_path: Path, server: s3.S3Server, bucket: str, point: str
) -> None:
    site = write_site(tmp_path / "site")
    assert install(site, server, bucket).returncode == 0
    before = remote_manifest(server, bucket)
    write_site(site, state=1)
    killed = install(site, server, bucket, fault=point)
    assert killed.returncode == -signal.SIGKILL
    assert check_remote(server, bucket) == []
    if point != "done":
        assert remote_manifest(server, bucket) == before  # only complete versions are named
    again = install(site, server, bucket, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    # Resumed: what the killed run uploaded is found identical, not uploaded again.
    assert report["remote"]["uploaded"] + report["remote"]["skipped"] in (0, 2)
    entries = remote_manifest(server, bucket)["bundles"]
    assert entries["js/main.js"]["path"] == "js/2/main.js"
    assert check_remote(server, bucket) == []
    assert s3.overwritten(server.client(), bucket) == []


def test_store_errors_are_clear_messages_with_exit_3(tmp_path: Path, server: s3.S3Server) -> None:
    site = write_site(tmp_path / "site")
    missing = install(site, server, "no-such-bucket-here")
    assert missing.returncode == 3
    assert "NoSuchBucket" in missing.stderr and "create it first" in missing.stderr
    assert "Traceback" not in missing.stderr
    for command in (("status",), ("prune", "--keep", "1"), ("install", "--dry-run")):
        elsewhere = run(site, server, *command, "--target", "s3://no-such-bucket-here/site")
        assert elsewhere.returncode == 3, (command, elsewhere.stderr)
        assert "NoSuchBucket" in elsewhere.stderr and "Traceback" not in elsewhere.stderr
    closed = install(
        site,
        server,
        "any-bucket",
        env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"},
    )
    assert closed.returncode == 3, closed.stderr
    assert "check the network" in closed.stderr and "Traceback" not in closed.stderr
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    nocreds = run(site, server, "install", "--target", "s3://any-bucket", env=env)
    assert nocreds.returncode == 3, nocreds.stderr
    assert "no AWS credentials" in nocreds.stderr


def test_a_missing_s3_extra_is_a_usage_error_and_the_local_path_never_imports_boto3(
    tmp_path: Path, server: s3.S3Server
) -> None:
    site = write_site(tmp_path / "site")
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "boto3.py").write_text("raise ImportError('No module named boto3')\n")
    env = {"PYTHONPATH": f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = run(site, server, "install", "--target", "s3://a-bucket/x", env=env)
    assert done.returncode == 2
    assert "pip install 'assetbuild[s3]'" in done.stderr
    local = run(site, server, "install", env=env)  # boto3 unimportable: the local install works
    assert local.returncode == 0, local.stderr


def test_bad_target_urls_are_configuration_errors(tmp_path: Path, server: s3.S3Server) -> None:
    site = write_site(tmp_path / "site")
    for url in ("http://x/y", "s3://UPPER/x", "s3://ok-bucket/a/../b"):
        done = run(site, server, "install", "--target", url)
        assert done.returncode == 2, (url, done.stderr)
        assert "--target" in done.stderr
    (site / "assetbuild.toml").write_text('target = "s3:/nope"\n' + CONFIG)
    done = run(site, server, "install")
    assert done.returncode == 2 and "target" in done.stderr


def test_reliability_scenarios_against_s3(tmp_path: Path, server: s3.S3Server) -> None:
    """bench/s3_reliability.py, smaller: kills at upload stages and at random, a taken version,
    three concurrent installers with a reader polling the manifest. No object is written twice, no
    manifest read is invalid, every run survives."""
    from tests.helpers.benchload import load_bench

    bench = load_bench("s3_reliability")
    tallies = [
        bench.fault_scenario(server, tmp_path, ("uploading:1", "uploaded")),
        bench.timed_kill_scenario(server, tmp_path, 2, seed=1),
        bench.taken_scenario(server, tmp_path, runs=1),
        bench.stress_scenario(server, tmp_path, 3.0, writers=3),
    ]
    for tally in tallies:
        assert tally.problems == [], (tally.scenario, tally.problems)
        assert tally.runs == tally.runs_survived
        assert tally.objects_overwritten == 0 and tally.invalid_manifest_reads == 0
    assert tallies[0].faults_injected == 2 and tallies[2].faults_injected == 1
    assert tallies[3].manifest_reads > 0


def test_dropped_connections_are_retried_and_never_overwrite(
    tmp_path: Path, server: s3.S3Server, bucket: str
) -> None:
    """Every third connection is cut after the server acted on its request (a stored PUT whose
    answer is lost): the SDK retries, the conditional write answers "exists", the bytes compare
    equal, and the install completes without writing any key twice."""
    proxy = s3.DroppingProxy(server.endpoint, lambda n: n % 3 == 1)
    try:
        site = write_site(tmp_path / "site")
        env = {"AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "10"}
        for state in range(3):
            write_site(site, state)
            done = install(site, server, bucket, env=env)
            assert done.returncode == 0, done.stderr
        assert proxy.dropped > 0
        assert remote_manifest(server, bucket)["bundles"]["js/main.js"]["version"] == 3
        assert check_remote(server, bucket) == []
        assert s3.overwritten(server.client(), bucket) == []
        cut = s3.DroppingProxy(server.endpoint, lambda n: True)
        try:
            write_site(site, 7)
            env = {"AWS_ENDPOINT_URL": cut.endpoint, "AWS_MAX_ATTEMPTS": "2"}
            failed = install(site, server, bucket, env=env)
        finally:
            cut.stop()
        assert failed.returncode == 3, failed.stderr
        assert "check the network" in failed.stderr and "Traceback" not in failed.stderr
        assert remote_manifest(server, bucket)["bundles"]["js/main.js"]["version"] == 3
    finally:
        proxy.stop()


def test_dry_run_status_and_prune_with_a_target_in_the_config(
    tmp_path: Path, server: s3.S3Server, bucket: str
) -> None:
    site = write_site(tmp_path / "site")
    (site / "assetbuild.toml").write_text(f'target = "s3://{bucket}/site"\n' + CONFIG)
    dry = run(site, server, "install", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert s3.keys(server.client(), bucket) == []  # a dry run uploads nothing
    assert not (site / "static/manifest.json").exists()
    assert run(site, server, "install", "-q").returncode == 0
    status = run(site, server, "status", "--check")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "up to date" in status.stdout
    for state in (1, 2, 3):
        write_site(site, state)
        (site / "assetbuild.toml").write_text(f'target = "s3://{bucket}/site"\n' + CONFIG)
        assert run(site, server, "status", "--check").returncode == 1  # changed since
        assert run(site, server, "install", "-q").returncode == 0
    young = run(site, server, "prune", "--keep", "1")
    assert young.returncode == 0 and "younger than 1h" in young.stdout
    pruned = run(site, server, "prune", "--keep", "2", "--min-age", "0", "--json")
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout)["target"] == f"s3://{bucket}/site"
    removed = json.loads(pruned.stdout)["report"]["removed"]
    assert [(r["area"], r["version"]) for r in removed] == [("js", 2), ("js", 1)]
    keys = s3.keys(server.client(), bucket)
    assert not [k for k in keys if k.startswith(("site/js/1/", "site/js/2/"))]
    assert "site/css/1/site.css" in keys  # named by the manifest
    assert check_remote(server, bucket) == []


# -- what the store says no with: a proxy answers chosen requests with S3's own errors ------------


@pytest.fixture
def faults(server: s3.S3Server) -> Iterator[list[s3.FaultProxy]]:
    proxies: list[s3.FaultProxy] = []
    yield proxies
    for proxy in proxies:
        proxy.stop()


def through(faults: list[s3.FaultProxy], server: s3.S3Server, rule: Any) -> s3.FaultProxy:
    proxy = s3.FaultProxy(server.endpoint, rule)
    faults.append(proxy)
    return proxy


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("method", "key", "said"),
    [
        ("PUT", "site/js/2/main.js", "cannot upload js/2/main.js: AccessDenied (Access Denied)"),
        ("PUT", "site/manifest.json", "cannot write manifest.json: AccessDenied (Access Denied)"),
        ("GET", "site/manifest.json", "cannot read manifest.json: AccessDenied (Access Denied)"),
        ("HEAD", "site/js/2/main.js", "cannot check js/2/main.js: 403 (Forbidden)"),
    ],
)
def test_access_denied_is_one_clear_line_exit_3_and_the_manifest_names_only_complete_objects(
    tmp_path: Path,
    server: s3.S3Server,
    bucket: str,
    faults: list[s3.FaultProxy],
    method: str,
    key: str,
    said: str,
) -> None:
    site = write_site(tmp_path / "site")
    assert install(site, server, bucket).returncode == 0
    before = remote_manifest(server, bucket)
    write_site(site, state=1)
    proxy = through(
        faults,
        server,
        lambda m, k, n: s3.Fault("AccessDenied") if (m, k) == (method, key) else None,
    )
    denied = install(site, server, bucket, env={"AWS_ENDPOINT_URL": proxy.endpoint})
    line = one_error_line(denied)
    assert line.startswith(f"assetbuild: error: s3://{bucket}/site: {said}"), line
    assert "may not do this" in line or "access denied" in line
    assert proxy.attempts(method, key) == ["AccessDenied"]  # refused, never retried
    assert remote_manifest(server, bucket) == before
    assert check_remote(server, bucket) == []
    assert s3.overwritten(server.client(), bucket) == []


def test_throttling_5xx_and_resets_are_retried_with_backoff_and_the_install_succeeds(
    tmp_path: Path, server: s3.S3Server, bucket: str, faults: list[s3.FaultProxy]
) -> None:
    site = write_site(tmp_path / "site")
    assert install(site, server, bucket).returncode == 0
    write_site(site, state=1)
    plan = {
        ("PUT", "site/js/2/main.js"): [s3.Fault("SlowDown"), s3.Fault("SlowDown")],
        # Stored, then the answer is a 500: the retry's conditional write finds the same bytes.
        ("PUT", "site/js/2/main.js.gz"): [s3.Fault("InternalError", after=True)],
        ("GET", "site/manifest.json"): [s3.Fault("reset")],
        ("HEAD", "site/js/2/main.js"): [s3.Fault("SlowDown")],
    }

    def rule(method: str, key: str, n: int) -> s3.Fault | None:
        planned = plan.get((method, key), [])
        return planned[n] if n < len(planned) else None

    proxy = through(faults, server, rule)
    done = install(site, server, bucket, "--json", env={"AWS_ENDPOINT_URL": proxy.endpoint})
    assert done.returncode == 0, done.stderr
    # The SDK's standard retries (no AWS_MAX_ATTEMPTS here: assetbuild's own configuration).
    assert proxy.attempts("PUT", "site/js/2/main.js") == ["SlowDown", "SlowDown", None]
    assert proxy.attempts("PUT", "site/js/2/main.js.gz") == ["InternalError", None]
    assert proxy.attempts("GET", "site/manifest.json") == ["reset", None]
    assert proxy.attempts("HEAD", "site/js/2/main.js") == ["SlowDown", None]
    remote = json.loads(done.stdout)["remote"]
    assert (remote["uploaded"], remote["skipped"]) == (1, 1)  # the .gz was there, identical
    assert remote_manifest(server, bucket)["bundles"]["js/main.js"]["path"] == "js/2/main.js"
    assert check_remote(server, bucket) == []
    assert s3.overwritten(server.client(), bucket) == []


def test_persistent_throttling_stops_with_exit_3_after_the_configured_attempts(
    tmp_path: Path, server: s3.S3Server, bucket: str, faults: list[s3.FaultProxy]
) -> None:
    site = write_site(tmp_path / "site")
    assert install(site, server, bucket).returncode == 0
    before = remote_manifest(server, bucket)
    write_site(site, state=1)
    proxy = through(
        faults, server, lambda m, k, n: s3.Fault("SlowDown") if m == "PUT" and "/js/" in k else None
    )
    env = {"AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "2"}
    line = one_error_line(install(site, server, bucket, env=env))
    assert "SlowDown (Please reduce your request rate.), 2 attempts" in line, line
    assert "throttled the requests past the SDK's retries; run again later" in line
    assert {
        len(proxy.attempts("PUT", k)) for k in ("site/js/2/main.js", "site/js/2/main.js.gz")
    } <= {0, 2}
    assert remote_manifest(server, bucket) == before
    assert check_remote(server, bucket) == []


def test_a_store_message_cannot_forge_lines_or_escapes(
    tmp_path: Path, server: s3.S3Server, bucket: str, faults: list[s3.FaultProxy]
) -> None:
    # XML carries no escape character (\x1b); a newline and a bidi override it does carry.
    s3.S3_ERRORS["Forged"] = (400, "bad\nassetbuild: ok, all uploaded\u202e")
    try:
        proxy = through(faults, server, lambda m, k, n: s3.Fault("Forged") if m == "GET" else None)
        site = write_site(tmp_path / "site")
        done = install(site, server, bucket, env={"AWS_ENDPOINT_URL": proxy.endpoint})
    finally:
        del s3.S3_ERRORS["Forged"]
    line = one_error_line(done)
    assert "\u202e" not in done.stderr and "Forged (bad assetbuild: ok, all uploaded )" in line


def test_retries_follow_the_aws_configuration_else_standard_mode_with_5_attempts() -> None:
    from assetbuild.errors import ConfigError
    from assetbuild.remote.s3 import retries

    assert retries({}, {}) == {"mode": "standard", "total_max_attempts": 5}
    assert retries({"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "9"}, {}) == {
        "mode": "adaptive",
        "total_max_attempts": 9,
    }
    profile = {"retry_mode": "legacy", "max_attempts": "3"}
    assert retries({}, profile) == {"mode": "legacy", "total_max_attempts": 3}
    assert retries({"AWS_MAX_ATTEMPTS": "4"}, profile)["total_max_attempts"] == 4
    for env in ({"AWS_RETRY_MODE": "fast"}, {"AWS_MAX_ATTEMPTS": "0"}, {"AWS_MAX_ATTEMPTS": "x"}):
        with pytest.raises(ConfigError):
            retries(env, {})


def test_the_client_is_configured_with_the_retries(server: s3.S3Server) -> None:
    from assetbuild.remote.s3 import S3Target
    from assetbuild.remote.url import parse_target

    env = server.env()
    target = S3Target.connect(parse_target("s3://a-bucket/x"), env)
    assert target.client.meta.config.retries == {"mode": "standard", "total_max_attempts": 5}


# -- the remote manifest as PHP; maps inside their bundle's entry ---------------------------------


@pytest.mark.parametrize("point", ["uploaded", "manifest"])
def test_a_php_site_keeps_manifest_php_in_the_bucket_written_last_and_read_back(
    tmp_path: Path, server: s3.S3Server, bucket: str, point: str
) -> None:
    from assetbuild.manifest import parse_php

    site = write_site(tmp_path / "site")
    (site / "assetbuild.toml").write_text('manifest = "manifest.php"\n' + CONFIG)
    assert install(site, server, bucket).returncode == 0
    client = server.client()
    keys = s3.keys(client, bucket)
    assert "site/manifest.php" in keys and "site/manifest.json" not in keys
    head = client.head_object(Bucket=bucket, Key="site/manifest.php")
    assert (head["ContentType"], head["CacheControl"]) == ("text/plain; charset=utf-8", "no-cache")
    before = client.get_object(Bucket=bucket, Key="site/manifest.php")["Body"].read()
    assert before == (site / "static/manifest.php").read_bytes()
    # Read back: a fresh checkout uploads nothing.
    fresh = tmp_path / "fresh"
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("manifest.*", ".assetbuild-*"))
    (fresh / "assetbuild.toml").write_text('manifest = "manifest.php"\n' + CONFIG)
    again = install(fresh, server, bucket, "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["remote"]["uploaded"] == 0
    # Killed before the manifest is replaced: it still names only the complete version.
    write_site(fresh, state=1)
    (fresh / "assetbuild.toml").write_text('manifest = "manifest.php"\n' + CONFIG)
    assert install(fresh, server, bucket, fault=point).returncode == -signal.SIGKILL
    assert client.get_object(Bucket=bucket, Key="site/manifest.php")["Body"].read() == before
    done = install(fresh, server, bucket)
    assert done.returncode == 0, done.stderr
    now = client.get_object(Bucket=bucket, Key="site/manifest.php")["Body"].read()
    bundles = parse_php(now)["bundles"]
    assert (bundles["js/main.js"]["path"], bundles["css/site.css"]["path"]) == (
        "js/2/main.js",
        "css/1/site.css",
    )
    status = run(fresh, server, "status", "--check", "--target", f"s3://{bucket}/site")
    assert status.returncode == 0, status.stdout + status.stderr  # judged from the PHP
    assert s3.overwritten(client, bucket, mutable=("manifest.php",)) == []


def test_the_same_build_gives_the_same_manifest_entries_locally_and_in_the_bucket(
    tmp_path: Path, server: s3.S3Server, bucket: str
) -> None:
    site = write_site(tmp_path / "site")
    (site / "assetbuild.toml").write_text('sourcemap = "linked"\n' + CONFIG)
    local = tmp_path / "local"
    shutil.copytree(site, local)
    done = run(local, server, "install", "--json")
    assert done.returncode == 0, done.stderr
    pushed = install(site, server, bucket, "--json")
    assert pushed.returncode == 0, pushed.stderr
    entries = json.loads((local / "static/manifest.json").read_bytes())["bundles"]
    assert remote_manifest(server, bucket)["bundles"] == entries
    assert entries["js/main.js"]["map"]["path"] == "js/1/main.js.map"
    # The --json reports agree too, but for the remote's counts and where the manifest is.
    here, there = json.loads(done.stdout), json.loads(pushed.stdout)
    assert there.pop("remote")["uploaded"] == 8  # 2 bundles, 2 maps, and each one's .gz
    here.pop("manifest"), there.pop("manifest")
    assert [b.pop("sources") for b in here["bundles"]] == [
        b.pop("sources") for b in there["bundles"]
    ]
    assert here == there
    client = server.client()
    for key, encoding in (("site/js/1/main.js.map", None), ("site/css/1/site.css.map.gz", "gzip")):
        head = client.head_object(Bucket=bucket, Key=key)
        assert head["ContentType"] == "application/json; charset=utf-8"
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        assert head.get("ContentEncoding") == encoding
    body = client.get_object(Bucket=bucket, Key="site/js/1/main.js.map")["Body"].read()
    assert body == (local / "static/js/1/main.js.map").read_bytes()


def test_status_with_a_target_judges_url_assets_as_install_does(
    tmp_path: Path, server: s3.S3Server, bucket: str
) -> None:
    site = write_site(tmp_path / "site")
    (site / "static/css/src/a.css").write_text("@font-face { src: url(../fonts/a.woff2); }\n")
    (site / "static/css/fonts").mkdir()
    (site / "static/css/fonts/a.woff2").write_bytes(b"font-1")
    (site / "assetbuild.toml").write_text(f'target = "s3://{bucket}/site"\n' + CONFIG)
    assert run(site, server, "install", "-q").returncode == 0
    status = run(site, server, "status", "--check", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    (site / "static/css/fonts/a.woff2").write_bytes(b"font-2")  # the stylesheet's bytes are equal
    status = run(site, server, "status", "--check", "--json")
    assert status.returncode == 1, status.stdout + status.stderr
    assert json.loads(status.stdout)["changed"] == ["css/site.css"]
