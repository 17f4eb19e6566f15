"""Source maps through the real command line: config and flags, install, manifest, --out, --json."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import uuid
from pathlib import Path

import pytest

from tests.test_cli import run

APP = "// app\nfunction hello(name) {\n  return 'hi ' + name;\n}\n"
LIB = "var lib = {version: '1.0'};\n//# sourceMappingURL=lib.js.map\n"
CSS = "body {\n  color: red;\n}\n"


def _site(root: Path, config: str) -> Path:
    for rel, text in {
        "src/10-app.js": APP,
        "src/vendor/lib.js": LIB,
        "src/site.css": CSS,
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, newline="")
    (root / "assetbuild.toml").write_text(
        config
        + """
[[bundle]]
output = "js/main.js"
sources = ["src/*.js", "src/vendor/*.js"]

[[bundle]]
output = "css/site.css"
sources = ["src/*.css"]
"""
    )
    return root


def test_linked_maps_are_installed_beside_their_bundles_and_named(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", 'sourcemap = "linked"\ncompress = ["gzip"]\n')
    done = run("install", "--json", cwd=site)
    assert done.returncode == 0, done.stderr
    js = (site / "js/1/main.js").read_text()
    assert js.endswith("\n//# sourceMappingURL=main.js.map\n")
    assert "lib.js.map" not in js  # the input's own comment is gone
    css = (site / "css/1/site.css").read_text()
    assert css.endswith("/*# sourceMappingURL=site.css.map */\n")
    data = json.loads((site / "js/1/main.js.map").read_text())
    assert data["sources"] == ["../../src/10-app.js", "../../src/vendor/lib.js"]
    for source in data["sources"]:  # relative to the map's URL: the real files
        assert (site / "js/1" / source).resolve() == (site / "js/1" / source).resolve(strict=True)
    assert data["sourcesContent"] == [APP, LIB]
    assert data["ignoreList"] == [1]
    assert (site / "js/1/main.js.map.gz").is_file()
    manifest = json.loads((site / "manifest.json").read_text())["bundles"]
    assert manifest["js/main.js"]["map"] == {
        "path": "js/1/main.js.map",
        "url": "js/1/main.js.map",
        "size": (site / "js/1/main.js.map").stat().st_size,
    }
    assert "js/main.js.map" not in manifest
    bundles = {b["name"]: b for b in json.loads(done.stdout)["bundles"]}
    assert bundles["js/main.js"]["map"]["path"] == "js/1/main.js.map"
    warnings = [d["message"] for d in json.loads(done.stdout)["diagnostics"]]
    assert any("lib.js.map cannot be read" in w for w in warnings)


def test_hidden_per_bundle_and_the_flag_overrides_the_config(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", "")
    config = (site / "assetbuild.toml").read_text()
    config = config.replace(
        'output = "css/site.css"', 'output = "css/site.css"\nsourcemap = "hidden"'
    )
    (site / "assetbuild.toml").write_text(config)
    assert run("install", cwd=site).returncode == 0
    assert not (site / "js/1/main.js.map").exists()
    assert (site / "css/1/site.css.map").is_file()
    assert "sourceMappingURL" not in (site / "css/1/site.css").read_text()
    # The flag changes what is built: not "up to date", a new version with maps.
    done = run("install", "--sourcemap", "linked", cwd=site)
    assert done.returncode == 0, done.stderr
    assert (site / "js/2/main.js.map").is_file()
    assert (site / "js/2/main.js").read_text().endswith("//# sourceMappingURL=main.js.map\n")
    assert not (site / "js/1/main.js.map").exists()  # the old version is never touched
    done = run("install", "--sourcemap", "linked", cwd=site)
    assert "up to date" in done.stdout + done.stderr


def test_a_removed_map_is_noticed_and_installed_again(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", 'sourcemap = "hidden"\n')
    assert run("install", cwd=site).returncode == 0
    (site / "js/1/main.js.map").unlink()
    assert run("install", cwd=site).returncode == 0
    manifest = json.loads((site / "manifest.json").read_text())["bundles"]
    assert (site / manifest["js/main.js"]["map"]["path"]).is_file()


def test_build_out_writes_maps_relative_to_where_they_are(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", "")
    out = tmp_path / "deploy" / "assets"
    done = run("build", "--out", str(out), "--sourcemap", "linked", "--json", cwd=site)
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "js/main.js.map").read_text())
    for source in data["sources"]:
        assert (out / "js" / source).resolve().is_file()
    bundles = {b["name"]: b for b in json.loads(done.stdout)["bundles"]}
    assert bundles["css/site.css"]["map"]["path"] == str(out / "css/site.css.map")


def test_maps_are_byte_identical_wherever_the_site_lives(tmp_path: Path) -> None:
    one = _site(tmp_path / "one", 'sourcemap = "linked"\n')
    two = _site(tmp_path / "deeper" / "two", 'sourcemap = "linked"\n')
    for site in (one, two):
        assert run("install", cwd=site).returncode == 0
    for rel in ("js/1/main.js", "js/1/main.js.map", "css/1/site.css.map"):
        assert (one / rel).read_bytes() == (two / rel).read_bytes()


MODERN = (
    "class A {\n  #x = 1;\n  #m() { return this.#x + (#x in this); }\n}\n"
    "var t = `a${`b${1}c`}d` + tag`x${{y: 2}.y}`, r = /[/]}/g, q = 4 / 2 / 1; // 😀\r\n"
    "var s = '{$static}/img.png'; new A();\n"
)


def test_the_engine_maps_what_the_python_path_maps(tmp_path: Path) -> None:
    """The engine's map (made from the tokens its check met) and the Python path's, through the
    real command, are the same bytes: private names, nested templates, regexes, astral, CR LF,
    a substitution."""
    config = 'sourcemap = "linked"\nstatic_url = "/static/😀/x"\n'
    made = []
    for engine in ("auto", "esprima"):
        site = _site(tmp_path / engine, config)
        (site / "src/20-modern.js").write_text(MODERN, newline="")
        done = run("install", cwd=site, env={"ASSETBUILD_ENGINE": engine})
        assert done.returncode == 0, done.stderr
        made.append(
            ((site / "js/1/main.js").read_bytes(), (site / "js/1/main.js.map").read_bytes())
        )
    assert made[0] == made[1]
    assert b"#x" in made[0][0]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('sourcemap = "yes"\n', 'sourcemap: expected "none", "linked" or "hidden", got "yes"'),
        ("sourcemap = true\n", "sourcemap: expected"),
        ("sourcemap_ignore = 3\n", "sourcemap_ignore: expected a list"),
        ('sourcemap_debug_id = "yes"\n', "sourcemap_debug_id: expected true or false"),
    ],
)
def test_bad_sourcemap_settings_are_config_errors(
    tmp_path: Path, config: str, message: str
) -> None:
    site = _site(tmp_path / "site", config)
    done = run("install", cwd=site)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_flag_value_is_a_usage_error(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", "")
    done = run("check", "--sourcemap", "inline", cwd=site)
    assert done.returncode == 2
    assert "inline" in done.stderr


def test_ignore_globs_are_configurable(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", 'sourcemap = "hidden"\nsourcemap_ignore = ["src/1*.js"]\n')
    assert run("install", cwd=site).returncode == 0
    data = json.loads((site / "js/1/main.js.map").read_text())
    assert data["ignoreList"] == [0]


def test_without_maps_nothing_changes_but_stray_comments(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", "")
    assert run("install", "--no-minify", cwd=site).returncode == 0
    assert sorted(os.listdir(site / "js/1")) == ["main.js"]
    assert (site / "js/1/main.js").read_text() == APP + ";\n" + LIB.split("//#")[0]


def test_an_edited_input_map_is_a_new_map(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", 'sourcemap = "hidden"\n')
    lib_map = {"version": 3, "sources": ["lib.ts"], "sourcesContent": ["let lib = 1"], "names": []}
    (site / "src/vendor/lib.js.map").write_text(json.dumps({**lib_map, "mappings": "AAAA"}))
    assert run("install", cwd=site).returncode == 0
    first = json.loads((site / "js/1/main.js.map").read_text())
    assert first["sources"][-1] == "../../src/vendor/lib.ts"
    (site / "src/vendor/lib.js.map").write_text(
        json.dumps({**lib_map, "sources": ["other.ts"], "mappings": "AAAA"})
    )
    assert run("install", "--sourcemap", "linked", cwd=site).returncode == 0
    second = json.loads((site / "js/2/main.js.map").read_text())
    assert second["sources"][-1] == "../../src/vendor/other.ts"


def test_watch_keeps_maps_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers.watch import Harness

    site = _site(tmp_path / "site", 'sourcemap = "linked"\n')
    monkeypatch.chdir(site)
    h = Harness(site)
    try:
        assert h.start().ok
        data = json.loads((site / "js/1/main.js.map").read_text())
        assert data["sourcesContent"][0] == APP
        edited = "// app\nvar x = 1; function hello(name) { return name + x; }\n"
        (site / "src/10-app.js").write_text(edited)
        r = h.next()
        assert r.ok and r.outputs == ("js/main.js",)
        data = json.loads((site / "js/1/main.js.map").read_text())
        assert data["sourcesContent"][0] == edited
        bundle = (site / "js/1/main.js").read_text()
        assert bundle.startswith("var x=1;function hello(name){return name+x;}")
        assert bundle.endswith("//# sourceMappingURL=main.js.map\n")
        manifest = json.loads((site / "manifest.json").read_text())["bundles"]
        assert manifest["js/main.js"]["map"]["size"] == (site / "js/1/main.js.map").stat().st_size
        assert manifest["css/site.css"]["map"]["path"] == "css/1/site.css.map"
    finally:
        h.stop()


def test_a_map_that_changed_alone_moves_its_bundle_with_it(tmp_path: Path) -> None:
    """A comment added to a source leaves the minified bundle byte-identical but not its map: the
    bundle goes into the new version beside its new map (its sourceMappingURL names the map beside
    it), so the manifest's bundle and map never disagree; the old version keeps its pair."""
    site = _site(tmp_path / "site", 'sourcemap = "linked"\n')
    assert run("install", cwd=site).returncode == 0
    old_js, old_map = (site / "js/1/main.js").read_bytes(), (site / "js/1/main.js.map").read_bytes()
    (site / "src/10-app.js").write_text("// a note\n" + APP, newline="")
    assert run("install", cwd=site).returncode == 0
    assert (site / "js/2/main.js").read_bytes() == old_js  # the same bytes, moved with the map
    assert (site / "js/2/main.js.map").read_bytes() != old_map
    entry = json.loads((site / "manifest.json").read_text())["bundles"]["js/main.js"]
    assert entry["path"] == "js/2/main.js" and entry["map"]["path"] == "js/2/main.js.map"
    assert (site / "js/1/main.js").read_bytes() == old_js  # published URLs keep their bytes
    assert (site / "js/1/main.js.map").read_bytes() == old_map
    assert run("install", cwd=site).returncode == 0  # and then nothing moves
    assert not (site / "js/3").exists()


