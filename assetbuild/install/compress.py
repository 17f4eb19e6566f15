"""Precompressed variants (`.gz`, `.br`) of a bundle, for servers that serve them as they are."""

from __future__ import annotations

import functools
import gzip
import hashlib
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from assetbuild.errors import ConfigError
from assetbuild.fsutil import cpu_count

if TYPE_CHECKING:
    from assetbuild.cache.content import ContentCache

Variant = tuple[str, bytes]

METHODS: dict[str, str] = {"gzip": ".gz", "br": ".br"}
SUFFIXES: tuple[str, ...] = tuple(METHODS.values())

_BROTLI_MISSING = "brotli compression needs the optional extra: pip install 'assetbuild[brotli]'"

# Byte 9 of a gzip header names the OS that wrote it; zlib writes the build platform's code, so the same
# input would give different bytes on different machines. 255 ("unknown") is what Python's GzipFile writes.
_GZIP_OS_BYTE = 9
_GZIP_OS_UNKNOWN = 255


def compress_gzip(data: bytes) -> bytes:
    """Gzip at level 9 with mtime 0 and a fixed OS byte, so equal inputs give equal bytes everywhere."""
    out = bytearray(gzip.compress(data, 9, mtime=0))
    out[_GZIP_OS_BYTE] = _GZIP_OS_UNKNOWN
    return bytes(out)


def compress_brotli(data: bytes) -> bytes:
    """Brotli at quality 11 (the optional `brotli` package)."""
    try:
        import brotli
    except ImportError:
        raise ConfigError(_BROTLI_MISSING) from None
    result: bytes = brotli.compress(data, quality=11)
    return result


_COMPRESSORS = {"gzip": compress_gzip, "br": compress_brotli}


def check_methods(methods: Sequence[str]) -> None:
    """Raise ConfigError for an unknown method, or for "br" when brotli is not installed."""
    for method in methods:
        if method not in METHODS:
            known = ", ".join(sorted(METHODS))
            raise ConfigError(f"unknown compression method {method!r}; use one of: {known}")
        if method == "br":
            try:
                import brotli  # noqa: F401
            except ImportError:
                raise ConfigError(_BROTLI_MISSING) from None


# Below this much input in all, compressing on threads costs more than it saves.
PARALLEL_MIN_BYTES = 256 * 1024


def precompress(
    data: bytes, methods: Sequence[str], *, min_saving: float = 0.05
) -> tuple[Variant, ...]:
    """The variants worth keeping: each only when it is smaller than (1 - min_saving) of the original."""
    return precompress_many([data], methods, min_saving=min_saving)[0]


