"""A codec for plain values: what the content cache and the install state store, as JSON, never pickle.

Tuples, lists, dicts, sets, paths, bytes and assetbuild's own dataclasses go in; loading one cannot
run code, and classes are only ever looked up in assetbuild's own modules.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from assetbuild.diagnostics import Diagnostic


class Unencodable(Exception):
    """A value the plain codec does not handle: such a result is simply not cached."""


# Strings at least this long go into an entry's blobs, once each however often the value holds them
# (a CSS result holds its text five times: result, checked text, report, report's source twice).
BLOB_MIN_CHARS = 256


def encode_value(value: Any, strings: dict[str, int] | None = None) -> Any:
    """A JSON-ready form of tuples, lists, dicts, sets, paths, bytes and our own dataclasses.

    With `strings`, long strings are not inlined: each distinct one gets an index there (in order)
    and the value holds {"x": index}; `decode_value` takes the same strings back as a list.
    """
    if isinstance(value, str):
        if strings is None or len(value) < BLOB_MIN_CHARS:
            return value
        return {"x": strings.setdefault(value, len(strings))}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Unencodable("non-finite float")
        return value
    if isinstance(value, tuple):
        return {"t": [encode_value(v, strings) for v in value]}
    if isinstance(value, list):
        return {"l": [encode_value(v, strings) for v in value]}
    if isinstance(value, dict):
        return {
            "d": [[encode_value(k, strings), encode_value(v, strings)] for k, v in value.items()]
        }
    if isinstance(value, frozenset):
        return {"fs": [encode_value(v, strings) for v in value]}
    if isinstance(value, set):
        return {"s": [encode_value(v, strings) for v in value]}
    if isinstance(value, Path):
        return {"p": str(value)}
    if isinstance(value, bytes):
        return {"b": value.hex()}
    cls = type(value)
    if (
        dataclasses.is_dataclass(value)
        and cls.__module__.startswith("assetbuild.")
        and "." not in cls.__qualname__
    ):
        fields = {
            f.name: encode_value(getattr(value, f.name), strings)
            for f in dataclasses.fields(value)
            if f.init
        }
        return {"c": f"{cls.__module__}:{cls.__qualname__}", "f": fields}
    raise Unencodable(f"cannot cache a {cls.__module__}.{cls.__qualname__}")


def decode_value(data: Any, strings: Sequence[str] = ()) -> Any:
    """The inverse of `encode_value`; classes are only ever looked up in assetbuild's own modules."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ValueError("malformed cache value")
    if "c" in data:
        return _decode_dataclass(data["c"], data["f"], strings)
    ((tag, items),) = data.items()
    if tag == "x":
        if type(items) is not int or not 0 <= items < len(strings):
            raise ValueError("malformed cache value")
        return strings[items]
    if tag == "p":
        return Path(items)
    if tag == "b":
        return bytes.fromhex(items)
    if not isinstance(items, list):
        raise ValueError("malformed cache value")
    if tag == "t":
        return tuple(decode_value(v, strings) for v in items)
    if tag == "l":
        return [decode_value(v, strings) for v in items]
    if tag == "d":
        return {decode_value(k, strings): decode_value(v, strings) for k, v in items}
    if tag == "fs":
        return frozenset(decode_value(v, strings) for v in items)
    if tag == "s":
        return {decode_value(v, strings) for v in items}
    raise ValueError(f"unknown cache value tag {tag!r}")


def _decode_dataclass(name: Any, fields: Any, strings: Sequence[str]) -> Any:
    if not isinstance(name, str) or not isinstance(fields, dict):
        raise ValueError("malformed cache value")
    cls = _dataclass_named(name)
    return cls(**{k: decode_value(v, strings) for k, v in fields.items()})


@functools.lru_cache(maxsize=64)
def _dataclass_named(name: str) -> Any:
    """One of our dataclasses by "module:qualname" (looked up once: an entry holds dozens)."""
    import importlib

    module_name, _, qualname = name.partition(":")
    if not module_name.startswith("assetbuild.") or not qualname.isidentifier():
        raise ValueError(f"refusing to load class {name!r} from the cache")
    cls = getattr(importlib.import_module(module_name), qualname, None)
    if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        raise ValueError(f"{name!r} is not a dataclass")
    return cls


def encode_diagnostics(diags: Iterable[Diagnostic]) -> Any:
    """Diagnostics as plain JSON data (used by the install state too)."""
    return encode_value(tuple(diags))


def decode_diagnostics(data: Any) -> tuple[Diagnostic, ...]:
    value = decode_value(data)
    if not isinstance(value, tuple) or not all(isinstance(d, Diagnostic) for d in value):
        raise ValueError("not a tuple of diagnostics")
    return value
