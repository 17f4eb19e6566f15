"""manifest: the JSON shape, PHP output, atomic writing, and the reader templates use."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.errors import AssetbuildError
from assetbuild.manifest import (
    BundleEntry,
    Manifest,
    ManifestError,
    build_manifest,
    bundle_entry,
    integrity,
    make_url,
    parse_php,
    php_string,
    read_manifest,
    render_json,
    render_php,
    write_manifest,
)

PHP = shutil.which("php") or ""
needs_php = pytest.mark.skipif(not PHP, reason="php is not installed")


def entries(static_url: str | None = "https://static.example.com/") -> dict[str, BundleEntry]:
    return {
        "js/main.js": bundle_entry(
            "js/8/main.js", 8, b"var a=1;", {".gz": 30, ".br": 20}, static_url
        ),
        "css/site.css": bundle_entry("css/2/site.css", 2, b"a{b:c}", {}, static_url),
    }


def test_integrity_known_value() -> None:
    # The SRI of the empty string, as published by browsers' test suites and srihash.org.
    assert (
        integrity(b"") == "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
    )


@pytest.mark.parametrize(
    ("static_url", "url"),
    [
        (None, "js/8/main.js"),
        ("", "js/8/main.js"),
        ("/static", "/static/js/8/main.js"),
        ("/static/", "/static/js/8/main.js"),
        ("https://cdn.example.com", "https://cdn.example.com/js/8/main.js"),
        ("https://cdn.example.com/a/b//", "https://cdn.example.com/a/b/js/8/main.js"),
        ("/", "/js/8/main.js"),
    ],
)
def test_make_url(static_url: str | None, url: str) -> None:
    assert make_url(static_url, "js/8/main.js") == url


def test_entry_shape() -> None:
    entry = entries()["js/main.js"]
    assert entry == {
        "path": "js/8/main.js",
        "url": "https://static.example.com/js/8/main.js",
        "version": 8,
        "size": 8,
        "integrity": integrity(b"var a=1;"),
        "variants": {
            "br": {"path": "js/8/main.js.br", "size": 20},
            "gz": {"path": "js/8/main.js.gz", "size": 30},
        },
    }


def test_json_is_deterministic() -> None:
    a = render_json(build_manifest(entries()))
    b = render_json(build_manifest(dict(reversed(list(entries().items())))))
    assert a == b
    assert a.endswith(b"}\n") and not a.endswith(b"\n\n")
    text = a.decode()
    assert text.index('"css/site.css"') < text.index('"js/main.js"')
    assert text.index('"bundles"') < text.index('"version": 1')  # sorted keys
    assert '\n  "bundles": {\n' in text  # indent 2
    assert json.loads(text) == {"version": 1, "bundles": entries()}


def test_write_only_when_changed(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    assert write_manifest(path, "json", entries())
    inode = path.stat().st_ino
    assert not write_manifest(path, "json", entries())
    assert path.stat().st_ino == inode
    assert write_manifest(path, "json", entries("/s/"))
    assert path.stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown manifest format"):
        write_manifest(tmp_path / "m", "yaml", entries())


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("it's", "'it\\'s'"),
        ("back\\slash", "'back\\\\slash'"),
        ("\\'", "'\\\\\\''"),
        ("$var {$x} \n", "'$var {$x} \n'"),
    ],
)
def test_php_string(value: str, literal: str) -> None:
    assert php_string(value) == literal


NASTY = "it's a \\ back'slash\\' $x {$y} \"q\" é ☃"


@needs_php
def test_php_manifest_is_valid_php_with_the_same_data(tmp_path: Path) -> None:
    data = entries(f"https://cdn.example.com/{NASTY}/")
    data[NASTY + ".js"] = bundle_entry(f"{NASTY}/1/x.js", 1, b"x", {}, None)
    path = tmp_path / "manifest.php"
    write_manifest(path, "php", data)
    assert path.read_bytes() == render_php(build_manifest(data))
    lint = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    dumped = subprocess.run(
        [
            PHP,
            "-r",
            "echo json_encode(require $argv[1], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    # PHP has one array type: an empty map comes back from json_encode as [].
    expected = json.loads(json.dumps({"version": 1, "bundles": data}).replace("{}", "[]"))
    assert json.loads(dumped.stdout) == expected


@needs_php
@settings(max_examples=20, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=30))
def test_php_strings_roundtrip(value: str) -> None:
    result = subprocess.run(
        [PHP, "-r", f"echo {php_string(value)};"], capture_output=True, check=True
    )
    assert result.stdout.decode("utf-8") == value


def test_php_without_php_is_still_shaped_right() -> None:
    text = render_php(build_manifest(entries())).decode()
    assert text.startswith("<?php\n") and text.rstrip().endswith("];")
    assert "'js/main.js' => [" in text and "'size' => 8," in text and "'variants' => []," in text


# --------------------------------------------------------------------------------------------------------
# The reader.


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    write_manifest(path, "json", entries())
    return path


def test_reader_lookups(manifest_file: Path) -> None:
    m = Manifest.load(manifest_file)
    assert m.url("js/main.js") == "https://static.example.com/js/8/main.js"
    assert m.path("css/site.css") == "css/2/site.css"
    assert m.integrity("css/site.css") == integrity(b"a{b:c}")
    assert m.names() == ("css/site.css", "js/main.js")
    assert "js/main.js" in m and "nope" not in m


def test_tags(manifest_file: Path) -> None:
    m = Manifest.load(manifest_file)
    sri = integrity(b"var a=1;")
    assert m.tag("js/main.js") == (
        f'<script src="https://static.example.com/js/8/main.js" integrity="{sri}" '
        'crossorigin="anonymous"></script>'
    )
    assert m.tag("css/site.css") == (
        '<link rel="stylesheet" href="https://static.example.com/css/2/site.css" '
        f'integrity="{integrity(b"a{b:c}")}" crossorigin="anonymous">'
    )


@pytest.mark.parametrize("name", ["js/app.mjs", "JS/APP.JS", "css/x.CSS"])
def test_tag_by_extension(tmp_path: Path, name: str) -> None:
    path = tmp_path / "m.json"
    write_manifest(path, "json", {name: bundle_entry("p/1/x", 1, b"x", {}, None)})
    tag = Manifest.load(path).tag(name)
    if name.endswith(".mjs"):
        assert tag.startswith('<script type="module" src="p/1/x"')
    elif name.lower().endswith(".js"):
        assert tag.startswith('<script src="p/1/x"')
    else:
        assert tag.startswith('<link rel="stylesheet" href="p/1/x"')


def test_tag_escapes_attributes(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    evil = "/s/\"><script>alert(1)</script>&'"
    write_manifest(path, "json", {"js/a.js": bundle_entry("js/1/a.js", 1, b"x", {}, evil)})
    tag = Manifest.load(path).tag("js/a.js")
    assert tag.count("<") == 2 and tag.count(">") == 2  # only the tag's own brackets
    assert 'src="/s/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#x27;/js/1/a.js"' in tag


def test_tag_for_other_kinds_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write_manifest(path, "json", {"img/a.svg": bundle_entry("img/1/a.svg", 1, b"x", {}, None)})
    with pytest.raises(ValueError, match=r"only \.js, \.mjs and \.css"):
        Manifest.load(path).tag("img/a.svg")


def test_missing_name_error(manifest_file: Path) -> None:
    m = Manifest.load(manifest_file)
    with pytest.raises(ManifestError) as info:
        m.url("js/mian.js")
    error = info.value
    assert isinstance(error, KeyError) and isinstance(error, AssetbuildError)
    text = str(error)
    assert str(manifest_file) in text
    assert "'js/mian.js'" in text
    assert "did you mean 'js/main.js'?" in text
    assert "css/site.css" in text
    with pytest.raises(KeyError):
        m.tag("nothing/like/it.css")
    with pytest.raises(ManifestError) as far:
        m.path("zzzzzz")
    assert "did you mean" not in str(far.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"{not json", "invalid JSON"),
        (b"\xff\xfe", "invalid JSON"),
        (b"[]", 'no "bundles"'),
        (b'{"bundles": {}}', 'no schema "version"'),
        (b'{"version": 1, "bundles": {"a.js": {"path": 1}}}', "bad entry for 'a.js'"),
        (b'{"version": 99, "bundles": {}}', "upgrade assetbuild"),
    ],
)
def test_corrupt_manifest_names_the_file(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError, match=match) as info:
        Manifest.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(ManifestError, match=match):
        read_manifest(path)


def test_corrupt_manifest_says_which_command_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(b"{not json")
    with pytest.raises(ManifestError, match="write it again with `assetbuild install`"):
        Manifest.load(path)


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="manifest not found") as info:
        Manifest.load(tmp_path / "nope.json")
    assert str(tmp_path / "nope.json") in str(info.value)


def test_load_is_cached_until_the_file_is_replaced(manifest_file: Path) -> None:
    first = Manifest.load(manifest_file)
    assert Manifest.load(str(manifest_file)) is first
    write_manifest(manifest_file, "json", entries("/other/"))
    second = Manifest.load(manifest_file)
    assert second is not first
    assert second.url("js/main.js") == "/other/js/8/main.js"


def test_reader_imports_stay_light(tmp_path: Path) -> None:
    import sys

    code = (
        "import sys; import assetbuild.manifest; "
        "heavy = {'click', 'esprima', 'rjsmin', 'rcssmin', 'tinycss2', 'watchdog', 'jinja2', 'django', 'brotli'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# -- reading our PHP back (a remote manifest.php decides the next install) -----------------------

_KEYS = st.text(max_size=12)
_LEAVES = st.one_of(st.text(max_size=20), st.integers(-(2**40), 2**40), st.booleans(), st.none())
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.dictionaries(_KEYS, inner, min_size=1, max_size=4),
        st.lists(inner, min_size=1, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_php_reads_back_what_render_php_wrote(value: dict[str, object]) -> None:
    raw = render_php(value)  # type: ignore[arg-type]  # any shape renders alike
    assert parse_php(raw) == _empty_as_mapping(value)
    assert render_php(parse_php(raw)) == raw


def _empty_as_mapping(value: object) -> object:
    """`render_php` writes `{}` and `[]` alike; the reader gives a mapping for both."""
    if isinstance(value, dict):
        return {k: _empty_as_mapping(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_empty_as_mapping(v) for v in value] if value else {}
    return value


def test_a_whole_manifest_reads_back_equal_to_its_json() -> None:
    data = build_manifest(entries())
    assert parse_php(render_php(data)) == json.loads(render_json(data))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"return [];",
        b"<?php return system('id');",
        b"<?php return ['a' => `id`];",
        b"<?php return ['a' => 1] . 'x';",
        b"<?php return ['a' => 1]; echo 1;",
        b"<?php return ['a' => 1]",
        b"<?php return ['a' => 1, 2];",
        b"<?php return [1, 'a' => 2];",
        b"<?php return ['a' => \"x\"];",
        b"<?php return ['a' => 1.5];",
        b"<?php return [[] => 1];",
        b"<?php return ['unterminated];",
        b"<?php return " + b"[" * 40 + b"]" * 40 + b";",
        b"<?php return " + b"[" * 100_000,
        b"<?php return ['\xff' => 1];",
    ],
)
def test_php_that_assetbuild_did_not_write_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_php(raw)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=200) | st.text(max_size=200).map(lambda t: ("<?php return " + t).encode())
)
def test_any_bytes_are_read_or_refused_with_a_value_error(raw: bytes) -> None:
    try:
        value = parse_php(raw)
    except ValueError:
        return  # refused, with a reason (never another exception, never a hang)
    assert isinstance(value, dict | list | str | int | bool) or value is None