def precompress_many(
    datas: Sequence[bytes],
    methods: Sequence[str],
    *,
    min_saving: float = 0.05,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[tuple[Variant, ...]]:
    """`precompress` of each of `datas`, the (data, method) pairs compressed on all cores.

    zlib and brotli release the GIL while they compress, so threads use every core: brotli at
    quality 11 takes ~2 s a megabyte, and a site's bundles were compressed one after another. The
    bytes are the same whichever thread made them. `on_progress(done, total)` counts (data, method)
    pairs as they finish.
    """
    check_methods(methods)
    unique = tuple(dict.fromkeys(methods))
    units = [(i, method) for i in range(len(datas)) for method in unique]

    def run(unit: tuple[int, str]) -> bytes:
        return _COMPRESSORS[unit[1]](datas[unit[0]])

    done: dict[tuple[int, str], bytes] = {}

    def finished(unit: tuple[int, str], data: bytes) -> None:
        done[unit] = data
        if on_progress is not None:
            on_progress(len(done), len(units))

    workers = min(cpu_count(), len(units))
    if workers > 1 and sum(len(d) for d in datas) * len(unique) >= PARALLEL_MIN_BYTES:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        # The longest first (brotli of the biggest bundle), so no core idles at the end.
        order = sorted(units, key=lambda u: (u[1] == "br", len(datas[u[0]])), reverse=True)
        with ThreadPoolExecutor(workers, thread_name_prefix="assetbuild-compress") as pool:
            futures = {pool.submit(run, unit): unit for unit in order}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    else:
        for unit in units:
            finished(unit, run(unit))
    result = []
    for i, data in enumerate(datas):
        limit = len(data) * (1.0 - min_saving)
        result.append(
            tuple((METHODS[m], done[(i, m)]) for m in unique if len(done[(i, m)]) < limit)
        )
    return result


def cached_precompress_many(
    cache: ContentCache,
    datas: Sequence[bytes],
    methods: Sequence[str],
    on_progress: Callable[[int, int], None] | None = None,
) -> list[tuple[Variant, ...]]:
    """`precompress_many`, each data's variants kept in `cache` by its hash and the methods."""
    from assetbuild.cache.content import entry_key

    methods = tuple(methods)
    if not methods:
        return [() for _ in datas]
    check_methods(methods)
    versions = _compressor_versions()
    keys = [
        entry_key("compress", list(methods), versions, hashlib.sha256(data).hexdigest())
        for data in datas
    ]
    found = [
        _cached_variants(cache, key, data, methods) for key, data in zip(keys, datas, strict=True)
    ]
    missing = [i for i, variants in enumerate(found) if variants is None]
    made = precompress_many([datas[i] for i in missing], methods, on_progress=on_progress)
    for i, new in zip(missing, made, strict=True):
        cache.put_raw("compress", keys[i], [s for s, _ in new], [b for _, b in new])
        found[i] = new
    result = []
    for key, variants in zip(keys, found, strict=True):
        assert variants is not None
        cache.remember(key, variants, sum(len(b) for _, b in variants))
        result.append(variants)
    return result


def _cached_variants(
    cache: ContentCache, key: str, data: bytes, methods: Sequence[str]
) -> tuple[Variant, ...] | None:
    """The cached variants of `data`, each decoded and compared with it: a variant that would
    serve other bytes than its bundle is never used, even from an entry the cache key signed."""
    hit = cache.recall(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    entry = cache.get_raw("compress", key)
    if entry is None:
        return None
    meta, blobs = entry
    allowed = {METHODS[m] for m in methods}
    if not (isinstance(meta, list) and all(isinstance(s, str) for s in meta)):
        return None
    if len(meta) != len(blobs) or len(set(meta)) != len(meta):
        return None
    if not all(s in allowed and decompress(s, b) == data for s, b in zip(meta, blobs, strict=True)):
        return None
    return tuple(zip(meta, blobs, strict=True))


@functools.lru_cache(maxsize=1)
def _compressor_versions() -> str:
    try:
        from importlib import metadata

        brotli_version = metadata.version("brotli")
    except Exception:
        brotli_version = "none"
    return f"zlib={zlib.ZLIB_RUNTIME_VERSION};brotli={brotli_version}"


def decompress(suffix: str, data: bytes, *, limit: int | None = None) -> bytes | None:
    """Decode a variant's bytes, or None when they are corrupt or the decoder is unavailable.

    With `limit`, None as soon as the output would pass `limit` bytes: a small file someone put
    beside a bundle cannot make assetbuild expand gigabytes (a decompression bomb).
    """
    try:
        if suffix == ".gz":
            return gzip.decompress(data) if limit is None else _gunzip(data, limit)
        if suffix == ".br":
            import brotli

            if limit is None:
                result: bytes = brotli.decompress(data)
                return result
            return _unbrotli(brotli, data, limit)
    except ImportError:
        return None
    except Exception:  # corrupt input: zlib.error, EOFError, brotli.error, OSError
        return None
    return None


def _gunzip(data: bytes, limit: int) -> bytes | None:
    """gzip.decompress (every member) that stops one byte past `limit`."""
    out = bytearray()
    rest = data
    while rest:
        member = zlib.decompressobj(wbits=31)
        out += member.decompress(rest, limit + 1 - len(out))
        if len(out) > limit or not member.eof:
            return None  # too large, or truncated
        rest = member.unused_data
    return bytes(out)


def _unbrotli(brotli: Any, data: bytes, limit: int) -> bytes | None:
    """brotli.decompress that stops one byte past `limit` (None on a brotli without the bound)."""
    decoder = brotli.Decompressor()
    try:
        out: bytes = decoder.process(data, output_buffer_limit=limit + 1)
    except TypeError:  # brotli < 1.1.0 cannot bound its output: do not decode at all
        return None
    if len(out) > limit or not decoder.is_finished():
        return None
    return out
