"""The watch-mode harnesses: a Watcher on a thread, a real `assetbuild watch` process."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetbuild.build.pipeline import BuildOptions
from assetbuild.config import load_config
from assetbuild.watch import Rebuild, Watcher

TIMEOUT = 15.0


def wait_for(predicate: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    """Poll until `predicate()` is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail(f"timed out after {timeout} s waiting for {predicate}")


class Harness:
    """A Watcher on its own thread; results arrive on a queue."""

    def __init__(self, site: Path, debounce: float = 0.05) -> None:
        self.site = site
        self.results: queue.Queue[Rebuild] = queue.Queue()
        self.ready = threading.Event()
        self.directories = 0
        self.watcher = Watcher(
            lambda: load_config(site, None),
            BuildOptions(),
            debounce=debounce,
            on_build=self.results.put,
            on_error=self.results.put,
            on_ready=self._ready,
        )
        self.thread = threading.Thread(target=self.watcher.run, daemon=True)

    def _ready(self, n: int) -> None:
        self.directories = n
        self.ready.set()

    def start(self) -> Rebuild:
        self.thread.start()
        first = self.next()
        assert first.first
        assert self.ready.wait(TIMEOUT)
        return first

    def next(self, timeout: float = TIMEOUT) -> Rebuild:
        try:
            return self.results.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no rebuild within {timeout} s")

    def quiet(self, seconds: float = 0.4) -> list[Rebuild]:
        """Rebuilds that arrive within `seconds` (there should usually be none)."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.results.get(timeout=left))
            except queue.Empty:
                break
        return got

    def stop(self) -> None:
        self.watcher.stop()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()


def installed(site: Path, name: str = "js/main.js") -> str:
    area, base = name.split("/")
    return (site / area / "1" / base).read_text()


class WatchProcess:
    """A real `assetbuild watch` process; its stdout lines arrive on a queue, read with a deadline."""

    def __init__(self, site: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETBUILD_")}
        env["NO_COLOR"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assetbuild.cli", "watch", *args],
            cwd=site,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        try:
            for line in self.proc.stdout or ():
                self.lines.put(line)
        except (OSError, ValueError):
            pass  # closed at the end of the test

    def line(self, containing: str = "") -> str:
        """The next stdout line holding `containing` (earlier ones are skipped)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if containing in line:
                return line
        self.proc.kill()
        stderr = self.proc.stderr.read() if self.proc.stderr else ""
        pytest.fail(f"no line with {containing!r}; stderr: {stderr}")

    def stop(self, sig: signal.Signals = signal.SIGINT) -> str:
        """Signal it, expect exit 0, and return its stderr."""
        self.proc.send_signal(sig)
        assert self.proc.wait(timeout=20) == 0
        return self.proc.stderr.read() if self.proc.stderr else ""

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
