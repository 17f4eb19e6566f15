"""The target a URL names: a directory used like a bucket, or S3 (boto3 is loaded only then)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from assetbuild.remote.target import DirectoryTarget, Target
from assetbuild.remote.url import parse_target


def open_target(
    value: str, environ: Mapping[str, str] = os.environ, *, manifest_format: str = "json"
) -> Target:
    """The target a URL names, its manifest `manifest.<manifest_format>`; the S3 one loads boto3
    only now (`assetbuild[s3]`)."""
    url = parse_target(value)
    if url.scheme == "file":
        return DirectoryTarget(Path(url.bucket), manifest_format)
    from assetbuild.remote.s3 import S3Target

    return S3Target.connect(url, environ, manifest_format)
