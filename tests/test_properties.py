"""Cross-module properties: what the module tests cannot see alone.

- token substitution through config + pipeline equals an independent one-pass reference;
- bundle order through config + pipeline is byte order of the relative paths, however files were made;
- the auto policy through pipeline.install (its no-change fast path included) gives consecutive versions
  and never changes a published URL, over random edit sequences;
- manifests round-trip through the atomic writer and the reader, and the reader only ever raises
  ManifestError on damaged bytes;
- SourceFile.line_col agrees with diagnostics.line_col everywhere.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assetbuild.build.pipeline import build, install
from assetbuild.build.results import BuildOptions
from assetbuild.config import Overrides, load_config
from assetbuild.diagnostics import line_col
from assetbuild.manifest import (
    Manifest,
    ManifestError,
    build_manifest,
    bundle_entry,
    integrity,
    parse_manifest,
    read_manifest,
    render_json,
    write_manifest,
)
from assetbuild.sources import SourceFile
from assetbuild.tokens import substitute
from assetbuild.versions import list_versions

NO_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
NO_SURROGATES_OR_CONTROLS: tuple[Literal["Cs"], Literal["Cc"]] = ("Cs", "Cc")
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def site_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


# ------------------------------------------------------------------------------ tokens, end to end

NAMES = st.sampled_from(["a", "b", "static", "long_name", "x1"])
VALUE_CHARS = st.characters(
    codec="utf-8", exclude_categories=NO_SURROGATES_OR_CONTROLS, exclude_characters="*\\"
)
VALUES = st.text(VALUE_CHARS, max_size=12) | st.sampled_from(
    ["{$a}", "<$b>", "{$static}/", "/", ""]
)
TOKEN_RE = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}|<\$([A-Za-z_][A-Za-z0-9_]*)>")


def reference_substitution(text: str, values: dict[str, str]) -> str:
    """One pass, left to right; a replacement is never looked at again; trailing "/" dropped."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values[name].rstrip("/") if name in values else match.group(0)

    return TOKEN_RE.sub(one, text)


PIECES = st.lists(
    st.one_of(
        NAMES.map(lambda n: "{$" + n + "}"),
        NAMES.map(lambda n: "<$" + n + ">"),
        st.sampled_from(["{$", "<$", "}", ">", "{$unknown}", " ", "\n", "x"]),
        st.text(VALUE_CHARS, max_size=5),
    ),
    max_size=12,
)


@SLOW
@given(pieces=PIECES, values=st.dictionaries(NAMES, VALUES, min_size=1))
def test_tokens_through_config_and_pipeline_match_a_one_pass_reference(
    pieces: list[str], values: dict[str, str]
) -> None:
    body = "".join(pieces)
    # Inside a block comment, any substituted text stays valid JavaScript (values exclude "*").
    source = f"/* {body} */\nvar ok = 1;\n"
    tokens = {k: v for k, v in values.items() if k != "static"}
    static = values.get("static", "/s")
    with site_dir() as site:
        (site / "js").mkdir()
        (site / "js/a.js").write_text(source, encoding="utf-8")
        table = "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in tokens.items())
        (site / "assetbuild.toml").write_text(
            f"static_url = {json.dumps(static, ensure_ascii=False)}\n[tokens]\n{table}"
            '[[bundle]]\noutput = "js/main.js"\nsources = ["js/a.js"]\n',
            encoding="utf-8",
        )
        config = load_config(site, None, Overrides(), {})
        result = build(config, BuildOptions(minify=False, use_cache=False))
    assert result.ok, [d.message for d in result.diagnostics]
    expected = reference_substitution(source, {**tokens, "static": static})
    assert result.bundles[0].data.decode("utf-8") == expected


@given(st.text(max_size=300), st.dictionaries(NAMES, VALUES), st.data())
def test_line_col_of_a_source_agrees_with_diagnostics(
    text: str, values: dict[str, str], data: st.DataObject
) -> None:
    text = text * data.draw(st.sampled_from([1, 1, 20]))  # past the 4096-character shortcut
    src = SourceFile(Path("a.js"), "a.js", text, text)
    src, _ = substitute(src, values)
    for offset in data.draw(st.lists(st.integers(-2, len(src.text) + 2), max_size=8)):
        assert src.line_col(offset) == line_col(src.original, src.original_offset(offset))


