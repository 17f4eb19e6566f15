"""A headless Chromium spoken to over the DevTools protocol directly (a websocket), for the e2e tests.

Chromium is started with `--remote-debugging-port=0`; the port it chose is read from
`DevToolsActivePort` in its profile, the page's websocket from `/json/list`. Every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers.e2e import CHROMIUM, CHROMIUM_FLAGS, HTTP_TIMEOUT

START_TIMEOUT = 20.0
CALL_TIMEOUT = 20.0


class DevTools:
    """One page target: `call` a method and get its result; events are kept in `events`."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._next = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + CALL_TIMEOUT
        while time.monotonic() < deadline:
            message = self._receive(deadline)
            if message is not None and message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
        raise TimeoutError(f"{method}: no answer in {CALL_TIMEOUT} s")

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = CALL_TIMEOUT
    ) -> dict[str, Any]:
        """The first event (kept or arriving within `timeout`) that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            if time.monotonic() >= deadline:
                names = [e.get("method") for e in self.events]
                raise TimeoutError(f"no such event in {timeout} s; events: {names}")
            self._receive(deadline)

    def read_stream(self, handle: str) -> bytes:
        """The whole of an IO stream the browser opened."""
        chunks = []
        while True:
            part = self.call("IO.read", handle=handle, size=1 << 20)
            data = part.get("data", "")
            chunks.append(base64.b64decode(data) if part.get("base64Encoded") else data.encode())
            if part.get("eof"):
                self.call("IO.close", handle=handle)
                return b"".join(chunks)

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        import websocket

        self.socket.settimeout(max(0.05, min(1.0, deadline - time.monotonic())))
        try:
            message: dict[str, Any] = json.loads(self.socket.recv())
        except websocket.WebSocketTimeoutException:
            return None
        if "method" in message:
            self.events.append(message)
            return None
        return message


def _port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        try:
            first = active.read_text().splitlines()[0]
        except (OSError, IndexError):
            time.sleep(0.05)
            continue
        return int(first)
    raise TimeoutError("chromium did not open its DevTools port")


@contextmanager
def chromium_page(profile: Path) -> Iterator[DevTools]:
    """A fresh headless Chromium with one blank page, its DevTools session; both closed after."""
    import websocket

    process = subprocess.Popen(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = None
    try:
        port = _port(profile, process)
        deadline = time.monotonic() + START_TIMEOUT
        pages: list[dict[str, Any]] = []
        while not pages and time.monotonic() < deadline:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/json/list", timeout=HTTP_TIMEOUT
            ) as reply:
                pages = [t for t in json.load(reply) if t.get("type") == "page"]
            if not pages:
                time.sleep(0.05)
        if not pages:
            raise TimeoutError("chromium opened no page")
        socket = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=CALL_TIMEOUT, suppress_origin=True
        )
        yield DevTools(socket)
    finally:
        if socket is not None:
            socket.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
