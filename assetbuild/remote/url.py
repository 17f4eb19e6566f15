"""Target URLs: `s3://bucket/prefix` and `file:///directory` (read by the config, used by remote/)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from assetbuild.errors import ConfigError
from assetbuild.minified import has_lone_surrogate


def _shown(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class TargetURL:
    """A parsed `target`: `s3://bucket/prefix` (prefix without slashes at its ends) or `file:///dir`."""

    scheme: str
    bucket: str  # the bucket, or the directory for file://
    prefix: str

    def __str__(self) -> str:
        if self.scheme == "file":
            return f"file://{self.bucket}"
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


def parse_target(value: str) -> TargetURL:
    """The target URL's parts; ConfigError (exit 2) naming what is wrong."""
    problem = target_problem(value)
    if problem:
        raise ConfigError(f"target {_shown(value)!r}: {problem}")
    scheme, _, rest = value.partition("://")
    if scheme == "file":
        return TargetURL("file", os.path.normpath(rest), "")
    bucket, _, prefix = rest.partition("/")
    return TargetURL("s3", bucket, prefix.strip("/"))


def target_problem(value: str) -> str | None:
    """Why `value` is not a target URL, or None."""
    if has_lone_surrogate(value) or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "the value holds control characters or bytes that are not UTF-8 text"
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("s3", "file"):
        return 'expected "s3://BUCKET/PREFIX" (or "file:///DIRECTORY")'
    if scheme == "file":
        return None if rest.startswith("/") else "a file:// target needs an absolute path"
    bucket, _, prefix = rest.partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        return f"{bucket!r} is not a bucket name (3-63 characters: a-z, 0-9, '.', '-')"
    parts = [p for p in prefix.strip("/").split("/") if prefix.strip("/")]
    if any(p in ("", ".", "..") for p in parts) or "\\" in prefix:
        return "the prefix must be plain names separated by single slashes (no '.', '..' or '//')"
    return None