# ---------------------------------------------------------------------------------- source ordering

SEGMENT = st.text(
    st.characters(
        codec="utf-8", exclude_characters="/\\*?[]\x00", exclude_categories=NO_SURROGATES
    ),
    min_size=1,
    max_size=6,
).filter(
    lambda s: not s.startswith(".") and not s.endswith(("~", ".swp", ".tmp")) and not s.isdigit()
)


@SLOW
@given(
    paths=st.lists(st.lists(SEGMENT, min_size=1, max_size=3), min_size=1, max_size=8),
    seed=st.integers(0, 2**32 - 1),
)
def test_bundle_order_is_byte_order_however_files_were_created(
    paths: list[list[str]], seed: int
) -> None:
    rels = sorted({"/".join(p) + ".js" for p in paths})
    # A directory and a file of the same name cannot both exist.
    assume(not any(a != b and b.startswith(a + "/") for a in rels for b in rels))
    order = rels[:]
    random.Random(seed).shuffle(order)
    with site_dir() as site:
        for i, rel in enumerate(order):
            path = site / "src" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"var v{i} = {json.dumps(rel)};\n", encoding="utf-8")
        (site / "assetbuild.toml").write_text(
            '[[bundle]]\noutput = "js/main.js"\nsources = ["src/**/*.js"]\n', encoding="utf-8"
        )
        config = load_config(site, None, Overrides(), {})
        result = build(config, BuildOptions(minify=False, use_cache=False))
    assert result.ok, [d.message for d in result.diagnostics]
    text = result.bundles[0].data.decode("utf-8")
    found = [
        json.loads(line.split(" = ", 1)[1].rstrip(";"))
        for line in text.splitlines()
        if line.startswith("var ")
    ]
    assert found == sorted(rels, key=lambda r: r.encode("utf-8"))


# ------------------------------------------------------------------------------------ version choice

BUNDLE_NAMES = ("js/main.js", "js/extra.js", "css/site.css")
EDITS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={name: st.integers(0, 3) for name in BUNDLE_NAMES},
    ).filter(bool),
    min_size=1,
    max_size=6,
)


def _source(name: str, n: int) -> str:
    if name.endswith(".css"):
        return f".v{n} {{ color: red }}\n" * (n + 1)
    return f"var {name.split('/')[1][:-3]}{n} = {n};\n" * (n + 1)


@SLOW
@given(steps=EDITS, use_cache=st.booleans())
def test_auto_policy_over_random_edits_through_the_pipeline(
    steps: list[dict[str, int]], use_cache: bool
) -> None:
    with site_dir() as site:
        published: dict[str, bytes] = {}
        current: dict[str, int] = {}
        expected_versions = {"js": 0, "css": 0}
        origins: dict[str, int] = {}  # where each bundle's current bytes were first installed
        for step in steps:
            changed_areas = set()
            edited = []
            for name, n in step.items():
                area = name.split("/")[0]
                if current.get(name) != n:
                    edited.append(name)
                    # A changed bundle bumps; a bundle new to an existing version is added.
                    if name in current or expected_versions[area] == 0:
                        changed_areas.add(area)
                    current[name] = n
                    path = site / "static/src" / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(_source(name, n), encoding="utf-8")
            bundles = "".join(
                f'[[bundle]]\noutput = "{name}"\nsources = ["src/{name}"]\n'
                for name in sorted(current)
            )
            (site / "assetbuild.toml").write_text('root = "static"\n' + bundles, encoding="utf-8")
            (site / "static").mkdir(exist_ok=True)
            config = load_config(site, None, Overrides(), {})
            install(config, BuildOptions(use_cache=use_cache))
            for area in changed_areas:
                expected_versions[area] += 1
            for name in edited:
                origins[name] = expected_versions[name.split("/")[0]]
            root = site / "static"
            for area, count in expected_versions.items():
                assert list(list_versions(root / area)) == list(range(1, count + 1))
            # Every file ever seen in a version directory keeps its bytes.
            for path in root.rglob("*"):
                rel = path.relative_to(root).as_posix()
                if path.is_file() and rel.split("/")[1:2] and rel.split("/")[1].isdigit():
                    assert published.setdefault(rel, path.read_bytes()) == path.read_bytes(), rel
            # The manifest serves the current sources from the version where each bundle's bytes
            # were first installed; the newest version holds them too.
            manifest = read_manifest(root / "manifest.json")
            assert set(manifest["bundles"]) == set(current)
            for name, entry in manifest["bundles"].items():
                area, base = name.split("/")
                assert entry["version"] == origins[name]
                body = (root / entry["path"]).read_bytes()
                assert (root / area / str(expected_versions[area]) / base).read_bytes() == body
                assert entry["integrity"] == integrity(body)
                stem = name.split("/")[1][:-3] if name.endswith(".js") else ".v"
                assert f"{stem}{current[name]}" in body.decode("utf-8")


