"""The remote install's decisions, over a directory used like a bucket (`DirectoryTarget`): fast and
hermetic. The same code runs against S3 in tests/test_remote_s3.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.build.results import ManifestSettings, Output
from assetbuild.errors import ConfigError, InstallError
from assetbuild.manifest import parse_php
from assetbuild.remote.prune import remote_prune
from assetbuild.remote.publish import remote_install
from assetbuild.remote.target import DirectoryTarget, Headers, headers_for
from assetbuild.remote.url import parse_target, target_problem


def settings_for(tmp: Path, fmt: str = "json") -> ManifestSettings:
    return ManifestSettings(tmp / f"local/manifest.{fmt}", fmt, "https://cdn.example.com")


def outputs(js: bytes, css: bytes = b"a{}", gz: bool = True) -> list[Output]:
    variant = ((".gz", b"gz:" + js),) if gz else ()
    return [Output("js/main.js", js, variant), Output("css/site.css", css)]


def remote(target: DirectoryTarget) -> dict[str, dict[str, object]]:
    raw = target.read_manifest()[0]
    assert raw is not None
    bundles: dict[str, dict[str, object]] = json.loads(raw)["bundles"]
    return bundles


def test_versions_come_from_the_remote_manifest_and_unchanged_bundles_keep_their_urls(
    tmp_path: Path,
) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    first = remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path))
    assert first.changed and first.stats.uploaded == 3
    again = remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path))
    assert not again.changed and again.stats.uploaded == 0
    assert [a.action for a in again.areas] == ["up-to-date", "up-to-date"]
    third = remote_install(target, outputs(b"two"), manifest=settings_for(tmp_path))
    assert {a.area: (a.action, a.version) for a in third.areas} == {
        "css": ("up-to-date", 1),
        "js": ("bumped", 2),
    }
    bundles = remote(target)
    assert bundles["js/main.js"]["path"] == "js/2/main.js"
    assert bundles["css/site.css"]["url"] == "https://cdn.example.com/css/1/site.css"
    local = json.loads((tmp_path / "local/manifest.json").read_bytes())["bundles"]
    assert local == bundles
    assert (tmp_path / "bucket/js/1/main.js").read_bytes() == b"one"


def test_a_php_site_gets_the_same_php_manifest_remotely_and_locally(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path / "bucket", "php")
    first = remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path, "php"))
    assert first.changed and target.manifest_key == "manifest.php"
    remote_php = (tmp_path / "bucket/manifest.php").read_bytes()
    assert remote_php.startswith(b"<?php") and not (tmp_path / "bucket/manifest.json").exists()
    assert (tmp_path / "local/manifest.php").read_bytes() == remote_php
    assert parse_php(remote_php)["bundles"]["js/main.js"]["path"] == "js/1/main.js"
    # Read back to decide: the same build changes nothing, an edit keeps the others' URLs.
    again = remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path, "php"))
    assert not again.changed and again.stats.uploaded == 0
    third = remote_install(target, outputs(b"two"), manifest=settings_for(tmp_path, "php"))
    assert {a.area: (a.action, a.version) for a in third.areas} == {
        "css": ("up-to-date", 1),
        "js": ("bumped", 2),
    }
    bundles = parse_php((tmp_path / "bucket/manifest.php").read_bytes())["bundles"]
    assert (bundles["js/main.js"]["path"], bundles["css/site.css"]["path"]) == (
        "js/2/main.js",
        "css/1/site.css",
    )


def test_a_php_manifest_replaced_meanwhile_is_read_again(tmp_path: Path) -> None:
    php = settings_for(tmp_path, "php")
    remote_install(DirectoryTarget(tmp_path / "bucket", "php"), outputs(b"one"), manifest=php)
    other = settings_for(tmp_path / "other", "php")
    target = Racing(tmp_path / "bucket", outputs(b"one", b"css2"), other, "php")
    done = remote_install(target, outputs(b"two", b"a{}"), manifest=php)
    assert done.stats.manifest_retries == 1
    bundles = parse_php((tmp_path / "bucket/manifest.php").read_bytes())["bundles"]
    assert bundles["js/main.js"]["path"] == "js/2/main.js"
    assert bundles["css/site.css"]["path"] == "css/3/site.css"  # css/2 is the other run's


@pytest.mark.parametrize(
    "raw",
    [
        b"<?php system('touch pwned'); return [];",
        b"<?php\nreturn ['bundles' => ['js/main.js' => ['path' => 'js/9/main.js']]];\n",
        b"<?php return [" * 10_000,
        b"{}",
    ],
)
def test_a_hostile_php_manifest_is_rewritten_never_trusted(tmp_path: Path, raw: bytes) -> None:
    target = DirectoryTarget(tmp_path / "bucket", "php")
    (tmp_path / "bucket").mkdir()
    (tmp_path / "bucket/manifest.php").write_bytes(raw)
    remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path, "php"))
    bundles = parse_php((tmp_path / "bucket/manifest.php").read_bytes())["bundles"]
    assert set(bundles) == {"js/main.js", "css/site.css"}
    assert bundles["js/main.js"]["version"] == 1


def test_a_version_holding_other_bytes_is_skipped_and_a_resumed_one_completed(
    tmp_path: Path,
) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path))
    # js/2 holds another builder's bytes; js/3 a killed run's partial upload of these very bytes.
    target.create("js/2/main.js", b"theirs", headers_for("js/2/main.js"))
    done = remote_install(target, outputs(b"two"), manifest=settings_for(tmp_path))
    assert done.stats.taken == ["js/2"]
    assert remote(target)["js/main.js"]["path"] == "js/3/main.js"
    assert (tmp_path / "bucket/js/2/main.js").read_bytes() == b"theirs"
    target.create("js/4/main.js.gz", b"gz:three", headers_for("x.gz"))
    resumed = remote_install(target, outputs(b"three"), manifest=settings_for(tmp_path))
    assert (resumed.stats.uploaded, resumed.stats.skipped) == (1, 1)
    assert remote(target)["js/main.js"]["path"] == "js/4/main.js"


class Racing(DirectoryTarget):
    """A target where another installer replaces the manifest just before our first write."""

    def __init__(
        self, directory: Path, other: list[Output], local: ManifestSettings, fmt: str = "json"
    ) -> None:
        super().__init__(directory, fmt)
        self.other, self.local, self.raced = other, local, False

    def put_manifest(self, data: bytes, token: str | None, cache_control: str) -> bool:
        if not self.raced:
            self.raced = True
            inner = DirectoryTarget(self.directory, self.manifest_format)
            remote_install(inner, self.other, manifest=self.local)
        return super().put_manifest(data, token, cache_control)


def test_a_manifest_replaced_meanwhile_is_read_again_and_nothing_it_names_is_lost(
    tmp_path: Path,
) -> None:
    plain = DirectoryTarget(tmp_path / "bucket")
    remote_install(plain, outputs(b"one", b"css1"), manifest=settings_for(tmp_path))
    other = tmp_path / "other"
    # The other installer publishes css2 as css/2 while this one (js two, css1) uploads.
    target = Racing(tmp_path / "bucket", outputs(b"one", b"css2"), settings_for(other))
    done = remote_install(target, outputs(b"two", b"css1"), manifest=settings_for(tmp_path))
    assert done.stats.manifest_retries == 1
    bundles = remote(plain)
    assert bundles["js/main.js"]["path"] == "js/2/main.js"
    # Decided again against the new manifest (css/2 names css2): this run built css1, so it names
    # css1, as a new version; it never names bytes it did not build, and css/2 stays untouched.
    assert bundles["css/site.css"]["path"] == "css/3/site.css"
    assert (tmp_path / "bucket/css/3/site.css").read_bytes() == b"css1"
    assert (tmp_path / "bucket/css/2/site.css").read_bytes() == b"css2"


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"bundles": 3}', b'{"bundles": {"js/main.js": {"path": 1}}}',
     b'{"bundles": {"js/main.js": {"path": "js/9/main.js", "version": 9, "size": "x"}}}',
     b'{"bundles": {"x.js": {"path": "../../etc/passwd", "version": 1, "size": 1, '
     b'"integrity": "", "variants": {"gz": 5}}}}', b"[" * 100_000],
)  # fmt: skip
def test_a_hostile_remote_manifest_is_rewritten_never_trusted(tmp_path: Path, raw: bytes) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    (tmp_path / "bucket").mkdir()
    (tmp_path / "bucket/manifest.json").write_bytes(raw)
    remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path))
    bundles = remote(target)
    assert set(bundles) == {"js/main.js", "css/site.css"}
    assert bundles["js/main.js"]["version"] == 1


def test_into_current_is_refused_with_a_target(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="never overwritten"):
        remote_install(
            DirectoryTarget(tmp_path),
            outputs(b"x"),
            manifest=settings_for(tmp_path),
            policy="into-current",
        )


def test_a_dry_run_uploads_nothing_and_says_which_version_it_would_make(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path))
    before = sorted(p.name for p in (tmp_path / "bucket").rglob("*"))
    dry = remote_install(target, outputs(b"two"), manifest=settings_for(tmp_path), dry_run=True)
    assert dry.entries["js/main.js"]["path"] == "js/2/main.js"
    assert sorted(p.name for p in (tmp_path / "bucket").rglob("*")) == before


def test_prune_keeps_the_newest_named_and_young_versions(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    for n in range(1, 6):
        remote_install(target, outputs(b"v%d" % n), manifest=settings_for(tmp_path))
    target.create("js/6/main.js", b"an abandoned upload", headers_for("a.js"))
    # css/1 is named by the manifest; js/1..5 exist, js/6 is unnamed and young.
    dry = remote_prune(target, ["css", "js"], keep=2, min_age=3600, dry_run=True)
    assert [(d.area, d.version) for d in dry.removed] == []
    later = time.time() + 7200
    report = remote_prune(target, ["css", "js"], keep=1, min_age=3600, dry_run=False, now=later)
    assert [(d.area, d.version) for d in report.removed] == [("js", n) for n in (4, 3, 2, 1)]
    reasons = {(d.area, d.version): d.reason for d in report.kept}
    assert reasons == {("css", 1): "current", ("js", 6): "current", ("js", 5): "in the manifest"}
    assert target.versions("js") == [5, 6]
    assert remote(target)["js/main.js"]["path"] == "js/5/main.js"


def test_headers_by_extension_and_encoding() -> None:
    assert headers_for("js/1/main.js") == Headers(
        "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"
    )
    assert headers_for("css/1/a.css.br").content_encoding == "br"
    assert headers_for("css/1/a.css.br").content_type == "text/css; charset=utf-8"
    assert headers_for("img/1/a.woff2").content_type == "font/woff2"
    assert headers_for("js/1/main.js.map").content_type == "application/json; charset=utf-8"
    assert headers_for("x/1/blob").content_type == "application/octet-stream"


def test_target_urls() -> None:
    url = parse_target("s3://my-assets/site/static/")
    assert (url.scheme, url.bucket, url.prefix, str(url)) == (
        "s3",
        "my-assets",
        "site/static",
        "s3://my-assets/site/static",
    )
    assert parse_target("file:///srv/bucket").bucket == "/srv/bucket"
    for bad in ("s3://A", "s3://ab", "s3://b-b/../x", "gs://x/y", "file://rel", "s3://x\x00y/z"):
        assert target_problem(bad), bad
        with pytest.raises(ConfigError):
            parse_target(bad)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_any_target_text_is_accepted_or_refused_with_a_reason(text: str) -> None:
    problem = target_problem(text)
    if problem is None:
        parse_target(text)
    else:
        assert isinstance(problem, str) and problem


def test_an_install_error_names_the_target_when_the_store_is_unusable(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises((InstallError, OSError)):
        remote_install(DirectoryTarget(blocked), outputs(b"x"), manifest=settings_for(tmp_path))


class Counting(DirectoryTarget):
    """Counts the requests an install makes."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.calls: dict[str, int] = {}

    def __getattribute__(self, name: str) -> object:
        if name in ("read_manifest", "versions", "create", "fetch", "verify", "put_manifest"):
            calls = object.__getattribute__(self, "calls")
            calls[name] = calls.get(name, 0) + 1
        return object.__getattribute__(self, name)


