"""An install that must build starts the JavaScript engine early, on a thread (session.start_engine)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from assetbuild.build.results import BuildOptions
from assetbuild.build.session import Session
from assetbuild.config import Overrides, load_config
from assetbuild.js import engine
from tests.test_cli import run
from tests.test_index import CONFIG, FILES, age


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(engine, "start_early", lambda: calls.append(1))
    monkeypatch.setattr(engine, "available", lambda: True)
    return calls


def _prove(site: Path) -> Any:
    config = load_config(site, None, Overrides(), {})
    return Session(config, BuildOptions()).prove_up_to_date(tuple(config.compress))


def test_a_build_to_come_starts_the_engine(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, started: list[int]
) -> None:
    site = make_site(FILES, CONFIG)
    monkeypatch.chdir(site)
    assert _prove(site) is None  # never installed: a build follows
    assert started == [1]


def test_up_to_date_and_esprima_start_nothing(
    make_site: Any, monkeypatch: pytest.MonkeyPatch, started: list[int]
) -> None:
    from assetbuild.build.pipeline import install

    site = make_site(FILES, CONFIG)
    age(site)
    monkeypatch.chdir(site)
    install(load_config(site, None, Overrides(), {}), BuildOptions())
    started.clear()
    assert _prove(site) is not None  # up to date: nothing to check
    assert started == []
    (site / "js/source/a.js").write_text("var a = 5;\n")
    monkeypatch.setenv("ASSETBUILD_ENGINE", "esprima")
    assert _prove(site) is None
    assert started == []  # esprima decides: no engine is loaded


@pytest.mark.skipif(not engine.available(), reason="needs the JavaScript engine")
def test_an_engine_started_and_never_used_exits_cleanly(make_site: Any) -> None:
    """A source rewritten with the same bytes and aged: the state cannot prove it, the build
    finds every result in the cache, and the engine started for nothing closes quietly."""
    site = make_site(FILES, CONFIG)
    age(site)
    assert run("install", "--quiet", cwd=site).returncode == 0
    path = site / "js/source/a.js"
    path.write_bytes(path.read_bytes())
    past = time.time() - 30
    os.utime(path, (past, past))
    done = run("install", cwd=site)
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.rstrip().endswith("up to date")
