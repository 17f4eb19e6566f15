"""[[modules]] trees installed into a target (issue 17 with issue 15): every module of a tree in one
version, uploaded and verified before the manifest, the same `modules`/`importmap`/`importmap_csp`
as a local install. Over a directory used like a bucket (`file://`, hermetic and fast), then over
moto's S3 server (real HTTP, boto3, versioned buckets: no key is ever written twice)."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetbuild.build.pipeline import install
from assetbuild.build.results import BuildOptions, ManifestSettings, Output
from assetbuild.config import load_config
from assetbuild.manifest import integrity
from assetbuild.modules.importmap import importmap_csp
from assetbuild.remote.publish import remote_install
from assetbuild.remote.target import DirectoryTarget
from tests.helpers import s3

SiteFactory = Callable[..., Path]
ASSETBUILD = str(Path(sys.executable).with_name("assetbuild"))
CDN = "https://cdn.example.com/site"
CONFIG = """\
compress = ["gzip"]
sourcemap = "linked"

[[bundle]]
output = "js/main.js"
sources = ["js/src/*.js"]

[[modules]]
source = "js/modules"
output = "js/app"

[importmap]
"app" = "js/modules/main.js"
"lib/" = "js/modules/lib/"
"""


def _body(n: int, name: str) -> str:
    """A module big enough for a gzip variant."""
    return "".join(f"export function {name}{i}(a) {{ return a + {i * n}; }}\n" for i in range(40))


def files(n: int = 1) -> dict[str, str]:
    return {
        "js/src/a.js": "var a = 1;\n",
        "js/modules/main.js": (
            'import { a0 } from "./lib/a.js";\nimport data from "./lib/d.json" with { type: "json" };\n'
            'const lazy = await import("./lazy.mjs");\nconsole.log(a0(1), data, lazy);\n'
        ),
        "js/modules/lib/a.js": 'import { b0 } from "./b.js";\n' + _body(n, "a"),
        "js/modules/lib/b.js": _body(1, "b"),
        "js/modules/lib/d.json": '{"x": 1}\n',
        "js/modules/lazy.mjs": "export default 'lazy';\n" + _body(1, "z"),
    }


MODULES = ["js/app/lazy.mjs", "js/app/lib/a.js", "js/app/lib/b.js", "js/app/lib/d.json"]
MODULES = sorted([*MODULES, "js/app/main.js"])


def write(site: Path, content: dict[str, str]) -> None:
    for rel, text in content.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)


def cli(
    site: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ASSETBUILD_", "AWS_"))}
    environ["NO_COLOR"] = "1"
    environ.update(env or {})
    return subprocess.run(
        [ASSETBUILD, *args], cwd=site, capture_output=True, text=True, check=False, env=environ
    )


def manifest_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def tree_fields(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The module fields, each URL with `prefix` (a static_url) taken off: local and remote
    installs of one build compare equal whatever URL each serves from."""
    text = json.dumps({k: data[k] for k in ("modules", "importmap", "importmap_csp")})
    found: dict[str, Any] = json.loads(text.replace(f'"{prefix}/', '"/') if prefix else text)
    return found


def unversioned(data: dict[str, Any]) -> Any:
    """The module fields with every version number made 0 (`js/0/app/...`)."""
    fields = tree_fields(data)
    del fields["importmap_csp"]
    text = re.sub(r'"version": \d+', '"version": 0', json.dumps(fields))
    return json.loads(re.sub(r"js/\d+/", "js/0/", text))


def check_bucket(bucket: Path) -> list[str]:
    """Every module the remote manifest names is there with its bytes, variants and map, and the
    modules of a tree share one version."""
    data = manifest_of(bucket / "manifest.json")
    problems = []
    versions = {e["version"] for e in data["modules"].values()}
    if len(versions) > 1:
        problems.append(f"one tree in versions {sorted(versions)}")
    for name, entry in data["modules"].items():
        body = (bucket / entry["path"]).read_bytes()
        if integrity(body) != entry["integrity"] or len(body) != entry["size"]:
            problems.append(f"{name}: {entry['path']} differs from its entry")
        for variant in entry["variants"].values():
            if gzip.decompress((bucket / variant["path"]).read_bytes()) != body:
                problems.append(f"{variant['path']} is not {entry['path']} compressed")
        if (
            "map" in entry
            and (bucket / entry["map"]["path"]).stat().st_size != entry["map"]["size"]
        ):
            problems.append(f"{entry['map']['path']} differs from its entry")
        if data["importmap"]["integrity"].get(entry["url"]) != entry["integrity"]:
            problems.append(f"{entry['url']}: no integrity in the import map")
    return problems