# ------------------------------------------------------------------------------------------ manifests

BUNDLE_NAME = st.text(
    st.characters(codec="utf-8", exclude_categories=NO_SURROGATES), min_size=1, max_size=20
)
ENTRY = st.builds(
    lambda path, version, data, gz, url: (path, version, data, gz, url),
    st.text(
        st.characters(codec="utf-8", exclude_categories=NO_SURROGATES), min_size=1, max_size=30
    ),
    st.integers(1, 10**9),
    st.binary(max_size=64),
    st.none() | st.integers(0, 10**6),
    st.none() | st.text(max_size=20),
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(BUNDLE_NAME, ENTRY, max_size=6))
def test_manifest_round_trips_through_writer_and_reader(
    entries: dict[str, tuple[str, int, bytes, int | None, str | None]],
) -> None:
    made = {
        name: bundle_entry(path, version, data, {".gz": gz} if gz is not None else {}, url)
        for name, (path, version, data, gz, url) in entries.items()
    }
    with site_dir() as tmp:
        target = tmp / "manifest.json"
        assert write_manifest(target, "json", made) is True
        assert write_manifest(target, "json", made) is False  # same bytes: not rewritten
        raw = target.read_bytes()
        assert raw == render_json(build_manifest(made))
        loaded = Manifest.load(target)
        assert loaded.names() == tuple(sorted(made))
        for name, entry in made.items():
            assert loaded.url(name) == entry["url"] and loaded.path(name) == entry["path"]
            assert loaded.integrity(name) == entry["integrity"]
        assert parse_manifest(target, raw) == json.loads(raw)
        assert not [p for p in tmp.iterdir() if p.name != "manifest.json"]  # no temp left


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_manifests_raise_only_manifest_error(data: st.DataObject) -> None:
    good = render_json(
        build_manifest({"js/a.js": bundle_entry("js/1/a.js", 1, b"x", {".gz": 3}, "/s")})
    )
    how = data.draw(st.sampled_from(["truncate", "flip", "insert", "random"]))
    raw = bytearray(good)
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] = data.draw(st.integers(0, 255))
    elif how == "insert":
        i = data.draw(st.integers(0, len(raw)))
        raw[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        raw = bytearray(data.draw(st.binary(max_size=200)))
    path = Path("manifest.json")
    try:
        parsed = parse_manifest(path, bytes(raw))
    except ManifestError as exc:
        assert "manifest.json" in str(exc)
        return
    # What is accepted is usable: every entry has string path, url and integrity.
    for entry in parsed["bundles"].values():
        assert all(isinstance(entry[k], str) for k in ("path", "url", "integrity"))


@pytest.mark.parametrize("depth", [10, 100_000])
def test_nested_json_manifest_is_a_manifest_error(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"version": 1, "bundles": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(ManifestError):
        read_manifest(path)
