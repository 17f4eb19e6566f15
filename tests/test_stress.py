"""Concurrent installs with random edits while a reader polls the manifest and the files it names.

The scenario lives in bench/reliability.py (run it longer there); this runs it for a few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers.benchload import load_bench

SECONDS = float(os.environ.get("ASSETBUILD_STRESS_SECONDS", "8"))


rel = load_bench("reliability")


def test_concurrent_installs_under_polling(tmp_path: Path) -> None:
    tally = rel.stress_scenario(tmp_path, SECONDS, writers=3)
    assert tally.problems == []
    # Every install by every writer succeeded, and the reader really watched them.
    assert tally.runs >= 4 and tally.runs_survived == tally.runs
    assert tally.manifest_reads >= 20 and tally.invalid_manifest_reads == 0
    assert tally.bytes_lost_or_changed == 0
    # Writers edit the js and css areas: more than the first version of each appeared.
    assert tally.versions_created > len(rel.AREAS)


def test_poller_notices_a_torn_manifest(tmp_path: Path) -> None:
    """The reader's check is not vacuous: a half-written manifest and a changed file are caught."""
    site = rel.make_site(tmp_path / "site")
    assert rel.run_cli(site).returncode == 0
    root = site / "static"
    raw = (root / "manifest.json").read_bytes()
    assert rel.check_manifest(root, raw) == []
    assert rel.check_manifest(root, raw[: len(raw) // 2])[0].startswith("invalid manifest")
    (root / "js/1/main.js").write_bytes(b"swapped")
    assert any("integrity" in p for p in rel.check_manifest(root, raw))