def snapshot(bucket: Path) -> dict[str, bytes]:
    """Every versioned object's bytes (the manifest and the lock are not versioned)."""
    return {
        str(p.relative_to(bucket)): p.read_bytes()
        for p in sorted(bucket.rglob("*"))
        if p.is_file() and not p.name.startswith((".", "manifest."))
    }


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    write(site, files())
    (site / "assetbuild.toml").write_text(f'target = "file://{tmp_path}/bucket"\n' + CONFIG)
    return site


def run(site: Path, **kwargs: Any) -> Any:
    return install(load_config(site, None), BuildOptions(), **kwargs)


# -- over a directory target ------------------------------------------------------------------------


def test_a_tree_goes_up_whole_with_its_variants_maps_and_the_local_installs_fields(
    site: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    shutil.copytree(site, local)
    (local / "assetbuild.toml").write_text(CONFIG)  # no target: installed under its root
    assert cli(local, "install", "-q").returncode == 0
    (site / "assetbuild.toml").write_text(
        f'target = "file://{tmp_path}/bucket"\nstatic_url = "{CDN}"\n' + CONFIG
    )
    done = cli(site, "install", "--json")
    assert done.returncode == 0, done.stderr
    bucket = tmp_path / "bucket"
    remote, here = manifest_of(bucket / "manifest.json"), manifest_of(local / "manifest.json")
    assert sorted(remote["modules"]) == MODULES
    assert tree_fields(remote, CDN)["modules"] == tree_fields(here)["modules"]
    assert tree_fields(remote, CDN)["importmap"] == tree_fields(here)["importmap"]
    assert remote["importmap_csp"] == importmap_csp(remote["importmap"])  # of its own URLs
    assert remote["importmap"]["imports"]["app"] == f"{CDN}/js/1/app/main.js"
    assert manifest_of(site / "manifest.json") == remote  # the local manifest the app ships
    assert not (site / "js/1").exists()  # no version directory is made locally
    assert check_bucket(bucket) == []
    # The bucket holds what the local install wrote: every module, map and variant.
    ours = {k: v for k, v in snapshot(local).items() if k.startswith("js/1/app/")}
    assert ours and {k: snapshot(bucket)[k] for k in ours} == ours
    assert remote["modules"]["js/app/lib/a.js"]["variants"]["gz"]["path"] == "js/1/app/lib/a.js.gz"
    assert remote["modules"]["js/app/lib/a.js"]["map"]["path"] == "js/1/app/lib/a.js.map"
    report = json.loads(done.stdout)
    assert report["remote"]["uploaded"] == len(snapshot(bucket))
    again = cli(site, "install", "--json")
    assert json.loads(again.stdout)["remote"]["uploaded"] == 0  # no change uploads nothing


def test_an_edited_module_moves_the_whole_tree_and_nothing_published_changes(
    site: Path, tmp_path: Path
) -> None:
    bucket = tmp_path / "bucket"
    run(site)
    before = snapshot(bucket)
    write(site, {"js/modules/lib/a.js": files(2)["js/modules/lib/a.js"]})
    outcome = run(site)
    after = snapshot(bucket)
    assert {k: after[k] for k in before} == before  # published bytes are never rewritten
    data = manifest_of(bucket / "manifest.json")
    assert {e["path"].split("/")[1] for e in data["modules"].values()} == {"2"}
    assert data["bundles"]["js/main.js"]["path"] == "js/1/main.js"  # not built anew
    # Every file of the tree, changed or not (with its map and variants), went into js/2.
    assert sorted(k for k in after if k.startswith("js/2/")) == sorted(
        "js/2/" + k[len("js/1/") :] for k in before if k.startswith("js/1/app/")
    )
    assert [(t.output, t.version, t.action) for t in outcome.report.trees] == [
        ("js/app", 2, "written")
    ]
    assert check_bucket(bucket) == []


def test_a_bundle_change_leaves_the_tree_where_it_is(site: Path, tmp_path: Path) -> None:
    run(site)
    before = snapshot(tmp_path / "bucket")
    write(site, {"js/src/a.js": "var a = 2;\n"})
    outcome = run(site)
    data = manifest_of(tmp_path / "bucket/manifest.json")
    assert data["bundles"]["js/main.js"]["path"] == "js/2/main.js"
    assert {e["version"] for e in data["modules"].values()} == {1}
    assert data["importmap"]["imports"]["app"] == "/js/1/app/main.js"
    assert not (tmp_path / "bucket/js/2/app").exists()
    assert [(t.version, t.action) for t in outcome.report.trees] == [(1, "unchanged")]
    new = sorted(set(snapshot(tmp_path / "bucket")) - set(before))
    assert new and all(k.startswith("js/2/main.js") for k in new)
    assert outcome.report.remote is not None and outcome.report.remote.uploaded == len(new)


def test_a_new_module_moves_the_tree_and_a_removed_one_leaves_the_manifest(
    site: Path, tmp_path: Path
) -> None:
    run(site)
    write(site, {"js/modules/extra.js": "export const e = 1;\n"})
    run(site)
    data = manifest_of(tmp_path / "bucket/manifest.json")
    assert {e["version"] for e in data["modules"].values()} == {2}
    assert "js/app/extra.js" in data["modules"]
    (site / "js/modules/extra.js").unlink()
    run(site)
    data = manifest_of(tmp_path / "bucket/manifest.json")
    assert sorted(data["modules"]) == MODULES
    assert "/js/2/app/extra.js" not in data["importmap"]["integrity"]
    assert check_bucket(tmp_path / "bucket") == []


def test_a_php_site_reads_its_trees_back_from_manifest_php(site: Path, tmp_path: Path) -> None:
    from assetbuild.manifest import parse_php

    config = (site / "assetbuild.toml").read_text()
    (site / "assetbuild.toml").write_text('manifest = "manifest.php"\n' + config)
    run(site)
    raw = (tmp_path / "bucket/manifest.php").read_bytes()
    assert (site / "manifest.php").read_bytes() == raw
    data = parse_php(raw)
    assert sorted(data["modules"]) == MODULES
    assert data["importmap_csp"] == importmap_csp(data["importmap"])
    again = run(site)  # read back: the same build uploads nothing
    assert again.report.remote is not None and again.report.remote.uploaded == 0
    assert not again.report.manifest_changed


def test_a_manifest_naming_one_tree_in_two_versions_is_repaired_into_one(
    site: Path, tmp_path: Path
) -> None:
    """A tree is one version even when a (hand-edited, or forged) manifest says otherwise: the
    tree's relative imports resolve only inside one directory."""
    bucket = tmp_path / "bucket"
    run(site)
    run(site, policy="bump")  # js/2 holds the whole tree too
    data = manifest_of(bucket / "manifest.json")
    entry = data["modules"]["js/app/lib/b.js"]
    entry.update(path="js/1/app/lib/b.js", version=1, url="/js/1/app/lib/b.js")
    for variant in entry["variants"].values():
        variant["path"] = variant["path"].replace("js/2/", "js/1/")
    entry["map"]["path"] = "js/1/app/lib/b.js.map"
    (bucket / "manifest.json").write_text(json.dumps(data))
    run(site)
    data = manifest_of(bucket / "manifest.json")
    assert {e["version"] for e in data["modules"].values()} == {3}
    assert check_bucket(bucket) == []


def test_a_taken_version_is_skipped_and_a_killed_runs_upload_completed(
    site: Path, tmp_path: Path
) -> None:
    bucket = tmp_path / "bucket"
    run(site)
    # js/2 holds another builder's module; js/3 a killed run's upload of these very bytes.
    (bucket / "js/2/app/lib").mkdir(parents=True)
    (bucket / "js/2/app/lib/b.js").write_bytes(b"export const other = 1;\n")
    write(site, {"js/modules/lib/a.js": files(2)["js/modules/lib/a.js"]})
    pushed = run(site, dry_run=True)
    assert pushed.report.trees[0].version == 2  # the manifest's highest + 1, before claiming
    (bucket / "js/3/app/lib").mkdir(parents=True)
    (bucket / "js/3/app/lib/b.js").write_bytes((bucket / "js/1/app/lib/b.js").read_bytes())
    before = snapshot(bucket)
    outcome = run(site)
    assert outcome.report.remote is not None
    assert outcome.report.remote.taken == ("js/2",) and outcome.report.remote.skipped == 1
    data = manifest_of(bucket / "manifest.json")
    assert {e["version"] for e in data["modules"].values()} == {3}
    after = snapshot(bucket)
    assert {k: after[k] for k in before} == before
    assert check_bucket(bucket) == []


def test_a_dry_run_uploads_nothing_and_names_the_trees_next_version(
    site: Path, tmp_path: Path
) -> None:
    run(site)
    before = snapshot(tmp_path / "bucket"), (tmp_path / "bucket/manifest.json").read_bytes()
    write(site, {"js/modules/lib/b.js": _body(3, "b")})
    done = cli(site, "install", "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert (
        snapshot(tmp_path / "bucket"),
        (tmp_path / "bucket/manifest.json").read_bytes(),
    ) == before
    text = cli(site, "install", "--dry-run")
    assert "js/app/*" in text.stdout and "js/2/app/" in text.stdout, text.stdout


def test_cli_status_judges_a_tree_against_the_remote_manifest(site: Path) -> None:
    status = cli(site, "status", "--check", "--json")
    assert status.returncode == 1
    assert json.loads(status.stdout)["changed"] == ["js/main.js", "js/app/*"]
    assert cli(site, "install", "-q").returncode == 0
    status = cli(site, "status", "--check", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {b["name"]: (b["current"], b["state"]) for b in json.loads(status.stdout)["bundles"]}
    assert rows["js/app/*"] == (1, "up-to-date")
    write(site, {"js/modules/lazy.mjs": "export default 'edited';\n"})
    status = cli(site, "status", "--check", "--json")
    assert status.returncode == 1
    assert json.loads(status.stdout)["changed"] == ["js/app/*"]


def test_cli_prune_never_deletes_the_version_a_tree_entry_names(site: Path, tmp_path: Path) -> None:
    assert cli(site, "install", "-q").returncode == 0  # js/1: the bundle and the tree
    for n in (2, 3):
        write(site, {"js/src/a.js": f"var a = {n};\n"})
        assert cli(site, "install", "-q").returncode == 0  # js/2, js/3: the bundle alone
    done = cli(site, "prune", "--keep", "1", "--min-age", "0", "--json")
    assert done.returncode == 0, done.stderr
    removed = [(d["area"], d["version"]) for d in json.loads(done.stdout)["report"]["removed"]]
    assert removed == [("js", 2)]
    assert (tmp_path / "bucket/js/1/app/main.js").is_file()
    assert check_bucket(tmp_path / "bucket") == []


def test_the_headers_a_cdn_needs_for_each_module_object(site: Path, tmp_path: Path) -> None:
    from assetbuild.remote.target import IMMUTABLE, headers_for

    run(site)
    for key in snapshot(tmp_path / "bucket"):
        if "/app/" not in key:
            continue
        headers = headers_for(key)
        assert headers.cache_control == IMMUTABLE
        base = key.removesuffix(".gz")
        assert headers.content_encoding == ("gzip" if key.endswith(".gz") else None)
        wanted = (
            "text/javascript; charset=utf-8"
            if base.endswith((".js", ".mjs"))
            else "application/json; charset=utf-8"  # JSON modules and maps
        )
        assert headers.content_type == wanted, key


class Counting(DirectoryTarget):
    """Counts the requests an install makes (from the upload pool's threads too)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.calls: dict[str, int] = {}
        self.counting = threading.Lock()

    def __getattribute__(self, name: str) -> object:
        if name in ("read_manifest", "versions", "create", "fetch", "verify", "put_manifest"):
            with object.__getattribute__(self, "counting"):
                calls = object.__getattribute__(self, "calls")
                calls[name] = calls.get(name, 0) + 1
        return object.__getattribute__(self, name)


def test_a_no_change_run_costs_one_manifest_read_and_a_head_per_module_map(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetbuild.remote import connect

    target = Counting(tmp_path / "bucket")
    monkeypatch.setattr(connect, "open_target", lambda *a, **k: target)
    run(site)
    target.calls.clear()
    assert not run(site).report.manifest_changed
    # The maps are compared by content (a map can change alone): one HEAD each, on the pool.
    maps = [
        e for e in manifest_of(tmp_path / "bucket/manifest.json")["modules"].values() if "map" in e
    ]
    assert len(maps) == len(MODULES) - 1  # a JSON module has no map
    # (DirectoryTarget.verify reads the object back: a fetch each; S3's is a HEAD.)
    wanted = {"read_manifest": 1, "verify": len(maps) + 1, "fetch": len(maps) + 1}
    assert target.calls == wanted
    target.calls.clear()
    write(site, {"js/modules/lib/b.js": _body(9, "b")})
    run(site)
    assert "versions" not in target.calls  # the manifest names the area's versions
    uploaded = [k for k in snapshot(tmp_path / "bucket") if k.startswith("js/2/")]
    assert target.calls["create"] == len(uploaded) and target.calls["put_manifest"] == 1


def test_module_outputs_without_their_trees_are_refused(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    settings = ManifestSettings(tmp_path / "manifest.json", "json", None)
    with pytest.raises(ValueError, match="trees"):
        remote_install(target, [Output("js/app/a.js", b"x", tree="js/app")], manifest=settings)
    assert not (tmp_path / "bucket").exists()


EDITS = st.lists(
    st.sampled_from(["bundle", "module", "add", "remove", "json", "none"]), min_size=1, max_size=4
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=EDITS)
def test_any_edits_keep_one_version_per_tree_and_never_rewrite_a_published_object(
    tmp_path_factory: pytest.TempPathFactory, edits: list[str]
) -> None:
    tmp = tmp_path_factory.mktemp("edits")
    site = tmp / "site"
    write(site, files())
    (site / "assetbuild.toml").write_text(f'target = "file://{tmp}/bucket"\n' + CONFIG)
    local = tmp / "local"
    shutil.copytree(site, local)
    (local / "assetbuild.toml").write_text(CONFIG)
    seen: dict[str, bytes] = {}
    for step, edit in enumerate(edits):
        change = {
            "bundle": {"js/src/a.js": f"var a = {step};\n"},
            "module": {"js/modules/lib/b.js": _body(step + 2, "b")},
            "add": {f"js/modules/new{step}.js": f"export const n = {step};\n"},
            "json": {"js/modules/lib/d.json": f'{{"x": {step}}}\n'},
        }.get(edit, {})
        for where in (site, local):
            write(where, change)
            if edit == "remove":
                for extra in sorted((where / "js/modules").glob("new*.js"))[:1]:
                    extra.unlink()
        pushed = run(site)
        install(load_config(local, None), BuildOptions())
        bucket = snapshot(tmp / "bucket")
        assert {k: bucket[k] for k in seen} == seen
        seen = bucket
        assert check_bucket(tmp / "bucket") == []
        # The same fields as the local install's, but for version numbers: locally a module
        # added to an unchanged tree joins the current version; remotely, as a new bundle does,
        # it makes a new one (nothing is ever added to a published version).
        remote = manifest_of(tmp / "bucket/manifest.json")
        assert remote["importmap_csp"] == importmap_csp(remote["importmap"])
        assert unversioned(remote) == unversioned(manifest_of(local / "manifest.json"))
        again = run(site)
        assert again.report.remote is not None and again.report.remote.uploaded == 0
        assert not again.report.manifest_changed and pushed.report.trees


# -- over S3 (moto's server, boto3, versioned buckets) ------------------------------------------------

needs_s3 = pytest.mark.skipif(s3.available() is not None, reason=str(s3.available()))


@pytest.fixture(scope="module")
def server() -> Iterator[s3.S3Server]:
    if s3.available() is not None:
        pytest.skip(str(s3.available()))
    srv = s3.S3Server()
    yield srv
    srv.stop()


def s3_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    write(site, files())
    (site / "assetbuild.toml").write_text(f'static_url = "{CDN}"\n' + CONFIG)
    return site


def push(site: Path, server: s3.S3Server, bucket: str, *args: str, fault: str = "") -> Any:
    env = server.env()
    env.pop("ASSETBUILD_FAULT", None)
    if fault:
        env["ASSETBUILD_FAULT"] = fault
    return subprocess.run(
        [ASSETBUILD, "install", "--target", f"s3://{bucket}/site", *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def s3_manifest(server: s3.S3Server, bucket: str) -> dict[str, Any]:
    body = server.client().get_object(Bucket=bucket, Key="site/manifest.json")["Body"].read()
    data: dict[str, Any] = json.loads(body)
    return data


def check_s3(server: s3.S3Server, bucket: str) -> list[str]:
    """Every module the remote manifest names is in the bucket with its bytes, variants and map,
    and one tree is in one version."""
    client = server.client()

    def get(path: str) -> bytes:
        body: bytes = client.get_object(Bucket=bucket, Key="site/" + path)["Body"].read()
        return body

    data = s3_manifest(server, bucket)
    problems = []
    if len({e["version"] for e in data.get("modules", {}).values()}) > 1:
        problems.append("one tree in several versions")
    for name, entry in data.get("modules", {}).items():
        body = get(entry["path"])
        if integrity(body) != entry["integrity"] or len(body) != entry["size"]:
            problems.append(f"{name}: {entry['path']} differs from its entry")
        for variant in entry["variants"].values():
            if gzip.decompress(get(variant["path"])) != body:
                problems.append(f"{variant['path']} is not {entry['path']} compressed")
        if "map" in entry and len(get(entry["map"]["path"])) != entry["map"]["size"]:
            problems.append(f"{entry['map']['path']} differs from its entry")
    return problems


@needs_s3
def test_s3_a_tree_goes_up_with_cdn_headers_and_the_local_installs_fields(
    tmp_path: Path, server: s3.S3Server
) -> None:
    bucket = server.bucket()
    site = s3_site(tmp_path)
    local = tmp_path / "local"
    shutil.copytree(site, local)
    assert cli(local, "install", "-q").returncode == 0
    done = push(site, server, bucket, "--json")
    assert done.returncode == 0, done.stderr
    remote = s3_manifest(server, bucket)
    # The same static_url: the very same fields, CSP hash included.
    assert tree_fields(remote) == tree_fields(manifest_of(local / "manifest.json"))
    assert sorted(remote["modules"]) == MODULES
    assert check_s3(server, bucket) == []
    client = server.client()
    for key, kind, encoding in (
        ("site/js/1/app/main.js", "text/javascript; charset=utf-8", None),
        ("site/js/1/app/lazy.mjs", "text/javascript; charset=utf-8", None),
        ("site/js/1/app/lib/d.json", "application/json; charset=utf-8", None),
        ("site/js/1/app/lib/a.js.gz", "text/javascript; charset=utf-8", "gzip"),
        ("site/js/1/app/lib/a.js.map", "application/json; charset=utf-8", None),
    ):
        head = client.head_object(Bucket=bucket, Key=key)
        assert (head["ContentType"], head.get("ContentEncoding")) == (kind, encoding), key
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == (local / key.removeprefix("site/")).read_bytes()
    again = push(site, server, bucket, "--json")
    assert json.loads(again.stdout)["remote"]["uploaded"] == 0
    write(site, {"js/modules/lib/b.js": _body(5, "b")})
    edited = push(site, server, bucket, "--json")
    assert edited.returncode == 0, edited.stderr
    remote = s3_manifest(server, bucket)
    assert {e["path"].split("/")[1] for e in remote["modules"].values()} == {"2"}
    assert remote["bundles"]["js/main.js"]["path"] == "js/1/main.js"
    assert check_s3(server, bucket) == []
    assert s3.overwritten(client, bucket) == []


@needs_s3
@pytest.mark.parametrize("point", ["uploading:1", "uploading:6", "uploaded", "manifest", "done"])
def test_s3_a_killed_tree_upload_leaves_a_valid_manifest_and_the_next_run_completes_it(
    tmp_path: Path, server: s3.S3Server, point: str
) -> None:
    bucket = server.bucket()
    site = s3_site(tmp_path)
    assert push(site, server, bucket).returncode == 0
    before = s3_manifest(server, bucket)
    write(site, {"js/modules/lib/b.js": _body(5, "b")})
    killed = push(site, server, bucket, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert check_s3(server, bucket) == []
    if point != "done":
        assert s3_manifest(server, bucket) == before  # names only the complete js/1
    again = push(site, server, bucket, "--json")
    assert again.returncode == 0, again.stderr
    remote = s3_manifest(server, bucket)
    assert {e["version"] for e in remote["modules"].values()} == {2}
    assert check_s3(server, bucket) == []
    assert s3.overwritten(server.client(), bucket) == []
    report = json.loads(again.stdout)["remote"]
    objects = [k for k in s3.keys(server.client(), bucket) if k.startswith("site/js/2/")]
    # Resumed: what the killed run uploaded is found identical, never uploaded again.
    assert report["uploaded"] + report["skipped"] == (0 if point == "done" else len(objects))
