"""atheris fuzzer: the config loader on arbitrary assetbuild.toml bytes.

Invariant: load_config returns a Config or raises ConfigError, nothing else (no RecursionError, no
KeyError, no TypeError), whatever the file holds.
Run: .venv/bin/python fuzz/fuzz_config.py -max_total_time=150 -timeout=10 fuzz/corpus/config
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from assetbuild.config import Overrides, load_config
    from assetbuild.errors import ConfigError

SKELETON = (
    'root = "{root}"\nstatic_url = "{url}"\nmanifest = "{manifest}"\ncache_dir = "{cache}"\n'
    "compress = [{compress}]\nlock_timeout = {timeout}\n[tokens]\n{tokens}\n"
    '[[bundle]]\noutput = "{output}"\nsources = [{sources}]\n{extra}\n'
)
SITE = Path(tempfile.mkdtemp(prefix="fuzz-config-"))
(SITE / "js").mkdir()


def _piece(fdp: atheris.FuzzedDataProvider) -> str:
    return str(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 12)))


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        keys = (
            "root",
            "url",
            "manifest",
            "cache",
            "compress",
            "timeout",
            "tokens",
            "output",
            "sources",
            "extra",
        )
        raw = SKELETON.format(**{k: _piece(fdp) for k in keys}).encode("utf-8", "surrogatepass")
    else:
        raw = fdp.ConsumeBytes(len(data))
    (SITE / "assetbuild.toml").write_bytes(raw)
    with contextlib.suppress(ConfigError):
        load_config(SITE, None, Overrides(), {})


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