def test_a_no_change_run_costs_one_manifest_read(tmp_path: Path) -> None:
    target = Counting(tmp_path / "bucket")
    remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path))
    target.calls.clear()
    remote_install(target, outputs(b"one"), manifest=settings_for(tmp_path))
    assert target.calls == {"read_manifest": 1}
    target.calls.clear()
    remote_install(target, outputs(b"two"), manifest=settings_for(tmp_path))
    # No listing: the manifest names the area's versions. 2 objects, created and verified.
    assert "versions" not in target.calls
    assert (target.calls["create"], target.calls["verify"], target.calls["put_manifest"]) == (
        2,
        2,
        1,
    )


def test_a_stylesheets_url_assets_go_up_beside_it_and_an_edited_font_is_a_change(
    tmp_path: Path,
) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    css = b"@font-face{src:url(fonts/a.woff2)}"

    def build(font: bytes) -> list[Output]:
        return [Output("css/site.css", css, (), (("fonts/a.woff2", font),))]

    first = remote_install(target, build(b"font-1"), manifest=settings_for(tmp_path))
    assert first.changed
    assert (tmp_path / "bucket/css/1/fonts/a.woff2").read_bytes() == b"font-1"
    assert remote(target)["css/site.css"]["assets"] == ["css/1/fonts/a.woff2"]
    again = remote_install(target, build(b"font-1"), manifest=settings_for(tmp_path))
    assert not again.changed and again.stats.uploaded == 0
    # The stylesheet's bytes are the same; its font is not: a new version holds both.
    edited = remote_install(target, build(b"font-2"), manifest=settings_for(tmp_path))
    assert {a.area: a.version for a in edited.areas} == {"css": 2}
    assert (tmp_path / "bucket/css/2/fonts/a.woff2").read_bytes() == b"font-2"
    assert (tmp_path / "bucket/css/2/site.css").read_bytes() == css
    assert (tmp_path / "bucket/css/1/fonts/a.woff2").read_bytes() == b"font-1"  # never rewritten


