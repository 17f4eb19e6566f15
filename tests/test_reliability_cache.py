"""Issue 12 regressions: the caches can never change what ships, and never delete what is not theirs.

An attacker here can write the cache directory (a CI cache restored from a pull request's run, a
shared build box) but not the sources, the installed files or the user's home where the cache key
lives. Every forgery uses the cache's own formats, as an attacker reading this code would: entries
signed with a key of their own (a cache restored from elsewhere), the genuine header and signature
around new contents, and the checksum-only format anyone could recompute before this fix.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import hmac
import json
import marshal
import os
import stat
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from assetbuild import cachehome, quick, stamps
from assetbuild.build.results import FileResult
from assetbuild.cache import content, state
from assetbuild.cache.codec import encode_value
from assetbuild.cache.content import ContentCache
from assetbuild.cachehome import Key, load_key
from assetbuild.cli import main
from assetbuild.install.compress import compress_gzip

PWNED = "alert('pwned');"

CONFIG = """\
[[bundle]]
output = "js/main.js"
sources = ["js/source/*.js"]
"""

FILES = {"js/source/a.js": "var a = 1;\n", "js/source/b.js": "function b() { return a; }\n"}

FORGERIES = ("own key", "genuine header", "checksum only")
ATTACKER = Key(b"the attacker's own key, from their machine or pull request", "attacker")


def _click(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv, prog_name="assetbuild")
    return int(exit_info.value.code or 0)


def _age(site: Path, seconds: float = 60.0) -> None:
    past = time.time() - seconds
    for path in site.rglob("*"):
        if path.is_file() and ".assetbuild-cache" not in path.parts:
            os.utime(path, (past, past))


def _shipped(site: Path, name: str = "js/main.js") -> bytes:
    manifest = json.loads((site / "manifest.json").read_text())
    return (site / manifest["bundles"][name]["path"]).read_bytes()


def _entries(cache_dir: Path, namespace: str) -> list[Path]:
    folder = cache_dir / content.ENTRIES_DIR / namespace
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _encoded(value: Any) -> tuple[Any, list[bytes]]:
    table: dict[str, int] = {}
    meta = encode_value(value, table)
    return meta, [s.encode("utf-8", "surrogatepass") for s in table]


def _forge(
    kind: str, genuine: bytes, namespace: str, key: str, meta: Any, blobs: list[bytes]
) -> bytes:
    """An entry for `key` holding `meta` and `blobs`, framed as an attacker can."""
    made = content.format_entry(ATTACKER, namespace, key, meta, blobs)
    if kind == "own key":
        return made
    meta_len = content._HEADER.unpack_from(made)[3]
    body = made[content._HEADER.size :]
    if kind == "genuine header":
        magic, ident, mac, _ = content._HEADER.unpack_from(genuine)
        return content._HEADER.pack(magic, ident, mac, meta_len) + body
    digest = hashlib.sha256(key.encode() + b"\0" + body).digest()  # the format before the fix
    return struct.pack(">8s32sI", b"ABCACHE1", digest, meta_len) + body


def _forge_results(cache_dir: Path, kind: str, make: Any) -> int:
    """Replace every cached per-file result by `make(genuine)`, framed as `kind`."""
    entries = _entries(cache_dir, "file")
    for path in entries:
        genuine = ContentCache(cache_dir, read_only=True).get_result(path.name)
        assert isinstance(genuine, FileResult)
        meta, blobs = _encoded(make(genuine))
        path.write_bytes(_forge(kind, path.read_bytes(), "file", path.name, meta, blobs))
    return len(entries)


def _pwned(result: FileResult) -> FileResult:
    return dataclasses.replace(result, text=PWNED, checked_text=PWNED)


# --- item 6: forged content entries ---------------------------------------------------------------


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_file_result_never_ships(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert _forge_results(site / ".assetbuild-cache", kind, _pwned) == 2
    assert _click(["install", "-q", "--bump"]) == 0
    shipped = _shipped(site)
    assert b"pwned" not in shipped
    assert b"var a=1;" in shipped and b"function b(){return a;}" in shipped
    # The forged entries were replaced by real ones: the next build hits them.
    assert ContentCache(site / ".assetbuild-cache").get_result(
        _entries(site / ".assetbuild-cache", "file")[0].name
    )


@pytest.mark.parametrize("kind", FORGERIES)
def test_check_never_trusts_a_forged_verdict(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A forged "ok" for a file with a syntax error must not make `check` or `install` pass."""
    site = make_site({"js/source/a.js": "var a = 1;\n"}, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    (good,) = _entries(site / ".assetbuild-cache", "file")
    verdict = ContentCache(site / ".assetbuild-cache", read_only=True).get_result(good.name)
    (site / "js/source/a.js").write_text("var = ;\n")
    assert _click(["install", "-q"]) == 1  # the real verdict, cached as an error
    assert _forge_results(site / ".assetbuild-cache", kind, lambda _: verdict) == 2
    assert _click(["check", "-q"]) == 1
    assert _click(["install", "-q"]) == 1
    assert b"var a=1" in _shipped(site)  # the last good version still serves


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_precompressed_variant_never_ships(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    site = make_site(FILES, 'compress = ["gzip"]\n' + CONFIG)
    (site / "js/source/a.js").write_text("var a = 1;\n" + "var filler = 'xxxxxxxxxxxx';\n" * 40)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    (entry,) = _entries(site / ".assetbuild-cache", "compress")
    bad = compress_gzip(PWNED.encode() * 10)
    entry.write_bytes(_forge(kind, entry.read_bytes(), "compress", entry.name, [".gz"], [bad]))
    assert _click(["install", "-q", "--bump"]) == 0
    manifest = json.loads((site / "manifest.json").read_text())
    path = site / manifest["bundles"]["js/main.js"]["path"]
    assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == path.read_bytes()


def test_a_signed_variant_that_decodes_to_other_bytes_is_not_used(tmp_path: Path) -> None:
    """Variants are checked against their bundle as well: even a signed wrong one never serves."""
    from assetbuild.install import compress

    data = b"var a = 1;\n" * 200
    cache = ContentCache(tmp_path / "c")
    (variants,) = compress.cached_precompress_many(cache, [data], ["gzip"])
    (entry,) = _entries(tmp_path / "c", "compress")
    signer = load_key(create=False)[0]
    assert signer is not None
    bad = compress_gzip(b"var a = 2;\n" * 200)
    entry.write_bytes(content.format_entry(signer, "compress", entry.name, [".gz"], [bad]))
    again = compress.cached_precompress_many(ContentCache(tmp_path / "c"), [data], ["gzip"])
    assert again == [variants]
    assert gzip.decompress(again[0][0][1]) == data


def test_a_cache_restored_without_its_key_only_misses(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CI restores the cache directory but not the key: every entry misses, nothing is trusted."""
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert _forge_results(site / ".assetbuild-cache", "genuine header", _pwned) == 2
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh-home"))  # a new machine
    from assetbuild.build import executor

    calls: list[str] = []
    real = executor.process_files
    monkeypatch.setattr(
        executor, "process_files", lambda jobs: calls.extend(j.display for j in jobs) or real(jobs)
    )
    assert _click(["check", "-q"]) == 0
    assert len(calls) == 2  # check trusted no entry: this machine's key signed none of them
    assert _click(["install", "-q", "--bump"]) == 0
    assert b"pwned" not in _shipped(site)
    assert (tmp_path / "fresh-home" / "assetbuild" / "key").is_file()
    calls.clear()
    assert _click(["install", "-q", "--bump"]) == 0
    assert calls == []  # rewritten under the new key: hits from now on


def test_a_shared_key_from_the_environment_shares_the_cache(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CI keeps ASSETBUILD_CACHE_KEY as a secret: a restored cache hits, and the key is nowhere."""
    secret = "ci-secret-" + "k" * 30
    monkeypatch.setenv(cachehome.ENV_KEY, secret)
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert quick.answer(["install", "-q"]) == 0  # a state and a quick record, signed
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-home"))  # another runner
    from assetbuild.build import executor

    calls: list[str] = []
    real = executor.process_files
    monkeypatch.setattr(
        executor, "process_files", lambda jobs: calls.extend(j.display for j in jobs) or real(jobs)
    )
    assert _click(["install", "-q", "--bump"]) == 0
    assert calls == []
    assert not (tmp_path / "other-home").exists()  # no key file made: the variable is the key
    for path in (site / ".assetbuild-cache").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
            assert hashlib.sha256(secret.encode()).hexdigest().encode() not in path.read_bytes()


# --- item 6: the no-change state and the quick record ---------------------------------------------


def _stamp_list(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _restamped_state(raw: bytes) -> bytes:
    """The state's JSON with the sources' current stamps, as anyone who can stat them writes it."""
    body = raw[len(state._MAGIC) + 8 + 32 :]
    data = json.loads(body)
    data["sources"] = [[p, _stamp_list(p)] for p, _ in data["sources"]]
    return json.dumps(data, sort_keys=True).encode()


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_state_never_answers_up_to_date(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    site = make_site(FILES, CONFIG)
    _age(site)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    (site / "js/source/a.js").write_text("var a = 2222;\n")
    _age(site)
    (path,) = [p for p in (site / ".assetbuild-cache" / "state").iterdir() if p.suffix == ".state"]
    raw = path.read_bytes()
    body = _restamped_state(raw)
    if kind == "own key":
        mac = ATTACKER.sign(b"state", state._site(_config(site)), body, new=hashlib.sha256)
        forged = state._MAGIC + ATTACKER.ident + mac + body
    elif kind == "genuine header":
        forged = raw[: len(state._MAGIC) + 8 + 32] + body
    else:
        forged = body  # the plain JSON state before the fix
    path.write_bytes(forged)
    capsys.readouterr()
    assert _click(["install"]) == 0
    assert "up to date" not in capsys.readouterr().out
    assert b"2222" in _shipped(site)


def _config(site: Path) -> Any:
    from assetbuild.config import load_config

    return load_config(site)


def _forge_quick(site: Path, kind: str) -> None:
    """Restamp every quick record with the stamps the files have now, framed as `kind`."""
    path = site / quick.QUICK_FILE
    raw = path.read_bytes()
    head = len(quick._MAGIC) + 8 + quick._MAC_SIZE
    data = marshal.loads(raw[head:])
    for record in data["entries"].values():
        record["stamps"] = [[p, stamps.stamp(p)] for p, _ in record["stamps"]]
    payload = marshal.dumps(data)
    if kind == "own key":
        forged = quick._dump(data["entries"], str(site / quick.QUICK_CACHE), ATTACKER)
    elif kind == "genuine header":
        forged = raw[:head] + payload
    else:  # the CRC-32 framing before the fix
        forged = b"ABQUICK2" + zlib.crc32(payload).to_bytes(4, "big") + payload
    path.write_bytes(forged)


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_quick_record_never_answers_up_to_date(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert quick.answer(["install", "-q"]) == 0  # proven by the state, recorded
    assert (site / quick.QUICK_FILE).exists()
    (site / "js/source/a.js").write_text("var a = 3333;\n")
    _forge_quick(site, kind)
    assert quick.answer(["install", "-q"]) is None
    assert _click(["install", "-q"]) == 0
    assert b"3333" in _shipped(site)


def test_a_quick_record_moved_to_another_directory_is_not_read(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A genuine record is bound to the cache directory it was written in."""
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert quick.answer(["install", "-q"]) == 0
    other = site.parent / "other"
    (other / quick.QUICK_CACHE / "state").mkdir(parents=True)
    (other / quick.QUICK_FILE).write_bytes((site / quick.QUICK_FILE).read_bytes())
    assert quick._load(str(site / quick.QUICK_CACHE)) is not None
    assert quick._load(str(other / quick.QUICK_CACHE)) is None


# --- the cache key --------------------------------------------------------------------------------


def test_the_key_is_made_once_private_and_outside_the_cache(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    path = tmp_path / "home" / "assetbuild" / "key"
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    key = path.read_bytes()
    assert len(key.strip()) == 64
    assert [p.name for p in path.parent.iterdir()] == ["key"]  # no temporary file left
    assert _click(["install", "-q", "--bump"]) == 0
    assert path.read_bytes() == key
    for entry in (site / ".assetbuild-cache").rglob("*"):
        if entry.is_file():
            assert key.strip() not in entry.read_bytes()


@pytest.mark.parametrize("problem", ["open to others", "symlink", "directory", "too short"])
def test_an_untrustworthy_key_file_disables_the_cache_with_a_warning(
    make_site: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    problem: str,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    path = tmp_path / "home" / "assetbuild" / "key"
    path.parent.mkdir(parents=True)
    if problem == "open to others":
        path.write_text("k" * 64)
        path.chmod(0o644)
    elif problem == "symlink":
        (tmp_path / "elsewhere").write_text("k" * 64)
        (tmp_path / "elsewhere").chmod(0o600)
        path.symlink_to(tmp_path / "elsewhere")
    elif problem == "directory":
        path.mkdir()
    else:
        path.write_text("short")
        path.chmod(0o600)
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    capsys.readouterr()
    assert _click(["install", "-q"]) == 0
    err = capsys.readouterr().err
    assert "content cache is not used" in err and str(path) in err
    assert not (site / ".assetbuild-cache" / content.ENTRIES_DIR).exists()
    assert b"var a=1" in _shipped(site)


def test_a_short_key_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cachehome.ENV_KEY, "short")
    key, problem = load_key(create=True)
    assert key is None and problem is not None and cachehome.ENV_KEY in problem


def test_concurrent_first_runs_agree_on_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    created = []
    real = cachehome._create_key

    def racing(path: str) -> None:  # another process creates the key between our read and link
        if not created:
            created.append(path)
            real(path)
        real(path)

    monkeypatch.setattr(cachehome, "_create_key", racing)
    first, _ = load_key(create=True)
    second, _ = load_key(create=False)
    assert first is not None and second is not None and first.ident == second.ident


@pytest.mark.parametrize("size", [0, 5, 64, 65, 200])
def test_the_light_hmac_is_hmac_sha256(size: int) -> None:
    secret = os.urandom(size)
    parts = (os.urandom(10), b"", os.urandom(1000))
    expected = hmac.digest(secret, b"".join(parts), "sha256")
    assert cachehome.hmac_sha256(secret, parts, cachehome.light_sha256()) == expected
    assert cachehome.hmac_sha256(secret, parts, hashlib.sha256) == expected
    key = Key(secret or b"x" * 16)
    assert key.verify(key.sign(b"a", b"b"), b"a", b"b")
    assert not key.verify(key.sign(b"a", b"b"), b"ab", b"")  # parts are framed by their lengths
    assert "x" * 16 not in repr(key)


# --- item 2: cache clear deletes only what it wrote -------------------------------------------------


USER_FILES = {
    ".gitignore": b"node_modules/\n",
    "state/notes.txt": b"mine\n",
    "v2/draft.txt": b"also mine\n",
    "size.json": b'{"mine": true}\n',
}


def _write(base: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(data)


@pytest.mark.parametrize("command", [["cache", "clear"], ["install", "-q"], ["check", "-q"]])
def test_cache_dir_at_the_config_directory_is_a_config_error(
    make_site: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    site = make_site(FILES, 'cache_dir = "."\n' + CONFIG)
    _write(site, USER_FILES)
    monkeypatch.chdir(site)
    capsys.readouterr()
    assert _click(command) == 2
    assert "cache_dir" in capsys.readouterr().err
    for rel, data in USER_FILES.items():
        assert (site / rel).read_bytes() == data


@pytest.mark.parametrize(
    ("cache_dir", "root", "what"),
    [
        ('"static"', "static", "is the root"),
        ('"static/js/source"', "static", "is the source directory static/js/source"),
        ('"static/js"', "static", "contains the source directory static/js/source"),
        ('"static/css"', "static", "is the output directory static/css"),
        ('".."', "", "contains the config file's directory"),
        ('"./"', "", "is the config file's directory"),
        ('"link"', "", "is the config file's directory"),  # a symlink to it
        ('"link/js"', "", "contains the source directory js/source"),
    ],
)
def test_cache_dir_over_the_site_is_a_config_error(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, cache_dir: str, root: str, what: str
) -> None:
    from assetbuild.config import load_config
    from assetbuild.errors import ConfigError

    prefix = f"{root}/" if root else ""
    files = {f"{prefix}{k}": v for k, v in FILES.items()}
    files[f"{prefix}styles/a.css"] = "a { color: red }\n"
    text = (f'root = "{root}"\n' if root else "") + f"cache_dir = {cache_dir}\n" + CONFIG
    text += '[[bundle]]\noutput = "css/main.css"\nsources = ["styles/a.css"]\n'
    site = make_site(files, text)
    (site / "link").symlink_to(site)
    monkeypatch.chdir(site)
    with pytest.raises(ConfigError) as info:
        load_config(site)
    (message,) = [d.message for d in info.value.diagnostics]
    assert message.startswith("cache_dir: ") and what in message, message


def test_a_cache_dir_of_its_own_is_fine(make_site: Any) -> None:
    from assetbuild.config import load_config

    for cache_dir in ('".assetbuild-cache"', '"var/cache"', '"../cache"', '"js/source-cache"'):
        site = make_site(FILES, f"cache_dir = {cache_dir}\n" + CONFIG)
        assert load_config(site).cache_dir.name


def test_clear_removes_nothing_from_a_directory_that_is_not_ours(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(FILES, 'cache_dir = "var/cache"\n' + CONFIG)
    cache_dir = site / "var" / "cache"
    files = {**USER_FILES, "v1/entry": b"not an entry\n", "state/x.json": b"{}"}
    _write(cache_dir, files)
    monkeypatch.chdir(site)
    capsys.readouterr()
    assert _click(["cache", "clear"]) == 0
    assert "var/cache is not an assetbuild cache" in capsys.readouterr().err
    assert content.clear(cache_dir) == ()
    # ... and a build does not take it over: it runs without caching, and says why.
    assert _click(["install", "-q"]) == 0
    assert "not an assetbuild cache" in capsys.readouterr().err
    assert sorted(str(p.relative_to(cache_dir)) for p in cache_dir.rglob("*") if p.is_file()) == (
        sorted(files)
    )
    for rel, data in files.items():
        assert (cache_dir / rel).read_bytes() == data


def test_clear_keeps_user_files_inside_our_cache(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    cache_dir = site / ".assetbuild-cache"
    assert (cache_dir / "CACHEDIR.TAG").is_file()
    (cache_dir / ".gitignore").write_text("# my own rules\n")
    (cache_dir / "state").mkdir(exist_ok=True)
    (cache_dir / "state" / "notes.txt").write_text("mine\n")
    (cache_dir / content.ENTRIES_DIR / "README").write_text("mine too\n")
    assert _click(["cache", "clear"]) == 0
    assert (cache_dir / ".gitignore").read_text() == "# my own rules\n"
    assert (cache_dir / "state" / "notes.txt").read_text() == "mine\n"
    assert (cache_dir / content.ENTRIES_DIR / "README").read_text() == "mine too\n"
    assert _entries(cache_dir, "file") == []


def test_the_tag_is_written_whichever_cache_writer_comes_first(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no room for entries (ASSETBUILD_CACHE_SIZE=0) the state creates the cache: tagged."""
    monkeypatch.setenv(content.ENV_MAX_SIZE, "0")
    site = make_site(FILES, CONFIG)
    _age(site)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert content.is_ours(site / ".assetbuild-cache")
    assert list((site / ".assetbuild-cache" / "state").iterdir())


# --- item 12: zero-config keeps private files out of the served root; dry runs write nothing --------


def _tree(top: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(top)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(top.rglob("*"))
    }


def test_zero_config_keeps_cache_and_state_out_of_the_served_root(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, _private_cache_home: Path
) -> None:
    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site({**FILES, "css/source/a.css": "a { color: red }\n"})
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert quick.answer(["install", "-q"]) == 0  # the state proves it and records it ...
    assert quick._lookup(quick._key((None, None, None, (), True), str(site)))[0] == "valid"
    assert quick.answer(["install", "-q"]) == 0  # ... and the record answers
    cache_dir = _config(site).cache_dir
    assert _private_cache_home in cache_dir.parents
    assert stat.S_IMODE((_private_cache_home / "assetbuild").stat().st_mode) == 0o700
    assert content.is_ours(cache_dir) and (cache_dir / quick.QUICK_NAME).is_file()
    assert list((cache_dir / "state").glob("*.state"))
    private = str(site).encode()
    for path in site.rglob("*"):
        assert "cache" not in path.name, path
        if path.is_file() and path.name != ".assetbuild.lock":
            assert private not in path.read_bytes(), path
    assert _click(["cache", "clear"]) == 0
    assert not cache_dir.exists()


def test_zero_config_sites_have_caches_of_their_own(make_site: Any) -> None:
    one = make_site(FILES, subdir="one/static")
    two = make_site(FILES, subdir="two/static")
    assert _config(one).cache_dir != _config(two).cache_dir
    assert _config(one).cache_dir.name.startswith("static-")


def test_dry_run_writes_nothing(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    before = _tree(tmp_path)
    assert _click(["install", "-q", "--dry-run"]) == 0
    assert _tree(tmp_path) == before  # no cache, no state, not even the key
    assert _click(["install", "-q"]) == 0
    (site / "js/source/c.js").write_text("var c = 3;\n")
    before = _tree(tmp_path)
    assert _click(["install", "-q", "--dry-run"]) == 0
    assert _click(["install", "-q", "--dry-run", "--compress", "gzip"]) == 0
    assert _tree(tmp_path) == before


def test_dry_run_does_not_refresh_the_state(
    make_site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run proven by hash does not write the fresher stamps back (an install does)."""
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site(FILES, CONFIG)
    _age(site)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    os.utime(site / "js/1/main.js")  # same bytes, new stamp: proven by hash
    (path,) = (site / ".assetbuild-cache" / "state").glob("*.state")
    before = path.read_bytes()
    assert _click(["install", "-q", "--dry-run"]) == 0
    assert path.read_bytes() == before
    assert _click(["install", "-q"]) == 0
    assert path.read_bytes() != before


# --- special files and symlinks planted in the cache directory --------------------------------------


def _plant(path: Path, trap: str, elsewhere: Path) -> None:
    path.unlink()
    if trap == "fifo":
        os.mkfifo(path)
    elif trap == "dev-zero":
        path.symlink_to("/dev/zero")
    elif trap == "huge":
        with open(path, "wb") as f:
            f.truncate(1 << 40)  # sparse: a terabyte that reads as zeros
    else:
        path.symlink_to(elsewhere)


@pytest.mark.parametrize("trap", ["fifo", "dev-zero", "huge", "symlink"])
@pytest.mark.parametrize("what", ["entry", "state", "quick record", "size.json"])
def test_special_files_in_the_cache_are_never_read(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, trap: str, what: str
) -> None:
    """A FIFO would hang the build, /dev/zero or a huge file exhaust memory: they are skipped."""
    import threading

    monkeypatch.setattr(quick, "RACY_NS", 0)
    monkeypatch.setattr(state, "RACY_NS", 0)
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    assert quick.answer(["install", "-q"]) == 0
    cache_dir = site / ".assetbuild-cache"
    target = {
        "entry": _entries(cache_dir, "file")[0],
        "state": next((cache_dir / "state").glob("*.state")),
        "quick record": cache_dir / quick.QUICK_FILE.split(os.sep, 1)[1],
        "size.json": cache_dir / content.SIZE_FILE,
    }[what]
    outside = tmp_path / "outside"
    outside.write_bytes(target.read_bytes())
    _plant(target, trap, outside)
    (site / "js/source/c.js").write_text("var c = 3;\n")
    codes: list[int | None] = []

    def run() -> None:
        codes.append(quick.answer(["install", "-q"]))
        codes.append(_click(["install", "-q"]))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():  # unblock the FIFO reader, then fail
        with open(target, "wb"):
            pass
        pytest.fail(f"a {trap} as the {what} hung the build")
    assert codes == [None, 0]
    assert b"var c=3" in _shipped(site)


@pytest.mark.parametrize("where", ["v2/file/xx", "v2/file", "v2", "state"])
def test_symlinked_directories_in_the_cache_are_never_written_through(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    site = make_site(FILES, CONFIG)
    _age(site)
    monkeypatch.chdir(site)
    assert _click(["install", "-q"]) == 0
    cache_dir = site / ".assetbuild-cache"
    if where == "v2/file/xx":
        where = str(_entries(cache_dir, "file")[0].parent.relative_to(cache_dir))
    link = cache_dir / where.replace("v2", content.ENTRIES_DIR)
    import shutil

    shutil.rmtree(link)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link.symlink_to(elsewhere)
    (site / "js/source/c.js").write_text("var c = 3;\n")
    _age(site)
    assert _click(["install", "-q", "--bump"]) == 0
    assert b"var c=3" in _shipped(site)
    assert list(elsewhere.rglob("*")) == []


def test_trim_never_deletes_through_a_symlinked_entries_directory(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "c", max_bytes=1000)
    cache.put_raw("ns", "aa" * 32, "v", [b"x" * 100])
    import shutil

    shutil.rmtree(tmp_path / "c" / content.ENTRIES_DIR)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "ns" / "aa").mkdir(parents=True)
    for i in range(5):
        (elsewhere / "ns" / "aa" / f"precious-{i}").write_bytes(b"y" * 1000)
    stale = elsewhere / f"{content.TEMP_PREFIX}old"
    stale.write_bytes(b"z")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    (tmp_path / "c" / content.ENTRIES_DIR).symlink_to(elsewhere)
    assert content.trim(tmp_path / "c", max_bytes=10) == ()
    assert ContentCache(tmp_path / "c", max_bytes=10).trim() == ()
    assert len(list(elsewhere.rglob("*"))) == 8


def test_a_long_lived_cache_survives_a_clear(tmp_path: Path) -> None:
    """watch keeps one ContentCache: `cache clear` meanwhile must not stop it caching."""
    cache = ContentCache(tmp_path / "c")
    cache.put_raw("ns", "aa" * 32, "v")
    assert content.clear(tmp_path / "c")
    assert not (tmp_path / "c").exists()
    cache.put_raw("ns", "bb" * 32, "w")
    assert cache.writable and cache.warnings == []
    assert content.is_ours(tmp_path / "c")
    assert ContentCache(tmp_path / "c").get_raw("ns", "bb" * 32) == ("w", ())
