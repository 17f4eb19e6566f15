"""compress: deterministic gzip, brotli, the minimum saving, sizes."""

from __future__ import annotations

import gzip
import os
import sys
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetbuild.errors import ConfigError
from assetbuild.install import compress
from assetbuild.install.compress import (
    compress_brotli,
    compress_gzip,
    decompress,
    precompress,
    precompress_many,
)

TEXT = b"function add(a, b) { return a + b; }\n" * 200


def test_gzip_is_deterministic_and_portable() -> None:
    a = compress_gzip(TEXT)
    assert a == compress_gzip(TEXT)
    assert a[:4] == b"\x1f\x8b\x08\x00"  # magic, deflate, no flags
    assert a[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert a[8] == 2  # maximum compression
    assert a[9] == 255  # OS "unknown", whatever platform wrote it
    assert gzip.decompress(a) == TEXT


def test_gzip_is_level_9() -> None:
    body = compress_gzip(TEXT)[10:-8]
    assert body == zlib.compress(TEXT, 9, wbits=-15)


def test_brotli_roundtrip() -> None:
    import brotli

    assert brotli.decompress(compress_brotli(TEXT)) == TEXT


@pytest.mark.parametrize(
    ("methods", "suffixes"),
    [
        (["gzip"], [".gz"]),
        (["br"], [".br"]),
        (["gzip", "br"], [".gz", ".br"]),
        (["br", "gzip"], [".br", ".gz"]),
        (["gzip", "gzip"], [".gz"]),
        ([], []),
    ],
)
def test_precompress_methods(methods: list[str], suffixes: list[str]) -> None:
    variants = precompress(TEXT, methods)
    assert [s for s, _ in variants] == suffixes
    for suffix, data in variants:
        assert decompress(suffix, data) == TEXT


def test_incompressible_data_gets_no_variant() -> None:
    noise = os.urandom(4096)
    assert precompress(noise, ["gzip", "br"]) == ()
    assert precompress(b"", ["gzip", "br"]) == ()


@pytest.mark.parametrize("min_saving", [0.0, 0.05, 0.5, 0.9, 0.99])
def test_min_saving_threshold(min_saving: float) -> None:
    data = os.urandom(600) + b"a" * 400  # compresses to roughly 60 %
    gz = compress_gzip(data)
    kept = precompress(data, ["gzip"], min_saving=min_saving)
    assert bool(kept) == (len(gz) < len(data) * (1 - min_saving))


@settings(max_examples=50)
@given(st.binary(max_size=3000))
def test_variants_always_decode_to_the_data_and_save_enough(data: bytes) -> None:
    for suffix, variant in precompress(data, ["gzip", "br"]):
        assert decompress(suffix, variant) == data
        assert len(variant) < len(data) * 0.95


def test_unknown_method() -> None:
    with pytest.raises(ConfigError, match="unknown compression method 'zstd'"):
        precompress(TEXT, ["zstd"])


def test_missing_brotli_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "brotli", None)  # makes `import brotli` fail
    with pytest.raises(ConfigError, match=r"pip install 'assetbuild\[brotli\]'") as info:
        precompress(TEXT, ["gzip", "br"])
    assert info.value.exit_code == 2
    assert precompress(TEXT, ["gzip"])  # gzip alone still works
    assert decompress(".br", b"anything") is None


@pytest.mark.parametrize(("suffix", "data"), [(".gz", b"junk"), (".br", b"junk"), (".zst", b"x")])
def test_decompress_bad_input_is_none(suffix: str, data: bytes) -> None:
    assert decompress(suffix, data) is None


def test_many_bundles_compress_on_threads_to_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Large enough for the thread pool; one incompressible bundle gets no variant on either path.
    datas = [TEXT * 40, os.urandom(300_000), b"a { color: red }\n" * 20_000, b""]
    methods = ["gzip", "br"]
    threads: set[str] = set()
    real = compress._COMPRESSORS["gzip"]

    def spy(data: bytes) -> bytes:
        import threading

        threads.add(threading.current_thread().name)
        return real(data)

    monkeypatch.setitem(compress._COMPRESSORS, "gzip", spy)
    monkeypatch.setattr(compress, "cpu_count", lambda: 2)
    parallel = precompress_many(datas, methods)
    assert any(name.startswith("assetbuild-compress") for name in threads)
    assert parallel == [precompress(data, methods) for data in datas]
    assert [[s for s, _ in v] for v in parallel] == [[".gz", ".br"], [], [".gz", ".br"], []]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.binary(max_size=2000), max_size=4), st.sampled_from([["gzip"], ["gzip", "gzip"]])
)
def test_precompress_many_is_precompress_of_each(datas: list[bytes], methods: list[str]) -> None:
    assert precompress_many(datas, methods) == [precompress(d, methods) for d in datas]