def mapped(js: bytes, sourcemap: bytes) -> list[Output]:
    """A bundle with its map, as the build hands them over (the map an output of its own)."""
    return [
        Output("js/main.js", js, ((".gz", b"gz:" + js),)),
        Output("js/main.js.map", sourcemap, ((".gz", b"gz:" + sourcemap),)),
        Output("css/site.css", b"a{}"),
    ]


def test_a_map_goes_up_in_its_bundles_version_and_is_listed_in_its_entry(tmp_path: Path) -> None:
    target = Counting(tmp_path / "bucket")
    remote_install(target, mapped(b"one", b'{"v":1}'), manifest=settings_for(tmp_path))
    bundles = remote(target)
    assert set(bundles) == {"js/main.js", "css/site.css"}  # no entry of its own
    assert bundles["js/main.js"]["map"] == {
        "path": "js/1/main.js.map",
        "url": "https://cdn.example.com/js/1/main.js.map",
        "size": 7,
    }
    assert (tmp_path / "bucket/js/1/main.js.map").read_bytes() == b'{"v":1}'
    assert (tmp_path / "bucket/js/1/main.js.map.gz").read_bytes() == b'gz:{"v":1}'
    # Unchanged: one manifest read and one HEAD of the map (it has no integrity in the entry).
    target.calls.clear()
    again = remote_install(target, mapped(b"one", b'{"v":1}'), manifest=settings_for(tmp_path))
    target.calls.pop("fetch", None)  # DirectoryTarget.verify reads through fetch
    assert not again.changed and target.calls == {"read_manifest": 1, "verify": 1}
    # Only the map changed (a comment moved lines; same size): the bundle links `main.js.map`
    # beside it, so both go up as js/2, never a bundle in js/1 with its map in js/2.
    moved = remote_install(target, mapped(b"one", b'{"v":2}'), manifest=settings_for(tmp_path))
    assert {a.area: (a.action, a.version) for a in moved.areas}["js"] == ("bumped", 2)
    entry = remote(target)["js/main.js"]
    assert (entry["path"], entry["map"]) == (
        "js/2/main.js",
        {"path": "js/2/main.js.map", "url": "https://cdn.example.com/js/2/main.js.map", "size": 7},
    )
    assert (tmp_path / "bucket/js/2/main.js.map").read_bytes() == b'{"v":2}'
    # Maps turned off: the entry names no map (a new version without one).
    plain = remote_install(target, outputs(b"one", b"a{}"), manifest=settings_for(tmp_path))
    assert "map" not in remote(target)["js/main.js"] and plain.changed


