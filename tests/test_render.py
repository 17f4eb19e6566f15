"""render.Progress: a bar on terminals only, after a delay, one stage after another."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from assetbuild import report as render


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_off_a_terminal_or_when_disabled() -> None:
    plain = io.StringIO()
    render.Progress(plain, "building", enabled=True, delay=0)(1, 2)
    tty = Terminal()
    render.Progress(tty, "building", enabled=False, delay=0)(1, 2)
    assert plain.getvalue() == "" and tty.getvalue() == ""


def test_bar_waits_for_the_delay_then_counts() -> None:
    tty = Terminal()
    bar = render.Progress(tty, "building", enabled=True, delay=3600)
    bar(1, 4)
    assert tty.getvalue() == ""
    bar.start -= 3600
    bar(2, 4)
    assert tty.getvalue().endswith("building [" + "#" * 15 + "-" * 15 + "] 2/4")
    bar.close()
    assert tty.getvalue().endswith("\r\x1b[K")


def test_a_new_phase_relabels_a_shown_bar_and_delays_a_hidden_one() -> None:
    tty = Terminal()
    bar = render.Progress(tty, "building", enabled=True, delay=0.5)
    bar.start -= 1
    bar(3, 3)
    bar.phase("compressing")
    bar(1, 6)  # already shown: the next stage shows at once, cleared line first
    assert tty.getvalue().endswith("\r\x1b[Kcompressing [" + "#" * 5 + "-" * 25 + "] 1/6")
    quiet = Terminal()
    hidden = render.Progress(quiet, "building", enabled=True, delay=0.5)
    hidden.start -= 1  # the build took long but reported nothing
    hidden.phase("compressing")
    hidden(1, 6)  # a fresh stage: its own delay
    assert quiet.getvalue() == ""
    hidden.start = time.monotonic() - 1
    hidden(2, 6)
    assert "compressing [" in quiet.getvalue()


def test_install_reports_compression_as_its_own_stage(tmp_path: Path) -> None:
    pytest.importorskip("brotli")
    from assetbuild.build.pipeline import install
    from assetbuild.build.results import BuildOptions
    from assetbuild.config import load_config

    (tmp_path / "static" / "js" / "source").mkdir(parents=True)
    (tmp_path / "static" / "js" / "source" / "a.js").write_text("var a = 1;\n" * 500)
    (tmp_path / "static" / "css" / "source").mkdir(parents=True)
    (tmp_path / "static" / "css" / "source" / "a.css").write_text("a { color: red }\n" * 500)
    config = load_config(tmp_path / "static", None)
    events: list[object] = []
    install(
        config,
        BuildOptions(use_cache=False),
        compress=["gzip", "br"],
        on_progress=lambda done, total: events.append((done, total)),
        on_phase=events.append,
    )
    stage = events.index("compressing")
    assert events[:stage] == [(1, 2), (2, 2)]  # two files built
    assert events[stage + 1 :] == [(n, 4) for n in range(1, 5)]  # two bundles, two methods
