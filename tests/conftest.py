"""Shared fixture factories: build small sites on tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

SiteFactory = Callable[..., Path]


def write_site(
    base: Path,
    files: Mapping[str, str | bytes],
    config: str | None = None,
    *,
    config_name: str = "assetbuild.toml",
) -> Path:
    """Write `files` (posix paths relative to base) and an optional config file; return base."""
    base.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = base.joinpath(*rel.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    if config is not None:
        (base / config_name).write_text(config, encoding="utf-8", newline="")
    return base


@pytest.fixture(autouse=True, scope="session")
def _private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The cache key and zero-config caches (`assetbuild.cachehome`) go to a temporary home, never
    the real ~/.cache; subprocesses inherit it."""
    home = tmp_path_factory.mktemp("cache-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home))
        patch.delenv("ASSETBUILD_CACHE_KEY", raising=False)
        yield home


@pytest.fixture
def make_site(tmp_path: Path) -> SiteFactory:
    """`make_site(files, config=None, *, subdir="site", config_name="assetbuild.toml") -> site dir`."""

    def factory(
        files: Mapping[str, str | bytes],
        config: str | None = None,
        *,
        subdir: str = "site",
        config_name: str = "assetbuild.toml",
    ) -> Path:
        return write_site(tmp_path / subdir, files, config, config_name=config_name)

    return factory


def _engines() -> list[str]:
    from assetbuild.js import engine as jsengine

    return ["esprima", "auto"] if jsengine.available() else ["esprima"]


@pytest.fixture(scope="module", params=_engines())
def js_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a JS test module once with esprima alone and once with the fast engine (when installed)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASSETBUILD_ENGINE", request.param)
        yield request.param


@pytest.fixture(autouse=True)
def _keep_signal_handlers() -> Iterator[None]:
    """Tests that call the console entry point in this process get the test runner's Ctrl-C back.

    `__main__.run` installs assetbuild's SIGINT handling for the rest of the process (a run ends
    with it); here the process goes on.
    """
    import signal

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGALRM)}
    yield
    for sig, handler in saved.items():
        if signal.getsignal(sig) is not handler and handler is not None:
            signal.signal(sig, handler)