def test_a_map_listed_on_its_own_by_an_older_install_is_folded_without_a_new_version(
    tmp_path: Path,
) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    remote_install(target, mapped(b"one", b"{}"), manifest=settings_for(tmp_path))
    data = json.loads((tmp_path / "bucket/manifest.json").read_bytes())
    bundle = data["bundles"]["js/main.js"]
    found = bundle.pop("map")
    data["bundles"]["js/main.js.map"] = {
        **found,
        "version": 1,
        "integrity": "sha384-x",
        "variants": {"gz": {"path": found["path"] + ".gz", "size": 4}},
    }
    (tmp_path / "bucket/manifest.json").write_text(json.dumps(data))
    done = remote_install(target, mapped(b"one", b"{}"), manifest=settings_for(tmp_path))
    assert done.stats.uploaded == 0 and [a.action for a in done.areas] == ["up-to-date"] * 2
    bundles = remote(target)
    assert set(bundles) == {"js/main.js", "css/site.css"}
    assert bundles["js/main.js"]["map"]["path"] == "js/1/main.js.map"


def test_prune_keeps_what_either_manifest_format_names(tmp_path: Path) -> None:
    json_site = DirectoryTarget(tmp_path / "bucket")
    for n in range(1, 4):
        remote_install(json_site, outputs(b"v%d" % n), manifest=settings_for(tmp_path))
    php_site = DirectoryTarget(tmp_path / "bucket", "php")  # the site switched formats
    remote_install(php_site, outputs(b"v9"), manifest=settings_for(tmp_path, "php"))
    later = time.time() + 7200
    report = remote_prune(php_site, ["js"], keep=1, min_age=3600, dry_run=True, now=later)
    reasons = {d.version: d.reason for d in report.kept}
    assert reasons == {4: "current", 3: "in the manifest"}  # js/3: the old manifest.json's
    assert [d.version for d in report.removed] == [2, 1]
    (tmp_path / "bucket/manifest.json").write_bytes(b"{not json")
    with pytest.raises(ConfigError, match=r"manifest\.json cannot be read"):
        remote_prune(php_site, ["js"], keep=1, min_age=0, dry_run=True)


def test_a_special_file_or_link_in_a_directory_target_is_never_read_through(
    tmp_path: Path,
) -> None:
    import os

    (tmp_path / "bucket").mkdir()
    os.mkfifo(tmp_path / "bucket/manifest.json")
    target = DirectoryTarget(tmp_path / "bucket")
    with pytest.raises(InstallError, match="FIFO"):
        remote_install(target, outputs(b"x"), manifest=settings_for(tmp_path))
    (tmp_path / "bucket/manifest.json").unlink()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "bucket/js").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InstallError, match="symbolic link"):
        remote_install(target, outputs(b"x"), manifest=settings_for(tmp_path))
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_upload_progress_counts_every_object_up_to_its_total(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path / "bucket")
    seen: list[tuple[int, int]] = []
    remote_install(
        target,
        mapped(b"one", b"{}"),
        manifest=settings_for(tmp_path),
        on_progress=lambda done, total: seen.append((done, total)),
    )
    # js: the map, its .gz, the bundle's .gz, the bundle; css: the bundle.
    assert [done for done, _ in seen] == [1, 2, 3, 4, 5] and {t for _, t in seen} == {5}