# --- Debug ID ------------------------------------------------------------------------------------

_DEBUG_ID = re.compile(rb"(?://# debugId=([0-9a-f-]{36})\n|/\*# debugId=([0-9a-f-]{36}) \*/\n)")


def _debug_id_of(bundle: bytes) -> tuple[str, bytes]:
    """The Debug ID a bundle's comment names, and the bytes before that comment."""
    found = _DEBUG_ID.search(bundle)
    assert found is not None, bundle[-200:]
    return (found.group(1) or found.group(2)).decode(), bundle[: found.start()]


@pytest.mark.parametrize(("mode", "flag"), [("hidden", "--debug-id"), ("linked", None)])
def test_a_debug_id_is_in_the_bundle_and_its_map(
    tmp_path: Path, mode: str, flag: str | None
) -> None:
    config = f'sourcemap = "{mode}"\n' + ("" if flag else "sourcemap_debug_id = true\n")
    site = _site(tmp_path / "site", config)
    done = run("install", *([flag] if flag else []), cwd=site)
    assert done.returncode == 0, done.stderr
    for bundle, comment in (("js/1/main.js", b"//# "), ("css/1/site.css", b"/*# ")):
        data = (site / bundle).read_bytes()
        debug_id, before = _debug_id_of(data)
        # Deterministic: a UUID from the SHA-256 of the bytes before the comment (not random).
        digest = hashlib.sha256(before).digest()[:16]
        assert debug_id == str(uuid.UUID(bytes=digest, version=4))
        assert json.loads((site / f"{bundle}.map").read_bytes())["debugId"] == debug_id
        tail = data[len(before) :].decode()
        assert tail.startswith(comment.decode() + "debugId=")
        assert ("sourceMappingURL=" in tail) is (mode == "linked")
        # The manifest's SRI is of the bytes served, the comment included.
        entry = json.loads((site / "manifest.json").read_text())["bundles"][
            bundle.replace("/1", "")
        ]
        sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        assert entry["integrity"] == sri


def test_the_same_bundle_has_the_same_debug_id_and_an_edit_a_new_one(tmp_path: Path) -> None:
    first = _site(tmp_path / "a", 'sourcemap = "hidden"\nsourcemap_debug_id = true\n')
    second = _site(tmp_path / "b", 'sourcemap = "hidden"\nsourcemap_debug_id = true\n')
    for site in (first, second):
        assert run("install", cwd=site).returncode == 0, site
    ids = [_debug_id_of((s / "js/1/main.js").read_bytes())[0] for s in (first, second)]
    assert ids[0] == ids[1]
    (first / "src/10-app.js").write_text(APP.replace("hi ", "hello "))
    assert run("install", cwd=first).returncode == 0
    assert _debug_id_of((first / "js/2/main.js").read_bytes())[0] != ids[0]


def test_without_the_setting_there_is_no_debug_id(tmp_path: Path) -> None:
    site = _site(tmp_path / "site", 'sourcemap = "linked"\n')
    assert run("install", cwd=site).returncode == 0
    assert b"debugId" not in (site / "js/1/main.js").read_bytes()
    assert "debugId" not in json.loads((site / "js/1/main.js.map").read_text())
